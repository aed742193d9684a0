/*
** test_api.c: every public function of mnemo.h, through the public API only.
*/
#define _POSIX_C_SOURCE 200809L /* open_memstream, strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "mnemo.h"
#include "sqlite3.h"

/* Runs a job that needs no host to completion; returns its result copy. */
static char *run(mnemo_job *job) {
    if (!job) return NULL;
    if (mnemo_job_pending(job)) return NULL;
    const char *r = mnemo_job_result(job);
    char *c = r ? strdup(r) : NULL;
    mnemo_job_free(job);
    return c;
}

static mnemo *open_mem(void) {
    mnemo *db = NULL;
    if (mnemo_open(":memory:", "{\"seed\":7}", NULL, &db) != MNEMO_OK) {
        mnemo_close(db);
        return NULL;
    }
    return db;
}

static char *retain(mnemo *db, const char *json) {
    mnemo_job *job;
    if (mnemo_retain(db, json, &job) != MNEMO_OK) return NULL;
    return run(job);
}

static char *recall(mnemo *db, const char *json) {
    mnemo_job *job;
    if (mnemo_recall(db, json, &job) != MNEMO_OK) return NULL;
    return run(job);
}

/* The value of the first "id" in a JSON text, copied into out[37]. */
static void first_id(const char *json, char *out) {
    const char *p = json ? strstr(json, "\"id\":\"") : NULL;
    out[0] = 0;
    if (p) {
        memcpy(out, p + 6, 36);
        out[36] = 0;
    }
}

void test_api__version_and_error_names_are_stable(void) {
    CHECK_STR(mnemo_version(), MNEMO_VERSION);
    CHECK_STR(mnemo_errname(MNEMO_EJSON), "MNEMO_EJSON");
    CHECK_STR(mnemo_errname(9999), "MNEMO_UNKNOWN");
    CHECK_STR(mnemo_errstr(MNEMO_ENOTFOUND), "not found");
    CHECK_STR(mnemo_errstr(MNEMO_OK), "not an error");
    mnemo_free(NULL); /* a harmless no-op */
    CHECK_INT(mnemo_close(NULL), MNEMO_OK);
    mnemo_job_free(NULL);
}

void test_api__open_creates_a_bank_and_reopens_it(void) {
    const char *path = mn_test_path("reopen.db");
    mnemo *db;
    CHECK_INT(mnemo_open(path, NULL, NULL, &db), MNEMO_OK);
    char *r = retain(db, "{\"text\":\"I live in Lisbon\"}");
    CHECK(r);
    free(r);
    mnemo_close(db);
    CHECK_INT(mnemo_open(path, NULL, NULL, &db), MNEMO_OK);
    char *s;
    CHECK_INT(mnemo_stats(db, &s), MNEMO_OK);
    CHECK_HAS(s, "\"memories\":1,");
    CHECK_HAS(s, "\"schema_version\":2");
    /* The recall index is built by the first recall, not by opening. */
    CHECK_HAS(s, "\"index_bytes\":0}");
    mnemo_free(s);
    char *q = recall(db, "{\"query\":\"where do I live\"}");
    CHECK_HAS(q, "Lisbon");
    free(q);
    CHECK_INT(mnemo_stats(db, &s), MNEMO_OK);
    CHECK(strstr(s, "\"index_bytes\":0}") == NULL);
    CHECK(strstr(s, "\"index_bytes\":") != NULL);
    mnemo_free(s);
    mnemo_close(db);
}

void test_api__open_rejects_garbage_and_foreign_files(void) {
    const char *path = mn_test_path("garbage.db");
    FILE *f = fopen(path, "wb");
    CHECK(f);
    for (int i = 0; i < 8192; i++) fputc((i * 7919) & 0xff, f);
    fclose(f);
    mnemo *db;
    CHECK_INT(mnemo_open(path, NULL, NULL, &db), MNEMO_ECORRUPT);
    CHECK(db != NULL);
    CHECK(strlen(mnemo_errmsg(db)) > 0);
    mnemo_close(db);
    /* The file is left as it was: nothing is "repaired" over it. */
    f = fopen(path, "rb");
    CHECK(f);
    int same = 1;
    for (int i = 0; i < 8192; i++) same &= fgetc(f) == ((i * 7919) & 0xff);
    fclose(f);
    CHECK(same);

    /* Real SQLite databases of another program: with tables and no
    ** application_id, or with another application_id and nothing else. */
    static const char *const foreign[] = {
        "CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES('kept');",
        "PRAGMA application_id=42;",
    };
    for (int i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "foreign%d.db", i);
        path = mn_test_path(name);
        sqlite3 *other;
        CHECK_INT(sqlite3_open(path, &other), SQLITE_OK);
        CHECK_INT(sqlite3_exec(other, foreign[i], NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(other);
        CHECK_INT(mnemo_open(path, NULL, NULL, &db), MNEMO_ECORRUPT);
        CHECK_HAS(mnemo_errmsg(db), "another program");
        mnemo_close(db);
        CHECK_INT(sqlite3_open(path, &other), SQLITE_OK);
        sqlite3_stmt *st;
        CHECK_INT(sqlite3_prepare_v2(other, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL), SQLITE_OK);
        CHECK_INT(sqlite3_step(st), SQLITE_ROW);
        CHECK_INT(sqlite3_column_int(st, 0), i == 0 ? 1 : 0);   /* no Mnemo table added */
        sqlite3_finalize(st);
        sqlite3_close(other);
    }
}

void test_api__open_rejects_bad_options(void) {
    mnemo *db;
    CHECK_INT(mnemo_open(":memory:", "{\"journal\":\"fast\"}", NULL, &db), MNEMO_EINVAL);
    CHECK_HAS(mnemo_errmsg(db), "journal");
    mnemo_close(db);
    CHECK_INT(mnemo_open(":memory:", "{nope", NULL, &db), MNEMO_EJSON);
    mnemo_close(db);
    CHECK_INT(mnemo_open(":memory:", "{\"colour\":1}", NULL, &db), MNEMO_EINVAL);
    CHECK_HAS(mnemo_errmsg(db), "colour");
    mnemo_close(db);
    CHECK_INT(mnemo_open("", NULL, NULL, &db), MNEMO_EINVAL);
    mnemo_close(db);
}

void test_api__retain_and_recall_find_the_memory(void) {
    mnemo *db = open_mem();
    CHECK(db);
    char *r = retain(db, "{\"items\":[{\"text\":\"I prefer dark mode and I use Python\"},"
                         "{\"text\":\"My sister lives in Berlin\"},"
                         "{\"text\":\"The weather was rainy on Tuesday\"}]}");
    CHECK(r);
    CHECK_HAS(r, "\"mode\":\"manual\"");
    free(r);
    r = recall(db, "{\"query\":\"What programming language do I use?\",\"limit\":2}");
    CHECK(r);
    CHECK_HAS(r, "\"results\":[{\"id\":");
    const char *first = strstr(r, "\"text\":");
    CHECK(first && !strncmp(first, "\"text\":\"I prefer dark mode and I use Python\"", 44));
    CHECK_HAS(r, "\"signals\":{\"bm25\":{\"rank\":1");
    free(r);
    mnemo_close(db);
}

void test_api__retain_with_infer_asks_the_llm_and_falls_back_without_one(void) {
    mnemo *db = open_mem();
    CHECK(db);
    mnemo_job *job;
    CHECK_INT(mnemo_retain(db, "{\"text\":\"I like tea\",\"infer\":true}", &job), MNEMO_OK);
    CHECK(mnemo_job_pending(job));
    CHECK_HAS(mnemo_job_request(job), "\"type\":\"chat\"");
    CHECK_INT(mnemo_job_fail(job, MNEMO_EHOST, "no LLM configured"), MNEMO_OK);
    CHECK_HAS(mnemo_job_result(job), "\"mode\":\"heuristic\"");
    CHECK_HAS(mnemo_job_result(job), "\"text\":\"User likes tea\"");
    CHECK_HAS(mnemo_job_result(job), "\"pending\":true");
    mnemo_job_free(job);
    mnemo_close(db);
}

void test_api__retain_rejects_bad_input_and_writes_nothing(void) {
    mnemo *db = open_mem();
    CHECK(db);
    mnemo_job *job = (mnemo_job *)1;
    CHECK_INT(mnemo_retain(db, "{\"text\":", &job), MNEMO_EJSON);
    CHECK(job == NULL);
    CHECK_INT(mnemo_retain(db, "{\"text\":\"   \"}", &job), MNEMO_EINVAL);
    CHECK_INT(mnemo_retain(db, "{\"text\":\"ok\",\"metadata\":[1]}", &job), MNEMO_EINVAL);
    CHECK_INT(mnemo_retain(db, "{\"text\":\"bad \xff byte\"}", &job), MNEMO_EUTF8);
    CHECK_INT(mnemo_retain(db, "{\"text\":\"ok\",\"timestamp\":\"last tuesday\"}", &job), MNEMO_EINVAL);
    /* A batch with one bad item stores none of them. */
    CHECK_INT(mnemo_retain(db, "{\"items\":[{\"text\":\"good\"},{\"text\":\"\"}]}", &job), MNEMO_EINVAL);
    size_t big = (size_t)MNEMO_MAX_INPUT_BYTES + 16;
    char *huge = malloc(big + 1);
    CHECK(huge);
    memset(huge, 'a', big);
    memcpy(huge, "{\"text\":\"", 9);
    memcpy(huge + big - 2, "\"}", 2);
    huge[big] = 0;
    CHECK_INT(mnemo_retain(db, huge, &job), MNEMO_ETOOBIG);
    free(huge);
    char *s;
    CHECK_INT(mnemo_stats(db, &s), MNEMO_OK);
    CHECK_HAS(s, "\"memories\":0,");
    CHECK_HAS(s, "\"history\":0,");
    mnemo_free(s);
    mnemo_close(db);
}

void test_api__messages_become_one_memory_each_with_role_as_source(void) {
    mnemo *db = open_mem();
    CHECK(db);
    char *r = retain(db, "{\"messages\":[{\"role\":\"user\",\"content\":\"I adopted a cat named Miso\"},"
                         "{\"role\":\"assistant\",\"content\":\"Congratulations on Miso!\"}],"
                         "\"metadata\":{\"session\":\"s1\"},\"timestamp\":\"2023-05-20T10:00:00Z\"}");
    CHECK(r);
    free(r);
    char *l;
    CHECK_INT(mnemo_list(db, "{\"filter\":{\"source\":\"user\"}}", &l), MNEMO_OK);
    CHECK_HAS(l, "I adopted a cat named Miso");
    CHECK_HAS(l, "\"metadata\":{\"session\":\"s1\"}");
    CHECK_HAS(l, "\"occurred_at\":\"2023-05-20T10:00:00Z\"");
    CHECK(!strstr(l, "Congratulations"));
    mnemo_free(l);
    mnemo_close(db);
}

void test_api__document_upsert_replaces_the_previous_version(void) {
    mnemo *db = open_mem();
    CHECK(db);
    char *r = retain(db, "{\"document_id\":\"chat-1\",\"messages\":["
                         "{\"role\":\"user\",\"content\":\"I work at Acme\"},"
                         "{\"role\":\"user\",\"content\":\"I drive a red car\"}]}");
    CHECK(r);
    free(r);
    r = retain(db, "{\"document_id\":\"chat-1\",\"messages\":["
                   "{\"role\":\"user\",\"content\":\"I work at Globex now\"}]}");
    CHECK(r);
    CHECK_HAS(r, "\"removed\":[\"");
    free(r);
    char *l;
    CHECK_INT(mnemo_list(db, NULL, &l), MNEMO_OK);
    CHECK_HAS(l, "Globex");
    CHECK(!strstr(l, "Acme"));
    CHECK(!strstr(l, "red car"));
    mnemo_free(l);
    /* The same version again changes nothing. */
    r = retain(db, "{\"document_id\":\"chat-1\",\"messages\":["
                   "{\"role\":\"user\",\"content\":\"I work at Globex now\"}]}");
    CHECK_HAS(r, "\"unchanged\":true");
    CHECK_HAS(r, "\"added\":[]");
    free(r);
    r = recall(db, "{\"query\":\"Acme\"}");
    CHECK_HAS(r, "\"results\":[]");
    free(r);
    mnemo_close(db);
}

void test_api__get_update_history_and_delete(void) {
    mnemo *db = open_mem();
    CHECK(db);
    char *r = retain(db, "{\"text\":\"My favourite colour is blue\",\"metadata\":{\"topic\":\"me\"}}");
    char id[37];
    first_id(r, id);
    free(r);
    CHECK(strlen(id) == 36);
    char *g;
    CHECK_INT(mnemo_get(db, id, &g), MNEMO_OK);
    CHECK_HAS(g, "My favourite colour is blue");
    mnemo_free(g);
    mnemo_job *job;
    CHECK_INT(mnemo_update(db, id, "{\"text\":\"My favourite colour is green\"}", &job), MNEMO_OK);
    CHECK(!mnemo_job_pending(job));
    CHECK_INT(mnemo_job_status(job), MNEMO_OK);
    CHECK_HAS(mnemo_job_result(job), "colour is green");
    mnemo_job_free(job);
    r = recall(db, "{\"query\":\"green colour\"}");
    CHECK_HAS(r, "colour is green");
    free(r);
    r = recall(db, "{\"query\":\"blue\"}");
    CHECK_HAS(r, "\"results\":[]");
    free(r);
    CHECK_INT(mnemo_delete(db, id), MNEMO_OK);
    CHECK_INT(mnemo_get(db, id, &g), MNEMO_ENOTFOUND);
    CHECK(g == NULL);
    CHECK_INT(mnemo_delete(db, id), MNEMO_ENOTFOUND);
    char *h;
    CHECK_INT(mnemo_history(db, id, &h), MNEMO_OK);
    const char *a = strstr(h, "\"ADD\""), *u = strstr(h, "\"UPDATE\""), *d = strstr(h, "\"DELETE\"");
    CHECK(a && u && d && a < u && u < d);
    /* ADD shows what was added, even after the memory changed and went. */
    const char *added = strstr(a, "\"new\":{\"text\":\"My favourite colour is blue\"");
    CHECK(added && added < u);
    CHECK_HAS(h, "colour is blue");
    mnemo_free(h);
    CHECK_INT(mnemo_history(db, "no-such-id", &h), MNEMO_ENOTFOUND);
    CHECK_INT(mnemo_update(db, "no-such-id", "{\"text\":\"x\"}", &job), MNEMO_ENOTFOUND);
    mnemo_close(db);
}

void test_api__list_paginates_with_a_cursor_and_filters(void) {
    mnemo *db = open_mem();
    CHECK(db);
    char *r = retain(db, "{\"items\":[{\"text\":\"one\",\"metadata\":{\"n\":1}},{\"text\":\"two\",\"metadata\":{\"n\":2}},"
                         "{\"text\":\"three\",\"metadata\":{\"n\":3}},{\"text\":\"four\",\"metadata\":{\"n\":4}},"
                         "{\"text\":\"five\",\"metadata\":{\"n\":5}}]}");
    free(r);
    char *l, opt[256];
    CHECK_INT(mnemo_list(db, "{\"limit\":2}", &l), MNEMO_OK);
    CHECK_HAS(l, "\"text\":\"five\"");
    CHECK_HAS(l, "\"text\":\"four\"");
    const char *c = strstr(l, "\"next_cursor\":\"");
    CHECK(c);
    snprintf(opt, sizeof opt, "{\"limit\":2,\"cursor\":\"%.*s\"}", (int)strcspn(c + 15, "\""), c + 15);
    mnemo_free(l);
    CHECK_INT(mnemo_list(db, opt, &l), MNEMO_OK);
    CHECK_HAS(l, "\"text\":\"three\"");
    CHECK_HAS(l, "\"text\":\"two\"");
    CHECK(!strstr(l, "\"five\""));
    mnemo_free(l);
    CHECK_INT(mnemo_list(db, "{\"filter\":{\"n\":{\"gte\":4}}}", &l), MNEMO_OK);
    CHECK_HAS(l, "\"four\"");
    CHECK(!strstr(l, "\"three\""));
    CHECK_HAS(l, "\"next_cursor\":null");
    mnemo_free(l);
    CHECK_INT(mnemo_list(db, "{\"filter\":{\"n\":{\"regex\":\"x\"}}}", &l), MNEMO_EFILTER);
    CHECK_HAS(mnemo_errmsg(db), "regex");
    CHECK_INT(mnemo_list(db, "{\"cursor\":\"garbage\"}", &l), MNEMO_EINVAL);
    mnemo_close(db);
}

void test_api__recall_honours_filters_limits_and_token_budgets(void) {
    mnemo *db = open_mem();
    CHECK(db);
    char *r = retain(db, "{\"items\":[{\"text\":\"I love sushi and ramen\",\"metadata\":{\"topic\":\"food\"}},"
                         "{\"text\":\"Sushi night is on Friday with the team\",\"metadata\":{\"topic\":\"work\"}},"
                         "{\"text\":\"The best sushi place is downtown, a very long description of it that takes many tokens to say\",\"metadata\":{\"topic\":\"food\"}}]}");
    free(r);
    r = recall(db, "{\"query\":\"sushi\",\"filter\":{\"topic\":\"work\"}}");
    CHECK_HAS(r, "Sushi night");
    CHECK(!strstr(r, "I love sushi"));
    free(r);
    r = recall(db, "{\"query\":\"sushi\",\"limit\":1}");
    CHECK(r);
    int n = 0;
    for (const char *p = r; (p = strstr(p, "\"signals\":")); p++) n++;
    CHECK_INT(n, 1);
    free(r);
    r = recall(db, "{\"query\":\"sushi\",\"max_tokens\":12}");
    CHECK(!strstr(r, "best sushi place"));
    CHECK_HAS(r, "\"tokens\":");
    free(r);
    r = recall(db, "{\"query\":\"sushi\",\"filter\":{\"topic\":\"nothing\"}}");
    CHECK_HAS(r, "\"results\":[]");
    free(r);
    mnemo_job *job;
    CHECK_INT(mnemo_recall(db, "{\"query\":\"x\",\"limit\":0}", &job), MNEMO_EINVAL);
    CHECK_HAS(mnemo_errmsg(db), "limit must be an integer between 1 and 1000, got 0");
    CHECK_INT(mnemo_recall(db, "{\"query\":\"x\",\"filter\":{\"a\":{\"like\":1}}}", &job), MNEMO_EFILTER);
    mnemo_close(db);
}

void test_api__recall_uses_a_date_the_query_names(void) {
    mnemo *db = open_mem();
    CHECK(db);
    char *r = retain(db, "{\"items\":[{\"text\":\"We went hiking in the mountains\",\"timestamp\":\"2023-03-04\"},"
                         "{\"text\":\"We went hiking by the lake\",\"timestamp\":\"2023-05-13\"}]}");
    free(r);
    r = recall(db, "{\"query\":\"Where did we go hiking last week?\",\"now\":\"2023-05-20T12:00:00Z\"}");
    CHECK(r);
    const char *lake = strstr(r, "lake"), *mountain = strstr(r, "mountains");
    CHECK(lake && mountain && lake < mountain);
    CHECK_HAS(r, "\"time_range\":{\"from\":\"2023-05-08");
    free(r);
    mnemo_close(db);
}

void test_api__delete_all_forgets_everything(void) {
    const char *path = mn_test_path("forget.db");
    mnemo *db;
    CHECK_INT(mnemo_open(path, NULL, NULL, &db), MNEMO_OK);
    char *r = retain(db, "{\"text\":\"my secret passphrase is tangerine-omelette\",\"document_id\":\"d\"}");
    free(r);
    r = recall(db, "{\"query\":\"passphrase\"}");
    free(r);
    CHECK_INT(mnemo_delete_all(db), MNEMO_OK);
    char *s;
    CHECK_INT(mnemo_stats(db, &s), MNEMO_OK);
    CHECK_HAS(s, "\"memories\":0,\"invalid\":0,\"vectors\":0,\"documents\":0,\"history\":0,\"entities\":0");
    mnemo_free(s);
    r = recall(db, "{\"query\":\"passphrase\"}");
    CHECK_HAS(r, "\"results\":[]");
    free(r);
    mnemo_close(db);
    /* Not in the file either: no page keeps the text. */
    FILE *f = fopen(path, "rb");
    CHECK(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    int found = 0;
    for (size_t i = 0; i + 9 < n; i++) found |= !memcmp(buf + i, "tangerine", 9);
    CHECK(!found);
}

static int collect(void *ctx, const char *line, size_t len) {
    FILE *f = ctx;
    fwrite(line, 1, len, f);
    fputc('\n', f);
    return 0;
}

static char *export_all(mnemo *db, size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f) return NULL;
    int rc = mnemo_export(db, collect, f);
    fclose(f);
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

void test_api__export_then_import_round_trips_exactly(void) {
    mnemo *a = open_mem(), *b = open_mem();
    CHECK(a && b);
    char *r = retain(a, "{\"items\":[{\"text\":\"Line with \\\"quotes\\\" and \\u00e9\",\"metadata\":{\"k\":[1,2]},"
                        "\"topics\":[\"t\"],\"tags\":[\"x\"],\"timestamp\":\"2023-01-02T03:04:05.678Z\"},"
                        "{\"text\":\"second\",\"document_id\":\"doc\"}]}");
    char id[37];
    first_id(r, id);
    free(r);
    CHECK_INT(mnemo_delete(a, id), MNEMO_OK);
    size_t la, lb;
    char *ea = export_all(a, &la);
    CHECK(ea);
    char *res;
    CHECK_INT(mnemo_import(b, ea, la, &res), MNEMO_OK);
    CHECK_HAS(res, "\"imported\":1");
    mnemo_free(res);
    char *eb = export_all(b, &lb);
    CHECK(eb);
    CHECK_INT(la, lb);
    CHECK(!memcmp(ea, eb, la));
    /* Recall works on imported memories. */
    r = recall(b, "{\"query\":\"second\"}");
    CHECK_HAS(r, "\"text\":\"second\"");
    free(r);
    free(ea);
    free(eb);
    mnemo_close(a);
    mnemo_close(b);
}

void test_api__import_of_a_bad_line_imports_nothing(void) {
    mnemo *db = open_mem();
    CHECK(db);
    const char *in =
        "{\"type\":\"bank\",\"format\":1}\n"
        "{\"type\":\"memory\",\"id\":\"m1\",\"text\":\"fine\",\"topics\":[],\"tags\":[],\"metadata\":{}}\n"
        "{\"type\":\"memory\",\"id\":\"m2\",\"text\":\"broken\"\n";
    char *res = NULL;
    CHECK_INT(mnemo_import(db, in, strlen(in), &res), MNEMO_EJSON);
    CHECK_HAS(mnemo_errmsg(db), "line 3");
    CHECK(res == NULL);
    char *g;
    CHECK_INT(mnemo_get(db, "m1", &g), MNEMO_ENOTFOUND);
    mnemo_close(db);
}

void test_api__host_embedder_goes_through_the_job(void) {
    mnemo *db;
    CHECK_INT(mnemo_open(":memory:", "{\"seed\":1,\"embedder\":{\"model\":\"test-embed\",\"dim\":3}}", NULL, &db),
              MNEMO_OK);
    mnemo_job *job;
    CHECK_INT(mnemo_retain(db, "{\"items\":[{\"text\":\"apples\"},{\"text\":\"pears\"}]}", &job), MNEMO_OK);
    CHECK(mnemo_job_pending(job));
    CHECK_HAS(mnemo_job_request(job), "\"type\":\"embeddings\"");
    CHECK_HAS(mnemo_job_request(job), "\"model\":\"test-embed\",\"input\":[\"apples\",\"pears\"]");
    CHECK_INT(mnemo_job_status(job), MNEMO_EMISUSE);
    const char *resp = "{\"data\":[{\"index\":0,\"embedding\":[1,0,0]},{\"index\":1,\"embedding\":[0,1,0]}]}";
    CHECK_INT(mnemo_job_resume(job, resp, strlen(resp)), MNEMO_OK);
    CHECK(!mnemo_job_pending(job));
    CHECK_INT(mnemo_job_status(job), MNEMO_OK);
    CHECK_HAS(mnemo_job_result(job), "\"embedding_calls\":1");
    CHECK_INT(mnemo_job_resume(job, resp, strlen(resp)), MNEMO_EMISUSE);
    mnemo_job_free(job);
    /* The query vector comes from the host too; [0,1,0] is nearest "pears". */
    CHECK_INT(mnemo_recall(db, "{\"query\":\"zzz\",\"signals\":[\"vector\"],\"limit\":1}", &job), MNEMO_OK);
    CHECK(mnemo_job_pending(job));
    const char *q = "{\"data\":[{\"embedding\":[0.1,0.9,0]}]}";
    CHECK_INT(mnemo_job_resume(job, q, strlen(q)), MNEMO_OK);
    CHECK_HAS(mnemo_job_result(job), "\"text\":\"pears\"");
    mnemo_job_free(job);
    mnemo_close(db);
}

void test_api__host_failure_keeps_the_text_and_reindex_fills_vectors(void) {
    mnemo *db;
    CHECK_INT(mnemo_open(":memory:", "{\"embedder\":{\"model\":\"m\",\"dim\":2}}", NULL, &db), MNEMO_OK);
    mnemo_job *job;
    CHECK_INT(mnemo_retain(db, "{\"text\":\"offline note about tulips\"}", &job), MNEMO_OK);
    CHECK_INT(mnemo_job_fail(job, MNEMO_EHOST, "network down"), MNEMO_OK);
    CHECK_HAS(mnemo_job_result(job), "\"vectors_pending\":true");
    mnemo_job_free(job);
    /* Malformed answers count as failures too, for recall: words still work. */
    CHECK_INT(mnemo_recall(db, "{\"query\":\"tulips\"}", &job), MNEMO_OK);
    CHECK_INT(mnemo_job_resume(job, "{\"data\":[{\"embedding\":[\"x\"]}]}", 31), MNEMO_OK);
    CHECK_HAS(mnemo_job_result(job), "tulips");
    CHECK_HAS(mnemo_job_result(job), "\"vector\":false");
    mnemo_job_free(job);
    char *s;
    CHECK_INT(mnemo_stats(db, &s), MNEMO_OK);
    CHECK_HAS(s, "\"vectors\":0");
    mnemo_free(s);
    CHECK_INT(mnemo_reindex(db, &job), MNEMO_OK);
    CHECK(mnemo_job_pending(job));
    const char *resp = "{\"data\":[{\"embedding\":[0.6,0.8]}]}";
    CHECK_INT(mnemo_job_resume(job, resp, strlen(resp)), MNEMO_OK);
    CHECK_HAS(mnemo_job_result(job), "\"reindexed\":1");
    mnemo_job_free(job);
    CHECK_INT(mnemo_stats(db, &s), MNEMO_OK);
    CHECK_HAS(s, "\"vectors\":1");
    mnemo_free(s);
    /* A job left pending is freed by close. */
    CHECK_INT(mnemo_retain(db, "{\"text\":\"abandoned\"}", &job), MNEMO_OK);
    CHECK(mnemo_job_pending(job));
    mnemo_close(db);
}

void test_api__readonly_bank_refuses_writes(void) {
    const char *path = mn_test_path("ro.db");
    mnemo *db;
    CHECK_INT(mnemo_open(path, NULL, NULL, &db), MNEMO_OK);
    char *r = retain(db, "{\"text\":\"kept\"}");
    free(r);
    mnemo_close(db);
    CHECK_INT(mnemo_open(path, "{\"readonly\":true}", NULL, &db), MNEMO_OK);
    mnemo_job *job;
    CHECK_INT(mnemo_retain(db, "{\"text\":\"new\"}", &job), MNEMO_EREADONLY);
    r = recall(db, "{\"query\":\"kept\"}");
    CHECK_HAS(r, "\"text\":\"kept\"");
    free(r);
    mnemo_close(db);
}

void test_api__two_handles_see_each_others_writes(void) {
    const char *path = mn_test_path("two.db");
    mnemo *a, *b;
    CHECK_INT(mnemo_open(path, NULL, NULL, &a), MNEMO_OK);
    CHECK_INT(mnemo_open(path, NULL, NULL, &b), MNEMO_OK);
    char *r = retain(a, "{\"text\":\"alpha memory\"}");
    free(r);
    r = recall(b, "{\"query\":\"alpha\"}");
    CHECK_HAS(r, "alpha memory");
    free(r);
    r = retain(a, "{\"text\":\"beta memory\"}");
    free(r);
    /* b's index was built: it must notice a's commit. */
    r = recall(b, "{\"query\":\"beta\"}");
    CHECK_HAS(r, "beta memory");
    free(r);
    mnemo_close(a);
    mnemo_close(b);
}

typedef struct clock_ctx {
    int64_t now;
    uint64_t n;
} clock_ctx;
static int64_t fixed_now(void *ctx) { return ((clock_ctx *)ctx)->now; }
static uint64_t counter(void *ctx) { return ++((clock_ctx *)ctx)->n * 0x9E3779B97F4A7C15ull; }

void test_api__host_supplies_clock_and_randomness(void) {
    clock_ctx c = {1684548060000LL, 0};
    mnemo_host host = {1, &c, fixed_now, counter};
    mnemo *db;
    CHECK_INT(mnemo_open(":memory:", NULL, &host, &db), MNEMO_OK);
    char *r = retain(db, "{\"text\":\"clocked\"}");
    CHECK_HAS(r, "\"id\":\"");
    free(r);
    char *l;
    CHECK_INT(mnemo_list(db, NULL, &l), MNEMO_OK);
    CHECK_HAS(l, "\"created_at\":\"2023-05-20T02:01:00Z\"");
    mnemo_free(l);
    mnemo_close(db);
    /* Same seed, same ids: reproducible tests. */
    mnemo *x = open_mem(), *y = open_mem();
    char *rx = retain(x, "{\"text\":\"same\"}"), *ry = retain(y, "{\"text\":\"same\"}");
    char ix[37], iy[37];
    first_id(rx, ix);
    first_id(ry, iy);
    free(rx);
    free(ry);
    CHECK_STR(ix, iy);
    mnemo_close(x);
    mnemo_close(y);
    mnemo_host bad = {0, NULL, NULL, NULL};
    CHECK_INT(mnemo_open(":memory:", NULL, &bad, &db), MNEMO_EINVAL);
    mnemo_close(db);
}

void test_api__calls_on_a_failed_handle_are_refused(void) {
    mnemo *db;
    CHECK_INT(mnemo_open(":memory:", "{\"bad\":1}", NULL, &db), MNEMO_EINVAL);
    mnemo_job *job;
    char *out;
    CHECK_INT(mnemo_retain(db, "{\"text\":\"x\"}", &job), MNEMO_EMISUSE);
    CHECK_INT(mnemo_get(db, "x", &out), MNEMO_EMISUSE);
    CHECK_INT(mnemo_stats(NULL, &out), MNEMO_EMISUSE);
    mnemo_close(db);
}

/* The ids in a retain result's "added", in order, into ids[n][37]. */
static int added_ids(const char *json, char ids[][37], int max) {
    int n = 0;
    for (const char *p = json; n < max && (p = strstr(p, "{\"id\":\"")) != NULL; p += 7) {
        memcpy(ids[n], p + 7, 36);
        ids[n++][36] = 0;
    }
    return n;
}

static char *update_text(mnemo *db, const char *id, const char *text) {
    char patch[256];
    snprintf(patch, sizeof patch, "{\"text\":\"%s\"}", text);
    mnemo_job *job;
    if (mnemo_update(db, id, patch, &job) != MNEMO_OK) return NULL;
    return run(job);
}

/* mnemo_warm builds the index in steps; writes between steps, behind and
** ahead of where the build is, end up exactly as a fresh build sees them. */
void test_api__warm_builds_the_index_in_steps(void) {
    const char *path = mn_test_path("warm.db");
    mnemo *db;
    CHECK_INT(mnemo_open(path, "{\"seed\":3}", NULL, &db), MNEMO_OK);
    static char items[300 * 96];
    size_t len = (size_t)snprintf(items, sizeof items, "{\"items\":[");
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(items + len, sizeof items - len, "%s{\"text\":\"note %d: the heron by lake %d\"}",
                                i ? "," : "", i, i % 17);
    snprintf(items + len, sizeof items - len, "]}");
    char *r = retain(db, items);
    CHECK(r);
    static char ids[300][37];
    CHECK_INT(added_ids(r, ids, 300), 300);
    free(r);
    mnemo_close(db);

    CHECK_INT(mnemo_open(path, NULL, NULL, &db), MNEMO_OK);
    int done = 7;
    CHECK_INT(mnemo_warm(db, 0, &done), MNEMO_EINVAL);
    CHECK_INT(mnemo_warm(db, 10, NULL), MNEMO_EINVAL);
    CHECK_INT(mnemo_warm(NULL, 10, &done), MNEMO_EMISUSE);
    CHECK_INT(mnemo_warm(db, 120, &done), MNEMO_OK);
    CHECK_INT(done, 0);
    char *s;
    CHECK_INT(mnemo_stats(db, &s), MNEMO_OK);
    CHECK(strstr(s, "\"index_bytes\":0}") == NULL); /* a partial index exists */
    mnemo_free(s);
    /* Writes behind the build (rows 1..120) and ahead of it. */
    free(update_text(db, ids[5], "a kingfisher by the river"));
    CHECK_INT(mnemo_delete(db, ids[6]), MNEMO_OK);
    free(update_text(db, ids[250], "a cormorant on the pier"));
    CHECK_INT(mnemo_delete(db, ids[251]), MNEMO_OK);
    r = retain(db, "{\"text\":\"a kingfisher again, at dawn\"}");
    free(r);
    int calls = 1;
    while (!done && calls < 10) {
        CHECK_INT(mnemo_warm(db, 120, &done), MNEMO_OK);
        calls++;
    }
    CHECK_INT(done, 1);
    CHECK_INT(calls, 3);
    CHECK_INT(mnemo_warm(db, 120, &done), MNEMO_OK); /* complete: a no-op */
    CHECK_INT(done, 1);

    /* A second handle builds from scratch: both answer alike. */
    mnemo *fresh;
    CHECK_INT(mnemo_open(path, NULL, NULL, &fresh), MNEMO_OK);
    const char *queries[] = {"{\"query\":\"kingfisher\"}", "{\"query\":\"cormorant pier\"}",
                             "{\"query\":\"note 6 heron\",\"limit\":5}", "{\"query\":\"note 251\",\"limit\":3}"};
    for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
        char *a = recall(db, queries[q]), *b = recall(fresh, queries[q]);
        CHECK(a && b);
        char ia[4][37], ib[4][37];
        int na = added_ids(a, ia, 4), nb = added_ids(b, ib, 4);
        CHECK_INT(na, nb);
        for (int i = 0; i < na && i < nb; i++) CHECK_STR(ia[i], ib[i]);
        if (q < 2) CHECK(na >= 1);
        free(a);
        free(b);
    }
    char *k = recall(db, "{\"query\":\"kingfisher\"}");
    CHECK_HAS(k, ids[5]);
    CHECK(strstr(k, ids[6]) == NULL);
    free(k);
    mnemo_close(fresh);
    mnemo_close(db);
}

/* "echo": false leaves the texts out of a manual retain's "added"; it is a
** top-level boolean only. */
void test_api__retain_echo_false_returns_ids_only(void) {
    mnemo *db = open_mem();
    CHECK(db);
    char *r = retain(db, "{\"echo\":false,\"items\":[{\"text\":\"I keep bees\"},{\"text\":\"I sail on Sundays\"}]}");
    CHECK(r);
    static char ids[2][37];
    CHECK_INT(added_ids(r, ids, 2), 2);
    CHECK(strstr(r, "bees") == NULL);
    CHECK(strstr(r, "\"text\"") == NULL);
    free(r);
    char *g;
    CHECK_INT(mnemo_get(db, ids[1], &g), MNEMO_OK);
    CHECK_HAS(g, "I sail on Sundays");
    mnemo_free(g);
    r = retain(db, "{\"text\":\"I keep wasps too\"}"); /* echo by default */
    CHECK_HAS(r, "\"text\":\"I keep wasps too\"");
    free(r);
    mnemo_job *job = NULL;
    CHECK_INT(mnemo_retain(db, "{\"echo\":0,\"text\":\"x\"}", &job), MNEMO_EINVAL);
    CHECK_HAS(mnemo_errmsg(db), "'echo' must be true or false");
    CHECK_INT(mnemo_retain(db, "{\"items\":[{\"echo\":false,\"text\":\"x\"}]}", &job), MNEMO_EINVAL);
    char *s;
    CHECK_INT(mnemo_stats(db, &s), MNEMO_OK);
    CHECK_HAS(s, "\"memories\":3,"); /* the refused inputs wrote nothing */
    mnemo_free(s);
    mnemo_close(db);
}
