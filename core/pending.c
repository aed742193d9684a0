/*
** pending.c: the queue of inputs waiting for the LLM (mnemo_process_pending).
** Contract only, for now: the pipeline lands in extract.c.
*/
#include "job.h"

typedef struct pending_state {
    cJSON *input; /* first: see mn_job_begin */
} pending_state;

static void state_free(void *p) {
    pending_state *s = p;
    cJSON_Delete(s->input);
    mn_free(s);
}

int mnemo_process_pending(mnemo *db, const char *options_json, mnemo_job **out) {
    int rc;
    mnemo_job *job = mn_job_begin(db, options_json ? options_json : "{}", "process_pending options",
                                  sizeof(pending_state), state_free, out, &rc);
    if (!job) return rc;
    char *res = mn_strndup("{\"processed\":0,\"remaining\":0,\"results\":[],\"usage\":{\"llm_calls\":0,"
                           "\"prompt_tokens\":0,\"completion_tokens\":0,\"embedding_calls\":0,"
                           "\"estimated\":false}}", 160);
    if (!res) {
        mn_bank_err(db, MNEMO_ENOMEM, "out of memory");
        mn_job_fail_with(job, MNEMO_ENOMEM);
    } else {
        mn_job_done(job, res);
    }
    return mn_job_hand_over(job, out);
}
