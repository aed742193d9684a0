/*
** bench_llm.h: Part 3, what retain with an LLM costs. A fixed scripted
** conversation (12 exchanges: introductions, preferences, a question, a
** changed preference, a repeat, a forget request, dates) is retained one
** exchange at a time with "infer": true; a scripted model answers each
** request (it finds the aliases it needs in the request, as a model
** would). Printed per retained turn: LLM calls, prompt and completion
** tokens (Mnemo's estimator, 4 bytes a token: the canned answers carry no
** "usage"), embedding requests, candidates shown, and the core's own time
** per retain, the model excluded. Run on an empty bank and on a bank that
** already holds 10,000 memories, with the built-in embedder and with a host
** embedder. Included once, by bench.c, after bench_util.h.
*/
#ifndef MNEMO_BENCH_LLM_H
#define MNEMO_BENCH_LLM_H

#include "mnemo.h"

typedef struct script_turn {
    const char *user, *assistant;
    const char *answer; /* the model's content; {ref:TEXT} becomes TEXT's alias */
} script_turn;

#define F(op, ref, text, kind, topics, when)                                      \
    "{\"op\":\"" op "\",\"ref\":" ref ",\"text\":\"" text "\",\"kind\":\"" kind   \
    "\",\"topics\":" topics ",\"entities\":[],\"relations\":[],\"when\":" when      \
    ",\"confidence\":0.9}"

/* A fact with one entity and a relation from the user to it. */
#define F2(op, ref, text, kind, topics, name, type, pred)                          \
    "{\"op\":\"" op "\",\"ref\":" ref ",\"text\":\"" text "\",\"kind\":\"" kind   \
    "\",\"topics\":" topics ",\"entities\":[{\"name\":\"" name "\",\"type\":\"" type \
    "\"}],\"relations\":[{\"subject\":\"User\",\"predicate\":\"" pred             \
    "\",\"object\":\"" name "\"}],\"when\":null,\"confidence\":0.9}"

static const script_turn SCRIPT[] = {
    {"Hi! I'm Sam, I live in Lisbon and I work as a nurse at the city hospital.",
     "Nice to meet you, Sam! Working as a nurse must keep you busy. How can I help today?",
     "{\"facts\":[" F("ADD", "null", "User's name is Sam", "identity", "[\"identity\"]", "null") ","
     F2("ADD", "null", "User lives in Lisbon", "identity", "[\"home\"]", "Lisbon", "city", "lives in") ","
     F("ADD", "null", "User works as a nurse at the city hospital", "identity", "[\"work\"]", "null") "],\"delete\":[]}"},
    {"I prefer dark mode and I use Python for my side projects.",
     "Noted! Dark mode is easier on the eyes, and Python is a great choice for side projects.",
     "{\"facts\":[" F("ADD", "null", "User prefers dark mode", "preference", "[\"user interface\"]", "null") ","
     F2("ADD", "null", "User uses Python for side projects", "fact", "[\"programming language\"]", "Python",
        "programming language", "uses")
     "],\"delete\":[]}"},
    {"Can you recommend a good book on algorithms?",
     "Sure. 'Introduction to Algorithms' by Cormen, Leiserson, Rivest and Stein is the classic reference; "
     "'The Algorithm Design Manual' by Skiena is more practical, with war stories from real projects; and "
     "'Grokking Algorithms' by Bhargava is a gentle, illustrated start if you want something lighter.",
     "{\"facts\":[],\"delete\":[]}"},
    {"I like tea, especially green tea in the morning.",
     "Green tea in the morning is a lovely habit.",
     "{\"facts\":[" F("ADD", "null", "User likes green tea in the morning", "preference", "[\"food and drink\"]", "null")
     "],\"delete\":[]}"},
    {"My sister's wedding is next Saturday in Porto, I'm so excited!",
     "How exciting! Congratulations to your sister. Do you need help with anything for the wedding?",
     "{\"facts\":[" F("ADD", "null", "User's sister's wedding is next Saturday in Porto", "event", "[\"family\"]",
                      "\"next Saturday\"") "],\"delete\":[]}"},
    {"I switched to Rust for my side projects.",
     "Rust is a great language for reliable, fast software. What are you building?",
     "{\"facts\":[" F2("SUPERSEDE", "\"{ref:User uses Python for side projects}\"", "User uses Rust for side projects",
                       "fact", "[\"programming language\"]", "Rust", "programming language", "uses") "],\"delete\":[]}"},
    {"By the way, I like tea.",
     "Yes, you mentioned green tea in the morning!",
     "{\"facts\":[" F("NONE", "\"{ref:User likes green tea in the morning}\"", "User likes tea", "preference", "[]",
                      "null") "],\"delete\":[]}"},
    {"Please forget that I live in Lisbon.",
     "Done, I won't keep that.",
     "{\"facts\":[],\"delete\":[\"{ref:User lives in Lisbon}\"]}"},
    {"We adopted a cat called Miso last week.",
     "Congratulations on Miso! Cats settle in quickly with a quiet corner and a routine.",
     "{\"facts\":[" F2("ADD", "null", "User adopted a cat called Miso", "event", "[\"pets\"]", "Miso", "pet", "owns")
     "],\"delete\":[]}"},
    {"What's a quick vegetarian dinner idea?",
     "Try a chickpea and spinach curry: saute onion, garlic and ginger, add curry paste, a tin of chickpeas, "
     "a tin of tomatoes and a few handfuls of spinach, simmer for 15 minutes and serve with rice or naan.",
     "{\"facts\":[],\"delete\":[]}"},
    {"Actually I've been vegetarian since January.",
     "Good to know, I'll keep suggestions vegetarian.",
     "{\"facts\":[" F("ADD", "null", "User has been vegetarian since January", "identity", "[\"food and drink\"]",
                      "null") "],\"delete\":[]}"},
    {"I'm planning a trip to Japan in two weeks.",
     "Japan is wonderful! Do you want help with an itinerary?",
     "{\"facts\":[" F("ADD", "null", "User is planning a trip to Japan", "plan", "[\"travel\"]", "\"in two weeks\"")
     "],\"delete\":[]}"},
};
#define NSCRIPT ((int)(sizeof SCRIPT / sizeof SCRIPT[0]))
#undef F
#undef F2

/* The canned answer with each {ref:TEXT} replaced by the alias the
** request shows TEXT under ("m3"), as a model reading it would. */
static char *scripted_answer(const char *request, const char *answer) {
    cJSON *r = cJSON_Parse(request);
    const cJSON *msgs = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "body"), "messages");
    const char *user = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1), "content"));
    size_t cap = strlen(answer) + 64, n = 0;
    char *out = xmalloc(cap);
    for (const char *p = answer; *p;) {
        if (!strncmp(p, "{ref:", 5)) {
            const char *e = strchr(p, '}');
            char want[160];
            snprintf(want, sizeof want, ": %.*s (", (int)(e - p - 5), p + 5);
            const char *hit = user ? strstr(user, want) : NULL;
            const char *m = hit;
            while (m && m > user && m[-1] != '\n') m--;
            int len = hit ? (int)(hit - m) : 2;
            memcpy(out + n, hit ? m : "m0", (size_t)len);
            n += (size_t)len;
            p = e + 1;
            continue;
        }
        out[n++] = *p++;
    }
    out[n] = 0;
    cJSON_Delete(r);
    return out;
}

static void fake_vectors(const char *request, int dim, char **body) {
    cJSON *r = cJSON_Parse(request);
    const cJSON *in = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "body"), "input");
    cJSON *o = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(o, "data");
    int i = 0;
    for (const cJSON *x = in ? in->child : NULL; x; x = x->next, i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "index", i);
        float v[64];
        uint64_t h = 1469598103934665603ull;
        for (const char *c = x->valuestring; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ull;
        for (int k = 0; k < dim; k++) {
            h ^= h >> 29, h *= 0xBF58476D1CE4E5B9ull;
            v[k] = (float)((double)(h >> 11) / 9007199254740992.0 - 0.5);
        }
        cJSON_AddItemToObject(d, "embedding", cJSON_CreateFloatArray(v, dim));
        cJSON_AddItemToArray(data, d);
    }
    *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    cJSON_Delete(r);
}

typedef struct llm_run {
    int calls, prompt, completion, embeds, shown;
    double core_ms;
    char mode[16];
} llm_run;

/* Retains one exchange; fills the figures of its result. */
static int llm_turn(mnemo *db, const script_turn *t, int ts, llm_run *out) {
    cJSON *in = cJSON_CreateObject(), *msgs = cJSON_AddArrayToObject(in, "messages");
    cJSON *u = cJSON_CreateObject(), *a = cJSON_CreateObject();
    cJSON_AddStringToObject(u, "role", "user");
    cJSON_AddStringToObject(u, "content", t->user);
    cJSON_AddStringToObject(a, "role", "assistant");
    cJSON_AddStringToObject(a, "content", t->assistant);
    cJSON_AddItemToArray(msgs, u);
    cJSON_AddItemToArray(msgs, a);
    char when[40];
    snprintf(when, sizeof when, "2024-05-%02dT18:00:00Z", 1 + ts);
    cJSON_AddStringToObject(in, "timestamp", when);
    cJSON_AddBoolToObject(in, "infer", 1);
    char *json = cJSON_PrintUnformatted(in);
    cJSON_Delete(in);
    memset(out, 0, sizeof *out);
    mnemo_job *job;
    double t0 = now_ms();
    int rc = mnemo_retain(db, json, &job);
    out->core_ms += now_ms() - t0;
    free(json);
    if (rc) return rc;
    while (mnemo_job_pending(job)) {
        const char *req = mnemo_job_request(job);
        char *body;
        if (strstr(req, "\"type\":\"embeddings\"")) {
            fake_vectors(req, 64, &body);
        } else {
            cJSON *rq = cJSON_Parse(req);
            const cJSON *ms = cJSON_GetObjectItem(cJSON_GetObjectItem(rq, "body"), "messages");
            const char *user = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(ms, 1), "content"));
            const char *conv = user ? strstr(user, "Conversation:") : NULL;
            out->shown = 0;
            for (const char *p = user; conv && (p = strstr(p, "\nm")) && p < conv; p++) out->shown++;
            cJSON_Delete(rq);
            char *content = scripted_answer(req, t->answer);
            cJSON *env = cJSON_CreateObject(), *ch = cJSON_AddArrayToObject(env, "choices");
            cJSON *c0 = cJSON_CreateObject(), *m = cJSON_CreateObject();
            cJSON_AddStringToObject(m, "role", "assistant");
            cJSON_AddStringToObject(m, "content", content);
            cJSON_AddItemToObject(c0, "message", m);
            cJSON_AddItemToArray(ch, c0);
            body = cJSON_PrintUnformatted(env);
            cJSON_Delete(env);
            free(content);
        }
        t0 = now_ms();
        mnemo_job_resume(job, body, strlen(body));
        out->core_ms += now_ms() - t0;
        cJSON_free(body);
    }
    cJSON *r = mnemo_job_result(job) ? cJSON_Parse(mnemo_job_result(job)) : NULL;
    const cJSON *us = cJSON_GetObjectItem(r, "usage");
    out->calls = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(us, "llm_calls"));
    out->prompt = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(us, "prompt_tokens"));
    out->completion = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(us, "completion_tokens"));
    out->embeds = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(us, "embedding_calls"));
    const char *mode = cJSON_GetStringValue(cJSON_GetObjectItem(r, "mode"));
    snprintf(out->mode, sizeof out->mode, "%s", mode ? mode : "failed");
    rc = mnemo_job_status(job);
    cJSON_Delete(r);
    mnemo_job_free(job);
    return rc;
}

/* Fills a bank with n unrelated memories, in batches. */
static void llm_background(mnemo *db, int n) {
    static const char *const subj[] = {"the garden", "a meeting", "the car", "a recipe", "the budget",
                                       "a concert", "the gym", "a novel", "the office", "a hike"};
    char *buf = xmalloc(200 * 1000 + 64);
    for (int done = 0; done < n;) {
        size_t at = (size_t)sprintf(buf, "{\"items\":[");
        for (int k = 0; k < 1000 && done < n; k++, done++)
            at += (size_t)sprintf(buf + at, "%s{\"text\":\"Note %d about %s and item %d\"}", k ? "," : "", done,
                                  subj[done % 10], done * 7 % 1000);
        sprintf(buf + at, "]}");
        mnemo_job *job;
        if (mnemo_retain(db, buf, &job) == MNEMO_OK) {
            while (mnemo_job_pending(job)) {
                char *body;
                fake_vectors(mnemo_job_request(job), 64, &body);
                mnemo_job_resume(job, body, strlen(body));
                cJSON_free(body);
            }
            mnemo_job_free(job);
        }
    }
    free(buf);
}

static void bench_llm(void) {
    printf("\nPart 3: retain with an LLM, a scripted %d-exchange conversation (scripted model answers)\n", NSCRIPT);
    printf("  Tokens are Mnemo's estimate (4 bytes a token, system prompt and schema included); a real\n"
           "  server's \"usage\" replaces it when present. Core time: mnemo_retain + mnemo_job_resume,\n"
           "  the model and the host's work excluded.\n");
    static const struct { const char *name, *options; int background; } setups[] = {
        {"empty bank, built-in embedder", "{\"seed\":1}", 0},
        {"10,000 memories, built-in embedder", "{\"seed\":1}", 10000},
        {"10,000 memories, host embedder (64-d)", "{\"seed\":1,\"embedder\":{\"model\":\"fake\",\"dim\":64}}", 10000},
    };
    for (size_t s = 0; s < sizeof setups / sizeof setups[0]; s++) {
        mnemo *db;
        if (mnemo_open(":memory:", setups[s].options, NULL, &db) != MNEMO_OK) {
            printf("  cannot open a bank: %s\n", mnemo_errmsg(db));
            mnemo_close(db);
            return;
        }
        if (setups[s].background) llm_background(db, setups[s].background);
        printf("\n  %s\n", setups[s].name);
        printf("  %-4s %-10s %5s %7s %10s %6s %6s %9s  %s\n", "turn", "mode", "calls", "prompt", "completion",
               "embeds", "shown", "core ms", "user said");
        llm_run sum = {0};
        int maxp = 0, maxcalls = 0, maxembeds = 0;
        double core[NSCRIPT];
        for (int i = 0; i < NSCRIPT; i++) {
            llm_run r;
            int rc = llm_turn(db, &SCRIPT[i], i, &r);
            if (rc) printf("  turn %d failed: %s\n", i + 1, mnemo_errname(rc));
            printf("  %-4d %-10s %5d %7d %10d %6d %6d %9.3f  %.40s\n", i + 1, r.mode, r.calls, r.prompt,
                   r.completion, r.embeds, r.shown, r.core_ms, SCRIPT[i].user);
            sum.calls += r.calls, sum.prompt += r.prompt, sum.completion += r.completion, sum.embeds += r.embeds;
            if (r.prompt > maxp) maxp = r.prompt;
            if (r.calls > maxcalls) maxcalls = r.calls;
            if (r.embeds > maxembeds) maxembeds = r.embeds;
            core[i] = r.core_ms;
        }
        if (setups[s].background)
            printf("  (turn 1 includes building the recall index of the %d memories, once per handle)\n",
                   setups[s].background);
        printf("  per retained turn: %.2f LLM calls (max %d), %.0f prompt tokens (max %d), %.0f completion "
               "tokens, %.2f embedding requests (max %d); core time p50 %.3f ms, max %.3f ms\n",
               (double)sum.calls / NSCRIPT, maxcalls, (double)sum.prompt / NSCRIPT, maxp,
               (double)sum.completion / NSCRIPT, (double)sum.embeds / NSCRIPT, maxembeds,
               percentile(core, NSCRIPT, 0.5), percentile(core, NSCRIPT, 1.0));
        char *st = NULL;
        mnemo_stats(db, &st);
        cJSON *j = st ? cJSON_Parse(st) : NULL;
        printf("  bank after: %d valid memories, %d superseded, %d entities, %d relations\n",
               (int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "memories")) - setups[s].background,
               (int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "invalid")),
               (int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "entities")),
               (int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "relations")));
        cJSON_Delete(j);
        mnemo_free(st);
        mnemo_close(db);
    }
    printf("\n  For scale (the issue's figure, not measured here): mem0's open-source TypeScript Memory.add()\n"
           "  sends about 8,800 prompt tokens and makes three embedding calls per call, and only adds.\n");
}

#endif
