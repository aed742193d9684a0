/*
** test_pages.c: page banks (core/pages.c). A tiny host keeps pages in an
** array, as IndexedDB or a Durable Object would, and reopens from it.
*/
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdlib.h>

#include "test.h"
#include "common.h"
#include "mnemo.h"

#define STORE_MAX 4096

/* The host's store: what survives a reload. */
typedef struct store {
    unsigned char *page[STORE_MAX + 1]; /* 1-based */
    uint32_t count, size;
    int writes;                         /* pages written by the last save */
} store;

static void store_free(store *s) {
    for (uint32_t i = 0; i <= STORE_MAX; i++) free(s->page[i]);
    memset(s, 0, sizeof *s);
}

/* Saves what changed, the way a host does after each call. */
static int save(mnemo *db, store *s) {
    const uint32_t *pg;
    size_t n = mnemo_pages_dirty(db, &pg);
    uint32_t size = mnemo_pages_size(db), count = mnemo_pages_count(db);
    if (count > STORE_MAX) return -1;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = mnemo_pages_page(db, pg[i]);
        if (!p) return -1;
        free(s->page[pg[i]]);
        s->page[pg[i]] = malloc(size);
        memcpy(s->page[pg[i]], p, size);
    }
    for (uint32_t i = count + 1; i <= s->count; i++) free(s->page[i]), s->page[i] = NULL;
    s->count = count;
    s->size = size;
    s->writes = (int)n;
    mnemo_pages_saved(db);
    return 0;
}

static int open_with(const char *name, store *s, const char *options, mnemo **db) {
    for (uint32_t i = 1; i <= s->count; i++) {
        if (!s->page[i]) return -1;
        int rc = mnemo_pages_load(name, (int64_t)(i - 1) * s->size, s->page[i], s->size);
        if (rc) return rc;
    }
    return mnemo_open(name, options, NULL, db);
}

static int open_from(const char *name, store *s, mnemo **db) {
    return open_with(name, s, "{\"storage\":\"pages\",\"seed\":5}", db);
}

/* Unseeded: a seeded handle that reopens a bank would count its ids from
** the start again, and a write would collide with the first handle's. */
static int reopen(const char *name, store *s, mnemo **db) {
    return open_with(name, s, "{\"storage\":\"pages\"}", db);
}

static int retain_text(mnemo *db, const char *text) {
    char in[4096];
    snprintf(in, sizeof in, "{\"text\":\"%s\"}", text);
    mnemo_job *job;
    int rc = mnemo_retain(db, in, &job);
    if (rc) return rc;
    rc = mnemo_job_status(job);
    mnemo_job_free(job);
    return rc;
}

void test_pages__saved_pages_reopen_as_the_same_bank(void) {
    store s = {0};
    mnemo *db;
    CHECK_INT(open_from("pg-reopen", &s, &db), MNEMO_OK);
    CHECK_INT(retain_text(db, "My sister lives in Lisbon"), MNEMO_OK);
    CHECK_INT(retain_text(db, "I keep bees in the garden"), MNEMO_OK);
    CHECK(mnemo_pages_size(db) >= 512);
    CHECK(mnemo_pages_count(db) > 1);
    CHECK_INT(save(db, &s), 0);
    CHECK(s.writes > 0);
    mnemo_close(db);

    CHECK_INT(open_from("pg-reopen", &s, &db), MNEMO_OK);
    CHECK_INT(mn_test_count_memories(db), 2);
    mnemo_job *job;
    CHECK_INT(mnemo_recall(db, "{\"query\":\"where does my sister live\"}", &job), MNEMO_OK);
    CHECK_HAS(mnemo_job_result(job), "Lisbon");
    mnemo_job_free(job);
    /* Reading changes nothing the host must save. */
    const uint32_t *pg;
    CHECK_INT(mnemo_pages_dirty(db, &pg), 0);
    mnemo_close(db);
    store_free(&s);
}

void test_pages__a_small_write_dirties_few_pages(void) {
    store s = {0};
    mnemo *db;
    CHECK_INT(open_from("pg-small", &s, &db), MNEMO_OK);
    char buf[128];
    for (int i = 0; i < 400; i++) {
        snprintf(buf, sizeof buf, "note %d about topic %d and the weather", i, i % 17);
        CHECK_INT(retain_text(db, buf), MNEMO_OK);
    }
    CHECK_INT(save(db, &s), 0);
    uint32_t total = mnemo_pages_count(db);
    CHECK_INT(retain_text(db, "one more note"), MNEMO_OK);
    CHECK_INT(save(db, &s), 0);
    /* A commit costs the pages it changed, not the bank's size. */
    CHECK(total > 40);
    CHECK(s.writes > 0 && s.writes <= 12);
    mnemo_close(db);
    store_free(&s);
}

void test_pages__an_unsaved_call_is_gone_after_reopening(void) {
    store s = {0};
    mnemo *db;
    CHECK_INT(open_from("pg-lost", &s, &db), MNEMO_OK);
    CHECK_INT(retain_text(db, "kept"), MNEMO_OK);
    CHECK_INT(save(db, &s), 0);
    /* The host's save of this call fails: it closes and reopens. */
    CHECK_INT(retain_text(db, "not saved"), MNEMO_OK);
    mnemo_close(db);
    CHECK_INT(open_from("pg-lost", &s, &db), MNEMO_OK);
    CHECK_INT(mn_test_count_memories(db), 1);
    char *out = NULL;
    CHECK_INT(mnemo_list(db, NULL, &out), MNEMO_OK);
    CHECK_HAS(out, "kept");
    CHECK(!strstr(out, "not saved"));
    mnemo_free(out);
    mnemo_close(db);
    store_free(&s);
}

/* The host copies its pages in itself: the same bank as mnemo_pages_load,
** and bytes it leaves unwritten read as zero, even over reused memory. */
void test_pages__a_host_fills_the_buffer_itself(void) {
    store s = {0};
    mnemo *db;
    CHECK_INT(open_from("pg-fill", &s, &db), MNEMO_OK);
    CHECK_INT(retain_text(db, "My sister lives in Lisbon"), MNEMO_OK);
    CHECK_INT(save(db, &s), 0);
    mnemo_close(db);

    /* Junk first, so fresh memory could not pass for zeroed. */
    unsigned char *junk = mnemo_pages_buffer("pg-fill", 0, (size_t)s.count * s.size);
    CHECK(junk != NULL);
    memset(junk, 'j', (size_t)s.count * s.size);
    CHECK_INT(mnemo_pages_drop("pg-fill"), MNEMO_OK);

    unsigned char *at = mnemo_pages_buffer("pg-fill", 0, (size_t)s.count * s.size);
    CHECK(at != NULL);
    for (size_t i = 0; i < (size_t)s.count * s.size; i++)
        if (at[i]) {
            CHECK_INT(at[i], 0);
            break;
        }
    for (uint32_t i = 1; i <= s.count; i++) memcpy(at + (size_t)(i - 1) * s.size, s.page[i], s.size);
    CHECK_INT(mnemo_open("pg-fill", "{\"storage\":\"pages\"}", NULL, &db), MNEMO_OK);
    char *out = NULL;
    CHECK_INT(mnemo_list(db, NULL, &out), MNEMO_OK);
    CHECK_HAS(out, "Lisbon");
    mnemo_free(out);
    CHECK(mnemo_pages_buffer("pg-fill", 0, 1) == NULL);   /* open: busy */
    mnemo_close(db);

    CHECK(mnemo_pages_buffer(NULL, 0, 1) == NULL);
    CHECK(mnemo_pages_buffer("", 0, 1) == NULL);
    CHECK(mnemo_pages_buffer("pg-fill", -1, 1) == NULL);
    CHECK(mnemo_pages_buffer("pg-fill", 0, 0) != NULL);    /* creates it, nothing to write */
    CHECK_INT(mnemo_pages_drop("pg-fill"), MNEMO_OK);
    store_free(&s);
}

void test_pages__an_open_image_is_busy(void) {
    mnemo *db, *db2;
    CHECK_INT(mnemo_open("pg-busy", "{\"storage\":\"pages\"}", NULL, &db), MNEMO_OK);
    CHECK_INT(mnemo_open("pg-busy", "{\"storage\":\"pages\"}", NULL, &db2), MNEMO_EBUSY);
    CHECK_HAS(mnemo_errmsg(db2), "already open");
    mnemo_close(db2);
    CHECK_INT(mnemo_pages_load("pg-busy", 0, "x", 1), MNEMO_EBUSY);
    CHECK_INT(mnemo_pages_drop("pg-busy"), MNEMO_EBUSY);
    mnemo_close(db);
    /* Closing frees the image: the name opens again, empty. */
    CHECK_INT(mnemo_open("pg-busy", "{\"storage\":\"pages\"}", NULL, &db), MNEMO_OK);
    CHECK_INT(mn_test_count_memories(db), 0);
    mnemo_close(db);
}

void test_pages__checks_arguments_and_ignores_file_banks(void) {
    CHECK_INT(mnemo_pages_load(NULL, 0, "x", 1), MNEMO_EINVAL);
    CHECK_INT(mnemo_pages_load("", 0, "x", 1), MNEMO_EINVAL);
    CHECK_INT(mnemo_pages_load("pg-args", -1, "x", 1), MNEMO_EINVAL);
    CHECK_INT(mnemo_pages_load("pg-args", 0, NULL, 1), MNEMO_EINVAL);
    CHECK_INT(mnemo_pages_drop("pg-never-loaded"), MNEMO_OK);
    CHECK_INT(mnemo_pages_drop(NULL), MNEMO_OK);
    /* A loaded image that is never opened is freed by drop (ASan checks). */
    CHECK_INT(mnemo_pages_load("pg-args", 4096, "abc", 3), MNEMO_OK);
    CHECK_INT(mnemo_pages_drop("pg-args"), MNEMO_OK);

    mnemo *db;
    CHECK_INT(mnemo_open(":memory:", NULL, NULL, &db), MNEMO_OK);
    const uint32_t *pg = (const uint32_t *)1;
    CHECK_INT(mnemo_pages_dirty(db, &pg), 0);
    CHECK(pg == NULL);
    CHECK(mnemo_pages_page(db, 1) == NULL);
    CHECK_INT(mnemo_pages_size(db), 0);
    CHECK_INT(mnemo_pages_count(db), 0);
    mnemo_pages_saved(db);
    mnemo_close(db);
    CHECK_INT(mnemo_pages_count(NULL), 0);

    CHECK_INT(mnemo_open("pg-args", "{\"storage\":\"disk\"}", NULL, &db), MNEMO_EINVAL);
    CHECK_HAS(mnemo_errmsg(db), "'storage'");
    mnemo_close(db);
}

void test_pages__garbage_pages_open_as_corrupt(void) {
    char junk[4096];
    memset(junk, 'j', sizeof junk);
    CHECK_INT(mnemo_pages_load("pg-junk", 0, junk, sizeof junk), MNEMO_OK);
    mnemo *db;
    CHECK_INT(mnemo_open("pg-junk", "{\"storage\":\"pages\"}", NULL, &db), MNEMO_ECORRUPT);
    mnemo_close(db);
    /* The failed open released the image. */
    CHECK_INT(mnemo_pages_drop("pg-junk"), MNEMO_OK);
}

void test_pages__delete_all_shrinks_the_bank(void) {
    store s = {0};
    mnemo *db;
    CHECK_INT(open_from("pg-shrink", &s, &db), MNEMO_OK);
    char buf[128];
    for (int i = 0; i < 300; i++) {
        snprintf(buf, sizeof buf, "secret number %d of many", i);
        CHECK_INT(retain_text(db, buf), MNEMO_OK);
    }
    CHECK_INT(save(db, &s), 0);
    uint32_t before = s.count;
    CHECK_INT(mnemo_delete_all(db), MNEMO_OK);
    CHECK_INT(save(db, &s), 0);
    CHECK(s.count < before);
    mnemo_close(db);
    CHECK_INT(open_from("pg-shrink", &s, &db), MNEMO_OK);
    CHECK_INT(mn_test_count_memories(db), 0);
    CHECK_INT(retain_text(db, "a fresh start"), MNEMO_OK);
    mnemo_close(db);
    store_free(&s);
}

void test_pages__survives_every_failed_allocation(void) {
    store s = {0};
    mnemo *db;
    CHECK_INT(open_from("pg-fault", &s, &db), MNEMO_OK);
    CHECK_INT(retain_text(db, "first"), MNEMO_OK);
    CHECK_INT(save(db, &s), 0);
    char buf[2048];
    memset(buf, 'a', sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    memcpy(buf, "long ", 5);
    int done = 0;
    for (long n = 1; n < 2000 && !done; n++) {
        mn_mem_fail_after(n);
        int rc = retain_text(db, buf);
        mn_mem_fail_after(0);
        if (rc == MNEMO_OK) {
            done = 1;
            break;
        }
        CHECK_INT(mn_test_count_memories(db), 1);
    }
    CHECK(done);
    CHECK_INT(save(db, &s), 0);
    mnemo_close(db);
    CHECK_INT(open_from("pg-fault", &s, &db), MNEMO_OK);
    CHECK_INT(mn_test_count_memories(db), 2);
    mnemo_close(db);
    store_free(&s);
}

/* ---- lent pages (mnemo_pages_lazy) ---- */

/* A host that lends its stored pages: one buffer, what was asked of it, and
** a switch that makes its reads fail. */
typedef struct lender {
    unsigned char *bytes;
    size_t size, asked;
    int fail, released;
} lender;

static int lend_read(void *ctx, int64_t off, void *into, size_t len) {
    lender *l = ctx;
    if (!into) {
        l->released++;
        return len ? -1 : 0;
    }
    if (l->fail || off < 0 || (size_t)off + len > l->size || l->released) return -1;
    memcpy(into, l->bytes + off, len);
    l->asked += len;
    return 0;
}

/* Lends the store's pages to the image `name` and opens it. */
static int lend_from(const char *name, store *s, lender *l, mnemo **db) {
    memset(l, 0, sizeof *l);
    l->size = (size_t)s->count * s->size;
    if (!(l->bytes = malloc(l->size ? l->size : 1))) return -1;
    for (uint32_t i = 1; i <= s->count; i++) memcpy(l->bytes + (size_t)(i - 1) * s->size, s->page[i], s->size);
    int rc = mnemo_pages_lazy(name, (int64_t)l->size, lend_read, l);
    return rc ? rc : mnemo_open(name, "{\"storage\":\"pages\"}", NULL, db);
}

/* A bank of `n` memories, saved in `s`. */
static void lend_fixture(const char *name, store *s, int n) {
    mnemo *db;
    CHECK_INT(open_from(name, s, &db), MNEMO_OK);
    char buf[256];
    for (int i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "note %d: the %s keeps %d %s in the shed by the river, far from the road",
                 i, i % 3 ? "neighbour" : "farmer", i * 7, i % 2 ? "bicycles" : "goats");
        CHECK_INT(retain_text(db, buf), MNEMO_OK);
    }
    CHECK_INT(retain_text(db, "My sister lives in Lisbon"), MNEMO_OK);
    CHECK_INT(save(db, s), 0);
    mnemo_close(db);
}

static char *recall_text(mnemo *db, const char *query) {
    char in[256];
    snprintf(in, sizeof in, "{\"query\":\"%s\",\"limit\":5}", query);
    mnemo_job *job;
    if (mnemo_recall(db, in, &job)) return NULL;
    char *out = mnemo_job_status(job) == MNEMO_OK ? strdup(mnemo_job_result(job)) : NULL;
    mnemo_job_free(job);
    return out;
}

void test_pages__lent_pages_are_copied_in_only_when_read(void) {
    store s = {0};
    lend_fixture("pg-lend", &s, 400);
    CHECK(s.count > 20);
    mnemo *db, *eager;
    lender l;
    CHECK_INT(lend_from("pg-lend", &s, &l, &db), MNEMO_OK);
    /* Opening reads the schema, not the memories. */
    CHECK(l.asked > 0);
    CHECK(l.asked < l.size / 4);
    CHECK_INT(mnemo_pages_count(db), s.count);
    CHECK_INT(mnemo_pages_size(db), s.size);
    /* Answers are those of the same pages loaded whole. */
    CHECK_INT(reopen("pg-lend-eager", &s, &eager), MNEMO_OK);
    char *a = recall_text(db, "where does my sister live"), *b = recall_text(eager, "where does my sister live");
    CHECK(a && b);
    CHECK_STR(a, b);
    CHECK_HAS(a, "Lisbon");
    free(a), free(b);
    CHECK_INT(mn_test_count_memories(db), 401);
    /* A lent page reads as the stored one; reading changed nothing to save. */
    const unsigned char *p = mnemo_pages_page(db, s.count);
    CHECK(p && !memcmp(p, s.page[s.count], s.size));
    const uint32_t *pg;
    CHECK_INT(mnemo_pages_dirty(db, &pg), 0);
    /* A write is saved as usual, and reopens whole. */
    CHECK_INT(retain_text(db, "I keep bees in the garden"), MNEMO_OK);
    CHECK_INT(save(db, &s), 0);
    CHECK(s.writes > 0);
    CHECK_INT(l.released, 0);
    mnemo_close(db);
    CHECK_INT(l.released, 1); /* told once, at close */
    CHECK_INT(reopen("pg-lend", &s, &db), MNEMO_OK);
    CHECK_INT(mn_test_count_memories(db), 402);
    mnemo_close(db);
    mnemo_close(eager);
    free(l.bytes);
    store_free(&s);
}

void test_pages__a_bank_read_through_lets_go_of_the_host(void) {
    store s = {0};
    lend_fixture("pg-lend-all", &s, 60);
    mnemo *db;
    lender l;
    CHECK_INT(lend_from("pg-lend-all", &s, &l, &db), MNEMO_OK);
    for (uint32_t i = 1; i <= s.count; i++) {
        const unsigned char *p = mnemo_pages_page(db, i);
        CHECK(p && !memcmp(p, s.page[i], s.size));
    }
    /* Every byte asked once, and the host told it may let go. */
    CHECK_INT(l.asked, l.size);
    CHECK_INT(l.released, 1);
    CHECK_INT(mn_test_count_memories(db), 61);
    mnemo_close(db);
    CHECK_INT(l.released, 1);
    free(l.bytes);

    /* A lent bank shrinks and grows again like a loaded one. */
    CHECK_INT(lend_from("pg-lend-all", &s, &l, &db), MNEMO_OK);
    CHECK_INT(mnemo_delete_all(db), MNEMO_OK);
    uint32_t before = s.count;
    CHECK_INT(save(db, &s), 0);
    CHECK(s.count < before);
    CHECK_INT(retain_text(db, "a fresh start"), MNEMO_OK);
    CHECK_INT(save(db, &s), 0);
    mnemo_close(db);
    CHECK_INT(l.released, 1);
    free(l.bytes);
    CHECK_INT(reopen("pg-lend-all", &s, &db), MNEMO_OK);
    CHECK_INT(mn_test_count_memories(db), 1);
    mnemo_close(db);
    store_free(&s);
}

void test_pages__a_failed_lent_read_fails_the_call_not_the_bank(void) {
    store s = {0};
    lend_fixture("pg-lend-fail", &s, 200);
    mnemo *db;
    lender l;
    CHECK_INT(lend_from("pg-lend-fail", &s, &l, &db), MNEMO_OK);
    l.fail = 1;
    mnemo_job *job = NULL;
    int rc = mnemo_recall(db, "{\"query\":\"where does my sister live\"}", &job);
    const char *msg = mnemo_errmsg(db);
    if (rc == MNEMO_OK) rc = mnemo_job_status(job), msg = mnemo_job_errmsg(job);
    CHECK_INT(rc, MNEMO_EIO);
    CHECK_HAS(msg, "I/O");
    mnemo_job_free(job);
    CHECK(mnemo_pages_page(db, s.count) == NULL);
    CHECK_INT(retain_text(db, "this write cannot read its pages"), MNEMO_EIO);
    /* The host reads again: the same call answers, nothing was lost. */
    l.fail = 0;
    char *a = recall_text(db, "where does my sister live");
    CHECK(a != NULL);
    CHECK_HAS(a, "Lisbon");
    free(a);
    CHECK_INT(mn_test_count_memories(db), 201);
    CHECK_INT(retain_text(db, "now it can"), MNEMO_OK);
    CHECK_INT(save(db, &s), 0);
    mnemo_close(db);
    free(l.bytes);
    CHECK_INT(reopen("pg-lend-fail", &s, &db), MNEMO_OK);
    CHECK_INT(mn_test_count_memories(db), 202);
    mnemo_close(db);
    store_free(&s);
}

void test_pages__lending_checks_its_arguments(void) {
    lender l = {0};
    unsigned char page[512] = {0};
    l.bytes = page;
    l.size = sizeof page;
    CHECK_INT(mnemo_pages_lazy(NULL, 512, lend_read, &l), MNEMO_EINVAL);
    CHECK_INT(mnemo_pages_lazy("", 512, lend_read, &l), MNEMO_EINVAL);
    CHECK_INT(mnemo_pages_lazy("pg-lend-args", 100, lend_read, &l), MNEMO_EINVAL);
    CHECK_INT(mnemo_pages_lazy("pg-lend-args", -512, lend_read, &l), MNEMO_EINVAL);
    CHECK_INT(mnemo_pages_lazy("pg-lend-args", 512, NULL, &l), MNEMO_EINVAL);
    /* An image that holds pages already, or lent ones, is not lent again. */
    CHECK_INT(mnemo_pages_load("pg-lend-args", 0, page, sizeof page), MNEMO_OK);
    CHECK_INT(mnemo_pages_lazy("pg-lend-args", 512, lend_read, &l), MNEMO_EINVAL);
    CHECK_INT(mnemo_pages_drop("pg-lend-args"), MNEMO_OK);
    CHECK_INT(mnemo_pages_lazy("pg-lend-args", 512, lend_read, &l), MNEMO_OK);
    CHECK_INT(mnemo_pages_lazy("pg-lend-args", 512, lend_read, &l), MNEMO_EINVAL);
    CHECK_INT(l.released, 0);
    /* Dropped unopened: the host is let go, nothing was read. */
    CHECK_INT(mnemo_pages_drop("pg-lend-args"), MNEMO_OK);
    CHECK_INT(l.released, 1);
    CHECK_INT((int)l.asked, 0);
    /* Nothing to lend: let go at once; the name opens as a new bank. */
    l.released = 0;
    CHECK_INT(mnemo_pages_lazy("pg-lend-args", 0, lend_read, &l), MNEMO_OK);
    CHECK_INT(l.released, 1);
    mnemo *db;
    CHECK_INT(mnemo_open("pg-lend-args", "{\"storage\":\"pages\"}", NULL, &db), MNEMO_OK);
    CHECK_INT(mnemo_pages_lazy("pg-lend-args", 512, lend_read, &l), MNEMO_EBUSY);
    mnemo_close(db);
    /* Out of memory: an error, and the reader never called. */
    l.released = 0;
    int ok = 0;
    for (long n = 1; n < 20 && !ok; n++) {
        mn_mem_fail_after(n);
        int rc = mnemo_pages_lazy("pg-lend-oom", 512, lend_read, &l);
        mn_mem_fail_after(0);
        if (rc == MNEMO_OK) ok = 1;
        else CHECK_INT(rc, MNEMO_ENOMEM);
        CHECK_INT(l.released, 0);
    }
    CHECK(ok);
    CHECK_INT(mnemo_pages_drop("pg-lend-oom"), MNEMO_OK);
    CHECK_INT(l.released, 1);
}

/* ---- recall index snapshots (core/snapshot.c) ---- */

typedef struct blob {
    unsigned char *p;
    size_t n, at, cap;
    int fail_write;   /* fail the write that would pass this many bytes */
} blob;

static int blob_write(void *ctx, const void *bytes, size_t n) {
    blob *b = ctx;
    if (b->fail_write && b->n + n > (size_t)b->fail_write) return -1;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->n + n) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, bytes, n);
    b->n += n;
    return 0;
}

/* Gives at most 1000 bytes a call, so pieces never line up with fields. */
static size_t blob_read(void *ctx, void *into, size_t n) {
    blob *b = ctx;
    if (n > b->n - b->at) n = b->n - b->at;
    if (n > 1000) n = 1000;
    memcpy(into, b->p + b->at, n);
    b->at += n;
    return n;
}

static char *recall_json(mnemo *db, const char *query) {
    char in[512];
    snprintf(in, sizeof in, "{\"query\":\"%s\",\"limit\":8}", query);
    mnemo_job *job;
    if (mnemo_recall(db, in, &job) != MNEMO_OK) return NULL;
    const char *r = mnemo_job_status(job) == MNEMO_OK ? mnemo_job_result(job) : NULL;
    char *c = r ? strdup(r) : NULL;
    mnemo_job_free(job);
    return c;
}

/* Saves db's pages, closes it, and opens the bank again from them with the
** snapshot in b; returns what mnemo_index_load says, *used as it sets it. */
static int reload_with(const char *name, store *s, blob *b, mnemo **db, int *used) {
    *used = -1;
    if (save(*db, s)) return -1;
    mnemo_close(*db);
    int rc = reopen(name, s, db);
    if (rc) return rc;
    b->at = 0;
    return mnemo_index_load(*db, blob_read, b, used);
}

static const char *const SNAP_QUERIES[] = {
    "where does my sister live", "flights and seats", "what about the meeting",
    "python project deadline", "number 17", "Lisbon",
};

/* A page bank with replaced and deleted memories (dead slots in the index),
** saved to `s`; its index snapshot in `b`. */
static void snap_fixture(const char *name, store *s, blob *b) {
    mnemo *db;
    CHECK_INT(open_from(name, s, &db), MNEMO_OK);
    char buf[256];
    static const char *const words[] = {"sister", "Lisbon", "flight", "window seat", "meeting",
                                        "Thursday", "python", "deadline", "garden", "tea"};
    for (int i = 0; i < 240; i++) {
        snprintf(buf, sizeof buf, "note %d about %s and %s, number %d", i, words[i % 10],
                 words[(i * 7 + 3) % 10], i % 23);
        CHECK_INT(retain_text(db, buf), MNEMO_OK);
    }
    char *out = NULL;
    CHECK_INT(mnemo_list(db, "{\"limit\":30}", &out), MNEMO_OK);
    /* Delete every third listed memory: the index keeps tombstones. */
    const char *p = out;
    for (int k = 0; (p = strstr(p, "\"id\":\"")); k++) {
        char id[37];
        memcpy(id, p + 6, 36);
        id[36] = 0;
        p += 6;
        if (k % 3 == 0) CHECK_INT(mnemo_delete(db, id), MNEMO_OK);
    }
    mnemo_free(out);
    CHECK_INT(save(db, s), 0);
    CHECK_INT(mnemo_index_save(db, blob_write, b), MNEMO_OK);
    CHECK(b->n > 1000);
    mnemo_close(db);
}

void test_pages__an_index_snapshot_answers_as_a_fresh_build(void) {
    store s = {0};
    blob b = {0};
    snap_fixture("pg-snap", &s, &b);
    mnemo *fresh, *db;
    CHECK_INT(open_from("pg-snap", &s, &fresh), MNEMO_OK);
    char *want[sizeof SNAP_QUERIES / sizeof *SNAP_QUERIES];
    for (size_t q = 0; q < sizeof SNAP_QUERIES / sizeof *SNAP_QUERIES; q++)
        want[q] = recall_json(fresh, SNAP_QUERIES[q]);
    mnemo_close(fresh);
    CHECK_INT(reopen("pg-snap", &s, &db), MNEMO_OK);
    int used = -1;
    CHECK_INT(mnemo_index_load(db, blob_read, &b, &used), MNEMO_OK);
    CHECK_INT(used, 1);
    CHECK(b.at == b.n);   /* read to the end, checksum included */
    char *stats = NULL;
    CHECK_INT(mnemo_stats(db, &stats), MNEMO_OK);
    CHECK(!strstr(stats, "\"index_bytes\":0"));
    mnemo_free(stats);
    for (size_t q = 0; q < sizeof SNAP_QUERIES / sizeof *SNAP_QUERIES; q++) {
        char *got = recall_json(db, SNAP_QUERIES[q]);
        CHECK(want[q] && got);
        if (want[q] && got) CHECK_STR(got, want[q]);
        free(got);
        free(want[q]);
    }
    /* The loaded index takes writes like a built one. */
    CHECK_INT(retain_text(db, "My cousin moved to Porto"), MNEMO_OK);
    char *got = recall_json(db, "Porto");
    CHECK_HAS(got, "cousin moved to Porto");
    free(got);
    mnemo_close(db);
    free(b.p);
    store_free(&s);
}

/* A loaded index has exact capacities (none at all for an empty bank, then
** one posting and a tiny arena): writes after it must grow from there. */
void test_pages__a_small_loaded_index_grows_with_writes(void) {
    store s = {0};
    blob b = {0};
    mnemo *db;
    CHECK_INT(reopen("pg-small", &s, &db), MNEMO_OK);
    CHECK_INT(save(db, &s), 0);
    CHECK_INT(mnemo_index_save(db, blob_write, &b), MNEMO_OK);
    int used;
    CHECK_INT(reload_with("pg-small", &s, &b, &db, &used), MNEMO_OK);
    CHECK_INT(used, 1);
    char *none = recall_json(db, "seed");
    CHECK_HAS(none, "\"results\":[]");
    free(none);
    CHECK_INT(retain_text(db, "seed"), MNEMO_OK);
    CHECK_INT(save(db, &s), 0);
    b.n = 0;
    CHECK_INT(mnemo_index_save(db, blob_write, &b), MNEMO_OK);
    CHECK_INT(reload_with("pg-small", &s, &b, &db, &used), MNEMO_OK);
    CHECK_INT(used, 1);
    char buf[300];
    for (int i = 0; i < 50; i++) {
        snprintf(buf, sizeof buf, "seed seed number %d, a much longer word list: %s", i,
                 "pelican heron kingfisher cormorant egret grebe bittern spoonbill ibis stork");
        CHECK_INT(retain_text(db, buf), MNEMO_OK);
    }
    char *got = recall_json(db, "seed number 42");
    CHECK_HAS(got, "seed seed number 42");
    free(got);
    mnemo_close(db);
    free(b.p);
    store_free(&s);
}

/* The id of the first memory recall finds for query, into id[37]. */
static int first_id(mnemo *db, const char *query, char *id) {
    char *got = recall_json(db, query);
    const char *p = got ? strstr(got, "\"id\":\"") : NULL;
    if (p) memcpy(id, p + 6, 36), id[36] = 0;
    free(got);
    return p ? 0 : -1;
}

#define NSTALE (sizeof SNAP_QUERIES / sizeof *SNAP_QUERIES + 2)

/* Recall answers for SNAP_QUERIES and two more, into out[NSTALE]. */
static void stale_answers(mnemo *db, char **out) {
    size_t q = 0;
    for (; q < sizeof SNAP_QUERIES / sizeof *SNAP_QUERIES; q++) out[q] = recall_json(db, SNAP_QUERIES[q]);
    out[q++] = recall_json(db, "cousin in Porto");
    out[q++] = recall_json(db, "aunt grows tea in the Azores");
}

void test_pages__an_older_snapshot_is_brought_up_to_date(void) {
    store s = {0};
    blob b = {0};
    snap_fixture("pg-stale", &s, &b);
    mnemo *db;
    CHECK_INT(reopen("pg-stale", &s, &db), MNEMO_OK);
    /* Writes the snapshot never saw: a new memory, a changed text, a deletion. */
    char changed[37], gone[37];
    CHECK_INT(first_id(db, "note 7 python", changed), 0);
    CHECK_INT(first_id(db, "note 12 deadline", gone), 0);
    CHECK(strcmp(changed, gone));
    CHECK_INT(retain_text(db, "My cousin moved to Porto"), MNEMO_OK);
    mnemo_job *job;
    CHECK_INT(mnemo_update(db, changed, "{\"text\":\"My aunt grows tea in the Azores\"}", &job), MNEMO_OK);
    CHECK_INT(mnemo_job_status(job), MNEMO_OK);
    mnemo_job_free(job);
    CHECK_INT(mnemo_delete(db, gone), MNEMO_OK);
    CHECK_INT(save(db, &s), 0);
    mnemo_close(db);
    /* What an index built from the bank as it is now answers. */
    char *want[NSTALE], *got[NSTALE];
    CHECK_INT(reopen("pg-stale", &s, &db), MNEMO_OK);
    stale_answers(db, want);
    CHECK_HAS(want[NSTALE - 2], "cousin moved to Porto");
    CHECK_HAS(want[NSTALE - 1], "aunt grows tea");
    int used;
    CHECK_INT(reload_with("pg-stale", &s, &b, &db, &used), MNEMO_OK);
    CHECK_INT(used, 2);
    stale_answers(db, got);
    for (size_t q = 0; q < NSTALE; q++) {
        CHECK(want[q] && got[q]);
        if (want[q] && got[q]) CHECK_STR(got[q], want[q]);
        CHECK(!got[q] || !strstr(got[q], gone));
        free(want[q]);
        free(got[q]);
    }
    /* A write that keeps the bank's size: SQLite's change counter still
    ** moves, so the snapshot is checked against the bank, not taken as is. */
    blob b2 = {0};
    CHECK_INT(mnemo_index_save(db, blob_write, &b2), MNEMO_OK);
    uint32_t pages = mnemo_pages_count(db);
    char one[37];
    CHECK_INT(first_id(db, "Porto", one), 0);
    CHECK_INT(mnemo_delete(db, one), MNEMO_OK);
    CHECK_INT(mnemo_pages_count(db), pages);
    CHECK_INT(reload_with("pg-stale", &s, &b2, &db, &used), MNEMO_OK);
    CHECK_INT(used, 2);
    char *after = recall_json(db, "Porto");
    CHECK(after && !strstr(after, "cousin moved to Porto"));
    free(after);
    /* Saved again, it is exact for this state. */
    b2.n = 0;
    CHECK_INT(mnemo_index_save(db, blob_write, &b2), MNEMO_OK);
    CHECK_INT(reload_with("pg-stale", &s, &b2, &db, &used), MNEMO_OK);
    CHECK_INT(used, 1);
    mnemo_close(db);
    /* The snapshot of another embedder is not used. */
    CHECK_INT(open_with("pg-stale", &s, "{\"storage\":\"pages\",\"embedder\":{\"model\":\"m\",\"dim\":8}}", &db),
              MNEMO_OK);
    b2.at = 0;
    CHECK_INT(mnemo_index_load(db, blob_read, &b2, &used), MNEMO_OK);
    CHECK_INT(used, 0);
    mnemo_close(db);
    /* Nor is one of an older format (the magic's last byte). */
    CHECK_INT(reopen("pg-stale", &s, &db), MNEMO_OK);
    b2.p[7] = '1';
    b2.at = 0;
    CHECK_INT(mnemo_index_load(db, blob_read, &b2, &used), MNEMO_OK);
    CHECK_INT(used, 0);
    free(b2.p);
    mnemo_close(db);
    free(b.p);
    store_free(&s);
}

void test_pages__a_damaged_snapshot_is_refused_and_changes_nothing(void) {
    store s = {0};
    blob b = {0};
    snap_fixture("pg-damaged", &s, &b);
    mnemo *db;
    CHECK_INT(open_from("pg-damaged", &s, &db), MNEMO_OK);
    char *want = recall_json(db, "sister Lisbon");
    CHECK(want != NULL);
    /* One byte changed anywhere past the header: never used. */
    int refused = 0;
    for (size_t at = 200; at < b.n; at += b.n / 37 + 1) {
        b.p[at] ^= 0x5a;
        b.at = 0;
        int used = -1, rc = mnemo_index_load(db, blob_read, &b, &used);
        b.p[at] ^= 0x5a;
        CHECK(rc != MNEMO_OK || used == 0);
        if (rc == MNEMO_ECORRUPT) refused++;
    }
    CHECK(refused > 30);
    /* Cut short anywhere: an I/O error, never a crash (ASan) or a use. */
    size_t full = b.n;
    for (size_t cut = 0; cut < full; cut += full / 29 + 1) {
        b.n = cut;
        b.at = 0;
        int used = -1, rc = mnemo_index_load(db, blob_read, &b, &used);
        CHECK_INT(rc, MNEMO_EIO);
        CHECK_INT(used, 0);
    }
    b.n = full;
    /* Not a snapshot at all. */
    blob junk = {0};
    unsigned char bytes[512];
    memset(bytes, 'j', sizeof bytes);
    junk.p = bytes;
    junk.n = sizeof bytes;
    int used = -1;
    CHECK_INT(mnemo_index_load(db, blob_read, &junk, &used), MNEMO_ECORRUPT);
    CHECK_HAS(mnemo_errmsg(db), "not a recall index snapshot");
    char *got = recall_json(db, "sister Lisbon");
    CHECK(got && want);
    if (got && want) CHECK_STR(got, want);
    free(got);
    free(want);
    mnemo_close(db);
    free(b.p);
    store_free(&s);
}

/* Loads the snapshot in b with the 1st, 2nd, ... allocation failing until it
** loads: each failure must be MNEMO_ENOMEM. Returns *used of the load that
** worked, or -1. */
static int load_failing_each_allocation(mnemo *db, blob *b) {
    for (long n = 1; n < 5000; n++) {
        b->at = 0;
        int used = -1;
        mn_mem_fail_after(n);
        int rc = mnemo_index_load(db, blob_read, b, &used);
        mn_mem_fail_after(0);
        if (rc == MNEMO_OK && used) return used;
        if (rc != MNEMO_ENOMEM) return -1;
    }
    return -1;
}

void test_pages__snapshots_check_their_arguments_and_survive_failures(void) {
    mnemo *db;
    blob b = {0};
    int used = -1;
    CHECK_INT(mnemo_open(":memory:", NULL, NULL, &db), MNEMO_OK);
    CHECK_INT(mnemo_index_save(db, blob_write, &b), MNEMO_EMISUSE);
    CHECK_INT(mnemo_index_load(db, blob_read, &b, &used), MNEMO_EMISUSE);
    CHECK_INT(used, 0);
    CHECK_INT(mnemo_index_save(db, NULL, &b), MNEMO_EINVAL);
    CHECK_INT(mnemo_index_load(db, blob_read, &b, NULL), MNEMO_EINVAL);
    mnemo_close(db);
    CHECK_INT(mnemo_index_save(NULL, blob_write, &b), MNEMO_EMISUSE);
    CHECK_INT(mnemo_index_load(NULL, blob_read, &b, &used), MNEMO_EMISUSE);

    store s = {0};
    snap_fixture("pg-snapfail", &s, &b);
    CHECK_INT(reopen("pg-snapfail", &s, &db), MNEMO_OK);
    /* A host write that fails midway. */
    blob w = {0};
    w.fail_write = 5000;
    CHECK_INT(mnemo_index_save(db, blob_write, &w), MNEMO_EIO);
    free(w.p);
    /* Every failed allocation while loading: out of memory, then the load works. */
    CHECK_INT(load_failing_each_allocation(db, &b), 1);
    char *got = recall_json(db, "window seat");
    CHECK_HAS(got, "window seat");
    free(got);
    /* The same when the snapshot must first be brought up to date. */
    CHECK_INT(retain_text(db, "The spare key is under the blue flowerpot"), MNEMO_OK);
    CHECK_INT(reload_with("pg-snapfail", &s, &b, &db, &used), MNEMO_OK);
    CHECK_INT(used, 2);
    CHECK_INT(load_failing_each_allocation(db, &b), 2);
    got = recall_json(db, "where is the spare key");
    CHECK_HAS(got, "blue flowerpot");
    free(got);
    mnemo_close(db);
    free(b.p);
    store_free(&s);
}
