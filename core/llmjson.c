/*
** llmjson.c: finding, mending and reading the JSON a model answered (see
** llmjson.h). Small models wrap JSON in prose and fences, leave trailing
** commas, write Python literals and stop mid-way at their token limit; each
** of those is mended here, and each mending is safe: a cut-off answer keeps
** only its complete elements, so a half-written fact is never stored.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank.h"
#include "llmjson.h"

#define MAX_DEPTH MNEMO_MAX_JSON_DEPTH

static int is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
static int is_alpha(char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }

/* A few bytes of the model's text for an error message, as printable ASCII
** (the message may quote bytes that are not valid UTF-8). */
static void snippet(mn_sb *err, const char *text, size_t len, size_t at) {
    mn_sb_adds(err, " (near \"");
    for (size_t i = at; i < len && i < at + 24; i++) {
        unsigned char c = (unsigned char)text[i];
        mn_sb_addc(err, c >= 32 && c < 127 && c != '"' && c != '\\' ? (char)c : '?');
    }
    mn_sb_adds(err, "\")");
}

/* Where the JSON starts: inside the first code fence if it holds some,
** else at the first '{' (or a '[' that opens an array of objects). */
static size_t find_start(const char *t, size_t len, size_t *end, int *repairs) {
    size_t from = 0, to = len;
    const char *f = NULL;
    for (size_t i = 0; i + 2 < len; i++)
        if (t[i] == '`' && t[i + 1] == '`' && t[i + 2] == '`') { f = t + i; break; }
    if (f) {
        size_t i = (size_t)(f - t) + 3;
        while (i < len && t[i] != '\n' && t[i] != '{' && t[i] != '[') i++; /* ```json */
        size_t j = i;
        while (j + 2 < len && !(t[j] == '`' && t[j + 1] == '`' && t[j + 2] == '`')) j++;
        if (j + 2 >= len) j = len;
        for (size_t k = i; k < j; k++)
            if (t[k] == '{' || t[k] == '[') {
                from = i, to = j;
                *repairs |= MN_LJ_FENCED;
                break;
            }
    }
    *end = to;
    for (size_t i = from; i < to; i++) {
        if (t[i] == '{') return i;
        if (t[i] == '[') { /* a list of facts, or of sentences */
            size_t k = i + 1;
            while (k < to && is_ws(t[k])) k++;
            if (k < to && (t[k] == '{' || t[k] == '"')) return i;
        }
    }
    return (size_t)-1;
}

typedef struct mender {
    mn_sb out;
    size_t *map;          /* out byte -> text byte */
    size_t mapcap;
    int oom;
} mender;

static void put(mender *m, char c, size_t src) {
    if (m->out.len + 1 > m->mapcap) {
        size_t cap = m->mapcap ? m->mapcap * 2 : 256;
        size_t *p = mn_realloc(m->map, cap * sizeof *p);
        if (!p) { m->oom = 1; return; }
        m->map = p;
        m->mapcap = cap;
    }
    m->map[m->out.len] = src;
    mn_sb_addc(&m->out, c);
    if (m->out.oom) m->oom = 1;
}

int mn_llmjson_extract(const char *text, size_t len, cJSON **out, int *repairs, mn_sb *err) {
    *out = NULL;
    *repairs = 0;
    size_t k = 0;
    while (k < len && is_ws(text[k])) k++;
    if (k == len) {
        mn_sb_adds(err, "the answer is empty");
        return -1;
    }
    size_t end, start = find_start(text, len, &end, repairs);
    if (start == (size_t)-1) {
        mn_sb_printf(err, "expected a JSON object, found none in the answer's %zu bytes", len);
        snippet(err, text, len, k);
        return -1;
    }
    for (size_t i = 0; i < start; i++)
        if (!is_ws(text[i]) && !(*repairs & MN_LJ_FENCED)) *repairs |= MN_LJ_SURROUNDED;

    mender m = {{0}, NULL, 0, 0};
    mn_sb_init(&m.out);
    char stack[MAX_DEPTH];
    int depth = 0, in_str = 0, esc = 0, done = 0;
    char quote = '"';               /* a Python-style answer quotes with ' */
    size_t cut = 0;                 /* output length at the last safe cut */
    int cut_depth = 0;
    size_t comma = (size_t)-1;      /* output index of a comma not yet followed by a value */
    size_t i = start;
    for (; i < end && !done && !m.oom; i++) {
        char c = text[i];
        if (in_str) {
            if (quote == '\'') { /* re-quoted: ' ends it, " needs escaping, \' is ' */
                if (esc) {
                    esc = 0;
                    if (c == '\'') m.out.len--, m.out.p[m.out.len] = 0; /* drop the backslash */
                } else if (c == '\\') esc = 1;
                else if (c == '\'') { in_str = 0; put(&m, '"', i); continue; }
                else if (c == '"') { put(&m, '\\', i); put(&m, '"', i); continue; }
            } else if (esc) esc = 0;
            else if (c == '\\') esc = 1;
            else if (c == '"') in_str = 0;
            if (c == '\n' || c == '\r' || c == '\t') { /* raw control characters: escape them */
                put(&m, '\\', i);
                put(&m, c == '\n' ? 'n' : c == '\r' ? 'r' : 't', i);
                continue;
            }
            put(&m, c, i);
            continue;
        }
        if (is_ws(c)) { put(&m, c, i); continue; }
        if (c == '}' || c == ']') {
            if (comma != (size_t)-1) { /* drop the trailing comma */
                memmove(m.out.p + comma, m.out.p + comma + 1, m.out.len - comma - 1);
                memmove(m.map + comma, m.map + comma + 1, (m.out.len - comma - 1) * sizeof *m.map);
                m.out.len--;
                m.out.p[m.out.len] = 0;
                comma = (size_t)-1;
                *repairs |= MN_LJ_COMMAS;
            }
            put(&m, c, i);
            if (depth > 0) depth--;
            cut = m.out.len;
            cut_depth = depth;
            if (depth == 0) done = 1;
            continue;
        }
        if (c == ',') {
            comma = m.out.len;
            put(&m, c, i);
            continue;
        }
        comma = (size_t)-1;
        if (c == '{' || c == '[') {
            if (depth == MAX_DEPTH) break; /* cJSON will report the nesting */
            stack[depth++] = c;
            put(&m, c, i);
            cut = m.out.len;
            cut_depth = depth;
            continue;
        }
        if (c == '"' || c == '\'') {
            in_str = 1;
            quote = c;
            if (c == '\'') *repairs |= MN_LJ_LITERALS;
            put(&m, '"', i);
            continue;
        }
        if (is_alpha(c)) { /* a bare word: JSON's literals, or Python's */
            size_t j = i;
            while (j < end && is_alpha(text[j])) j++;
            const char *lit = NULL;
            if (j - i == 4 && !memcmp(text + i, "True", 4)) lit = "true";
            else if (j - i == 5 && !memcmp(text + i, "False", 5)) lit = "false";
            else if (j - i == 4 && !memcmp(text + i, "None", 4)) lit = "null";
            if (lit) *repairs |= MN_LJ_LITERALS;
            for (size_t q = i; q < j; q++) put(&m, lit ? lit[q - i] : text[q], q);
            i = j - 1;
            continue;
        }
        put(&m, c, i);
    }
    if (!done && !m.oom) {
        /* Cut off: keep what was complete at the last opener or closer, and
        ** close what is open there (nothing opened or closed after it). */
        *repairs |= MN_LJ_TRUNCATED;
        m.out.len = cut;
        if (m.out.p) m.out.p[cut] = 0;
        /* An element opened and cut at once is no element: drop it, and
        ** the comma before it. A value after a key stays (as {} or []). */
        char last = cut ? m.out.p[cut - 1] : 0;
        if ((last == '{' || last == '[') && cut_depth > 1) {
            size_t b = cut - 1;
            while (b > 0 && is_ws(m.out.p[b - 1])) b--;
            if (b > 0 && (m.out.p[b - 1] == ',' || m.out.p[b - 1] == '[')) {
                cut = m.out.p[b - 1] == ',' ? b - 1 : b;
                cut_depth--;
            }
        }
        m.out.len = cut;
        m.out.p[cut] = 0;
        for (int d = cut_depth; d > 0; d--) put(&m, stack[d - 1] == '{' ? '}' : ']', len);
    }
    for (size_t q = i; q < len && done; q++)
        if (!is_ws(text[q]) && !(q >= end && *repairs & MN_LJ_FENCED)) {
            *repairs |= MN_LJ_SURROUNDED;
            break;
        }
    if (m.oom) {
        mn_sb_free(&m.out);
        mn_free(m.map);
        mn_sb_adds(err, "out of memory reading the answer");
        return -1;
    }
    const char *pend = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(mn_sb_str(&m.out), m.out.len, &pend, 0);
    if (!j) {
        size_t o = pend ? (size_t)(pend - mn_sb_str(&m.out)) : 0;
        size_t at = o < m.out.len ? m.map[o] : len;
        mn_sb_printf(err, "malformed JSON at byte %zu of the answer", at);
        if (at < len) snippet(err, text, len, at);
    }
    mn_sb_free(&m.out);
    mn_free(m.map);
    *out = j;
    return j ? 0 : -1;
}

/* ---- the answer ---- */

int mn_llmjson_ref(const cJSON *v, int nrefs) {
    long n = -1;
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble == (double)(long)v->valuedouble) n = (long)v->valuedouble;
    } else if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        while (is_ws(*s)) s++;
        int br = *s == '[';
        if (br) s++;
        if (*s == 'm' || *s == 'M') s++;
        if (*s < '0' || *s > '9') return -1;
        char *e;
        n = strtol(s, &e, 10);
        if (br && *e == ']') e++;
        while (is_ws(*e)) e++;
        if (*e || e - s > 6) return -1;
    }
    return n >= 1 && n <= nrefs ? (int)n - 1 : -1;
}

static void warn(mn_answer *a, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void mn_llmjson_scrub(char *s) {
    size_t n = strlen(s), at = 0, bad;
    while (at < n && !mn_utf8_valid(s + at, n - at, &bad)) {
        s[at + bad] = '?';
        at += bad + 1;
    }
}

static void warn(mn_answer *a, const char *fmt, ...) {
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mn_llmjson_scrub(msg); /* it may quote, and cut, the model's bytes */
    if (a->warnings.len) mn_sb_adds(&a->warnings, "; ");
    mn_sb_adds(&a->warnings, msg);
}

static const cJSON *member(const cJSON *o, const char *const *keys) {
    for (; *keys; keys++) {
        const cJSON *v = cJSON_GetObjectItem(o, *keys); /* case-insensitive */
        if (v) return v;
    }
    return NULL;
}

/* s trimmed of blanks; NULL when empty. */
static const char *trimmed(const char *s, size_t *len) {
    if (!s) return NULL;
    while (is_ws(*s)) s++;
    size_t n = strlen(s);
    while (n && is_ws(s[n - 1])) n--;
    *len = n;
    return n ? s : NULL;
}

static int op_of(const cJSON *v, int *op) {
    const char *s = cJSON_GetStringValue(v);
    if (!v || cJSON_IsNull(v)) { *op = MN_OP_ADD; return 0; }
    if (!s) return -1;
    size_t n;
    s = trimmed(s, &n);
    if (!s) { *op = MN_OP_ADD; return 0; }
    static const struct { const char *w; int op; } ops[] = {
        {"add", MN_OP_ADD}, {"new", MN_OP_ADD}, {"create", MN_OP_ADD}, {"insert", MN_OP_ADD},
        {"update", MN_OP_UPDATE}, {"edit", MN_OP_UPDATE}, {"merge", MN_OP_UPDATE},
        {"supersede", MN_OP_SUPERSEDE}, {"replace", MN_OP_SUPERSEDE}, {"invalidate", MN_OP_SUPERSEDE},
        {"none", MN_OP_NONE}, {"noop", MN_OP_NONE}, {"skip", MN_OP_NONE}, {"keep", MN_OP_NONE},
        {"no_change", MN_OP_NONE}, {"unchanged", MN_OP_NONE},
        {"delete", 100}, {"forget", 100}, {"remove", 100},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t w = strlen(ops[i].w);
        if (w != n) continue;
        size_t k = 0;
        while (k < n && (char)(s[k] | 32) == ops[i].w[k]) k++;
        if (k == n) { *op = ops[i].op; return 0; }
    }
    return -1;
}

/* A JSON array of at most MN_LLMJSON_MAX_ITEMS strings (each at most `max`
** bytes, trimmed, non-empty) built from a string, an array, or nothing. */
static cJSON *strings(const cJSON *v, size_t max) {
    cJSON *a = cJSON_CreateArray();
    if (!a) return NULL;
    const cJSON *one = cJSON_IsString(v) ? v : NULL;
    const cJSON *x = one ? one : (cJSON_IsArray(v) ? v->child : NULL);
    for (int n = 0; x && n < MN_LLMJSON_MAX_ITEMS; x = one ? NULL : x->next) {
        size_t len;
        const char *s = trimmed(cJSON_GetStringValue(x), &len);
        if (!s || len > max) continue;
        char *c = mn_strndup(s, len);
        cJSON *item = c ? cJSON_CreateString(c) : NULL;
        mn_free(c);
        if (!item) { cJSON_Delete(a); return NULL; }
        cJSON_AddItemToArray(a, item);
        n++;
    }
    return a;
}

static int add_str(cJSON *o, const char *key, const cJSON *v, size_t max, int required) {
    size_t len;
    const char *s = trimmed(cJSON_GetStringValue(v), &len);
    if (!s || len > max) {
        if (required) return -1;
        return cJSON_AddNullToObject(o, key) ? 0 : -2;
    }
    char *c = mn_strndup(s, len);
    cJSON *item = c ? cJSON_CreateString(c) : NULL;
    mn_free(c);
    if (!item) return -2;
    cJSON_AddItemToObject(o, key, item);
    return 0;
}

/* [{"name","type"}] from objects or plain names. NULL when out of memory. */
static cJSON *entities(const cJSON *v) {
    cJSON *a = cJSON_CreateArray();
    if (!a) return NULL;
    int n = 0;
    for (const cJSON *x = cJSON_IsArray(v) ? v->child : NULL; x && n < MN_LLMJSON_MAX_ITEMS; x = x->next) {
        cJSON *e = cJSON_CreateObject();
        if (!e) { cJSON_Delete(a); return NULL; }
        static const char *const name_keys[] = {"name", "entity", "text", NULL};
        static const char *const type_keys[] = {"type", "label", "kind", NULL};
        const cJSON *nm = cJSON_IsString(x) ? x : member(x, name_keys);
        int rc = add_str(e, "name", nm, 128, 1);
        if (!rc) rc = add_str(e, "type", cJSON_IsObject(x) ? member(x, type_keys) : NULL, 64, 0);
        if (rc) {
            cJSON_Delete(e);
            if (rc == -2) { cJSON_Delete(a); return NULL; }
            continue;
        }
        cJSON_AddItemToArray(a, e);
        n++;
    }
    return a;
}

/* [{"subject","predicate","object"}] from objects or triples. */
static cJSON *relations(const cJSON *v) {
    cJSON *a = cJSON_CreateArray();
    if (!a) return NULL;
    int n = 0;
    static const char *const keys[3] = {"subject", "predicate", "object"};
    for (const cJSON *x = cJSON_IsArray(v) ? v->child : NULL; x && n < MN_LLMJSON_MAX_ITEMS; x = x->next) {
        cJSON *r = cJSON_CreateObject();
        if (!r) { cJSON_Delete(a); return NULL; }
        int rc = 0;
        for (int k = 0; k < 3 && !rc; k++) {
            const cJSON *f = cJSON_IsArray(x) ? cJSON_GetArrayItem(x, k) : cJSON_GetObjectItem(x, keys[k]);
            rc = add_str(r, keys[k], f, 128, 1);
        }
        if (rc) {
            cJSON_Delete(r);
            if (rc == -2) { cJSON_Delete(a); return NULL; }
            continue;
        }
        cJSON_AddItemToArray(a, r);
        n++;
    }
    return a;
}

/* Cuts a text to at most max bytes on a UTF-8 character boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t max) {
    if (len <= max) return len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    return max;
}

/* The kind: a short lower-case word, or "fact". Written back into the
** fact's object so it lives as long as the root. */
static const char *kind_of(cJSON *f, const cJSON *v) {
    size_t n;
    const char *s = trimmed(cJSON_GetStringValue(v), &n);
    char buf[33];
    int ok = s && n <= 32;
    for (size_t i = 0; ok && i < n; i++) {
        char c = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
        if (!((c >= 'a' && c <= 'z') || c == '_' || c == '-' || c == ' ')) ok = 0;
        buf[i] = c == ' ' ? '_' : c;
    }
    if (!ok) return "fact";
    buf[n] = 0;
    cJSON *k = cJSON_CreateString(buf);
    if (!k) return "fact";
    cJSON_DeleteItemFromObject(f, "__kind");
    cJSON_AddItemToObject(f, "__kind", k);
    return k->valuestring;
}

/* Replaces (or adds) key in o with v; 0, or -1 when v is NULL (no memory). */
static int set(cJSON *o, const char *key, cJSON *v) {
    if (!v) return -1;
    cJSON_DeleteItemFromObject(o, key);
    cJSON_AddItemToObject(o, key, v);
    return 0;
}

static int read_fact(mn_answer *a, cJSON *f, int i, int nrefs, mn_fact *out) {
    static const char *const op_keys[] = {"op", "event", "action", "operation", NULL};
    static const char *const ref_keys[] = {"ref", "id", "target", "memory", NULL};
    static const char *const text_keys[] = {"text", "fact", "memory", "content", NULL};
    static const char *const when_keys[] = {"when", "date", "occurred_at", NULL};
    memset(out, 0, sizeof *out);
    out->ref = -1;
    out->confidence = 0.8;
    if (cJSON_IsString(f)) { /* a bare sentence: a new fact */
        out->text = trimmed(f->valuestring, &out->len);
        if (!out->text) return 1;
        out->len = utf8_cut(out->text, out->len, MN_LLMJSON_MAX_TEXT);
        out->kind = "fact";
        out->topics = out->entities = out->relations = NULL;
        return 0;
    }
    if (!cJSON_IsObject(f)) {
        warn(a, "fact %d is not an object, ignored", i);
        return 1;
    }
    int op;
    if (op_of(member(f, op_keys), &op)) {
        warn(a, "fact %d: unknown op, ignored", i);
        return 1;
    }
    const cJSON *refv = member(f, ref_keys);
    if (refv && !cJSON_IsNull(refv) && !cJSON_IsObject(refv)) {
        out->ref = mn_llmjson_ref(refv, nrefs);
        if (out->ref < 0 && op != MN_OP_ADD)
            warn(a, "fact %d: ref %.40s is not one of the known memories", i, cJSON_IsString(refv) ? refv->valuestring : "(a number)");
    }
    if (op == 100) { /* a delete written as a fact */
        if (out->ref >= 0) return 2;
        return 1;
    }
    if (op == MN_OP_ADD) out->ref = -1;
    if (out->ref < 0 && (op == MN_OP_UPDATE || op == MN_OP_SUPERSEDE)) op = MN_OP_ADD; /* keep the fact, touch nothing */
    if (out->ref < 0 && op == MN_OP_NONE) return 1;
    out->op = op;
    const cJSON *tv = member(f, text_keys);
    if (cJSON_IsString(tv)) out->text = trimmed(tv->valuestring, &out->len);
    if (!out->text && op != MN_OP_NONE) {
        warn(a, "fact %d has no text, ignored", i);
        return 1;
    }
    if (out->text) {
        size_t bad;
        if (!mn_utf8_valid(out->text, out->len, &bad)) {
            warn(a, "fact %d: text is not UTF-8, ignored", i);
            return 1;
        }
        out->len = utf8_cut(out->text, out->len, MN_LLMJSON_MAX_TEXT);
    }
    out->kind = kind_of(f, cJSON_GetObjectItem(f, "kind"));
    if (set(f, "__topics", strings(cJSON_GetObjectItem(f, "topics"), 64)) ||
        set(f, "__entities", entities(cJSON_GetObjectItem(f, "entities"))) ||
        set(f, "__relations", relations(cJSON_GetObjectItem(f, "relations"))))
        return -1;
    out->topics = cJSON_GetObjectItemCaseSensitive(f, "__topics");
    out->entities = cJSON_GetObjectItemCaseSensitive(f, "__entities");
    out->relations = cJSON_GetObjectItemCaseSensitive(f, "__relations");
    size_t wl;
    const char *w = trimmed(cJSON_GetStringValue(member(f, when_keys)), &wl);
    if (w && wl < 64) {
        cJSON *wc = NULL;
        char *c = mn_strndup(w, wl);
        if (c) wc = cJSON_CreateString(c);
        mn_free(c);
        if (set(f, "__when", wc)) return -1;
        out->when = cJSON_GetObjectItemCaseSensitive(f, "__when")->valuestring;
    }
    const cJSON *cv = cJSON_GetObjectItem(f, "confidence");
    double conf = 0.8;
    if (cJSON_IsNumber(cv)) conf = cv->valuedouble;
    else if (cJSON_IsString(cv)) {
        char *e;
        double d = strtod(cv->valuestring, &e);
        if (e != cv->valuestring) conf = d;
    }
    if (!(conf >= 0)) conf = 0.8; /* NaN, negative */
    if (conf > 1) conf = conf <= 100 ? conf / 100 : 1; /* "90" meant 90% */
    out->confidence = conf;
    return 0;
}

void mn_llmjson_answer_free(mn_answer *a) {
    cJSON_Delete(a->root);
    mn_free(a->facts);
    mn_free(a->deletes);
    mn_sb_free(&a->warnings);
    memset(a, 0, sizeof *a);
}

/* The text with invalid UTF-8 bytes replaced by '?', so that whatever is
** quoted from it stays valid. NULL when out of memory. */
static char *clean_utf8(const char *text, size_t len) {
    char *c = mn_strndup(text, len);
    if (!c) return NULL;
    size_t at = 0, bad;
    while (at < len && !mn_utf8_valid(c + at, len - at, &bad)) {
        c[at + bad] = '?';
        at += bad + 1;
    }
    return c;
}

static void add_delete(mn_answer *a, int ref) {
    for (int k = 0; k < a->ndeletes; k++)
        if (a->deletes[k] == ref) return;
    a->deletes[a->ndeletes++] = ref;
}

int mn_llmjson_answer(const char *text, size_t len, int nrefs, mn_answer *a, mn_sb *err) {
    memset(a, 0, sizeof *a);
    mn_sb_init(&a->warnings);
    char *t = clean_utf8(text, len);
    if (!t) {
        mn_sb_adds(err, "out of memory reading the answer");
        return -1;
    }
    int rc = mn_llmjson_extract(t, len, &a->root, &a->repairs, err);
    mn_free(t);
    if (rc) return -1;
    static const char *const fact_keys[] = {"facts", "memories", "items", "results", NULL};
    static const char *const del_keys[] = {"delete", "deletes", "forget", "forgotten", "deleted", NULL};
    cJSON *root = a->root, *facts = NULL;
    const cJSON *dels = NULL;
    if (cJSON_IsArray(root)) facts = root;
    else if (cJSON_IsObject(root)) {
        facts = (cJSON *)member(root, fact_keys);
        dels = member(root, del_keys);
        if (!facts && !dels && cJSON_GetObjectItem(root, "text")) facts = root; /* one bare fact */
    }
    if (!facts && !dels) {
        mn_sb_adds(err, cJSON_IsObject(root) && !root->child ? "the answer is an empty object: expected "
                                                                "{\"facts\": [...], \"delete\": [...]}"
                                                              : "the answer has neither \"facts\" nor \"delete\"");
        return -1;
    }
    if (facts && !cJSON_IsArray(facts) && !cJSON_IsObject(facts)) {
        warn(a, "\"facts\" is not an array, ignored");
        facts = NULL;
    }
    int cap = MN_LLMJSON_MAX_FACTS + 1;
    a->facts = mn_malloc((size_t)cap * sizeof *a->facts);
    a->deletes = mn_malloc((size_t)(cap + MN_LLMJSON_MAX_FACTS) * sizeof *a->deletes);
    if (!a->facts || !a->deletes) {
        mn_sb_adds(err, "out of memory reading the answer");
        return -1;
    }
    int i = 0;
    int single = facts && !cJSON_IsArray(facts); /* one fact given as an object */
    cJSON *f = single ? facts : (facts ? facts->child : NULL);
    for (; f; f = single ? NULL : f->next, i++) {
        if (a->nfacts == MN_LLMJSON_MAX_FACTS) {
            warn(a, "more than %d facts: the rest ignored", MN_LLMJSON_MAX_FACTS);
            break;
        }
        mn_fact *x = &a->facts[a->nfacts];
        int r = read_fact(a, f, i, nrefs, x);
        if (r < 0) {
            mn_sb_adds(err, "out of memory reading the answer");
            return -1;
        }
        if (r == 0) a->nfacts++;
        else if (r == 2 && a->ndeletes < MN_LLMJSON_MAX_FACTS) add_delete(a, x->ref);
    }
    const cJSON *one = cJSON_IsString(dels) || cJSON_IsNumber(dels) ? dels : NULL;
    i = 0;
    for (const cJSON *d = one ? one : (cJSON_IsArray(dels) ? dels->child : NULL); d;
         d = one ? NULL : d->next, i++) {
        int r = mn_llmjson_ref(d, nrefs);
        if (r < 0) {
            warn(a, "delete %d: %.40s is not one of the known memories", i, cJSON_IsString(d) ? d->valuestring : "(not an alias)");
            continue;
        }
        if (a->ndeletes < MN_LLMJSON_MAX_FACTS) add_delete(a, r);
    }
    if (dels && !one && !cJSON_IsArray(dels) && !cJSON_IsNull(dels))
        warn(a, "\"delete\" is not an array, ignored");
    /* Cut off before anything complete: not "nothing to keep". */
    if ((a->repairs & MN_LJ_TRUNCATED) && !a->nfacts && !a->ndeletes) {
        mn_sb_adds(err, "the answer was cut off before its first complete fact");
        return -1;
    }
    return 0;
}

/* ---- the chat-completions envelope ---- */

static void usage_of(const cJSON *j, int *p, int *c) {
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "usage");
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(u, "completion_tokens");
    if (!u) { /* Ollama's native API */
        pt = cJSON_GetObjectItemCaseSensitive(j, "prompt_eval_count");
        ct = cJSON_GetObjectItemCaseSensitive(j, "eval_count");
    }
    if (cJSON_IsNumber(pt) && pt->valuedouble >= 0 && pt->valuedouble < 1e9) *p = (int)pt->valuedouble;
    if (cJSON_IsNumber(ct) && ct->valuedouble >= 0 && ct->valuedouble < 1e9) *c = (int)ct->valuedouble;
}

/* Appends a message's content: a string, or an array of text parts. */
static int content_of(const cJSON *msg, mn_sb *out) {
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (cJSON_IsString(c)) {
        mn_sb_adds(out, c->valuestring);
        return 0;
    }
    if (!cJSON_IsArray(c)) return -1;
    int any = 0;
    for (const cJSON *p = c->child; p; p = p->next) {
        const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "text"));
        if (s) mn_sb_adds(out, s), any = 1;
    }
    return any ? 0 : -1;
}

int mn_llmjson_completion(const char *body, size_t len, mn_sb *content, int *usage_prompt,
                          int *usage_completion, int *is_error, mn_sb *err) {
    *usage_prompt = *usage_completion = -1;
    *is_error = 0;
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!j || !cJSON_IsObject(j)) { /* not an envelope: the model's text itself */
        cJSON_Delete(j);
        mn_sb_add(content, body, len);
        return 0;
    }
    usage_of(j, usage_prompt, usage_completion);
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(j, "error");
    int rc = 0;
    if (error && !choices) {
        *is_error = 1;
        const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "message"));
        if (!m) m = cJSON_GetStringValue(error);
        mn_sb_adds(err, "the server answered with an error: ");
        if (m) mn_sb_add(err, m, strlen(m) < 300 ? strlen(m) : 300);
        else mn_sb_adds(err, "(no message)");
        rc = -1;
    } else if (cJSON_IsArray(choices)) {
        const cJSON *c0 = choices->child;
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(c0, "message");
        const char *txt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c0, "text"));
        if (msg && content_of(msg, content) == 0) rc = 0;
        else if (txt) mn_sb_adds(content, txt);
        else {
            const char *refusal = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "refusal"));
            if (refusal) mn_sb_printf(err, "the model refused: %.200s", refusal);
            else mn_sb_adds(err, c0 ? "the response's first choice has no content" : "the response has no choices");
            rc = -1;
        }
    } else if (cJSON_GetObjectItemCaseSensitive(j, "message")) { /* Ollama /api/chat */
        if (content_of(cJSON_GetObjectItemCaseSensitive(j, "message"), content)) {
            mn_sb_adds(err, "the response's message has no content");
            rc = -1;
        }
    } else if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "response"))) { /* Ollama /api/generate */
        mn_sb_adds(content, cJSON_GetObjectItemCaseSensitive(j, "response")->valuestring);
    } else {
        mn_sb_add(content, body, len); /* perhaps the answer itself: {"facts": ...} */
    }
    cJSON_Delete(j);
    if (!rc && content->oom) {
        mn_sb_adds(err, "out of memory reading the response");
        rc = -1;
    }
    return rc;
}
