/*
** job.c: the life-cycle of a job (see mnemo.h): pending -> resumed or failed
** by the host -> pending again or finished. A job never blocks and never does
** I/O; every step is bounded by the work of one operation.
*/
#include <string.h>

#include "job.h"

mnemo_job *mn_job_new(mnemo *db, void *state, void (*destroy)(void *)) {
    mnemo_job *job = mn_malloc(sizeof *job);
    if (!job) {
        if (destroy && state) destroy(state);
        mn_bank_err(db, MNEMO_ENOMEM, "out of memory starting a job");
        return NULL;
    }
    memset(job, 0, sizeof *job);
    job->db = db;
    job->state = state;
    job->destroy = destroy;
    mn_sb_init(&job->errmsg);
    job->next = db->jobs;
    if (db->jobs) db->jobs->prev = job;
    db->jobs = job;
    return job;
}

mnemo_job *mn_job_begin(mnemo *db, const char *json, const char *what, size_t size,
                        void (*destroy)(void *), mnemo_job **out, int *rc) {
    if (!out) {
        *rc = db ? mn_bank_err(db, MNEMO_EINVAL, "out is NULL") : MNEMO_EINVAL;
        return NULL;
    }
    *out = NULL;
    if (!db || !db->sql) {
        *rc = MNEMO_EMISUSE;
        return NULL;
    }
    cJSON *in;
    if ((*rc = mn_bank_parse(db, json, json ? strlen(json) : 0, what, 0, &in))) return NULL;
    void *state = mn_malloc(size);
    if (!state) {
        cJSON_Delete(in);
        *rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
        return NULL;
    }
    memset(state, 0, size);
    *(cJSON **)state = in;
    mnemo_job *job = mn_job_new(db, state, destroy);
    *rc = job ? MNEMO_OK : MNEMO_ENOMEM;
    return job;
}

void mn_job_wait(mnemo_job *job, char *request, mn_job_step step) {
    mn_free(job->request);
    job->request = request;
    job->step = step;
    job->pending = 1;
    job->went_out = 1;
}

void mn_job_done(mnemo_job *job, char *result) {
    job->pending = 0;
    job->finished = 1;
    job->status = MNEMO_OK;
    mn_free(job->result);
    job->result = result;
}

void mn_job_done_sb(mnemo_job *job, mn_sb *sb) {
    char *res = mn_sb_take(sb);
    if (!res) {
        mn_bank_err(job->db, MNEMO_ENOMEM, "out of memory writing the result");
        mn_job_fail_with(job, MNEMO_ENOMEM);
        return;
    }
    mn_job_done(job, res);
}

void mn_job_fail_with(mnemo_job *job, int rc) {
    job->pending = 0;
    job->finished = 1;
    job->status = rc;
    mn_sb_reset(&job->errmsg);
    mn_sb_adds(&job->errmsg, mnemo_errmsg(job->db));
}

int mn_job_hand_over(mnemo_job *job, mnemo_job **out) {
    if (job->finished && job->status != MNEMO_OK && !job->went_out) {
        int rc = job->status;
        mnemo_job_free(job); /* the bank's message still says why */
        *out = NULL;
        return rc;
    }
    *out = job;
    return MNEMO_OK;
}

int mnemo_job_pending(const mnemo_job *job) { return job && job->pending; }

const char *mnemo_job_request(const mnemo_job *job) {
    return job && job->pending ? job->request : NULL;
}

static int advance(mnemo_job *job, const char *resp, size_t len, int rc, const char *msg) {
    if (!job) return MNEMO_EMISUSE;
    if (!job->pending) return MNEMO_EMISUSE;
    job->pending = 0;
    mn_job_step step = job->step;
    job->step = NULL;
    step(job, resp, len, rc, msg);
    if (!job->pending && !job->finished) {
        /* A step must park or finish; anything else is a bug in core. */
        mn_bank_err(job->db, MNEMO_EINTERNAL, "job step neither waited nor finished");
        mn_job_fail_with(job, MNEMO_EINTERNAL);
    }
    return job->finished ? job->status : MNEMO_OK;
}

int mnemo_job_resume(mnemo_job *job, const char *resp, size_t len) {
    if (!resp) return mnemo_job_fail(job, MNEMO_EHOST, "host gave no response");
    return advance(job, resp, len, MNEMO_OK, NULL);
}

int mnemo_job_fail(mnemo_job *job, int rc, const char *message) {
    return advance(job, NULL, 0, rc ? rc : MNEMO_EHOST, message ? message : "host request failed");
}

int mnemo_job_status(const mnemo_job *job) {
    if (!job || !job->finished) return MNEMO_EMISUSE;
    return job->status;
}

const char *mnemo_job_result(const mnemo_job *job) {
    return job && job->finished && job->status == MNEMO_OK ? job->result : NULL;
}

const char *mnemo_job_errmsg(const mnemo_job *job) {
    return job && job->finished && job->status != MNEMO_OK ? mn_sb_str(&job->errmsg) : "";
}

void mnemo_job_free(mnemo_job *job) {
    if (!job) return;
    mnemo *db = job->db;
    if (job->prev) job->prev->next = job->next;
    else db->jobs = job->next;
    if (job->next) job->next->prev = job->prev;
    if (job->destroy && job->state) job->destroy(job->state);
    mn_free(job->request);
    mn_free(job->result);
    mn_free(job->vectors);
    mn_sb_free(&job->errmsg);
    mn_free(job);
}
