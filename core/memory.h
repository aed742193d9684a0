/*
** memory.h: one memory row: writing it (with its full-text row, vector and
** history) and reading it back as JSON.
*/
#ifndef MN_MEMORY_H
#define MN_MEMORY_H

#include "bank.h"

#define MN_NO_TIME INT64_MIN

typedef struct mn_memory {
    char id[37];
    const char *text;
    size_t len;
    const char *kind;        /* NULL: "fact" */
    const char *topics;      /* JSON array text; NULL: [] */
    const char *tags;        /* JSON array text; NULL: [] */
    const char *metadata;    /* JSON object text; NULL: {} */
    const char *document_id; /* may be NULL */
    const char *source;      /* may be NULL */
    double confidence;
    int64_t occurred_at;     /* MN_NO_TIME when unknown */
    int64_t created_at;      /* MN_NO_TIME: now */
    int64_t updated_at;      /* MN_NO_TIME: created_at */
    int64_t valid_from;      /* MN_NO_TIME: occurred_at, else created_at */
    int64_t valid_to;        /* MN_NO_TIME: still valid */
    const char *superseded_by;
    const char *prompt_version; /* the prompt that extracted it; NULL: given */
    int64_t pending_id;      /* its input waits in `pending`; 0: none */
    const char *reason;      /* for its ADD history event; may be NULL */
    char hash[17];
} mn_memory;

/* The columns every reader selects, in the order mn_memory_json expects. */
#define MN_MEMORY_COLS                                                          \
    "m.rowid, m.id, m.text, m.kind, m.topics, m.tags, m.metadata, "            \
    "m.document_id, m.source, m.confidence, m.occurred_at, m.created_at, "     \
    "m.updated_at, m.valid_from, m.valid_to, m.superseded_by, m.hash, "         \
    "m.prompt_version"

/* Inserts m (id must be set), its vector (if vec) and an ADD history event
** (unless quiet, for imports that bring their own history), but not its FTS
** row: see mn_memory_fts_add. Runs inside the caller's transaction. *rowid
** receives the new rowid. */
MN_FUNC int mn_memory_insert(mnemo *db, const mn_memory *m, const float *vec,
                             int quiet, int64_t *rowid);

/* Adds the full-text rows of memories first..last, in one statement. FTS5
** flushes its pending terms at every statement savepoint, so rows added one
** by one between other inserts each become a segment to merge: writing them
** together after the batch made ingest 1.6x faster. Both are no-ops unless
** the bank keeps an FTS5 table (open option "fts5"). */
MN_FUNC int mn_memory_fts_add(mnemo *db, int64_t first, int64_t last);

/* Removes a memory's full-text row; call before its text changes or goes. */
MN_FUNC int mn_memory_fts_remove(mnemo *db, int64_t rowid);

/* Deletes a memory by rowid with its FTS row, vector and links, recording a
** DELETE history event with `reason`. Inside the caller's transaction. */
MN_FUNC int mn_memory_delete(mnemo *db, int64_t rowid, const char *reason);

/* Appends the memory in the current row of st (selected with MN_MEMORY_COLS
** starting at column `col`) as a JSON object. */
MN_FUNC void mn_memory_json(sqlite3_stmt *st, int col, mn_sb *out);

/* Appends a history event. old/new are JSON texts or NULL. */
MN_FUNC int mn_memory_history(mnemo *db, const char *memory_id, const char *event,
                              const char *old_json, const char *new_json,
                              const char *document_id, const char *reason);

/* A version of a memory as history shows it: {"text","metadata","topics",
** "tags","kind","occurred_at","prompt_version"}. Caller frees (mn_free);
** NULL with the bank's message set when out of memory or absent. */
MN_FUNC char *mn_memory_snapshot(mnemo *db, int64_t rowid);

/* Looks up a memory by id: *rowid, or MNEMO_ENOTFOUND with a message. */
MN_FUNC int mn_memory_find(mnemo *db, const char *id, int64_t *rowid);

/* Appends an epoch-ms column as an ISO string, or null. */
MN_FUNC void mn_memory_time_json(mn_sb *out, sqlite3_stmt *st, int col);

#endif
