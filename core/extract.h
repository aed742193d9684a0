/*
** extract.h: retain with an LLM. One chat request extracts facts from the
** input and decides, against the bank's related memories (shown under
** aliases), what to add, update, supersede or delete; embeddings of what is
** new or changed follow in at most one request; everything is written in
** one transaction with history, entities and relations. Without a usable
** answer, the heuristic extractor and the pending queue take over.
*/
#ifndef MN_EXTRACT_H
#define MN_EXTRACT_H

#include "budget.h"
#include "retain.h"

typedef struct mn_extract mn_extract;

/* Runs extraction for a retain whose read input `s` is the job's state.
** Finishes the job: MNEMO_OK with the result (LLM or heuristic), or an
** error code for storage or memory failures (nothing written). */
MN_FUNC void mn_extract_retain(mnemo_job *job, mn_retain_in *s);

/* Called once when a re-extraction ends: rc MNEMO_OK with the result, or
** MNEMO_EHOST / MNEMO_EFULL (no usable answer, budget spent: nothing
** written, `why` says why), MNEMO_ENOTFOUND (the input left the queue
** meanwhile: nothing written) or another code (storage, memory). Must be the
** caller's last word on `s`: it may clear s and start the next one. */
typedef void (*mn_extract_done)(mnemo_job *job, int rc, const char *why, mn_sb *result,
                                const mn_usage *usage);

/* Re-extracts the queued input `s` (read from pending row `pending_id`,
** written at `queued_at`) with the model. The job's state begins with s.
** On success the model's facts replace the memories kept for that row and
** the row leaves the queue. Never falls back to the heuristic. */
MN_FUNC void mn_extract_pending(mnemo_job *job, mn_retain_in *s, int64_t pending_id,
                                int64_t queued_at, mn_extract_done done);

MN_FUNC void mn_extract_free(mn_extract *ex);

#endif
