/*
** strbuf.h: a growable byte buffer, the way every JSON result is written.
** An allocation failure is sticky (sb->oom): writers go on without checking
** each call and the owner checks once at the end.
*/
#ifndef MN_STRBUF_H
#define MN_STRBUF_H

#include <stdarg.h>
#include "common.h"

typedef struct mn_sb {
    char *p;    /* NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
    int oom;    /* set once an allocation failed; content is then truncated */
} mn_sb;

MN_FUNC void mn_sb_init(mn_sb *sb);
MN_FUNC void mn_sb_free(mn_sb *sb);
MN_FUNC void mn_sb_reset(mn_sb *sb);
MN_FUNC void mn_sb_add(mn_sb *sb, const char *s, size_t n);
MN_FUNC void mn_sb_adds(mn_sb *sb, const char *s);
MN_FUNC void mn_sb_addc(mn_sb *sb, char c);
MN_FUNC void mn_sb_printf(mn_sb *sb, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends s (n bytes of valid UTF-8) as a quoted, escaped JSON string. */
MN_FUNC void mn_sb_json_str(mn_sb *sb, const char *s, size_t n);
/* Appends a JSON number; non-finite values become null. */
MN_FUNC void mn_sb_json_num(mn_sb *sb, double v);
/* Returns the content (never NULL unless oom: then NULL and the buffer is
** freed); the caller owns it (mnemo_free). The buffer is left empty. */
MN_FUNC char *mn_sb_take(mn_sb *sb);
/* The content as a C string ("" when empty). Owned by the buffer. */
MN_FUNC const char *mn_sb_str(const mn_sb *sb);

#endif
