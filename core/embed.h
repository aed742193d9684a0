/*
** embed.h: the built-in embedder (no model weights, no network) and the
** vector kernels every embedder's vectors go through.
*/
#ifndef MN_EMBED_H
#define MN_EMBED_H

#include "common.h"

#define MN_EMBED_MODEL "mnemo-hash-v1"
#define MN_EMBED_DIM 256

/* Embeds text into out[MN_EMBED_DIM]: signed feature hashing of stemmed
** content words, word bigrams and character trigrams, sub-linear term
** weights, L2-normalised. Deterministic across hosts (no floating-point
** reductions that differ between SIMD widths). Empty text gives zeros. */
MN_FUNC void mn_embed_text(const char *text, size_t len, float *out);

/* The same, fed word by word, so a caller that tokenizes a text anyway (the
** recall index) embeds it in the same pass: mn_embed_begin, then
** mn_embed_add for every word mn_token_each gives (stop words included:
** they end word pairs), with h = mn_token_hash(term, len) (any value for a
** stop word), then mn_embed_end. Gives what mn_embed_text gives. The state
** is about 11 KB, meant for the stack; its fields are embed.c's. */
#define MN_EMBED_SLOTS 512 /* power of two */
#define MN_EMBED_MAX 320   /* distinct features counted before a flush */
typedef struct mn_embed_ctx {
    uint64_t key[MN_EMBED_SLOTS]; /* 0 = empty */
    float wsum[MN_EMBED_SLOTS];   /* sum of the weights of the occurrences */
    uint32_t count[MN_EMBED_SLOTS];
    uint16_t order[MN_EMBED_MAX]; /* slots in first-seen order */
    uint32_t used;
    double acc[MN_EMBED_DIM];
    uint64_t prev; /* hash of the previous non-stop word in the sentence */
    int has_prev;
} mn_embed_ctx;
MN_FUNC void mn_embed_begin(mn_embed_ctx *c);
MN_FUNC void mn_embed_add(mn_embed_ctx *c, const char *term, size_t len,
                          uint64_t h, int flags);
MN_FUNC void mn_embed_end(mn_embed_ctx *c, float *out);

/* Dot product of two float vectors of n dims. */
MN_FUNC float mn_vec_dot(const float *a, const float *b, size_t n);
/* Scales v to unit length (no-op for a zero vector). */
MN_FUNC void mn_vec_normalize(float *v, size_t n);
/* Quantizes v to int8 (symmetric, per vector): q[i] = round(v[i] / scale),
** scale = max|v| / 127. Returns scale (0 for a zero vector). */
MN_FUNC float mn_vec_quantize(const float *v, size_t n, int8_t *q);
/* Dot product of two int8 vectors, exact in int32. SIMD where available
** (SSE2/AVX2, NEON, wasm simd128), with a scalar path giving equal results. */
MN_FUNC int32_t mn_vec_dot_i8(const int8_t *a, const int8_t *b, size_t n);

#ifdef MNEMO_TEST
/* The scalar reference of mn_vec_dot_i8, to test the SIMD paths against. */
MN_FUNC int32_t mn_vec_dot_i8_scalar(const int8_t *a, const int8_t *b,
                                     size_t n);
#endif

#endif
