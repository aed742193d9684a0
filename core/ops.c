/*
** ops.c: the bank's direct operations: get, list, delete, delete_all,
** history, stats. Each is one statement or one transaction; none needs the
** host.
*/
#include <stdio.h>
#include <string.h>

#include "budget.h"
#include "filter.h"
#include "index.h"
#include "memory.h"
#include "recall.h"

#define CHECK_DB(db)                                                           \
    do {                                                                       \
        if (!(db) || !(db)->sql) return MNEMO_EMISUSE;                         \
    } while (0)

static int take(mnemo *db, mn_sb *sb, char **out) {
    *out = mn_sb_take(sb);
    return *out ? MNEMO_OK : mn_bank_err(db, MNEMO_ENOMEM, "out of memory writing the result");
}

int mnemo_get(mnemo *db, const char *id, char **out) {
    CHECK_DB(db);
    if (!out) return mn_bank_err(db, MNEMO_EINVAL, "out is NULL");
    *out = NULL;
    int64_t rowid;
    int rc = mn_memory_find(db, id, &rowid);
    if (rc) return rc;
    sqlite3_stmt *st;
    if ((rc = mn_bank_cached(db, MN_STMT_SELECT_BY_ROWID,
                             "SELECT " MN_MEMORY_COLS " FROM memories m WHERE m.rowid=?", &st)))
        return rc;
    sqlite3_bind_int64(st, 1, rowid);
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW) {
        sqlite3_reset(st);
        return mn_bank_sqlerr(db, s, "reading a memory");
    }
    mn_sb sb;
    mn_sb_init(&sb);
    mn_memory_json(st, 0, &sb);
    sqlite3_reset(st);
    return take(db, &sb, out);
}

int mnemo_list(mnemo *db, const char *options_json, char **out) {
    CHECK_DB(db);
    if (!out) return mn_bank_err(db, MNEMO_EINVAL, "out is NULL");
    *out = NULL;
    cJSON *o = NULL;
    int rc;
    if (options_json &&
        (rc = mn_bank_parse(db, options_json, strlen(options_json), "list options", 0, &o)))
        return rc;
    int limit = 100, include_invalid = 0, has_cursor = 0;
    long long cur_time = 0, cur_row = 0;
    mn_filter f;
    memset(&f, 0, sizeof f);
    int has_filter = 0;
    rc = MNEMO_OK;
    for (const cJSON *x = o ? o->child : NULL; x && !rc; x = x->next) {
        if (!strcmp(x->string, "limit")) {
            if (!cJSON_IsNumber(x) || x->valuedouble < 1 || x->valuedouble > MNEMO_MAX_LIMIT)
                rc = mn_bank_err(db, MNEMO_EINVAL, "limit must be between 1 and %d", MNEMO_MAX_LIMIT);
            else limit = (int)x->valuedouble;
        } else if (!strcmp(x->string, "cursor")) {
            if (cJSON_IsNull(x)) continue;
            char tail;
            if (!cJSON_IsString(x) ||
                sscanf(x->valuestring, "%lld:%lld%c", &cur_time, &cur_row, &tail) != 2)
                rc = mn_bank_err(db, MNEMO_EINVAL, "cursor is not one this bank returned");
            has_cursor = 1;
        } else if (!strcmp(x->string, "include_invalid")) {
            include_invalid = cJSON_IsTrue(x);
        } else if (!strcmp(x->string, "filter")) {
            if (cJSON_IsNull(x)) continue;
            rc = mn_filter_compile(x, &f);
            if (rc) rc = mn_bank_err(db, rc, "%s", rc == MNEMO_EFILTER ? f.err : "out of memory");
            has_filter = 1;
        } else {
            rc = mn_bank_err(db, MNEMO_EINVAL, "unknown list option '%.64s'", x->string);
        }
    }
    mn_sb sql, res;
    mn_sb_init(&sql);
    mn_sb_init(&res);
    sqlite3_stmt *st = NULL;
    if (!rc) {
        mn_sb_adds(&sql, "SELECT " MN_MEMORY_COLS " FROM memories m WHERE 1");
        if (!include_invalid) mn_sb_adds(&sql, " AND m.valid_to IS NULL");
        /* The filter's anonymous parameters come first; the cursor's are
        ** numbered after them. */
        if (has_filter) {
            mn_sb_adds(&sql, " AND ");
            mn_sb_add(&sql, mn_sb_str(&f.sql), f.sql.len);
        }
        if (has_cursor)
            mn_sb_printf(&sql, " AND (m.created_at, m.rowid) < (?%d, ?%d)", f.nbinds + 1, f.nbinds + 2);
        mn_sb_printf(&sql, " ORDER BY m.created_at DESC, m.rowid DESC LIMIT %d", limit + 1);
        rc = sql.oom ? mn_bank_err(db, MNEMO_ENOMEM, "out of memory") : mn_bank_prepare(db, mn_sb_str(&sql), &st);
    }
    if (!rc) {
        if (has_filter) mn_filter_bind(&f, st, 1);
        if (has_cursor) {
            sqlite3_bind_int64(st, f.nbinds + 1, cur_time);
            sqlite3_bind_int64(st, f.nbinds + 2, cur_row);
        }
        mn_sb_adds(&res, "{\"memories\":[");
        int n = 0, s;
        long long last_time = 0, last_row = 0;
        int more = 0;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            if (n == limit) {
                more = 1;
                break;
            }
            if (n++) mn_sb_addc(&res, ',');
            mn_memory_json(st, 0, &res);
            last_row = sqlite3_column_int64(st, 0);
            last_time = sqlite3_column_int64(st, 11);
        }
        if (s != SQLITE_ROW && s != SQLITE_DONE) rc = mn_bank_sqlerr(db, s, "listing memories");
        if (more) mn_sb_printf(&res, "],\"next_cursor\":\"%lld:%lld\"}", last_time, last_row);
        else mn_sb_adds(&res, "],\"next_cursor\":null}");
    }
    sqlite3_finalize(st);
    mn_sb_free(&sql);
    mn_filter_free(&f);
    cJSON_Delete(o);
    if (rc) {
        mn_sb_free(&res);
        return rc;
    }
    return take(db, &res, out);
}

int mnemo_delete(mnemo *db, const char *id) {
    CHECK_DB(db);
    int64_t rowid;
    int rc = mn_memory_find(db, id, &rowid);
    if (rc) return rc;
    if ((rc = mn_bank_begin(db))) return rc;
    rc = mn_memory_delete(db, rowid, "deleted by the user");
    if (!rc) rc = mn_bank_commit(db);
    if (rc) {
        mn_bank_rollback(db);
        mn_recall_index_drop(db);
        return rc;
    }
    mn_recall_index_remove(db, rowid);
    return MNEMO_OK;
}

int mnemo_delete_all(mnemo *db) {
    CHECK_DB(db);
    int rc;
    /* secure_delete overwrites freed pages, so deleted memories do not linger
    ** in the file; VACUUM and a truncating checkpoint then drop the free
    ** pages and the WAL copies. "Forget me" means gone from the disk too. */
    if ((rc = mn_bank_exec(db, "PRAGMA secure_delete=ON"))) return rc;
    if ((rc = mn_bank_begin(db))) return rc;
    if (db->fts5) rc = mn_bank_exec(db, "INSERT INTO memories_fts(memories_fts) VALUES('delete-all')");
    if (!rc)
        rc = mn_bank_exec(db,
                      "DELETE FROM memory_entities; DELETE FROM relations; DELETE FROM entities;"
                      "DELETE FROM vectors; DELETE FROM memories; DELETE FROM documents;"
                      "DELETE FROM history; DELETE FROM pending;");
    if (!rc) rc = mn_bank_commit(db);
    mn_recall_index_drop(db);
    if (rc) {
        mn_bank_rollback(db);
        return rc;
    }
    sqlite3_exec(db->sql, "VACUUM", NULL, NULL, NULL);
    sqlite3_exec(db->sql, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    return MNEMO_OK;
}

int mnemo_history(mnemo *db, const char *id, char **out) {
    CHECK_DB(db);
    if (!out) return mn_bank_err(db, MNEMO_EINVAL, "out is NULL");
    *out = NULL;
    if (!id || !*id) return mn_bank_err(db, MNEMO_EINVAL, "memory id is empty");
    sqlite3_stmt *st;
    int rc = mn_bank_prepare(db,
                             "SELECT event, old, CASE WHEN new IS NULL AND event = 'ADD' THEN"
                             " coalesce(lead(old) OVER (ORDER BY id),"
                             "  (SELECT json_object('text', text, 'metadata', json(metadata))"
                             "   FROM memories WHERE id = ?1)) ELSE new END,"
                             " document_id, actor, reason, at FROM history "
                             "WHERE memory_id = ?1 ORDER BY id", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    mn_sb sb;
    mn_sb_init(&sb);
    mn_sb_adds(&sb, "{\"id\":");
    mn_sb_json_str(&sb, id, strlen(id));
    mn_sb_adds(&sb, ",\"history\":[");
    int n = 0, s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++) mn_sb_addc(&sb, ',');
        mn_sb_adds(&sb, "{\"event\":");
        mn_sb_json_str(&sb, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        static const char *const keys[] = {"old", "new"};
        for (int k = 0; k < 2; k++) {
            mn_sb_printf(&sb, ",\"%s\":", keys[k]);
            if (sqlite3_column_type(st, 1 + k) == SQLITE_NULL) mn_sb_adds(&sb, "null");
            else mn_sb_add(&sb, (const char *)sqlite3_column_text(st, 1 + k), (size_t)sqlite3_column_bytes(st, 1 + k));
        }
        static const char *const texts[] = {"document_id", "actor", "reason"};
        for (int k = 0; k < 3; k++) {
            mn_sb_printf(&sb, ",\"%s\":", texts[k]);
            if (sqlite3_column_type(st, 3 + k) == SQLITE_NULL) mn_sb_adds(&sb, "null");
            else mn_sb_json_str(&sb, (const char *)sqlite3_column_text(st, 3 + k), (size_t)sqlite3_column_bytes(st, 3 + k));
        }
        mn_sb_adds(&sb, ",\"at\":");
        mn_memory_time_json(&sb, st, 6);
        mn_sb_addc(&sb, '}');
    }
    if (s != SQLITE_DONE) rc = mn_bank_sqlerr(db, s, "reading history");
    sqlite3_finalize(st);
    if (!rc && n == 0) rc = mn_bank_err(db, MNEMO_ENOTFOUND, "no memory with id '%.64s' ever existed", id);
    if (rc) {
        mn_sb_free(&sb);
        return rc;
    }
    mn_sb_adds(&sb, "]}");
    return take(db, &sb, out);
}

int mnemo_warm(mnemo *db, int max_memories, int *done) {
    CHECK_DB(db);
    if (!done) return mn_bank_err(db, MNEMO_EINVAL, "done is NULL");
    *done = 0;
    if (max_memories < 1) return mn_bank_err(db, MNEMO_EINVAL, "max_memories must be at least 1");
    return mn_recall_index_warm(db, max_memories, done);
}

int mnemo_stats(mnemo *db, char **out) {
    CHECK_DB(db);
    if (!out) return mn_bank_err(db, MNEMO_EINVAL, "out is NULL");
    *out = NULL;
    sqlite3_stmt *st;
    int rc = mn_bank_prepare(db,
                             "SELECT (SELECT count(*) FROM memories WHERE valid_to IS NULL),"
                             " (SELECT count(*) FROM memories WHERE valid_to IS NOT NULL),"
                             " (SELECT count(*) FROM vectors WHERE model=?1 AND dim=?2),"
                             " (SELECT count(*) FROM documents),"
                             " (SELECT count(*) FROM history),"
                             " (SELECT count(*) FROM entities),"
                             " (SELECT page_count * page_size FROM pragma_page_count, pragma_page_size),"
                             " (SELECT user_version FROM pragma_user_version),"
                             " (SELECT count(*) FROM relations WHERE valid_to IS NULL),"
                             " (SELECT count(*) FROM pending)", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, db->embed_model, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, db->embed_dim);
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW) {
        sqlite3_finalize(st);
        return mn_bank_sqlerr(db, s, "reading stats");
    }
    mn_sb sb;
    mn_sb_init(&sb);
    mn_sb_printf(&sb,
                 "{\"memories\":%lld,\"invalid\":%lld,\"vectors\":%lld,\"documents\":%lld,"
                 "\"history\":%lld,\"entities\":%lld,\"relations\":%lld,\"pending\":%lld,"
                 "\"bytes\":%lld,\"schema_version\":%lld,\"llm_today\":",
                 (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
                 (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3),
                 (long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5),
                 (long long)sqlite3_column_int64(st, 8), (long long)sqlite3_column_int64(st, 9),
                 (long long)sqlite3_column_int64(st, 6), (long long)sqlite3_column_int64(st, 7));
    sqlite3_finalize(st);
    if ((rc = mn_budget_today_json(db, &sb))) {
        mn_sb_free(&sb);
        return rc;
    }
    mn_sb_adds(&sb, ",\"embedder\":{\"model\":");
    mn_sb_json_str(&sb, db->embed_model, strlen(db->embed_model));
    mn_sb_printf(&sb, ",\"dim\":%d,\"builtin\":%s},\"index_bytes\":%zu}", db->embed_dim,
                 db->builtin_embedder ? "true" : "false", db->index ? mn_index_bytes(db->index) : (size_t)0);
    return take(db, &sb, out);
}
