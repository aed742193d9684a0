/*
** recall.h: the ranking of memories for a query, and the bank's in-memory
** recall index that the write paths keep in step.
*/
#ifndef MN_RECALL_H
#define MN_RECALL_H

#include "bank.h"

/* Keep the recall index (if built) in step with a write. Called inside the
** writer's transaction; a failed transaction calls mn_recall_index_drop so
** the index is rebuilt from the truth on the next recall. */
MN_FUNC void mn_recall_index_put(mnemo *db, int64_t rowid, const char *text, size_t len,
                                 const char *topics, const float *vec);
/* The same for a row as stored (text and topics read back). */
MN_FUNC void mn_recall_index_put_row(mnemo *db, int64_t rowid, const float *vec);
MN_FUNC void mn_recall_index_remove(mnemo *db, int64_t rowid);
MN_FUNC void mn_recall_index_drop(mnemo *db);
/* Makes sure the index reflects the database (built or rebuilt as needed). */
MN_FUNC int mn_recall_index_sync(mnemo *db);
/* Builds up to max more rows of the index (see mnemo_warm); *done = 1 once
** it is complete. */
MN_FUNC int mn_recall_index_warm(mnemo *db, int max, int *done);

/* Brings ix, an index of some earlier state of this bank, up to date with
** the bank as it is now: puts again each memory whose text or vector is not
** what ix holds, and removes those that are gone. *changed counts both. */
MN_FUNC int mn_recall_index_catch_up(mnemo *db, struct mn_index *ix, int64_t *changed);

/* Makes ix (complete, for the bank as it is now) the bank's index; the
** bank owns it on success. */
MN_FUNC int mn_recall_index_adopt(mnemo *db, struct mn_index *ix);

/* What the index reads of a memory: its text, then its topics (a JSON
** array, or NULL) on a line of their own, so that "User uses Python" with
** topic "programming language" answers "which language?". Written to out. */
MN_FUNC void mn_recall_index_text(const char *text, size_t len, const char *topics, mn_sb *out);

/* The valid memories most related to a text, best first, for extraction
** candidates: BM25, keyword overlap and (built-in embedder only: a host
** model would cost a request) vector similarity, fused as recall does.
** Up to `k` rowids into out; *n receives how many. */
MN_FUNC int mn_recall_related(mnemo *db, const char *text, size_t len, int k, int64_t *out,
                              int *n);

#endif
