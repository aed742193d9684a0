/*
** bench.c: Mnemo's benchmark (`make bench`). Prints tables, checks nothing.
**
** Part 1: retrieval quality on 120 LongMemEval_S questions, by the protocol
**         of ../shared/bench/README.md, next to a plain SQLite FTS5 floor.
** Part 2: ingest and recall speed at 1k, 10k and 100k memories, next to plain
**         SQLite FTS5 measured in the same run.
**
** Data: ../shared/bench/longmemeval_s_120.json (or $MNEMO_BENCH_DATA).
** Part 3: retain with an LLM: calls, tokens and core time per retained turn
**         of a scripted conversation (bench_llm.h; needs no data).
**
** $MNEMO_BENCH_ABLATE=1 adds signal ablations to Part 1; $MNEMO_BENCH_PART=1,
** 2 or 3 runs only that part.
*/
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "bench_util.h"
#include "bench_speed.h"
#include "bench_llm.h"

/* ---- Part 1: retrieval quality ---- */

typedef struct config {
    const char *name;
    int fts5;            /* plain SQLite FTS5 instead of Mnemo */
    const char *signals; /* JSON array, or NULL for every signal */
    const char *fusion;  /* "rrf", or NULL for the default */
} config;

static const config configs[] = {
    {"fts5-or", 1, NULL, NULL},
    {"bm25", 0, "[\"bm25\"]", NULL},
    {"vector", 0, "[\"vector\"]", NULL},
    {"fused", 0, NULL, NULL},
    {"fused-rrf", 0, NULL, "rrf"},
    /* ablations, with MNEMO_BENCH_ABLATE=1 */
    {"keyword", 0, "[\"keyword\"]", NULL},
    {"bm25+kw", 0, "[\"bm25\",\"keyword\"]", NULL},
    {"bm25+vec", 0, "[\"bm25\",\"vector\"]", NULL},
    {"no-vector", 0, "[\"bm25\",\"keyword\",\"entity\",\"time\"]", NULL},
    {"no-keyword", 0, "[\"bm25\",\"vector\",\"entity\",\"time\"]", NULL},
    {"no-entity", 0, "[\"bm25\",\"keyword\",\"vector\",\"time\"]", NULL},
    {"no-time", 0, "[\"bm25\",\"keyword\",\"vector\",\"entity\"]", NULL},
};
#define NCONF_MAX ((int)(sizeof configs / sizeof configs[0]))
#define NCONF_BASE 5
#define C_BM25 1
#define C_FUSED 3
#define LIMIT 50

enum { LV_SESS, LV_TURN };

typedef struct track {
    const char *title;
    int user_only;
    long memories;
    double retain_ms, build_ms, recall_ms[NCONF_MAX];
    int nrecall;
    acc a[NCONF_MAX][2][NTYPES + 1]; /* [config][level][type], NTYPES = overall */
} track;

/* Scores one ranking (turns[] indices, best first) at both levels. */
static void score_both(const bquestion *q, const int *ranked, int n, int ngs, int ngt,
                       acc a[2][NTYPES + 1]) {
    int rel[LIMIT], seen[LIMIT], ns = 0;
    if (!q->abs && ngs > 0) {
        for (int i = 0; i < n; i++) {
            int s = q->turns[ranked[i]].sess, dup = 0;
            for (int j = 0; j < ns; j++) dup |= seen[j] == s;
            if (dup) continue;
            seen[ns] = s;
            rel[ns++] = q->sess_gold[s];
        }
        score_ranking(rel, ns, ngs, &a[LV_SESS][q->type]);
        score_ranking(rel, ns, ngs, &a[LV_SESS][NTYPES]);
    }
    if (ngt > 0) {
        for (int i = 0; i < n; i++) rel[i] = q->turns[ranked[i]].gold;
        score_ranking(rel, n, ngt, &a[LV_TURN][q->type]);
        score_ranking(rel, n, ngt, &a[LV_TURN][NTYPES]);
    }
}

static int included(const bquestion *q, int i, int user_only) {
    const bturn *t = &q->turns[i];
    /* a turn of a repeated session id counts once, under its first occurrence */
    return !t->empty && (!user_only || t->user) && turn_lookup(q, t->sess, t->turn) == i;
}

/* Mnemo's ranking for one query: turns[] indices from the results' metadata. */
static int mnemo_ranking(mnemo *db, const bquestion *q, const char *signals, const char *fusion,
                         int *out) {
    char *json = recall_json(q, LIMIT, signals, fusion);
    mnemo_job *job = NULL;
    const char *res = do_recall(db, json, &job);
    free(json);
    int n = 0;
    cJSON *r = res ? cJSON_Parse(res) : NULL;
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(r, "results");
    for (const cJSON *m = results ? results->child : NULL; m && n < LIMIT; m = m->next) {
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(m, "metadata");
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(md, "session_id");
        const cJSON *ti = cJSON_GetObjectItemCaseSensitive(md, "turn_index");
        int t = cJSON_IsString(sid) && cJSON_IsNumber(ti)
                    ? turn_lookup(q, session_index(q, sid->valuestring), ti->valueint)
                    : -1;
        if (t < 0) {
            fprintf(stderr, "bench: question %s: a result without valid metadata\n", q->id);
            continue;
        }
        out[n++] = t;
    }
    cJSON_Delete(r);
    mnemo_job_free(job);
    return res ? n : -1;
}

/* The FTS5 floor's ranking for one question, in a fresh in-memory database. */
static int fts5_ranking(const bquestion *q, int user_only, int *out) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sql_exec(db, "CREATE VIRTUAL TABLE t USING fts5(text, tokenize='porter unicode61'); BEGIN"))
        goto fail;
    sqlite3_prepare_v2(db, "INSERT INTO t(rowid, text) VALUES (?1, ?2)", -1, &st, NULL);
    for (int i = 0; i < q->nturns; i++) {
        if (!included(q, i, user_only)) continue;
        sqlite3_bind_int64(st, 1, i + 1);
        sqlite3_bind_text(st, 2, q->turns[i].text, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) goto fail;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sql_exec(db, "COMMIT")) goto fail;
    char *match = fts5_or_query(q->question);
    sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY bm25(t) LIMIT 50", -1, &st, NULL);
    sqlite3_bind_text(st, 1, match, -1, SQLITE_TRANSIENT);
    free(match);
    while (n < LIMIT && sqlite3_step(st) == SQLITE_ROW) out[n++] = (int)sqlite3_column_int64(st, 0) - 1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
fail:
    fprintf(stderr, "bench: fts5 floor failed: %s\n", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return -1;
}

static int run_question(const bquestion *q, track *tr, int nconf) {
    int ngs = 0, ngt = 0, nmem = 0;
    for (int s = 0; s < q->nsess; s++) ngs += q->sess_canon[s] == s && q->sess_gold[s];
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
    for (int i = 0; i < q->nturns; i++) {
        if (!included(q, i, tr->user_only)) continue;
        const bturn *t = &q->turns[i];
        ngt += t->gold;
        nmem++;
        cJSON *it = cJSON_CreateObject(), *md = cJSON_CreateObject();
        cJSON_AddStringToObject(it, "text", t->text);
        cJSON_AddStringToObject(it, "timestamp", q->sess_date[t->sess]);
        cJSON_AddStringToObject(md, "session_id", q->sess_id[t->sess]);
        cJSON_AddNumberToObject(md, "turn_index", t->turn);
        cJSON_AddStringToObject(md, "role", t->user ? "user" : "assistant");
        cJSON_AddItemToObject(it, "metadata", md);
        cJSON_AddItemToArray(items, it);
    }
    cJSON_AddFalseToObject(o, "infer");
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);

    mnemo *db = NULL;
    int rc = mnemo_open(":memory:", "{\"seed\":1}", NULL, &db);
    if (rc != MNEMO_OK) {
        fprintf(stderr, "bench: mnemo_open: %s\n", db ? mnemo_errmsg(db) : mnemo_errname(rc));
        mnemo_close(db);
        free(json);
        return -1;
    }
    mnemo_job *job = NULL;
    double t0 = now_ms();
    rc = mnemo_retain(db, json, &job);
    while (rc == MNEMO_OK && mnemo_job_pending(job)) mnemo_job_fail(job, MNEMO_EHOST, "no host");
    tr->retain_ms += now_ms() - t0;
    free(json);
    if (rc != MNEMO_OK || mnemo_job_status(job) != MNEMO_OK) {
        fprintf(stderr, "bench: question %s: retain failed: %s\n", q->id,
                rc ? mnemo_errmsg(db) : mnemo_job_errmsg(job));
        mnemo_job_free(job);
        mnemo_close(db);
        return -1;
    }
    mnemo_job_free(job);
    tr->memories += nmem;
    tr->nrecall++;

    int ranked[LIMIT];
    /* The first recall on a bank builds its in-memory index: timed apart. */
    t0 = now_ms();
    if (mnemo_ranking(db, q, "[\"bm25\"]", NULL, ranked) < 0) {
        mnemo_close(db);
        return -1;
    }
    tr->build_ms += now_ms() - t0;
    for (int c = 0; c < nconf; c++) {
        t0 = now_ms();
        int n = configs[c].fts5 ? fts5_ranking(q, tr->user_only, ranked)
                                : mnemo_ranking(db, q, configs[c].signals, configs[c].fusion, ranked);
        tr->recall_ms[c] += now_ms() - t0;
        if (n < 0) {
            mnemo_close(db);
            return -1;
        }
        score_both(q, ranked, n, ngs, ngt, tr->a[c]);
    }
    mnemo_close(db);
    return 0;
}

static void print_track(const track *tr, int nconf) {
    const acc *so = &tr->a[0][LV_SESS][NTYPES], *to = &tr->a[0][LV_TURN][NTYPES];
    printf("\nTrack (%s): %ld memories in %d banks; session level over %d questions (not _abs), "
           "turn level over %d (>= 1 gold turn indexed)\n",
           tr->title, tr->memories, tr->nrecall, so->n, to->n);
    printf("  retain %.0f memories/s (one retain per question); first recall (index build,\n"
           "  built-in embeddings included) %.2f ms per bank, not included in ms/query below\n",
           tr->memories / (tr->retain_ms / 1e3), tr->build_ms / tr->nrecall);
    printf("\n  %-11s | %-8s %-8s %-8s %-8s %-8s | %-8s %-8s | %s\n", "config", "S.Rany@1", "S.Rany@5",
           "S.Rall@5", "S.NDCG@5", "S.MRR", "T.Rany@5", "T.NDCG@5", "ms/query");
    for (int c = 0; c < nconf; c++) {
        const acc *s = &tr->a[c][LV_SESS][NTYPES], *t = &tr->a[c][LV_TURN][NTYPES];
        printf("  %-11s | %-8.3f %-8.3f %-8.3f %-8.3f %-8.3f | %-8.3f %-8.3f | %.2f%s\n", configs[c].name,
               mean(s, M_ANY1), mean(s, M_ANY5), mean(s, M_ALL5), mean(s, M_NDCG5), mean(s, M_MRR),
               mean(t, M_ANY5), mean(t, M_NDCG5), tr->recall_ms[c] / tr->nrecall,
               configs[c].fts5 ? " (incl. indexing)" : "");
    }
    printf("\n  By question type: session R_any@5 / NDCG@5 (n = questions scored at session level)\n");
    printf("  %-14s %3s", "type", "n");
    for (int c = 0; c < nconf; c++) printf(" | %-13s", configs[c].name);
    printf("\n");
    for (int ty = 0; ty <= NTYPES; ty++) {
        printf("  %-14s %3d", ty < NTYPES ? type_short[ty] : "overall", tr->a[0][LV_SESS][ty].n);
        for (int c = 0; c < nconf; c++)
            printf(" | %.3f / %.3f", mean(&tr->a[c][LV_SESS][ty], M_ANY5),
                   mean(&tr->a[c][LV_SESS][ty], M_NDCG5));
        printf("\n");
    }
    printf("  Turn level: T.R_any@5 / T.NDCG@5 (n = questions with >= 1 indexed gold turn)\n");
    for (int ty = 0; ty <= NTYPES; ty++) {
        printf("  %-14s %3d", ty < NTYPES ? type_short[ty] : "overall", tr->a[0][LV_TURN][ty].n);
        for (int c = 0; c < nconf; c++)
            printf(" | %.3f / %.3f", mean(&tr->a[c][LV_TURN][ty], M_ANY5),
                   mean(&tr->a[c][LV_TURN][ty], M_NDCG5));
        printf("\n");
    }
    char worse[512] = "";
    size_t w = 0;
    for (int ty = 0; ty < NTYPES; ty++) {
        double f = mean(&tr->a[C_FUSED][LV_SESS][ty], M_NDCG5), b = mean(&tr->a[C_BM25][LV_SESS][ty], M_NDCG5);
        if (!(f > b) && w < sizeof worse - 64)
            w += (size_t)snprintf(worse + w, sizeof worse - w, "%s%s (%.3f vs %.3f)", w ? ", " : "",
                                  type_short[ty], f, b);
    }
    if (!w) printf("  fused beats bm25 on session NDCG@5 for every question type.\n");
    else printf("  fused does NOT beat bm25 on session NDCG@5 for (fused vs bm25): %s.\n", worse);
}

static int part1(const dataset *ds, int nconf) {
    static track tracks[2];
    tracks[0].title = "a, user turns only";
    tracks[0].user_only = 1;
    tracks[1].title = "b, all turns";
    printf("\n== Part 1: retrieval quality on LongMemEval_S (%d questions, recall limit %d) ==\n", ds->nq,
           LIMIT);
    printf("S.* = session level (ranked memories collapsed to distinct sessions), T.* = turn level\n"
           "(gold = turns with has_answer). fts5-or = plain SQLite FTS5, porter unicode61, OR of the\n"
           "question's words, bm25() order. Mnemo: fresh :memory: bank per question, manual retain.\n");
    for (int t = 0; t < 2; t++) {
        double t0 = now_ms();
        for (int i = 0; i < ds->nq; i++)
            if (run_question(&ds->q[i], &tracks[t], nconf)) return -1;
        print_track(&tracks[t], nconf);
        printf("  (track took %.1f s)\n", (now_ms() - t0) / 1e3);
    }
    return 0;
}

/* ---- Part 2: speed ---- */

static void part2(const dataset *ds, double deadline_ms) {
    static const int sizes[3] = {1000, 10000, 100000};
    speed sp[3];
    memset(sp, 0, sizeof sp);
    printf("\n== Part 2: speed (file banks under build/bench/, batches of %d, %d queries, limit 10) ==\n",
           BATCH, NQUERIES);
    mkdir("build", 0777);
    mkdir("build/bench", 0777);
    corpus c;
    corpus_build(ds, sizes[2], &c);
    printf("Corpus: %d distinct non-empty turns, then %d chunks of <= %d bytes cut from long turns "
           "(%d in all).\n", c.nturns, c.n - c.nturns, CHUNK, c.n);
    printf("Queries: the %d questions cycled to %d, with \"now\" = question date. Built-in vectors\n"
           "are computed when the recall index is built (\"index build\", the first recall), not at\n"
           "ingest; JSON building of the batches is outside the ingest timer.\n",
           ds->nq, NQUERIES);
    for (int i = 0; i < 3; i++) {
        sp[i].n = sizes[i];
        if (sp[i].n > c.n) {
            printf("skipped N=%d: the corpus has only %d texts\n", sp[i].n, c.n);
            break;
        }
        if (i == 2 && sp[1].done) {
            /* Estimate from 10k, scaling the query cost linearly with N. */
            double est = 100000 / sp[1].ingest_rate + 100000 / sp[1].fts_rate +
                         10 * (NQUERIES + NWARMUP) * (sp[1].p50[0] + sp[1].p50[1] + sp[1].p50[2] + sp[1].fts_p50) / 1e3;
            double left = (deadline_ms - now_ms()) / 1e3;
            if (est > left) {
                printf("skipped N=100000: estimated %.0f s, %.0f s left in the time budget\n", est, left);
                break;
            }
        }
        double t0 = now_ms();
        if (speed_mnemo(ds, &c, &sp[i]) || speed_fts5(ds, &c, &sp[i])) {
            printf("N=%d: measurement failed (see stderr)\n", sp[i].n);
            break;
        }
        sp[i].done = 1;
        if (sp[i].memories != sp[i].n)
            printf("note: N=%d: the bank reports %lld memories after ingest\n", sp[i].n, sp[i].memories);
        fprintf(stderr, "bench: N=%d measured in %.1f s\n", sp[i].n, (now_ms() - t0) / 1e3);
    }
    print_speed(sp, 3);
    corpus_free(&c);
    printf("\n  Note, for orientation only (not measured here): ../shared/bench/PEERS.md reports, in wasm/Node 20\n"
           "  on a 2-core machine, SQLite wasm FTS5 OR-query p50 24.5 ms at 10k and 272 ms at 100k, ingest\n"
           "  18.8k/s and 16.5k/s; a plain JS inverted index 0.17 ms (10k) and 1.72 ms (100k) lexical, 2.54 /\n"
           "  27.8 ms brute-force 256-d vectors. Those are JS/wasm figures: no ratio against them is claimed;\n"
           "  the only ratios above are against native FTS5 measured in this run.\n");
}

int main(void) {
    double start = now_ms();
    /* Part 3 needs no data set: it runs first, and alone with PART=3. */
    const char *part = getenv("MNEMO_BENCH_PART");
    if (!part || !strcmp(part, "3")) {
        printf("Mnemo %s benchmark.\n", mnemo_version());
        bench_llm();
        if (part) return 0;
        printf("\n");
    }
    const char *path = getenv("MNEMO_BENCH_DATA");
    if (!path || !*path) path = "../shared/bench/longmemeval_s_120.json";
    const char *ab = getenv("MNEMO_BENCH_ABLATE");
    int nconf = ab && *ab && strcmp(ab, "0") ? NCONF_MAX : NCONF_BASE;
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("mnemo bench: skipped: data not found at %s (%s)\n", path, strerror(errno));
        return 0;
    }
    fclose(f);
    printf("Mnemo %s benchmark. Data: %s. CPUs online: %ld. Compiler: %s.\n", mnemo_version(), path,
           sysconf(_SC_NPROCESSORS_ONLN), __VERSION__);
    dataset ds;
    memset(&ds, 0, sizeof ds);
    double t0 = now_ms();
    if (load_dataset(path, &ds)) {
        printf("mnemo bench: cannot read %s\n", path);
        return 1;
    }
    printf("Loaded %d questions in %.1f s.\n", ds.nq, (now_ms() - t0) / 1e3);
    const char *only = getenv("MNEMO_BENCH_PART");
    int run1 = !only || strcmp(only, "2"), run2 = !only || strcmp(only, "1");
    if (run1 && part1(&ds, nconf)) {
        printf("Part 1 stopped: the core returned an error (see stderr).\n");
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\nPeak RSS after Part 1: %.0f MB (includes the parsed 62 MB data set)\n", ru.ru_maxrss / 1024.0);
    if (run2) part2(&ds, start + 270000.0);
    getrusage(RUSAGE_SELF, &ru);
    printf("\nPeak RSS (getrusage ru_maxrss, whole process): %.0f MB. Total time %.1f s.\n",
           ru.ru_maxrss / 1024.0, (now_ms() - start) / 1e3);
    for (int i = 0; i < ds.nq; i++) {
        free(ds.q[i].sess_id);
        free(ds.q[i].sess_date);
        free(ds.q[i].sess_gold);
        free(ds.q[i].sess_canon);
        free(ds.q[i].sess_off);
        free(ds.q[i].turns);
    }
    free(ds.q);
    cJSON_Delete(ds.root);
    return 0;
}
