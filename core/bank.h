/*
** bank.h: the inside of a bank handle, shared by the core files that work on
** it, and the helpers they all use: errors, ids, JSON input, statements.
*/
#ifndef MN_BANK_H
#define MN_BANK_H

#include "common.h"
#include "strbuf.h"
#include "sqlite3.h"
#include "cJSON.h"

struct mn_index;

#define MN_STMT_MAX 16

/* The "llm" open option (see mnemo.h; defaults in budget.c). */
typedef struct mn_llm_conf {
    char model[128];          /* "" : the host picks */
    int json_schema;
    int candidates;
    int max_prompt_tokens;    /* per chat request */
    int max_deletes;          /* deletes + supersedes per retain */
    int calls_per_retain, prompt_per_retain, completion_per_retain;
    int64_t calls_per_day, prompt_per_day, completion_per_day; /* 0: no limit */
} mn_llm_conf;

struct mnemo {
    sqlite3 *sql;
    mnemo_host host;          /* copied from the caller; NULL members defaulted */
    uint64_t rng;             /* splitmix64 state when host.random is NULL */
    int seeded;               /* "seed" given: reproducible ids */
    uint64_t id_seq;          /* time part of the last id (see mn_bank_new_id) */
    mn_sb err;                /* mnemo_errmsg() */
    int readonly;
    int failed_open;          /* a handle returned by a failed mnemo_open */
    char embed_model[128];    /* model id of the vectors recall uses */
    int embed_dim;
    int builtin_embedder;     /* 1: vectors are computed in core, never stored */
    int fts5;                 /* the bank keeps the optional FTS5 table */
    int pages;                /* a page bank (pages.c): memory image, host-persisted */
    struct mn_index *index;   /* recall index, built lazily; NULL until then */
    int64_t index_version;    /* PRAGMA data_version the index reflects */
    int64_t index_next;       /* while being built: the next rowid to read */
    int index_complete;       /* 0 while mnemo_warm has built only part */
    struct mnemo_job *jobs;   /* open jobs, freed by mnemo_close */
    mn_llm_conf llm;          /* LLM extraction settings and budgets */
    const char *actor;        /* who history says made a change: NULL is "user" */
    sqlite3_stmt *cached[MN_STMT_MAX]; /* hot statements, prepared once */
};

/* Slots of the statement cache: the statements a retain or recall runs per
** memory. Preparing costs about as much as running them, so the hot ones are
** prepared once per handle. */
enum {
    MN_STMT_INSERT_MEMORY, MN_STMT_INSERT_FTS, MN_STMT_INSERT_VECTOR,
    MN_STMT_INSERT_HISTORY, MN_STMT_SELECT_BY_ROWID, MN_STMT_SELECT_BY_ID,
    MN_STMT_DELETE_FTS, MN_STMT_DATA_VERSION,
    MN_STMT_UPSERT_ENTITY, MN_STMT_LINK_ENTITY, MN_STMT_INSERT_RELATION,
    MN_STMT_CLOSE_RELATIONS,
    MN_STMT_COUNT
};

/* Sets the bank's error message and returns rc. */
MN_FUNC int mn_bank_err(mnemo *db, int rc, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Maps a failed SQLite call to a Mnemo code with a message naming `what`. */
MN_FUNC int mn_bank_sqlerr(mnemo *db, int sqlrc, const char *what);

MN_FUNC int64_t mn_bank_now(mnemo *db);
MN_FUNC uint64_t mn_bank_random(mnemo *db);
/* A new memory id: a time-ordered UUID (v7 layout), written into out[37]. */
MN_FUNC void mn_bank_new_id(mnemo *db, char *out);

/* Parses JSON input after checking its size (MNEMO_MAX_INPUT_BYTES) and its
** UTF-8; `what` names it in errors ("retain input"). On success *out is an
** object (or anything when any_type) the caller frees with cJSON_Delete. */
MN_FUNC int mn_bank_parse(mnemo *db, const char *json, size_t len,
                          const char *what, int any_type, cJSON **out);

/* Prepares, or fails with a message. */
MN_FUNC int mn_bank_prepare(mnemo *db, const char *sql, sqlite3_stmt **st);
/* The cached statement in `slot`, prepared from `sql` on first use, reset
** and with bindings cleared. Owned by the bank. */
MN_FUNC int mn_bank_cached(mnemo *db, int slot, const char *sql, sqlite3_stmt **st);
/* Steps a bound cached write statement once and resets it; a step that is
** not SQLITE_DONE becomes a Mnemo code with a message naming `what`. */
MN_FUNC int mn_bank_write(mnemo *db, sqlite3_stmt *st, const char *what);
/* Runs SQL with no result rows. */
MN_FUNC int mn_bank_exec(mnemo *db, const char *sql);

/* Transactions. Begin takes the write lock at once so a batch never fails
** half-way on a lock; rollback is always safe to call. */
MN_FUNC int mn_bank_begin(mnemo *db);
MN_FUNC int mn_bank_commit(mnemo *db);
MN_FUNC void mn_bank_rollback(mnemo *db);

/* 1 if s (n bytes) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF);
** else 0 and *bad the offset of the first bad byte. */
MN_FUNC int mn_utf8_valid(const char *s, size_t n, size_t *bad);

/* A stable 64-bit content hash as 16 hex digits into out[17]. */
MN_FUNC void mn_hash_hex(const char *s, size_t n, char *out);

#endif
