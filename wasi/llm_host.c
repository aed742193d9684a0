/*
** llm_host.c: see llm_host.h. Maps a job's request to one HTTP POST and the
** HTTP outcome back to mnemo_job_resume() or mnemo_job_fail().
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "llm_host.h"

/* A core that keeps asking would otherwise hang the command. */
#define MAX_STEPS 1000
/* How much of an error body a message quotes. */
#define QUOTE_BYTES 200
/* Shorter keys are not scrubbed from text: "ab" would mangle every answer,
** and a key that short protects nothing anyway. */
#define MIN_SCRUB_KEY 8

/* Overwrites every occurrence of `key` in buf[0..len) with '*', so a server
** that echoes the key (in an error body, say) cannot make it reach the core,
** the bank or the terminal. The length is unchanged. */
static void scrub(char *buf, size_t len, const char *key)
{
    size_t k = key ? strlen(key) : 0;
    if (k < MIN_SCRUB_KEY || len < k)
        return;
    for (size_t i = 0; i + k <= len; i++)
        if (buf[i] == key[0] && memcmp(buf + i, key, k) == 0) {
            memset(buf + i, '*', k);
            i += k - 1;
        }
}

static void scrub_str(char *s, const char *key)
{
    scrub(s, strlen(s), key);
}

/* The first QUOTE_BYTES of a body, on one line, control bytes as spaces. */
static void quote_body(char *dst, size_t cap, const char *body, size_t len)
{
    size_t n = len < QUOTE_BYTES ? len : QUOTE_BYTES;
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)body[i];
        dst[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    dst[n] = '\0';
    if (n < len && n >= 3)
        memcpy(dst + n - 3, "...", 3);
}

/* {base}{path}, without a doubled slash. NULL when out of memory. */
static char *join_url(const char *base, const char *path)
{
    size_t b = strlen(base);
    while (b && base[b - 1] == '/')
        b--;
    size_t n = b + strlen(path) + 1;
    char *u = malloc(n);
    if (u)
        snprintf(u, n, "%.*s%s", (int)b, base, path);
    return u;
}

/* Body text with "model" set to `model`; NULL when out of memory. */
static char *with_model(cJSON *body, const char *model)
{
    cJSON *m = cJSON_CreateString(model);
    if (!m)
        return NULL;
    if (cJSON_GetObjectItemCaseSensitive(body, "model"))
        cJSON_ReplaceItemInObjectCaseSensitive(body, "model", m);
    else if (!cJSON_AddItemToObject(body, "model", m)) {
        cJSON_Delete(m);
        return NULL;
    }
    return cJSON_PrintUnformatted(body);
}

typedef struct outcome {
    int resume;          /* 1: feed body back; 0: fail with rc and msg */
    int rc;              /* MNEMO_EHOST, or MNEMO_EINVAL: the server refused the request */
    char *body;
    size_t len;
    char msg[768];
} outcome;

/* One POST of `body` to `ep`. Fills o; o->body (malloc) when resuming. */
static void post(llm_host *h, const llm_endpoint *ep, const char *path, const char *body,
                 outcome *o)
{
    char quoted[QUOTE_BYTES + 1];
    char *url = join_url(ep->base, path);
    if (!url) {
        snprintf(o->msg, sizeof o->msg, "out of memory");
        return;
    }
    http_opts opts = h->http;
    opts.bearer = ep->key;
    http_response r;
    int rc = http_post_json(url, body, strlen(body), &opts, &r);
    h->requests += r.attempts;
    /* Before anything quotes it: a quote cut mid-key would escape scrub_str. */
    if (r.body)
        scrub(r.body, r.len, ep->key);
    if (rc != 0) {
        snprintf(o->msg, sizeof o->msg, "%s (%d attempt%s)", r.error, r.attempts,
                 r.attempts == 1 ? "" : "s");
    } else if (r.status >= 200 && r.status <= 299) {
        o->resume = 1;
    } else if (r.status == 401 || r.status == 403 || r.status == 407) {
        /* No answer the core could give changes a refused key: fail, so it
        ** falls back and queues the work for process-pending. */
        quote_body(quoted, sizeof quoted, r.body, r.len);
        snprintf(o->msg, sizeof o->msg, "POST %s: HTTP %ld (check MNEMO_LLM_API_KEY, "
                 "MNEMO_EMBED_API_KEY or OPENAI_API_KEY): %s", url, r.status, quoted);
    } else if (r.status >= 400 && r.status <= 499 && r.status != 408 && r.status != 429) {
        /* A request the server refused (say, response_format json_schema):
        ** the core adapts it. An error body in JSON goes back as it came;
        ** anything else is said with MNEMO_EINVAL, which means the same. */
        cJSON *j = cJSON_ParseWithLength(r.body, r.len);
        if (cJSON_IsObject(j)) {
            o->resume = 1;
        } else {
            quote_body(quoted, sizeof quoted, r.body, r.len);
            o->rc = MNEMO_EINVAL;
            snprintf(o->msg, sizeof o->msg, "POST %s: HTTP %ld: %s", url, r.status, quoted);
        }
        cJSON_Delete(j);
    } else {
        /* 408, 429 or 5xx after the retries, or a status we cannot use (3xx). */
        quote_body(quoted, sizeof quoted, r.body, r.len);
        if (r.error[0])
            snprintf(o->msg, sizeof o->msg, "%s (%d attempt%s): %s", r.error, r.attempts,
                     r.attempts == 1 ? "" : "s", quoted);
        else
            snprintf(o->msg, sizeof o->msg, "POST %s: unexpected HTTP %ld: %s", url,
                     r.status, quoted);
    }
    if (o->resume) {
        o->body = r.body;
        o->len = r.len;
        r.body = NULL;
    }
    scrub_str(o->msg, ep->key);
    http_response_free(&r);
    free(url);
}

/* Carries out one request text. */
static void step(llm_host *h, const char *request, outcome *o)
{
    cJSON *req = cJSON_Parse(request);
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "type"));
    cJSON *body = cJSON_GetObjectItemCaseSensitive(req, "body");
    const llm_endpoint *ep = NULL;
    const char *path = NULL;
    if (!req || !type || !cJSON_IsObject(body)) {
        snprintf(o->msg, sizeof o->msg, "malformed job request (no \"type\" or \"body\")");
    } else if (!strcmp(type, "chat")) {
        ep = &h->chat;
        path = "/chat/completions";
        if (!ep->base)
            snprintf(o->msg, sizeof o->msg, "no LLM configured (--llm-url and --llm-model, "
                     "or MNEMO_LLM_URL and MNEMO_LLM_MODEL)");
    } else if (!strcmp(type, "embeddings")) {
        ep = &h->embed;
        path = "/embeddings";
        if (!ep->base)
            snprintf(o->msg, sizeof o->msg, "no embeddings endpoint configured (--embed-url "
                     "and --embed-model, or MNEMO_EMBED_URL and MNEMO_EMBED_MODEL)");
    } else {
        snprintf(o->msg, sizeof o->msg, "unknown job request type \"%.32s\"", type);
    }
    if (ep && ep->base) {
        char *text = with_model(body, ep->model);
        if (text)
            post(h, ep, path, text, o);
        else
            snprintf(o->msg, sizeof o->msg, "out of memory");
        cJSON_free(text);
    }
    cJSON_Delete(req);
}

void llm_host_run(llm_host *h, mnemo_job *job)
{
    /* The caller sees a job still pending after MAX_STEPS and gives up. */
    for (int n = 0; n < MAX_STEPS && mnemo_job_pending(job); n++) {
        outcome o = {0, MNEMO_EHOST, NULL, 0, ""};
        step(h, mnemo_job_request(job), &o);
        if (o.resume)
            mnemo_job_resume(job, o.body, o.len);
        else
            mnemo_job_fail(job, o.rc, o.msg);
        free(o.body);
    }
}

int llm_host_embed_dim(llm_host *h, int *dim, char *err, size_t errlen)
{
    const llm_endpoint *ep = &h->embed;
    *dim = 0;
    cJSON *body = cJSON_CreateObject();
    cJSON *input = cJSON_AddArrayToObject(body, "input");
    cJSON *probe = cJSON_CreateString("dimension probe");
    if (probe && !cJSON_AddItemToArray(input, probe))
        cJSON_Delete(probe);
    char *text = input && probe ? with_model(body, ep->model) : NULL;
    cJSON_Delete(body);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    outcome o = {0, MNEMO_EHOST, NULL, 0, ""};
    post(h, ep, "/embeddings", text, &o);
    cJSON_free(text);
    if (!o.resume) {
        snprintf(err, errlen, "%s", o.msg);
        return -1;
    }
    cJSON *j = cJSON_ParseWithLength(o.body, o.len);
    cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
    cJSON *emb = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(data, 0), "embedding");
    int n = cJSON_IsArray(emb) ? cJSON_GetArraySize(emb) : 0;
    if (n > 0) {
        *dim = n;
    } else {
        char quoted[QUOTE_BYTES + 1];
        quote_body(quoted, sizeof quoted, o.body, o.len);
        snprintf(err, errlen, "the embeddings endpoint answered without a vector: %s", quoted);
    }
    cJSON_Delete(j);
    free(o.body);
    return n > 0 ? 0 : -1;
}
