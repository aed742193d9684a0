/*
** apply.c: writing an extraction's decisions (see apply.h), in one
** transaction: the document's previous version goes (or, for a queued input
** the model now answered, the memories kept for it meanwhile); then the
** turns kept as given, new facts, updates (history keeps the old text),
** supersessions (the old memory stays, with valid_to and superseded_by, and
** its relations end), deletions the user asked for; entities and relations
** with each fact. A candidate that changed since the model saw it is not
** touched: its decision becomes a new memory.
*/
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "datetime.h"
#include "recall.h"
#include "vectors.h"

/* Entity names are matched case-insensitively, blanks collapsed. */
static size_t norm_name(const char *s, char *out, size_t max) {
    size_t n = 0;
    int space = 0;
    for (; *s && n + 1 < max; s++) {
        char c = *s;
        if (c == ' ' || c == '\t' || c == '\n') {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < max) out[n++] = ' ';
        space = 0;
        out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[n] = 0;
    return n;
}

static int entity_id(mnemo *db, const char *name, const char *type, int64_t *id) {
    char norm[160];
    if (!norm_name(name, norm, sizeof norm)) return MNEMO_EINVAL;
    sqlite3_stmt *st;
    int rc = mn_bank_cached(db, MN_STMT_UPSERT_ENTITY,
                            "INSERT INTO entities(name, type, norm) VALUES(?,?,?) "
                            "ON CONFLICT(norm) DO UPDATE SET type=coalesce(entities.type, excluded.type) "
                            "RETURNING id", &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (type) sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, norm, -1, SQLITE_TRANSIENT);
    int r = sqlite3_step(st);
    if (r != SQLITE_ROW) {
        sqlite3_reset(st);
        return mn_bank_sqlerr(db, r, "storing an entity");
    }
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return MNEMO_OK;
}

static int link_entity(mnemo *db, int64_t rowid, int64_t eid) {
    sqlite3_stmt *st;
    int rc = mn_bank_cached(db, MN_STMT_LINK_ENTITY,
                            "INSERT OR IGNORE INTO memory_entities(memory_rowid, entity_id) VALUES(?,?)", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, rowid);
    sqlite3_bind_int64(st, 2, eid);
    return mn_bank_write(db, st, "linking an entity");
}

/* The fact's entities and relations, tied to the memory at rowid. */
static int graph_add(mnemo *db, int64_t rowid, const mn_fact *f, int64_t from) {
    int rc = MNEMO_OK;
    for (const cJSON *e = f->entities ? f->entities->child : NULL; e && !rc; e = e->next) {
        int64_t id;
        const char *name = cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring;
        rc = entity_id(db, name, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "type")), &id);
        if (rc == MNEMO_EINVAL) { rc = MNEMO_OK; continue; }
        if (!rc) rc = link_entity(db, rowid, id);
    }
    for (const cJSON *r = f->relations ? f->relations->child : NULL; r && !rc; r = r->next) {
        const char *s = cJSON_GetObjectItemCaseSensitive(r, "subject")->valuestring;
        const char *p = cJSON_GetObjectItemCaseSensitive(r, "predicate")->valuestring;
        const char *o = cJSON_GetObjectItemCaseSensitive(r, "object")->valuestring;
        int64_t sid, oid;
        rc = entity_id(db, s, NULL, &sid);
        if (!rc) rc = entity_id(db, o, NULL, &oid);
        if (rc == MNEMO_EINVAL) { rc = MNEMO_OK; continue; }
        sqlite3_stmt *st;
        if (!rc)
            rc = mn_bank_cached(db, MN_STMT_INSERT_RELATION,
                                "INSERT INTO relations(subject, predicate, object, memory_rowid, valid_from) "
                                "VALUES(?,?,?,?,?)", &st);
        if (rc) break;
        sqlite3_bind_int64(st, 1, sid);
        sqlite3_bind_text(st, 2, p, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, oid);
        sqlite3_bind_int64(st, 4, rowid);
        sqlite3_bind_int64(st, 5, from);
        rc = mn_bank_write(db, st, "storing a relation");
    }
    return rc;
}

/* Ends the relations drawn from a memory's previous text. */
static int graph_close(mnemo *db, int64_t rowid, int64_t at) {
    sqlite3_stmt *st;
    int rc = mn_bank_cached(db, MN_STMT_CLOSE_RELATIONS,
                            "UPDATE relations SET valid_to=? WHERE memory_rowid=? AND valid_to IS NULL", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int64(st, 2, rowid);
    return mn_bank_write(db, st, "closing relations");
}

typedef struct out_lists {
    mn_sb added, removed, learned, changed, superseded, forgotten;
    int nadded, nremoved, nlearned, nchanged, nsuperseded, nforgotten;
} out_lists;

static void list_sep(mn_sb *sb, int *n) {
    if ((*n)++) mn_sb_addc(sb, ',');
}

static void id_text(mn_sb *sb, const char *id, const char *text, size_t len) {
    mn_sb_adds(sb, "{\"id\":\"");
    mn_sb_adds(sb, id);
    mn_sb_adds(sb, "\",\"text\":");
    mn_sb_json_str(sb, text, len);
}

/* 1 if the candidate is still what the model saw (valid, same id). */
static int still_there(mnemo *db, const cand *c) {
    sqlite3_stmt *st;
    if (mn_bank_prepare(db, "SELECT id FROM memories WHERE rowid=? AND valid_to IS NULL", &st)) return 0;
    sqlite3_bind_int64(st, 1, c->rowid);
    int ok = sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), c->id);
    sqlite3_finalize(st);
    return ok;
}

/* Deletes the memories kept for a queued input, and the input itself. */
static int drop_pending(mnemo *db, int64_t pid, out_lists *o) {
    sqlite3_stmt *st;
    /* Another handle may have processed it, or its document been replaced,
    ** while the model was answering: then there is nothing to replace. */
    int rc = mn_bank_prepare(db, "SELECT 1 FROM pending WHERE id=?", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, pid);
    int there = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!there) return mn_bank_err(db, MNEMO_ENOTFOUND, "queued input %lld is gone", (long long)pid);
    rc = mn_bank_prepare(db, "SELECT rowid, id FROM memories WHERE pending_id=? ORDER BY rowid", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, pid);
    int64_t rows[64];
    int n = 0, r;
    /* In rounds: a row deleted while the statement reads would confuse it. */
    for (;;) {
        n = 0;
        sqlite3_reset(st);
        while (n < 64 && (r = sqlite3_step(st)) == SQLITE_ROW) {
            rows[n++] = sqlite3_column_int64(st, 0);
            list_sep(&o->removed, &o->nremoved);
            mn_sb_json_str(&o->removed, (const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1));
        }
        sqlite3_reset(st);
        for (int i = 0; i < n && !rc; i++) {
            rc = mn_memory_delete(db, rows[i], "re-extracted by the model");
            if (!rc) mn_recall_index_remove(db, rows[i]);
        }
        if (rc || n < 64) break;
    }
    sqlite3_finalize(st);
    if (rc) return rc;
    if ((rc = mn_bank_prepare(db, "DELETE FROM pending WHERE id=?", &st))) return rc;
    sqlite3_bind_int64(st, 1, pid);
    r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? MNEMO_OK : mn_bank_sqlerr(db, r, "leaving the queue");
}

static int queue_input(mnemo *db, mn_extract *ex, int64_t *pid) {
    char *json = cJSON_PrintUnformatted(ex->in->input);
    if (!json) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory queueing the input");
    sqlite3_stmt *st;
    int rc = mn_bank_prepare(db, "INSERT INTO pending(input, document_id, reason, created_at, updated_at) "
                                 "VALUES(?,?,?,?,?)", &st);
    if (!rc) {
        sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
        if (ex->doc) sqlite3_bind_text(st, 2, ex->doc, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, mn_sb_str(&ex->why), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, ex->now);
        sqlite3_bind_int64(st, 5, mn_bank_now(db));
        int r = sqlite3_step(st);
        sqlite3_finalize(st);
        if (r != SQLITE_DONE) rc = mn_bank_sqlerr(db, r, "queueing the input");
        *pid = sqlite3_last_insert_rowid(db->sql);
    }
    cJSON_free(json);
    return rc;
}

static int write_raw(mnemo *db, mn_extract *ex, const wr *w, const float *v, int64_t pid, int64_t now,
                     out_lists *o) {
    mn_retain_item *it = &ex->in->items[w->item];
    mn_memory m = it->m;
    mn_bank_new_id(db, m.id);
    m.created_at = m.updated_at = now;
    if (!m.kind) m.kind = "message";
    m.pending_id = pid;
    int64_t rowid;
    int rc = mn_memory_insert(db, &m, v, 0, &rowid);
    if (!rc) rc = mn_memory_fts_add(db, rowid, rowid);
    if (rc) return rc;
    mn_recall_index_put(db, rowid, m.text, m.len, m.topics, v);
    list_sep(&o->added, &o->nadded);
    id_text(&o->added, m.id, m.text, m.len);
    mn_sb_addc(&o->added, '}');
    return MNEMO_OK;
}

/* A new memory from a fact; its id in id[37]. */
static int write_fact(mnemo *db, mn_extract *ex, const wr *w, const float *v, int64_t pid,
                      int64_t now, const char *reason, char *id, int64_t *rowid, out_lists *o) {
    const mn_fact *f = w->f;
    mn_memory m;
    memset(&m, 0, sizeof m);
    mn_bank_new_id(db, m.id);
    m.text = f->text;
    m.len = f->len;
    m.kind = f->kind;
    m.topics = w->topics;
    m.tags = ex->in->tags;
    m.metadata = ex->in->metadata;
    m.document_id = ex->doc;
    m.source = ex->in->source ? ex->in->source : ex->mode == MODE_LLM ? "llm" : "heuristic";
    m.confidence = f->confidence;
    m.occurred_at = w->when;
    m.created_at = m.updated_at = now;
    m.valid_from = ex->now;
    m.valid_to = MN_NO_TIME;
    m.prompt_version = ex->mode == MODE_LLM ? MN_PROMPT_VERSION : MN_HEURISTIC_VERSION;
    m.pending_id = pid;
    m.reason = reason;
    mn_hash_hex(f->text, f->len, m.hash);
    int rc = mn_memory_insert(db, &m, v, 0, rowid);
    if (!rc) rc = mn_memory_fts_add(db, *rowid, *rowid);
    if (!rc) rc = graph_add(db, *rowid, f, ex->now);
    if (rc) return rc;
    mn_recall_index_put(db, *rowid, m.text, m.len, m.topics, v);
    memcpy(id, m.id, sizeof m.id);
    list_sep(&o->added, &o->nadded);
    id_text(&o->added, m.id, m.text, m.len);
    mn_sb_addc(&o->added, '}');
    list_sep(&o->learned, &o->nlearned);
    id_text(&o->learned, m.id, m.text, m.len);
    mn_sb_adds(&o->learned, ",\"kind\":");
    mn_sb_json_str(&o->learned, m.kind, strlen(m.kind));
    mn_sb_adds(&o->learned, ",\"topics\":");
    mn_sb_adds(&o->learned, m.topics);
    mn_sb_adds(&o->learned, ",\"occurred_at\":");
    if (w->when == MN_NO_TIME) mn_sb_adds(&o->learned, "null");
    else {
        char iso[MN_TIME_ISO_MAX];
        mn_time_format(w->when, iso);
        mn_sb_printf(&o->learned, "\"%s\"", iso);
    }
    mn_sb_addc(&o->learned, '}');
    return MNEMO_OK;
}

static int write_update(mnemo *db, mn_extract *ex, const wr *w, const float *v, int64_t now,
                        out_lists *o) {
    const cand *c = &ex->cands[w->cand];
    const mn_fact *f = w->f;
    char *old = mn_memory_snapshot(db, c->rowid), *nw = NULL;
    int rc = old ? mn_memory_fts_remove(db, c->rowid) : MNEMO_ENOMEM;
    sqlite3_stmt *st = NULL;
    if (!rc) rc = mn_bank_prepare(db,
                                  "UPDATE memories SET text=?1, kind=?2, topics=?3, hash=?4, updated_at=?5,"
                                  " occurred_at=coalesce(?6, occurred_at), confidence=?7, prompt_version=?8,"
                                  " pending_id=NULL WHERE rowid=?9", &st);
    if (!rc) {
        char hash[17];
        mn_hash_hex(f->text, f->len, hash);
        sqlite3_bind_text(st, 1, f->text, (int)f->len, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, f->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, w->topics, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, now);
        if (w->when != MN_NO_TIME) sqlite3_bind_int64(st, 6, w->when);
        sqlite3_bind_double(st, 7, f->confidence);
        sqlite3_bind_text(st, 8, ex->mode == MODE_LLM ? MN_PROMPT_VERSION : MN_HEURISTIC_VERSION, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, c->rowid);
        int r = sqlite3_step(st);
        if (r != SQLITE_DONE) rc = mn_bank_sqlerr(db, r, "updating a memory");
    }
    sqlite3_finalize(st);
    if (!rc) rc = mn_memory_fts_add(db, c->rowid, c->rowid);
    if (!rc && v) rc = mn_vectors_store(db, c->rowid, v);
    if (!rc) rc = graph_close(db, c->rowid, ex->now);
    if (!rc) rc = graph_add(db, c->rowid, f, ex->now);
    if (!rc && !(nw = mn_memory_snapshot(db, c->rowid))) rc = MNEMO_ENOMEM;
    if (!rc) rc = mn_memory_history(db, c->id, "UPDATE", old, nw, ex->doc, "extracted by " MN_PROMPT_VERSION);
    mn_free(old);
    mn_free(nw);
    if (rc) return rc;
    mn_recall_index_put(db, c->rowid, f->text, f->len, w->topics, v);
    list_sep(&o->changed, &o->nchanged);
    id_text(&o->changed, c->id, f->text, f->len);
    mn_sb_adds(&o->changed, ",\"old_text\":");
    mn_sb_json_str(&o->changed, c->text, c->len);
    mn_sb_addc(&o->changed, '}');
    return MNEMO_OK;
}

static int write_supersede(mnemo *db, mn_extract *ex, const wr *w, const float *v, int64_t now,
                           out_lists *o) {
    const cand *c = &ex->cands[w->cand];
    char reason[64], id[37];
    snprintf(reason, sizeof reason, "supersedes %s", c->id);
    int64_t rowid;
    int rc = write_fact(db, ex, w, v, 0, now, reason, id, &rowid, o);
    sqlite3_stmt *st = NULL;
    if (!rc) rc = mn_bank_prepare(db, "UPDATE memories SET valid_to=?1, superseded_by=?2, updated_at=?3,"
                                  " pending_id=NULL WHERE rowid=?4", &st);
    if (!rc) {
        sqlite3_bind_int64(st, 1, ex->now);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_int64(st, 4, c->rowid);
        int r = sqlite3_step(st);
        if (r != SQLITE_DONE) rc = mn_bank_sqlerr(db, r, "superseding a memory");
    }
    sqlite3_finalize(st);
    if (!rc) rc = graph_close(db, c->rowid, ex->now);
    mn_sb oldj, newj;
    mn_sb_init(&oldj);
    mn_sb_init(&newj);
    mn_sb_adds(&oldj, "{\"text\":");
    mn_sb_json_str(&oldj, c->text, c->len);
    mn_sb_addc(&oldj, '}');
    char iso[MN_TIME_ISO_MAX];
    mn_time_format(ex->now, iso);
    mn_sb_printf(&newj, "{\"superseded_by\":\"%s\",\"valid_to\":\"%s\"}", id, iso);
    char why[64];
    snprintf(why, sizeof why, "superseded by %s", id);
    if (!rc && (oldj.oom || newj.oom)) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
    if (!rc) rc = mn_memory_history(db, c->id, "INVALIDATE", mn_sb_str(&oldj), mn_sb_str(&newj), ex->doc, why);
    mn_sb_free(&oldj);
    mn_sb_free(&newj);
    if (rc) return rc;
    mn_recall_index_remove(db, c->rowid);
    list_sep(&o->superseded, &o->nsuperseded);
    id_text(&o->superseded, c->id, c->text, c->len);
    mn_sb_printf(&o->superseded, ",\"by\":\"%s\"}", id);
    return MNEMO_OK;
}

int mn_apply(mnemo *db, mn_extract *ex, const float *vecs, int vectors_missing, mn_sb *out) {
    out_lists o;
    memset(&o, 0, sizeof o);
    mn_sb *lists[6] = {&o.added, &o.removed, &o.learned, &o.changed, &o.superseded, &o.forgotten};
    for (int i = 0; i < 6; i++) mn_sb_init(lists[i]);
    int64_t now = mn_bank_now(db), pid = 0;
    mn_retain_in *in = ex->in;
    int rc = mn_bank_begin(db);
    if (rc) goto done;
    if (ex->pending_id) {
        db->actor = "llm";
        rc = drop_pending(db, ex->pending_id, &o);
    } else {
        for (int i = 0; i < in->n && !rc; i++)
            if (!in->items[i].skip && mn_retain_first_of_document(in, i))
                rc = mn_retain_replace_document(db, in->items[i].m.document_id, &o.removed, &o.nremoved);
        if (!rc && ex->mode == MODE_HEURISTIC) rc = queue_input(db, ex, &pid);
    }
    /* A document's old version went at the user's word; the rest is decided here. */
    db->actor = ex->mode == MODE_LLM ? "llm" : "heuristic";
    int dim = db->embed_dim;
    for (int i = 0; i < ex->nw && !rc; i++) {
        wr *w = &ex->w[i];
        const float *v = vecs && w->vec >= 0 ? vecs + (size_t)w->vec * (size_t)dim : NULL;
        if ((w->type == W_UPDATE || w->type == W_SUPERSEDE) && !still_there(db, &ex->cands[w->cand])) {
            mn_extract_note(ex, "a memory the model decided on changed meanwhile; the fact was stored as new");
            w->type = W_ADD;
        }
        char id[37];
        int64_t rowid;
        if (w->type == W_RAW) rc = write_raw(db, ex, w, v, pid, now, &o);
        else if (w->type == W_ADD) rc = write_fact(db, ex, w, v, pid, now, NULL, id, &rowid, &o);
        else if (w->type == W_UPDATE) rc = write_update(db, ex, w, v, now, &o);
        else rc = write_supersede(db, ex, w, v, now, &o);
    }
    for (int i = 0; i < ex->ndels && !rc; i++) {
        const cand *c = &ex->cands[ex->dels[i]];
        if (!still_there(db, c)) continue;
        rc = mn_memory_delete(db, c->rowid, "forgotten at the user's request");
        if (rc) break;
        mn_recall_index_remove(db, c->rowid);
        list_sep(&o.forgotten, &o.nforgotten);
        id_text(&o.forgotten, c->id, c->text, c->len);
        mn_sb_addc(&o.forgotten, '}');
        list_sep(&o.removed, &o.nremoved);
        mn_sb_json_str(&o.removed, c->id, strlen(c->id));
    }
    if (!rc && !ex->pending_id) rc = mn_retain_record_documents(db, in, now);
    for (int i = 0; i < 6 && !rc; i++)
        if (lists[i]->oom) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory writing the result");
    /* The whole result is written before the commit: once committed, the
    ** call cannot fail any more (no allocation is left to do). */
    if (!rc) {
        mn_sb_printf(out, "{\"mode\":\"%s\",\"added\":[", ex->mode == MODE_LLM ? "llm" : "heuristic");
        static const char *const keys[6] = {"added", "removed", "learned", "changed", "superseded", "forgotten"};
        for (int i = 0; i < 6; i++) {
            if (i) mn_sb_printf(out, "],\"%s\":[", keys[i]);
            mn_sb_add(out, mn_sb_str(lists[i]), lists[i]->len);
        }
        mn_sb_printf(out, "],\"unchanged\":false,\"prompt_version\":\"%s\",\"pending\":%s",
                     ex->mode == MODE_LLM ? MN_PROMPT_VERSION : MN_HEURISTIC_VERSION,
                     ex->mode == MODE_HEURISTIC ? "true" : "false");
        if (ex->mode == MODE_HEURISTIC) {
            mn_sb_adds(out, ",\"fallback\":");
            mn_sb_json_str(out, mn_sb_str(&ex->why), ex->why.len);
        }
        if (vectors_missing) mn_sb_adds(out, ",\"vectors_pending\":true");
        if (ex->warnings.len) {
            mn_sb_adds(out, ",\"warnings\":[");
            mn_sb_add(out, mn_sb_str(&ex->warnings), ex->warnings.len);
            mn_sb_addc(out, ']');
        }
        mn_sb_addc(out, ',');
        mn_budget_json(&ex->usage, out);
        mn_sb_addc(out, '}');
        if (out->oom || ex->warnings.oom) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory writing the result");
    }
    if (!rc) rc = mn_bank_commit(db);
    if (rc) {
        mn_bank_rollback(db);
        mn_recall_index_drop(db);
    }
done:
    db->actor = NULL;
    for (int i = 0; i < 6; i++) mn_sb_free(lists[i]);
    return rc;
}

