/*
** reactor.h: the glue the WASI reactor (build/wasi/mnemo-reactor.wasm)
** exports for its JavaScript host, next to every function of mnemo.h, which
** it exports unchanged. NOT part of the public API: these exist because a
** host on the far side of a wasm boundary cannot call malloc() by name, pass
** a C function pointer, or build a mnemo_host table.
*/
#ifndef MNEMO_REACTOR_H
#define MNEMO_REACTOR_H

#include <stddef.h>

#include "mnemo.h"

/* Memory the host writes inputs into (strings, page data) and reads OUT
** parameters from. mnemo__wasm_malloc(0) returns a valid 1-byte block.
** Release with mnemo__wasm_free(); mnemo__wasm_free(NULL) is a no-op. */
MNEMO_API void *mnemo__wasm_malloc(size_t n);
MNEMO_API void mnemo__wasm_free(void *p);

/* The host table of this module: the WASI clock (clock_time_get) and the
** WASI random source (random_get). Static; pass it to mnemo_open(). */
MNEMO_API const mnemo_host *mnemo__wasm_host(void);

/* mnemo_export() into one buffer: every record followed by "\n",
** NUL-terminated, its length (without the NUL) in *len. On success *out
** belongs to the caller (mnemo__wasm_free()); on failure *out is NULL and
** the code is mnemo_export()'s (MNEMO_ENOMEM if the buffer could not grow). */
MNEMO_API int mnemo__wasm_export(mnemo *db, char **out, size_t *len);

#endif
