/*
** mem.c: the core's allocator. One place, so that the test build can inject
** allocation failures (Lua's failnext, SQLite's oom faults) and prove that an
** out-of-memory anywhere leaves the bank intact and leaks nothing.
*/
#include <stdlib.h>
#include <string.h>

#include "common.h"

#ifdef MNEMO_TEST
static long fail_countdown;
void mn_mem_fail_after(long n) { fail_countdown = n; }
long mn_mem_fail_left(void) { return fail_countdown; }
static int should_fail(void) {
    return fail_countdown > 0 && --fail_countdown == 0;
}
#else
#define should_fail() 0
#endif

void *mn_malloc(size_t n) {
    if (should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *mn_realloc(void *p, size_t n) {
    if (should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

void mn_free(void *p) { free(p); }

char *mn_strndup(const char *s, size_t n) {
    char *d = mn_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

void mnemo_free(void *p) { free(p); }
