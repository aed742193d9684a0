/*
** embed.c: the core's built-in embedder ("mnemo-hash-v1", 256 dims) as a
** filter, so every engine of the web benchmark gets the very vectors Mnemo
** computes for itself. Reads texts separated by NUL bytes on stdin, writes
** 256 little-endian float32 per text on stdout, in order.
**
** Built by web/browser.mk against build/lib/libmnemo.a; the embedder is
** deterministic across hosts (see core/embed.c), so these native vectors are
** bit-identical to the ones the wasm build computes.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"

int main(void) {
    size_t cap = 1 << 20, n = 0, r;
    char *buf = malloc(cap);
    if (!buf) return 1;
    while ((r = fread(buf + n, 1, cap - n, stdin)) > 0) {
        n += r;
        if (n == cap) {
            char *p = realloc(buf, cap *= 2);
            if (!p) return 1;
            buf = p;
        }
    }
    float v[MN_EMBED_DIM];
    for (size_t start = 0; start < n;) {
        size_t end = start;
        while (end < n && buf[end]) end++;
        mn_embed_text(buf + start, end - start, v);
        if (fwrite(v, sizeof v, 1, stdout) != 1) return 1;
        start = end + 1;
    }
    free(buf);
    return fclose(stdout) ? 1 : 0;
}
