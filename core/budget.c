/*
** budget.c: the "llm" open option, the token estimator and the daily usage
** of a bank (contract in budget.h).
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "budget.h"

#define DAY_MS 86400000LL

int mn_budget_estimate(const char *s, size_t n) {
    (void)s;
    return (int)((n + 3) / 4);
}

void mn_budget_defaults(mn_llm_conf *c) {
    memset(c, 0, sizeof *c);
    c->json_schema = 1;
    c->candidates = 8;
    /* The target for one retained exchange, system prompt included. */
    c->max_prompt_tokens = 1500;
    /* A hostile message may ask to forget everything; three is what an
    ** honest "forget X and Y" needs, and all a bad answer can cost. */
    c->max_deletes = 3;
    /* One request, plus one retry (schema refused, or output unusable). */
    c->calls_per_retain = 2;
    c->prompt_per_retain = 4000;
    c->completion_per_retain = 2000;
}

typedef struct limit {
    const char *key;
    double lo, hi;
    int *i;
    int64_t *l;
} limit;

int mn_budget_options(mnemo *db, const cJSON *llm) {
    if (!cJSON_IsObject(llm))
        return mn_bank_err(db, MNEMO_EINVAL, "option 'llm' must be an object");
    mn_llm_conf *c = &db->llm;
    const limit limits[] = {
        {"candidates", 0, 32, &c->candidates, NULL},
        {"max_prompt_tokens", 300, 1e6, &c->max_prompt_tokens, NULL},
        {"max_deletes", 0, 100, &c->max_deletes, NULL},
        {"max_calls_per_retain", 0, 10, &c->calls_per_retain, NULL},
        {"max_prompt_tokens_per_retain", 0, 1e7, &c->prompt_per_retain, NULL},
        {"max_completion_tokens_per_retain", 0, 1e7, &c->completion_per_retain, NULL},
        {"max_calls_per_day", 0, 1e12, NULL, &c->calls_per_day},
        {"max_prompt_tokens_per_day", 0, 1e15, NULL, &c->prompt_per_day},
        {"max_completion_tokens_per_day", 0, 1e15, NULL, &c->completion_per_day},
    };
    for (const cJSON *x = llm->child; x; x = x->next) {
        const char *k = x->string;
        if (!strcmp(k, "model")) {
            const char *v = cJSON_GetStringValue(x);
            if (!v || strlen(v) >= sizeof c->model)
                return mn_bank_err(db, MNEMO_EINVAL, "llm.model must be a string of at most %zu bytes",
                                   sizeof c->model - 1);
            snprintf(c->model, sizeof c->model, "%s", v);
            continue;
        }
        if (!strcmp(k, "json_schema")) {
            if (!cJSON_IsBool(x)) return mn_bank_err(db, MNEMO_EINVAL, "llm.json_schema must be true or false");
            c->json_schema = cJSON_IsTrue(x);
            continue;
        }
        size_t i = 0;
        while (i < sizeof limits / sizeof limits[0] && strcmp(k, limits[i].key)) i++;
        if (i == sizeof limits / sizeof limits[0])
            return mn_bank_err(db, MNEMO_EINVAL, "unknown llm option '%.64s'", k);
        const limit *L = &limits[i];
        if (!cJSON_IsNumber(x) || !(x->valuedouble >= L->lo && x->valuedouble <= L->hi) ||
            x->valuedouble != floor(x->valuedouble)) {
            if (cJSON_IsNumber(x))
                return mn_bank_err(db, MNEMO_EINVAL, "llm.%s must be an integer between %.0f and %.0f, got %g",
                                   k, L->lo, L->hi, x->valuedouble);
            return mn_bank_err(db, MNEMO_EINVAL, "llm.%s must be an integer between %.0f and %.0f", k,
                               L->lo, L->hi);
        }
        if (L->i) *L->i = (int)x->valuedouble;
        else *L->l = (int64_t)x->valuedouble;
    }
    return MNEMO_OK;
}

static int64_t today(mnemo *db) {
    int64_t now = mn_bank_now(db);
    return now >= 0 ? now / DAY_MS : (now - DAY_MS + 1) / DAY_MS;
}

/* Today's spending: calls, prompt and completion tokens. */
static int read_today(mnemo *db, int64_t out[3]) {
    out[0] = out[1] = out[2] = 0;
    sqlite3_stmt *st;
    int rc = mn_bank_prepare(db, "SELECT calls, prompt_tokens, completion_tokens FROM llm_usage WHERE day=?", &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, today(db));
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        for (int i = 0; i < 3; i++) out[i] = sqlite3_column_int64(st, i);
    sqlite3_finalize(st);
    return s == SQLITE_ROW || s == SQLITE_DONE ? MNEMO_OK : mn_bank_sqlerr(db, s, "reading LLM usage");
}

int mn_budget_check(mnemo *db, const mn_usage *u, int prompt, int completion, const char **why) {
    const mn_llm_conf *c = &db->llm;
    *why = NULL;
    if (u->calls + 1 > c->calls_per_retain) *why = "llm.max_calls_per_retain is spent";
    else if (u->prompt_tokens + prompt > c->prompt_per_retain) *why = "llm.max_prompt_tokens_per_retain would be exceeded";
    else if (completion < 1 || u->completion_tokens + completion > c->completion_per_retain)
        *why = "llm.max_completion_tokens_per_retain is spent";
    if (*why) return MNEMO_EFULL;
    if (!c->calls_per_day && !c->prompt_per_day && !c->completion_per_day) return MNEMO_OK;
    int64_t day[3];
    int rc = read_today(db, day);
    if (rc) return rc;
    if (c->calls_per_day && day[0] + 1 > c->calls_per_day) *why = "llm.max_calls_per_day is spent";
    else if (c->prompt_per_day && day[1] + prompt > c->prompt_per_day)
        *why = "llm.max_prompt_tokens_per_day would be exceeded";
    else if (c->completion_per_day && day[2] + completion > c->completion_per_day)
        *why = "llm.max_completion_tokens_per_day would be exceeded";
    return *why ? MNEMO_EFULL : MNEMO_OK;
}

int mn_budget_completion_cap(mnemo *db, const mn_usage *u, int want) {
    int left = db->llm.completion_per_retain - u->completion_tokens;
    if (db->llm.completion_per_day) {
        int64_t day[3];
        if (read_today(db, day) == MNEMO_OK && db->llm.completion_per_day - day[2] < left)
            left = (int)(db->llm.completion_per_day - day[2] > 0 ? db->llm.completion_per_day - day[2] : 0);
    }
    return left < want ? left : want;
}

void mn_budget_spend(mnemo *db, mn_usage *u, int prompt, int completion, int estimated) {
    u->calls++;
    u->prompt_tokens += prompt;
    u->completion_tokens += completion;
    if (estimated) u->estimated = 1;
    if (db->readonly) return;
    sqlite3_stmt *st;
    if (mn_bank_prepare(db,
                        "INSERT INTO llm_usage(day, calls, prompt_tokens, completion_tokens) "
                        "VALUES(?1, 1, ?2, ?3) ON CONFLICT(day) DO UPDATE SET calls=calls+1, "
                        "prompt_tokens=prompt_tokens+?2, completion_tokens=completion_tokens+?3",
                        &st))
        return;
    sqlite3_bind_int64(st, 1, today(db));
    sqlite3_bind_int(st, 2, prompt);
    sqlite3_bind_int(st, 3, completion);
    /* A failed count (full disk) only makes the daily limit lenient; the
    ** retain's own transaction reports the storage error if it persists. */
    sqlite3_step(st);
    sqlite3_finalize(st);
}

void mn_budget_json(const mn_usage *u, mn_sb *out) {
    mn_sb_printf(out,
                 "\"usage\":{\"llm_calls\":%d,\"prompt_tokens\":%d,\"completion_tokens\":%d,"
                 "\"embedding_calls\":%d,\"estimated\":%s}",
                 u->calls, u->prompt_tokens, u->completion_tokens, u->embedding_calls,
                 u->estimated ? "true" : "false");
}

int mn_budget_today_json(mnemo *db, mn_sb *out) {
    int64_t day[3];
    int rc = read_today(db, day);
    if (rc) return rc;
    mn_sb_printf(out, "{\"calls\":%lld,\"prompt_tokens\":%lld,\"completion_tokens\":%lld}",
                 (long long)day[0], (long long)day[1], (long long)day[2]);
    return MNEMO_OK;
}
