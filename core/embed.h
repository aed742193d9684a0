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
