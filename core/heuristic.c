/*
** heuristic.c: the offline extractor (see heuristic.h).
**
** A message is cut into sentences, a sentence into clauses where a new
** first-person subject starts ("... and I use Python"). A clause whose
** subject is the user ("I", "I'm", "My ...") and that is neither a question,
** a hedge ("I think", "I guess") nor a request to the assistant ("I need
** help", "I want to know") is rewritten in the third person, the way the
** model writes facts: "I use Python" -> "User uses Python", "My sister's
** wedding is next Saturday" -> "User's sister's wedding is next Saturday
** (2024-05-11)". Its kind comes from the verb, its topics and entity types
** from a small lexicon, its date from mn_heuristic_date.
*/
#include <string.h>

#include "datetime.h"
#include "heuristic.h"

#define DAY_MS 86400000LL
#define CLAUSE_MAX 600 /* longer clauses are not simple statements */

static char lower(char c) { return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c); }
static int is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (unsigned char)c >= 0x80;
}
static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }

/* ---- the lexicon ---- */

typedef struct lex {
    const char *word;   /* lower case; may hold a space ("dark mode") */
    const char *topic;
    const char *type;   /* entity type, or NULL: not an entity by itself */
} lex;

static const lex LEXICON[] = {
    {"python", "programming language", "programming language"},
    {"rust", "programming language", "programming language"},
    {"javascript", "programming language", "programming language"},
    {"typescript", "programming language", "programming language"},
    {"java", "programming language", "programming language"},
    {"golang", "programming language", "programming language"},
    {"kotlin", "programming language", "programming language"},
    {"swift", "programming language", "programming language"},
    {"ruby", "programming language", "programming language"},
    {"php", "programming language", "programming language"},
    {"haskell", "programming language", "programming language"},
    {"scala", "programming language", "programming language"},
    {"elixir", "programming language", "programming language"},
    {"clojure", "programming language", "programming language"},
    {"c++", "programming language", "programming language"},
    {"c#", "programming language", "programming language"},
    {"perl", "programming language", "programming language"},
    {"lua", "programming language", "programming language"},
    {"julia", "programming language", "programming language"},
    {"zig", "programming language", "programming language"},
    {"ocaml", "programming language", "programming language"},
    {"dart", "programming language", "programming language"},
    {"dark mode", "user interface", NULL},
    {"light mode", "user interface", NULL},
    {"theme", "user interface", NULL},
    {"font", "user interface", NULL},
    {"vim", "software", "software"},
    {"emacs", "software", "software"},
    {"vscode", "software", "software"},
    {"linux", "software", "software"},
    {"windows", "software", "software"},
    {"macos", "software", "software"},
    {"tea", "food and drink", NULL},
    {"coffee", "food and drink", NULL},
    {"pizza", "food and drink", NULL},
    {"sushi", "food and drink", NULL},
    {"vegan", "food and drink", NULL},
    {"vegetarian", "food and drink", NULL},
    {"food", "food and drink", NULL},
    {"wine", "food and drink", NULL},
    {"beer", "food and drink", NULL},
    {"chocolate", "food and drink", NULL},
    {"pasta", "food and drink", NULL},
    {"cook", "food and drink", NULL},
    {"cooking", "food and drink", NULL},
    {"sister", "family", NULL},
    {"brother", "family", NULL},
    {"mother", "family", NULL},
    {"mom", "family", NULL},
    {"father", "family", NULL},
    {"dad", "family", NULL},
    {"wife", "family", NULL},
    {"husband", "family", NULL},
    {"partner", "family", NULL},
    {"son", "family", NULL},
    {"daughter", "family", NULL},
    {"parents", "family", NULL},
    {"kids", "family", NULL},
    {"children", "family", NULL},
    {"cousin", "family", NULL},
    {"grandmother", "family", NULL},
    {"grandfather", "family", NULL},
    {"wedding", "events", NULL},
    {"birthday", "events", NULL},
    {"party", "events", NULL},
    {"appointment", "events", NULL},
    {"meeting", "events", NULL},
    {"dog", "pets", NULL},
    {"cat", "pets", NULL},
    {"puppy", "pets", NULL},
    {"kitten", "pets", NULL},
    {"job", "work", NULL},
    {"work", "work", NULL},
    {"company", "work", NULL},
    {"office", "work", NULL},
    {"boss", "work", NULL},
    {"colleague", "work", NULL},
    {"engineer", "work", NULL},
    {"developer", "work", NULL},
    {"live", "home", NULL},
    {"moved", "home", NULL},
    {"allergic", "health", NULL},
    {"allergy", "health", NULL},
    {"doctor", "health", NULL},
    {"gym", "health", NULL},
    {"diet", "health", NULL},
    {"trip", "travel", NULL},
    {"travel", "travel", NULL},
    {"flight", "travel", NULL},
    {"vacation", "travel", NULL},
    {"holiday", "travel", NULL},
    {"guitar", "music", NULL},
    {"piano", "music", NULL},
    {"music", "music", NULL},
    {"football", "sports", NULL},
    {"soccer", "sports", NULL},
    {"tennis", "sports", NULL},
    {"hiking", "sports", NULL},
    {"running", "sports", NULL},
    {"books", "books", NULL},
    {"reading", "books", NULL},
    {"english", "language", "language"},
    {"french", "language", "language"},
    {"spanish", "language", "language"},
    {"german", "language", "language"},
    {"portuguese", "language", "language"},
    {"italian", "language", "language"},
    {"chinese", "language", "language"},
    {"japanese", "language", "language"},
};
#define NLEX ((int)(sizeof LEXICON / sizeof LEXICON[0]))

/* The lexicon entry at text[i] (a word start), or -1; *n its length. */
static int lex_at(const char *t, size_t len, size_t i, size_t *n) {
    for (int k = 0; k < NLEX; k++) {
        size_t w = strlen(LEXICON[k].word), j = 0;
        if (i + w > len) continue;
        while (j < w && lower(t[i + j]) == LEXICON[k].word[j]) j++;
        if (j < w) continue;
        char after = i + w < len ? t[i + w] : 0;
        if (is_alnum(after) || after == '+' || after == '#') continue;
        *n = w;
        return k;
    }
    return -1;
}

/* Calls fn for each lexicon match in the text. */
static void each_lex(const char *t, size_t len, void (*fn)(void *, int, size_t, size_t), void *ctx) {
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && is_alnum(t[i - 1])) continue;
        size_t n;
        int k = lex_at(t, len, i, &n);
        if (k >= 0) {
            fn(ctx, k, i, n);
            i += n - 1;
        }
    }
}

typedef struct topic_acc {
    const char *seen[8];
    int n;
    mn_sb *out;
    cJSON *arr;
} topic_acc;

static void on_topic(void *ctx, int k, size_t at, size_t n) {
    topic_acc *t = ctx;
    const char *topic = LEXICON[k].topic;
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->seen[i], topic)) return;
    if (t->n == 8) return;
    t->seen[t->n++] = topic;
    if (t->out) {
        if (t->out->len) mn_sb_addc(t->out, ' ');
        mn_sb_adds(t->out, topic);
    }
    if (t->arr) cJSON_AddItemToArray(t->arr, cJSON_CreateString(topic));
}

void mn_heuristic_topics(const char *text, size_t len, mn_sb *out) {
    topic_acc t = {{0}, 0, out, NULL};
    each_lex(text, len, on_topic, &t);
}

/* ---- dates ---- */

static const char *const WEEKDAYS[7] = {"monday", "tuesday", "wednesday", "thursday",
                                        "friday", "saturday", "sunday"};

static int64_t day_of(int64_t ms) { return ms >= 0 ? ms / DAY_MS : (ms - DAY_MS + 1) / DAY_MS; }

/* Word i of the lower-cased text: fills w (NUL-terminated) and returns the
** index after it, or 0 at the end. */
static size_t next_word(const char *t, size_t len, size_t i, char *w, size_t wmax) {
    while (i < len && !is_alnum(t[i])) i++;
    if (i >= len) return 0;
    size_t n = 0;
    while (i < len && (is_alnum(t[i]) || t[i] == '\'')) {
        if (n + 1 < wmax) w[n++] = lower(t[i]);
        i++;
    }
    w[n] = 0;
    return i;
}

static int number_word(const char *w) {
    static const char *const nums[] = {"a", "one", "two", "three", "four", "five", "six", "seven",
                                       "eight", "nine", "ten", "eleven", "twelve", "an", NULL};
    for (int k = 0; nums[k]; k++)
        if (!strcmp(w, nums[k])) return k == 13 ? 1 : (k == 0 ? 1 : k);
    int v = 0;
    for (const char *p = w; *p; p++) {
        if (*p < '0' || *p > '9' || v > 1000) return -1;
        v = v * 10 + (*p - '0');
    }
    return *w ? v : -1;
}

static int weekday_of(const char *w) {
    for (int k = 0; k < 7; k++)
        if (!strcmp(w, WEEKDAYS[k])) return k;
    return -1;
}

/* Future phrases, which query ranges (made for questions about the past)
** do not name. */
static int future_date(const char *t, size_t len, int64_t now, int64_t *ms) {
    int64_t today = day_of(now);
    int wd_today = (int)(((today + 3) % 7 + 7) % 7);
    char w[3][24];
    size_t at[3] = {0, 0, 0};
    /* A sliding window of three words. */
    at[0] = next_word(t, len, 0, w[0], sizeof w[0]);
    if (at[0]) at[1] = next_word(t, len, at[0], w[1], sizeof w[1]);
    if (at[1]) at[2] = next_word(t, len, at[1], w[2], sizeof w[2]);
    while (at[0]) {
        const char *a = w[0], *b = at[1] ? w[1] : "", *c = at[2] ? w[2] : "";
        int64_t day = INT64_MIN;
        if (!strcmp(a, "tomorrow")) day = today + 1;
        else if (!strcmp(a, "tonight") || (!strcmp(a, "this") && (!strcmp(b, "evening") || !strcmp(b, "afternoon"))))
            day = today;
        else if (!strcmp(a, "after") && !strcmp(b, "tomorrow")) day = today + 2;
        else if ((!strcmp(a, "next") || !strcmp(a, "this") || !strcmp(a, "coming")) && weekday_of(b) >= 0) {
            int d = (weekday_of(b) - wd_today + 7) % 7;
            if (d == 0 && strcmp(a, "this")) d = 7;
            day = today + d;
        } else if (!strcmp(a, "next") && !strcmp(b, "week")) day = today + 7 - wd_today;
        else if (!strcmp(a, "next") && !strcmp(b, "month")) day = mn_time_month_shift(today, 1);
        else if (!strcmp(a, "next") && !strcmp(b, "year")) day = mn_time_month_shift(today, 12 - mn_time_month_of(today));
        else if (!strcmp(a, "in") && number_word(b) > 0) {
            int n = number_word(b);
            if (!strncmp(c, "day", 3)) day = today + n;
            else if (!strncmp(c, "week", 4)) day = today + 7 * n;
            else if (!strncmp(c, "month", 5)) day = mn_time_month_shift(today, n);
            else if (!strncmp(c, "year", 4)) day = mn_time_month_shift(today, 12 * n);
        }
        if (day != INT64_MIN) {
            *ms = day * DAY_MS;
            return 1;
        }
        for (int k = 0; k < 2; k++) {
            memcpy(w[k], w[k + 1], sizeof w[k]);
            at[k] = at[k + 1];
        }
        at[2] = at[1] ? next_word(t, len, at[1], w[2], sizeof w[2]) : 0;
    }
    return 0;
}

int mn_heuristic_date(const char *text, size_t len, int64_t now, int64_t *ms) {
    if (future_date(text, len, now, ms)) return 1;
    int64_t from, to;
    /* Past phrases, as recall reads them in questions. A year or more is
    ** not a date worth pinning on a fact ("in 2022" stays in the text). */
    if (mn_time_query_range(text, len, now, &from, &to) && to - from <= 31 * DAY_MS) {
        *ms = day_of(from) * DAY_MS;
        return 1;
    }
    return 0;
}

/* ---- clauses ---- */

/* 1 if the lower-cased clause s starts with the words w (whole words). */
static int starts(const char *s, const char *w) {
    size_t n = strlen(w);
    return !strncmp(s, w, n) && !is_alnum(s[n]);
}

static int any_start(const char *s, const char *const *list) {
    for (; *list; list++)
        if (starts(s, *list)) return 1;
    return 0;
}

/* After "I": hedges, requests to the assistant and small talk. */
static const char *const SKIP_AFTER_I[] = {
    "think", "guess", "wonder", "was wondering", "see", "know", "mean", "hope", "agree",
    "understand", "thought", "believe", "suppose", "apologize", "appreciate", "need help",
    "need you", "want to know", "would like to know", "'d like to know", "have a question",
    "am wondering", "am not sure", "am sorry", "am curious", "am just", "am glad", "am here",
    "am back", "am fine", "am good", "am ok", "am okay", "am great", "am ready", "am done",
    "am looking for", "am trying to figure", "was just", "don't know", "do not know",
    "don't understand", "dont know", "just", "asked", "said", "told you", "forgot", "feel like asking",
    "would like you", "'d like you", "want you", "wanted to ask", "have another question",
    NULL};

static const char *const FAMILY[] = {
    "sister", "brother", "mother", "mom", "mum", "father", "dad", "wife", "husband", "partner",
    "son", "daughter", "parents", "kids", "children", "cousin", "aunt", "uncle", "grandma",
    "grandmother", "grandpa", "grandfather", "friend", "best friend", "boss", "girlfriend",
    "boyfriend", "fiance", "fiancee", "roommate", "colleague", "neighbor", "neighbour", NULL};

static const char *const PAST_IRREGULAR[] = {
    "went", "got", "bought", "saw", "met", "took", "made", "ate", "drank", "ran", "began", "came",
    "gave", "found", "left", "lost", "spent", "sold", "built", "brought", "thought", "told",
    "said", "wrote", "paid", "put", "quit", "set", "cut", "hit", "felt", "kept", "slept", "won",
    "flew", "drove", "rode", "swam", "sang", "fell", "broke", "chose", "knew", "grew", "threw",
    "wore", "taught", "caught", "fought", "heard", "held", "sat", "stood", "understood",
    "became", "did", "was", "were", "had", "used", "read", "let", "hurt", "shut", "spoke", "sent",
    "can", "could", "should", "would", "will", "must", "might", "may", "shall", "also", "really",
    "never", "always", "often", "usually", "sometimes", "still", "now", "recently", "just",
    "mostly", "only", "rarely", "already", NULL};

static const char *const PREFERENCE_WORDS[] = {
    "prefer", "like", "love", "enjoy", "adore", "hate", "dislike", "can't stand", "cannot stand",
    "favorite", "favourite", "fan of", "into", "would like", "'d like", "prefers", "likes",
    "loves", "enjoys", "hates", "dislikes", NULL};

static const char *const PLAN_WORDS[] = {"going to", "gonna", "plan", "planning", "will", "'ll",
                                         "want to", "intend", "hope to", "thinking about",
                                         "thinking of", "about to", "would like to", "'d like to",
                                         NULL};

/* Third person of a verb: writes it into out (at most omax bytes). */
static void third_person(const char *v, size_t n, mn_sb *out) {
    char w[32];
    size_t k = n < sizeof w - 1 ? n : sizeof w - 1;
    for (size_t i = 0; i < k; i++) w[i] = lower(v[i]);
    w[k] = 0;
    if (!strcmp(w, "have")) { mn_sb_adds(out, "has"); return; }
    if (!strcmp(w, "am")) { mn_sb_adds(out, "is"); return; }
    if (!strcmp(w, "do")) { mn_sb_adds(out, "does"); return; }
    if (!strcmp(w, "go")) { mn_sb_adds(out, "goes"); return; }
    int keep = n >= 3 && w[k - 2] == 'e' && w[k - 1] == 'd';
    for (int i = 0; PAST_IRREGULAR[i] && !keep; i++) keep = !strcmp(w, PAST_IRREGULAR[i]);
    mn_sb_add(out, v, n);
    if (keep) return;
    char l = w[k - 1], p = k > 1 ? w[k - 2] : 0;
    if (l == 's' || l == 'x' || l == 'z' || l == 'o' || (l == 'h' && (p == 'c' || p == 's')))
        mn_sb_adds(out, "es");
    else if (l == 'y' && p && !strchr("aeiou", p)) {
        out->len--;
        mn_sb_adds(out, "ies");
    } else mn_sb_addc(out, 's');
}

/* Appends s[0..n) with the user's own words turned to the third person:
** my -> their, me -> them, I -> they, myself -> themselves. */
static void rest_third_person(const char *s, size_t n, mn_sb *out) {
    static const struct { const char *from, *to; } sw[] = {
        {"my", "their"}, {"me", "them"}, {"myself", "themselves"}, {"mine", "theirs"},
        {"i", "they"}, {"i'm", "they're"}, {"i've", "they've"}, {"i'll", "they'll"}, {"i'd", "they'd"},
        {"am", "are"}};
    size_t i = 0;
    int prev_i = 0;
    while (i < n) {
        if (!is_alnum(s[i])) {
            mn_sb_addc(out, s[i++]);
            continue;
        }
        size_t j = i;
        while (j < n && (is_alnum(s[j]) || s[j] == '\'')) j++;
        char w[12];
        size_t wl = j - i;
        int done = 0, was_i = 0;
        if (wl < sizeof w) {
            for (size_t k = 0; k < wl; k++) w[k] = lower(s[i + k]);
            w[wl] = 0;
            was_i = !strcmp(w, "i");
            for (size_t k = 0; k < sizeof sw / sizeof sw[0] && !done; k++) {
                if (strcmp(w, sw[k].from)) continue;
                if (!strcmp(w, "am") && !prev_i) break; /* only "I am" */
                if (!strcmp(w, "i") && s[i] != 'I') break;
                mn_sb_adds(out, sw[k].to);
                done = 1;
            }
        }
        if (!done) mn_sb_add(out, s + i, wl);
        prev_i = was_i;
        i = j;
    }
}

typedef struct clause_out {
    mn_sb text;
    const char *kind;
    cJSON *entities, *relations;
    const char *verb_at;  /* the main verb in the clause, for a relation */
    size_t verb_len;
} clause_out;

typedef struct ent_acc {
    cJSON *arr;
    const char *clause;
    size_t len;
    int n;
} ent_acc;

static int has_entity(cJSON *arr, const char *name, size_t n) {
    for (cJSON *e = arr->child; e; e = e->next) {
        const char *x = cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring;
        if (strlen(x) == n && !strncmp(x, name, n)) return 1;
    }
    return 0;
}

static void add_entity(ent_acc *a, const char *name, size_t n, const char *type) {
    if (a->n >= MN_LLMJSON_MAX_ITEMS || n == 0 || n > 64 || has_entity(a->arr, name, n)) return;
    char buf[65];
    memcpy(buf, name, n);
    buf[n] = 0;
    cJSON *e = cJSON_CreateObject();
    if (!e) return;
    cJSON_AddStringToObject(e, "name", buf);
    if (type) cJSON_AddStringToObject(e, "type", type);
    else cJSON_AddNullToObject(e, "type");
    cJSON_AddItemToArray(a->arr, e);
    a->n++;
}

static void on_lex_entity(void *ctx, int k, size_t at, size_t n) {
    ent_acc *a = ctx;
    if (!LEXICON[k].type) return;
    const char *s = a->clause + at;
    /* "Python" as written, capitalised if the user wrote it lower-case. */
    char buf[32];
    size_t m = n < sizeof buf ? n : sizeof buf - 1;
    memcpy(buf, s, m);
    buf[0] = (char)(buf[0] >= 'a' && buf[0] <= 'z' ? buf[0] - 32 : buf[0]);
    add_entity(a, buf, m, LEXICON[k].type);
}

/* Entities of a clause: lexicon words, and runs of capitalised words that
** do not start the clause ("New York", "Alice"). */
static void clause_entities(ent_acc *a, const char *s, size_t n) {
    each_lex(s, n, on_lex_entity, a);
    size_t i = 0;
    int first = 1;
    while (i < n) {
        while (i < n && !is_alnum(s[i])) i++;
        size_t st = i, end = i;
        int words = 0;
        while (i < n && is_upper(s[i]) && !first) {
            size_t j = i;
            while (j < n && (is_alnum(s[j]) || s[j] == '\'' || s[j] == '-')) j++;
            if (j - i == 1 && s[i] == 'I') break;
            end = j;
            words++;
            i = j;
            if (i < n && s[i] == ' ' && i + 1 < n && is_upper(s[i + 1])) i++;
            else break;
        }
        if (words) {
            while (end > st && s[end - 1] == '\'') end--;
            if (end - st >= 2 && s[end - 2] == '\'' && s[end - 1] == 's') end -= 2;
            size_t dummy;
            if (lex_at(s, n, st, &dummy) < 0) {
                /* Month and weekday names are dates, not entities. */
                char w[12];
                size_t wl = end - st < 11 ? end - st : 11;
                for (size_t k = 0; k < wl; k++) w[k] = lower(s[st + k]);
                w[wl] = 0;
                static const char *const not_names[] = {
                    "january", "february", "march", "april", "june", "july", "august",
                    "september", "october", "november", "december", "user", NULL};
                int skip = weekday_of(w) >= 0;
                for (int k = 0; not_names[k] && !skip; k++) skip = !strcmp(w, not_names[k]);
                if (!skip) add_entity(a, s + st, end - st, NULL);
            }
            continue;
        }
        first = 0;
        while (i < n && is_alnum(s[i])) i++;
        if (i == st) i++;
    }
}

/* Rewrites one clause (lower-cased copy in `lc`, original in `s`) into
** out->text. 0 if it is a statement about the user, -1 to skip it. */
static int rewrite(const char *s, const char *lc, size_t n, clause_out *out) {
    const char *kind = "fact";
    size_t i = 0;
    if (starts(lc, "my") && n > 3) {
        /* "My sister's wedding ...", "My name is Sam" */
        const char *r = lc + 3;
        mn_sb_adds(&out->text, "User's ");
        if (starts(r, "name is")) kind = "identity";
        else if (any_start(r, FAMILY)) kind = "relationship";
        else if (starts(r, "favorite") || starts(r, "favourite")) kind = "preference";
        rest_third_person(s + 3, n - 3, &out->text);
        out->kind = kind;
        return 0;
    }
    const char *r;
    if (starts(lc, "i'm") || starts(lc, "im")) {
        i = lc[1] == '\'' ? 3 : 2;
        r = lc + i;
        while (*r == ' ') r++, i++;
        static const char *const skip_im[] = {"sorry", "fine", "good", "ok", "okay", "great",
                                              "glad", "here", "back", "done", "ready", "sure",
                                              "not sure", "curious", "wondering", "looking for",
                                              "just", "trying to figure", "confused", "stuck",
                                              "tired", "bored", "hungry", "happy to", "asking",
                                              NULL};
        if (any_start(r, skip_im)) return -1;
        /* "I'm Sam": a name. */
        size_t w = 0;
        while (i + w < n && is_alnum(s[i + w])) w++;
        if (w && is_upper(s[i]) && i + w == n) {
            mn_sb_adds(&out->text, "User's name is ");
            mn_sb_add(&out->text, s + i, w);
            out->kind = "identity";
            return 0;
        }
        mn_sb_adds(&out->text, "User is ");
        out->verb_at = "is";
        out->verb_len = 2;
    } else if (starts(lc, "i")) {
        i = 1;
        r = lc + 1;
        while (*r == ' ') r++, i++;
        /* A contraction glued to I: I've, I'd, I'll. */
        if (lc[1] == '\'') {
            const char *exp = starts(lc, "i've") ? "has" : starts(lc, "i'd") ? "would"
                              : starts(lc, "i'll") ? "will" : NULL;
            if (!exp) return -1;
            if (any_start(lc, (const char *const[]){"i'd like to know", "i'd like you", NULL})) return -1;
            i = (size_t)(strchr(lc, ' ') ? strchr(lc, ' ') - lc : (long)n);
            while (i < n && s[i] == ' ') i++;
            mn_sb_adds(&out->text, "User ");
            mn_sb_adds(&out->text, exp);
            mn_sb_addc(&out->text, ' ');
            if (!strcmp(exp, "will")) kind = "plan";
            if (starts(lc, "i'd like") || starts(lc, "i'd prefer") || starts(lc, "i'd rather")) kind = "preference";
            rest_third_person(s + i, n - i, &out->text);
            out->kind = kind;
            return i < n ? 0 : -1;
        }
        if (any_start(r, SKIP_AFTER_I)) return -1;
        /* The verb, in the third person. "I am" -> "User is". */
        size_t v = 0;
        while (i + v < n && (is_alnum(s[i + v]) || s[i + v] == '\'')) v++;
        if (!v) return -1;
        mn_sb_adds(&out->text, "User ");
        if (starts(r, "don't") || starts(r, "do not") || starts(r, "dont")) {
            mn_sb_adds(&out->text, "doesn't");
            i += starts(r, "do not") ? 6 : v;
        } else {
            out->verb_at = s + i;
            out->verb_len = v;
            third_person(s + i, v, &out->text);
            i += v;
        }
    } else {
        return -1;
    }
    /* A statement needs more than its verb: "I do", "I see" say nothing. */
    size_t rest = i;
    while (rest < n && s[rest] == ' ') rest++;
    if (rest >= n) return -1;
    rest_third_person(s + i, n - i, &out->text);
    const char *body = lc;
    if (any_start(body + (starts(body, "i'm") ? 4 : 2), PLAN_WORDS) || strstr(body, "going to") ||
        strstr(body, "planning"))
        kind = "plan";
    for (int k = 0; PREFERENCE_WORDS[k]; k++) {
        const char *p = strstr(body, PREFERENCE_WORDS[k]);
        if (p && (p == body || !is_alnum(p[-1])) && !is_alnum(p[strlen(PREFERENCE_WORDS[k])])) {
            kind = "preference";
            break;
        }
    }
    if (!strcmp(kind, "fact") &&
        (starts(body, "i am a") || starts(body, "i'm a") || starts(body, "i am an") ||
         starts(body, "i'm an") || starts(body, "i live") || starts(body, "i'm from") ||
         starts(body, "i am from") || starts(body, "i work") || strstr(body, "years old") ||
         starts(body, "i was born")))
        kind = "identity";
    out->kind = kind;
    return 0;
}

/* Where clauses split: " and I ", ", but I ", "; my ", ... */
static size_t clause_end(const char *lc, size_t from, size_t n, size_t *next) {
    static const char *const joins[] = {", and ", " and ", ", but ", " but ", ", so ", " so ",
                                        ", ", " because ", " while ", NULL};
    for (size_t i = from; i < n; i++) {
        for (int k = 0; joins[k]; k++) {
            size_t jl = strlen(joins[k]);
            if (i + jl > n || strncmp(lc + i, joins[k], jl)) continue;
            const char *after = lc + i + jl;
            if (starts(after, "i") || starts(after, "i'm") || starts(after, "i've") ||
                starts(after, "i'd") || starts(after, "i'll") || starts(after, "my")) {
                *next = i + jl;
                return i;
            }
        }
    }
    *next = n;
    return n;
}

/* Leading fillers a clause may start with. */
static size_t skip_fillers(const char *lc, size_t i, size_t n) {
    static const char *const fill[] = {"and", "but", "so", "also", "well", "oh", "actually", "btw",
                                       "by the way", "hi", "hey", "hello", "yes", "yeah", "ok",
                                       "okay", "honestly", "fyi", "anyway", "plus", "now",
                                       "just so you know", "remember that", "note that",
                                       "for the record", "to be honest", "oh and", NULL};
    for (int again = 1; again;) {
        again = 0;
        while (i < n && (lc[i] == ' ' || lc[i] == ',' || lc[i] == '-' || lc[i] == ':')) i++;
        for (int k = 0; fill[k]; k++)
            if (starts(lc + i, fill[k])) {
                i += strlen(fill[k]);
                again = 1;
                break;
            }
    }
    return i;
}

static int add_fact(mn_answer *a, const char *s, size_t n, int64_t now) {
    char lc[CLAUSE_MAX + 1];
    for (size_t k = 0; k < n; k++) lc[k] = lower(s[k]);
    lc[n] = 0;
    if (starts(lc, "forget") || starts(lc, "please") || starts(lc, "don't remember") ||
        starts(lc, "delete") || starts(lc, "can you") || starts(lc, "could you"))
        return 0;
    clause_out co;
    memset(&co, 0, sizeof co);
    mn_sb_init(&co.text);
    int skip = rewrite(s, lc, n, &co) != 0 || co.text.len < 8;
    if (skip || co.text.oom) {
        int oom = co.text.oom;
        mn_sb_free(&co.text);
        return oom ? MNEMO_ENOMEM : 0;
    }
    int64_t when;
    int dated = mn_heuristic_date(s, n, now, &when);
    if (dated) {
        char iso[MN_TIME_ISO_MAX];
        mn_time_format(when, iso);
        mn_sb_adds(&co.text, " (");
        mn_sb_add(&co.text, iso, 10);
        mn_sb_addc(&co.text, ')');
        if (!strcmp(co.kind, "fact") || !strcmp(co.kind, "relationship")) co.kind = "event";
    }
    cJSON *f = cJSON_CreateObject();
    cJSON *topics = cJSON_CreateArray(), *ents = cJSON_CreateArray(), *rels = cJSON_CreateArray();
    if (!f || !topics || !ents || !rels || co.text.oom) {
        cJSON_Delete(f), cJSON_Delete(topics), cJSON_Delete(ents), cJSON_Delete(rels);
        mn_sb_free(&co.text);
        return MNEMO_ENOMEM;
    }
    cJSON_AddItemToArray(a->root, f);
    cJSON_AddStringToObject(f, "text", mn_sb_str(&co.text));
    cJSON_AddStringToObject(f, "kind", co.kind);
    topic_acc ta = {{0}, 0, NULL, topics};
    each_lex(s, n, on_topic, &ta);
    cJSON_AddItemToObject(f, "topics", topics);
    ent_acc ea = {ents, s, n, 0};
    clause_entities(&ea, s, n);
    cJSON_AddItemToObject(f, "entities", ents);
    /* "User uses Python": the user, the verb, the clause's first entity. */
    if (co.verb_at && ents->child) {
        mn_sb v;
        mn_sb_init(&v);
        if (co.verb_at[0] == 'i' && co.verb_at[1] == 's' && co.verb_len == 2) mn_sb_adds(&v, "is");
        else third_person(co.verb_at, co.verb_len, &v);
        if (v.oom) {
            mn_sb_free(&v);
            mn_sb_free(&co.text);
            cJSON_Delete(rels);
            return MNEMO_ENOMEM; /* f is in a->root: freed with it */
        }
        /* "User is going to Japan" relates nothing to Japan by "is". */
        static const char *const weak[] = {"is", "has", "was", "does", "would", "will", "had", NULL};
        int strong = 1;
        for (size_t k = 0; k < v.len; k++) v.p[k] = lower(v.p[k]);
        for (int k = 0; weak[k]; k++) strong &= strcmp(mn_sb_str(&v), weak[k]) != 0;
        cJSON *r = strong ? cJSON_CreateObject() : NULL;
        if (r) {
            cJSON_AddStringToObject(r, "subject", "User");
            cJSON_AddStringToObject(r, "predicate", mn_sb_str(&v));
            cJSON_AddStringToObject(r, "object",
                                    cJSON_GetObjectItemCaseSensitive(ents->child, "name")->valuestring);
            cJSON_AddItemToArray(rels, r);
        }
        mn_sb_free(&v);
    }
    cJSON_AddItemToObject(f, "relations", rels);
    if (dated) {
        char iso[MN_TIME_ISO_MAX];
        mn_time_format(when, iso);
        iso[10] = 0;
        cJSON_AddStringToObject(f, "when", iso);
    }
    mn_sb_free(&co.text);
    /* Read back as a model's fact, so the same checks apply. */
    mn_fact *x = &a->facts[a->nfacts];
    memset(x, 0, sizeof *x);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(f, "text");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(f, "kind");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(f, "when");
    if (!cJSON_IsString(t) || !cJSON_IsString(k)) return MNEMO_ENOMEM;
    /* Facts the same message states twice are kept once. */
    for (int j = 0; j < a->nfacts; j++)
        if (a->facts[j].len == strlen(t->valuestring) && !memcmp(a->facts[j].text, t->valuestring, a->facts[j].len))
            return 0;
    x->op = MN_OP_ADD;
    x->ref = -1;
    x->text = t->valuestring;
    x->len = strlen(t->valuestring);
    x->kind = k->valuestring;
    x->topics = topics;
    x->entities = ents;
    x->relations = rels;
    x->when = cJSON_GetStringValue(w);
    /* Below a model's usual 0.8-0.9: a rule read it, not an understanding. */
    x->confidence = 0.6;
    a->nfacts++;
    return 0;
}

int mn_heuristic_extract(mn_answer *a, const char *text, size_t len, int64_t now) {
    if (!a->root && !(a->root = cJSON_CreateArray())) return MNEMO_ENOMEM;
    if (!a->facts && !(a->facts = mn_malloc(MN_LLMJSON_MAX_FACTS * sizeof *a->facts))) return MNEMO_ENOMEM;
    size_t i = 0;
    while (i < len && a->nfacts < MN_LLMJSON_MAX_FACTS) {
        /* One sentence: up to . ! ? ; or a line break (a '.' inside a word,
        ** as in "e.g." or "3.5", does not end it). */
        size_t st = i;
        while (i < len) {
            char c = text[i];
            if (c == '!' || c == '?' || c == ';' || c == '\n') break;
            if (c == '.' && (i + 1 >= len || text[i + 1] == ' ' || text[i + 1] == '\n')) break;
            i++;
        }
        int question = i < len && text[i] == '?';
        size_t end = i;
        if (i < len) i++;
        if (question || end - st > CLAUSE_MAX * 2) continue;
        char lc[CLAUSE_MAX * 2 + 1];
        for (size_t k = st; k < end; k++) lc[k - st] = lower(text[k]);
        size_t n = end - st;
        lc[n] = 0;
        size_t c = 0;
        while (c < n && a->nfacts < MN_LLMJSON_MAX_FACTS) {
            c = skip_fillers(lc, c, n);
            size_t next, ce = clause_end(lc, c, n, &next);
            size_t b = ce;
            while (b > c && (lc[b - 1] == ' ' || lc[b - 1] == ',' || lc[b - 1] == '"')) b--;
            if (b > c && b - c <= CLAUSE_MAX) {
                int rc = add_fact(a, text + st + c, b - c, now);
                if (rc) return rc;
            }
            c = next;
        }
    }
    return 0;
}
