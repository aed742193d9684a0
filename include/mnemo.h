/*
** mnemo.h: the one public C API of Mnemo, long-term memory for LLM agents.
**
** If a function does not appear in this file, it is not a published API.
**
** OWNERSHIP, for the whole API: a `const char *` result belongs to the object
** it came from and stays valid until the next call on that object or until the
** object is freed. A `char *` result belongs to the caller, who releases it
** with mnemo_free(), never with libc free(). Every input string is copied;
** the caller may release it as soon as the call returns.
**
** ERRORS: every call that can fail returns an int code, MNEMO_OK (0) on
** success and a positive MNEMO_E* code otherwise. The message of the last
** failure on a bank is mnemo_errmsg(db). When a call that would create an
** object fails, no object exists and *out is set to NULL.
**
** THREADS: a bank handle and its jobs are used by one thread at a time. Two
** handles on the same file (two processes, two tabs) are safe: SQLite
** serialises writes, and each handle notices the other's commits.
**
** Inputs and outputs are JSON text (UTF-8). Times are ISO-8601 strings in
** UTF ("2023-05-20T02:21:00Z") on output; on input ISO-8601 with or without
** time and offset, or integer milliseconds since the epoch.
*/
#ifndef MNEMO_H
#define MNEMO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MNEMO_API __attribute__((visibility("default")))
#else
#define MNEMO_API
#endif

#define MNEMO_VERSION "0.1.0"

/*
** Result codes. One list generates the enum, mnemo_errname() and
** mnemo_errstr(). Codes are stable: new ones are only ever appended.
*/
#define MNEMO_ERRORS(X)                                                        \
    X(OK, 0, "not an error")                                                   \
    X(EINVAL, 1, "invalid argument")                                           \
    X(EJSON, 2, "malformed JSON")                                              \
    X(EUTF8, 3, "invalid UTF-8")                                               \
    X(ETOOBIG, 4, "input too large")                                           \
    X(ENOTFOUND, 5, "not found")                                               \
    X(EFILTER, 6, "invalid filter")                                            \
    X(ENOMEM, 7, "out of memory")                                              \
    X(EIO, 8, "storage I/O error")                                             \
    X(EFULL, 9, "storage full")                                                \
    X(EREADONLY, 10, "storage is read-only")                                   \
    X(ECORRUPT, 11, "database is corrupt or not a Mnemo bank")                \
    X(EBUSY, 12, "bank is locked by another writer")                           \
    X(ESCHEMA, 13, "bank was written by a newer Mnemo")                        \
    X(EMISUSE, 14, "API used out of order")                                    \
    X(EHOST, 15, "host request failed")                                        \
    X(EINTERNAL, 16, "internal error")

enum {
#define MNEMO_ENUM_(name, code, text) MNEMO_##name = code,
    MNEMO_ERRORS(MNEMO_ENUM_)
#undef MNEMO_ENUM_
};

/* Limits on hostile input. Each may be overridden at build time. */
#ifndef MNEMO_MAX_INPUT_BYTES
/* One request (retain, import line, filter): large enough for a long chat
** transcript, small enough that a runaway caller cannot exhaust a browser tab. */
#define MNEMO_MAX_INPUT_BYTES (8 * 1024 * 1024)
#endif
#ifndef MNEMO_MAX_TEXT_BYTES
/* One memory's text. Longer texts belong in several memories: a memory is a
** recallable unit, and recall packs results into a token budget. */
#define MNEMO_MAX_TEXT_BYTES (1024 * 1024)
#endif
#ifndef MNEMO_MAX_JSON_DEPTH
/* Nesting of any JSON input, to keep the recursive parser off the stack's edge. */
#define MNEMO_MAX_JSON_DEPTH 64
#endif
#ifndef MNEMO_MAX_LIMIT
#define MNEMO_MAX_LIMIT 1000
#endif

typedef struct mnemo mnemo;         /* one open bank (one SQLite database) */
typedef struct mnemo_job mnemo_job; /* one operation that may need the host */

/*
** The host: clock and randomness. Versioned like a SQLite VFS so new members
** can be appended. Any NULL member takes Mnemo's default: the C11 clock, and
** a splitmix64 generator seeded from the "seed" open option (or the clock).
** The table is copied by mnemo_open().
*/
typedef struct mnemo_host {
    int version;                         /* 1 */
    void *ctx;                           /* passed to every member */
    int64_t (*now_ms)(void *ctx);        /* milliseconds since the epoch, UTC */
    uint64_t (*random)(void *ctx);       /* 64 uniformly random bits */
} mnemo_host;

/* "0.1.0". Static; never freed. */
MNEMO_API const char *mnemo_version(void);

/* "MNEMO_EJSON" for a code; "MNEMO_UNKNOWN" for a code not in the list. Static. */
MNEMO_API const char *mnemo_errname(int rc);
/* "malformed JSON" for a code. Static. */
MNEMO_API const char *mnemo_errstr(int rc);

/* Releases a `char *` result of this API. mnemo_free(NULL) is a no-op. */
MNEMO_API void mnemo_free(void *p);

/*
** Opens the bank at `path`, creating it and its schema if absent and migrating
** an older schema in one transaction. `path` ":memory:" opens a private
** in-memory bank. `options_json` may be NULL or an object:
**   {"seed": 42,                  deterministic ids and tie-breaks
**    "journal": "wal"|"delete",   default "wal" (file banks)
**    "embedder": {"model": "builtin"} or {"model": "text-embedding-3-small",
**                 "dim": 1536}    a host embedder: vectors come from the host
**    "fts5": true,                keep an FTS5 table (memories_fts) for SQL
**                                 users; recall does not need it
**    "readonly": true,
**    "llm": {                     LLM extraction (retain "infer": true)
**      "model": "name",           put in chat bodies (else the host's own)
**      "json_schema": true,       ask for response_format json_schema
**      "candidates": 8,           known memories shown to the model, 0..32
**      "max_prompt_tokens": 1500, per chat request, system prompt included;
**                                 turns that do not fit are also stored as given
**      "max_deletes": 3,          deletes + supersedes per retain, 0..100
**      "max_calls_per_retain": 2, "max_prompt_tokens_per_retain": 4000,
**      "max_completion_tokens_per_retain": 2000,
**      "max_calls_per_day": 0, "max_prompt_tokens_per_day": 0,
**      "max_completion_tokens_per_day": 0}}   per bank per UTC day; 0: none
** `host` may be NULL. As with sqlite3_open(), *out receives a handle even on
** failure (unless memory ran out), so mnemo_errmsg() can say why; such a
** handle only answers mnemo_errmsg() and must be closed with mnemo_close().
** Codes: MNEMO_ECORRUPT for a file that is not a SQLite database or is another
** program's database, MNEMO_ESCHEMA for a newer Mnemo's bank,
** MNEMO_EREADONLY, MNEMO_EIO, MNEMO_EJSON/MNEMO_EINVAL for bad options.
*/
MNEMO_API int mnemo_open(const char *path, const char *options_json,
                         const mnemo_host *host, mnemo **out);

/* Closes the bank and frees every job still open on it. mnemo_close(NULL) is
** a harmless no-op. Returns MNEMO_OK. */
MNEMO_API int mnemo_close(mnemo *db);

/* The message of the last failed call on `db` ("" if none). Owned by `db`. */
MNEMO_API const char *mnemo_errmsg(const mnemo *db);

/*
** JOBS. An operation that may need the outside world (embeddings from a host
** model, an LLM completion) returns a job. The host drives it:
**
**   mnemo_job *job;
**   if (mnemo_retain(db, input, &job) != MNEMO_OK) fail(mnemo_errmsg(db));
**   while (mnemo_job_pending(job)) {
**       const char *req = mnemo_job_request(job);
**       char *resp = host_do(req);                 fetch, curl, canned answer
**       mnemo_job_resume(job, resp, strlen(resp));
**   }
**   if (mnemo_job_status(job) == MNEMO_OK) use(mnemo_job_result(job));
**   mnemo_job_free(job);
**
** With the built-in embedder and no LLM work a job finishes inside the call
** that created it. Each step does bounded work. A request is a JSON object:
**
**   {"type": "embeddings", "body": {"model", "input": [...]}}
**       POST body for an OpenAI-compatible {embed-url}/embeddings. Feed back
**       the response body ({"data": [{"index", "embedding"}]}).
**
**   {"type": "chat", "purpose": "extract", "prompt_version": "extract-v1",
**    "attempt": 1|2, "body": {"messages": [{"role","content"}, ...],
**    "temperature": 0, "max_tokens": n, "model"?, "response_format"?}}
**       POST body for an OpenAI-compatible {llm-url}/chat/completions. "model"
**       is present only if the open option llm.model names one; otherwise the
**       host sets its own. "response_format" is {"type": "json_schema",
**       "json_schema": {"name": "mnemo_extract", "strict": true, "schema"}}
**       on attempt 1 (unless llm.json_schema is false) and absent when the
**       core falls back to plain JSON. Feed back the response body as it
**       came, whatever its HTTP status: {"choices": [{"message": {"content"}}],
**       "usage": {"prompt_tokens", "completion_tokens"}} or an error body
**       ({"error": {...}}). An error body, or mnemo_job_fail() with
**       MNEMO_EINVAL (the server refused the request: HTTP 400/404/422),
**       makes the core retry once without response_format. Any other failure
**       (MNEMO_EHOST: no LLM configured, unreachable, timeout, 5xx after the
**       host's own retries) makes it fall back at once; a retain never fails
**       because of the LLM.
**
** THE MODEL'S ANSWER (the "content" of the chat response) is one JSON object:
**   {"facts": [{"op": "ADD"|"UPDATE"|"SUPERSEDE"|"NONE",
**               "ref": "m1"|null,          a known memory, by its alias only
**               "text": "User prefers dark mode",
**               "kind": "preference"|"identity"|"fact"|"event"|"plan"|
**                       "relationship"|..., "topics": ["..."],
**               "entities": [{"name", "type"}],
**               "relations": [{"subject", "predicate", "object"}],
**               "when": "2024-05-11"|null,  or a relative phrase
**               "confidence": 0..1}],
**    "delete": ["m2", ...]}                  memories the user asked to forget
** ADD stores a new memory; NONE means already known (nothing written);
** UPDATE rewrites "ref" with "text"; SUPERSEDE keeps "ref" with valid_to set
** and superseded_by pointing at the new memory. The prompts and the schema
** are data in core/prompt.c. The parser forgives code fences, text around
** the JSON, trailing commas, truncation, wrong types and unknown aliases.
*/

/* 1 while the job waits for the host, 0 when it has finished (either way). */
MNEMO_API int mnemo_job_pending(const mnemo_job *job);

/* The request the host must carry out, or NULL when not pending. Owned by the job. */
MNEMO_API const char *mnemo_job_request(const mnemo_job *job);

/* Feeds the host's response (copied; `len` bytes, need not be NUL-terminated)
** and continues the job. A malformed response finishes the job with
** MNEMO_EHOST unless the operation can fall back. Returns the job's status so
** far; MNEMO_EMISUSE if the job was not pending. */
MNEMO_API int mnemo_job_resume(mnemo_job *job, const char *resp, size_t len);

/* Tells the job the host could not carry out the request (no network, no
** model). The job falls back where it can (e.g. to the built-in embedder) or
** finishes with MNEMO_EHOST and `message`. */
MNEMO_API int mnemo_job_fail(mnemo_job *job, int rc, const char *message);

/* MNEMO_OK once finished successfully; the error code once failed;
** MNEMO_EMISUSE while still pending. */
MNEMO_API int mnemo_job_status(const mnemo_job *job);

/* The result JSON once finished successfully, else NULL. Owned by the job. */
MNEMO_API const char *mnemo_job_result(const mnemo_job *job);

/* The error message once failed, else "". Owned by the job. */
MNEMO_API const char *mnemo_job_errmsg(const mnemo_job *job);

/* Frees the job; a pending job is abandoned and nothing of it is written.
** mnemo_job_free(NULL) is a no-op. */
MNEMO_API void mnemo_job_free(mnemo_job *job);

/*
** Stores memories. `input_json`:
**   {"text": "..."}                  one memory
**   {"messages": [{"role", "content", "metadata"?, "timestamp"?}, ...]}
**                                    one memory per message (source = role)
**   {"items": [<input>, ...]}        many inputs in one transaction
** with optional "document_id", "metadata" (object), "timestamp" (when it
** happened), "kind", "topics", "tags", "source", "confidence", "infer", and
** at the top only "echo": false, which leaves the texts out of "added" (a
** bulk import need not copy every text back: a fifth of its time).
**
** "infer": false (the default) is manual mode: the input is stored as given.
** "infer": true extracts and consolidates with one chat request (see JOBS):
** the bank's memories related to the input are the candidates the model
** may leave, update, supersede or delete (at most llm.max_deletes of the
** last two per retain); new and changed memories get their embeddings in
** at most one request. Messages are sent in order; a message's "timestamp"
** (else the input's, else now) resolves relative dates ("next Saturday").
** Without an answer (the host failed the request, the model's output was
** unusable twice, or a budget is spent), the turns are stored as given
** (kind "message"), a built-in heuristic keeps the obvious facts, and the
** input waits in the pending queue (mnemo_process_pending): the result then
** has "mode": "heuristic" and "pending": true. Either way the job succeeds.
**
** Retaining a document_id again replaces, in the same transaction, every
** memory derived from its previous version (extracted ones included); an
** identical version is a no-op.
** Result: {"mode": "manual"|"llm"|"heuristic",
**          "added": [{"id","text"}],           every new memory row ("id"
**                                              only with "echo": false)
**          "removed": [ids],                    rows deleted
**          "unchanged": bool,
**          and with infer:
**          "learned": [{"id","text","kind","topics","occurred_at"}],
**          "changed": [{"id","text","old_text"}],
**          "superseded": [{"id","text","by"}],  "by": the successor's id
**          "forgotten": [{"id","text"}],
**          "prompt_version", "pending": bool, "fallback"?: "why",
**          "warnings"?: ["..."],
**          "usage": {"llm_calls","prompt_tokens","completion_tokens",
**                    "embedding_calls","estimated": bool}}.
** Tokens come from the response's "usage" when present, else from the
** estimate of core/budget.c (4 bytes a token, plus 4 a message). History
** names who decided each change: "actor" is "llm", "heuristic" or "user".
** A request the host carried out counts towards the day's budget at once,
** even if the job is then abandoned.
** Errors: MNEMO_EJSON, MNEMO_EUTF8, MNEMO_ETOOBIG, MNEMO_EINVAL (empty text,
** wrong types), storage errors. On any error nothing is written.
*/
MNEMO_API int mnemo_retain(mnemo *db, const char *input_json, mnemo_job **out);

/*
** Finds the memories relevant to a query. `query_json`:
**   {"query": "...", "limit": 10, "filter": {...}, "now": time,
**    "max_tokens": n, "diversity": 0..1, "signals": ["bm25","vector",
**    "keyword","entity","time"], "weights": {"bm25": 1, ...},
**    "fusion": "score"|"rrf"}
** Signals run over an in-memory index built on the first recall of a handle
** (and rebuilt when another connection has written). Fusion "score" (the
** default) adds each signal's score scaled by its list's best, weighted;
** "rrf" is weighted reciprocal rank fusion (k = 60).
** Result: {"results": [{"id","text","score","metadata","created_at",
**   "occurred_at", "kind", "topics", "tags", "document_id",
**   "signals": {"bm25": {"rank", "score"}, ...}}], "tokens": n}.
** Filters use mem0's syntax; see README. An unknown operator is MNEMO_EFILTER.
*/
MNEMO_API int mnemo_recall(mnemo *db, const char *query_json, mnemo_job **out);

/*
** Re-extracts, with the LLM, inputs that a retain could only keep through
** the heuristic (see mnemo_retain), oldest first, one chat request each:
** the model's facts replace the heuristic facts and the stored turns of
** that input, and the input leaves the queue. `options_json` may be NULL or
** {"limit": n} (default 10, at most 1000). Stops at the first input the
** model cannot answer for (it stays queued, its "attempts" counted; nothing
** is lost). Each input is written in a transaction of its own: if the job
** fails (MNEMO_ENOMEM, storage), every input is either fully re-extracted
** or still queued as it was.
** Result: {"processed": n, "remaining": n, "results": [<retain result>],
**          "stopped"?: "why", "usage": {...}}.
*/
MNEMO_API int mnemo_process_pending(mnemo *db, const char *options_json, mnemo_job **out);

/* Changes a memory: {"text"?, "metadata"?, "topics"?, "tags"?, "kind"?,
** "occurred_at"?}. A new text is re-embedded (hence a job). History keeps the
** old version. MNEMO_ENOTFOUND for an unknown id. */
MNEMO_API int mnemo_update(mnemo *db, const char *id, const char *patch_json,
                           mnemo_job **out);

/* Embeds again every memory whose vector is missing or from another model. */
MNEMO_API int mnemo_reindex(mnemo *db, mnemo_job **out);

/* One memory as a JSON object in *out. MNEMO_ENOTFOUND for an unknown id. */
MNEMO_API int mnemo_get(mnemo *db, const char *id, char **out);

/* Memories, newest first: {"limit": 100, "cursor": "...", "filter": {...},
** "include_invalid": false} -> {"memories": [...], "next_cursor": "..."|null}. */
MNEMO_API int mnemo_list(mnemo *db, const char *options_json, char **out);

/* Deletes one memory (history keeps a DELETE event). MNEMO_ENOTFOUND if absent. */
MNEMO_API int mnemo_delete(mnemo *db, const char *id);

/* Forgets everything: every memory, vector, entity, relation, document and
** history row goes, and freed pages are overwritten. The bank stays usable. */
MNEMO_API int mnemo_delete_all(mnemo *db);

/* The change history of a memory, oldest first: {"history": [{"event":
** "ADD"|"UPDATE"|"DELETE"|"INVALIDATE", "old", "new", "at", ...}]}.
** Known for deleted memories too; MNEMO_ENOTFOUND if the id never existed. */
MNEMO_API int mnemo_history(mnemo *db, const char *id, char **out);

/*
** Builds part of the recall index ahead of the first recall: up to
** max_memories more memories a call; *done = 1 once the index is complete.
** The first recall of a handle builds the whole index at once (about half a
** second for 10k long memories in a browser); a host that calls this in
** idle time after opening spreads that cost out of the user's way (the npm
** package does). A recall finishes whatever is left. Writes in between are
** fine: they update the partial index as they would the complete one.
*/
MNEMO_API int mnemo_warm(mnemo *db, int max_memories, int *done);

/* Counts and sizes: {"memories", "invalid", "vectors", "documents",
** "history", "entities", "relations", "pending", "embedder",
** "schema_version", "bytes", "llm_today": {"calls", "prompt_tokens",
** "completion_tokens"}, "index_bytes"}. "vectors"
** counts stored vectors of a host model; the built-in embedder's vectors are
** recomputed from the text when the recall index is built, never stored.
** "bytes" is the database's size; "index_bytes" the memory this handle's
** recall index holds (0 until the first recall builds it). */
MNEMO_API int mnemo_stats(mnemo *db, char **out);

/*
** Export: every memory as one JSON Lines record, each line passed to `write`
** (without its newline). A non-zero return from `write` stops the export with
** that code. Import takes export output and restores it exactly (ids, times,
** history); an existing id is replaced. One transaction: a bad line imports
** nothing and the message names the line. Result in *out: {"imported": n}.
*/
MNEMO_API int mnemo_export(mnemo *db,
                           int (*write)(void *ctx, const char *line, size_t len),
                           void *ctx);
MNEMO_API int mnemo_import(mnemo *db, const char *jsonl, size_t len, char **out);

/*
** PAGE BANKS, for hosts without a file system (IndexedDB in a browser, a
** Durable Object's storage at the edge). Opened with {"storage": "pages"},
** a bank lives in memory as SQLite pages; `path` is then only its name. The
** host loads the pages it persisted before opening, and after each call that
** wrote, saves the pages that changed, in one atomic write of its own store:
**
**   for each stored page p (1-based): mnemo_pages_load("alice", (p-1)*size, data, size);
**   mnemo_open("alice", "{\"storage\":\"pages\"}", NULL, &db);
**   ... mnemo_retain(...) and its job, mnemo_delete(...), ...
**   const uint32_t *pg; size_t n = mnemo_pages_dirty(db, &pg);
**   store pages pg[0..n) (mnemo_pages_page(db, pg[i]), mnemo_pages_size(db)
**   bytes each) and drop stored pages above mnemo_pages_count(db), atomically;
**   then mnemo_pages_saved(db);
**
** Calls never leave a transaction open between them, so the changed pages of
** one call (or of several) always form a consistent bank. If the host's write
** fails, it closes the handle and opens again from its store: the bank is as
** it was before. Reads come from memory. The journal is kept in memory.
**
** A host that holds its stored pages in memory anyway (read whole from its
** store) may lend them instead, with mnemo_pages_lazy(): nothing is copied
** at open, and each part of the bank is copied in on its first read.
*/

/* Copies `len` bytes at `offset` into the page image named `name`, creating
** it (empty) if needed. Only before mnemo_open() claims the image; MNEMO_EBUSY
** if a bank with that name is open, MNEMO_ENOMEM, MNEMO_EINVAL for a NULL or
** empty name or a negative offset. An image never opened is freed by
** mnemo_pages_drop(). */
MNEMO_API int mnemo_pages_load(const char *name, int64_t offset, const void *data, size_t len);

/* The same for a host that copies its stored pages in itself (a large bank
** is then copied once, not twice): makes room for `len` bytes at `offset` in
** the image `name` and returns where to write them, valid until the next
** mnemo_ call. Bytes the host leaves unwritten read as zero. NULL for the
** errors of mnemo_pages_load() (a NULL or empty name, a negative offset, a
** bank with that name open, out of memory). */
MNEMO_API unsigned char *mnemo_pages_buffer(const char *name, int64_t offset, size_t len);

/* Copies `len` bytes at `offset` of the host's stored bank into `into`;
** 0 on success. Called with into NULL and len 0 once, when the image no
** longer needs the host's bytes: every lent byte was read or overwritten,
** or the image was freed (mnemo_close, mnemo_pages_drop). */
typedef int (*mnemo_pages_reader)(void *ctx, int64_t offset, void *into, size_t len);

/* Lends the image `name` the host's `size` bytes of stored pages (a multiple
** of 512): SQLite reads them through `read` the first time it needs each
** part (in 512-byte units), and a write replaces them without a read. The
** host keeps its bytes, unchanged, until the release call. The image must be
** new or empty. MNEMO_EINVAL for a NULL or empty name, a NULL reader, a size
** not a multiple of 512 or an image already loaded; MNEMO_EBUSY if a bank
** with that name is open; MNEMO_ENOMEM. On failure `read` is never called.
** A failed read fails the SQL statement that needed it (MNEMO_EIO); the bank
** stays usable and the part is asked for again next time. */
MNEMO_API int mnemo_pages_lazy(const char *name, int64_t size, mnemo_pages_reader read, void *ctx);

/* Frees an unopened image (e.g. after a failed load). A no-op if absent;
** MNEMO_EBUSY if open. mnemo_close() frees the image of a page bank. */
MNEMO_API int mnemo_pages_drop(const char *name);

/* The numbers (1-based, ascending) of the pages written since the last
** mnemo_pages_saved(), through *pgnos (owned by db, valid until the next call
** on db). Returns how many; 0 for a bank that is not a page bank. */
MNEMO_API size_t mnemo_pages_dirty(mnemo *db, const uint32_t **pgnos);

/* Page `pgno` (mnemo_pages_size() bytes), owned by db and valid until the
** next call on db; NULL if pgno is out of range, db is not a page bank, or
** the page is lent (mnemo_pages_lazy) and reading it failed. */
MNEMO_API const unsigned char *mnemo_pages_page(mnemo *db, uint32_t pgno);

/* Page size in bytes, and number of pages in the bank (0 if not a page bank). */
MNEMO_API uint32_t mnemo_pages_size(mnemo *db);
MNEMO_API uint32_t mnemo_pages_count(mnemo *db);

/* Marks every page as saved: the next mnemo_pages_dirty() lists only newer writes. */
MNEMO_API void mnemo_pages_saved(mnemo *db);

/*
** RECALL INDEX SNAPSHOTS, for page banks. The first recall of a handle builds
** the recall index from every memory (about half a second for 10k long
** memories in a browser; mnemo_warm spreads that out). A host can keep the
** index beside the pages instead: mnemo_index_save writes it (built first if
** needed) through write(ctx, bytes, n), which returns 0 to go on (anything
** else stops the save with MNEMO_EIO); after the next mnemo_open,
** mnemo_index_load reads it back through read(ctx, into, n), which places up
** to n bytes and returns how many: 0 at the end of the snapshot or on an
** error (a snapshot cut short is MNEMO_EIO).
**
** A snapshot records the bank state it was taken at (the change counter
** SQLite keeps in the header, the size). Loaded into that state it is used
** as is (*used = 1). Loaded after other writes (a handle that wrote and
** never saved a newer snapshot, another tab), it is brought up to date: the
** memories are read once and only those whose text or vector changed since
** are indexed again (*used = 2; save a new snapshot so the next open skips
** that read). A snapshot of another embedder (model, size) or an older
** format is not used (*used = 0, MNEMO_OK) and the index is built as usual.
** A damaged or foreign snapshot is MNEMO_ECORRUPT; either way the bank's
** index is as before. MNEMO_EMISUSE on a bank that is not a page bank.
*/
MNEMO_API int mnemo_index_save(mnemo *db, int (*write)(void *ctx, const void *bytes, size_t n),
                               void *ctx);
MNEMO_API int mnemo_index_load(mnemo *db, size_t (*read)(void *ctx, void *into, size_t n),
                               void *ctx, int *used);

#ifdef __cplusplus
}
#endif
#endif /* MNEMO_H */
