/*
** test_heuristic.c: the offline extractor (core/heuristic.c).
*/
#include <stdlib.h>

#include "test.h"
#include "datetime.h"
#include "heuristic.h"

/* 2024-05-08 was a Wednesday. */
#define WED "2024-05-08T10:00:00Z"

static int64_t at(const char *iso) {
    int64_t ms = 0;
    mn_time_parse(iso, &ms);
    return ms;
}

/* The facts of one message, into a (free with mn_llmjson_answer_free). */
static void facts_of(const char *text, mn_answer *a) {
    memset(a, 0, sizeof *a);
    mn_sb_init(&a->warnings);
    mn_heuristic_extract(a, text, strlen(text), at(WED));
}

static char *lines(const char *text) {
    mn_answer a;
    memset(&a, 0, sizeof a);
    mn_sb_init(&a.warnings);
    mn_heuristic_extract(&a, text, strlen(text), at(WED));
    mn_sb out;
    mn_sb_init(&out);
    mn_sb_adds(&out, "|");
    for (int i = 0; i < a.nfacts; i++)
        mn_sb_printf(&out, "%s: %.*s|", a.facts[i].kind, (int)a.facts[i].len, a.facts[i].text);
    mn_llmjson_answer_free(&a);
    return mn_sb_take(&out);
}

void test_heuristic__splits_preferences_and_facts_in_the_classic_example(void) {
    mn_answer a;
    facts_of("I prefer dark mode and I use Python", &a);
    CHECK_INT(a.nfacts, 2);
    CHECK(a.facts[0].len == 22 && !memcmp(a.facts[0].text, "User prefers dark mode", 22));
    CHECK_STR(a.facts[0].kind, "preference");
    CHECK(a.facts[1].len == 16 && !memcmp(a.facts[1].text, "User uses Python", 16));
    CHECK_STR(a.facts[1].kind, "fact");
    /* Topics and entities as a model would give them. */
    char *t = cJSON_PrintUnformatted(a.facts[1].topics);
    CHECK_STR(t, "[\"programming language\"]");
    cJSON_free(t);
    t = cJSON_PrintUnformatted(a.facts[1].entities);
    CHECK_STR(t, "[{\"name\":\"Python\",\"type\":\"programming language\"}]");
    cJSON_free(t);
    t = cJSON_PrintUnformatted(a.facts[1].relations);
    CHECK_STR(t, "[{\"subject\":\"User\",\"predicate\":\"uses\",\"object\":\"Python\"}]");
    cJSON_free(t);
    t = cJSON_PrintUnformatted(a.facts[0].topics);
    CHECK_STR(t, "[\"user interface\"]");
    cJSON_free(t);
    CHECK(a.facts[0].confidence < 0.8); /* a rule read it, not a model */
    CHECK_INT(a.facts[0].op, MN_OP_ADD);
    mn_llmjson_answer_free(&a);
}

void test_heuristic__rewrites_first_person_statements(void) {
    char *s = lines("Hi! I'm Sam. I live in Lisbon and I work at Acme as an engineer.");
    CHECK_STR(s, "|identity: User's name is Sam|identity: User lives in Lisbon|"
                 "identity: User works at Acme as an engineer|");
    free(s);
    s = lines("I don't like mushrooms, but I love pizza");
    CHECK_STR(s, "|preference: User doesn't like mushrooms|preference: User loves pizza|");
    free(s);
    s = lines("I've been learning French for 3 years. I'd prefer short answers.");
    CHECK_STR(s, "|fact: User has been learning French for 3 years|preference: User would prefer short answers|");
    free(s);
    s = lines("My favorite color is blue; I am 34 years old; I'm allergic to peanuts");
    CHECK_STR(s, "|preference: User's favorite color is blue|identity: User is 34 years old|"
                 "fact: User is allergic to peanuts|");
    free(s);
    s = lines("I watch movies when I am tired and my wife reads");
    CHECK_STR(s, "|fact: User watches movies when they are tired|relationship: User's wife reads|");
    free(s);
    s = lines("I went to Paris and I studied there. I fly often.");
    CHECK_STR(s, "|fact: User went to Paris|fact: User studied there|fact: User flies often|");
    free(s);
}

void test_heuristic__skips_questions_hedges_and_requests(void) {
    const char *none[] = {
        "What's my preferred language?", "I think so.", "I see", "I guess it depends",
        "I need help with my code", "I want to know how to cook rice", "Can you help me?",
        "I'm not sure", "I'm sorry", "Thanks, that works!", "Forget that I like tea",
        "Please remember my birthday", "ok", "", "   ", "I do.",
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        char *s = lines(none[i]);
        if (strcmp(s, "|")) fprintf(stderr, "  \"%s\" gave %s\n", none[i], s);
        CHECK_STR(s, "|");
        free(s);
    }
}

void test_heuristic__resolves_dates_against_the_message_time(void) {
    mn_answer a;
    facts_of("My sister's wedding is next Saturday", &a);
    CHECK_INT(a.nfacts, 1);
    CHECK_STR(a.facts[0].kind, "event");
    CHECK_STR(a.facts[0].when, "2024-05-11");
    CHECK(strstr(a.facts[0].text, "User's sister's wedding is next Saturday (2024-05-11)"));
    mn_llmjson_answer_free(&a);
    facts_of("I'll visit my mom tomorrow", &a);
    CHECK_INT(a.nfacts, 1);
    CHECK_STR(a.facts[0].kind, "plan");
    CHECK_STR(a.facts[0].when, "2024-05-09");
    mn_llmjson_answer_free(&a);
    facts_of("I went to Paris yesterday", &a);
    CHECK_STR(a.facts[0].when, "2024-05-07");
    CHECK_STR(a.facts[0].kind, "event");
    mn_llmjson_answer_free(&a);
    struct { const char *text, *date; } d[] = {
        {"next Saturday", "2024-05-11"}, {"this Saturday", "2024-05-11"}, {"next Wednesday", "2024-05-15"},
        {"this Wednesday", "2024-05-08"}, {"tomorrow", "2024-05-09"}, {"the day after tomorrow", "2024-05-10"},
        {"tonight", "2024-05-08"}, {"in two weeks", "2024-05-22"}, {"in 3 days", "2024-05-11"},
        {"in a month", "2024-06-01"}, {"next month", "2024-06-01"}, {"next year", "2025-01-01"},
        {"next week", "2024-05-13"}, {"yesterday", "2024-05-07"}, {"3 days ago", "2024-05-05"},
        {"last May", "2023-05-01"}, {"on 2024-04-02", "2024-04-02"},
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        int64_t ms;
        char iso[MN_TIME_ISO_MAX] = "(none)";
        if (mn_heuristic_date(d[i].text, strlen(d[i].text), at(WED), &ms)) mn_time_format(ms, iso);
        iso[10] = 0;
        if (strcmp(iso, d[i].date)) fprintf(stderr, "  \"%s\" -> %s, expected %s\n", d[i].text, iso, d[i].date);
        CHECK_STR(iso, d[i].date);
    }
    int64_t ms;
    CHECK_INT(mn_heuristic_date("I like tea", 10, at(WED), &ms), 0);
    CHECK_INT(mn_heuristic_date("in 2022", 7, at(WED), &ms), 0); /* a year is not a date */
}

void test_heuristic__suggests_topics_for_candidate_search(void) {
    mn_sb t;
    mn_sb_init(&t);
    mn_heuristic_topics("I switched to Rust, and my cat likes TEA", 40, &t);
    CHECK_STR(mn_sb_str(&t), "programming language pets food and drink");
    mn_sb_reset(&t);
    mn_heuristic_topics("rusty trust", 11, &t); /* whole words only */
    CHECK_STR(mn_sb_str(&t), "");
    mn_sb_free(&t);
}

void test_heuristic__stops_at_the_fact_limit_and_keeps_repeats_once(void) {
    mn_sb big;
    mn_sb_init(&big);
    for (int i = 0; i < 100; i++) mn_sb_printf(&big, "I own %d books. ", i);
    mn_sb_adds(&big, "I like tea. I like tea.");
    mn_answer a;
    memset(&a, 0, sizeof a);
    mn_sb_init(&a.warnings);
    CHECK_INT(mn_heuristic_extract(&a, big.p, big.len, at(WED)), 0);
    CHECK_INT(a.nfacts, MN_LLMJSON_MAX_FACTS);
    mn_llmjson_answer_free(&a);
    memset(&a, 0, sizeof a);
    mn_sb_init(&a.warnings);
    CHECK_INT(mn_heuristic_extract(&a, "I like tea. I like tea!", 23, at(WED)), 0);
    CHECK_INT(a.nfacts, 1);
    mn_llmjson_answer_free(&a);
    mn_sb_free(&big);
}
