/*
** vectors.h: vectors for texts, from the built-in embedder at once or from
** the host's embeddings endpoint through the job (OpenAI-compatible bodies).
*/
#ifndef MN_VECTORS_H
#define MN_VECTORS_H

#include "job.h"

/* Hands done() n * db->embed_dim floats (unit length; owned by the job,
** valid during the call), or NULL with a reason when the host could not give
** them, so the caller stores or recalls without vectors and loses nothing.
** texts/lens must stay valid until done() runs. Requests carry at most
** MN_VECTORS_BATCH inputs each. */
#define MN_VECTORS_BATCH 256
MN_FUNC void mn_vectors_start(mnemo_job *job, const char *const *texts,
                              const size_t *lens, int n,
                              void (*done)(mnemo_job *job, float *vecs, const char *why));

/* Stores/loads a vector blob (float32, little-endian as on every target). */
MN_FUNC int mn_vectors_store(mnemo *db, int64_t rowid, const float *vec);

#endif
