/*
** retain.c: storing memories in manual mode ("infer": false), with
** document_id upsert, and the reading of every retain input (retain.h).
** "infer": true hands the read input to extract.c.
**
** Order of work: parse and validate everything; skip documents whose content
** is unchanged; get vectors (built-in now, or from the host through the job);
** then write all of it in one transaction. A failure at any point writes
** nothing.
*/
#include <math.h>
#include <string.h>

#include "datetime.h"
#include "extract.h"
#include "recall.h"
#include "retain.h"
#include "vectors.h"

typedef mn_retain_item item;
typedef mn_retain_in retain_state;

void mn_retain_clear(mn_retain_in *s) {
    for (int i = 0; i < s->n; i++) {
        mn_free(s->items[i].metadata_owned);
        mn_free(s->items[i].topics_owned);
        mn_free(s->items[i].tags_owned);
    }
    mn_free(s->items);
    mn_free(s->texts);
    mn_free(s->lens);
    mn_free(s->which);
    mn_free(s->metadata);
    cJSON_free((void *)s->topics);
    cJSON_free((void *)s->tags);
    cJSON_Delete(s->input);
    cJSON_Delete(s->merged);
    mn_extract_free(s->ex);
    memset(s, 0, sizeof *s);
}

static void state_free(void *p) {
    mn_retain_clear(p);
    mn_free(p);
}

/* Field defaults an item inherits from the object that contains it. */
typedef struct inherit {
    const cJSON *metadata;
    const char *document_id, *kind, *source;
    const cJSON *topics, *tags;
    int64_t occurred_at;
    double confidence;
} inherit;

static int string_array(mnemo *db, const cJSON *a, const char *name, char **out) {
    if (!cJSON_IsArray(a)) return mn_bank_err(db, MNEMO_EINVAL, "'%s' must be an array of strings", name);
    for (const cJSON *x = a->child; x; x = x->next)
        if (!cJSON_IsString(x)) return mn_bank_err(db, MNEMO_EINVAL, "'%s' must be an array of strings", name);
    *out = cJSON_PrintUnformatted(a);
    return *out ? MNEMO_OK : mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
}

static int opt_string(mnemo *db, const cJSON *o, const char *key, size_t max, const char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return MNEMO_OK;
    if (!cJSON_IsString(v) || !*v->valuestring)
        return mn_bank_err(db, MNEMO_EINVAL, "'%s' must be a non-empty string", key);
    if (strlen(v->valuestring) > max)
        return mn_bank_err(db, MNEMO_EINVAL, "'%s' must be at most %zu bytes", key, max);
    *out = v->valuestring;
    return MNEMO_OK;
}

static int read_time(mnemo *db, const cJSON *v, const char *key, int64_t *out) {
    if (!v || cJSON_IsNull(v)) return MNEMO_OK;
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        *out = (int64_t)v->valuedouble;
        return MNEMO_OK;
    }
    if (cJSON_IsString(v) && mn_time_parse(v->valuestring, out) == 0) return MNEMO_OK;
    return mn_bank_err(db, MNEMO_EINVAL, "'%s' must be an ISO-8601 time or epoch milliseconds, got %.40s",
                       key, cJSON_IsString(v) ? v->valuestring : "a non-string");
}

/* Reads the fields an object may set for itself and its children. */
/* An inner object's metadata keys override the outer's: a conversation's
** metadata plus a message's own. The merged object lives in s->merged. */
static int merge_metadata(mnemo *db, retain_state *s, const cJSON *md, const char *what,
                          const cJSON **inout) {
    if (!md || cJSON_IsNull(md)) return MNEMO_OK;
    if (!cJSON_IsObject(md)) return mn_bank_err(db, MNEMO_EINVAL, "%s 'metadata' must be a JSON object", what);
    if (!*inout) {
        *inout = md;
        return MNEMO_OK;
    }
    if (!s->merged && !(s->merged = cJSON_CreateArray())) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
    cJSON *m = cJSON_Duplicate(*inout, 1);
    if (!m) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
    cJSON_AddItemToArray(s->merged, m);
    for (const cJSON *x = md->child; x; x = x->next) {
        cJSON *dup = cJSON_Duplicate(x, 1);
        if (!dup) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
        cJSON_DeleteItemFromObjectCaseSensitive(m, x->string);
        cJSON_AddItemToObject(m, x->string, dup);
    }
    *inout = m;
    return MNEMO_OK;
}

static int read_inherit(mnemo *db, retain_state *s, const cJSON *o, inherit *in) {
    int rc;
    if ((rc = merge_metadata(db, s, cJSON_GetObjectItemCaseSensitive(o, "metadata"), "the",
                             &in->metadata)))
        return rc;
    if ((rc = opt_string(db, o, "document_id", 512, &in->document_id))) return rc;
    if ((rc = opt_string(db, o, "kind", 64, &in->kind))) return rc;
    if ((rc = opt_string(db, o, "source", 256, &in->source))) return rc;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "topics");
    if (t && !cJSON_IsNull(t)) in->topics = t;
    t = cJSON_GetObjectItemCaseSensitive(o, "tags");
    if (t && !cJSON_IsNull(t)) in->tags = t;
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "timestamp");
    if ((rc = read_time(db, ts, "timestamp", &in->occurred_at))) return rc;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "confidence");
    if (c && !cJSON_IsNull(c)) {
        if (!cJSON_IsNumber(c) || !(c->valuedouble >= 0 && c->valuedouble <= 1))
            return mn_bank_err(db, MNEMO_EINVAL, "'confidence' must be a number between 0 and 1");
        in->confidence = c->valuedouble;
    }
    return MNEMO_OK;
}

static item *push(mnemo *db, retain_state *s) {
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 8;
        item *p = mn_realloc(s->items, (size_t)cap * sizeof *p);
        if (!p) {
            mn_bank_err(db, MNEMO_ENOMEM, "out of memory reading retain input");
            return NULL;
        }
        s->items = p;
        s->cap = cap;
    }
    item *it = &s->items[s->n++];
    memset(it, 0, sizeof *it);
    return it;
}

static int add_text(mnemo *db, retain_state *s, const cJSON *text, const inherit *in,
                    const char *role) {
    if (!cJSON_IsString(text))
        return mn_bank_err(db, MNEMO_EINVAL, "'text' (or a message's 'content') must be a string");
    size_t len = strlen(text->valuestring);
    const char *p = text->valuestring;
    size_t k = 0;
    while (k < len && (p[k] == ' ' || p[k] == '\n' || p[k] == '\t' || p[k] == '\r')) k++;
    if (k == len) return mn_bank_err(db, MNEMO_EINVAL, "text is empty");
    if (len > MNEMO_MAX_TEXT_BYTES)
        return mn_bank_err(db, MNEMO_ETOOBIG, "text is %zu bytes, the limit for one memory is %d",
                           len, MNEMO_MAX_TEXT_BYTES);
    item *it = push(db, s);
    if (!it) return MNEMO_ENOMEM;
    it->role = role;
    mn_memory *m = &it->m;
    m->text = p;
    m->len = len;
    m->kind = in->kind;
    m->document_id = in->document_id;
    m->source = in->source ? in->source : role;
    m->confidence = in->confidence;
    m->occurred_at = in->occurred_at;
    m->created_at = m->updated_at = m->valid_from = m->valid_to = MN_NO_TIME;
    int rc;
    if (in->topics && (rc = string_array(db, in->topics, "topics", &it->topics_owned))) return rc;
    if (in->tags && (rc = string_array(db, in->tags, "tags", &it->tags_owned))) return rc;
    m->topics = it->topics_owned;
    m->tags = it->tags_owned;
    if (in->metadata) {
        it->metadata_owned = cJSON_PrintUnformatted(in->metadata);
        if (!it->metadata_owned) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
        m->metadata = it->metadata_owned;
    }
    /* The hash covers what makes two versions of a document differ. */
    mn_sb h;
    mn_sb_init(&h);
    mn_sb_add(&h, m->text, m->len);
    mn_sb_printf(&h, "\x1f%s\x1f%s\x1f%lld", m->metadata ? m->metadata : "{}",
                 m->source ? m->source : "", (long long)m->occurred_at);
    if (h.oom) {
        mn_sb_free(&h);
        return mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
    }
    mn_hash_hex(h.p, h.len, m->hash);
    mn_sb_free(&h);
    return MNEMO_OK;
}

static int read_input(mnemo *db, retain_state *s, const cJSON *o, inherit in, int depth) {
    int rc;
    if ((rc = read_inherit(db, s, o, &in))) return rc;
    const cJSON *infer = cJSON_GetObjectItemCaseSensitive(o, "infer");
    if (infer && !cJSON_IsBool(infer)) return mn_bank_err(db, MNEMO_EINVAL, "'infer' must be true or false");
    if (cJSON_IsTrue(infer)) s->infer = 1;
    const cJSON *echo = cJSON_GetObjectItemCaseSensitive(o, "echo");
    if (echo && (depth > 0 || !cJSON_IsBool(echo)))
        return mn_bank_err(db, MNEMO_EINVAL, "'echo' must be true or false, at the top of the input");
    if (cJSON_IsFalse(echo)) s->no_echo = 1;
    static const char *const known[] = {"text", "messages", "items", "metadata", "document_id",
                                        "kind", "source", "topics", "tags", "timestamp",
                                        "confidence", "infer", "echo", NULL};
    for (const cJSON *x = o->child; x; x = x->next) {
        int ok = 0;
        for (int k = 0; known[k]; k++) ok |= !strcmp(x->string, known[k]);
        if (!ok) return mn_bank_err(db, MNEMO_EINVAL, "unknown retain field '%.64s'", x->string);
    }
    if (depth == 0) { /* what extracted memories inherit from the input */
        if (in.metadata && !(s->metadata = cJSON_PrintUnformatted(in.metadata)))
            return mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
        s->source = in.source;
        if (in.topics && (rc = string_array(db, in.topics, "topics", (char **)&s->topics))) return rc;
        if (in.tags && (rc = string_array(db, in.tags, "tags", (char **)&s->tags))) return rc;
    }
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(o, "text");
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(o, "messages");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(o, "items");
    if (!!text + !!msgs + !!items != 1)
        return mn_bank_err(db, MNEMO_EINVAL, "retain input needs exactly one of 'text', 'messages' or 'items'");
    if (text) return add_text(db, s, text, &in, NULL);
    if (msgs) {
        if (!cJSON_IsArray(msgs) || !msgs->child)
            return mn_bank_err(db, MNEMO_EINVAL, "'messages' must be a non-empty array");
        int i = 0;
        for (const cJSON *msg = msgs->child; msg; msg = msg->next, i++) {
            if (!cJSON_IsObject(msg))
                return mn_bank_err(db, MNEMO_EINVAL, "message %d must be an object with 'role' and 'content'", i);
            const cJSON *role = cJSON_GetObjectItemCaseSensitive(msg, "role");
            const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
            if (!cJSON_IsString(role) || !*role->valuestring || strlen(role->valuestring) > 64)
                return mn_bank_err(db, MNEMO_EINVAL, "message %d needs a 'role' string", i);
            if (!cJSON_IsString(content))
                return mn_bank_err(db, MNEMO_EINVAL, "message %d needs a 'content' string", i);
            inherit mi = in;
            if ((rc = merge_metadata(db, s, cJSON_GetObjectItemCaseSensitive(msg, "metadata"),
                                     "a message's", &mi.metadata)))
                return rc;
            if ((rc = read_time(db, cJSON_GetObjectItemCaseSensitive(msg, "timestamp"), "timestamp",
                                &mi.occurred_at)))
                return rc;
            if ((rc = add_text(db, s, content, &mi, role->valuestring))) return rc;
        }
        return MNEMO_OK;
    }
    if (depth > 0) return mn_bank_err(db, MNEMO_EINVAL, "'items' cannot nest");
    if (!cJSON_IsArray(items) || !items->child)
        return mn_bank_err(db, MNEMO_EINVAL, "'items' must be a non-empty array");
    int i = 0;
    for (const cJSON *x = items->child; x; x = x->next, i++) {
        if (!cJSON_IsObject(x)) return mn_bank_err(db, MNEMO_EINVAL, "item %d must be an object", i);
        if ((rc = read_input(db, s, x, in, depth + 1))) return rc;
    }
    return MNEMO_OK;
}

/* The hash of a document version: its items' hashes in order. */
static int document_hash(mnemo *db, const retain_state *s, const char *doc, char *out) {
    mn_sb h;
    mn_sb_init(&h);
    for (int i = 0; i < s->n; i++)
        if (s->items[i].m.document_id && !strcmp(s->items[i].m.document_id, doc))
            mn_sb_add(&h, s->items[i].m.hash, 16);
    int oom = h.oom;
    mn_hash_hex(mn_sb_str(&h), h.len, out);
    mn_sb_free(&h);
    return oom ? mn_bank_err(db, MNEMO_ENOMEM, "out of memory hashing a document") : MNEMO_OK;
}

int mn_retain_first_of_document(const mn_retain_in *s, int i) {
    const char *doc = s->items[i].m.document_id;
    if (!doc) return 0;
    for (int k = 0; k < i; k++)
        if (s->items[k].m.document_id && !strcmp(s->items[k].m.document_id, doc)) return 0;
    return 1;
}

/* Marks the items of documents whose stored version is identical. */
static int skip_unchanged(mnemo *db, retain_state *s) {
    sqlite3_stmt *st = NULL;
    int rc = MNEMO_OK;
    for (int i = 0; i < s->n && !rc; i++) {
        if (!mn_retain_first_of_document(s, i)) continue;
        const char *doc = s->items[i].m.document_id;
        if (!st && (rc = mn_bank_prepare(db, "SELECT hash FROM documents WHERE id=?", &st))) break;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC);
        char h[17];
        if ((rc = document_hash(db, s, doc, h))) break;
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), h)) {
            for (int k = i; k < s->n; k++)
                if (s->items[k].m.document_id && !strcmp(s->items[k].m.document_id, doc))
                    s->items[k].skip = 1;
        } else if (r != SQLITE_ROW && r != SQLITE_DONE) {
            rc = mn_bank_sqlerr(db, r, "reading documents");
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int mn_retain_replace_document(mnemo *db, const char *doc, mn_sb *removed, int *nremoved) {
    sqlite3_stmt *st;
    /* Its queued inputs were of the old version: the new one replaces them. */
    int rc = mn_bank_prepare(db, "DELETE FROM pending WHERE document_id=?", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC);
    int r0 = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r0 != SQLITE_DONE) return mn_bank_sqlerr(db, r0, "dropping a document's queued inputs");
    rc = mn_bank_prepare(db, "SELECT rowid, id FROM memories WHERE document_id=? ORDER BY rowid", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC);
    int64_t *rows = NULL;
    size_t n = 0, cap = 0;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *p = mn_realloc(rows, cap * sizeof *p);
            if (!p) { rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory"); break; }
            rows = p;
        }
        rows[n++] = sqlite3_column_int64(st, 0);
        if ((*nremoved)++) mn_sb_addc(removed, ',');
        mn_sb_json_str(removed, (const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1));
    }
    if (!rc && r != SQLITE_DONE) rc = mn_bank_sqlerr(db, r, "reading a document's memories");
    sqlite3_finalize(st);
    for (size_t i = 0; i < n && !rc; i++) {
        rc = mn_memory_delete(db, rows[i], "document replaced");
        if (!rc) mn_recall_index_remove(db, rows[i]);
    }
    mn_free(rows);
    return rc;
}

int mn_retain_record_documents(mnemo *db, const mn_retain_in *s, int64_t now) {
    int rc = MNEMO_OK;
    sqlite3_stmt *st = NULL;
    for (int i = 0; i < s->n && !rc; i++) {
        if (s->items[i].skip || !mn_retain_first_of_document(s, i)) continue;
        if (!st && (rc = mn_bank_prepare(db,
                        "INSERT INTO documents(id, hash, created_at, updated_at) VALUES(?,?,?,?) "
                        "ON CONFLICT(id) DO UPDATE SET hash=excluded.hash, updated_at=excluded.updated_at",
                        &st)))
            break;
        char h[17];
        if ((rc = document_hash(db, s, s->items[i].m.document_id, h))) break;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, s->items[i].m.document_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, h, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_int64(st, 4, now);
        int r = sqlite3_step(st);
        if (r != SQLITE_DONE) rc = mn_bank_sqlerr(db, r, "recording a document");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Writes every item in one transaction, and the whole result into out
** before the commit: once committed, nothing is left to fail. */
static int write_all(mnemo *db, retain_state *s, float *vecs, const char *why, mn_sb *out) {
    mn_sb removed;
    mn_sb_init(&removed);
    int nremoved = 0, rc;
    if ((rc = mn_bank_begin(db))) return rc;
    int64_t now = mn_bank_now(db);
    for (int i = 0; i < s->n && !rc; i++) {
        if (s->items[i].skip || !mn_retain_first_of_document(s, i)) continue;
        rc = mn_retain_replace_document(db, s->items[i].m.document_id, &removed, &nremoved);
    }
    mn_sb_adds(out, "{\"mode\":\"manual\",\"added\":[");
    int added = 0;
    int64_t first_row = 0, last_row = -1;
    for (int k = 0; k < s->nembed && !rc; k++) {
        item *it = &s->items[s->which[k]];
        mn_bank_new_id(db, it->m.id);
        it->m.created_at = it->m.updated_at = now;
        const float *v = vecs ? vecs + (size_t)k * (size_t)db->embed_dim : NULL;
        int64_t rowid;
        rc = mn_memory_insert(db, &it->m, v, 0, &rowid);
        if (rc) break;
        if (!added) first_row = rowid;
        last_row = rowid;
        mn_recall_index_put(db, rowid, it->m.text, it->m.len, it->m.topics, v);
        if (added++) mn_sb_addc(out, ',');
        mn_sb_adds(out, "{\"id\":\"");
        mn_sb_adds(out, it->m.id);
        mn_sb_addc(out, '"');
        if (!s->no_echo) {
            mn_sb_adds(out, ",\"text\":");
            mn_sb_json_str(out, it->m.text, it->m.len);
        }
        mn_sb_addc(out, '}');
    }
    if (!rc && added) rc = mn_memory_fts_add(db, first_row, last_row);
    if (!rc) rc = mn_retain_record_documents(db, s, now);
    if (!rc) {
        mn_sb_adds(out, "],\"removed\":[");
        mn_sb_add(out, mn_sb_str(&removed), removed.len);
        mn_sb_printf(out, "],\"unchanged\":%s", s->nembed == 0 ? "true" : "false");
        if (!vecs && why && s->nembed) {
            mn_sb_adds(out, ",\"warning\":");
            mn_sb_json_str(out, why, strlen(why));
            mn_sb_adds(out, ",\"vectors_pending\":true");
        }
        mn_usage u = {0, 0, 0, 0, 0};
        if (!db->builtin_embedder && s->nembed) u.embedding_calls = (s->nembed + MN_VECTORS_BATCH - 1) / MN_VECTORS_BATCH;
        mn_sb_addc(out, ',');
        mn_budget_json(&u, out);
        mn_sb_addc(out, '}');
    }
    if (!rc && (out->oom || removed.oom)) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
    if (!rc) rc = mn_bank_commit(db);
    if (rc) {
        mn_bank_rollback(db);
        mn_recall_index_drop(db);
    }
    mn_sb_free(&removed);
    return rc;
}

static void on_vectors(mnemo_job *job, float *vecs, const char *why) {
    mn_sb out;
    mn_sb_init(&out);
    int rc = write_all(job->db, job->state, vecs, why, &out);
    if (rc) {
        mn_sb_free(&out);
        mn_job_fail_with(job, rc);
        return;
    }
    mn_job_done_sb(job, &out);
}

int mn_retain_read(mnemo *db, mn_retain_in *s, int upsert) {
    inherit top = {NULL, NULL, NULL, NULL, NULL, NULL, MN_NO_TIME, 1.0};
    int rc = read_input(db, s, s->input, top, 0);
    if (!rc && upsert) rc = skip_unchanged(db, s);
    if (!rc) {
        s->texts = mn_malloc((size_t)s->n * sizeof *s->texts);
        s->lens = mn_malloc((size_t)s->n * sizeof *s->lens);
        s->which = mn_malloc((size_t)s->n * sizeof *s->which);
        if (!s->texts || !s->lens || !s->which) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
    }
    if (rc) return rc;
    for (int i = 0; i < s->n; i++) {
        if (s->items[i].skip) continue;
        s->texts[s->nembed] = s->items[i].m.text;
        s->lens[s->nembed] = s->items[i].m.len;
        s->which[s->nembed++] = i;
    }
    return MNEMO_OK;
}

int mnemo_retain(mnemo *db, const char *input_json, mnemo_job **out) {
    int rc;
    mnemo_job *job = mn_job_begin(db, input_json, "retain input", sizeof(retain_state), state_free, out, &rc);
    if (!job) return rc;
    retain_state *s = job->state;
    if ((rc = mn_retain_read(db, s, 1))) {
        mn_job_fail_with(job, rc);
        return mn_job_hand_over(job, out);
    }
    if (s->infer) {
        mn_extract_retain(job, s);
        return mn_job_hand_over(job, out);
    }
    /* Built-in vectors are a pure function of the text and are never stored:
    ** a live recall index computes them as it takes each text in (one
    ** tokenizer pass for both), else its build does. */
    if (db->builtin_embedder) on_vectors(job, NULL, NULL);
    else mn_vectors_start(job, s->texts, s->lens, s->nembed, on_vectors);
    return mn_job_hand_over(job, out);
}
