/*
** recall.c: which memories matter for a query.
**
** Several cheap signals, each a ranked list from the in-memory index or from
** SQL, fused by weighted reciprocal rank fusion (Cormack et al. 2009):
**   bm25     lexical relevance of the query's words
**   keyword  how many of the query's distinct words (IDF-weighted) a memory has
**   vector   cosine similarity of embeddings (built-in or the host's model)
**   entity   the query's proper names found in the memory
**   time     the memory happened inside a period the query names
** then optional diversity (MMR) and packing into a token budget. Each result
** says which signals returned it, at what rank and score.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "filter.h"
#include "index.h"
#include "job.h"
#include "memory.h"
#include "recall.h"
#include "datetime.h"
#include "token.h"
#include "vectors.h"

enum { SIG_BM25, SIG_KEYWORD, SIG_VECTOR, SIG_ENTITY, SIG_TIME, SIG_COUNT };
static const char *const sig_names[SIG_COUNT] = {"bm25", "keyword", "vector", "entity", "time"};
/* Weights chosen on LongMemEval_S (make bench prints each signal alone and
** the fusion; MNEMO_BENCH_WEIGHTS tries others): words decide, and the
** hashed embedder, names and periods only break near-ties. Equal weights
** lost 0.04 NDCG@5 against BM25 alone, as PEERS.md warned. */
static const double default_weight[SIG_COUNT] = {1.0, 0.3, 0.2, 0.1, 0.2};
#define RRF_K 60.0
/* Below this cosine a vector "match" is noise: the built-in embedder puts
** unrelated texts between -0.1 and 0.1, related ones above 0.3. Without a
** floor every query would return something, however unrelated. */
#define MIN_VECTOR_SIMILARITY 0.15f

/* ---- the index, kept in step with the bank ---- */

static int data_version(mnemo *db, int64_t *v) {
    sqlite3_stmt *st;
    int rc = mn_bank_cached(db, MN_STMT_DATA_VERSION, "PRAGMA data_version", &st);
    if (rc) return rc;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) *v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return s == SQLITE_ROW ? MNEMO_OK : mn_bank_sqlerr(db, s, "reading data_version");
}

void mn_recall_index_text(const char *text, size_t len, const char *topics, mn_sb *out) {
    mn_sb_add(out, text, len);
    cJSON *t = topics && strcmp(topics, "[]") ? cJSON_Parse(topics) : NULL;
    int first = 1;
    for (const cJSON *x = cJSON_IsArray(t) ? t->child : NULL; x; x = x->next) {
        if (!cJSON_IsString(x)) continue;
        mn_sb_addc(out, first ? '\n' : ' ');
        mn_sb_adds(out, x->valuestring);
        first = 0;
    }
    cJSON_Delete(t);
}

/* The same text in SQL, for building the index from the table. */
#define INDEX_TEXT_SQL                                                          \
    "m.text || CASE WHEN m.topics <> '[]' THEN char(10) || "                   \
    "(SELECT group_concat(value, ' ') FROM json_each(m.topics) "               \
    "WHERE type = 'text') ELSE '' END"

void mn_recall_index_put(mnemo *db, int64_t rowid, const char *text, size_t len,
                         const char *topics, const float *vec) {
    /* A row ahead of a partial build is read by the build as it is then. */
    if (!db->index || (!db->index_complete && rowid >= db->index_next)) return;
    mn_sb full;
    mn_sb_init(&full);
    if (topics && strcmp(topics, "[]")) {
        mn_recall_index_text(text, len, topics, &full);
        if (full.oom) {
            mn_sb_free(&full);
            mn_recall_index_drop(db);
            return;
        }
        text = full.p;
        len = full.len;
    }
    int rc = !vec && db->builtin_embedder ? mn_index_put_embedded(db->index, rowid, text, len)
                                          : mn_index_put(db->index, rowid, text, len, vec);
    if (rc != 0)
        mn_recall_index_drop(db); /* out of memory: rebuild later, never be wrong */
    mn_sb_free(&full);
}

void mn_recall_index_put_row(mnemo *db, int64_t rowid, const float *vec) {
    if (!db->index) return;
    sqlite3_stmt *st;
    if (mn_bank_prepare(db, "SELECT " INDEX_TEXT_SQL " FROM memories m WHERE m.rowid=? AND m.valid_to IS NULL", &st)) {
        mn_recall_index_drop(db);
        return;
    }
    sqlite3_bind_int64(st, 1, rowid);
    if (sqlite3_step(st) == SQLITE_ROW)
        mn_recall_index_put(db, rowid, (const char *)sqlite3_column_text(st, 0),
                            (size_t)sqlite3_column_bytes(st, 0), NULL, vec);
    else
        mn_recall_index_remove(db, rowid);
    sqlite3_finalize(st);
}

void mn_recall_index_remove(mnemo *db, int64_t rowid) {
    if (db->index) mn_index_remove(db->index, rowid);
}

void mn_recall_index_drop(mnemo *db) {
    mn_index_free(db->index);
    db->index = NULL;
}

/* Makes ix the bank's index, as of data_version `version`. */
static void index_install(mnemo *db, mn_index *ix, int64_t version, int complete) {
    mn_recall_index_drop(db);
    db->index = ix;
    db->index_version = version;
    db->index_next = 0;
    db->index_complete = complete;
}

int mn_recall_index_adopt(mnemo *db, struct mn_index *ix) {
    int64_t v = 0;
    int rc = data_version(db, &v);
    if (!rc) index_install(db, ix, v, 1);
    return rc;
}

/* A fresh, empty index sized for the table, to be filled by build_step. */
static int build_start(mnemo *db, int64_t version) {
    mn_recall_index_drop(db);
    mn_index *ix = mn_index_new(db->embed_dim);
    if (!ix) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory building the recall index");
    sqlite3_stmt *st;
    /* count(*) without a WHERE reads the smallest index, not the table;
    ** superseded rows make it a slight overestimate. */
    int rc = mn_bank_prepare(db, "SELECT count(*) FROM memories", &st);
    if (!rc) {
        if (sqlite3_step(st) == SQLITE_ROW && mn_index_reserve(ix, (size_t)sqlite3_column_int64(st, 0)))
            rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory building the recall index");
        sqlite3_finalize(st);
    }
    if (rc) {
        mn_index_free(ix);
        return rc;
    }
    index_install(db, ix, version, 0);
    return MNEMO_OK;
}

/* The rows the index is built from, in rowid order: rowid, the text the
** index reads (INDEX_TEXT_SQL) and the host model's vector if stored. */
static int prepare_rows(mnemo *db, int64_t from, int64_t max, sqlite3_stmt **st) {
    int rc = mn_bank_prepare(db,
                             "SELECT m.rowid, " INDEX_TEXT_SQL ", v.vec FROM memories m LEFT JOIN vectors v "
                             "ON v.memory_rowid = m.rowid AND v.model = ?1 AND v.dim = ?2 "
                             "WHERE m.valid_to IS NULL AND m.rowid >= ?3 ORDER BY m.rowid LIMIT ?4", st);
    if (rc) return rc;
    sqlite3_bind_text(*st, 1, db->embed_model, -1, SQLITE_STATIC);
    sqlite3_bind_int(*st, 2, db->embed_dim);
    sqlite3_bind_int64(*st, 3, from);
    sqlite3_bind_int64(*st, 4, max);
    return MNEMO_OK;
}

/* Puts the row st is on into ix; when changed_only, only if ix does not
** already have it as it is. 1 put, 0 not needed, -1 out of memory. */
static int put_row(mnemo *db, mn_index *ix, sqlite3_stmt *st, int changed_only) {
    int64_t rowid = sqlite3_column_int64(st, 0);
    const char *text = (const char *)sqlite3_column_text(st, 1);
    size_t len = (size_t)sqlite3_column_bytes(st, 1);
    if (!text) return -1; /* the SQL never gives NULL: out of memory */
    const float *vec = NULL;
    if (!db->builtin_embedder &&
        sqlite3_column_bytes(st, 2) == (int)((size_t)db->embed_dim * sizeof(float)))
        vec = sqlite3_column_blob(st, 2);
    if (changed_only && mn_index_has(ix, rowid, text, len, vec, db->builtin_embedder)) return 0;
    int rc = db->builtin_embedder ? mn_index_put_embedded(ix, rowid, text, len)
                                  : mn_index_put(ix, rowid, text, len, vec);
    return rc ? -1 : 1;
}

/* Indexes up to max rows (all when max < 0) from rowid index_next on.
** The index is live while partial: this handle's own writes go into it as
** they happen, so rows behind index_next stay right, and rows ahead of it
** are read as they are when the scan gets there (a row put twice is simply
** replaced). */
static int build_step(mnemo *db, int64_t max) {
    sqlite3_stmt *st;
    int rc = prepare_rows(db, db->index_next, max, &st);
    if (rc) {
        mn_recall_index_drop(db);
        return rc;
    }
    int s;
    int64_t rows = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (put_row(db, db->index, st, 0) < 0) {
            rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory building the recall index");
            break;
        }
        db->index_next = sqlite3_column_int64(st, 0) + 1;
        rows++;
    }
    if (!rc && s != SQLITE_DONE) rc = mn_bank_sqlerr(db, s, "building the recall index");
    sqlite3_finalize(st);
    if (rc) {
        mn_recall_index_drop(db);
        return rc;
    }
    if (max < 0 || rows < max) db->index_complete = 1;
    return MNEMO_OK;
}

int mn_recall_index_catch_up(mnemo *db, struct mn_index *ix, int64_t *changed) {
    *changed = 0;
    sqlite3_stmt *st;
    int rc = prepare_rows(db, 0, -1, &st);
    if (rc) return rc;
    int64_t *seen = NULL; /* every current rowid, ascending as scanned */
    size_t n = 0, cap = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 4096;
            int64_t *p = mn_realloc(seen, nc * sizeof *seen);
            if (!p) break;
            seen = p;
            cap = nc;
        }
        seen[n++] = sqlite3_column_int64(st, 0);
        int put = put_row(db, ix, st, 1);
        if (put < 0) break;
        *changed += put;
    }
    if (s == SQLITE_ROW) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory updating the recall index");
    else if (s != SQLITE_DONE) rc = mn_bank_sqlerr(db, s, "updating the recall index");
    sqlite3_finalize(st);
    if (!rc) {
        size_t before = mn_index_count(ix);
        mn_index_keep(ix, seen, n);
        *changed += (int64_t)(before - mn_index_count(ix));
    }
    mn_free(seen);
    return rc;
}

/* Starts over when there is no index or another connection wrote since it
** was started (data_version moves only for other connections' commits:
** this handle's own writes update the index as they happen). */
static int build_begin(mnemo *db) {
    int64_t v = 0;
    int rc = data_version(db, &v);
    if (rc) return rc;
    if (db->index && v == db->index_version) return MNEMO_OK;
    return build_start(db, v);
}

int mn_recall_index_sync(mnemo *db) {
    int rc = build_begin(db);
    if (!rc && !db->index_complete) rc = build_step(db, -1);
    return rc;
}

int mn_recall_index_warm(mnemo *db, int max, int *done) {
    int rc = build_begin(db);
    if (!rc && !db->index_complete) rc = build_step(db, max);
    *done = !rc && db->index_complete;
    return rc;
}

/* ---- the query ---- */

typedef struct recall_state {
    cJSON *input;          /* first: see mn_job_begin */
    const char *query;
    size_t qlen;
    int limit;
    int max_tokens;
    double diversity;
    int64_t now;
    int use[SIG_COUNT];
    double weight[SIG_COUNT];
    int rrf;               /* "fusion": "rrf" instead of "score" */
    mn_filter filter;
    int has_filter;
} recall_state;

static void state_free(void *p) {
    recall_state *s = p;
    mn_filter_free(&s->filter);
    cJSON_Delete(s->input);
    mn_free(s);
}

static int read_query(mnemo *db, recall_state *s) {
    cJSON *o = s->input;
    static const char *const known[] = {"query", "limit", "filter", "now", "max_tokens",
                                        "diversity", "signals", "weights", "fusion", NULL};
    for (const cJSON *x = o->child; x; x = x->next) {
        int ok = 0;
        for (int k = 0; known[k]; k++) ok |= !strcmp(x->string, known[k]);
        if (!ok) return mn_bank_err(db, MNEMO_EINVAL, "unknown recall field '%.64s'", x->string);
    }
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "query");
    if (!cJSON_IsString(q)) return mn_bank_err(db, MNEMO_EINVAL, "recall needs a 'query' string");
    s->query = q->valuestring;
    s->qlen = strlen(q->valuestring);
    s->limit = 10;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "limit");
    if (v) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > MNEMO_MAX_LIMIT ||
            v->valuedouble != floor(v->valuedouble))
            return cJSON_IsNumber(v)
                       ? mn_bank_err(db, MNEMO_EINVAL, "limit must be an integer between 1 and %d, got %g",
                                     MNEMO_MAX_LIMIT, v->valuedouble)
                       : mn_bank_err(db, MNEMO_EINVAL, "limit must be an integer between 1 and %d, got a %s",
                                     MNEMO_MAX_LIMIT, cJSON_IsString(v) ? "string" : "non-number");
        s->limit = (int)v->valuedouble;
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "max_tokens");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e7)
            return mn_bank_err(db, MNEMO_EINVAL, "max_tokens must be a number between 1 and 10000000");
        s->max_tokens = (int)v->valuedouble;
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "diversity");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1))
            return mn_bank_err(db, MNEMO_EINVAL, "diversity must be a number between 0 and 1");
        s->diversity = v->valuedouble;
    }
    s->now = mn_bank_now(db);
    v = cJSON_GetObjectItemCaseSensitive(o, "now");
    if (v && !cJSON_IsNull(v)) {
        if (cJSON_IsNumber(v)) s->now = (int64_t)v->valuedouble;
        else if (!cJSON_IsString(v) || mn_time_parse(v->valuestring, &s->now) != 0)
            return mn_bank_err(db, MNEMO_EINVAL, "'now' must be an ISO-8601 time or epoch milliseconds");
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "signals");
    for (int k = 0; k < SIG_COUNT; k++) s->use[k] = !v;
    if (v) {
        if (!cJSON_IsArray(v)) return mn_bank_err(db, MNEMO_EINVAL, "'signals' must be an array of names");
        for (const cJSON *x = v->child; x; x = x->next) {
            int found = 0;
            for (int k = 0; k < SIG_COUNT; k++)
                if (cJSON_IsString(x) && !strcmp(x->valuestring, sig_names[k])) s->use[k] = found = 1;
            if (!found)
                return mn_bank_err(db, MNEMO_EINVAL, "unknown signal %.32s (known: bm25, keyword, vector, entity, time)",
                                   cJSON_IsString(x) ? x->valuestring : "(non-string)");
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "fusion");
    if (v && !cJSON_IsNull(v)) {
        const char *f = cJSON_GetStringValue(v);
        if (!f || (strcmp(f, "score") && strcmp(f, "rrf")))
            return mn_bank_err(db, MNEMO_EINVAL, "fusion must be \"score\" or \"rrf\"");
        s->rrf = !strcmp(f, "rrf");
    }
    memcpy(s->weight, default_weight, sizeof s->weight);
    v = cJSON_GetObjectItemCaseSensitive(o, "weights");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsObject(v)) return mn_bank_err(db, MNEMO_EINVAL, "'weights' must be an object of signal: number");
        for (const cJSON *x = v->child; x; x = x->next) {
            int found = 0;
            for (int k = 0; k < SIG_COUNT; k++) {
                if (strcmp(x->string, sig_names[k])) continue;
                if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0 && x->valuedouble <= 100))
                    return mn_bank_err(db, MNEMO_EINVAL, "weight of '%s' must be a number between 0 and 100", sig_names[k]);
                s->weight[k] = x->valuedouble;
                found = 1;
            }
            if (!found) return mn_bank_err(db, MNEMO_EINVAL, "unknown signal '%.32s' in weights", x->string);
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "filter");
    if (v && !cJSON_IsNull(v)) {
        int rc = mn_filter_compile(v, &s->filter);
        if (rc) return mn_bank_err(db, rc, "%s", rc == MNEMO_EFILTER ? s->filter.err : "out of memory");
        s->has_filter = 1;
    }
    return MNEMO_OK;
}

/* ---- fusion ---- */

typedef struct cand {
    int64_t rowid;
    double fused;
    int rank[SIG_COUNT];   /* 1-based; 0 = not returned by that signal */
    float score[SIG_COUNT];
} cand;

typedef struct fusion {
    cand *c;
    int n, cap;
    int *slots;            /* open addressing over rowids, -1 = empty */
    int nslots;
} fusion;

/* Room for cap candidates; -1 when out of memory (free with fusion_free). */
static int fusion_init(fusion *f, int cap) {
    memset(f, 0, sizeof *f);
    f->cap = cap;
    for (f->nslots = 64; f->nslots < cap * 2; f->nslots *= 2) {}
    f->c = mn_malloc((size_t)cap * sizeof *f->c);
    f->slots = mn_malloc((size_t)f->nslots * sizeof *f->slots);
    if (!f->c || !f->slots) return -1;
    memset(f->slots, 0xff, (size_t)f->nslots * sizeof *f->slots);
    return 0;
}

static void fusion_free(fusion *f) {
    mn_free(f->c);
    mn_free(f->slots);
}

static cand *fusion_get(fusion *f, int64_t rowid) {
    uint64_t h = (uint64_t)rowid * 0x9E3779B97F4A7C15ull;
    int mask = f->nslots - 1;
    for (int i = (int)(h >> 40) & mask;; i = (i + 1) & mask) {
        if (f->slots[i] < 0) {
            if (f->n == f->cap) return NULL;
            f->slots[i] = f->n;
            cand *c = &f->c[f->n++];
            memset(c, 0, sizeof *c);
            c->rowid = rowid;
            return c;
        }
        if (f->c[f->slots[i]].rowid == rowid) return &f->c[f->slots[i]];
    }
}

static cand *fusion_find(fusion *f, int64_t rowid) {
    uint64_t h = (uint64_t)rowid * 0x9E3779B97F4A7C15ull;
    int mask = f->nslots - 1;
    for (int i = (int)(h >> 40) & mask; f->slots[i] >= 0; i = (i + 1) & mask)
        if (f->c[f->slots[i]].rowid == rowid) return &f->c[f->slots[i]];
    return NULL;
}

static void fusion_add(fusion *f, int sig, double weight, const mn_hit *hits, int n) {
    for (int i = 0; i < n; i++) {
        cand *c = fusion_get(f, hits[i].rowid);
        if (!c) return;
        c->rank[sig] = i + 1;
        c->score[sig] = hits[i].score;
    }
}

/* Weighted fusion of the signals' lists. Score mode (the default): each
** signal's score scaled by the best score of its list, then weighted; it
** keeps BM25's margins, so a weak signal only decides between memories the
** words found about equally good. RRF mode uses ranks alone. */
static void fuse(fusion *f, const double *weight, int rrf) {
    double top[SIG_COUNT] = {0};
    for (int i = 0; i < f->n; i++)
        for (int g = 0; g < SIG_COUNT; g++)
            if (f->c[i].rank[g] && f->c[i].score[g] > top[g]) top[g] = f->c[i].score[g];
    for (int i = 0; i < f->n; i++) {
        double v = 0;
        for (int g = 0; g < SIG_COUNT; g++) {
            if (!f->c[i].rank[g]) continue;
            if (rrf) v += weight[g] / (RRF_K + f->c[i].rank[g]);
            else if (top[g] > 0) v += weight[g] * f->c[i].score[g] / top[g];
        }
        f->c[i].fused = v;
    }
}

static int by_fused(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->fused != y->fused) return x->fused < y->fused ? 1 : -1;
    return x->rowid < y->rowid ? 1 : (x->rowid > y->rowid ? -1 : 0); /* newer first */
}

/* Proper names of the query: capitalised words not at a sentence start. */
typedef struct names {
    char buf[16][MN_TOKEN_MAX + 1];
    const char *ptr[16];
    int n;
} names;

static void collect_name(void *ctx, const char *term, size_t len, uint32_t pos, int flags) {
    names *nm = ctx;
    if (nm->n == 16 || !(flags & MN_TOK_CAPITALIZED) || (flags & (MN_TOK_SENTENCE_START | MN_TOK_STOP)))
        return;
    if (len > MN_TOKEN_MAX) len = MN_TOKEN_MAX;
    memcpy(nm->buf[nm->n], term, len);
    nm->buf[nm->n][len] = 0;
    nm->ptr[nm->n] = nm->buf[nm->n];
    nm->n++;
}

/* The rowids a filter allows, sorted, or NULL for no filter. */
static int allowed_rows(mnemo *db, recall_state *s, int64_t **rows, size_t *n) {
    *rows = NULL;
    *n = 0;
    if (!s->has_filter) return MNEMO_OK;
    mn_sb sql;
    mn_sb_init(&sql);
    mn_sb_adds(&sql, "SELECT m.rowid FROM memories m WHERE m.valid_to IS NULL AND ");
    mn_sb_add(&sql, mn_sb_str(&s->filter.sql), s->filter.sql.len);
    mn_sb_adds(&sql, " ORDER BY m.rowid");
    sqlite3_stmt *st;
    int rc = sql.oom ? mn_bank_err(db, MNEMO_ENOMEM, "out of memory") : mn_bank_prepare(db, mn_sb_str(&sql), &st);
    mn_sb_free(&sql);
    if (rc) return rc;
    mn_filter_bind(&s->filter, st, 1);
    size_t cap = 0;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            int64_t *p = mn_realloc(*rows, cap * sizeof *p);
            if (!p) { rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory"); break; }
            *rows = p;
        }
        (*rows)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (!rc && r != SQLITE_DONE) rc = mn_bank_sqlerr(db, r, "applying the filter");
    sqlite3_finalize(st);
    if (rc) {
        mn_free(*rows);
        *rows = NULL;
    } else if (!*rows) {
        /* Nothing passes: a non-NULL empty list, so the index returns nothing. */
        *rows = mn_malloc(sizeof **rows);
        if (!*rows) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
    }
    return rc;
}

/* Memories that happened inside [from, to), newest first. */
static int time_hits(mnemo *db, recall_state *s, int64_t from, int64_t to, int k, mn_hit *out,
                     int *n) {
    mn_sb sql;
    mn_sb_init(&sql);
    mn_sb_adds(&sql, "SELECT m.rowid, m.valid_from FROM memories m WHERE m.valid_to IS NULL "
                     "AND m.valid_from >= ? AND m.valid_from < ?");
    if (s->has_filter) {
        mn_sb_adds(&sql, " AND ");
        mn_sb_add(&sql, mn_sb_str(&s->filter.sql), s->filter.sql.len);
    }
    mn_sb_printf(&sql, " ORDER BY m.valid_from DESC LIMIT %d", k);
    sqlite3_stmt *st;
    int rc = sql.oom ? mn_bank_err(db, MNEMO_ENOMEM, "out of memory") : mn_bank_prepare(db, mn_sb_str(&sql), &st);
    mn_sb_free(&sql);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    if (s->has_filter) mn_filter_bind(&s->filter, st, 3);
    int r;
    *n = 0;
    while ((r = sqlite3_step(st)) == SQLITE_ROW && *n < k) {
        out[*n].rowid = sqlite3_column_int64(st, 0);
        out[*n].score = 1.0f;
        (*n)++;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE) rc = mn_bank_sqlerr(db, r, "reading times");
    sqlite3_finalize(st);
    return rc;
}

/* Greedy MMR: trades fused relevance for novelty against what is chosen. */
static void diversify(mnemo *db, cand *c, int n, int want, double lambda) {
    if (n <= 1 || lambda <= 0) return;
    double top = c[0].fused > 0 ? c[0].fused : 1;
    for (int k = 1; k < want && k < n; k++) {
        int best = k;
        double best_v = -1e9;
        for (int i = k; i < n; i++) {
            double sim = 0;
            for (int j = 0; j < k; j++) {
                double x = mn_index_similarity(db->index, c[i].rowid, c[j].rowid);
                if (x > sim) sim = x;
            }
            double v = (1 - lambda) * (c[i].fused / top) - lambda * sim;
            if (v > best_v) best_v = v, best = i;
        }
        cand t = c[k];
        c[k] = c[best];
        c[best] = t;
    }
}

static int rank_and_write(mnemo *db, recall_state *s, const float *qvec, mn_sb *out) {
    int rc = mn_recall_index_sync(db);
    if (rc) return rc;
    int64_t *allow_rows;
    size_t nallow;
    if ((rc = allowed_rows(db, s, &allow_rows, &nallow))) return rc;
    mn_allow allow = {allow_rows, nallow}, *ap = allow_rows ? &allow : NULL;

    /* Each signal contributes its top k: deep enough that a memory ranked
    ** low by one signal but high by another still meets the fusion. */
    int k = s->limit * 4 < 40 ? 40 : (s->limit * 4 > 400 ? 400 : s->limit * 4);
    mn_hit *hits = mn_malloc((size_t)k * sizeof *hits);
    fusion f;
    if (fusion_init(&f, k * SIG_COUNT) || !hits) {
        rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory ranking");
        goto done;
    }
    int n;
    if (s->use[SIG_BM25]) {
        n = mn_index_bm25(db->index, s->query, s->qlen, ap, k, hits);
        fusion_add(&f, SIG_BM25, s->weight[SIG_BM25], hits, n);
    }
    if (s->use[SIG_KEYWORD]) {
        n = mn_index_keyword(db->index, s->query, s->qlen, ap, k, hits);
        fusion_add(&f, SIG_KEYWORD, s->weight[SIG_KEYWORD], hits, n);
    }
    if (s->use[SIG_VECTOR] && qvec) {
        n = mn_index_vector(db->index, qvec, ap, k, hits);
        while (n > 0 && hits[n - 1].score < MIN_VECTOR_SIMILARITY) n--;
        fusion_add(&f, SIG_VECTOR, s->weight[SIG_VECTOR], hits, n);
    }
    if (s->use[SIG_ENTITY]) {
        names nm;
        nm.n = 0;
        mn_token_each(s->query, s->qlen, collect_name, &nm);
        if (nm.n) {
            n = mn_index_terms(db->index, nm.ptr, nm.n, ap, k, hits);
            fusion_add(&f, SIG_ENTITY, s->weight[SIG_ENTITY], hits, n);
        }
    }
    int64_t from, to;
    int has_range = s->use[SIG_TIME] && mn_time_query_range(s->query, s->qlen, s->now, &from, &to);
    if (has_range) {
        if ((rc = time_hits(db, s, from, to, k, hits, &n))) goto done;
        /* A named period only re-ranks what the other signals found: on
        ** its own it would return every chat of that week, relevant or not. */
        for (int i = 0; i < n; i++) {
            cand *c = fusion_find(&f, hits[i].rowid);
            if (!c) continue;
            c->rank[SIG_TIME] = 1; /* in the period or not: all rank first */
            c->score[SIG_TIME] = 1.0f;
        }
    }
    fuse(&f, s->weight, s->rrf);
    qsort(f.c, (size_t)f.n, sizeof *f.c, by_fused);
    int want = f.n < s->limit ? f.n : s->limit;
    if (s->diversity > 0) diversify(db, f.c, f.n < want * 3 ? f.n : want * 3, want, s->diversity);

    sqlite3_stmt *st;
    if ((rc = mn_bank_cached(db, MN_STMT_SELECT_BY_ROWID,
                             "SELECT " MN_MEMORY_COLS " FROM memories m WHERE m.rowid=?", &st)))
        goto done;
    mn_sb_adds(out, "{\"results\":[");
    long tokens = 0;
    int written = 0;
    for (int i = 0; i < want; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, f.c[i].rowid);
        int r = sqlite3_step(st);
        if (r != SQLITE_ROW) {
            if (r != SQLITE_DONE) rc = mn_bank_sqlerr(db, r, "reading a result");
            if (rc) break;
            continue;
        }
        /* Tokens estimated at 4 bytes each, as OpenAI's rule of thumb: exact
        ** counts need the model's tokenizer, which this layer does not have. */
        long t = (sqlite3_column_bytes(st, 2) + 3) / 4;
        if (s->max_tokens && tokens + t > s->max_tokens) continue;
        tokens += t;
        if (written++) mn_sb_addc(out, ',');
        mn_memory_json(st, 0, out);
        if (out->oom) break;
        out->len--; /* reopen the object to add the ranking */
        mn_sb_adds(out, ",\"score\":");
        mn_sb_json_num(out, round(f.c[i].fused * 1e6) / 1e6);
        mn_sb_adds(out, ",\"signals\":{");
        int first = 1;
        for (int g = 0; g < SIG_COUNT; g++) {
            if (!f.c[i].rank[g]) continue;
            mn_sb_printf(out, "%s\"%s\":{\"rank\":%d,\"score\":", first ? "" : ",", sig_names[g],
                         f.c[i].rank[g]);
            mn_sb_json_num(out, round((double)f.c[i].score[g] * 1e4) / 1e4);
            mn_sb_addc(out, '}');
            first = 0;
        }
        mn_sb_adds(out, "}}");
    }
    sqlite3_reset(st);
    if (!rc) {
        mn_sb_printf(out, "],\"tokens\":%ld", tokens);
        if (has_range) {
            char a[MN_TIME_ISO_MAX], b[MN_TIME_ISO_MAX];
            mn_time_format(from, a);
            mn_time_format(to, b);
            mn_sb_printf(out, ",\"time_range\":{\"from\":\"%s\",\"to\":\"%s\"}", a, b);
        }
        if (!qvec && s->use[SIG_VECTOR]) mn_sb_adds(out, ",\"vector\":false");
        mn_sb_addc(out, '}');
    }
done:
    mn_free(hits);
    fusion_free(&f);
    mn_free(allow_rows);
    return rc;
}

int mn_recall_related(mnemo *db, const char *text, size_t len, int k, int64_t *out, int *n) {
    *n = 0;
    if (k <= 0) return MNEMO_OK;
    int rc = mn_recall_index_sync(db);
    if (rc) return rc;
    int deep = k * 3 < 24 ? 24 : k * 3;
    mn_hit *hits = mn_malloc((size_t)deep * sizeof *hits);
    fusion f;
    if (fusion_init(&f, deep * 3) || !hits) {
        rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory finding related memories");
        goto done;
    }
    int m = mn_index_bm25(db->index, text, len, NULL, deep, hits);
    fusion_add(&f, SIG_BM25, default_weight[SIG_BM25], hits, m);
    m = mn_index_keyword(db->index, text, len, NULL, deep, hits);
    fusion_add(&f, SIG_KEYWORD, default_weight[SIG_KEYWORD], hits, m);
    if (db->builtin_embedder) {
        float q[MN_EMBED_DIM];
        mn_embed_text(text, len, q);
        m = mn_index_vector(db->index, q, NULL, deep, hits);
        while (m > 0 && hits[m - 1].score < MIN_VECTOR_SIMILARITY) m--;
        fusion_add(&f, SIG_VECTOR, default_weight[SIG_VECTOR], hits, m);
    }
    fuse(&f, default_weight, 0);
    qsort(f.c, (size_t)f.n, sizeof *f.c, by_fused);
    for (int i = 0; i < f.n && *n < k; i++) out[(*n)++] = f.c[i].rowid;
done:
    mn_free(hits);
    fusion_free(&f);
    return rc;
}

static void on_query_vector(mnemo_job *job, float *vecs, const char *why) {
    recall_state *s = job->state;
    mn_sb out;
    mn_sb_init(&out);
    int rc = rank_and_write(job->db, s, vecs, &out);
    if (rc) {
        mn_sb_free(&out);
        mn_job_fail_with(job, rc);
        return;
    }
    mn_job_done_sb(job, &out);
}

int mnemo_recall(mnemo *db, const char *query_json, mnemo_job **out) {
    int rc;
    mnemo_job *job = mn_job_begin(db, query_json, "recall query", sizeof(recall_state), state_free, out, &rc);
    if (!job) return rc;
    recall_state *s = job->state;
    if ((rc = read_query(db, s))) {
        mn_job_fail_with(job, rc);
        return mn_job_hand_over(job, out);
    }
    if (s->use[SIG_VECTOR]) mn_vectors_start(job, &s->query, &s->qlen, 1, on_query_vector);
    else on_query_vector(job, NULL, NULL);
    return mn_job_hand_over(job, out);
}
