#include <math.h>
#include <stdio.h>

#include "test.h"
#include "index.h"
#include "embed.h"

#define DIM 8

static int put(mn_index *ix, int64_t rowid, const char *text) {
    return mn_index_put(ix, rowid, text, strlen(text), NULL);
}

static int bm25(mn_index *ix, const char *q, int k, mn_hit *out) {
    return mn_index_bm25(ix, q, strlen(q), NULL, k, out);
}

static int near(double a, double b) { return fabs(a - b) < 1e-4; }

/* 1 when both indexes answer the query with the same rowids and scores. */
static int same_answers(mn_index *a, mn_index *b, const char *q) {
    mn_hit ha[16], hb[16];
    int na = bm25(a, q, 16, ha), nb = bm25(b, q, 16, hb);
    if (na != nb) return 0;
    for (int i = 0; i < na; i++)
        if (ha[i].rowid != hb[i].rowid || !near(ha[i].score, hb[i].score)) return 0;
    na = mn_index_keyword(a, q, strlen(q), NULL, 16, ha);
    nb = mn_index_keyword(b, q, strlen(q), NULL, 16, hb);
    if (na != nb) return 0;
    for (int i = 0; i < na; i++)
        if (ha[i].rowid != hb[i].rowid || !near(ha[i].score, hb[i].score)) return 0;
    return 1;
}

static const char *const corpus[] = {
    "I adopted a golden retriever puppy named Max last spring",
    "My sister lives in Lisbon and works as an architect",
    "We went hiking near the lake and saw a heron",
    "The puppy chewed my new running shoes again",
    "I prefer jazz over classical music when I work",
    "Lisbon trams are yellow and very old",
};
#define NCORPUS (sizeof corpus / sizeof corpus[0])

static mn_index *corpus_index(void) {
    mn_index *ix = mn_index_new(DIM);
    if (!ix) return NULL;
    for (size_t i = 0; i < NCORPUS; i++)
        if (put(ix, (int64_t)i + 1, corpus[i])) {
            mn_index_free(ix);
            return NULL;
        }
    return ix;
}

void test_index__scores_bm25_like_the_formula(void) {
    mn_index *ix = mn_index_new(DIM);
    CHECK(ix);
    /* Content lengths 3, 2 and 4 words: N = 3, avgdl = 3. */
    CHECK_INT(put(ix, 1, "the apple, a banana and an apple"), 0);
    CHECK_INT(put(ix, 2, "banana cherry"), 0);
    CHECK_INT(put(ix, 3, "cherry date elderberry fig"), 0);
    CHECK_INT(mn_index_count(ix), 3);
    mn_hit h[4];
    /* apple: df 1, idf ln(1 + 2.5/1.5); tf 2 in a doc of avgdl length. */
    CHECK_INT(bm25(ix, "apple?", 4, h), 1);
    CHECK_INT(h[0].rowid, 1);
    CHECK(near(h[0].score, log(1 + 2.5 / 1.5) * 2 * 2.2 / (2 + 1.2)));
    /* banana, cherry: df 2 each, idf ln(1.6). */
    double idf = log(1.6);
    CHECK_INT(bm25(ix, "Bananas and cherries", 4, h), 3);
    CHECK_INT(h[0].rowid, 2);
    CHECK(near(h[0].score, 2 * idf * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / 3.0))));
    CHECK_INT(h[1].rowid, 1);
    CHECK(near(h[1].score, idf * 2.2 / (1 + 1.2)));
    CHECK_INT(h[2].rowid, 3);
    CHECK(near(h[2].score, idf * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 4 / 3.0))));
    /* k smaller than the hits keeps the best. */
    CHECK_INT(bm25(ix, "banana cherry", 1, h), 1);
    CHECK_INT(h[0].rowid, 2);
    mn_index_free(ix);
}

void test_index__ranks_rare_word_first(void) {
    mn_index *ix = corpus_index();
    CHECK(ix);
    mn_hit h[8];
    /* "puppy" is in two memories, "Max" in one: the one with both leads. */
    CHECK_INT(bm25(ix, "What is my puppy Max like?", 8, h), 2);
    CHECK_INT(h[0].rowid, 1);
    CHECK_INT(h[1].rowid, 4);
    CHECK(h[0].score > h[1].score);
    CHECK_INT(bm25(ix, "Where does my sister live?", 8, h), 1);
    CHECK_INT(h[0].rowid, 2);
    CHECK_INT(bm25(ix, "zebra", 8, h), 0);
    mn_index_free(ix);
}

void test_index__returns_nothing_for_stop_word_queries(void) {
    mn_index *ix = corpus_index();
    CHECK(ix);
    mn_hit h[8];
    /* Stop words are not indexed, so a query made only of them finds none. */
    CHECK_INT(bm25(ix, "what did I do there?", 8, h), 0);
    CHECK_INT(mn_index_keyword(ix, "and the", 7, NULL, 8, h), 0);
    CHECK_INT(bm25(ix, "", 8, h), 0);
    CHECK_INT(bm25(ix, "puppy", 0, h), 0);
    mn_index_free(ix);
}

void test_index__breaks_ties_by_newer_rowid(void) {
    mn_index *ix = mn_index_new(DIM);
    CHECK(ix);
    CHECK_INT(put(ix, 10, "coffee mug"), 0);
    CHECK_INT(put(ix, 30, "coffee mug"), 0);
    CHECK_INT(put(ix, 20, "coffee mug"), 0);
    mn_hit h[3];
    CHECK_INT(bm25(ix, "coffee", 3, h), 3);
    CHECK_INT(h[0].rowid, 30);
    CHECK_INT(h[1].rowid, 20);
    CHECK_INT(h[2].rowid, 10);
    CHECK_INT(bm25(ix, "coffee", 2, h), 2);
    CHECK_INT(h[0].rowid, 30);
    CHECK_INT(h[1].rowid, 20);
    mn_index_free(ix);
}

void test_index__weights_keyword_overlap_by_idf(void) {
    mn_index *ix = mn_index_new(DIM);
    CHECK(ix);
    CHECK_INT(put(ix, 1, "paris paris paris paris trip"), 0);
    CHECK_INT(put(ix, 2, "paris museum trip"), 0);
    CHECK_INT(put(ix, 3, "museum ticket"), 0);
    CHECK_INT(put(ix, 4, "ticket office"), 0);
    mn_hit h[4];
    CHECK_INT(mn_index_keyword(ix, "paris museum", 12, NULL, 4, h), 3);
    CHECK_INT(h[0].rowid, 2);
    CHECK(near(h[0].score, 2 * log(1 + 2.5 / 2.5)));
    CHECK(near(h[1].score, log(1 + 2.5 / 2.5)));
    CHECK_INT(h[1].rowid, 3); /* tie with 1: the newer first */
    CHECK_INT(h[2].rowid, 1);
    mn_index_free(ix);
}

void test_index__counts_given_terms(void) {
    mn_index *ix = corpus_index();
    CHECK(ix);
    const char *terms[] = {"lisbon", "architect", "lisbon", "nowhere"};
    mn_hit h[8];
    CHECK_INT(mn_index_terms(ix, terms, 4, NULL, 8, h), 2);
    CHECK_INT(h[0].rowid, 2);
    CHECK(h[0].score == 2);
    CHECK_INT(h[1].rowid, 6);
    CHECK(h[1].score == 1);
    CHECK_INT(mn_index_terms(ix, terms, 0, NULL, 8, h), 0);
    mn_index_free(ix);
}

void test_index__removes_documents(void) {
    mn_index *ix = corpus_index();
    CHECK(ix);
    mn_hit h[8];
    mn_index_remove(ix, 2);
    mn_index_remove(ix, 2);   /* twice: ignored */
    mn_index_remove(ix, 999); /* unknown: ignored */
    CHECK_INT(mn_index_count(ix), NCORPUS - 1);
    CHECK_INT(bm25(ix, "Lisbon", 8, h), 1);
    CHECK_INT(h[0].rowid, 6);
    /* Scores are as if the document had never been there. */
    mn_index *fresh = mn_index_new(DIM);
    CHECK(fresh);
    for (size_t i = 0; i < NCORPUS; i++)
        if (i != 1) CHECK_INT(put(fresh, (int64_t)i + 1, corpus[i]), 0);
    CHECK(same_answers(ix, fresh, "Lisbon trams and my sister the architect"));
    CHECK(same_answers(ix, fresh, "puppy running shoes"));
    /* The rowid can come back. */
    CHECK_INT(put(ix, 2, "my sister moved to Porto"), 0);
    CHECK_INT(bm25(ix, "sister", 8, h), 1);
    CHECK_INT(h[0].rowid, 2);
    mn_index_free(fresh);
    mn_index_free(ix);
}

void test_index__replaces_on_reput(void) {
    mn_index *ix = corpus_index();
    CHECK(ix);
    mn_hit h[8];
    CHECK_INT(put(ix, 3, "We went kayaking on the river"), 0);
    CHECK_INT(mn_index_count(ix), NCORPUS);
    CHECK_INT(bm25(ix, "hiking heron", 8, h), 0);
    CHECK_INT(bm25(ix, "kayak river", 8, h), 1);
    CHECK_INT(h[0].rowid, 3);
    mn_index *fresh = mn_index_new(DIM);
    CHECK(fresh);
    for (size_t i = 0; i < NCORPUS; i++)
        CHECK_INT(put(fresh, (int64_t)i + 1, i == 2 ? "We went kayaking on the river" : corpus[i]), 0);
    CHECK(same_answers(ix, fresh, "kayak river puppy Lisbon jazz"));
    mn_index_free(fresh);
    mn_index_free(ix);
}

void test_index__knows_what_a_document_was_put_from(void) {
    mn_index *ix = corpus_index();
    CHECK(ix);
    const char *t = corpus[1];
    CHECK_INT(mn_index_has(ix, 2, t, strlen(t), NULL, 0), 1);
    CHECK_INT(mn_index_has(ix, 2, t, strlen(t) - 1, NULL, 0), 0); /* another text */
    CHECK_INT(mn_index_has(ix, 3, t, strlen(t), NULL, 0), 0);     /* another document */
    CHECK_INT(mn_index_has(ix, 99, t, strlen(t), NULL, 0), 0);    /* none */
    float v[DIM] = {1};
    CHECK_INT(mn_index_has(ix, 2, t, strlen(t), v, 0), 0);        /* now with a vector */
    CHECK_INT(mn_index_put(ix, 2, t, strlen(t), v), 0);
    CHECK_INT(mn_index_has(ix, 2, t, strlen(t), v, 0), 1);
    v[0] = 0.5f;
    CHECK_INT(mn_index_has(ix, 2, t, strlen(t), v, 0), 0);        /* another vector */
    mn_index_remove(ix, 2);
    CHECK_INT(mn_index_has(ix, 2, t, strlen(t), NULL, 0), 0);
    mn_index_free(ix);
    /* The built-in embedder's vector is a function of the text: a document
    ** put embedded is known by its text alone, and differs from one put
    ** without a vector. */
    mn_index *em = mn_index_new(MN_EMBED_DIM);
    CHECK(em);
    CHECK_INT(mn_index_put_embedded(em, 7, t, strlen(t)), 0);
    CHECK_INT(mn_index_has(em, 7, t, strlen(t), NULL, 1), 1);
    CHECK_INT(mn_index_has(em, 7, t, strlen(t), NULL, 0), 0);
    mn_index_free(em);
}

void test_index__keeps_only_the_given_documents(void) {
    mn_index *ix = corpus_index();
    CHECK(ix);
    const int64_t keep[] = {1, 3, 5, 6, 40};   /* 40 is not indexed: ignored */
    mn_index_keep(ix, keep, sizeof keep / sizeof keep[0]);
    CHECK_INT(mn_index_count(ix), 4);
    mn_index *fresh = mn_index_new(DIM);
    CHECK(fresh);
    for (size_t i = 0; i < NCORPUS; i++)
        if (i != 1 && i != 3) CHECK_INT(put(fresh, (int64_t)i + 1, corpus[i]), 0);
    CHECK(same_answers(ix, fresh, "Lisbon trams and my sister the architect"));
    CHECK(same_answers(ix, fresh, "puppy running shoes jazz heron"));
    mn_index_keep(ix, keep, 0);   /* nothing to keep */
    CHECK_INT(mn_index_count(ix), 0);
    mn_hit h[8];
    CHECK_INT(bm25(ix, "Lisbon", 8, h), 0);
    mn_index_free(fresh);
    mn_index_free(ix);
}

static void unit(float *v, float a, float b, float c) {
    memset(v, 0, DIM * sizeof *v);
    float n = sqrtf(a * a + b * b + c * c);
    v[0] = a / n;
    v[1] = b / n;
    v[2] = c / n;
}

void test_index__vector_finds_nearest(void) {
    mn_index *ix = mn_index_new(DIM);
    CHECK(ix);
    float v[DIM];
    unit(v, 1, 0, 0);
    CHECK_INT(mn_index_put(ix, 1, "x", 1, v), 0);
    unit(v, 0, 1, 0);
    CHECK_INT(mn_index_put(ix, 2, "y", 1, v), 0);
    unit(v, 1, 1, 0);
    CHECK_INT(mn_index_put(ix, 3, "xy", 2, v), 0);
    CHECK_INT(mn_index_put(ix, 4, "none", 4, NULL), 0);
    mn_hit h[8];
    unit(v, 1, 0.1f, 0);
    CHECK_INT(mn_index_vector(ix, v, NULL, 8, h), 3); /* 4 has no vector */
    CHECK_INT(h[0].rowid, 1);
    CHECK(fabs(h[0].score - 0.995) < 0.02);
    CHECK_INT(h[1].rowid, 3);
    CHECK(fabs(h[1].score - (1 + 0.1) / sqrt(2 * 1.01)) < 0.02);
    CHECK_INT(h[2].rowid, 2);
    CHECK_INT(mn_index_vector(ix, v, NULL, 1, h), 1);
    CHECK_INT(h[0].rowid, 1);
    /* similarity is the cosine of the stored vectors. */
    CHECK(fabs(mn_index_similarity(ix, 1, 3) - 0.7071) < 0.02);
    CHECK(fabs(mn_index_similarity(ix, 1, 2)) < 0.02);
    CHECK(mn_index_similarity(ix, 1, 4) == 0);
    CHECK(mn_index_similarity(ix, 1, 99) == 0);
    /* A re-put without a vector drops the old one. */
    CHECK_INT(mn_index_put(ix, 1, "x", 1, NULL), 0);
    CHECK_INT(mn_index_vector(ix, v, NULL, 8, h), 2);
    CHECK_INT(h[0].rowid, 3);
    unit(v, 0, 0, 0);
    v[0] = 0;
    CHECK_INT(mn_index_vector(ix, v, NULL, 8, h), 0); /* zero query */
    mn_index_free(ix);
}

void test_index__respects_allow_list(void) {
    mn_index *ix = corpus_index();
    CHECK(ix);
    float v[DIM];
    for (int64_t r = 1; r <= 6; r++) {
        unit(v, 1, (float)r, 0);
        CHECK_INT(mn_index_put(ix, r, corpus[r - 1], strlen(corpus[r - 1]), v), 0);
    }
    mn_hit h[8];
    const int64_t ids[] = {3, 4, 6, 42};
    mn_allow allow = {ids, 4};
    const char *q = "puppy Lisbon lake";
    CHECK_INT(mn_index_bm25(ix, q, strlen(q), &allow, 8, h), 3);
    for (int i = 0; i < 3; i++) CHECK(h[i].rowid == 3 || h[i].rowid == 4 || h[i].rowid == 6);
    CHECK_INT(mn_index_keyword(ix, q, strlen(q), &allow, 8, h), 3);
    const char *terms[] = {"lisbon"};
    CHECK_INT(mn_index_terms(ix, terms, 1, &allow, 8, h), 1);
    CHECK_INT(h[0].rowid, 6);
    unit(v, 1, 0, 0); /* nearest overall is 1, which is not allowed */
    CHECK_INT(mn_index_vector(ix, v, &allow, 8, h), 3);
    CHECK_INT(h[0].rowid, 3);
    CHECK_INT(h[2].rowid, 6);
    mn_allow none = {NULL, 0};
    CHECK_INT(mn_index_bm25(ix, q, strlen(q), &none, 8, h), 0);
    CHECK_INT(mn_index_vector(ix, v, &none, 8, h), 0);
    /* The next query without a list sees everything again. */
    CHECK_INT(mn_index_bm25(ix, q, strlen(q), NULL, 8, h), 5);
    mn_index_free(ix);
}

void test_index__compacts_tombstones(void) {
    mn_index *ix = mn_index_new(DIM);
    mn_index *fresh = mn_index_new(DIM);
    CHECK(ix && fresh);
    char text[128];
    float v[DIM];
    for (int r = 1; r <= 400; r++) {
        snprintf(text, sizeof text, "note %d about topic%d and common words here", r, r % 7);
        unit(v, 1, (float)(r % 13), (float)(r % 5));
        CHECK_INT(mn_index_put(ix, r, text, strlen(text), v), 0);
        if (r % 4 != 0) continue;
        CHECK_INT(mn_index_put(fresh, r, text, strlen(text), v), 0);
    }
    size_t before = mn_index_bytes(ix);
    /* Remove three quarters: several compactions renumber the slots. */
    for (int r = 1; r <= 400; r++)
        if (r % 4 != 0) mn_index_remove(ix, r);
    CHECK_INT(mn_index_count(ix), 100);
    CHECK(mn_index_bytes(ix) <= before);
    CHECK(same_answers(ix, fresh, "note about topic3 common"));
    CHECK(same_answers(ix, fresh, "topic0 200 204"));
    mn_hit h[8];
    CHECK_INT(bm25(ix, "200", 8, h), 1);
    CHECK_INT(h[0].rowid, 200);
    unit(v, 1, 4, 4);
    mn_hit g[8];
    CHECK_INT(mn_index_vector(ix, v, NULL, 8, h), 8);
    CHECK_INT(mn_index_vector(fresh, v, NULL, 8, g), 8);
    for (int i = 0; i < 8; i++) CHECK(h[i].rowid == g[i].rowid && h[i].score == g[i].score);
    CHECK(fabs(mn_index_similarity(ix, 200, 204) - mn_index_similarity(fresh, 200, 204)) < 1e-6);
    /* Re-puts churn slots too and stay correct. */
    for (int round = 0; round < 5; round++)
        for (int r = 4; r <= 400; r += 4) {
            snprintf(text, sizeof text, "note %d about topic%d and common words here", r, r % 7);
            unit(v, 1, (float)(r % 13), (float)(r % 5));
            CHECK_INT(mn_index_put(ix, r, text, strlen(text), v), 0);
        }
    CHECK_INT(mn_index_count(ix), 100);
    CHECK(same_answers(ix, fresh, "note about topic3 common 312"));
    mn_index_free(fresh);
    mn_index_free(ix);
}

void test_index__survives_allocation_failure(void) {
    for (long n = 1; n <= 2; n++) {
        mn_mem_fail_after(n);
        mn_index *none = mn_index_new(DIM);
        mn_mem_fail_after(0);
        CHECK(none == NULL);
    }
    mn_index *ix = mn_index_new(DIM);
    mn_index *ref = mn_index_new(DIM);
    CHECK(ix && ref);
    char text[160];
    float v[DIM];
    /* Fill to just below the first growth of slots (256). */
    for (int r = 1; r <= 256; r++) {
        snprintf(text, sizeof text, "memory %d word%d shared text", r, r);
        unit(v, 1, (float)r, 0);
        CHECK_INT(mn_index_put(ix, r, text, strlen(text), v), 0);
        CHECK_INT(mn_index_put(ref, r, text, strlen(text), v), 0);
    }
    /* A put that grows slots, map, postings and the dictionary, failed at
    ** each allocation in turn; then a re-put of an existing rowid. */
    const char *adds[] = {"brand new vocabulary appears: zyzzyva quokka axolotl",
                          "memory 7 rewritten with narwhal"};
    const int64_t rows[] = {1000, 7};
    for (int a = 0; a < 2; a++) {
        unit(v, 0, 0, 1);
        int failures = 0;
        for (long n = 1;; n++) {
            mn_mem_fail_after(n);
            int rc = mn_index_put(ix, rows[a], adds[a], strlen(adds[a]), v);
            mn_mem_fail_after(0);
            if (rc == 0) break;
            CHECK_INT(rc, -1);
            failures++;
            CHECK_INT(mn_index_count(ix), mn_index_count(ref));
            CHECK(same_answers(ix, ref, "memory word7 shared quokka narwhal zyzzyva"));
            mn_hit h[4];
            CHECK_INT(mn_index_vector(ix, v, NULL, 4, h), 4);
            CHECK(h[0].rowid != rows[a]);
        }
        CHECK(a == 1 || failures > 3); /* the first put really hit growth */
        CHECK_INT(mn_index_put(ref, rows[a], adds[a], strlen(adds[a]), v), 0);
        CHECK(same_answers(ix, ref, "memory word7 shared quokka narwhal zyzzyva"));
    }
    CHECK_INT(mn_index_count(ix), 257);
    mn_index_free(ref);
    mn_index_free(ix);
}

/* mn_index_put_embedded stores the built-in embedder's vector of the text,
** computed in the same pass: the same answers as a put given that vector. */
void test_index__put_embedded_stores_the_builtin_vector(void) {
    mn_index *a = mn_index_new(MN_EMBED_DIM), *b = mn_index_new(MN_EMBED_DIM);
    CHECK(a && b);
    float v[MN_EMBED_DIM];
    for (size_t i = 0; i < NCORPUS; i++) {
        mn_embed_text(corpus[i], strlen(corpus[i]), v);
        CHECK_INT(mn_index_put(a, (int64_t)i + 1, corpus[i], strlen(corpus[i]), v), 0);
        CHECK_INT(mn_index_put_embedded(b, (int64_t)i + 1, corpus[i], strlen(corpus[i])), 0);
    }
    CHECK(same_answers(a, b, "puppy shoes"));
    CHECK(same_answers(a, b, "where does my sister live?"));
    const char *q = "my dog Max";
    mn_embed_text(q, strlen(q), v);
    mn_hit ha[8], hb[8];
    int na = mn_index_vector(a, v, NULL, 8, ha), nb = mn_index_vector(b, v, NULL, 8, hb);
    CHECK_INT(na, (int)NCORPUS);
    CHECK_INT(nb, na);
    for (int i = 0; i < na; i++) {
        CHECK_INT(hb[i].rowid, ha[i].rowid);
        CHECK(hb[i].score == ha[i].score);
    }
    CHECK(fabs(mn_index_similarity(b, 1, 4) - mn_index_similarity(a, 1, 4)) < 1e-6);
    mn_index_free(a);
    mn_index_free(b);
    /* An index of another width gets no vector from it. */
    mn_index *c = mn_index_new(DIM);
    CHECK(c);
    CHECK_INT(mn_index_put_embedded(c, 1, corpus[0], strlen(corpus[0])), 0);
    CHECK_INT(mn_index_vector(c, (float[DIM]){1}, NULL, 8, ha), 0);
    CHECK_INT(bm25(c, "puppy", 8, ha), 1);
    mn_index_free(c);
}

/* mn_index_reserve sizes the per-document arrays once; what the index
** answers does not change, and it refuses more than 2^24 documents. */
void test_index__reserve_makes_room_once(void) {
    mn_index *a = mn_index_new(DIM), *b = mn_index_new(DIM);
    CHECK(a && b);
    CHECK_INT(mn_index_reserve(b, 1000), 0);
    size_t reserved = mn_index_bytes(b);
    CHECK(reserved >= 1000 * (DIM + 8));
    CHECK_INT(mn_index_reserve(b, 10), 0); /* never shrinks */
    CHECK(mn_index_bytes(b) == reserved);
    char text[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(text, sizeof text, "note %d about %s", i, corpus[i % NCORPUS]);
        CHECK_INT(put(a, i + 1, text), 0);
        CHECK_INT(put(b, i + 1, text), 0);
    }
    CHECK(same_answers(a, b, "golden retriever puppy"));
    CHECK(same_answers(a, b, "Lisbon architect"));
    CHECK_INT(mn_index_reserve(b, (size_t)1 << 25), -1);
    CHECK_INT((int)mn_index_count(b), 1000);
    /* A word repeated past the clamp (255) still counts, and most. */
    static char many[4000];
    size_t n = 0;
    for (int i = 0; i < 300 && n + 8 < sizeof many; i++) n += (size_t)snprintf(many + n, sizeof many - n, "heron ");
    CHECK_INT(mn_index_put(b, 5000, many, n, NULL), 0);
    mn_hit h[4];
    CHECK(bm25(b, "heron", 4, h) >= 2);
    CHECK_INT(h[0].rowid, 5000);
    mn_index_free(a);
    mn_index_free(b);
}
