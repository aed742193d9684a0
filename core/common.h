/*
** common.h: what every core file shares: the internal-visibility marker and
** the allocator. Core code allocates only through mn_malloc/mn_realloc/mn_free
** so the test build can fail the Nth allocation (see mem.c).
*/
#ifndef MN_COMMON_H
#define MN_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "mnemo.h"

#if defined(__GNUC__) || defined(__clang__)
#define MN_FUNC __attribute__((visibility("hidden"))) extern
#else
#define MN_FUNC extern
#endif

MN_FUNC void *mn_malloc(size_t n);
MN_FUNC void *mn_realloc(void *p, size_t n);
MN_FUNC void mn_free(void *p);
MN_FUNC char *mn_strndup(const char *s, size_t n);

#ifdef MNEMO_TEST
/* Fail the allocation `n` allocations from now (1 = the next one); 0 = never. */
MN_FUNC void mn_mem_fail_after(long n);
/* Allocations left before the planned failure; 0 once it happened (or none planned). */
MN_FUNC long mn_mem_fail_left(void);
#endif

#endif
