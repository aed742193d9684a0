/*
** heuristic.h: the offline extractor. With no model, a user's first-person
** statements still become memories: "I prefer dark mode and I use Python"
** gives "User prefers dark mode" (preference, topic "user interface") and
** "User uses Python" (fact, topic "programming language", entity Python).
** Rules, not understanding: what it cannot read it leaves to the model,
** which re-extracts the same input later (pending queue).
*/
#ifndef MN_HEURISTIC_H
#define MN_HEURISTIC_H

#include "llmjson.h"

/* Adds the facts of one user message (text[0..len), written at `now`) to
** `a`, as ADD decisions shaped like a model's answer (so one writer serves
** both). Start with a zeroed answer; free it with mn_llmjson_answer_free.
** Stops quietly at MN_LLMJSON_MAX_FACTS. 0, or MNEMO_ENOMEM. */
MN_FUNC int mn_heuristic_extract(mn_answer *a, const char *text, size_t len, int64_t now);

/* The first date the text names, resolved against `now` (epoch ms): the
** start of that day (UTC). Future phrases ("tomorrow", "next Saturday",
** "in two weeks", "next month"), past ones ("yesterday", "last May", "3
** days ago", see mn_time_query_range) and ISO dates. 1 and *ms, or 0. */
MN_FUNC int mn_heuristic_date(const char *text, size_t len, int64_t now, int64_t *ms);

/* Appends to out the general topics the text's words suggest ("Python" ->
** "programming language"), space-separated, each once. For the candidate
** search: "I switched to Rust" then finds "User uses Python". */
MN_FUNC void mn_heuristic_topics(const char *text, size_t len, mn_sb *out);

#endif
