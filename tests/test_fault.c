/*
** test_fault.c: the fault-injection twin of test_api.c. Every allocation of
** a retain, recall, update and export is failed in turn, and storage is made
** to fill up mid-write; each time the call fails cleanly (a code, no leak)
** and the bank holds exactly what it held before.
*/
#include <stdlib.h>

#include "test.h"
#include "bank.h"
#include "common.h"

static int finish(mnemo_job *job) {
    int rc = mnemo_job_status(job);
    mnemo_job_free(job);
    return rc;
}

void test_fault__retain_survives_every_failed_allocation(void) {
    mnemo *db;
    CHECK_INT(mnemo_open(":memory:", "{\"seed\":3}", NULL, &db), MNEMO_OK);
    const char *in = "{\"document_id\":\"d\",\"metadata\":{\"a\":1},\"messages\":["
                     "{\"role\":\"user\",\"content\":\"I keep bees in the garden\",\"metadata\":{\"b\":2}},"
                     "{\"role\":\"assistant\",\"content\":\"How many hives do you have?\"}]}";
    int stored = 0, failures = 0;
    for (long n = 1; n < 400; n++) {
        /* Recall first, so the in-memory index exists and is updated too. */
        mnemo_job *job;
        if (mnemo_recall(db, "{\"query\":\"bees\"}", &job) == MNEMO_OK) finish(job);
        mn_mem_fail_after(n);
        int rc = mnemo_retain(db, in, &job);
        mn_mem_fail_after(0);
        if (rc == MNEMO_OK) rc = finish(job);
        if (rc == MNEMO_OK) {
            stored = 1;
            break;
        }
        CHECK_INT(rc, MNEMO_ENOMEM);
        failures++;
        CHECK_INT(mn_test_count_memories(db), 0);
    }
    CHECK(stored);
    CHECK(failures > 5);
    CHECK_INT(mn_test_count_memories(db), 2);
    mnemo_job *job;
    CHECK_INT(mnemo_recall(db, "{\"query\":\"bees garden\"}", &job), MNEMO_OK);
    CHECK_HAS(mnemo_job_result(job), "I keep bees in the garden");
    mnemo_job_free(job);
    mnemo_close(db);
}

void test_fault__recall_and_update_survive_failed_allocations(void) {
    mnemo *db;
    CHECK_INT(mnemo_open(":memory:", "{\"seed\":3}", NULL, &db), MNEMO_OK);
    mnemo_job *job;
    CHECK_INT(mnemo_retain(db, "{\"items\":[{\"text\":\"Tea with lemon\"},{\"text\":\"Coffee, black\"}]}", &job), MNEMO_OK);
    char id[37];
    const char *p = strstr(mnemo_job_result(job), "\"id\":\"");
    CHECK(p);
    memcpy(id, p + 6, 36);
    id[36] = 0;
    mnemo_job_free(job);
    int ok_recall = 0, ok_update = 0;
    for (long n = 1; n < 300 && !(ok_recall && ok_update); n++) {
        mn_mem_fail_after(n);
        int rc = mnemo_recall(db, "{\"query\":\"tea lemon\",\"filter\":{\"kind\":\"fact\"}}", &job);
        mn_mem_fail_after(0);
        if (rc == MNEMO_OK) rc = finish(job);
        if (rc == MNEMO_OK) ok_recall = 1;
        else CHECK_INT(rc, MNEMO_ENOMEM);
        mn_mem_fail_after(n);
        rc = mnemo_update(db, id, "{\"text\":\"Tea with honey\"}", &job);
        mn_mem_fail_after(0);
        if (rc == MNEMO_OK) rc = finish(job);
        if (rc == MNEMO_OK) ok_update = 1;
        else CHECK_INT(rc, MNEMO_ENOMEM);
        char *g;
        CHECK_INT(mnemo_get(db, id, &g), MNEMO_OK);
        CHECK(strstr(g, ok_update ? "Tea with honey" : "Tea with lemon"));
        mnemo_free(g);
    }
    CHECK(ok_recall && ok_update);
    CHECK_INT(mnemo_recall(db, "{\"query\":\"honey\"}", &job), MNEMO_OK);
    CHECK_HAS(mnemo_job_result(job), "Tea with honey");
    mnemo_job_free(job);
    mnemo_close(db);
}

void test_fault__full_storage_mid_write_loses_nothing(void) {
    const char *path = mn_test_path("full.db");
    mnemo *db;
    CHECK_INT(mnemo_open(path, NULL, NULL, &db), MNEMO_OK);
    mnemo_job *job;
    CHECK_INT(mnemo_retain(db, "{\"text\":\"the first memory stays\"}", &job), MNEMO_OK);
    mnemo_job_free(job);
    /* A disk that fills up: no page may be added beyond what the file has. */
    sqlite3_exec(db->sql, "PRAGMA max_page_count = 1", NULL, NULL, NULL);
    char big[60000];
    memset(big, 'x', sizeof big);
    memcpy(big, "{\"items\":[{\"text\":\"", 19);
    size_t at = 19;
    for (int i = 0; i < 200; i++) at += (size_t)snprintf(big + at, sizeof big - at, "note number %d about a full disk. ", i);
    snprintf(big + at, sizeof big - at, "\"}]}");
    CHECK_INT(mnemo_retain(db, big, &job), MNEMO_EFULL);
    CHECK_HAS(mnemo_errmsg(db), "full");
    sqlite3_exec(db->sql, "PRAGMA max_page_count = 1073741823", NULL, NULL, NULL);
    CHECK_INT(mn_test_count_memories(db), 1);
    CHECK_INT(mnemo_recall(db, "{\"query\":\"first memory\"}", &job), MNEMO_OK);
    CHECK_HAS(mnemo_job_result(job), "the first memory stays");
    mnemo_job_free(job);
    mnemo_close(db);
    /* And after reopening. */
    CHECK_INT(mnemo_open(path, NULL, NULL, &db), MNEMO_OK);
    CHECK_INT(mn_test_count_memories(db), 1);
    mnemo_close(db);
}

static int stop_on_second(void *ctx, const char *line, size_t len) {
    (void)line;
    (void)len;
    return ++*(int *)ctx == 2 ? MNEMO_EIO : 0;
}

void test_fault__export_writer_can_stop_the_export(void) {
    mnemo *db;
    CHECK_INT(mnemo_open(":memory:", NULL, NULL, &db), MNEMO_OK);
    mnemo_job *job;
    CHECK_INT(mnemo_retain(db, "{\"items\":[{\"text\":\"one\"},{\"text\":\"two\"}]}", &job), MNEMO_OK);
    mnemo_job_free(job);
    int calls = 0;
    CHECK_INT(mnemo_export(db, stop_on_second, &calls), MNEMO_EIO);
    CHECK_INT(calls, 2);
    CHECK_HAS(mnemo_errmsg(db), "stopped by its writer");
    CHECK_INT(mnemo_export(db, NULL, NULL), MNEMO_EINVAL);
    /* The bank is untouched and still writable (the read snapshot ended). */
    CHECK_INT(mnemo_retain(db, "{\"text\":\"three\"}", &job), MNEMO_OK);
    mnemo_job_free(job);
    CHECK_INT(mn_test_count_memories(db), 3);
    mnemo_close(db);
}

void test_fault__job_errmsg_says_why_a_job_failed(void) {
    mnemo *db;
    CHECK_INT(mnemo_open(":memory:", "{\"embedder\":{\"model\":\"m\",\"dim\":2}}", NULL, &db), MNEMO_OK);
    mnemo_job *job;
    CHECK_INT(mnemo_retain(db, "{\"text\":\"x\"}", &job), MNEMO_OK);
    mnemo_job_free(job); /* abandoned while pending: nothing written */
    CHECK_INT(mn_test_count_memories(db), 0);
    CHECK_INT(mnemo_reindex(db, &job), MNEMO_OK);
    CHECK_STR(mnemo_job_errmsg(job), "");
    mnemo_job_free(job);
    CHECK_INT(mnemo_retain(db, "{\"text\":\"kept without a vector\"}", &job), MNEMO_OK);
    CHECK_INT(mnemo_job_fail(job, MNEMO_EHOST, "offline"), MNEMO_OK);
    mnemo_job_free(job);
    CHECK_INT(mnemo_reindex(db, &job), MNEMO_OK);
    CHECK(mnemo_job_pending(job));
    CHECK_INT(mnemo_job_fail(job, MNEMO_EHOST, "still offline"), MNEMO_EHOST);
    CHECK_INT(mnemo_job_status(job), MNEMO_EHOST);
    CHECK_HAS(mnemo_job_errmsg(job), "still offline");
    CHECK(mnemo_job_result(job) == NULL);
    CHECK(mnemo_job_request(job) == NULL);
    mnemo_job_free(job);
    mnemo_close(db);
}

void test_fault__fts5_table_is_optional_and_kept_in_step(void) {
    mnemo *db;
    CHECK_INT(mnemo_open(":memory:", "{\"seed\":5}", NULL, &db), MNEMO_OK);
    CHECK(!db->fts5);
    mnemo_close(db);
    const char *path = mn_test_path("fts5.db");
    CHECK_INT(mnemo_open(path, NULL, NULL, &db), MNEMO_OK);
    mnemo_job *job;
    CHECK_INT(mnemo_retain(db, "{\"items\":[{\"text\":\"zebras graze\"},{\"text\":\"lions hunt zebras\"}]}", &job), MNEMO_OK);
    char id[37];
    const char *p = strstr(mnemo_job_result(job), "\"id\":\"");
    memcpy(id, p + 6, 36);
    id[36] = 0;
    mnemo_job_free(job);
    mnemo_close(db);
    /* Turned on later: built from what is there, then maintained. */
    CHECK_INT(mnemo_open(path, "{\"fts5\":true}", NULL, &db), MNEMO_OK);
    CHECK(db->fts5);
    sqlite3_stmt *st;
    const char *q = "SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?";
    CHECK_INT(sqlite3_prepare_v2(db->sql, q, -1, &st, NULL), SQLITE_OK);
#define MATCHES(word, n)                                                       \
    do {                                                                       \
        sqlite3_reset(st);                                                     \
        sqlite3_bind_text(st, 1, word, -1, SQLITE_STATIC);                     \
        CHECK_INT(sqlite3_step(st), SQLITE_ROW);                               \
        CHECK_INT(sqlite3_column_int(st, 0), n);                               \
    } while (0)
    MATCHES("zebras", 2);
    CHECK_INT(mnemo_retain(db, "{\"text\":\"zebras run\"}", &job), MNEMO_OK);
    mnemo_job_free(job);
    MATCHES("zebras", 3);
    CHECK_INT(mnemo_update(db, id, "{\"text\":\"giraffes graze\"}", &job), MNEMO_OK);
    mnemo_job_free(job);
    MATCHES("zebras", 2);
    MATCHES("giraffes", 1);
    CHECK_INT(mnemo_delete(db, id), MNEMO_OK);
    MATCHES("giraffes", 0);
    CHECK_INT(mnemo_delete_all(db), MNEMO_OK);
    MATCHES("zebras", 0);
    sqlite3_finalize(st);
    mnemo_close(db);
    /* Once on, it stays on without the option. */
    CHECK_INT(mnemo_open(path, NULL, NULL, &db), MNEMO_OK);
    CHECK(db->fts5);
    mnemo_close(db);
}
