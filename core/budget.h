/*
** budget.h: what LLM work may cost. The "llm" open option (limits per
** request, per retain and per bank per UTC day), the token estimator, and
** the daily usage kept in the bank (table llm_usage).
*/
#ifndef MN_BUDGET_H
#define MN_BUDGET_H

#include "bank.h"

/* The estimator, when a response carries no "usage": 4 bytes a token
** (OpenAI's rule of thumb for English; CJK text counts fewer tokens than it
** costs, so the per-request cap is a target, not a guarantee), plus the
** chat format's framing: 4 tokens a message and 3 priming the reply, as
** OpenAI's cookbook counts them. */
#define MN_BUDGET_PER_MESSAGE 4
#define MN_BUDGET_PER_REPLY 3
MN_FUNC int mn_budget_estimate(const char *s, size_t n);

/* Defaults, then the "llm" open option over them; unknown keys and values
** out of range are MNEMO_EINVAL naming the key, the bound and the value. */
MN_FUNC void mn_budget_defaults(mn_llm_conf *c);
MN_FUNC int mn_budget_options(mnemo *db, const cJSON *llm);

/* What one job has spent so far. */
typedef struct mn_usage {
    int calls, prompt_tokens, completion_tokens, embedding_calls;
    int estimated;  /* some figure is an estimate (no "usage" in a response) */
} mn_usage;

/* Whether one more chat request of about `prompt` tokens (and up to
** `completion` completion tokens) fits the per-retain limits given what `u`
** spent, and the bank's limits for today. 0 if it fits; else MNEMO_EFULL
** with *why saying which limit (static text). A read error is returned as is. */
MN_FUNC int mn_budget_check(mnemo *db, const mn_usage *u, int prompt, int completion,
                            const char **why);

/* The completion cap for the next request: what the per-retain budget has
** left, at most `want`. */
MN_FUNC int mn_budget_completion_cap(mnemo *db, const mn_usage *u, int want);

/* Adds one request's tokens to u and to the bank's count for today. The
** daily count is written at once, outside any job transaction: a request
** the host carried out has cost money even if the job is then abandoned. */
MN_FUNC void mn_budget_spend(mnemo *db, mn_usage *u, int prompt, int completion, int estimated);

/* Appends "usage":{...} (with its key) to out. */
MN_FUNC void mn_budget_json(const mn_usage *u, mn_sb *out);

/* Appends today's {"calls","prompt_tokens","completion_tokens"}. */
MN_FUNC int mn_budget_today_json(mnemo *db, mn_sb *out);

#endif
