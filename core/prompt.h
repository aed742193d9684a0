/*
** prompt.h: the extraction prompt, versioned, and the chat request built
** from it. The texts are data (prompt.c); a change to any of them is a new
** MN_PROMPT_VERSION, stored with every memory it produced.
*/
#ifndef MN_PROMPT_H
#define MN_PROMPT_H

#include "strbuf.h"

#define MN_PROMPT_VERSION "extract-v1"
/* The version stored with memories the built-in heuristic produced. */
#define MN_HEURISTIC_VERSION "heuristic-v1"

/* The system prompt and the JSON schema of the model's answer (see mnemo.h,
** THE MODEL'S ANSWER). Static. */
MN_FUNC const char *mn_prompt_system(void);
MN_FUNC const char *mn_prompt_schema(void);

/* A known memory shown to the model under its alias ("m1"...). */
typedef struct mn_prompt_cand {
    const char *text;
    size_t len;
    const char *kind;       /* may be NULL */
    int64_t when;           /* occurred_at or valid_from; MN_NO_TIME if none */
} mn_prompt_cand;

/* One conversation turn. `len` may be shorter than the text: a turn cut to
** fit the budget ends with " [...]". */
typedef struct mn_prompt_turn {
    const char *role;       /* "user", "assistant", or NULL for plain text */
    const char *text;
    size_t len;
    int cut;                /* 1 if len < the text's length */
} mn_prompt_turn;

typedef struct mn_prompt {
    int64_t now;                   /* the message time, epoch ms */
    const mn_prompt_cand *cands;
    int ncands;
    const mn_prompt_turn *turns;
    int nturns;
    const char *model;             /* NULL: the host chooses */
    int json_schema;               /* send response_format json_schema */
    int max_tokens;                /* completion cap of the request */
    int attempt;                   /* 1, or 2 for the retry */
    const char *retry_error;       /* attempt 2: why attempt 1 was unusable */
} mn_prompt;

/* Writes the job request {"type":"chat",...,"body":{...}} into out and
** returns the estimated prompt tokens (messages plus the schema when sent;
** see mn_budget_estimate). */
MN_FUNC int mn_prompt_request(const mn_prompt *p, mn_sb *out);

/* The estimated prompt tokens of a request with no candidates and no turns:
** what every request costs before the content. */
MN_FUNC int mn_prompt_overhead(int json_schema, int64_t now);

/* Tokens one candidate / one turn adds to the estimate. */
MN_FUNC int mn_prompt_cand_tokens(const mn_prompt_cand *c);
MN_FUNC int mn_prompt_turn_tokens(const mn_prompt_turn *t);

#endif
