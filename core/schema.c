/*
** schema.c: the bank's tables and their migrations.
**
** Each migration is a step from version N-1 to N, run in one transaction with
** the version bump (PRAGMA user_version), so an interrupted upgrade leaves the
** old version intact. Migrations are append-only: a released step never
** changes, an old bank is brought forward step by step.
*/
#include <stdio.h>

#include "schema.h"

static const char *const migrations[] = {
    /* 1: the first schema. */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"

    /* Times are epoch milliseconds (UTC). topics/tags are JSON arrays, metadata
    ** a JSON object: schemaless for callers, still queryable with json_*(). */
    "CREATE TABLE memories("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  text TEXT NOT NULL,"
    "  kind TEXT NOT NULL DEFAULT 'fact',"
    "  topics TEXT NOT NULL DEFAULT '[]',"
    "  tags TEXT NOT NULL DEFAULT '[]',"
    "  metadata TEXT NOT NULL DEFAULT '{}',"
    "  document_id TEXT,"
    "  source TEXT,"
    "  confidence REAL NOT NULL DEFAULT 1.0,"
    "  occurred_at INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  valid_from INTEGER,"
    "  valid_to INTEGER,"
    "  superseded_by TEXT,"
    "  hash TEXT NOT NULL,"
    "  prompt_version TEXT);"
    "CREATE INDEX memories_document ON memories(document_id) WHERE document_id IS NOT NULL;"
    "CREATE INDEX memories_created ON memories(created_at);"
    "CREATE INDEX memories_valid_from ON memories(valid_from);"

    "CREATE TABLE vectors("
    "  memory_rowid INTEGER PRIMARY KEY REFERENCES memories(rowid) ON DELETE CASCADE,"
    "  model TEXT NOT NULL,"
    "  dim INTEGER NOT NULL,"
    "  vec BLOB NOT NULL);"

    "CREATE TABLE entities("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  type TEXT,"
    "  norm TEXT NOT NULL UNIQUE);"
    "CREATE TABLE memory_entities("
    "  memory_rowid INTEGER NOT NULL REFERENCES memories(rowid) ON DELETE CASCADE,"
    "  entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,"
    "  PRIMARY KEY(memory_rowid, entity_id)) WITHOUT ROWID;"
    "CREATE INDEX memory_entities_entity ON memory_entities(entity_id);"
    "CREATE TABLE relations("
    "  id INTEGER PRIMARY KEY,"
    "  subject INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,"
    "  predicate TEXT NOT NULL,"
    "  object INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,"
    "  memory_rowid INTEGER REFERENCES memories(rowid) ON DELETE SET NULL,"
    "  valid_from INTEGER, valid_to INTEGER);"

    /* One row per retained document version: what document_id upsert compares. */
    "CREATE TABLE documents("
    "  id TEXT PRIMARY KEY,"
    "  hash TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL) WITHOUT ROWID;"

    /* Every change, never rewritten. memory_id is text, not a foreign key:
    ** history outlives the memory it tells about. */
    "CREATE TABLE history("
    "  id INTEGER PRIMARY KEY,"
    "  memory_id TEXT NOT NULL,"
    "  event TEXT NOT NULL CHECK(event IN ('ADD','UPDATE','DELETE','INVALIDATE')),"
    "  old TEXT,"
    "  new TEXT,"
    "  document_id TEXT,"
    "  actor TEXT,"
    "  reason TEXT,"
    "  at INTEGER NOT NULL);"
    "CREATE INDEX history_memory ON history(memory_id);",

    /* 2: LLM extraction. Inputs the model could not answer for wait in
    ** `pending`; the memories kept for them meanwhile (the turns as given
    ** and the heuristic's facts) point at their row, so the model's answer
    ** replaces exactly those. llm_usage counts each UTC day's requests for
    ** the daily budgets. Relations are found by memory and by entity. */
    "ALTER TABLE memories ADD COLUMN pending_id INTEGER;"
    "CREATE INDEX memories_pending ON memories(pending_id) WHERE pending_id IS NOT NULL;"
    "CREATE TABLE pending("
    "  id INTEGER PRIMARY KEY,"
    "  input TEXT NOT NULL,"
    "  document_id TEXT,"
    "  reason TEXT,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX pending_document ON pending(document_id) WHERE document_id IS NOT NULL;"
    "CREATE TABLE llm_usage("
    "  day INTEGER PRIMARY KEY,"
    "  calls INTEGER NOT NULL,"
    "  prompt_tokens INTEGER NOT NULL,"
    "  completion_tokens INTEGER NOT NULL);"
    "CREATE INDEX relations_memory ON relations(memory_rowid);"
    "CREATE INDEX relations_subject ON relations(subject);"
    "CREATE INDEX relations_object ON relations(object);",
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

#ifdef MNEMO_TEST
const char *mn_schema_step(int v) { return v >= 1 && v <= N_MIGRATIONS ? migrations[v - 1] : NULL; }
#endif

static int pragma_int(mnemo *db, const char *sql, int64_t *out) {
    sqlite3_stmt *st;
    int rc = mn_bank_prepare(db, sql, &st);
    if (rc) return rc;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        s = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return s == SQLITE_OK ? MNEMO_OK : mn_bank_sqlerr(db, s, "reading the bank header");
}

int mn_schema_fts5(mnemo *db, int wanted) {
    /* A lookup in the schema SQLite has already read, not a query: an open
    ** of a stored bank runs no SELECT of its own (in wasm, each SQLite
    ** function is compiled on its first call, and the open waits for it).
    ** SQLITE_ERROR is "no such table"; anything else is a schema that could
    ** not be read, which must not pass for a bank without the table. */
    int src = sqlite3_table_column_metadata(db->sql, "main", "memories_fts", NULL, NULL, NULL,
                                            NULL, NULL, NULL);
    if (src != SQLITE_OK && src != SQLITE_ERROR) return mn_bank_sqlerr(db, src, "reading the schema");
    db->fts5 = src == SQLITE_OK;
    if (db->fts5 || !wanted) return MNEMO_OK;
    int rc = mn_bank_begin(db);
    if (rc) return rc;
    rc = mn_bank_exec(db,
                      "CREATE VIRTUAL TABLE memories_fts USING fts5(text, content='memories',"
                      " content_rowid='rowid', tokenize='porter unicode61');"
                      "INSERT INTO memories_fts(memories_fts) VALUES('rebuild');");
    if (!rc) rc = mn_bank_commit(db);
    if (rc) {
        mn_bank_rollback(db);
        return rc;
    }
    db->fts5 = 1;
    return MNEMO_OK;
}

int mn_schema_migrate(mnemo *db) {
    int64_t app = 0, version = 0, tables = 0;
    int rc;
    /* The first read of the file: a non-database fails here, with NOTADB. */
    if ((rc = pragma_int(db, "PRAGMA application_id", &app))) return rc;
    if ((rc = pragma_int(db, "PRAGMA user_version", &version))) return rc;
    /* Only a file without Mnemo's id has its objects counted (none: a new
    ** bank); a Mnemo bank's open needs no query (see mn_schema_fts5). */
    if (app != MN_SCHEMA_APP_ID && (rc = pragma_int(db, "SELECT count(*) FROM sqlite_schema", &tables)))
        return rc;

    if (app != MN_SCHEMA_APP_ID && (tables > 0 || app != 0))
        return mn_bank_err(db, MNEMO_ECORRUPT,
                           "not a Mnemo bank: a SQLite database of another program "
                           "(application_id %lld, %lld schema objects)",
                           (long long)app, (long long)tables);
    if (version > N_MIGRATIONS)
        return mn_bank_err(db, MNEMO_ESCHEMA,
                           "bank schema version %lld is newer than this Mnemo's %d",
                           (long long)version, N_MIGRATIONS);
    if (version == N_MIGRATIONS) return MNEMO_OK;
    if (db->readonly)
        return mn_bank_err(db, MNEMO_EREADONLY,
                           "bank needs schema version %d (has %lld) but is read-only",
                           N_MIGRATIONS, (long long)version);

    if ((rc = mn_bank_begin(db))) return rc;
    for (int v = (int)version; v < N_MIGRATIONS; v++) {
        if ((rc = mn_bank_exec(db, migrations[v]))) goto fail;
    }
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d;",
             MN_SCHEMA_APP_ID, N_MIGRATIONS);
    if ((rc = mn_bank_exec(db, sql))) goto fail;
    if ((rc = mn_bank_commit(db))) goto fail;
    return MNEMO_OK;
fail:
    mn_bank_rollback(db);
    return rc;
}
