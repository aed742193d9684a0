/*
** test_llmjson.c: reading model output (core/llmjson.c): the corpus of
** broken outputs under tests/llm-outputs/, and the finer points one by one.
*/
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdlib.h>

#include "test.h"
#include "bank.h"
#include "llmjson.h"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    *len = p ? fread(p, 1, (size_t)n, f) : 0;
    if (p) p[*len] = 0;
    fclose(f);
    return p;
}

static char *trim(char *s) {
    while (*s == ' ') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\n')) *--e = 0;
    return s;
}

void test_llmjson__reads_every_file_of_the_broken_output_corpus(void) {
    size_t mlen;
    char *manifest = slurp("tests/llm-outputs/expected.txt", &mlen);
    CHECK(manifest);
    int checked = 0;
    char *save = NULL;
    for (char *line = strtok_r(manifest, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || !line[0]) continue;
        char *f[5] = {0};
        char *p = line;
        for (int k = 0; k < 5; k++) {
            f[k] = p;
            char *bar = p ? strchr(p, '|') : NULL;
            if (bar) *bar = 0;
            p = bar ? bar + 1 : NULL;
            if (f[k]) f[k] = trim(f[k]);
        }
        char path[256];
        snprintf(path, sizeof path, "tests/llm-outputs/%s", f[0]);
        size_t len;
        char *text = slurp(path, &len);
        if (!text) fprintf(stderr, "  missing corpus file %s\n", path);
        CHECK(text);
        mn_answer a;
        mn_sb err;
        mn_sb_init(&err);
        int rc = mn_llmjson_answer(text, len, 8, &a, &err);
        int want_ok = !strcmp(f[1], "ok");
        if ((rc == 0) != want_ok || (rc == 0 && (a.nfacts != atoi(f[2]) || a.ndeletes != atoi(f[3]))) ||
            (f[4] && *f[4] && !strstr(rc ? mn_sb_str(&err) : mn_sb_str(&a.warnings), f[4]))) {
            fprintf(stderr, "  %s: rc %d, %d facts, %d deletes, err \"%s\", warnings \"%s\"\n", f[0], rc,
                    a.nfacts, a.ndeletes, mn_sb_str(&err), mn_sb_str(&a.warnings));
            mn_test_failures++;
        }
        /* Whatever was read is valid UTF-8 and never empty. */
        for (int i = 0; i < a.nfacts; i++) {
            size_t bad;
            if (a.facts[i].text && (!a.facts[i].len || !mn_utf8_valid(a.facts[i].text, a.facts[i].len, &bad))) {
                fprintf(stderr, "  %s: fact %d has an empty or invalid text\n", f[0], i);
                mn_test_failures++;
            }
        }
        mn_llmjson_answer_free(&a);
        mn_sb_free(&err);
        free(text);
        checked++;
    }
    free(manifest);
    /* Every file of the corpus is in the list. */
    DIR *d = opendir("tests/llm-outputs");
    CHECK(d);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && strcmp(e->d_name, "expected.txt")) files++;
    closedir(d);
    CHECK_INT(files, checked);
    CHECK(checked >= 30);
}

static int answer(const char *text, int nrefs, mn_answer *a, mn_sb *err) {
    mn_sb_init(err);
    return mn_llmjson_answer(text, strlen(text), nrefs, a, err);
}

void test_llmjson__mends_fences_prose_commas_and_literals(void) {
    cJSON *j;
    int rep;
    mn_sb err;
    mn_sb_init(&err);
    const char *t = "Sure:\n```json\n{\"a\": [1, 2,], \"b\": True, \"c\": None,}\n```\nDone.";
    CHECK_INT(mn_llmjson_extract(t, strlen(t), &j, &rep, &err), 0);
    CHECK(rep & MN_LJ_FENCED);
    CHECK(rep & MN_LJ_COMMAS);
    CHECK(rep & MN_LJ_LITERALS);
    CHECK(!(rep & MN_LJ_TRUNCATED));
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "a")), 2);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "b")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "c")));
    cJSON_Delete(j);
    /* Python quoting, an apostrophe escaped inside, a double quote inside. */
    t = "{'facts': [{'text': 'User\\'s \"best\" friend is Ana'}]}";
    CHECK_INT(mn_llmjson_extract(t, strlen(t), &j, &rep, &err), 0);
    const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "facts"), 0);
    CHECK_STR(cJSON_GetObjectItem(f, "text")->valuestring, "User's \"best\" friend is Ana");
    cJSON_Delete(j);
    /* Prose around, and a second object after the first. */
    t = "Answer: {\"x\": \"}{\"} and {\"y\": 2}";
    CHECK_INT(mn_llmjson_extract(t, strlen(t), &j, &rep, &err), 0);
    CHECK(rep & MN_LJ_SURROUNDED);
    CHECK_STR(cJSON_GetObjectItem(j, "x")->valuestring, "}{");
    cJSON_Delete(j);
    mn_sb_free(&err);
}

void test_llmjson__keeps_only_complete_elements_of_a_truncated_answer(void) {
    cJSON *j;
    int rep;
    mn_sb err;
    mn_sb_init(&err);
    const char *t = "{\"facts\":[{\"text\":\"one\",\"topics\":[\"a\"]},{\"text\":\"tw";
    CHECK_INT(mn_llmjson_extract(t, strlen(t), &j, &rep, &err), 0);
    CHECK(rep & MN_LJ_TRUNCATED);
    char *s = cJSON_PrintUnformatted(j);
    CHECK_STR(s, "{\"facts\":[{\"text\":\"one\",\"topics\":[\"a\"]}]}");
    cJSON_free(s);
    cJSON_Delete(j);
    /* Cut right after a comma, or inside a number. */
    t = "{\"facts\":[{\"text\":\"one\"},";
    CHECK_INT(mn_llmjson_extract(t, strlen(t), &j, &rep, &err), 0);
    s = cJSON_PrintUnformatted(j);
    CHECK_STR(s, "{\"facts\":[{\"text\":\"one\"}]}");
    cJSON_free(s);
    cJSON_Delete(j);
    t = "{\"facts\":[],\"delete\":[\"m1\"],\"n\":12";
    CHECK_INT(mn_llmjson_extract(t, strlen(t), &j, &rep, &err), 0);
    s = cJSON_PrintUnformatted(j);
    CHECK_STR(s, "{\"facts\":[],\"delete\":[\"m1\"]}");
    cJSON_free(s);
    cJSON_Delete(j);
    mn_sb_free(&err);
}

void test_llmjson__reports_the_byte_offset_of_what_it_cannot_read(void) {
    cJSON *j;
    int rep;
    mn_sb err;
    mn_sb_init(&err);
    const char *t = "  {\"facts\": [ {\"text\": \"a\" \"kind\": \"b\"} ]}";
    CHECK_INT(mn_llmjson_extract(t, strlen(t), &j, &rep, &err), -1);
    CHECK(j == NULL);
    /* The offset is in the model's own text: the unexpected second string. */
    CHECK_HAS(mn_sb_str(&err), "malformed JSON at byte 27");
    CHECK_HAS(mn_sb_str(&err), "near \"?kind?");
    mn_sb_reset(&err);
    CHECK_INT(mn_llmjson_extract("no json here", 12, &j, &rep, &err), -1);
    CHECK_HAS(mn_sb_str(&err), "expected a JSON object, found none in the answer's 12 bytes");
    mn_sb_free(&err);
}

void test_llmjson__resolves_aliases_and_nothing_else(void) {
    cJSON *v = cJSON_CreateString("m3");
    CHECK_INT(mn_llmjson_ref(v, 8), 2);
    cJSON_SetValuestring(v, " M8 ");
    CHECK_INT(mn_llmjson_ref(v, 8), 7);
    cJSON_SetValuestring(v, "[m1]");
    CHECK_INT(mn_llmjson_ref(v, 8), 0);
    cJSON_SetValuestring(v, "4");
    CHECK_INT(mn_llmjson_ref(v, 8), 3);
    cJSON_SetValuestring(v, "m9");
    CHECK_INT(mn_llmjson_ref(v, 8), -1);
    cJSON_SetValuestring(v, "m0");
    CHECK_INT(mn_llmjson_ref(v, 8), -1);
    cJSON_SetValuestring(v, "m1x");
    CHECK_INT(mn_llmjson_ref(v, 8), -1);
    cJSON_SetValuestring(v, "0190a6d2-8c1e-7b3a-9f00-1234567890ab");
    CHECK_INT(mn_llmjson_ref(v, 8), -1);
    cJSON_SetValuestring(v, "m99999999999999999999");
    CHECK_INT(mn_llmjson_ref(v, 8), -1);
    cJSON_Delete(v);
    v = cJSON_CreateNumber(2);
    CHECK_INT(mn_llmjson_ref(v, 8), 1);
    cJSON_SetNumberValue(v, 2.5);
    CHECK_INT(mn_llmjson_ref(v, 8), -1);
    cJSON_Delete(v);
    CHECK_INT(mn_llmjson_ref(NULL, 8), -1);
    v = cJSON_CreateString("m1");
    CHECK_INT(mn_llmjson_ref(v, 0), -1); /* no candidates shown: no alias valid */
    cJSON_Delete(v);
}

void test_llmjson__turns_bad_decisions_into_safe_ones(void) {
    mn_answer a;
    mn_sb err;
    /* UPDATE of an unknown alias keeps the fact as new; NONE of one is dropped. */
    CHECK_INT(answer("{\"facts\":[{\"op\":\"UPDATE\",\"ref\":\"m5\",\"text\":\"User likes tea\"},"
                     "{\"op\":\"NONE\",\"ref\":\"m7\"},{\"op\":\"SUPERSEDE\",\"ref\":\"m2\",\"text\":\"User moved\"},"
                     "{\"op\":\"ADD\",\"ref\":\"m1\",\"text\":\"User swims\"}],\"delete\":[\"m2\",\"m2\",2]}",
                     2, &a, &err), 0);
    CHECK_INT(a.nfacts, 3);
    CHECK_INT(a.facts[0].op, MN_OP_ADD);
    CHECK_INT(a.facts[0].ref, -1);
    CHECK_INT(a.facts[1].op, MN_OP_SUPERSEDE);
    CHECK_INT(a.facts[1].ref, 1);
    CHECK_INT(a.facts[2].op, MN_OP_ADD);
    CHECK_INT(a.facts[2].ref, -1); /* an ADD touches nothing */
    CHECK_INT(a.ndeletes, 1);      /* m2, once */
    CHECK_INT(a.deletes[0], 1);
    CHECK_HAS(mn_sb_str(&a.warnings), "m5 is not one of the known memories");
    mn_llmjson_answer_free(&a);
    mn_sb_free(&err);
    /* Types coerced: kind lower-cased, topics from a string, confidence clamped. */
    CHECK_INT(answer("{\"facts\":[{\"text\":\"User codes\",\"kind\":\"Skill Set\",\"topics\":\"work\","
                     "\"confidence\":150,\"when\":\" 2024-05-01 \"}]}", 0, &a, &err), 0);
    CHECK_INT(a.nfacts, 1);
    CHECK_STR(a.facts[0].kind, "skill_set");
    CHECK_INT(cJSON_GetArraySize(a.facts[0].topics), 1);
    CHECK(a.facts[0].confidence == 1.0);
    CHECK_STR(a.facts[0].when, "2024-05-01");
    mn_llmjson_answer_free(&a);
    mn_sb_free(&err);
    /* A runaway model: at most MN_LLMJSON_MAX_FACTS facts. */
    mn_sb big;
    mn_sb_init(&big);
    mn_sb_adds(&big, "{\"facts\":[");
    for (int i = 0; i < 100; i++) mn_sb_printf(&big, "%s{\"text\":\"User fact %d\"}", i ? "," : "", i);
    mn_sb_adds(&big, "],\"delete\":[]}");
    CHECK_INT(answer(mn_sb_str(&big), 0, &a, &err), 0);
    CHECK_INT(a.nfacts, MN_LLMJSON_MAX_FACTS);
    CHECK_HAS(mn_sb_str(&a.warnings), "more than 64 facts");
    mn_llmjson_answer_free(&a);
    mn_sb_free(&err);
    mn_sb_free(&big);
}

void test_llmjson__reads_chat_completion_envelopes(void) {
    mn_sb c, err;
    mn_sb_init(&c);
    mn_sb_init(&err);
    int up, uc, is_err;
    const char *b = "{\"id\":\"x\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"{}\"},"
                    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":812,\"completion_tokens\":41}}";
    CHECK_INT(mn_llmjson_completion(b, strlen(b), &c, &up, &uc, &is_err, &err), 0);
    CHECK_STR(mn_sb_str(&c), "{}");
    CHECK_INT(up, 812);
    CHECK_INT(uc, 41);
    /* Content as parts; Ollama's native shape; a legacy completion. */
    mn_sb_reset(&c);
    b = "{\"choices\":[{\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]}}]}";
    CHECK_INT(mn_llmjson_completion(b, strlen(b), &c, &up, &uc, &is_err, &err), 0);
    CHECK_STR(mn_sb_str(&c), "ab");
    CHECK_INT(up, -1);
    mn_sb_reset(&c);
    b = "{\"message\":{\"role\":\"assistant\",\"content\":\"x\"},\"prompt_eval_count\":10,\"eval_count\":3}";
    CHECK_INT(mn_llmjson_completion(b, strlen(b), &c, &up, &uc, &is_err, &err), 0);
    CHECK_STR(mn_sb_str(&c), "x");
    CHECK_INT(up, 10);
    CHECK_INT(uc, 3);
    mn_sb_reset(&c);
    b = "{\"choices\":[{\"text\":\"legacy\"}]}";
    CHECK_INT(mn_llmjson_completion(b, strlen(b), &c, &up, &uc, &is_err, &err), 0);
    CHECK_STR(mn_sb_str(&c), "legacy");
    /* Not an envelope: the text itself. */
    mn_sb_reset(&c);
    b = "```json\n{\"facts\":[]}\n```";
    CHECK_INT(mn_llmjson_completion(b, strlen(b), &c, &up, &uc, &is_err, &err), 0);
    CHECK_STR(mn_sb_str(&c), b);
    /* Error bodies and refusals. */
    mn_sb_reset(&c);
    b = "{\"error\":{\"message\":\"Invalid parameter: 'response_format' of type 'json_schema' is not supported\","
        "\"type\":\"invalid_request_error\",\"param\":\"response_format\"}}";
    CHECK_INT(mn_llmjson_completion(b, strlen(b), &c, &up, &uc, &is_err, &err), -1);
    CHECK_INT(is_err, 1);
    CHECK_HAS(mn_sb_str(&err), "json_schema' is not supported");
    mn_sb_reset(&err);
    b = "{\"error\":\"model not found\"}";
    CHECK_INT(mn_llmjson_completion(b, strlen(b), &c, &up, &uc, &is_err, &err), -1);
    CHECK_HAS(mn_sb_str(&err), "model not found");
    mn_sb_reset(&err);
    b = "{\"choices\":[{\"message\":{\"content\":null,\"refusal\":\"I can't help with that.\"}}]}";
    CHECK_INT(mn_llmjson_completion(b, strlen(b), &c, &up, &uc, &is_err, &err), -1);
    CHECK_INT(is_err, 0);
    CHECK_HAS(mn_sb_str(&err), "the model refused");
    mn_sb_reset(&err);
    b = "{\"choices\":[]}";
    CHECK_INT(mn_llmjson_completion(b, strlen(b), &c, &up, &uc, &is_err, &err), -1);
    CHECK_HAS(mn_sb_str(&err), "no choices");
    mn_sb_free(&c);
    mn_sb_free(&err);
}
