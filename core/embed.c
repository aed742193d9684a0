/*
** embed.c: the built-in embedder ("mnemo-hash-v1") and the vector kernels.
**
** The embedder needs no model weights and no network. It maps a text to
** MN_EMBED_DIM dims by signed feature hashing of three kinds of features,
** taken from the shared tokenizer so the embedder and the lexical index agree
** on what a word is:
**
**   - each stemmed non-stop word, weight 1.0;
**   - each unordered pair of consecutive non-stop words within a sentence
**     (stop words between them are skipped), weight 0.5: co-occurrence such
**     as "dark mode", whichever order the words come in;
**   - the byte trigrams of each non-stop word with boundary markers
**     ("^pr", "pre", ..., "er$"), each weighted 0.3 / sqrt(k) for a word of k
**     trigrams, so that every word's trigram block has L2 norm 0.3 whatever
**     its length: long words do not dominate, and related forms the stemmer
**     misses ("editor", "editing") still land close.
**
** A feature's 64-bit hash picks its dim from the low bits and its sign from
** the top bit, so collisions cancel on average instead of piling up.
**
** Term frequency is sub-linear, 1 + ln(tf), applied per FEATURE rather than
** per dim: a compression per dim (say a signed square root after linear
** accumulation) would also bend the fixed 1.0 / 0.5 / 0.3 ratios between
** feature kinds and mix colliding features before compressing them. So
** features are counted first in a small open-addressing table on the stack
** (no allocation); a feature seen tf times adds mean_weight * (1 + ln tf).
** 1 + ln(tf) comes from a table of constants (libm's log may differ in the
** last bit between hosts) and saturates at tf = 64. A text with more distinct
** features than the table holds is counted in consecutive chunks, which only
** makes tf per chunk for very long texts.
**
** Determinism, so native and wasm builds give bit-identical vectors:
**   - features are added in text order and emitted in first-seen order;
**   - the accumulator is double and every product added to it is of two
**     floats, hence exact in double: a compiler fusing the multiply-add into
**     an FMA (or not) cannot change the result;
**   - normalisation is a scalar loop whose squares are again float*float in
**     double (exact), and only basic IEEE operations (+ * / sqrt) are used.
** (Builds must not use -ffast-math, which would let the compiler reorder.)
*/
#include <math.h>
#include <string.h>

#include "embed.h"
#include "token.h"

#if defined(__AVX2__) || defined(__SSE2__) || defined(_M_X64) ||             \
    (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#define MN_I8_SSE2 1
#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE4_1__)
#include <smmintrin.h>
#else
#include <emmintrin.h>
#endif
#elif defined(__ARM_NEON) || defined(__ARM_NEON__)
#define MN_I8_NEON 1
#include <arm_neon.h>
#elif defined(__wasm_simd128__)
#define MN_I8_WASM 1
#include <wasm_simd128.h>
#endif

/* ---- feature hashing ---------------------------------------------------- */

#define TF_MAX 64

#define SEED_WORD 0x9e3779b97f4a7c15ull
#define SEED_PAIR 0xc2b2ae3d27d4eb4full
#define SEED_TRI 0x165667b19e3779f9ull

#define W_WORD 1.0f
#define W_PAIR 0.5f
#define W_TRI 0.3f

/* 1 + ln(tf) for tf = 1..64, as constants: bit-identical on every host. */
static const float tf_weight[TF_MAX] = {
    1.0f,        1.69314718f, 2.09861229f, 2.38629436f, 2.60943791f,
    2.79175947f, 2.94591015f, 3.07944154f, 3.19722458f, 3.30258509f,
    3.39789527f, 3.48490665f, 3.56494936f, 3.63905733f, 3.7080502f,
    3.77258872f, 3.83321334f, 3.89037176f, 3.94443898f, 3.99573227f,
    4.04452244f, 4.09104245f, 4.13549422f, 4.17805383f, 4.21887582f,
    4.25809654f, 4.29583687f, 4.33220451f, 4.36729583f, 4.40119738f,
    4.4339872f,  4.4657359f,  4.49650756f, 4.52636052f, 4.55534806f,
    4.58351894f, 4.61091791f, 4.63758616f, 4.66356165f, 4.68887945f,
    4.71357207f, 4.73766962f, 4.76120012f, 4.78418963f, 4.80666249f,
    4.8286414f,  4.8501476f,  4.87120101f, 4.8918203f,  4.91202301f,
    4.93182563f, 4.95124372f, 4.97029191f, 4.98898405f, 5.00733319f,
    5.02535169f, 5.04305127f, 5.06044301f, 5.07753744f, 5.09434456f,
    5.11087386f, 5.12713439f, 5.14313473f, 5.15888308f,
};

/* splitmix64's finaliser: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t z) {
    z ^= z >> 30;
    z *= 0xbf58476d1ce4e5b9ull;
    z ^= z >> 27;
    z *= 0x94d049bb133111ebull;
    z ^= z >> 31;
    return z;
}

static void ft_flush(mn_embed_ctx *c) {
    for (uint32_t i = 0; i < c->used; i++) {
        uint32_t s = c->order[i];
        uint64_t key = c->key[s];
        uint32_t tf = c->count[s];
        float mean = tf == 1 ? c->wsum[s] : c->wsum[s] / (float)tf;
        float tfw = tf_weight[(tf < TF_MAX ? tf : TF_MAX) - 1];
        double w = (double)mean * (double)tfw; /* exact */
        size_t dim = (size_t)(key & (MN_EMBED_DIM - 1));
        if (key >> 63)
            c->acc[dim] -= w;
        else
            c->acc[dim] += w;
        c->key[s] = 0;
    }
    c->used = 0;
}

static void ft_add(mn_embed_ctx *c, uint64_t key, float w) {
    if (!key) key = 1;
    uint32_t s = (uint32_t)(key >> 32) & (MN_EMBED_SLOTS - 1);
    while (c->key[s] && c->key[s] != key) s = (s + 1) & (MN_EMBED_SLOTS - 1);
    if (c->key[s]) {
        c->wsum[s] += w;
        c->count[s]++;
        return;
    }
    c->key[s] = key;
    c->wsum[s] = w;
    c->count[s] = 1;
    c->order[c->used++] = (uint16_t)s;
    if (c->used == MN_EMBED_MAX) ft_flush(c);
}

void mn_embed_add(mn_embed_ctx *c, const char *term, size_t len, uint64_t h,
                  int flags) {
    const unsigned char *t = (const unsigned char *)term;
    if (flags & MN_TOK_SENTENCE_START) c->has_prev = 0;
    if ((flags & MN_TOK_STOP) || len == 0) return;

    ft_add(c, mix64(h ^ SEED_WORD), W_WORD);

    if (c->has_prev) {
        uint64_t lo = c->prev < h ? c->prev : h, hi = c->prev < h ? h : c->prev;
        ft_add(c, mix64(mix64(lo ^ SEED_PAIR) ^ hi), W_PAIR);
    }
    c->prev = h;
    c->has_prev = 1;

    /* Trigrams of "^" term "$"; '^' and '$' never occur inside a word, so
    ** packing the three bytes is already a perfect hash. */
    float wt = W_TRI / sqrtf((float)len);
    for (size_t i = 0; i < len; i++) {
        uint64_t b0 = i == 0 ? '^' : t[i - 1];
        uint64_t b1 = t[i];
        uint64_t b2 = i + 1 == len ? '$' : t[i + 1];
        ft_add(c, mix64(((b0 << 16) | (b1 << 8) | b2) ^ SEED_TRI), wt);
    }
}

static void on_word(void *ctx, const char *term, size_t len, uint32_t pos,
                    int flags) {
    (void)pos;
    mn_embed_add(ctx, term, len, (flags & MN_TOK_STOP) ? 0 : mn_token_hash(term, len), flags);
}

void mn_embed_begin(mn_embed_ctx *c) {
    memset(c->key, 0, sizeof c->key);
    memset(c->acc, 0, sizeof c->acc);
    c->used = 0;
    c->prev = 0;
    c->has_prev = 0;
}

void mn_embed_end(mn_embed_ctx *c, float *out) {
    ft_flush(c);
    for (size_t i = 0; i < MN_EMBED_DIM; i++) out[i] = (float)c->acc[i];
    mn_vec_normalize(out, MN_EMBED_DIM);
}

void mn_embed_text(const char *text, size_t len, float *out) {
    mn_embed_ctx c;
    mn_embed_begin(&c);
    if (text && len) mn_token_each(text, len, on_word, &c);
    mn_embed_end(&c, out);
}

/* ---- float kernels ------------------------------------------------------ */

float mn_vec_dot(const float *a, const float *b, size_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* Scalar on purpose, and in double: each square of a float is exact in
** double, so the sum is the same with or without FMA contraction, and the
** compiler may not vectorise (reorder) a floating-point reduction without
** -ffast-math. Native and wasm builds thus agree to the bit. */
void mn_vec_normalize(float *v, size_t n) {
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)v[i] * (double)v[i];
    if (!(ss > 0)) return;
    double inv = 1.0 / sqrt(ss);
    for (size_t i = 0; i < n; i++) v[i] = (float)((double)v[i] * inv);
}

float mn_vec_quantize(const float *v, size_t n, int8_t *q) {
    float max = 0;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(v[i]);
        if (a > max) max = a;
    }
    if (!(max > 0) || !isfinite(max)) {
        memset(q, 0, n);
        return 0;
    }
    float scale = max / 127.0f;
    for (size_t i = 0; i < n; i++) {
        float x = roundf(v[i] / scale); /* nearest, halves away from zero */
        if (!(x == x)) x = 0;           /* NaN */
        if (x > 127) x = 127;
        if (x < -127) x = -127;
        q[i] = (int8_t)x;
    }
    return scale;
}

/* ---- int8 dot product --------------------------------------------------- */

/* The reference, and the tail of every SIMD path. Sums in uint32 so that even
** an overflowing n (beyond 131072 dims of -128 * -128) wraps exactly as the
** SIMD int32 lanes do, instead of being undefined. */
static uint32_t dot_i8_tail(const int8_t *a, const int8_t *b, size_t i,
                            size_t n) {
    uint32_t s = 0;
    for (; i < n; i++) s += (uint32_t)((int32_t)a[i] * (int32_t)b[i]);
    return s;
}

#ifdef MNEMO_TEST
int32_t mn_vec_dot_i8_scalar(const int8_t *a, const int8_t *b, size_t n) {
    return (int32_t)dot_i8_tail(a, b, 0, n);
}
#endif

#ifdef MN_I8_SSE2
/* 16 int8 of a and b: sign-extend to int16 and multiply-add pairs to int32.
** A pair sums to at most 2 * 128 * 128 = 32768, exact in the int32 lane. */
static __m128i dot16_sse(__m128i acc, const int8_t *a, const int8_t *b) {
    __m128i va = _mm_loadu_si128((const __m128i *)(const void *)a);
    __m128i vb = _mm_loadu_si128((const __m128i *)(const void *)b);
#if defined(__SSE4_1__) || defined(__AVX2__)
    __m128i alo = _mm_cvtepi8_epi16(va), blo = _mm_cvtepi8_epi16(vb);
    __m128i ahi = _mm_cvtepi8_epi16(_mm_srli_si128(va, 8));
    __m128i bhi = _mm_cvtepi8_epi16(_mm_srli_si128(vb, 8));
#else
    /* Each byte doubled into a 16-bit lane, then shifted down arithmetically:
    ** SSE2's sign extension. */
    __m128i alo = _mm_srai_epi16(_mm_unpacklo_epi8(va, va), 8);
    __m128i blo = _mm_srai_epi16(_mm_unpacklo_epi8(vb, vb), 8);
    __m128i ahi = _mm_srai_epi16(_mm_unpackhi_epi8(va, va), 8);
    __m128i bhi = _mm_srai_epi16(_mm_unpackhi_epi8(vb, vb), 8);
#endif
    acc = _mm_add_epi32(acc, _mm_madd_epi16(alo, blo));
    return _mm_add_epi32(acc, _mm_madd_epi16(ahi, bhi));
}
#endif

int32_t mn_vec_dot_i8(const int8_t *a, const int8_t *b, size_t n) {
    size_t i = 0;
    uint32_t sum = 0;
#if defined(MN_I8_SSE2)
    __m128i acc = _mm_setzero_si128();
#if defined(__AVX2__)
    __m256i acc8 = _mm256_setzero_si256();
    for (; i + 32 <= n; i += 32) {
        const __m128i *pa = (const __m128i *)(const void *)(a + i);
        const __m128i *pb = (const __m128i *)(const void *)(b + i);
        __m256i a0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(pa));
        __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(pb));
        __m256i a1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(pa + 1));
        __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(pb + 1));
        acc8 = _mm256_add_epi32(acc8, _mm256_madd_epi16(a0, b0));
        acc8 = _mm256_add_epi32(acc8, _mm256_madd_epi16(a1, b1));
    }
    acc = _mm_add_epi32(_mm256_castsi256_si128(acc8),
                        _mm256_extracti128_si256(acc8, 1));
#endif
    for (; i + 16 <= n; i += 16) acc = dot16_sse(acc, a + i, b + i);
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4E));
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xB1));
    sum = (uint32_t)_mm_cvtsi128_si32(acc);
#elif defined(MN_I8_NEON)
    int32x4_t acc = vdupq_n_s32(0);
    for (; i + 16 <= n; i += 16) {
        int8x16_t va = vld1q_s8(a + i), vb = vld1q_s8(b + i);
#if defined(__ARM_FEATURE_DOTPROD)
        acc = vdotq_s32(acc, va, vb);
#else
        /* int8 * int8 fits int16 (even -128 * -128 = 16384); pairwise add
        ** into the int32 accumulator. */
        acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(va), vget_low_s8(vb)));
        acc = vpadalq_s16(acc, vmull_s8(vget_high_s8(va), vget_high_s8(vb)));
#endif
    }
#if defined(__aarch64__)
    sum = (uint32_t)vaddvq_s32(acc);
#else
    sum = (uint32_t)vgetq_lane_s32(acc, 0) + (uint32_t)vgetq_lane_s32(acc, 1) +
          (uint32_t)vgetq_lane_s32(acc, 2) + (uint32_t)vgetq_lane_s32(acc, 3);
#endif
#elif defined(MN_I8_WASM)
    v128_t acc = wasm_i32x4_splat(0);
    for (; i + 16 <= n; i += 16) {
        v128_t va = wasm_v128_load(a + i), vb = wasm_v128_load(b + i);
        acc = wasm_i32x4_add(
            acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(va),
                                      wasm_i16x8_extend_low_i8x16(vb)));
        acc = wasm_i32x4_add(
            acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(va),
                                      wasm_i16x8_extend_high_i8x16(vb)));
    }
    sum = (uint32_t)wasm_i32x4_extract_lane(acc, 0) +
          (uint32_t)wasm_i32x4_extract_lane(acc, 1) +
          (uint32_t)wasm_i32x4_extract_lane(acc, 2) +
          (uint32_t)wasm_i32x4_extract_lane(acc, 3);
#endif
    sum += dot_i8_tail(a, b, i, n);
    return (int32_t)sum;
}
