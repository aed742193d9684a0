/*
** vectors.c: embeddings for a batch of texts. Built-in: computed in place.
** Host model: one OpenAI-style embeddings request per MN_VECTORS_BATCH texts,
** parsed defensively (wrong count, wrong dimension, non-numbers, missing
** index) and normalised; any failure hands NULL to the caller, which keeps
** the texts without vectors until `reindex`.
*/
#include <math.h>
#include <string.h>

#include "embed.h"
#include "vectors.h"

static void request_next(mnemo_job *job);

static void finish(mnemo_job *job, int ok, const char *why) {
    void (*done)(mnemo_job *, float *, const char *) = job->vectors_done;
    job->vectors_done = NULL;
    done(job, ok ? job->vectors : NULL, why);
}

static void on_response(mnemo_job *job, const char *resp, size_t len, int rc,
                        const char *message) {
    mnemo *db = job->db;
    if (!resp) {
        finish(job, 0, message ? message : "embeddings request failed");
        return;
    }
    int first = job->vectors_next;
    int count = job->vectors_n - first < MN_VECTORS_BATCH ? job->vectors_n - first : MN_VECTORS_BATCH;
    cJSON *j = cJSON_ParseWithLength(resp, len);
    cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
    const char *why = NULL;
    if (!j) why = "embeddings response is not JSON";
    else if (!cJSON_IsArray(data) || cJSON_GetArraySize(data) != count)
        why = "embeddings response has the wrong number of vectors";
    int seen = 0;
    for (cJSON *item = data ? data->child : NULL; !why && item; item = item->next, seen++) {
        cJSON *emb = cJSON_GetObjectItemCaseSensitive(item, "embedding");
        cJSON *idx = cJSON_GetObjectItemCaseSensitive(item, "index");
        int at = cJSON_IsNumber(idx) ? (int)idx->valuedouble : seen;
        if (at < 0 || at >= count) { why = "embeddings response has an index out of range"; break; }
        if (!cJSON_IsArray(emb) || cJSON_GetArraySize(emb) != db->embed_dim) {
            why = "embeddings response has a vector of the wrong dimension";
            break;
        }
        float *v = job->vectors + (size_t)(first + at) * (size_t)db->embed_dim;
        int d = 0;
        for (cJSON *x = emb->child; x; x = x->next, d++) {
            if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble)) { why = "embeddings response has a non-number"; break; }
            v[d] = (float)x->valuedouble;
        }
        mn_vec_normalize(v, (size_t)db->embed_dim);
    }
    cJSON_Delete(j);
    if (why) {
        finish(job, 0, why);
        return;
    }
    job->vectors_next += count;
    if (job->vectors_next < job->vectors_n) request_next(job);
    else finish(job, 1, NULL);
}

static void request_next(mnemo_job *job) {
    mnemo *db = job->db;
    int first = job->vectors_next;
    int count = job->vectors_n - first < MN_VECTORS_BATCH ? job->vectors_n - first : MN_VECTORS_BATCH;
    mn_sb sb;
    mn_sb_init(&sb);
    mn_sb_adds(&sb, "{\"type\":\"embeddings\",\"body\":{\"model\":");
    mn_sb_json_str(&sb, db->embed_model, strlen(db->embed_model));
    mn_sb_adds(&sb, ",\"input\":[");
    for (int i = 0; i < count; i++) {
        if (i) mn_sb_addc(&sb, ',');
        mn_sb_json_str(&sb, job->vectors_texts[first + i], job->vectors_lens[first + i]);
    }
    mn_sb_adds(&sb, "]}}");
    char *req = mn_sb_take(&sb);
    if (!req) {
        finish(job, 0, "out of memory building the embeddings request");
        return;
    }
    mn_job_wait(job, req, on_response);
}

void mn_vectors_start(mnemo_job *job, const char *const *texts, const size_t *lens, int n,
                      void (*done)(mnemo_job *, float *, const char *)) {
    mnemo *db = job->db;
    job->vectors_done = done;
    job->vectors_n = n;
    job->vectors_next = 0;
    job->vectors_texts = texts;
    job->vectors_lens = lens;
    mn_free(job->vectors);
    job->vectors = n ? mn_malloc((size_t)n * (size_t)db->embed_dim * sizeof(float)) : NULL;
    if (n && !job->vectors) {
        finish(job, 0, "out of memory for vectors");
        return;
    }
    if (n == 0) {
        finish(job, 1, NULL);
        return;
    }
    if (db->builtin_embedder) {
        for (int i = 0; i < n; i++)
            mn_embed_text(texts[i], lens[i], job->vectors + (size_t)i * MN_EMBED_DIM);
        finish(job, 1, NULL);
        return;
    }
    request_next(job);
}

int mn_vectors_store(mnemo *db, int64_t rowid, const float *vec) {
    if (db->builtin_embedder) return MNEMO_OK; /* recomputed from the text, see retain.c */
    sqlite3_stmt *st;
    int rc = mn_bank_cached(db, MN_STMT_INSERT_VECTOR,
                            "INSERT OR REPLACE INTO vectors(memory_rowid, model, dim, vec) "
                            "VALUES(?,?,?,?)", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, rowid);
    sqlite3_bind_text(st, 2, db->embed_model, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, db->embed_dim);
    sqlite3_bind_blob(st, 4, vec, (int)((size_t)db->embed_dim * sizeof(float)), SQLITE_STATIC);
    return mn_bank_write(db, st, "storing a vector");
}
