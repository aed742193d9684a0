/*
** bench_speed.h: Part 2, ingest and recall speed at 1k, 10k and 100k memories,
** Mnemo against plain SQLite FTS5 measured in the same process. Included once,
** by bench.c, after bench_util.h.
*/
#ifndef MNEMO_BENCH_SPEED_H
#define MNEMO_BENCH_SPEED_H

#include <unistd.h>

#include "mnemo.h"
#include "sqlite3.h"

#define BATCH 500
#define NQUERIES 200
#define NWARMUP 20
#define CHUNK 500
#define LOOP_BUDGET_MS 40000.0

/* ---- the corpus: distinct turns, then 500-byte chunks of long turns ---- */

typedef struct corpus {
    const char **text;
    int n, cap, nturns; /* nturns: how many entries are whole turns */
    uint32_t *slots;    /* open addressing, index+1, 0 = empty */
    size_t nslots;
} corpus;

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* Adds `s` (kept by pointer) unless the corpus holds it already. */
static void corpus_add(corpus *c, const char *s) {
    size_t len = strlen(s);
    size_t mask = c->nslots - 1;
    for (size_t i = fnv1a(s, len) & mask;; i = (i + 1) & mask) {
        if (!c->slots[i]) {
            c->slots[i] = (uint32_t)c->n + 1;
            break;
        }
        if (!strcmp(c->text[c->slots[i] - 1], s)) {
            return;
        }
    }
    c->text[c->n++] = s;
}

static void corpus_build(const dataset *ds, int max, corpus *c) {
    memset(c, 0, sizeof *c);
    c->cap = max;
    c->text = xcalloc((size_t)max, sizeof *c->text);
    for (c->nslots = 1024; c->nslots < (size_t)max * 2; c->nslots *= 2) {}
    c->slots = xcalloc(c->nslots, sizeof *c->slots);
    for (int qi = 0; qi < ds->nq && c->n < max; qi++)
        for (int t = 0; t < ds->q[qi].nturns && c->n < max; t++)
            if (!ds->q[qi].turns[t].empty) corpus_add(c, ds->q[qi].turns[t].text);
    c->nturns = c->n;
    for (int i = 0; i < c->nturns && c->n < max; i++) {
        const char *s = c->text[i];
        size_t len = strlen(s);
        if (len <= CHUNK) continue;
        for (size_t pos = 0; pos < len && c->n < max;) {
            size_t end = pos + CHUNK < len ? pos + CHUNK : len;
            while (end < len && end > pos && ((unsigned char)s[end] & 0xC0) == 0x80) end--;
            char *piece = xstrdup_n(s + pos, end - pos);
            int before = c->n;
            if (!blank(piece)) corpus_add(c, piece);
            if (c->n == before) free(piece);
            pos = end;
        }
    }
}

static void corpus_free(corpus *c) {
    for (int i = c->nturns; i < c->n; i++) free((void *)c->text[i]);
    free(c->text);
    free(c->slots);
}

/* ---- measurements ---- */

enum { SIG_FUSED, SIG_BM25ONLY, SIG_VECONLY, NSIG };
static const char *const sig_label[NSIG] = {"fused", "bm25", "vector"};
static const char *const sig_json[NSIG] = {NULL, "[\"bm25\"]", "[\"vector\"]"};

typedef struct speed {
    int n, done;
    double ingest_rate, build_ms;
    double p50[NSIG], p95[NSIG];
    int nq[NSIG];
    long long bank_bytes, memories;
    double fts_rate, fts_p50, fts_p95;
    int fts_nq;
    long long fts_bytes;
} speed;

static void remove_db(const char *path) {
    char p[512];
    remove(path);
    snprintf(p, sizeof p, "%s-wal", path);
    remove(p);
    snprintf(p, sizeof p, "%s-shm", path);
    remove(p);
    snprintf(p, sizeof p, "%s-journal", path);
    remove(p);
}

static long long file_bytes(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long long n = ftell(f);
    fclose(f);
    return n;
}

static char *recall_json(const bquestion *q, int limit, const char *signals, const char *fusion) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "query", q->question);
    cJSON_AddNumberToObject(o, "limit", limit);
    cJSON_AddStringToObject(o, "now", q->qdate);
    if (signals) cJSON_AddItemToObject(o, "signals", cJSON_Parse(signals));
    if (fusion) cJSON_AddStringToObject(o, "fusion", fusion);
    /* For tuning: MNEMO_BENCH_WEIGHTS='{"bm25":1,"vector":0.2}' on fused runs. */
    const char *w = getenv("MNEMO_BENCH_WEIGHTS");
    if (w && !signals) cJSON_AddItemToObject(o, "weights", cJSON_Parse(w));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* One recall; the result JSON (owned by *job) or NULL after printing why. */
static const char *do_recall(mnemo *db, const char *json, mnemo_job **job) {
    int rc = mnemo_recall(db, json, job);
    if (rc != MNEMO_OK) {
        fprintf(stderr, "bench: recall failed: %s: %s\n", mnemo_errname(rc), mnemo_errmsg(db));
        return NULL;
    }
    while (mnemo_job_pending(*job)) mnemo_job_fail(*job, MNEMO_EHOST, "the bench has no host model");
    if (mnemo_job_status(*job) != MNEMO_OK) {
        fprintf(stderr, "bench: recall job failed: %s\n", mnemo_job_errmsg(*job));
        return NULL;
    }
    return mnemo_job_result(*job);
}

/* Times recalls of qs[0..nq); returns how many fitted in the loop budget. */
static int time_recalls(mnemo *db, char **qs, int nq, double *lat) {
    double start = now_ms();
    int i;
    for (i = 0; i < nq && now_ms() - start < LOOP_BUDGET_MS; i++) {
        mnemo_job *job = NULL;
        double t0 = now_ms();
        const char *r = do_recall(db, qs[i], &job);
        lat[i] = now_ms() - t0;
        mnemo_job_free(job);
        if (!r) return -1;
    }
    return i;
}

static int speed_mnemo(const dataset *ds, const corpus *c, speed *sp) {
    char path[256];
    snprintf(path, sizeof path, "build/bench/mnemo_%d.db", sp->n);
    remove_db(path);
    mnemo *db = NULL;
    int rc = mnemo_open(path, "{\"seed\":1}", NULL, &db);
    if (rc != MNEMO_OK) {
        fprintf(stderr, "bench: mnemo_open(%s): %s\n", path, db ? mnemo_errmsg(db) : mnemo_errname(rc));
        mnemo_close(db);
        return -1;
    }
    double ingest_ms = 0;
    for (int b = 0; b < sp->n; b += BATCH) {
        cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
        for (int i = b; i < b + BATCH && i < sp->n; i++) {
            cJSON *it = cJSON_CreateObject();
            cJSON_AddStringToObject(it, "text", c->text[i]);
            cJSON_AddItemToArray(items, it);
        }
        cJSON_AddFalseToObject(o, "infer");
        char *json = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        mnemo_job *job = NULL;
        double t0 = now_ms();
        rc = mnemo_retain(db, json, &job);
        while (rc == MNEMO_OK && mnemo_job_pending(job)) mnemo_job_fail(job, MNEMO_EHOST, "no host");
        ingest_ms += now_ms() - t0;
        free(json);
        if (rc != MNEMO_OK || mnemo_job_status(job) != MNEMO_OK) {
            fprintf(stderr, "bench: retain failed at item %d: %s\n", b,
                    rc ? mnemo_errmsg(db) : mnemo_job_errmsg(job));
            mnemo_job_free(job);
            mnemo_close(db);
            return -1;
        }
        mnemo_job_free(job);
    }
    sp->ingest_rate = sp->n / (ingest_ms / 1e3);
    char *stats = NULL;
    if (mnemo_stats(db, &stats) == MNEMO_OK) {
        cJSON *st = cJSON_Parse(stats);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(st, "memories");
        sp->memories = cJSON_IsNumber(m) ? (long long)m->valuedouble : -1;
        cJSON_Delete(st);
        mnemo_free(stats);
    }

    char *qs[NSIG][NQUERIES];
    for (int g = 0; g < NSIG; g++)
        for (int i = 0; i < NQUERIES; i++) qs[g][i] = recall_json(&ds->q[i % ds->nq], 10, sig_json[g], NULL);
    double lat[NQUERIES];
    /* The first recall builds the in-memory index; then the warm-up. */
    mnemo_job *job = NULL;
    double t0 = now_ms();
    const char *r = do_recall(db, qs[SIG_FUSED][0], &job);
    sp->build_ms = now_ms() - t0;
    mnemo_job_free(job);
    int ok = r != NULL;
    if (ok && time_recalls(db, qs[SIG_FUSED] + 1, NWARMUP - 1, lat) < 0) ok = 0;
    for (int g = 0; g < NSIG && ok; g++) {
        sp->nq[g] = time_recalls(db, qs[g], NQUERIES, lat);
        if (sp->nq[g] < 0) ok = 0;
        sp->p50[g] = percentile(lat, sp->nq[g], 0.50);
        sp->p95[g] = percentile(lat, sp->nq[g], 0.95);
    }
    for (int g = 0; g < NSIG; g++)
        for (int i = 0; i < NQUERIES; i++) free(qs[g][i]);
    mnemo_close(db);
    sp->bank_bytes = file_bytes(path);
    remove_db(path);
    return ok ? 0 : -1;
}

static int sql_exec(sqlite3 *db, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "bench: sqlite: %s: %s\n", sql, err ? err : "?");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

static int speed_fts5(const dataset *ds, const corpus *c, speed *sp) {
    char path[256];
    snprintf(path, sizeof path, "build/bench/fts5_%d.db", sp->n);
    remove_db(path);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "bench: sqlite3_open(%s) failed\n", path);
        sqlite3_close(db);
        return -1;
    }
    /* As the bank: WAL with synchronous=NORMAL. */
    if (sql_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE VIRTUAL TABLE t USING fts5(text, tokenize='porter unicode61')")) {
        sqlite3_close(db);
        return -1;
    }
    sqlite3_stmt *ins = NULL, *sel = NULL;
    sqlite3_prepare_v2(db, "INSERT INTO t(rowid, text) VALUES (?1, ?2)", -1, &ins, NULL);
    double t0 = now_ms();
    int bad = 0;
    for (int b = 0; b < sp->n && !bad; b += BATCH) {
        bad |= sql_exec(db, "BEGIN");
        for (int i = b; i < b + BATCH && i < sp->n && !bad; i++) {
            sqlite3_bind_int64(ins, 1, i + 1);
            sqlite3_bind_text(ins, 2, c->text[i], -1, SQLITE_STATIC);
            bad |= sqlite3_step(ins) != SQLITE_DONE;
            sqlite3_reset(ins);
        }
        bad |= sql_exec(db, "COMMIT");
    }
    sp->fts_rate = sp->n / ((now_ms() - t0) / 1e3);
    sqlite3_finalize(ins);
    sqlite3_prepare_v2(db, "SELECT rowid, text FROM t WHERE t MATCH ?1 ORDER BY bm25(t) LIMIT 10", -1,
                       &sel, NULL);
    char *qs[NQUERIES];
    for (int i = 0; i < NQUERIES; i++) qs[i] = fts5_or_query(ds->q[i % ds->nq].question);
    double lat[NQUERIES], start = 0;
    for (int pass = 0; pass < 2 && !bad; pass++) {
        int want = pass ? NQUERIES : NWARMUP, i;
        start = now_ms();
        for (i = 0; i < want && now_ms() - start < LOOP_BUDGET_MS; i++) {
            double q0 = now_ms();
            sqlite3_bind_text(sel, 1, qs[i], -1, SQLITE_STATIC);
            int r, rows = 0;
            while ((r = sqlite3_step(sel)) == SQLITE_ROW) rows += sqlite3_column_bytes(sel, 1) >= 0;
            sqlite3_reset(sel);
            lat[i] = now_ms() - q0;
            if (r != SQLITE_DONE) {
                fprintf(stderr, "bench: fts5 query failed: %s\n", sqlite3_errmsg(db));
                bad = 1;
                break;
            }
        }
        if (pass) {
            sp->fts_nq = i;
            sp->fts_p50 = percentile(lat, i, 0.50);
            sp->fts_p95 = percentile(lat, i, 0.95);
        }
    }
    for (int i = 0; i < NQUERIES; i++) free(qs[i]);
    sqlite3_finalize(sel);
    sqlite3_close(db);
    sp->fts_bytes = file_bytes(path);
    remove_db(path);
    return bad ? -1 : 0;
}

static void print_speed(const speed *sp, int nsp) {
    printf("\n  %-7s %-12s %10s %11s %17s %17s %17s %8s\n", "N", "engine", "ingest/s", "index build",
           "fused p50 / p95", "bm25 p50 / p95", "vector p50 / p95", "file MB");
    for (int i = 0; i < nsp; i++) {
        const speed *s = &sp[i];
        if (!s->done) continue;
        char cell[NSIG][40];
        for (int g = 0; g < NSIG; g++) {
            if (s->nq[g] <= 0) snprintf(cell[g], sizeof cell[g], "-");
            else snprintf(cell[g], sizeof cell[g], "%.3f / %.3f%s", s->p50[g], s->p95[g],
                          s->nq[g] < NQUERIES ? "*" : "");
        }
        printf("  %-7d %-12s %10.0f %8.1f ms %17s %17s %17s %8.1f\n", s->n, "mnemo", s->ingest_rate,
               s->build_ms, cell[0], cell[1], cell[2], (double)s->bank_bytes / 1e6);
        char fcell[40];
        snprintf(fcell, sizeof fcell, "%.3f / %.3f%s", s->fts_p50, s->fts_p95,
                 s->fts_nq < NQUERIES ? "*" : "");
        printf("  %-7d %-12s %10.0f %11s %17s %17s %17s %8.1f\n", s->n, "sqlite fts5", s->fts_rate, "-",
               "-", fcell, "-", (double)s->fts_bytes / 1e6);
    }
    printf("  (latencies in ms over %d queries after %d warm-up; '*' = fewer queries fitted the time budget;\n"
           "   the fts5 lexical figure is listed under bm25; file MB = database size on disk after the run)\n",
           NQUERIES, NWARMUP);
    printf("\n  Mnemo vs plain SQLite FTS5 at the same N (both measured in this run):\n");
    for (int i = 0; i < nsp; i++) {
        const speed *s = &sp[i];
        if (!s->done) continue;
        printf("    N=%-6d ingest %.2fx FTS5's rate;  FTS5 OR-query p50 / Mnemo p50: fused %.1fx, bm25 %.1fx\n",
               s->n, s->ingest_rate / s->fts_rate, s->fts_p50 / s->p50[SIG_FUSED],
               s->fts_p50 / s->p50[SIG_BM25ONLY]);
    }
    printf("\n  Targets:\n");
    for (int i = 0; i < nsp; i++) {
        const speed *s = &sp[i];
        if (!s->done) continue;
        if (s->n == 10000 || s->n == 100000) {
            double t = s->n == 10000 ? 0.5 : 5.0;
            printf("    recall p50 at %dk: %.3f ms (target < %.1f ms: %s)\n", s->n / 1000,
                   s->p50[SIG_FUSED], t, s->p50[SIG_FUSED] < t ? "met" : "MISSED");
        }
    }
    for (int i = 0; i < nsp; i++) {
        const speed *s = &sp[i];
        if (!s->done) continue;
        printf("    ingest at %dk: %.0f memories/s (target > 50000/s: %s)\n", s->n / 1000,
               s->ingest_rate, s->ingest_rate > 50000 ? "met" : "MISSED");
    }
}

#endif
