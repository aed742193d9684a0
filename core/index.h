/*
** index.h: the in-memory recall index of one bank: an inverted index for
** BM25 and keyword overlap, and a quantized vector store for exact scans.
** PEERS measured a FTS5 OR-query of a whole question at 24 ms for 10k rows;
** Mnemo's target is 0.5 ms for a whole recall, so the hot path is here and
** SQLite stays the durable truth the index is built from.
**
** Documents are addressed by the bank's memory rowid. Put/remove are O(words);
** removals leave tombstones that are compacted when they pass a quarter of
** the postings.
*/
#ifndef MN_INDEX_H
#define MN_INDEX_H

#include "common.h"

typedef struct mn_index mn_index;

typedef struct mn_hit {
    int64_t rowid;
    float score;      /* the signal's score (bm25, cosine, overlap count, ...) */
} mn_hit;

/* Restricts a search to the given rowids (sorted ascending), or to all when
** NULL. Built once per recall from the filter's SQL. */
typedef struct mn_allow {
    const int64_t *rowids;
    size_t n;
} mn_allow;

/* A new empty index for vectors of `dim` dims. NULL when out of memory. */
MN_FUNC mn_index *mn_index_new(int dim);
MN_FUNC void mn_index_free(mn_index *ix);

/* Makes room for `docs` documents in all, so an index built from a table of
** known size grows its per-document arrays once, not by doubling (whose
** peak holds old and new at once). Returns 0, or -1 when out of memory.
** An index holds at most 16,777,216 documents (its postings pack a document
** in 24 bits); puts past that fail as out of memory. */
MN_FUNC int mn_index_reserve(mn_index *ix, size_t docs);

/* Adds or replaces a document. `vec` (dim floats, unit length) may be NULL
** (no vector yet). Returns 0, or -1 when out of memory (index unchanged). */
MN_FUNC int mn_index_put(mn_index *ix, int64_t rowid, const char *text,
                         size_t len, const float *vec);
/* As mn_index_put, with the built-in embedder's vector (embed.h), computed
** in the same tokenizer pass; for an index of MN_EMBED_DIM dims (any other
** gets no vector). */
MN_FUNC int mn_index_put_embedded(mn_index *ix, int64_t rowid,
                                  const char *text, size_t len);
/* 1 if rowid is indexed from exactly this text and vector, as put by
** mn_index_put (embedded 0) or mn_index_put_embedded (embedded 1, vec NULL);
** else 0. A hash of both is kept per document, so this reads neither. */
MN_FUNC int mn_index_has(const mn_index *ix, int64_t rowid, const char *text, size_t len,
                         const float *vec, int embedded);
/* Removes every document whose rowid is not among rowids[0..n) (sorted
** ascending). */
MN_FUNC void mn_index_keep(mn_index *ix, const int64_t *rowids, size_t n);
/* Removes a document; unknown rowids are ignored. */
MN_FUNC void mn_index_remove(mn_index *ix, int64_t rowid);
/* Live documents. */
MN_FUNC size_t mn_index_count(const mn_index *ix);

/* Top-k documents by BM25 (k1 1.2, b 0.75) of the query's words. Stop words
** are dropped unless the query has nothing else. Fills out[0..k) best first,
** returns how many. */
MN_FUNC int mn_index_bm25(mn_index *ix, const char *query, size_t len,
                          const mn_allow *allow, int k, mn_hit *out);

/* Top-k documents by how many distinct query words (non-stop) they contain,
** each word weighted by its IDF: the coordination signal, which rewards a
** memory that mentions all of the query's rare words even when BM25 prefers
** one repeated word. */
MN_FUNC int mn_index_keyword(mn_index *ix, const char *query, size_t len,
                             const mn_allow *allow, int k, mn_hit *out);

/* Top-k documents containing the given terms (already normalised, e.g. the
** query's proper names), scored by how many they contain. `terms` holds n
** NUL-terminated strings. */
MN_FUNC int mn_index_terms(mn_index *ix, const char *const *terms, int n,
                           const mn_allow *allow, int k, mn_hit *out);

/* Top-k documents by cosine similarity to q (dim floats, unit length), exact
** over every vector (int8-quantized scan). */
MN_FUNC int mn_index_vector(mn_index *ix, const float *q,
                            const mn_allow *allow, int k, mn_hit *out);

/* The cosine similarity between the vectors of two documents, or 0 when
** either has none (for diversity). */
MN_FUNC float mn_index_similarity(mn_index *ix, int64_t a, int64_t b);

/* Snapshots (snapshot.c frames them): the index as a byte stream, written
** through put(ctx, bytes, n) and read back through get(ctx, into, n), each
** returning 0 or non-zero to stop. Save compacts first, so a snapshot holds
** live documents only; the hash tables are rebuilt on load.
** Load checks every count and offset against what it read, so any byte
** string is safe to give it: -1 bad data (*ix NULL), -2 out of memory,
** -3 get failed. */
typedef int (*mn_put_fn)(void *ctx, const void *bytes, size_t n);
typedef int (*mn_get_fn)(void *ctx, void *into, size_t n);
MN_FUNC int mn_index_save(mn_index *ix, mn_put_fn out, void *ctx);
MN_FUNC int mn_index_load(int dim, mn_get_fn in, void *ctx, mn_index **ix);

/* Approximate heap bytes held, for stats. */
MN_FUNC size_t mn_index_bytes(const mn_index *ix);

#endif
