/*
** wasm_glue.c: helpers for the JS bindings of the wasm build. NOT part of the
** public API (mnemo.h); JS is their only caller. Each exists because the
** plain C call is awkward to reach from JS without extra runtime machinery:
** a C callback (export, lent pages), a 64-bit argument (page offsets), or a table that
** must come from C so it is never copied by hand (error codes).
*/
#include "mnemo.h"

#include <emscripten.h>
#include <stdlib.h>
#include <string.h>

/* Prototypes: the warning set requires them, and the JS side is the caller. */
MNEMO_API const char *mnemo__wasm_errors_json(void);
MNEMO_API int mnemo__wasm_export(mnemo *db, char **out, size_t *len);
MNEMO_API int mnemo__wasm_pages_lazy(const char *name, uint32_t pages, uint32_t page_size,
                                     int lender);
MNEMO_API int mnemo__wasm_index_save(mnemo *db);
MNEMO_API int mnemo__wasm_index_load(mnemo *db, int *used);

/*
** The error list as JSON, generated from MNEMO_ERRORS at compile time so the
** JS error table can never drift from C: [{"code": 0, "name": "MNEMO_OK",
** "text": "not an error"}, ...]. Static; never freed.
*/
#define ERR_JSON_(name, code, text) \
    "{\"code\":" #code ",\"name\":\"MNEMO_" #name "\",\"text\":\"" text "\"},"
static const char errors_json[] = "[" MNEMO_ERRORS(ERR_JSON_) "null]";
#undef ERR_JSON_

const char *mnemo__wasm_errors_json(void) { return errors_json; }

/* Export into one buffer: JSON Lines, each line ended by "\n". A JS callback
** through a function table would need table growth at run time; the whole
** export lives in wasm memory anyway, so one buffer is as cheap. */
typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static int buf_line(void *ctx, const char *line, size_t len) {
    buf *b = ctx;
    if (b->n + len + 2 > b->cap) {
        size_t cap = b->cap ? b->cap : 64 * 1024;
        while (cap < b->n + len + 2) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return MNEMO_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, line, len);
    b->n += len;
    b->p[b->n++] = '\n';
    b->p[b->n] = 0;
    return MNEMO_OK;
}

/* *out (freed with free(), i.e. the exported _free) and its length; on
** failure *out is NULL and the code is returned (message: mnemo_errmsg). */
int mnemo__wasm_export(mnemo *db, char **out, size_t *len) {
    buf b = {NULL, 0, 0};
    *out = NULL;
    *len = 0;
    int rc = mnemo_export(db, buf_line, &b);
    if (rc != MNEMO_OK) {
        free(b.p);
        return rc;
    }
    if (!b.p && !(b.p = calloc(1, 1))) return MNEMO_ENOMEM;
    *out = b.p;
    *len = b.n;
    return MNEMO_OK;
}

/* mnemo_pages_lazy() with the host's pages in JS: `lender` names them for
** binding.js (Module.pagesRead), and a 64-bit offset travels as a double
** (exact to 2^53). Sized here for the same reason. */
EM_JS(int, pages_read_js, (int lender, double offset, void *into, size_t n),
      { return Module.pagesRead(lender, offset, into >>> 0, n >>> 0); })

/* The same read when pagesRead answered 1: those bytes are still in the
** browser's storage (an IndexedDB Blob). binding.js imports this one as a
** WebAssembly.Suspending function: the call into the module that needs the
** page (made through WebAssembly.promising) waits here, off the event loop,
** until the bytes arrive, and SQLite never knows. */
EM_JS(int, pages_wait_js, (int lender, double offset, void *into, size_t n),
      { return Module.pagesWait(lender, offset, into >>> 0, n >>> 0); })

static int pages_read(void *ctx, int64_t offset, void *into, size_t n) {
    int lender = (int)(intptr_t)ctx;
    int rc = pages_read_js(lender, (double)offset, into, n);
    if (rc == 1) rc = pages_wait_js(lender, (double)offset, into, n);
    return rc;
}

int mnemo__wasm_pages_lazy(const char *name, uint32_t pages, uint32_t page_size, int lender) {
    return mnemo_pages_lazy(name, (int64_t)pages * page_size, pages_read, (void *)(intptr_t)lender);
}

/* Index snapshots: the stream goes through hooks binding.js sets on the
** module for the call (Module.snapPut / Module.snapGet), so each piece is
** copied once, straight between wasm memory and the host's chunks. */
EM_JS(int, snap_put_js, (const void *bytes, size_t n), { return Module.snapPut(bytes >>> 0, n >>> 0); })
EM_JS(size_t, snap_get_js, (void *into, size_t n), { return Module.snapGet(into >>> 0, n >>> 0); })

static int snap_put(void *ctx, const void *bytes, size_t n) {
    (void)ctx;
    return snap_put_js(bytes, n);
}

static size_t snap_get(void *ctx, void *into, size_t n) {
    (void)ctx;
    return snap_get_js(into, n);
}

int mnemo__wasm_index_save(mnemo *db) { return mnemo_index_save(db, snap_put, NULL); }

int mnemo__wasm_index_load(mnemo *db, int *used) { return mnemo_index_load(db, snap_get, NULL, used); }
