/*
** llmjson.h: reading what a model answered, defensively.
**
** Two layers. mn_llmjson_extract finds and mends the JSON in a model's
** text: code fences, prose around it, trailing commas, Python literals
** and quotes,
** output cut off mid-way (closed at the last complete element). Then
** mn_llmjson_answer reads the extraction answer (mnemo.h, THE MODEL'S
** ANSWER) into checked decisions: wrong types are coerced or dropped, refs
** are resolved against the aliases shown (m1..mN) and anything else is
** ignored with a warning. Errors say what was expected and at which byte
** of the model's text.
*/
#ifndef MN_LLMJSON_H
#define MN_LLMJSON_H

#include "strbuf.h"
#include "cJSON.h"

/* What had to be mended, as flags in mn_llmjson_extract's *repairs. */
enum {
    MN_LJ_FENCED = 1,      /* inside a ``` code fence */
    MN_LJ_SURROUNDED = 2,  /* text before or after the JSON */
    MN_LJ_COMMAS = 4,      /* trailing commas removed */
    MN_LJ_LITERALS = 8,    /* Python's True/False/None and 'quotes', read as JSON */
    MN_LJ_TRUNCATED = 16,  /* cut off: closed at the last complete element */
};

/* Finds the first JSON object (or array) in text[0..len) and parses it,
** mending what can be mended safely. 0 and *out (free with cJSON_Delete) on
** success; -1 with a message in err ("expected ... at byte N") otherwise. */
MN_FUNC int mn_llmjson_extract(const char *text, size_t len, cJSON **out, int *repairs,
                               mn_sb *err);

enum { MN_OP_ADD, MN_OP_UPDATE, MN_OP_SUPERSEDE, MN_OP_NONE };

typedef struct mn_fact {
    int op;
    int ref;                  /* index of the alias (m1 = 0), or -1 */
    const char *text;         /* trimmed, non-empty; points into root */
    size_t len;
    const char *kind;         /* lower-case word; "fact" if absent or odd */
    const cJSON *topics;      /* array of strings (owned by root), may be empty */
    const cJSON *entities;    /* array of {"name","type"} (owned by root) */
    const cJSON *relations;   /* array of {"subject","predicate","object"} */
    const char *when;         /* as written, or NULL */
    double confidence;        /* 0..1; 0.8 if absent */
} mn_fact;

typedef struct mn_answer {
    cJSON *root;              /* owns every string above */
    mn_fact *facts;
    int nfacts;
    int *deletes;             /* alias indexes, each once */
    int ndeletes;
    int repairs;              /* MN_LJ_* */
    mn_sb warnings;           /* "; "-separated notes on what was ignored (valid UTF-8) */
} mn_answer;

/* Limits on one answer, against a runaway model. */
#define MN_LLMJSON_MAX_FACTS 64
#define MN_LLMJSON_MAX_ITEMS 16  /* topics, entities, relations per fact */
#define MN_LLMJSON_MAX_TEXT 2000 /* bytes of one fact's text */

/* Reads the extraction answer from a model's text, with `nrefs` aliases
** shown (m1..m<nrefs>). 0 on success (possibly with no facts: nothing worth
** keeping; a->repairs says if it was cut off); -1 with a message in err
** when the text holds no usable answer: empty, no JSON, neither "facts" nor
** "delete", or cut off before its first complete fact. *a is always
** initialised; free it with mn_llmjson_answer_free. */
MN_FUNC int mn_llmjson_answer(const char *text, size_t len, int nrefs, mn_answer *a, mn_sb *err);
MN_FUNC void mn_llmjson_answer_free(mn_answer *a);

/* Replaces, in place, every byte of s (NUL-terminated) that is not part of
** valid UTF-8 with '?': for messages that quote, or cut, foreign text. */
MN_FUNC void mn_llmjson_scrub(char *s);

/* The alias index named by v ("m3", "M3", "[m3]", "3" or 3: index 2), or
** -1 when v names none of m1..m<nrefs>. */
MN_FUNC int mn_llmjson_ref(const cJSON *v, int nrefs);

/* The assistant's text in a chat-completions response body (choices[0].
** message.content, choices[0].text, Ollama's message.content or response),
** or, when the body is not such an envelope, the body itself. Sets *usage_prompt
** and *usage_completion from "usage" (or Ollama's eval counts) when present,
** else -1. Returns 0, or -1 with err for an error body ({"error": ...}) or
** an envelope without content; *is_error is 1 for an error body. */
MN_FUNC int mn_llmjson_completion(const char *body, size_t len, mn_sb *content,
                                  int *usage_prompt, int *usage_completion, int *is_error,
                                  mn_sb *err);

#endif
