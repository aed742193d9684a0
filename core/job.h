/*
** job.h: the sans-IO job. An operation runs until it needs the host, parks
** a request, and continues in the callback the host's answer reaches.
*/
#ifndef MN_JOB_H
#define MN_JOB_H

#include "bank.h"

/* Called with the host's response, or resp == NULL when the host failed
** (rc and message from mnemo_job_fail). Must either park a new request
** (mn_job_wait) or finish the job (mn_job_done / mn_job_fail_with). */
typedef void (*mn_job_step)(mnemo_job *job, const char *resp, size_t len, int rc,
                            const char *message);

struct mnemo_job {
    mnemo *db;
    mnemo_job *next, *prev;  /* the bank's open jobs */
    int pending;
    int finished;
    int status;
    int went_out;            /* has asked the host at least once */
    char *request;
    char *result;
    mn_sb errmsg;
    mn_job_step step;
    void *state;             /* the operation's own state */
    void (*destroy)(void *state);
    /* vectors.c's sub-state while embeddings are out at the host */
    void (*vectors_done)(mnemo_job *job, float *vecs, const char *why);
    int vectors_n, vectors_next;
    float *vectors;
    const char *const *vectors_texts;
    const size_t *vectors_lens;
};

MN_FUNC mnemo_job *mn_job_new(mnemo *db, void *state, void (*destroy)(void *));
/* The start of every public job call: checks db and out, parses `json` (an
** object; `what` names it in errors), and creates a job whose zeroed state of
** `size` bytes (*state) owns the parsed input (stored at the state's start,
** as its first member, a cJSON *). NULL with *rc set on failure. */
MN_FUNC mnemo_job *mn_job_begin(mnemo *db, const char *json, const char *what, size_t size,
                                void (*destroy)(void *), mnemo_job **out, int *rc);
/* Parks `request` (owned by the job from now on) and the step to resume. */
MN_FUNC void mn_job_wait(mnemo_job *job, char *request, mn_job_step step);
/* Finishes successfully with `result` (owned by the job from now on). */
MN_FUNC void mn_job_done(mnemo_job *job, char *result);
/* Finishes with the content of sb as the result (sb is emptied), or with
** MNEMO_ENOMEM if writing it ran out of memory. */
MN_FUNC void mn_job_done_sb(mnemo_job *job, mn_sb *sb);
/* Finishes with an error; the message is the bank's current one. */
MN_FUNC void mn_job_fail_with(mnemo_job *job, int rc);
/* Ends a public call that started `job`: a job that failed without ever
** asking the host is freed and its code returned (no job exists, *out is
** NULL); otherwise *out = job and MNEMO_OK. */
MN_FUNC int mn_job_hand_over(mnemo_job *job, mnemo_job **out);

#endif
