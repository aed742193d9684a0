/*
** strbuf.c: growable buffer; see strbuf.h.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void mn_sb_init(mn_sb *sb) { memset(sb, 0, sizeof *sb); }

void mn_sb_free(mn_sb *sb) {
    mn_free(sb->p);
    mn_sb_init(sb);
}

void mn_sb_reset(mn_sb *sb) {
    sb->len = 0;
    if (sb->p) sb->p[0] = 0;
}

static int grow(mn_sb *sb, size_t extra) {
    if (sb->oom) return 0;
    if (sb->len + extra + 1 <= sb->cap) return 1;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + extra + 1) cap *= 2;
    char *p = mn_realloc(sb->p, cap);
    if (!p) {
        sb->oom = 1;
        return 0;
    }
    sb->p = p;
    sb->cap = cap;
    return 1;
}

void mn_sb_add(mn_sb *sb, const char *s, size_t n) {
    if (!grow(sb, n)) return;
    if (n) memcpy(sb->p + sb->len, s, n);
    sb->len += n;
    sb->p[sb->len] = 0;
}

void mn_sb_adds(mn_sb *sb, const char *s) { mn_sb_add(sb, s, strlen(s)); }

void mn_sb_addc(mn_sb *sb, char c) { mn_sb_add(sb, &c, 1); }

void mn_sb_printf(mn_sb *sb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        mn_sb_add(sb, small, (size_t)n);
        return;
    }
    if (!grow(sb, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(sb->p + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void mn_sb_json_str(mn_sb *sb, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    if (!grow(sb, n + 2)) return;
    mn_sb_addc(sb, '"');
    size_t run = 0; /* bytes copied verbatim in one go: the common case */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        mn_sb_add(sb, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': mn_sb_add(sb, "\\\"", 2); break;
        case '\\': mn_sb_add(sb, "\\\\", 2); break;
        case '\n': mn_sb_add(sb, "\\n", 2); break;
        case '\r': mn_sb_add(sb, "\\r", 2); break;
        case '\t': mn_sb_add(sb, "\\t", 2); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            mn_sb_add(sb, e, 6);
        }
        }
    }
    mn_sb_add(sb, s + run, n - run);
    mn_sb_addc(sb, '"');
}

void mn_sb_json_num(mn_sb *sb, double v) {
    if (!isfinite(v)) {
        mn_sb_add(sb, "null", 4);
    } else if (v == (double)(long long)v && fabs(v) < 1e15) {
        mn_sb_printf(sb, "%lld", (long long)v);
    } else {
        /* Shortest text that reads back as the same double: 15 digits
        ** almost always are, 17 always are. */
        char buf[32];
        snprintf(buf, sizeof buf, "%.15g", v);
        if (strtod(buf, NULL) != v) snprintf(buf, sizeof buf, "%.17g", v);
        mn_sb_adds(sb, buf);
    }
}

char *mn_sb_take(mn_sb *sb) {
    if (sb->oom) {
        mn_sb_free(sb);
        return NULL;
    }
    if (!sb->p && !grow(sb, 0)) return NULL;
    char *p = sb->p;
    p[sb->len] = 0;
    mn_sb_init(sb);
    return p;
}

const char *mn_sb_str(const mn_sb *sb) { return sb->p ? sb->p : ""; }
