/*
** export.c: a bank as JSON Lines and back.
**
** Records, in a fixed order so that export -> import -> export is
** byte-identical: {"type":"bank"} header, then memories by rowid, documents
** by id, history by id. Built-in vectors are not exported (they are a pure
** function of the text and are recomputed on import); a host model's vectors
** are recomputed by `reindex`, and the import result says how many wait.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "embed.h"
#include "memory.h"
#include "recall.h"
#include "datetime.h"

#define EXPORT_FORMAT 1

static int emit(mnemo *db, mn_sb *sb, int (*write)(void *, const char *, size_t), void *ctx) {
    if (sb->oom) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory exporting");
    int rc = write(ctx, mn_sb_str(sb), sb->len);
    mn_sb_reset(sb);
    if (rc) return mn_bank_err(db, rc, "export stopped by its writer (code %d)", rc);
    return MNEMO_OK;
}

int mnemo_export(mnemo *db, int (*write)(void *ctx, const char *line, size_t len), void *ctx) {
    if (!db || !db->sql) return MNEMO_EMISUSE;
    if (!write) return mn_bank_err(db, MNEMO_EINVAL, "write callback is NULL");
    mn_sb sb;
    mn_sb_init(&sb);
    /* One read transaction: the export is a consistent snapshot. */
    int rc = mn_bank_exec(db, "BEGIN");
    if (rc) return rc;
    mn_sb_printf(&sb, "{\"type\":\"bank\",\"format\":%d,\"mnemo\":\"%s\"}", EXPORT_FORMAT, MNEMO_VERSION);
    rc = emit(db, &sb, write, ctx);
    static const char *const queries[] = {
        "SELECT " MN_MEMORY_COLS " FROM memories m ORDER BY m.rowid",
        "SELECT id, hash, created_at, updated_at FROM documents ORDER BY id",
        "SELECT memory_id, event, old, new, document_id, actor, reason, at FROM history ORDER BY id",
    };
    for (int q = 0; q < 3 && !rc; q++) {
        sqlite3_stmt *st;
        if ((rc = mn_bank_prepare(db, queries[q], &st))) break;
        int s;
        while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
            if (q == 0) {
                static const char head[] = "{\"type\":\"memory\",";
                mn_sb_adds(&sb, head);
                mn_memory_json(st, 0, &sb);
                if (sb.oom) break;
                /* splice: drop the memory object's own opening brace */
                size_t at = sizeof head - 1;
                memmove(sb.p + at, sb.p + at + 1, sb.len - at - 1);
                sb.p[--sb.len] = 0;
            } else if (q == 1) {
                mn_sb_adds(&sb, "{\"type\":\"document\",\"id\":");
                mn_sb_json_str(&sb, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
                mn_sb_adds(&sb, ",\"hash\":");
                mn_sb_json_str(&sb, (const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1));
                mn_sb_adds(&sb, ",\"created_at\":");
                mn_memory_time_json(&sb, st, 2);
                mn_sb_adds(&sb, ",\"updated_at\":");
                mn_memory_time_json(&sb, st, 3);
                mn_sb_addc(&sb, '}');
            } else {
                static const char *const keys[] = {"memory_id", "event", "old", "new",
                                                   "document_id", "actor", "reason"};
                mn_sb_adds(&sb, "{\"type\":\"history\"");
                for (int k = 0; k < 7; k++) {
                    mn_sb_printf(&sb, ",\"%s\":", keys[k]);
                    if (sqlite3_column_type(st, k) == SQLITE_NULL) mn_sb_adds(&sb, "null");
                    else if (k == 2 || k == 3)
                        mn_sb_add(&sb, (const char *)sqlite3_column_text(st, k), (size_t)sqlite3_column_bytes(st, k));
                    else
                        mn_sb_json_str(&sb, (const char *)sqlite3_column_text(st, k), (size_t)sqlite3_column_bytes(st, k));
                }
                mn_sb_adds(&sb, ",\"at\":");
                mn_memory_time_json(&sb, st, 7);
                mn_sb_addc(&sb, '}');
            }
            rc = emit(db, &sb, write, ctx);
        }
        if (!rc && s != SQLITE_DONE) rc = mn_bank_sqlerr(db, s, "exporting");
        sqlite3_finalize(st);
    }
    sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);
    mn_sb_free(&sb);
    return rc;
}

/* ---- import ---- */

static int field_time(const cJSON *o, const char *key, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = MN_NO_TIME;
    if (!v || cJSON_IsNull(v)) return 0;
    if (cJSON_IsNumber(v)) {
        *out = (int64_t)v->valuedouble;
        return 0;
    }
    return cJSON_IsString(v) ? mn_time_parse(v->valuestring, out) : -1;
}

static const char *field_str(const cJSON *o, const char *key) {
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int import_memory(mnemo *db, const cJSON *o, int line, int *vectors_pending) {
    mn_memory m;
    memset(&m, 0, sizeof m);
    const char *id = field_str(o, "id"), *hash = field_str(o, "hash");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(o, "text");
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(o, "topics");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "tags");
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(o, "metadata");
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(o, "confidence");
    if (!id || !*id || strlen(id) > 64 || !cJSON_IsString(text) || !*text->valuestring ||
        !cJSON_IsArray(topics) || !cJSON_IsArray(tags) || !cJSON_IsObject(md))
        return mn_bank_err(db, MNEMO_EINVAL,
                           "import line %d: a memory needs id, text, topics, tags and metadata", line);
    if (field_time(o, "occurred_at", &m.occurred_at) || field_time(o, "created_at", &m.created_at) ||
        field_time(o, "updated_at", &m.updated_at) || field_time(o, "valid_from", &m.valid_from) ||
        field_time(o, "valid_to", &m.valid_to))
        return mn_bank_err(db, MNEMO_EINVAL, "import line %d: a time is not ISO-8601", line);
    snprintf(m.id, sizeof m.id, "%s", id);
    m.text = text->valuestring;
    m.len = strlen(text->valuestring);
    m.kind = field_str(o, "kind");
    m.document_id = field_str(o, "document_id");
    m.source = field_str(o, "source");
    m.superseded_by = field_str(o, "superseded_by");
    m.prompt_version = field_str(o, "prompt_version");
    m.confidence = cJSON_IsNumber(conf) ? conf->valuedouble : 1.0;
    if (hash && strlen(hash) == 16) memcpy(m.hash, hash, 17);
    else mn_hash_hex(m.text, m.len, m.hash);
    char *t = cJSON_PrintUnformatted(topics), *g = cJSON_PrintUnformatted(tags),
         *d = cJSON_PrintUnformatted(md);
    int rc = MNEMO_OK;
    if (!t || !g || !d) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory importing");
    m.topics = t, m.tags = g, m.metadata = d;
    int64_t old;
    if (!rc && mn_memory_find(db, id, &old) == MNEMO_OK) {
        /* Replace: the imported record is the truth for this id. */
        sqlite3_stmt *st;
        rc = mn_memory_fts_remove(db, old);
        if (!rc && !(rc = mn_bank_prepare(db, "DELETE FROM memories WHERE rowid=?", &st))) {
            sqlite3_bind_int64(st, 1, old);
            int s = sqlite3_step(st);
            sqlite3_finalize(st);
            if (s != SQLITE_DONE) rc = mn_bank_sqlerr(db, s, "replacing a memory");
        }
    }
    if (!db->builtin_embedder) (*vectors_pending)++;
    int64_t rowid;
    if (!rc) rc = mn_memory_insert(db, &m, NULL, 1, &rowid);
    if (!rc) rc = mn_memory_fts_add(db, rowid, rowid);
    cJSON_free(t);
    cJSON_free(g);
    cJSON_free(d);
    return rc;
}

static int import_history(mnemo *db, const cJSON *o, int line) {
    const char *mid = field_str(o, "memory_id"), *ev = field_str(o, "event");
    int64_t at;
    if (!mid || !ev || field_time(o, "at", &at) || at == MN_NO_TIME)
        return mn_bank_err(db, MNEMO_EINVAL, "import line %d: history needs memory_id, event and at", line);
    sqlite3_stmt *st;
    int rc = mn_bank_prepare(db,
                             "INSERT INTO history(memory_id, event, old, new, document_id, actor, reason, at)"
                             " VALUES(?,?,?,?,?,?,?,?)", &st);
    if (rc) return rc;
    char *js[2] = {NULL, NULL};
    static const char *const keys[] = {"old", "new"};
    for (int k = 0; k < 2; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[k]);
        if (v && !cJSON_IsNull(v)) js[k] = cJSON_PrintUnformatted(v);
    }
    sqlite3_bind_text(st, 1, mid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ev, -1, SQLITE_STATIC);
    if (js[0]) sqlite3_bind_text(st, 3, js[0], -1, SQLITE_STATIC);
    if (js[1]) sqlite3_bind_text(st, 4, js[1], -1, SQLITE_STATIC);
    const char *doc = field_str(o, "document_id"), *actor = field_str(o, "actor"),
               *reason = field_str(o, "reason");
    if (doc) sqlite3_bind_text(st, 5, doc, -1, SQLITE_STATIC);
    if (actor) sqlite3_bind_text(st, 6, actor, -1, SQLITE_STATIC);
    if (reason) sqlite3_bind_text(st, 7, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, at);
    int s = sqlite3_step(st);
    sqlite3_finalize(st);
    cJSON_free(js[0]);
    cJSON_free(js[1]);
    if (s == SQLITE_CONSTRAINT)
        return mn_bank_err(db, MNEMO_EINVAL, "import line %d: unknown history event '%.16s'", line, ev);
    return s == SQLITE_DONE ? MNEMO_OK : mn_bank_sqlerr(db, s, "importing history");
}

static int import_document(mnemo *db, const cJSON *o, int line) {
    const char *id = field_str(o, "id"), *hash = field_str(o, "hash");
    int64_t c, u;
    if (!id || !hash || field_time(o, "created_at", &c) || field_time(o, "updated_at", &u) ||
        c == MN_NO_TIME || u == MN_NO_TIME)
        return mn_bank_err(db, MNEMO_EINVAL, "import line %d: a document needs id, hash and times", line);
    sqlite3_stmt *st;
    int rc = mn_bank_prepare(db, "INSERT OR REPLACE INTO documents(id, hash, created_at, updated_at) VALUES(?,?,?,?)", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, c);
    sqlite3_bind_int64(st, 4, u);
    int s = sqlite3_step(st);
    sqlite3_finalize(st);
    return s == SQLITE_DONE ? MNEMO_OK : mn_bank_sqlerr(db, s, "importing a document");
}

int mnemo_import(mnemo *db, const char *jsonl, size_t len, char **out) {
    if (!db || !db->sql) return MNEMO_EMISUSE;
    if (!out) return mn_bank_err(db, MNEMO_EINVAL, "out is NULL");
    *out = NULL;
    if (!jsonl) return mn_bank_err(db, MNEMO_EINVAL, "import input is NULL");
    int rc = mn_bank_begin(db);
    if (rc) return rc;
    int line = 0, memories = 0, pending = 0;
    size_t at = 0;
    while (!rc && at < len) {
        const char *nl = memchr(jsonl + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - jsonl) : len;
        line++;
        size_t n = end - at;
        const char *p = jsonl + at;
        at = end + 1;
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' ')) n--;
        if (!n) continue;
        char what[48];
        snprintf(what, sizeof what, "import line %d", line);
        cJSON *o;
        if ((rc = mn_bank_parse(db, p, n, what, 0, &o))) break;
        const char *type = field_str(o, "type");
        if (!type) rc = mn_bank_err(db, MNEMO_EINVAL, "import line %d has no \"type\"", line);
        else if (!strcmp(type, "bank")) {
            const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "format");
            if (!cJSON_IsNumber(f) || f->valuedouble > EXPORT_FORMAT)
                rc = mn_bank_err(db, MNEMO_ESCHEMA, "import line %d: export format is newer than this Mnemo's %d",
                                 line, EXPORT_FORMAT);
        } else if (!strcmp(type, "memory")) {
            rc = import_memory(db, o, line, &pending);
            memories++;
        } else if (!strcmp(type, "history")) {
            rc = import_history(db, o, line);
        } else if (!strcmp(type, "document")) {
            rc = import_document(db, o, line);
        } else {
            rc = mn_bank_err(db, MNEMO_EINVAL, "import line %d: unknown record type '%.32s'", line, type);
        }
        cJSON_Delete(o);
    }
    if (!rc) rc = mn_bank_commit(db);
    if (rc) mn_bank_rollback(db);
    mn_recall_index_drop(db);
    if (rc) return rc;
    mn_sb sb;
    mn_sb_init(&sb);
    mn_sb_printf(&sb, "{\"imported\":%d,\"vectors_pending\":%d}", memories, pending);
    *out = mn_sb_take(&sb);
    return *out ? MNEMO_OK : mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
}
