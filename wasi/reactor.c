/*
** reactor.c: the glue of the WASI reactor module (see reactor.h). The module
** is the core, SQLite and this file, built with -mexec-model=reactor: the
** host calls _initialize once, then any exported function. Which functions
** are exported is read from mnemo.h and reactor.h by wasi/wasi.mk (every
** MNEMO_API name), so the list cannot drift from the header.
*/
#include <stdlib.h>
#include <string.h>

#include "reactor.h"

void *mnemo__wasm_malloc(size_t n)
{
    return malloc(n ? n : 1);
}

void mnemo__wasm_free(void *p)
{
    free(p);
}

typedef struct sink {
    char *buf;
    size_t len, cap;
} sink;

/* Appends one record and its newline; MNEMO_ENOMEM stops the export. */
static int sink_line(void *ctx, const char *line, size_t n)
{
    sink *s = ctx;
    if (s->len + n + 2 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 2)
            cap *= 2;
        char *p = realloc(s->buf, cap);
        if (!p)
            return MNEMO_ENOMEM;
        s->buf = p;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, line, n);
    s->len += n;
    s->buf[s->len++] = '\n';
    s->buf[s->len] = '\0';
    return 0;
}

int mnemo__wasm_export(mnemo *db, char **out, size_t *len)
{
    sink s = {NULL, 0, 0};
    *out = NULL;
    *len = 0;
    int rc = mnemo_export(db, sink_line, &s);
    if (rc == MNEMO_OK && !s.buf) { /* an empty bank: an empty string */
        s.buf = calloc(1, 1);
        if (!s.buf)
            rc = MNEMO_ENOMEM;
    }
    if (rc != MNEMO_OK) {
        free(s.buf);
        return rc;
    }
    *out = s.buf;
    *len = s.len;
    return MNEMO_OK;
}
