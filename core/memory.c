/*
** memory.c: one memory row and the rows that hang off it.
*/
#include <string.h>

#include "index.h"
#include "memory.h"
#include "datetime.h"
#include "vectors.h"

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s) {
    if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, i);
}

static void bind_time_or_null(sqlite3_stmt *st, int i, int64_t t) {
    if (t == MN_NO_TIME) sqlite3_bind_null(st, i);
    else sqlite3_bind_int64(st, i, t);
}

int mn_memory_history(mnemo *db, const char *memory_id, const char *event,
                      const char *old_json, const char *new_json,
                      const char *document_id, const char *reason) {
    sqlite3_stmt *st;
    int rc = mn_bank_cached(db, MN_STMT_INSERT_HISTORY,
                            "INSERT INTO history(memory_id, event, old, new, document_id, "
                            "actor, reason, at) VALUES(?,?,?,?,?,?,?,?)", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, memory_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, event, -1, SQLITE_STATIC);
    bind_text_or_null(st, 3, old_json);
    bind_text_or_null(st, 4, new_json);
    bind_text_or_null(st, 5, document_id);
    sqlite3_bind_text(st, 6, db->actor ? db->actor : "user", -1, SQLITE_STATIC);
    bind_text_or_null(st, 7, reason);
    sqlite3_bind_int64(st, 8, mn_bank_now(db));
    return mn_bank_write(db, st, "writing history");
}

int mn_memory_insert(mnemo *db, const mn_memory *m, const float *vec, int quiet,
                     int64_t *rowid) {
    sqlite3_stmt *st;
    int rc = mn_bank_cached(db, MN_STMT_INSERT_MEMORY,
                            "INSERT INTO memories(id, text, kind, topics, tags, metadata, "
                            "document_id, source, confidence, occurred_at, created_at, "
                            "updated_at, valid_from, hash, valid_to, superseded_by, "
                            "prompt_version, pending_id) "
                            "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                            &st);
    if (rc) return rc;
    int64_t now = m->created_at == MN_NO_TIME ? mn_bank_now(db) : m->created_at;
    sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->text, (int)m->len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->kind ? m->kind : "fact", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, m->topics ? m->topics : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, m->tags ? m->tags : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, m->metadata ? m->metadata : "{}", -1, SQLITE_STATIC);
    bind_text_or_null(st, 7, m->document_id);
    bind_text_or_null(st, 8, m->source);
    sqlite3_bind_double(st, 9, m->confidence);
    bind_time_or_null(st, 10, m->occurred_at);
    sqlite3_bind_int64(st, 11, now);
    sqlite3_bind_int64(st, 12, m->updated_at == MN_NO_TIME ? now : m->updated_at);
    int64_t from = m->valid_from != MN_NO_TIME ? m->valid_from
                   : m->occurred_at != MN_NO_TIME ? m->occurred_at : now;
    sqlite3_bind_int64(st, 13, from);
    sqlite3_bind_text(st, 14, m->hash, -1, SQLITE_STATIC);
    bind_time_or_null(st, 15, m->valid_to);
    bind_text_or_null(st, 16, m->superseded_by);
    bind_text_or_null(st, 17, m->prompt_version);
    if (m->pending_id) sqlite3_bind_int64(st, 18, m->pending_id);
    else sqlite3_bind_null(st, 18);
    if ((rc = mn_bank_write(db, st, "storing a memory"))) return rc;
    *rowid = sqlite3_last_insert_rowid(db->sql);

    if (vec && (rc = mn_vectors_store(db, *rowid, vec))) return rc;
    if (quiet) return MNEMO_OK;
    /* ADD stores no copy of the text: what was added is the memory row until
    ** it first changes, and from then on the "old" of the event that changed
    ** it (UPDATE and DELETE keep their before-image). mnemo_history puts it
    ** back together. Half the bytes written per retain. */
    return mn_memory_history(db, m->id, "ADD", NULL, NULL, m->document_id, m->reason);
}

int mn_memory_fts_add(mnemo *db, int64_t first, int64_t last) {
    if (!db->fts5) return MNEMO_OK;
    sqlite3_stmt *st;
    int rc = mn_bank_cached(db, MN_STMT_INSERT_FTS,
                            "INSERT INTO memories_fts(rowid, text) SELECT rowid, text FROM memories "
                            "WHERE rowid BETWEEN ? AND ?", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, first);
    sqlite3_bind_int64(st, 2, last);
    return mn_bank_write(db, st, "indexing memories");
}

int mn_memory_fts_remove(mnemo *db, int64_t rowid) {
    if (!db->fts5) return MNEMO_OK;
    sqlite3_stmt *st;
    int rc = mn_bank_cached(db, MN_STMT_DELETE_FTS,
                            "INSERT INTO memories_fts(memories_fts, rowid, text) "
                            "SELECT 'delete', rowid, text FROM memories WHERE rowid=?", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, rowid);
    return mn_bank_write(db, st, "unindexing a memory");
}

/* Runs one statement with ?1 bound to v. */
static int exec_int(mnemo *db, const char *sql, int64_t v) {
    sqlite3_stmt *st;
    int rc = mn_bank_prepare(db, sql, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, v);
    int s = sqlite3_step(st);
    sqlite3_finalize(st);
    return s == SQLITE_DONE ? MNEMO_OK : mn_bank_sqlerr(db, s, "deleting a memory's links");
}

int mn_memory_delete(mnemo *db, int64_t rowid, const char *reason) {
    sqlite3_stmt *st;
    int rc = mn_bank_prepare(db,
                             "SELECT id, text, metadata, document_id FROM memories WHERE rowid=?",
                             &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, rowid);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return mn_bank_err(db, MNEMO_ENOTFOUND, "memory rowid %lld not found", (long long)rowid);
    }
    mn_sb old;
    mn_sb_init(&old);
    mn_sb_adds(&old, "{\"text\":");
    mn_sb_json_str(&old, (const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1));
    mn_sb_adds(&old, ",\"metadata\":");
    mn_sb_adds(&old, (const char *)sqlite3_column_text(st, 2));
    mn_sb_addc(&old, '}');
    char *id = mn_strndup((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    char *doc = sqlite3_column_type(st, 3) == SQLITE_NULL
                    ? NULL
                    : mn_strndup((const char *)sqlite3_column_text(st, 3), (size_t)sqlite3_column_bytes(st, 3));
    sqlite3_finalize(st);
    /* The FTS5 external-content delete needs the old text, so it goes first. */
    rc = mn_memory_fts_remove(db, rowid);
    /* Relations drawn from this memory go with it, and so do entities that
    ** nothing else names (memory_entities then cascades). */
    if (!rc)
        rc = exec_int(db,
                              "DELETE FROM entities WHERE id IN (SELECT entity_id FROM memory_entities "
                              "WHERE memory_rowid=?1 UNION SELECT subject FROM relations WHERE memory_rowid=?1 "
                              "UNION SELECT object FROM relations WHERE memory_rowid=?1) AND NOT EXISTS (SELECT 1 FROM memory_entities me "
                              "WHERE me.entity_id=entities.id AND me.memory_rowid<>?1) AND NOT EXISTS "
                              "(SELECT 1 FROM relations r WHERE (r.subject=entities.id OR "
                              "r.object=entities.id) AND r.memory_rowid IS NOT ?1)", rowid);
    if (!rc) rc = exec_int(db, "DELETE FROM relations WHERE memory_rowid=?1", rowid);
    if (!rc && (!id || old.oom)) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory deleting");
    if (!rc) {
        sqlite3_stmt *d;
        rc = mn_bank_prepare(db, "DELETE FROM memories WHERE rowid=?", &d);
        if (!rc) {
            sqlite3_bind_int64(d, 1, rowid);
            int s = sqlite3_step(d);
            sqlite3_finalize(d);
            if (s != SQLITE_DONE) rc = mn_bank_sqlerr(db, s, "deleting a memory");
        }
    }
    if (!rc) rc = mn_memory_history(db, id, "DELETE", mn_sb_str(&old), NULL, doc, reason);
    mn_free(id);
    mn_free(doc);
    mn_sb_free(&old);
    return rc;
}

void mn_memory_time_json(mn_sb *out, sqlite3_stmt *st, int col) {
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        mn_sb_adds(out, "null");
        return;
    }
    char iso[MN_TIME_ISO_MAX];
    mn_time_format(sqlite3_column_int64(st, col), iso);
    mn_sb_addc(out, '"');
    mn_sb_adds(out, iso);
    mn_sb_addc(out, '"');
}

static void text_or_null(mn_sb *out, sqlite3_stmt *st, int col) {
    if (sqlite3_column_type(st, col) == SQLITE_NULL) mn_sb_adds(out, "null");
    else mn_sb_json_str(out, (const char *)sqlite3_column_text(st, col), (size_t)sqlite3_column_bytes(st, col));
}

static void raw(mn_sb *out, sqlite3_stmt *st, int col) {
    mn_sb_add(out, (const char *)sqlite3_column_text(st, col), (size_t)sqlite3_column_bytes(st, col));
}

void mn_memory_json(sqlite3_stmt *st, int c, mn_sb *out) {
    /* Column c is the rowid, internal; the public id follows. */
    mn_sb_adds(out, "{\"id\":");
    text_or_null(out, st, c + 1);
    mn_sb_adds(out, ",\"text\":");
    text_or_null(out, st, c + 2);
    mn_sb_adds(out, ",\"kind\":");
    text_or_null(out, st, c + 3);
    mn_sb_adds(out, ",\"topics\":");
    raw(out, st, c + 4);
    mn_sb_adds(out, ",\"tags\":");
    raw(out, st, c + 5);
    mn_sb_adds(out, ",\"metadata\":");
    raw(out, st, c + 6);
    mn_sb_adds(out, ",\"document_id\":");
    text_or_null(out, st, c + 7);
    mn_sb_adds(out, ",\"source\":");
    text_or_null(out, st, c + 8);
    mn_sb_adds(out, ",\"confidence\":");
    mn_sb_json_num(out, sqlite3_column_double(st, c + 9));
    mn_sb_adds(out, ",\"occurred_at\":");
    mn_memory_time_json(out, st, c + 10);
    mn_sb_adds(out, ",\"created_at\":");
    mn_memory_time_json(out, st, c + 11);
    mn_sb_adds(out, ",\"updated_at\":");
    mn_memory_time_json(out, st, c + 12);
    mn_sb_adds(out, ",\"valid_from\":");
    mn_memory_time_json(out, st, c + 13);
    mn_sb_adds(out, ",\"valid_to\":");
    mn_memory_time_json(out, st, c + 14);
    mn_sb_adds(out, ",\"superseded_by\":");
    text_or_null(out, st, c + 15);
    mn_sb_adds(out, ",\"hash\":");
    text_or_null(out, st, c + 16);
    mn_sb_adds(out, ",\"prompt_version\":");
    text_or_null(out, st, c + 17);
    mn_sb_addc(out, '}');
}

char *mn_memory_snapshot(mnemo *db, int64_t rowid) {
    sqlite3_stmt *st;
    if (mn_bank_prepare(db,
                        "SELECT json_object('text', text, 'metadata', json(metadata), 'topics', json(topics),"
                        " 'tags', json(tags), 'kind', kind, 'occurred_at', occurred_at,"
                        " 'prompt_version', prompt_version) FROM memories WHERE rowid=?", &st))
        return NULL;
    sqlite3_bind_int64(st, 1, rowid);
    char *r = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        r = mn_strndup((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    sqlite3_finalize(st);
    if (!r) mn_bank_err(db, MNEMO_ENOMEM, "out of memory reading a memory");
    return r;
}

int mn_memory_find(mnemo *db, const char *id, int64_t *rowid) {
    if (!id || !*id) return mn_bank_err(db, MNEMO_EINVAL, "memory id is empty");
    sqlite3_stmt *st;
    int rc = mn_bank_cached(db, MN_STMT_SELECT_BY_ID, "SELECT rowid FROM memories WHERE id=?", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) *rowid = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (s == SQLITE_ROW) return MNEMO_OK;
    if (s != SQLITE_DONE) return mn_bank_sqlerr(db, s, "looking up a memory");
    return mn_bank_err(db, MNEMO_ENOTFOUND, "no memory with id '%.64s'", id);
}
