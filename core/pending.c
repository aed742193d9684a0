/*
** pending.c: the queue of inputs that waited for the LLM, and
** mnemo_process_pending. A retain that could not get a usable answer stored
** the turns as given and the heuristic's facts, each pointing at its queued
** input (memories.pending_id); here the input is read again exactly as
** retain read it, extracted with the model, and its answer replaces those
** memories in one transaction. An input the model cannot answer for stays
** queued (its attempts counted): nothing is ever lost.
*/
#include <string.h>

#include "extract.h"

#define DEFAULT_LIMIT 10

typedef struct pending_state {
    mn_retain_in in;     /* first: the queued input being extracted (see extract.h) */
    cJSON *options;
    int64_t *ids, *queued;
    int n, next;
    int processed;
    mn_usage usage;
    mn_sb results;
    char *stopped;
} pending_state;

static void state_free(void *p) {
    pending_state *s = p;
    mn_retain_clear(&s->in);
    cJSON_Delete(s->options);
    mn_free(s->ids);
    mn_free(s->queued);
    mn_sb_free(&s->results);
    mn_free(s->stopped);
    mn_free(s);
}

static void finish(mnemo_job *job) {
    mnemo *db = job->db;
    pending_state *s = job->state;
    sqlite3_stmt *st;
    int rc = mn_bank_prepare(db, "SELECT count(*) FROM pending", &st);
    int64_t remaining = 0;
    if (!rc) {
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) remaining = sqlite3_column_int64(st, 0);
        else rc = mn_bank_sqlerr(db, r, "counting the queue");
        sqlite3_finalize(st);
    }
    if (rc) {
        mn_job_fail_with(job, rc);
        return;
    }
    mn_sb out;
    mn_sb_init(&out);
    mn_sb_printf(&out, "{\"processed\":%d,\"remaining\":%lld,\"results\":[", s->processed, (long long)remaining);
    mn_sb_add(&out, mn_sb_str(&s->results), s->results.len);
    mn_sb_adds(&out, "]");
    if (s->stopped) {
        mn_sb_adds(&out, ",\"stopped\":");
        mn_sb_json_str(&out, s->stopped, strlen(s->stopped));
    }
    mn_sb_addc(&out, ',');
    mn_budget_json(&s->usage, &out);
    mn_sb_addc(&out, '}');
    if (s->results.oom) out.oom = 1;
    mn_job_done_sb(job, &out);
}

static void next(mnemo_job *job);

static void add_usage(mn_usage *t, const mn_usage *u) {
    t->calls += u->calls;
    t->prompt_tokens += u->prompt_tokens;
    t->completion_tokens += u->completion_tokens;
    t->embedding_calls += u->embedding_calls;
    t->estimated |= u->estimated;
}

/* Counts a failed attempt on the queued input, with its reason. */
static void count_attempt(mnemo *db, int64_t id, const char *why) {
    sqlite3_stmt *st;
    if (db->readonly || mn_bank_prepare(db, "UPDATE pending SET attempts=attempts+1, reason=?, updated_at=? WHERE id=?", &st))
        return;
    sqlite3_bind_text(st, 1, why, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, mn_bank_now(db));
    sqlite3_bind_int64(st, 3, id);
    sqlite3_step(st); /* a failed count loses nothing */
    sqlite3_finalize(st);
}

static void on_done(mnemo_job *job, int rc, const char *why, mn_sb *result, const mn_usage *u) {
    pending_state *s = job->state;
    add_usage(&s->usage, u);
    if (rc == MNEMO_EHOST || rc == MNEMO_EFULL) {
        mn_sb_free(result);
        count_attempt(job->db, s->ids[s->next - 1], why);
        s->stopped = mn_strndup(why, strlen(why));
        if (!s->stopped) {
            mn_bank_err(job->db, MNEMO_ENOMEM, "out of memory");
            mn_job_fail_with(job, MNEMO_ENOMEM);
            return;
        }
        finish(job);
        return;
    }
    if (rc == MNEMO_ENOTFOUND) { /* processed elsewhere meanwhile: nothing to do */
        mn_sb_free(result);
        next(job);
        return;
    }
    if (rc) {
        mn_sb_free(result);
        mn_job_fail_with(job, rc);
        return;
    }
    if (s->processed++) mn_sb_addc(&s->results, ',');
    mn_sb_add(&s->results, mn_sb_str(result), result->len);
    mn_sb_free(result);
    next(job);
}

/* Reads the next queued input and extracts it; finishes after the last. */
static void next(mnemo_job *job) {
    mnemo *db = job->db;
    pending_state *s = job->state;
    while (s->next < s->n) {
        int64_t id = s->ids[s->next++];
        mn_retain_clear(&s->in);
        sqlite3_stmt *st;
        int rc = mn_bank_prepare(db, "SELECT input FROM pending WHERE id=?", &st);
        if (rc) {
            mn_job_fail_with(job, rc);
            return;
        }
        sqlite3_bind_int64(st, 1, id);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW)
            rc = mn_bank_parse(db, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                               "a queued input", 0, &s->in.input);
        else if (r != SQLITE_DONE)
            rc = mn_bank_sqlerr(db, r, "reading the queue");
        sqlite3_finalize(st);
        if (r == SQLITE_DONE) continue; /* gone meanwhile (its document was replaced) */
        if (!rc) rc = mn_retain_read(db, &s->in, 0);
        if (rc == MNEMO_ENOMEM || rc == MNEMO_EIO || rc == MNEMO_EBUSY || rc == MNEMO_ECORRUPT) {
            mn_job_fail_with(job, rc);
            return;
        }
        if (rc) { /* unreadable (a newer Mnemo's input?): leave it queued */
            count_attempt(db, id, mnemo_errmsg(db));
            continue;
        }
        mn_extract_pending(job, &s->in, id, s->queued[s->next - 1], on_done);
        return;
    }
    finish(job);
}

int mnemo_process_pending(mnemo *db, const char *options_json, mnemo_job **out) {
    int rc;
    mnemo_job *job = mn_job_begin(db, options_json ? options_json : "{}", "process_pending options",
                                  sizeof(pending_state), state_free, out, &rc);
    if (!job) return rc;
    pending_state *s = job->state;
    /* mn_job_begin put the options where the input goes: move them. */
    s->options = s->in.input;
    s->in.input = NULL;
    mn_sb_init(&s->results);
    int limit = DEFAULT_LIMIT;
    for (const cJSON *x = s->options->child; x && !rc; x = x->next) {
        if (strcmp(x->string, "limit"))
            rc = mn_bank_err(db, MNEMO_EINVAL, "unknown process_pending option '%.64s'", x->string);
        else if (!cJSON_IsNumber(x) || x->valuedouble < 1 || x->valuedouble > MNEMO_MAX_LIMIT ||
                 x->valuedouble != (double)(int)x->valuedouble)
            rc = mn_bank_err(db, MNEMO_EINVAL, "limit must be an integer between 1 and %d", MNEMO_MAX_LIMIT);
        else
            limit = (int)x->valuedouble;
    }
    sqlite3_stmt *st = NULL;
    if (!rc) {
        s->ids = mn_malloc((size_t)limit * sizeof *s->ids);
        s->queued = mn_malloc((size_t)limit * sizeof *s->queued);
        if (!s->ids || !s->queued) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
    }
    if (!rc) rc = mn_bank_prepare(db, "SELECT id, created_at FROM pending ORDER BY id LIMIT ?", &st);
    if (!rc) {
        sqlite3_bind_int(st, 1, limit);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            s->ids[s->n] = sqlite3_column_int64(st, 0);
            s->queued[s->n++] = sqlite3_column_int64(st, 1);
        }
        if (r != SQLITE_DONE) rc = mn_bank_sqlerr(db, r, "reading the queue");
    }
    sqlite3_finalize(st);
    if (rc) mn_job_fail_with(job, rc);
    else next(job);
    return mn_job_hand_over(job, out);
}
