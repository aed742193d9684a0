/*
** cli.c: the `mnemo` command: one bank, one command, JSON out. `batch` keeps
** the bank open and answers JSON Lines on stdin, the fast path for scripts.
**
** Exit codes: 0 success, 1 the operation failed (JSON error on stderr),
** 2 the command line is wrong (JSON error and usage on stderr).
** Builds on POSIX and on WASI: no processes, signals or terminals. Jobs go
** to OpenAI-compatible endpoints through llm_host.c (libcurl); built with
** -DMNEMO_NO_HTTP (WASI: no sockets) every host request is refused, and the
** core falls back to its built-in extractor and embedder.
*/
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "host_posix.h"
#include "mnemo.h"
#ifndef MNEMO_NO_HTTP
#include "llm_host.h"
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

#define EXIT_FAIL 1
#define EXIT_USAGE 2
/* Not a Mnemo code: marks a command-line mistake, reported as MNEMO_EINVAL
** with exit status 2. */
#define CLI_USAGE 1000
/* import reads the whole file into memory; beyond this it is surely a mistake. */
#define IMPORT_LIMIT ((size_t)1 << 30)
/* A batch line is one request plus its envelope ("op", "id"). A longer line
** is answered with MNEMO_ETOOBIG without being held in memory. */
#define LINE_LIMIT ((size_t)MNEMO_MAX_INPUT_BYTES + 64 * 1024)

#ifdef MNEMO_NO_HTTP
#define HTTP_NOTE "                   (model options: none in this build, no HTTP client)\n"
#else
#define HTTP_NOTE ""
#endif

static const char USAGE[] =
    "usage: mnemo [global options] COMMAND [options]\n"
    "\n"
    "global options (before the command):\n"
    "  --db PATH        the bank (default: $MNEMO_DB)\n"
    "  --seed N         deterministic ids (tests)\n"
    "  --pretty         indented JSON output\n"
    "  --llm-url URL    OpenAI-compatible base URL for extraction, e.g.\n"
    "                   http://127.0.0.1:11434/v1 ($MNEMO_LLM_URL)\n"
    HTTP_NOTE
    "  --llm-model M    chat model ($MNEMO_LLM_MODEL)\n"
    "  --embed-url URL  embeddings base URL ($MNEMO_EMBED_URL; default: --llm-url\n"
    "                   when --embed-model is given); without it, built-in vectors\n"
    "  --embed-model M  embeddings model ($MNEMO_EMBED_MODEL)\n"
    "  --embed-dim N    its vector length ($MNEMO_EMBED_DIM; default: asked once a run)\n"
    "  --timeout MS     per HTTP attempt, default 60000 ($MNEMO_HTTP_TIMEOUT_MS)\n"
    "  --connect-timeout MS  default 10000 ($MNEMO_HTTP_CONNECT_TIMEOUT_MS)\n"
    "  --retries N      on 429, 5xx, timeouts, lost connections: 0..10, default 3\n"
    "                   ($MNEMO_HTTP_RETRIES)\n"
    "                   API keys come from the environment only: MNEMO_LLM_API_KEY\n"
    "                   or OPENAI_API_KEY; MNEMO_EMBED_API_KEY (default: the LLM key)\n"
    "  -h, --help, --version\n"
    "\n"
    "commands:\n"
    "  retain (--text T | --messages JSON) [--document-id ID] [--metadata JSON]\n"
    "         [--timestamp TIME] [--kind K] [--topics JSON] [--tags JSON]\n"
    "         [--source S] [--no-infer]\n"
    "  recall --query Q [--limit N] [--filter JSON] [--now TIME]\n"
    "         [--max-tokens N] [--diversity X] [--signals JSON]\n"
    "  get ID\n"
    "  list [--limit N] [--filter JSON] [--cursor C] [--include-invalid]\n"
    "  update ID [--text T] [--metadata JSON] [--kind K] [--topics JSON]\n"
    "         [--tags JSON] [--occurred-at TIME]\n"
    "  delete ID | delete-all | history ID | stats | reindex\n"
    "  process-pending [--limit N]\n"
    "                   extract again, with the model, what retain kept while none\n"
    "                   answered (heuristic facts, queued)\n"
    "  export [FILE] | import FILE|-\n"
    "  batch            JSON Lines requests on stdin, one result per line\n";

/* The global options that configure the model endpoints, in the order of
** HOST_OPTS; each has an environment variable that the option overrides. */
enum { HO_LLM_URL, HO_LLM_MODEL, HO_EMBED_URL, HO_EMBED_MODEL, HO_EMBED_DIM, HO_TIMEOUT,
       HO_CONNECT_TIMEOUT, HO_RETRIES, HO_COUNT };
static const struct {
    const char *opt, *env;
} HOST_OPTS[HO_COUNT] = {
    {"--llm-url", "MNEMO_LLM_URL"},
    {"--llm-model", "MNEMO_LLM_MODEL"},
    {"--embed-url", "MNEMO_EMBED_URL"},
    {"--embed-model", "MNEMO_EMBED_MODEL"},
    {"--embed-dim", "MNEMO_EMBED_DIM"},
    {"--timeout", "MNEMO_HTTP_TIMEOUT_MS"},
    {"--connect-timeout", "MNEMO_HTTP_CONNECT_TIMEOUT_MS"},
    {"--retries", "MNEMO_HTTP_RETRIES"},
};

typedef struct cli {
    const char *db_path;
    int pretty;
    int have_seed;
    long long seed;
    mnemo *db;
    const char *host_opt[HO_COUNT]; /* given on the command line, else NULL */
    int embed_dim;                  /* 0: not known yet (asked at open) */
#ifndef MNEMO_NO_HTTP
    llm_host llm;
#endif
} cli;

/* The outcome of one operation, the same for a command and a batch line. */
typedef struct res {
    int rc;          /* MNEMO_OK, a MNEMO_E* code or CLI_USAGE */
    char *json;      /* the result (malloc) when rc == MNEMO_OK */
    char msg[1024];
} res;

static void res_fail(res *r, int rc, const char *fmt, ...) CLI_PRINTF(3, 4);
static void res_fail(res *r, int rc, const char *fmt, ...)
{
    va_list ap;
    r->rc = rc;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void res_ok(res *r, const char *json)
{
    r->json = dup_str(json);
    r->rc = r->json ? MNEMO_OK : MNEMO_ENOMEM;
    if (!r->json)
        snprintf(r->msg, sizeof r->msg, "out of memory");
}

/* The core's message for a failure, or the code's generic text if it gave none. */
static const char *core_msg(const char *msg, int rc)
{
    return msg && *msg ? msg : mnemo_errstr(rc);
}

/* Takes a `char *` result of the API (or its failure) into r. `out` is passed
** by address so that a call can be an argument: the order in which arguments
** are evaluated is unspecified, *out is only read here. */
static void res_core(res *r, mnemo *db, int rc, char **out)
{
    if (rc == MNEMO_OK)
        res_ok(r, *out ? *out : "{}");
    else
        res_fail(r, rc, "%s", core_msg(mnemo_errmsg(db), rc));
    mnemo_free(*out);
    *out = NULL;
}

/* Carries out the job's host requests until it finishes (or gives up). */
static void drive_job(cli *c, mnemo_job *job)
{
#ifdef MNEMO_NO_HTTP
    /* No HTTP client: every request is refused, and the core falls back to
    ** the built-in extractor and embedder (or fails). */
    for (int spins = 0; spins < 1000 && mnemo_job_pending(job); spins++)
        mnemo_job_fail(job, MNEMO_EHOST, "no HTTP client in this build");
#else
    llm_host_run(&c->llm, job);
#endif
}

/* Drives a job to its end. */
static void res_job(res *r, cli *c, int rc, mnemo_job **jobp)
{
    mnemo_job *job = *jobp; /* by address, like res_core */
    *jobp = NULL;
    if (rc != MNEMO_OK) {
        res_fail(r, rc, "%s", core_msg(mnemo_errmsg(c->db), rc));
        mnemo_job_free(job);
        return;
    }
    drive_job(c, job);
    if (mnemo_job_pending(job)) { /* a core that keeps asking would hang us */
        mnemo_job_free(job);
        res_fail(r, MNEMO_EHOST, "job still pending after 1000 host requests");
        return;
    }
    rc = mnemo_job_status(job);
    if (rc == MNEMO_OK)
        res_ok(r, mnemo_job_result(job) ? mnemo_job_result(job) : "{}");
    else
        res_fail(r, rc, "%s", core_msg(mnemo_job_errmsg(job), rc));
    mnemo_job_free(job);
}

/* Messages may quote user bytes; the JSON we print must stay UTF-8. Replaces
** each byte of an invalid sequence with '?'. */
static void utf8_scrub(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p >> 5) == 6 ? 1 : (*p >> 4) == 14 ? 2
              : (*p >> 3) == 30 ? 3 : -1;
        int ok = n >= 0;
        for (int i = 1; ok && i <= n; i++)
            ok = (p[i] & 0xC0) == 0x80;
        if (ok && n == 1)
            ok = *p >= 0xC2; /* overlong */
        if (ok && n == 2)
            ok = !(*p == 0xE0 && p[1] < 0xA0) && !(*p == 0xED && p[1] >= 0xA0);
        if (ok && n == 3)
            ok = *p <= 0xF4 && !(*p == 0xF0 && p[1] < 0x90) && !(*p == 0xF4 && p[1] >= 0x90);
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n + 1;
    }
}

/* {"ok":false,"error":{"code":..,"message":..}} as one line on f. */
static void print_error(FILE *f, int rc, char *msg)
{
    const char *code = rc == CLI_USAGE ? mnemo_errname(MNEMO_EINVAL) : mnemo_errname(rc);
    utf8_scrub(msg);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddFalseToObject(o, "ok");
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    char *s = cJSON_PrintUnformatted(o);
    if (s)
        fprintf(f, "%s\n", s);
    else /* out of memory: still say something parseable */
        fprintf(f, "{\"ok\":false,\"error\":{\"code\":\"%s\",\"message\":\"\"}}\n", code);
    cJSON_free(s);
    cJSON_Delete(o);
}

static void indent(FILE *f, int depth)
{
    fputc('\n', f);
    for (int i = 0; i < depth; i++)
        fputs("  ", f);
}

/* Re-indents compact JSON text without parsing it, so numbers and strings
** are printed exactly as the core wrote them. */
static void print_json(FILE *f, const char *s, int pretty)
{
    int depth = 0, in_str = 0, esc = 0;
    if (!pretty) {
        fprintf(f, "%s\n", s);
        return;
    }
    for (const char *p = s; *p; p++) {
        char ch = *p;
        if (in_str) {
            fputc(ch, f);
            if (esc)
                esc = 0;
            else if (ch == '\\')
                esc = 1;
            else if (ch == '"')
                in_str = 0;
            continue;
        }
        switch (ch) {
        case '"': in_str = 1; fputc(ch, f); break;
        case '{':
        case '[': {
            const char *q = p + 1;
            while (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r')
                q++;
            fputc(ch, f);
            if (*q == '}' || *q == ']') { /* empty: keep {} on one line */
                fputc(*q, f);
                p = q;
            } else {
                indent(f, ++depth);
            }
            break;
        }
        case '}':
        case ']': indent(f, --depth); fputc(ch, f); break;
        case ',': fputc(ch, f); indent(f, depth); break;
        case ':': fputs(": ", f); break;
        case ' ': case '\n': case '\t': case '\r': break;
        default: fputc(ch, f);
        }
    }
    fputc('\n', f);
}

/* ---- command-line arguments ------------------------------------------ */

#define MAX_OPTS 24
typedef struct args {
    const char *name[MAX_OPTS]; /* into argv, after "--"; not NUL-terminated */
    size_t nlen[MAX_OPTS];
    const char *val[MAX_OPTS];  /* "" for a flag */
    int nopts;
    const char *pos[2];
    int npos;
} args;

/* Whether `name` (n bytes) is a word of `spec` ("text= limit no-infer"); a
** trailing '=' in the spec means the option takes a value. */
static int spec_find(const char *spec, const char *name, size_t n, int *takes)
{
    const char *p = spec;
    while (*p) {
        size_t w = strcspn(p, " ");
        size_t base = w && p[w - 1] == '=' ? w - 1 : w;
        if (base == n && memcmp(p, name, n) == 0) {
            *takes = base != w;
            return 1;
        }
        p += w;
        while (*p == ' ')
            p++;
    }
    return 0;
}

static const char *arg(const args *a, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < a->nopts; i++)
        if (a->nlen[i] == n && memcmp(a->name[i], name, n) == 0)
            return a->val[i];
    return NULL;
}

static int parse_args(int argc, char **argv, int i, const char *spec, int max_pos,
                      args *a, res *r)
{
    int opts_done = 0;
    memset(a, 0, sizeof *a);
    for (; i < argc; i++) {
        const char *s = argv[i];
        if (!opts_done && strcmp(s, "--") == 0) {
            opts_done = 1;
            continue;
        }
        if (opts_done || s[0] != '-' || strcmp(s, "-") == 0) {
            if (a->npos == max_pos) {
                res_fail(r, CLI_USAGE, "unexpected argument '%s'", s);
                return -1;
            }
            a->pos[a->npos++] = s;
            continue;
        }
        const char *name = s + 2, *eq = strchr(s, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        int takes = 0;
        if (s[1] != '-' || !spec_find(spec, name, n, &takes)) {
            res_fail(r, CLI_USAGE, "unknown option '%.*s'", (int)(n + 2), s);
            return -1;
        }
        for (int k = 0; k < a->nopts; k++)
            if (a->nlen[k] == n && memcmp(a->name[k], name, n) == 0) {
                res_fail(r, CLI_USAGE, "option '--%.*s' given twice", (int)n, name);
                return -1;
            }
        const char *val = "";
        if (takes && eq)
            val = eq + 1;
        else if (takes && i + 1 < argc)
            val = argv[++i];
        else if (takes || eq) {
            res_fail(r, CLI_USAGE, takes ? "option '--%.*s' needs a value"
                                         : "option '--%.*s' takes no value", (int)n, name);
            return -1;
        }
        if (a->nopts == MAX_OPTS) {
            res_fail(r, CLI_USAGE, "too many options");
            return -1;
        }
        a->name[a->nopts] = name;
        a->nlen[a->nopts] = n;
        a->val[a->nopts++] = val;
    }
    return 0;
}

/* ---- building request JSON from options ------------------------------- */

/* A request under construction; the first failure sticks in r. */
typedef struct req {
    cJSON *o;
    res *r;
} req;

static void req_str(req *q, const char *key, const char *val)
{
    if (val && q->r->rc == MNEMO_OK)
        cJSON_AddStringToObject(q->o, key, val);
}

/* A JSON option is checked to be exactly one value (so it cannot smuggle in
** sibling keys) and then passed verbatim: the core judges types and keeps
** number precision. */
static void req_json(req *q, const char *key, const char *opt, const char *val)
{
    if (!val || q->r->rc != MNEMO_OK)
        return;
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithOpts(val, &end, 1);
    if (!v) {
        res_fail(q->r, MNEMO_EJSON, "--%s: malformed JSON at byte %ld", opt,
                 end ? (long)(end - val) : 0L);
        return;
    }
    cJSON_Delete(v);
    cJSON_AddRawToObject(q->o, key, val);
}

static void req_num(req *q, const char *key, const char *opt, const char *val, int integer)
{
    if (!val || q->r->rc != MNEMO_OK)
        return;
    char *end = NULL;
    errno = 0;
    double d = integer ? (double)strtoll(val, &end, 10) : strtod(val, &end);
    if (end == val || *end || errno || !isfinite(d)) {
        res_fail(q->r, CLI_USAGE, "--%s: '%s' is not %s", opt, val,
                 integer ? "an integer" : "a number");
        return;
    }
    cJSON_AddNumberToObject(q->o, key, d);
}

/* Times: all digits are epoch milliseconds, anything else ISO-8601 text. */
static void req_time(req *q, const char *key, const char *opt, const char *val)
{
    if (val && *val && strspn(val, "0123456789") == strlen(val))
        req_num(q, key, opt, val, 1);
    else
        req_str(q, key, val);
}

/* The finished request text (malloc), or NULL with q->r set. */
static char *req_done(req *q)
{
    char *s = NULL;
    if (q->r->rc == MNEMO_OK) {
        char *p = cJSON_PrintUnformatted(q->o);
        s = p ? dup_str(p) : NULL;
        cJSON_free(p);
        if (!s)
            res_fail(q->r, MNEMO_ENOMEM, "out of memory");
    }
    cJSON_Delete(q->o);
    q->o = NULL;
    return s;
}

/* ---- operations (shared by commands and batch lines) ------------------ */

static void op_deleted(res *r, mnemo *db, int rc, const char *id)
{
    if (rc != MNEMO_OK) {
        res_fail(r, rc, "%s", core_msg(mnemo_errmsg(db), rc));
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (id)
        cJSON_AddStringToObject(o, "deleted", id);
    else
        cJSON_AddTrueToObject(o, "deleted_all");
    char *s = cJSON_PrintUnformatted(o);
    if (s)
        res_ok(r, s);
    else
        res_fail(r, MNEMO_ENOMEM, "out of memory");
    cJSON_free(s);
    cJSON_Delete(o);
}

/* The bank is opened by the command once its arguments are known good, so a
** usage error never creates a bank file. Returns 0, or -1 with r set. */
static int need_bank(cli *c, res *r)
{
    char seed[32];
    mnemo_host host;
    if (c->db)
        return 0;
    /* Without our random source the core draws ids from its seeded generator. */
    hp_host_init(&host, !c->have_seed);
    cJSON *o = cJSON_CreateObject();
    snprintf(seed, sizeof seed, "%lld", c->seed); /* raw: a double would round it */
    if (o && c->have_seed)
        cJSON_AddRawToObject(o, "seed", seed);
#ifndef MNEMO_NO_HTTP
    if (o && c->llm.embed.base && c->embed_dim > 0) {
        cJSON *e = cJSON_AddObjectToObject(o, "embedder");
        cJSON_AddStringToObject(e, "model", c->llm.embed.model);
        cJSON_AddNumberToObject(e, "dim", c->embed_dim);
    }
#endif
    char *opts = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!opts) {
        res_fail(r, MNEMO_ENOMEM, "out of memory");
        return -1;
    }
    int rc = mnemo_open(c->db_path, opts, &host, &c->db);
    cJSON_free(opts);
    if (rc == MNEMO_OK)
        return 0;
    res_fail(r, rc, "cannot open bank '%s': %s", c->db_path,
             core_msg(c->db ? mnemo_errmsg(c->db) : NULL, rc));
    mnemo_close(c->db);
    c->db = NULL;
    return -1;
}

/* ---- commands --------------------------------------------------------- */

/* For a command with a request `in` (NULL when building it failed and r
** already says why): 0 once the bank is open; else -1, `in` freed. */
static int bank_for(cli *c, res *r, char *in)
{
    if (in && need_bank(c, r) == 0)
        return 0;
    free(in);
    return -1;
}

/* Runs a job call on the request `in` (freed here) and reports its result. */
static void run_job(cli *c, res *r, char *in, int (*call)(mnemo *, const char *, mnemo_job **))
{
    if (bank_for(c, r, in) != 0)
        return;
    mnemo_job *job = NULL;
    int rc = call(c->db, in, &job);
    free(in);
    res_job(r, c, rc, &job);
}

static void cmd_retain(cli *c, const args *a, res *r)
{
    const char *text = arg(a, "text"), *msgs = arg(a, "messages");
    if (!text == !msgs) {
        res_fail(r, CLI_USAGE, "retain needs exactly one of --text and --messages");
        return;
    }
    req q = {cJSON_CreateObject(), r};
    req_str(&q, "text", text);
    req_json(&q, "messages", "messages", msgs);
    req_str(&q, "document_id", arg(a, "document-id"));
    req_json(&q, "metadata", "metadata", arg(a, "metadata"));
    req_time(&q, "timestamp", "timestamp", arg(a, "timestamp"));
    req_str(&q, "kind", arg(a, "kind"));
    req_json(&q, "topics", "topics", arg(a, "topics"));
    req_json(&q, "tags", "tags", arg(a, "tags"));
    req_str(&q, "source", arg(a, "source"));
    /* Asking for inference lets the core say it ran in manual mode. */
    cJSON_AddBoolToObject(q.o, "infer", !arg(a, "no-infer"));
    run_job(c, r, req_done(&q), mnemo_retain);
}

static void cmd_recall(cli *c, const args *a, res *r)
{
    if (!arg(a, "query")) {
        res_fail(r, CLI_USAGE, "recall needs --query");
        return;
    }
    req q = {cJSON_CreateObject(), r};
    req_str(&q, "query", arg(a, "query"));
    req_num(&q, "limit", "limit", arg(a, "limit"), 1);
    req_json(&q, "filter", "filter", arg(a, "filter"));
    req_time(&q, "now", "now", arg(a, "now"));
    req_num(&q, "max_tokens", "max-tokens", arg(a, "max-tokens"), 1);
    req_num(&q, "diversity", "diversity", arg(a, "diversity"), 0);
    req_json(&q, "signals", "signals", arg(a, "signals"));
    run_job(c, r, req_done(&q), mnemo_recall);
}

static void cmd_list(cli *c, const args *a, res *r)
{
    req q = {cJSON_CreateObject(), r};
    req_num(&q, "limit", "limit", arg(a, "limit"), 1);
    req_json(&q, "filter", "filter", arg(a, "filter"));
    req_str(&q, "cursor", arg(a, "cursor"));
    if (arg(a, "include-invalid"))
        cJSON_AddTrueToObject(q.o, "include_invalid");
    char *in = req_done(&q);
    if (bank_for(c, r, in) != 0)
        return;
    char *out = NULL;
    int rc = mnemo_list(c->db, in, &out);
    free(in);
    res_core(r, c->db, rc, &out);
}

static void cmd_update(cli *c, const args *a, res *r)
{
    req q = {cJSON_CreateObject(), r};
    req_str(&q, "text", arg(a, "text"));
    req_json(&q, "metadata", "metadata", arg(a, "metadata"));
    req_str(&q, "kind", arg(a, "kind"));
    req_json(&q, "topics", "topics", arg(a, "topics"));
    req_json(&q, "tags", "tags", arg(a, "tags"));
    req_time(&q, "occurred_at", "occurred-at", arg(a, "occurred-at"));
    if (r->rc == MNEMO_OK && !q.o->child)
        res_fail(r, CLI_USAGE, "update needs at least one of --text, --metadata, "
                               "--kind, --topics, --tags, --occurred-at");
    char *in = req_done(&q);
    if (bank_for(c, r, in) != 0)
        return;
    mnemo_job *job = NULL;
    int rc = mnemo_update(c->db, a->pos[0], in, &job);
    free(in);
    res_job(r, c, rc, &job);
}

static void cmd_get(cli *c, const args *a, res *r)
{
    if (need_bank(c, r) != 0)
        return;
    char *out = NULL;
    res_core(r, c->db, mnemo_get(c->db, a->pos[0], &out), &out);
}

static void cmd_history(cli *c, const args *a, res *r)
{
    if (need_bank(c, r) != 0)
        return;
    char *out = NULL;
    res_core(r, c->db, mnemo_history(c->db, a->pos[0], &out), &out);
}

static void cmd_stats(cli *c, const args *a, res *r)
{
    if (need_bank(c, r) != 0)
        return;
    char *out = NULL;
    res_core(r, c->db, mnemo_stats(c->db, &out), &out);
}

static void cmd_delete(cli *c, const args *a, res *r)
{
    if (need_bank(c, r) != 0)
        return;
    op_deleted(r, c->db, mnemo_delete(c->db, a->pos[0]), a->pos[0]);
}

static void cmd_delete_all(cli *c, const args *a, res *r)
{
    if (need_bank(c, r) != 0)
        return;
    op_deleted(r, c->db, mnemo_delete_all(c->db), NULL);
}

static void cmd_reindex(cli *c, const args *a, res *r)
{
    if (need_bank(c, r) != 0)
        return;
    mnemo_job *job = NULL;
    int rc = mnemo_reindex(c->db, &job);
    res_job(r, c, rc, &job);
}

/* Re-extracts what retain could only keep through the heuristic, now that
** (or if) a model answers. Without one it stops at once, nothing lost. */
static void cmd_process_pending(cli *c, const args *a, res *r)
{
    req q = {cJSON_CreateObject(), r};
    req_num(&q, "limit", "limit", arg(a, "limit"), 1);
    run_job(c, r, req_done(&q), mnemo_process_pending);
}

typedef struct export_sink {
    FILE *f;
    long lines;
    int err; /* errno of the first failed write */
} export_sink;

static int export_line(void *ctx, const char *line, size_t len)
{
    export_sink *s = ctx;
    if (fwrite(line, 1, len, s->f) != len || fputc('\n', s->f) == EOF) {
        s->err = errno ? errno : EIO;
        return MNEMO_EIO;
    }
    s->lines++;
    return 0;
}

/* Export to FILE goes through FILE.tmp and a rename, so an interrupted export
** never leaves a truncated file under the final name. To stdout it streams,
** and nothing else is printed. */
static void cmd_export(cli *c, const args *a, res *r)
{
    const char *path = a->npos ? a->pos[0] : NULL;
    hp_atomic at;
    export_sink s = {stdout, 0, 0};
    if (path && strcmp(path, "-") == 0)
        path = NULL;
    if (need_bank(c, r) != 0)
        return;
    if (path) {
        if (hp_atomic_open(&at, path) != 0) {
            res_fail(r, MNEMO_EIO, "cannot write '%s.tmp': %s", path, strerror(errno));
            return;
        }
        s.f = at.f;
    }
    errno = 0;
    int rc = mnemo_export(c->db, export_line, &s);
    if (rc != MNEMO_OK) {
        if (s.err)
            res_fail(r, rc, "writing %s: %s", path ? path : "stdout", strerror(s.err));
        else
            res_fail(r, rc, "%s", core_msg(mnemo_errmsg(c->db), rc));
        if (path)
            hp_atomic_abort(&at);
        return;
    }
    if (!path) {
        if (fflush(stdout) != 0)
            res_fail(r, MNEMO_EIO, "writing stdout: %s", strerror(errno));
        return; /* r->json stays NULL: the export itself was the output */
    }
    if (hp_atomic_commit(&at) != 0) {
        res_fail(r, MNEMO_EIO, "writing '%s': %s", path, strerror(errno));
        return;
    }
    /* Lines, not memories: history and header records are lines too. */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", path);
    cJSON_AddNumberToObject(o, "lines", (double)s.lines);
    char *txt = cJSON_PrintUnformatted(o);
    if (txt)
        res_ok(r, txt);
    else
        res_fail(r, MNEMO_ENOMEM, "out of memory");
    cJSON_free(txt);
    cJSON_Delete(o);
}

static void cmd_import(cli *c, const args *a, res *r)
{
    const char *path = a->pos[0];
    char *data = NULL, *out = NULL;
    size_t len = 0;
    if (hp_read_all(path, IMPORT_LIMIT, &data, &len) != 0) {
        if (errno == EFBIG)
            res_fail(r, MNEMO_ETOOBIG, "'%s' is larger than the import limit of %zu bytes",
                     path, IMPORT_LIMIT);
        else
            res_fail(r, errno == ENOMEM ? MNEMO_ENOMEM : MNEMO_EIO, "cannot read '%s': %s",
                     path, strerror(errno));
        return;
    }
    if (need_bank(c, r) != 0) {
        free(data);
        return;
    }
    int rc = mnemo_import(c->db, data, len, &out);
    free(data);
    res_core(r, c->db, rc, &out);
}

/* ---- batch ------------------------------------------------------------ */

/* The line object minus the keys the envelope used, as request text. */
static char *batch_input(cJSON *line, const char *drop, res *r)
{
    cJSON_DeleteItemFromObjectCaseSensitive(line, "op");
    if (drop)
        cJSON_DeleteItemFromObjectCaseSensitive(line, drop);
    char *p = cJSON_PrintUnformatted(line);
    char *s = p ? dup_str(p) : NULL;
    cJSON_free(p);
    if (!s)
        res_fail(r, MNEMO_ENOMEM, "out of memory");
    return s;
}

static void batch_op(cli *c, cJSON *line, res *r)
{
    mnemo *db = c->db;
    const cJSON *jop = cJSON_GetObjectItemCaseSensitive(line, "op");
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(line, "id");
    const char *id = cJSON_GetStringValue(jid);
    mnemo_job *job = NULL;
    char *in = NULL, *out = NULL, op[16];
    /* A copy: batch_input deletes "op" from the line. */
    if (!cJSON_GetStringValue(jop)) {
        res_fail(r, MNEMO_EINVAL, "a batch line needs \"op\" (a string)");
        return;
    }
    snprintf(op, sizeof op, "%s", cJSON_GetStringValue(jop));
    int needs_id = !strcmp(op, "get") || !strcmp(op, "delete") || !strcmp(op, "history")
                || !strcmp(op, "update");
    if (needs_id && !id) {
        res_fail(r, MNEMO_EINVAL, "op \"%s\" needs \"id\" (a string)", op);
        return;
    }
    if (!strcmp(op, "retain") || !strcmp(op, "recall")) {
        if ((in = batch_input(line, NULL, r)) != NULL) {
            int rc = !strcmp(op, "retain") ? mnemo_retain(db, in, &job)
                                           : mnemo_recall(db, in, &job);
            res_job(r, c, rc, &job);
        }
    } else if (!strcmp(op, "update")) {
        cJSON *patch = cJSON_GetObjectItemCaseSensitive(line, "patch");
        char *idc = dup_str(id); /* id points into line, which batch_input edits */
        in = patch ? cJSON_PrintUnformatted(patch) : batch_input(line, "id", r);
        if (in && idc)
            res_job(r, c, mnemo_update(db, idc, in, &job), &job);
        else if (r->rc == MNEMO_OK)
            res_fail(r, MNEMO_ENOMEM, "out of memory");
        free(idc);
        if (patch) {
            cJSON_free(in);
            in = NULL;
        }
    } else if (!strcmp(op, "list")) {
        if ((in = batch_input(line, NULL, r)) != NULL)
            res_core(r, db, mnemo_list(db, in, &out), &out);
    } else if (!strcmp(op, "get")) {
        res_core(r, db, mnemo_get(db, id, &out), &out);
    } else if (!strcmp(op, "history")) {
        res_core(r, db, mnemo_history(db, id, &out), &out);
    } else if (!strcmp(op, "stats")) {
        res_core(r, db, mnemo_stats(db, &out), &out);
    } else if (!strcmp(op, "delete")) {
        op_deleted(r, db, mnemo_delete(db, id), id);
    } else if (!strcmp(op, "delete_all")) {
        op_deleted(r, db, mnemo_delete_all(db), NULL);
    } else if (!strcmp(op, "reindex")) {
        res_job(r, c, mnemo_reindex(db, &job), &job);
    } else if (!strcmp(op, "process_pending")) {
        if ((in = batch_input(line, NULL, r)) != NULL)
            res_job(r, c, mnemo_process_pending(db, in, &job), &job);
    } else {
        res_fail(r, MNEMO_EINVAL, "unknown op \"%s\"", op);
    }
    free(in);
}

static void batch_line(cli *c, const char *line, size_t len, res *r)
{
    if (memchr(line, '\0', len)) { /* cJSON would stop at it and accept a prefix */
        res_fail(r, MNEMO_EJSON, "line contains a NUL byte");
        return;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(line, len + 1, &end, 1);
    if (!j) {
        res_fail(r, MNEMO_EJSON, "malformed JSON at byte %ld", end ? (long)(end - line) : 0L);
        return;
    }
    if (!cJSON_IsObject(j))
        res_fail(r, MNEMO_EINVAL, "a batch line must be a JSON object");
    else
        batch_op(c, j, r);
    cJSON_Delete(j);
}

enum { LR_LINE, LR_EOF, LR_ERR, LR_TOOLONG };

typedef struct lreader {
    char *buf;
    size_t len, cap;
} lreader;

/* Reads one line of stdin (without its newline) into lr->buf, NUL-terminated.
** A line over LINE_LIMIT is consumed to its end but not kept. */
static int lr_next(lreader *lr)
{
    int ch, toolong = 0;
    lr->len = 0;
    while ((ch = getc(stdin)) != EOF && ch != '\n') {
        if (toolong)
            continue;
        if (lr->len == LINE_LIMIT) {
            toolong = 1;
            continue;
        }
        if (lr->len + 2 > lr->cap) {
            size_t ncap = lr->cap ? lr->cap * 2 : 4096;
            char *p = realloc(lr->buf, ncap);
            if (!p)
                return LR_ERR;
            lr->buf = p;
            lr->cap = ncap;
        }
        lr->buf[lr->len++] = (char)ch;
    }
    if (ch == EOF && ferror(stdin))
        return LR_ERR;
    if (toolong)
        return LR_TOOLONG;
    if (ch == EOF && lr->len == 0)
        return LR_EOF;
    if (lr->len && lr->buf[lr->len - 1] == '\r')
        lr->len--;
    if (lr->buf)
        lr->buf[lr->len] = '\0';
    return LR_LINE;
}

static int cmd_batch(cli *c)
{
    lreader lr = {NULL, 0, 0};
    int st, status = 0;
    while ((st = lr_next(&lr)) != LR_EOF) {
        res r = {MNEMO_OK, NULL, ""};
        if (st == LR_ERR) {
            res_fail(&r, MNEMO_EIO, "reading stdin: %s", strerror(errno));
            print_error(stderr, r.rc, r.msg);
            status = EXIT_FAIL;
            break;
        }
        if (st == LR_TOOLONG) {
            res_fail(&r, MNEMO_ETOOBIG, "line longer than %zu bytes", LINE_LIMIT);
        } else {
            if (lr.len == 0 || strspn(lr.buf, " \t\r") == lr.len)
                continue;
            batch_line(c, lr.buf, lr.len, &r);
        }
        if (r.rc == MNEMO_OK)
            printf("{\"ok\":true,\"result\":%s}\n", r.json);
        else
            print_error(stdout, r.rc, r.msg);
        free(r.json);
        if (fflush(stdout) != 0) { /* the reader went away: stop working */
            status = EXIT_FAIL;
            break;
        }
    }
    free(lr.buf);
    return status;
}

/* ---- main ------------------------------------------------------------- */

typedef struct command {
    const char *name;
    void (*run)(cli *c, const args *a, res *r);
    int min_pos, max_pos;
    const char *spec;
    int embeds; /* may need the host embedder (opens the bank with it) */
} command;

static const command COMMANDS[] = {
    {"retain", cmd_retain, 0, 0,
     "text= messages= document-id= metadata= timestamp= kind= topics= tags= "
     "source= no-infer", 1},
    {"recall", cmd_recall, 0, 0,
     "query= limit= filter= now= max-tokens= diversity= signals=", 1},
    {"get", cmd_get, 1, 1, "", 0},
    {"list", cmd_list, 0, 0, "limit= filter= cursor= include-invalid", 0},
    {"update", cmd_update, 1, 1,
     "text= metadata= kind= topics= tags= occurred-at=", 1},
    {"delete", cmd_delete, 1, 1, "", 0},
    {"delete-all", cmd_delete_all, 0, 0, "", 0},
    {"history", cmd_history, 1, 1, "", 0},
    {"stats", cmd_stats, 0, 0, "", 1},
    {"reindex", cmd_reindex, 0, 0, "", 1},
    {"export", cmd_export, 0, 1, "", 0},
    {"import", cmd_import, 1, 1, "", 1},
    {"process-pending", cmd_process_pending, 0, 0, "limit=", 1},
    {"batch", NULL, 0, 0, "", 1},
};

static int usage_error(res *r)
{
    print_error(stderr, CLI_USAGE, r->msg);
    fputs(USAGE, stderr);
    return EXIT_USAGE;
}

/* Prints a command's outcome; returns the exit status. */
static int report(const cli *c, res *r)
{
    if (r->rc == CLI_USAGE)
        return usage_error(r);
    if (r->rc == MNEMO_OK) {
        if (r->json)
            print_json(stdout, r->json, c->pretty);
        if (fflush(stdout) == 0)
            return 0;
        res_fail(r, MNEMO_EIO, "writing stdout: %s", strerror(errno));
    }
    print_error(stderr, r->rc, r->msg);
    return EXIT_FAIL;
}

/* --name VALUE or --name=VALUE. Returns 1 and sets *val when argv[*i] is
** that option (*val NULL when the value is missing), else 0. */
static int global_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);
    const char *s = argv[*i];
    if (strncmp(s, name, n) != 0)
        return 0;
    if (s[n] == '=')
        *val = s + n + 1;
    else if (s[n] == '\0')
        *val = *i + 1 < argc ? argv[++*i] : NULL;
    else
        return 0;
    return 1;
}

/* ---- model endpoints -------------------------------------------------- */

#ifdef MNEMO_NO_HTTP
/* Nothing to set up: options are accepted so scripts run unchanged, and said
** to be ignored; the MNEMO_* variables are ignored silently (a shell may set
** them for the native build). */
static int host_setup(cli *c, int embeds, res *r)
{
    for (int k = 0; k < HO_COUNT; k++)
        if (c->host_opt[k] && *c->host_opt[k])
            fprintf(stderr, "mnemo: warning: %s ignored: LLM extraction and host embedders "
                            "are not available in this build (no HTTP client); retain uses "
                            "the built-in extractor and embedder\n", HOST_OPTS[k].opt);
    return 0;
}
#else
/* An option's value, else its environment variable's; NULL when neither is
** set or the value is empty (so --llm-url '' turns off what the environment
** set). *from names where the value came from, for messages. */
static const char *host_value(const cli *c, int k, const char **from)
{
    const char *v = c->host_opt[k];
    *from = HOST_OPTS[k].opt;
    if (!v) {
        v = getenv(HOST_OPTS[k].env);
        *from = HOST_OPTS[k].env;
    }
    return v && *v ? v : NULL;
}

static int host_number(const char *v, const char *from, long lo, long hi, long *out, res *r)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || errno || n < lo || n > hi) {
        res_fail(r, CLI_USAGE, "%s must be an integer between %ld and %ld, got '%s'", from, lo,
                 hi, v);
        return -1;
    }
    *out = (long)n;
    return 0;
}

static int host_url(const char *v, const char *from, res *r)
{
    if (!strncmp(v, "http://", 7) || !strncmp(v, "https://", 8))
        return 0;
    res_fail(r, CLI_USAGE, "%s must be an http:// or https:// base URL such as "
                           "http://127.0.0.1:11434/v1, got '%s'", from, v);
    return -1;
}

/* The first non-empty of two environment variables. */
static const char *env_either(const char *a, const char *b)
{
    const char *v = getenv(a);
    if (!v || !*v)
        v = b ? getenv(b) : NULL;
    return v && *v ? v : NULL;
}

/* Resolves the endpoints from options and environment, and, when a command
** that may embed runs with a host embedder of unknown length, asks the
** endpoint once. Returns 0, or -1 with r set (a usage error). */
static int host_setup(cli *c, int embeds, res *r)
{
    const char *v[HO_COUNT], *from[HO_COUNT];
    llm_host *h = &c->llm;
    long n;
    for (int k = 0; k < HO_COUNT; k++)
        v[k] = host_value(c, k, &from[k]);
    memset(h, 0, sizeof *h);
    http_opts_default(&h->http);
    if (v[HO_TIMEOUT]) {
        if (host_number(v[HO_TIMEOUT], from[HO_TIMEOUT], 1, 3600000, &n, r) != 0)
            return -1;
        h->http.timeout_ms = n;
        if (h->http.connect_timeout_ms > n)
            h->http.connect_timeout_ms = n;
    }
    if (v[HO_CONNECT_TIMEOUT]) {
        if (host_number(v[HO_CONNECT_TIMEOUT], from[HO_CONNECT_TIMEOUT], 1, 3600000, &n, r) != 0)
            return -1;
        h->http.connect_timeout_ms = n;
    }
    if (v[HO_RETRIES]) {
        if (host_number(v[HO_RETRIES], from[HO_RETRIES], 0, HTTP_MAX_RETRIES, &n, r) != 0)
            return -1;
        h->http.max_retries = (int)n;
    }
    const char *url = v[HO_LLM_URL], *model = v[HO_LLM_MODEL];
    if (url && !model) {
        res_fail(r, CLI_USAGE, "%s needs a model: --llm-model M or MNEMO_LLM_MODEL",
                 from[HO_LLM_URL]);
        return -1;
    }
    if (model && !url) {
        res_fail(r, CLI_USAGE, "%s needs a base URL: --llm-url URL or MNEMO_LLM_URL",
                 from[HO_LLM_MODEL]);
        return -1;
    }
    if (url && host_url(url, from[HO_LLM_URL], r) != 0)
        return -1;
    h->chat.base = url;
    h->chat.model = model;
    h->chat.key = env_either("MNEMO_LLM_API_KEY", "OPENAI_API_KEY");

    const char *eurl = v[HO_EMBED_URL], *emodel = v[HO_EMBED_MODEL];
    if (eurl && !emodel) {
        res_fail(r, CLI_USAGE, "%s needs a model: --embed-model M or MNEMO_EMBED_MODEL",
                 from[HO_EMBED_URL]);
        return -1;
    }
    if (emodel && !eurl && !(eurl = url)) {
        res_fail(r, CLI_USAGE, "%s needs a base URL: --embed-url URL or --llm-url URL "
                 "(or MNEMO_EMBED_URL, MNEMO_LLM_URL)", from[HO_EMBED_MODEL]);
        return -1;
    }
    if (eurl && v[HO_EMBED_URL] && host_url(eurl, from[HO_EMBED_URL], r) != 0)
        return -1;
    if (eurl && (!strcmp(emodel, "builtin") || !strcmp(emodel, "mnemo-hash-v1"))) {
        res_fail(r, CLI_USAGE, "%s: '%s' names the built-in embedder, which needs no URL",
                 from[HO_EMBED_MODEL], emodel);
        return -1;
    }
    h->embed.base = eurl;
    h->embed.model = emodel;
    h->embed.key = env_either("MNEMO_EMBED_API_KEY", NULL);
    if (!h->embed.key)
        h->embed.key = h->chat.key;
    if (eurl && v[HO_EMBED_DIM]) {
        if (host_number(v[HO_EMBED_DIM], from[HO_EMBED_DIM], 1, 8192, &n, r) != 0)
            return -1;
        c->embed_dim = (int)n;
    }
    if ((url || eurl) && http_global_init() != 0) {
        fprintf(stderr, "mnemo: warning: cannot start libcurl; no model will be asked\n");
        h->chat.base = h->embed.base = NULL;
        return 0;
    }
    if (eurl && !c->embed_dim && embeds) {
        char err[768];
        int dim = 0;
        if (llm_host_embed_dim(h, &dim, err, sizeof err) == 0) {
            c->embed_dim = dim;
        } else {
            /* Nothing is lost: what this run stores gets vectors at the next
            ** `reindex` with the endpoint back. */
            utf8_scrub(err);
            fprintf(stderr, "mnemo: warning: cannot learn the vector length of '%s' (%s); "
                            "this run uses the built-in embedder: run `mnemo reindex` when "
                            "the endpoint answers, or pass --embed-dim\n", emodel, err);
        }
    }
    return 0;
}
#endif

int main(int argc, char **argv)
{
    cli c;
    res r = {MNEMO_OK, NULL, ""};
    const char *seed = NULL, *v = NULL;
    int i = 1;

    memset(&c, 0, sizeof c);

    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            fputs(USAGE, stdout);
            return 0;
        }
        if (!strcmp(s, "--version")) {
            printf("mnemo %s\n", mnemo_version());
            return 0;
        }
        if (!strcmp(s, "--pretty")) {
            c.pretty = 1;
            continue;
        }
        int known = 0;
        if ((known = global_value(argc, argv, &i, "--db", &v)) != 0)
            c.db_path = v;
        else if ((known = global_value(argc, argv, &i, "--seed", &v)) != 0)
            seed = v ? v : "";
        for (int k = 0; !known && k < HO_COUNT; k++)
            if ((known = global_value(argc, argv, &i, HOST_OPTS[k].opt, &v)) != 0)
                c.host_opt[k] = v;
        if (!known) {
            res_fail(&r, CLI_USAGE, "unknown option '%s'", s);
            return usage_error(&r);
        }
        if (!v) {
            res_fail(&r, CLI_USAGE, "option '%s' needs a value", s);
            return usage_error(&r);
        }
    }
    if (seed) {
        char *end = NULL;
        errno = 0;
        c.seed = strtoll(seed, &end, 10);
        if (end == seed || *end || errno) {
            res_fail(&r, CLI_USAGE, "--seed: '%s' is not an integer", seed);
            return usage_error(&r);
        }
        c.have_seed = 1;
    }
    if (i >= argc) {
        res_fail(&r, CLI_USAGE, "no command given");
        return usage_error(&r);
    }
    if (!strcmp(argv[i], "help")) {
        fputs(USAGE, stdout);
        return 0;
    }
    const command *cmd = NULL;
    for (size_t k = 0; k < sizeof COMMANDS / sizeof *COMMANDS; k++)
        if (!strcmp(argv[i], COMMANDS[k].name))
            cmd = &COMMANDS[k];
    if (!cmd) {
        res_fail(&r, CLI_USAGE, "unknown command '%s'", argv[i]);
        return usage_error(&r);
    }
    args a;
    if (parse_args(argc, argv, i + 1, cmd->spec, cmd->max_pos, &a, &r) != 0)
        return usage_error(&r);
    if (a.npos < cmd->min_pos) {
        res_fail(&r, CLI_USAGE, "%s needs an argument", cmd->name);
        return usage_error(&r);
    }
    if (!c.db_path || !*c.db_path)
        c.db_path = getenv("MNEMO_DB");
    if (!c.db_path || !*c.db_path) {
        res_fail(&r, CLI_USAGE, "no bank: pass --db PATH or set MNEMO_DB");
        return usage_error(&r);
    }
    if (host_setup(&c, cmd->embeds, &r) != 0)
        return usage_error(&r);
    int status;
    if (cmd->run) {
        cmd->run(&c, &a, &r);
        status = report(&c, &r);
    } else {
        status = need_bank(&c, &r) == 0 ? cmd_batch(&c) : report(&c, &r);
    }
    free(r.json);
    mnemo_close(c.db);
#ifndef MNEMO_NO_HTTP
    if (c.llm.chat.base || c.llm.embed.base)
        http_global_cleanup();
#endif
    return status;
}
