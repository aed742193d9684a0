#include "test.h"
#include "embed.h"
#include "token.h"

#include <math.h>

/* Prototypes, for -Wmissing-prototypes (the runner declares them itself). */
void test_embed__is_deterministic(void);
void test_embed__is_unit_length(void);
void test_embed__similar_texts_score_higher(void);
void test_embed__empty_text_is_zero(void);
void test_embed__dot_i8_matches_scalar(void);
void test_embed__quantize_round_trips_within_tolerance(void);
void test_embed__dot_i8_handles_extremes(void);
void test_embed__fed_word_by_word_gives_the_same_vector(void);

static uint32_t rng_state;

static uint32_t rng(void) { /* xorshift32: the same data on every host */
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* Lower-case words of min_len..min_len+8 letters from seed, one in `period`
** ending a sentence; NUL-terminated in buf[cap]. Returns the length. */
static size_t random_words(char *buf, size_t cap, uint32_t seed, int min_len, int period) {
    size_t len = 0;
    rng_state = seed;
    while (len + 12 < cap) {
        int wl = min_len + (int)(rng() % 9);
        for (int i = 0; i < wl; i++) buf[len++] = (char)('a' + rng() % 26);
        buf[len++] = (rng() % (uint32_t)period) ? ' ' : '.';
    }
    buf[len] = 0;
    return len;
}

static void embed_str(const char *s, float *out) {
    mn_embed_text(s, strlen(s), out);
}

static float sq_norm(const float *v) {
    double s = 0;
    for (size_t i = 0; i < MN_EMBED_DIM; i++) s += (double)v[i] * v[i];
    return (float)s;
}

static const char *sample_texts[] = {
    "I prefer dark mode in my editor",
    "which editor theme do I like, dark or light?",
    "My sister lives in Berlin",
    "The user's preferences: running shoes, size 44; cities visited: Paris, "
    "Rome, Tokyo. Deadline 2024-05-20.",
    "x",
    "Über Straße 東京 タワー café",
    "dark dark dark dark dark dark dark dark dark dark mode",
};

void test_embed__is_deterministic(void) {
    float a[MN_EMBED_DIM], b[MN_EMBED_DIM];
    for (size_t t = 0; t < sizeof sample_texts / sizeof *sample_texts; t++) {
        embed_str(sample_texts[t], a);
        embed_str(sample_texts[t], b);
        CHECK(memcmp(a, b, sizeof a) == 0);
    }
    /* A long text (more distinct features than one counting chunk) too. */
    static char big[20000];
    size_t len = random_words(big, sizeof big, 12345, 2, 10);
    mn_embed_text(big, len, a);
    mn_embed_text(big, len, b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(fabsf(sq_norm(a) - 1.0f) < 1e-5f);
}

void test_embed__is_unit_length(void) {
    float v[MN_EMBED_DIM];
    for (size_t t = 0; t < sizeof sample_texts / sizeof *sample_texts; t++) {
        embed_str(sample_texts[t], v);
        CHECK(fabsf(sq_norm(v) - 1.0f) < 1e-5f);
        for (size_t i = 0; i < MN_EMBED_DIM; i++) CHECK(isfinite(v[i]));
    }
}

void test_embed__similar_texts_score_higher(void) {
    float pref[MN_EMBED_DIM], query[MN_EMBED_DIM], other[MN_EMBED_DIM];
    embed_str("I prefer dark mode in my editor", pref);
    embed_str("which editor theme do I like, dark or light?", query);
    embed_str("My sister lives in Berlin", other);
    float near = mn_vec_dot(pref, query, MN_EMBED_DIM);
    float far = mn_vec_dot(other, query, MN_EMBED_DIM);
    float far2 = mn_vec_dot(pref, other, MN_EMBED_DIM);
    CHECK(near > far + 0.1f);
    CHECK(near > far2 + 0.1f);
    /* A text is most similar to itself, and word forms meet via the stemmer
    ** and trigrams. */
    CHECK(fabsf(mn_vec_dot(pref, pref, MN_EMBED_DIM) - 1.0f) < 1e-5f);
    float a[MN_EMBED_DIM], b[MN_EMBED_DIM];
    embed_str("she runs marathons in Berlin", a);
    embed_str("marathon running", b);
    CHECK(mn_vec_dot(a, b, MN_EMBED_DIM) > mn_vec_dot(b, other, MN_EMBED_DIM));
}

void test_embed__empty_text_is_zero(void) {
    float v[MN_EMBED_DIM];
    const char *empties[] = {"", "   ", "?!, -- ...", "the", "I and the of"};
    for (size_t t = 0; t < sizeof empties / sizeof *empties; t++) {
        memset(v, 0x7f, sizeof v);
        embed_str(empties[t], v);
        for (size_t i = 0; i < MN_EMBED_DIM; i++) CHECK(v[i] == 0.0f);
    }
    memset(v, 0x7f, sizeof v);
    mn_embed_text(NULL, 0, v);
    for (size_t i = 0; i < MN_EMBED_DIM; i++) CHECK(v[i] == 0.0f);
}

void test_embed__dot_i8_matches_scalar(void) {
    static int8_t a[320], b[320];
    rng_state = 2463534242u;
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < sizeof a; i++) {
            a[i] = (int8_t)(rng() & 0xff);
            b[i] = (int8_t)(rng() & 0xff);
        }
        for (size_t n = 0; n <= 300; n++) {
            /* Unaligned starts too: the SIMD loads must not assume alignment. */
            size_t off = (size_t)round % 17;
            CHECK_INT(mn_vec_dot_i8(a + off, b + off, n),
                      mn_vec_dot_i8_scalar(a + off, b + off, n));
            long long want = 0;
            for (size_t i = 0; i < n; i++)
                want += (long long)a[off + i] * b[off + i];
            CHECK_INT(mn_vec_dot_i8(a + off, b + off, n), want);
        }
    }
}

void test_embed__quantize_round_trips_within_tolerance(void) {
    float v[MN_EMBED_DIM], w[MN_EMBED_DIM];
    int8_t qv[MN_EMBED_DIM], qw[MN_EMBED_DIM];
    rng_state = 99;
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < MN_EMBED_DIM; i++) {
            v[i] = (float)((int32_t)(rng() % 20001) - 10000) / 10000.0f;
            w[i] = (float)((int32_t)(rng() % 20001) - 10000) / 10000.0f;
        }
        mn_vec_normalize(v, MN_EMBED_DIM);
        mn_vec_normalize(w, MN_EMBED_DIM);
        CHECK(fabsf(mn_vec_dot(v, v, MN_EMBED_DIM) - 1.0f) < 1e-5f);
        float sv = mn_vec_quantize(v, MN_EMBED_DIM, qv);
        float sw = mn_vec_quantize(w, MN_EMBED_DIM, qw);
        CHECK(sv > 0 && sw > 0);
        int saw_max = 0;
        for (size_t i = 0; i < MN_EMBED_DIM; i++) {
            CHECK(qv[i] >= -127 && qv[i] <= 127);
            if (qv[i] == 127 || qv[i] == -127) saw_max = 1;
            CHECK(fabsf((float)qv[i] * sv - v[i]) <= sv * 0.5f + 1e-6f);
        }
        CHECK(saw_max);
        float exact = mn_vec_dot(v, w, MN_EMBED_DIM);
        float approx = (float)mn_vec_dot_i8(qv, qw, MN_EMBED_DIM) * sv * sw;
        CHECK(fabsf(exact - approx) < 0.02f);
    }
    /* Round to nearest, and a zero vector quantizes to zeros with scale 0. */
    float r[4] = {1.0f, -0.3f, 0.504f, 0.496f};
    int8_t q[4];
    float s = mn_vec_quantize(r, 4, q);
    CHECK(fabsf(s - 1.0f / 127.0f) < 1e-9f);
    CHECK_INT(q[0], 127);
    CHECK_INT(q[1], -38); /* -38.1 */
    CHECK_INT(q[2], 64);
    CHECK_INT(q[3], 63);
    float z[8] = {0};
    int8_t qz[8];
    memset(qz, 5, sizeof qz);
    CHECK(mn_vec_quantize(z, 8, qz) == 0.0f);
    for (int i = 0; i < 8; i++) CHECK_INT(qz[i], 0);
    mn_vec_normalize(z, 8); /* no-op, no NaN */
    for (int i = 0; i < 8; i++) CHECK(z[i] == 0.0f);
}

void test_embed__dot_i8_handles_extremes(void) {
    static int8_t a[300], b[300];
    static const int8_t vals[][2] = {
        {-128, -128}, {-127, -127}, {127, 127}, {-128, 127}, {127, -127}};
    for (size_t k = 0; k < sizeof vals / sizeof *vals; k++) {
        memset(a, (unsigned char)vals[k][0], sizeof a);
        memset(b, (unsigned char)vals[k][1], sizeof b);
        for (size_t n = 0; n <= 300; n += (n < 40 ? 1 : 13)) {
            long long want = (long long)n * vals[k][0] * vals[k][1];
            CHECK_INT(mn_vec_dot_i8(a, b, n), want);
            CHECK_INT(mn_vec_dot_i8_scalar(a, b, n), want);
        }
    }
    /* Alternating extremes, so that madd pairs reach +32768. */
    for (size_t i = 0; i < 300; i++) {
        a[i] = (i & 1) ? -128 : 127;
        b[i] = (i & 2) ? -128 : 127;
    }
    for (size_t n = 0; n <= 300; n++)
        CHECK_INT(mn_vec_dot_i8(a, b, n), mn_vec_dot_i8_scalar(a, b, n));
}

static void feed(void *ctx, const char *term, size_t len, uint32_t pos, int flags) {
    (void)pos;
    mn_embed_add(ctx, term, len, mn_token_hash(term, len), flags);
}

/* The recall index embeds while it tokenizes (mn_embed_begin/add/end): it
** must store exactly the vector mn_embed_text gives, bit for bit. */
void test_embed__fed_word_by_word_gives_the_same_vector(void) {
    static char big[20000]; /* past one counting chunk, with sentences */
    random_words(big, sizeof big, 777, 1, 8);
    float a[MN_EMBED_DIM], b[MN_EMBED_DIM];
    mn_embed_ctx c;
    for (size_t t = 0; t <= sizeof sample_texts / sizeof *sample_texts; t++) {
        const char *s = t < sizeof sample_texts / sizeof *sample_texts ? sample_texts[t] : big;
        mn_embed_text(s, strlen(s), a);
        mn_embed_begin(&c);
        mn_token_each(s, strlen(s), feed, &c);
        mn_embed_end(&c, b);
        CHECK(memcmp(a, b, sizeof a) == 0);
    }
    /* Stop words fed with any hash change nothing: they only end pairs. */
    const char *q = "the dark mode. and the editor";
    mn_embed_text(q, strlen(q), a);
    mn_embed_begin(&c);
    mn_token_each(q, strlen(q), feed, &c);
    mn_embed_end(&c, b);
    CHECK(memcmp(a, b, sizeof a) == 0);
}
