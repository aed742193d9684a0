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
                                 const float *vec);
MN_FUNC void mn_recall_index_remove(mnemo *db, int64_t rowid);
MN_FUNC void mn_recall_index_drop(mnemo *db);
/* Makes sure the index reflects the database (built or rebuilt as needed). */
MN_FUNC int mn_recall_index_sync(mnemo *db);

#endif
