/*
** test.h: the smallest test harness that does the job. Every test is a
** function `void test_<area>__<what_it_should_do>(void)`, listed once in
** test_list.h. A failed check prints where and why, and ends the test.
*/
#ifndef MNEMO_TEST_H
#define MNEMO_TEST_H

#include <stdio.h>
#include <string.h>
#include <stdint.h>

extern int mn_test_failures; /* checks failed in the current test */

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, \
                    #cond);                                                    \
            mn_test_failures++;                                                \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_INT(a, b)                                                        \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_) {                                                        \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n",      \
                    __FILE__, __LINE__, #a, a_, #b, b_);                       \
            mn_test_failures++;                                                \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                               \
            fprintf(stderr, "  %s:%d: %s is \"%s\", expected \"%s\"\n",        \
                    __FILE__, __LINE__, #a, a_ ? a_ : "(null)",                \
                    b_ ? b_ : "(null)");                                       \
            mn_test_failures++;                                                \
            return;                                                            \
        }                                                                      \
    } while (0)

/* Substring check, for JSON results whose field order we own. */
#define CHECK_HAS(hay, needle)                                                 \
    do {                                                                       \
        const char *h_ = (hay), *n_ = (needle);                                \
        if (!h_ || !strstr(h_, n_)) {                                          \
            fprintf(stderr, "  %s:%d: \"%s\" not found in %s = %.400s\n",      \
                    __FILE__, __LINE__, n_, #hay, h_ ? h_ : "(null)");         \
            mn_test_failures++;                                                \
            return;                                                            \
        }                                                                      \
    } while (0)

/* Every test is declared once, from the one list. */
#ifdef MNEMO_TEST_LIST
#include MNEMO_TEST_LIST
#else
#include "test_list.h"
#endif
#define MN_TEST_DECLARE(name) void name(void);
MNEMO_TESTS(MN_TEST_DECLARE)
#undef MN_TEST_DECLARE

/* A fresh scratch path under build/test/tmp for file-backed tests. */
const char *mn_test_path(const char *name);

/* The bank's "memories" count from mnemo_stats(), or -1 if stats failed. */
struct mnemo;
int mn_test_count_memories(struct mnemo *db);

#endif
