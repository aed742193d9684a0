/*
** extract.c: retain with an LLM (see extract.h), as a job:
**
**   prepare   the turns, the message time, the candidates (recall's index:
**             BM25, keywords, built-in vectors, plus the topics the
**             heuristic sees, so "I switched to Rust" finds "User uses
**             Python"), packed into llm.max_prompt_tokens
**   ask       one chat request (budget checked first)
**   on_chat   parse defensively; on a refused json_schema retry once
**             without it, on unusable output retry once with the error fed
**             back; otherwise fall back (heuristic + pending queue)
**   plan      decisions checked: refs only to the aliases shown, each
**             candidate touched once, deletes + supersedes capped,
**             duplicates of known memories dropped
**   embed     new and changed texts, one embeddings request at most
**   apply     one transaction (apply.c)
*/
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "datetime.h"
#include "heuristic.h"
#include "llmjson.h"
#include "prompt.h"
#include "recall.h"
#include "vectors.h"

#define CAND_TEXT_MAX 300   /* bytes of a candidate shown to the model */
#define ASSISTANT_MAX 600   /* bytes of an assistant turn: context, not facts */
#define QUERY_MAX 4000      /* bytes of the input the candidate search reads */
#define COMPLETION_MAX 1000 /* tokens asked of one answer: ~25 facts */

void mn_extract_free(mn_extract *ex) {
    if (!ex) return;
    for (int i = 0; i < ex->ncands; i++) {
        mn_free(ex->cands[i].text);
        mn_free(ex->cands[i].kind);
    }
    for (int i = 0; i < ex->nw; i++) mn_free(ex->w[i].topics);
    mn_free(ex->cands);
    mn_free(ex->pcands);
    mn_free(ex->turns);
    mn_free(ex->raw);
    mn_free(ex->retry_error);
    mn_llmjson_answer_free(&ex->ans);
    mn_sb_free(&ex->why);
    mn_free(ex->w);
    mn_free(ex->dels);
    mn_sb_free(&ex->warnings);
    mn_free(ex->texts);
    mn_free(ex->lens);
    mn_free(ex);
}

static mn_extract *of(mnemo_job *job) { return ((mn_retain_in *)job->state)->ex; }

void mn_extract_note(mn_extract *ex, const char *msg) {
    char clean[480];
    snprintf(clean, sizeof clean, "%s", msg);
    mn_llmjson_scrub(clean);
    if (ex->warnings.len) mn_sb_addc(&ex->warnings, ',');
    mn_sb_json_str(&ex->warnings, clean, strlen(clean));
}

/* ---- the end of a run ---- */

static void finish(mnemo_job *job, int rc, const char *why, mn_sb *res) {
    mn_extract *ex = of(job);
    if (ex->done) {
        mn_extract_done done = ex->done;
        mn_usage u = ex->usage;
        done(job, rc, why, res, &u); /* may free ex: nothing after this */
        return;
    }
    if (rc) {
        mn_sb_free(res);
        mn_job_fail_with(job, rc);
    } else {
        mn_job_done_sb(job, res);
    }
}

static void fail(mnemo_job *job, int rc) {
    mn_sb none;
    mn_sb_init(&none);
    finish(job, rc, mnemo_errmsg(job->db), &none);
}

/* ---- prepare: turns, candidates, packing ---- */

static int is_user(const char *role) { return !strcmp(role, "user"); }

/* The role a turn is shown with: a message's role, or "user" for plain
** text (and for roles the chat format does not know). */
static const char *role_of(const char *role) {
    static const char *const roles[] = {"user", "assistant", "system", "tool", NULL};
    for (int i = 0; role && roles[i]; i++)
        if (!strcmp(role, roles[i])) return roles[i];
    return "user";
}

/* The shown text of a candidate: at most CAND_TEXT_MAX bytes, whole characters. */
static size_t cut_utf8(const char *s, size_t len, size_t max) {
    if (len <= max) return len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    return max;
}

/* 1 if memories of this document are about to be replaced. */
static int replaced_document(const mn_extract *ex, const char *doc) {
    if (!doc) return 0;
    const mn_retain_in *in = ex->in;
    for (int i = 0; i < in->n; i++)
        if (!in->items[i].skip && in->items[i].m.document_id && !strcmp(in->items[i].m.document_id, doc))
            return 1;
    return 0;
}

/* Adds the memory at rowid as a candidate if it may be one. */
static int add_cand(mnemo *db, mn_extract *ex, sqlite3_stmt *st, int64_t rowid, int k) {
    for (int i = 0; i < ex->ncands; i++)
        if (ex->cands[i].rowid == rowid) return MNEMO_OK;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, rowid);
    int r = sqlite3_step(st);
    if (r == SQLITE_DONE) return MNEMO_OK;
    if (r != SQLITE_ROW) return mn_bank_sqlerr(db, r, "reading a candidate");
    const char *doc = (const char *)sqlite3_column_text(st, 5);
    if (replaced_document(ex, doc)) return MNEMO_OK;
    if (ex->pending_id && sqlite3_column_int64(st, 6) == ex->pending_id) return MNEMO_OK;
    if (ex->ncands >= k) return MNEMO_OK;
    cand *c = &ex->cands[ex->ncands];
    memset(c, 0, sizeof *c);
    c->rowid = rowid;
    snprintf(c->id, sizeof c->id, "%s", (const char *)sqlite3_column_text(st, 0));
    c->len = (size_t)sqlite3_column_bytes(st, 1);
    c->text = mn_strndup((const char *)sqlite3_column_text(st, 1), c->len);
    c->kind = mn_strndup((const char *)sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
    c->when = sqlite3_column_type(st, 3) != SQLITE_NULL ? sqlite3_column_int64(st, 3)
              : sqlite3_column_int64(st, 4);
    ex->ncands++;
    if (!c->text || !c->kind) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory reading candidates");
    return MNEMO_OK;
}

static int find_cands(mnemo *db, mn_extract *ex) {
    int k = db->llm.candidates;
    if (k == 0) return MNEMO_OK;
    ex->cands = mn_malloc((size_t)k * sizeof *ex->cands);
    ex->pcands = mn_malloc((size_t)k * sizeof *ex->pcands);
    int64_t *rows = mn_malloc((size_t)k * 3 * sizeof *rows);
    mn_sb q;
    mn_sb_init(&q);
    int rc = MNEMO_OK, n = 0;
    if (!ex->cands || !ex->pcands || !rows) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory finding candidates");
    for (int i = 0; !rc && i < ex->nturns && q.len < QUERY_MAX; i++) {
        if (!is_user(ex->turns[i].role)) continue;
        mn_sb_add(&q, ex->turns[i].text, cut_utf8(ex->turns[i].text, ex->turns[i].len, QUERY_MAX - q.len));
        mn_sb_addc(&q, '\n');
    }
    /* The general subjects of the input find memories that share no word
    ** with it: "I switched to Rust" and "User uses Python" meet on
    ** "programming language". */
    mn_sb topics;
    mn_sb_init(&topics);
    if (!rc) mn_heuristic_topics(mn_sb_str(&q), q.len, &topics);
    mn_sb_add(&q, mn_sb_str(&topics), topics.len);
    if (topics.oom) q.oom = 1;
    mn_sb_free(&topics);
    if (!rc && q.oom) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory finding candidates");
    if (!rc) rc = mn_recall_related(db, mn_sb_str(&q), q.len, k * 3, rows, &n);
    sqlite3_stmt *st = NULL;
    if (!rc)
        rc = mn_bank_prepare(db,
                             "SELECT id, text, kind, occurred_at, valid_from, document_id, pending_id "
                             "FROM memories WHERE rowid=? AND valid_to IS NULL AND kind <> 'message'",
                             &st);
    for (int i = 0; !rc && i < n && ex->ncands < k; i++) rc = add_cand(db, ex, st, rows[i], k);
    /* A young bank: its latest memories are worth showing even without a
    ** shared word (a changed preference is often worded anew). */
    if (!rc && ex->ncands < k) {
        sqlite3_stmt *recent;
        rc = mn_bank_prepare(db,
                             "SELECT rowid FROM memories WHERE valid_to IS NULL AND kind <> 'message' "
                             "ORDER BY rowid DESC LIMIT ?", &recent);
        if (!rc) {
            sqlite3_bind_int(recent, 1, k * 2);
            int r;
            while (!rc && ex->ncands < k && (r = sqlite3_step(recent)) == SQLITE_ROW)
                rc = add_cand(db, ex, st, sqlite3_column_int64(recent, 0), k);
            sqlite3_finalize(recent);
        }
    }
    sqlite3_finalize(st);
    mn_free(rows);
    mn_sb_free(&q);
    for (int i = 0; !rc && i < ex->ncands; i++) {
        cand *c = &ex->cands[i];
        ex->pcands[i] = (mn_prompt_cand){c->text, cut_utf8(c->text, c->len, CAND_TEXT_MAX), c->kind, c->when};
    }
    return rc;
}

/* Fits turns and candidates into llm.max_prompt_tokens. User turns come
** whole while they fit, then cut; what the model does not see whole is
** also stored as given. Assistant turns are context, cut short. -1 when
** not even a part of the first turn fits. */
static int pack(mnemo *db, mn_extract *ex) {
    int budget = db->llm.max_prompt_tokens - mn_prompt_overhead(ex->schema, ex->now);
    int cands = 0;
    for (int i = 0; i < ex->ncands; i++) cands += mn_prompt_cand_tokens(&ex->pcands[i]);
    /* Candidates may take half of what is left; they give way to the turns. */
    int for_turns = budget - (cands < budget / 2 ? cands : budget / 2);
    int used = 0, full = 0;
    for (int i = 0; i < ex->nturns; i++) {
        mn_prompt_turn *t = &ex->turns[i];
        if (!is_user(t->role) && t->len > ASSISTANT_MAX) {
            t->len = cut_utf8(t->text, t->len, ASSISTANT_MAX);
            t->cut = 1;
        }
        int cost = mn_prompt_turn_tokens(t);
        if (full) {
            t->len = 0; /* left out: the model is told there was more */
            t->cut = 1;
            cost = 2;
        } else if (used + cost > for_turns) {
            int left = for_turns - used - 8;
            size_t bytes = left > 0 ? (size_t)left * 4 : 0;
            t->len = cut_utf8(t->text, t->len, bytes);
            t->cut = 1;
            full = 1;
            cost = t->len ? mn_prompt_turn_tokens(t) : 0;
        }
        used += cost;
    }
    int room = budget - used;
    ex->nshown = 0;
    for (int i = 0; i < ex->ncands; i++) {
        int c = mn_prompt_cand_tokens(&ex->pcands[i]);
        if (c > room) break;
        room -= c;
        ex->nshown++;
    }
    return ex->nturns && ex->turns[0].len ? 0 : -1;
}

/* The turns of the input, the message time and the document. */
static int prepare(mnemo *db, mn_extract *ex, int64_t queued_at) {
    mn_retain_in *in = ex->in;
    ex->turns = mn_malloc((size_t)(in->n ? in->n : 1) * sizeof *ex->turns);
    ex->raw = mn_malloc((size_t)(in->n ? in->n : 1) * sizeof *ex->raw);
    if (!ex->turns || !ex->raw) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
    memset(ex->raw, 0, (size_t)(in->n ? in->n : 1) * sizeof *ex->raw);
    ex->now = MN_NO_TIME;
    int first = 1, one_doc = 1;
    for (int i = 0; i < in->n; i++) {
        const mn_memory *m = &in->items[i].m;
        if (in->items[i].skip) continue;
        if (m->occurred_at != MN_NO_TIME && (ex->now == MN_NO_TIME || m->occurred_at > ex->now))
            ex->now = m->occurred_at;
        /* Extracted memories belong to the input's document when it has one. */
        if (first) ex->doc = m->document_id;
        else if (!ex->doc || !m->document_id || strcmp(ex->doc, m->document_id)) one_doc = 0;
        first = 0;
        mn_prompt_turn *t = &ex->turns[ex->nturns++];
        t->role = role_of(in->items[i].role);
        t->text = m->text;
        t->len = m->len;
        t->cut = 0;
    }
    if (!one_doc) ex->doc = NULL;
    if (ex->now == MN_NO_TIME) ex->now = queued_at != MN_NO_TIME ? queued_at : mn_bank_now(db);
    ex->schema = db->llm.json_schema;
    return MNEMO_OK;
}

/* ---- ask and read ---- */

static void fallback(mnemo_job *job, const char *why);
static void on_chat(mnemo_job *job, const char *resp, size_t len, int rc, const char *message);
static void plan_and_embed(mnemo_job *job);

static void ask(mnemo_job *job) {
    mnemo *db = job->db;
    mn_extract *ex = of(job);
    ex->attempt++;
    mn_prompt p = {ex->now, ex->pcands, ex->nshown, ex->turns, ex->nturns,
                   db->llm.model[0] ? db->llm.model : NULL, ex->schema, 0, ex->attempt,
                   ex->retry_error};
    p.max_tokens = mn_budget_completion_cap(db, &ex->usage, COMPLETION_MAX);
    mn_sb req;
    mn_sb_init(&req);
    int est = mn_prompt_request(&p, &req);
    const char *why;
    int rc = mn_budget_check(db, &ex->usage, est, p.max_tokens, &why);
    if (rc || req.oom) {
        mn_sb_free(&req);
        if (rc == MNEMO_EFULL) {
            fallback(job, why);
            return;
        }
        fail(job, rc ? rc : mn_bank_err(db, MNEMO_ENOMEM, "out of memory building the chat request"));
        return;
    }
    ex->est = est; /* stands in for a response without "usage" */
    mn_job_wait(job, mn_sb_take(&req), on_chat);
}

/* 1 if a failure says the server refused the request itself (so the same
** request without response_format may pass). */
static int refused(int rc, const char *message) {
    if (rc == MNEMO_EINVAL) return 1;
    return message && (strstr(message, "response_format") || strstr(message, "json_schema") ||
                       strstr(message, "HTTP 400") || strstr(message, "HTTP 422"));
}

static void on_chat(mnemo_job *job, const char *resp, size_t len, int rc, const char *message) {
    mnemo *db = job->db;
    mn_extract *ex = of(job);
    int est = ex->est;
    char why[400];
    if (!resp) {
        if (ex->schema && ex->attempt == 1 && refused(rc, message)) {
            ex->schema = 0;
            mn_extract_note(ex, "the server refused json_schema; asked again for plain JSON");
            ask(job);
            return;
        }
        snprintf(why, sizeof why, "no answer from the LLM: %.300s", message ? message : "host failed");
        fallback(job, why);
        return;
    }
    mn_sb content, err;
    mn_sb_init(&content);
    mn_sb_init(&err);
    int up, uc, is_error;
    int bad = mn_llmjson_completion(resp, len, &content, &up, &uc, &is_error, &err);
    int estimated = up < 0 || uc < 0;
    mn_budget_spend(db, &ex->usage, is_error ? (up > 0 ? up : 0) : (up >= 0 ? up : est),
                    is_error ? (uc > 0 ? uc : 0) : (uc >= 0 ? uc : mn_budget_estimate(content.p, content.len)),
                    estimated && !is_error);
    int oom = content.oom || err.oom;
    if (bad || oom) {
        snprintf(why, sizeof why, "%.380s", oom ? "out of memory" : mn_sb_str(&err));
        mn_sb_free(&content);
        mn_sb_free(&err);
        if (!strncmp(why, "out of memory", 13)) {
            fail(job, mn_bank_err(db, MNEMO_ENOMEM, "%s reading the response", why));
            return;
        }
        if (is_error && ex->schema && ex->attempt == 1) {
            ex->schema = 0;
            mn_extract_note(ex, "the server refused the request with json_schema; asked again for plain JSON");
            ask(job);
            return;
        }
        fallback(job, why);
        return;
    }
    mn_llmjson_answer_free(&ex->ans);
    int r = mn_llmjson_answer(content.p ? content.p : "", content.len, ex->nshown, &ex->ans, &err);
    mn_sb_free(&content);
    if (r == 0) {
        mn_sb_free(&err);
        if (ex->ans.repairs & MN_LJ_TRUNCATED) {
            /* What came after the cut is unknown: keep the turns as given. */
            mn_extract_note(ex, "the answer was cut off; the complete facts were kept, and the turns as given");
            for (int i = 0, t = 0; i < ex->in->n; i++) {
                if (ex->in->items[i].skip) continue;
                if (is_user(ex->turns[t++].role)) ex->raw[i] = 1;
            }
        }
        ex->mode = MODE_LLM;
        plan_and_embed(job);
        return;
    }
    snprintf(why, sizeof why, "%.380s", err.oom ? "out of memory" : mn_sb_str(&err));
    mn_sb_free(&err);
    if (!strncmp(why, "out of memory", 13)) {
        fail(job, mn_bank_err(db, MNEMO_ENOMEM, "%s", why));
        return;
    }
    const char *ignored;
    if (ex->attempt == 1 && mn_budget_check(db, &ex->usage, 1, 1, &ignored) == MNEMO_OK) {
        mn_free(ex->retry_error);
        ex->retry_error = mn_strndup(why, strlen(why));
        if (!ex->retry_error) {
            fail(job, mn_bank_err(db, MNEMO_ENOMEM, "out of memory"));
            return;
        }
        mn_llmjson_scrub(ex->retry_error); /* it goes back into a JSON request */
        char n[440];
        snprintf(n, sizeof n, "unusable answer (%s); asked again", why);
        mn_extract_note(ex, n);
        ask(job);
        return;
    }
    char w2[440];
    snprintf(w2, sizeof w2, "unusable answer: %s", why);
    fallback(job, w2);
}

/* No usable answer: a retain keeps the turns as given, the heuristic's
** facts and a place in the pending queue; a re-extraction stops. */
static void fallback(mnemo_job *job, const char *why) {
    mnemo *db = job->db;
    mn_extract *ex = of(job);
    char clean[480];
    snprintf(clean, sizeof clean, "%s", why);
    mn_llmjson_scrub(clean); /* the host's message, or cut: may not be UTF-8 */
    mn_sb_reset(&ex->why);
    mn_sb_adds(&ex->why, clean);
    if (ex->why.oom) {
        fail(job, mn_bank_err(db, MNEMO_ENOMEM, "out of memory"));
        return;
    }
    if (ex->done) {
        mn_sb none;
        mn_sb_init(&none);
        finish(job, strstr(why, "llm.max_") ? MNEMO_EFULL : MNEMO_EHOST, mn_sb_str(&ex->why), &none);
        return;
    }
    mn_llmjson_answer_free(&ex->ans);
    mn_sb_init(&ex->ans.warnings);
    ex->mode = MODE_HEURISTIC;
    mn_retain_in *in = ex->in;
    for (int i = 0; i < in->n; i++) {
        if (in->items[i].skip) continue;
        ex->raw[i] = 1;
        const mn_memory *m = &in->items[i].m;
        if (!is_user(role_of(in->items[i].role))) continue;
        int64_t t = m->occurred_at != MN_NO_TIME ? m->occurred_at : ex->now;
        if (mn_heuristic_extract(&ex->ans, m->text, m->len, t)) {
            fail(job, mn_bank_err(db, MNEMO_ENOMEM, "out of memory in the heuristic extractor"));
            return;
        }
    }
    plan_and_embed(job);
}

/* ---- plan ---- */

/* Texts equal but for case, blanks and a final full stop. */
static int same_text(const char *a, size_t an, const char *b, size_t bn) {
    while (an && (a[an - 1] == '.' || a[an - 1] == ' ' || a[an - 1] == '!')) an--;
    while (bn && (b[bn - 1] == '.' || b[bn - 1] == ' ' || b[bn - 1] == '!')) bn--;
    size_t i = 0, j = 0;
    while (i < an && j < bn) {
        char x = a[i], y = b[j];
        if (x == ' ' && y == ' ') {
            while (i < an && a[i] == ' ') i++;
            while (j < bn && b[j] == ' ') j++;
            continue;
        }
        if ((x | 32) != (y | 32) || ((x | 32) < 'a' && x != y) || ((x | 32) > 'z' && x != y)) return 0;
        i++, j++;
    }
    return i == an && j == bn;
}

/* The memory this fact repeats, among the candidates and the facts planned. */
static int known(const mn_extract *ex, const mn_fact *f) {
    for (int i = 0; i < ex->ncands; i++)
        if (same_text(f->text, f->len, ex->cands[i].text, ex->cands[i].len)) return 1;
    for (int i = 0; i < ex->nw; i++)
        if (ex->w[i].f && same_text(f->text, f->len, ex->w[i].f->text, ex->w[i].f->len)) return 1;
    return 0;
}

/* The fact's topics and the input's, printed once each. */
static char *topics_of(const mn_extract *ex, const mn_fact *f) {
    cJSON *a = f->topics ? cJSON_Duplicate(f->topics, 1) : cJSON_CreateArray();
    if (!a) return NULL;
    cJSON *extra = ex->in->topics ? cJSON_Parse(ex->in->topics) : NULL;
    for (cJSON *x = extra ? extra->child : NULL; x; x = x->next) {
        int dup = 0;
        for (cJSON *y = a->child; y && !dup; y = y->next) dup = !strcmp(y->valuestring, x->valuestring);
        if (!dup) cJSON_AddItemToArray(a, cJSON_CreateString(x->valuestring));
    }
    cJSON_Delete(extra);
    char *p = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    char *c = p ? mn_strndup(p, strlen(p)) : NULL;
    cJSON_free(p);
    return c;
}

static int plan(mnemo *db, mn_extract *ex) {
    mn_retain_in *in = ex->in;
    int most = in->n + ex->ans.nfacts;
    ex->w = mn_malloc((size_t)(most ? most : 1) * sizeof *ex->w);
    ex->dels = mn_malloc((size_t)(ex->ans.ndeletes ? ex->ans.ndeletes : 1) * sizeof *ex->dels);
    if (!ex->w || !ex->dels) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory planning");
    for (int i = 0; i < in->n; i++)
        if (!in->items[i].skip && ex->raw[i])
            ex->w[ex->nw++] = (wr){W_RAW, NULL, -1, i, -1, NULL, MN_NO_TIME};
    int cap = db->llm.max_deletes, spent = 0;
    char msg[160];
    for (int i = 0; i < ex->ans.nfacts; i++) {
        const mn_fact *f = &ex->ans.facts[i];
        if (f->op == MN_OP_NONE) continue;
        int type = f->op == MN_OP_UPDATE ? W_UPDATE : f->op == MN_OP_SUPERSEDE ? W_SUPERSEDE : W_ADD;
        int c = type == W_ADD ? -1 : f->ref;
        if (c >= 0 && same_text(f->text, f->len, ex->cands[c].text, ex->cands[c].len)) continue;
        if (known(ex, f)) continue; /* "I like tea" again: one memory */
        if (c >= 0 && ex->cands[c].touched) {
            snprintf(msg, sizeof msg, "fact %d: m%d was already decided on; stored as new", i, c + 1);
            mn_extract_note(ex, msg);
            type = W_ADD, c = -1;
        }
        if (type == W_SUPERSEDE && spent >= cap) {
            snprintf(msg, sizeof msg, "fact %d: superseding m%d would pass llm.max_deletes (%d); stored as new",
                     i, c + 1, cap);
            mn_extract_note(ex, msg);
            type = W_ADD, c = -1;
        }
        if (type == W_SUPERSEDE) spent++;
        if (c >= 0) ex->cands[c].touched = 1;
        wr *w = &ex->w[ex->nw++];
        *w = (wr){type, f, c, -1, -1, topics_of(ex, f), MN_NO_TIME};
        if (!w->topics) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory planning");
        if (f->when) {
            int64_t t;
            if (mn_time_parse(f->when, &t) == 0 || mn_heuristic_date(f->when, strlen(f->when), ex->now, &t))
                w->when = t;
            else {
                snprintf(msg, sizeof msg, "fact %d: 'when' %.40s is not a date", i, f->when);
                mn_extract_note(ex, msg);
            }
        }
    }
    for (int i = 0; i < ex->ans.ndeletes; i++) {
        int c = ex->ans.deletes[i];
        if (ex->cands[c].touched) continue;
        if (spent >= cap) {
            snprintf(msg, sizeof msg, "deleting m%d would pass llm.max_deletes (%d): kept", c + 1, cap);
            mn_extract_note(ex, msg);
            continue;
        }
        spent++;
        ex->cands[c].touched = 1;
        ex->dels[ex->ndels++] = c;
    }
    /* The parser's notes, one warning each. */
    for (const char *p = ex->ans.warnings.len ? mn_sb_str(&ex->ans.warnings) : NULL; p;) {
        const char *e = strstr(p, "; ");
        char one[200];
        snprintf(one, sizeof one, "%.*s", (int)(e ? (size_t)(e - p) : strlen(p)), p);
        mn_extract_note(ex, one);
        p = e ? e + 2 : NULL;
    }
    /* What needs a vector: every new or rewritten text. */
    ex->texts = mn_malloc((size_t)(ex->nw ? ex->nw : 1) * sizeof *ex->texts);
    ex->lens = mn_malloc((size_t)(ex->nw ? ex->nw : 1) * sizeof *ex->lens);
    if (!ex->texts || !ex->lens) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory planning");
    for (int i = 0; i < ex->nw; i++) {
        wr *w = &ex->w[i];
        w->vec = ex->ntexts;
        ex->texts[ex->ntexts] = w->type == W_RAW ? in->items[w->item].m.text : w->f->text;
        ex->lens[ex->ntexts++] = w->type == W_RAW ? in->items[w->item].m.len : w->f->len;
    }
    return ex->warnings.oom || ex->ans.warnings.oom ? mn_bank_err(db, MNEMO_ENOMEM, "out of memory planning")
                                                    : MNEMO_OK;
}

/* ---- apply ---- */

static void on_vectors(mnemo_job *job, float *vecs, const char *why);

static void plan_and_embed(mnemo_job *job) {
    mnemo *db = job->db;
    mn_extract *ex = of(job);
    int rc = plan(db, ex);
    if (rc) {
        fail(job, rc);
        return;
    }
    if (!db->builtin_embedder && ex->ntexts)
        ex->usage.embedding_calls += (ex->ntexts + MN_VECTORS_BATCH - 1) / MN_VECTORS_BATCH;
    /* Built-in vectors are recomputed by the recall index, never stored. */
    if (db->builtin_embedder && !db->index) on_vectors(job, NULL, NULL);
    else mn_vectors_start(job, ex->texts, ex->lens, ex->ntexts, on_vectors);
}

static void on_vectors(mnemo_job *job, float *vecs, const char *why) {
    mnemo *db = job->db;
    mn_extract *ex = of(job);
    if (!vecs && why && !strncmp(why, "out of memory", 13)) { /* not the host's doing */
        fail(job, mn_bank_err(db, MNEMO_ENOMEM, "%s", why));
        return;
    }
    if (!vecs && why && ex->ntexts) mn_extract_note(ex, why);
    mn_sb out;
    mn_sb_init(&out);
    int rc = mn_apply(db, ex, vecs, !vecs && why && ex->ntexts, &out);
    if (rc) {
        mn_sb_free(&out);
        fail(job, rc);
        return;
    }
    finish(job, MNEMO_OK, NULL, &out);
}

/* ---- entry points ---- */

static void unchanged(mnemo_job *job) {
    mn_sb out;
    mn_sb_init(&out);
    mn_sb_adds(&out, "{\"mode\":\"llm\",\"added\":[],\"removed\":[],\"learned\":[],\"changed\":[],"
                     "\"superseded\":[],\"forgotten\":[],\"unchanged\":true,\"pending\":false,");
    mn_budget_json(&of(job)->usage, &out);
    mn_sb_addc(&out, '}');
    finish(job, MNEMO_OK, NULL, &out);
}

static void start(mnemo_job *job, mn_retain_in *s, int64_t pending_id, int64_t queued_at,
                  mn_extract_done done) {
    mnemo *db = job->db;
    mn_extract *ex = mn_malloc(sizeof *ex);
    if (!ex) {
        mn_bank_err(db, MNEMO_ENOMEM, "out of memory starting extraction");
        if (done) {
            mn_sb none;
            mn_sb_init(&none);
            mn_usage u = {0, 0, 0, 0, 0};
            done(job, MNEMO_ENOMEM, mnemo_errmsg(db), &none, &u);
        } else {
            mn_job_fail_with(job, MNEMO_ENOMEM);
        }
        return;
    }
    memset(ex, 0, sizeof *ex);
    mn_sb_init(&ex->why);
    mn_sb_init(&ex->warnings);
    mn_sb_init(&ex->ans.warnings);
    ex->in = s;
    ex->pending_id = pending_id;
    ex->done = done;
    mn_extract_free(s->ex);
    s->ex = ex;
    int rc = prepare(db, ex, queued_at);
    if (!rc && ex->nturns == 0) {
        unchanged(job);
        return;
    }
    if (!rc) rc = find_cands(db, ex);
    if (rc) {
        fail(job, rc);
        return;
    }
    if (pack(db, ex)) {
        char why[120];
        snprintf(why, sizeof why, "llm.max_prompt_tokens (%d) leaves no room for the conversation",
                 db->llm.max_prompt_tokens);
        fallback(job, why);
        return;
    }
    for (int i = 0, t = 0; i < s->n; i++) {
        if (s->items[i].skip) continue;
        const mn_prompt_turn *pt = &ex->turns[t++];
        if (is_user(pt->role) && pt->len < s->items[i].m.len) ex->raw[i] = 1;
    }
    if (db->llm.calls_per_retain == 0) {
        fallback(job, "llm.max_calls_per_retain is 0");
        return;
    }
    ask(job);
}

void mn_extract_retain(mnemo_job *job, mn_retain_in *s) { start(job, s, 0, MN_NO_TIME, NULL); }

void mn_extract_pending(mnemo_job *job, mn_retain_in *s, int64_t pending_id, int64_t queued_at,
                        mn_extract_done done) {
    start(job, s, pending_id, queued_at, done);
}
