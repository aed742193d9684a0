/*
** update.c: changing a memory, and re-embedding memories (reindex). Both may
** need new vectors, so both run as jobs; the write happens in one
** transaction once the vectors are there (or known to be unavailable).
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "job.h"
#include "memory.h"
#include "recall.h"
#include "datetime.h"
#include "vectors.h"

typedef struct update_state {
    cJSON *patch;
    int64_t rowid;
    char *id;
    const char *text;       /* new text or NULL */
    size_t len;
    char *metadata, *topics, *tags; /* new values (printed JSON) or NULL */
    const char *kind;
    int64_t occurred_at;
    int set_occurred;
} update_state;

static void update_free(void *p) {
    update_state *s = p;
    cJSON_Delete(s->patch);
    mn_free(s->id);
    cJSON_free(s->metadata);
    cJSON_free(s->topics);
    cJSON_free(s->tags);
    mn_free(s);
}

static int read_patch(mnemo *db, update_state *s) {
    for (const cJSON *x = s->patch->child; x; x = x->next) {
        const char *k = x->string;
        if (!strcmp(k, "text")) {
            if (!cJSON_IsString(x) || !*x->valuestring)
                return mn_bank_err(db, MNEMO_EINVAL, "'text' must be a non-empty string");
            s->text = x->valuestring;
            s->len = strlen(x->valuestring);
            if (s->len > MNEMO_MAX_TEXT_BYTES)
                return mn_bank_err(db, MNEMO_ETOOBIG, "text is %zu bytes, the limit is %d", s->len,
                                   MNEMO_MAX_TEXT_BYTES);
        } else if (!strcmp(k, "metadata")) {
            if (!cJSON_IsObject(x)) return mn_bank_err(db, MNEMO_EINVAL, "'metadata' must be a JSON object");
            if (!(s->metadata = cJSON_PrintUnformatted(x))) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
        } else if (!strcmp(k, "topics") || !strcmp(k, "tags")) {
            int ok = cJSON_IsArray(x);
            for (const cJSON *e = ok ? x->child : NULL; e; e = e->next) ok &= cJSON_IsString(e);
            if (!ok) return mn_bank_err(db, MNEMO_EINVAL, "'%s' must be an array of strings", k);
            char *p = cJSON_PrintUnformatted(x);
            if (!p) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
            if (k[1] == 'o') s->topics = p;
            else s->tags = p;
        } else if (!strcmp(k, "kind")) {
            if (!cJSON_IsString(x) || !*x->valuestring || strlen(x->valuestring) > 64)
                return mn_bank_err(db, MNEMO_EINVAL, "'kind' must be a string of 1 to 64 bytes");
            s->kind = x->valuestring;
        } else if (!strcmp(k, "occurred_at") || !strcmp(k, "timestamp")) {
            if (cJSON_IsNumber(x) && isfinite(x->valuedouble)) s->occurred_at = (int64_t)x->valuedouble;
            else if (!cJSON_IsString(x) || mn_time_parse(x->valuestring, &s->occurred_at) != 0)
                return mn_bank_err(db, MNEMO_EINVAL, "'%s' must be an ISO-8601 time or epoch ms", k);
            s->set_occurred = 1;
        } else {
            return mn_bank_err(db, MNEMO_EINVAL, "unknown update field '%.64s'", k);
        }
    }
    if (!s->text && !s->metadata && !s->topics && !s->tags && !s->kind && !s->set_occurred)
        return mn_bank_err(db, MNEMO_EINVAL, "update changes nothing: give text, metadata, topics, tags, kind or occurred_at");
    return MNEMO_OK;
}

static int apply_update(mnemo *db, update_state *s, const float *vec) {
    int rc = mn_bank_begin(db);
    if (rc) return rc;
    char *old = mn_memory_snapshot(db, s->rowid), *now_json = NULL;
    if (!old) rc = MNEMO_ENOMEM;
    sqlite3_stmt *st = NULL;
    /* External-content FTS5: remove the old text before it changes. */
    if (!rc && s->text) rc = mn_memory_fts_remove(db, s->rowid);
    if (!rc && !(rc = mn_bank_prepare(db,
                                      "UPDATE memories SET text=coalesce(?1, text), metadata=coalesce(?2, metadata),"
                                      " topics=coalesce(?3, topics), tags=coalesce(?4, tags),"
                                      " kind=coalesce(?5, kind),"
                                      " occurred_at=CASE WHEN ?6 THEN ?7 ELSE occurred_at END,"
                                      " hash=coalesce(?8, hash), updated_at=?9 WHERE rowid=?10", &st))) {
        char hash[17];
        if (s->text) {
            mn_hash_hex(s->text, s->len, hash);
            sqlite3_bind_text(st, 1, s->text, (int)s->len, SQLITE_STATIC);
            sqlite3_bind_text(st, 8, hash, -1, SQLITE_STATIC);
        }
        if (s->metadata) sqlite3_bind_text(st, 2, s->metadata, -1, SQLITE_STATIC);
        if (s->topics) sqlite3_bind_text(st, 3, s->topics, -1, SQLITE_STATIC);
        if (s->tags) sqlite3_bind_text(st, 4, s->tags, -1, SQLITE_STATIC);
        if (s->kind) sqlite3_bind_text(st, 5, s->kind, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, s->set_occurred);
        sqlite3_bind_int64(st, 7, s->occurred_at);
        sqlite3_bind_int64(st, 9, mn_bank_now(db));
        sqlite3_bind_int64(st, 10, s->rowid);
        int r = sqlite3_step(st);
        if (r != SQLITE_DONE) rc = mn_bank_sqlerr(db, r, "updating a memory");
        sqlite3_finalize(st);
    }
    if (!rc && s->text) {
        rc = mn_memory_fts_add(db, s->rowid, s->rowid);
        /* A vector of the old text would mislead recall: replace or drop it. */
        if (!rc && vec) rc = mn_vectors_store(db, s->rowid, vec);
        if (!rc && !vec) {
            char sql[96];
            snprintf(sql, sizeof sql, "DELETE FROM vectors WHERE memory_rowid=%lld", (long long)s->rowid);
            rc = mn_bank_exec(db, sql);
        }
    }
    if (!rc && !(now_json = mn_memory_snapshot(db, s->rowid))) rc = MNEMO_ENOMEM;
    if (!rc) rc = mn_memory_history(db, s->id, "UPDATE", old, now_json, NULL, NULL);
    if (!rc) rc = mn_bank_commit(db);
    mn_free(old);
    mn_free(now_json);
    if (rc) {
        mn_bank_rollback(db);
        mn_recall_index_drop(db);
    } else if (s->text || (s->topics && db->builtin_embedder)) {
        mn_recall_index_put_row(db, s->rowid, vec); /* topics are indexed too */
    }
    return rc;
}

static void on_update_vectors(mnemo_job *job, float *vecs, const char *why) {
    update_state *s = job->state;
    int rc = apply_update(job->db, s, vecs);
    char *res = NULL;
    if (!rc) rc = mnemo_get(job->db, s->id, &res);
    if (rc) mn_job_fail_with(job, rc);
    else mn_job_done(job, res);
}

int mnemo_update(mnemo *db, const char *id, const char *patch_json, mnemo_job **out) {
    if (!out) return db ? mn_bank_err(db, MNEMO_EINVAL, "out is NULL") : MNEMO_EINVAL;
    *out = NULL;
    if (!db || !db->sql) return MNEMO_EMISUSE;
    int64_t rowid;
    int rc = mn_memory_find(db, id, &rowid);
    if (rc) return rc;
    cJSON *patch;
    if ((rc = mn_bank_parse(db, patch_json, patch_json ? strlen(patch_json) : 0, "update", 0, &patch)))
        return rc;
    update_state *s = mn_malloc(sizeof *s);
    if (!s) {
        cJSON_Delete(patch);
        return mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
    }
    memset(s, 0, sizeof *s);
    s->patch = patch;
    s->rowid = rowid;
    mnemo_job *job = mn_job_new(db, s, update_free);
    if (!job) return MNEMO_ENOMEM;
    if (!(s->id = mn_strndup(id, strlen(id)))) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
    if (!rc) rc = read_patch(db, s);
    if (!rc && s->text) {
        size_t bad;
        if (!mn_utf8_valid(s->text, s->len, &bad))
            rc = mn_bank_err(db, MNEMO_EUTF8, "text has invalid UTF-8 at byte %zu", bad);
    }
    if (rc) {
        mn_job_fail_with(job, rc);
        return mn_job_hand_over(job, out);
    }
    if (s->text) mn_vectors_start(job, &s->text, &s->len, 1, on_update_vectors);
    else on_update_vectors(job, NULL, NULL);
    return mn_job_hand_over(job, out);
}

/* ---- reindex ---- */

typedef struct reindex_state {
    int64_t *rowids;
    char **texts;
    size_t *lens;
    int n;
} reindex_state;

static void reindex_free(void *p) {
    reindex_state *s = p;
    for (int i = 0; i < s->n; i++) mn_free(s->texts[i]);
    mn_free(s->rowids);
    mn_free(s->texts);
    mn_free(s->lens);
    mn_free(s);
}

static void on_reindex_vectors(mnemo_job *job, float *vecs, const char *why) {
    mnemo *db = job->db;
    reindex_state *s = job->state;
    if (!vecs && s->n) {
        mn_bank_err(db, MNEMO_EHOST, "reindex: %s", why ? why : "no vectors");
        mn_job_fail_with(job, MNEMO_EHOST);
        return;
    }
    int rc = mn_bank_begin(db);
    for (int i = 0; i < s->n && !rc; i++)
        rc = mn_vectors_store(db, s->rowids[i], vecs + (size_t)i * (size_t)db->embed_dim);
    if (!rc) rc = mn_bank_commit(db);
    if (rc) mn_bank_rollback(db);
    mn_recall_index_drop(db); /* rebuilt with the new vectors on the next recall */
    if (rc) {
        mn_job_fail_with(job, rc);
        return;
    }
    mn_sb sb;
    mn_sb_init(&sb);
    mn_sb_printf(&sb, "{\"reindexed\":%d,\"model\":", s->n);
    mn_sb_json_str(&sb, db->embed_model, strlen(db->embed_model));
    mn_sb_addc(&sb, '}');
    mn_job_done_sb(job, &sb);
}

int mnemo_reindex(mnemo *db, mnemo_job **out) {
    if (!out) return db ? mn_bank_err(db, MNEMO_EINVAL, "out is NULL") : MNEMO_EINVAL;
    *out = NULL;
    if (!db || !db->sql) return MNEMO_EMISUSE;
    reindex_state *s = mn_malloc(sizeof *s);
    if (!s) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
    memset(s, 0, sizeof *s);
    mnemo_job *job = mn_job_new(db, s, reindex_free);
    if (!job) return MNEMO_ENOMEM;
    sqlite3_stmt *st;
    if (db->builtin_embedder) { /* nothing stored, nothing stale */
        on_reindex_vectors(job, NULL, NULL);
        return mn_job_hand_over(job, out);
    }
    int rc = mn_bank_prepare(db,
                             "SELECT m.rowid, m.text FROM memories m WHERE NOT EXISTS (SELECT 1 "
                             "FROM vectors v WHERE v.memory_rowid=m.rowid AND v.model=?1 AND v.dim=?2) "
                             "ORDER BY m.rowid", &st);
    int cap = 0, r = SQLITE_DONE;
    if (!rc) {
        sqlite3_bind_text(st, 1, db->embed_model, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, db->embed_dim);
        while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
            if (s->n == cap) {
                cap = cap ? cap * 2 : 64;
                int64_t *a = mn_realloc(s->rowids, (size_t)cap * sizeof *a);
                if (a) s->rowids = a;
                char **b = mn_realloc(s->texts, (size_t)cap * sizeof *b);
                if (b) s->texts = b;
                size_t *c = mn_realloc(s->lens, (size_t)cap * sizeof *c);
                if (c) s->lens = c;
                if (!a || !b || !c) { rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory"); break; }
            }
            size_t len = (size_t)sqlite3_column_bytes(st, 1);
            char *t = mn_strndup((const char *)sqlite3_column_text(st, 1), len);
            if (!t) { rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory"); break; }
            s->rowids[s->n] = sqlite3_column_int64(st, 0);
            s->texts[s->n] = t;
            s->lens[s->n++] = len;
        }
        if (!rc && r != SQLITE_DONE) rc = mn_bank_sqlerr(db, r, "reading memories to reindex");
        sqlite3_finalize(st);
    }
    if (rc) {
        mn_job_fail_with(job, rc);
        return mn_job_hand_over(job, out);
    }
    mn_vectors_start(job, (const char *const *)s->texts, s->lens, s->n, on_reindex_vectors);
    return mn_job_hand_over(job, out);
}
