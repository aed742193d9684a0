/*
** filter.h: mem0-style filters compiled to a parameterised SQL expression
** over the memories table (alias m). Values are never spliced into SQL.
*/
#ifndef MN_FILTER_H
#define MN_FILTER_H

#include "common.h"
#include "strbuf.h"

struct cJSON;
struct sqlite3_stmt;

enum { MN_BIND_NULL, MN_BIND_INT, MN_BIND_REAL, MN_BIND_TEXT };

typedef struct mn_bind {
    int type;
    int64_t i;
    double d;
    const char *text; /* points into the filter's cJSON tree: keep it alive */
} mn_bind;

typedef struct mn_filter {
    mn_sb sql;        /* e.g. "(json_extract(m.metadata, ?) = ?)" */
    mn_bind *binds;
    int nbinds;
    int cap;
    char err[256];    /* why compilation failed */
} mn_filter;

/* Compiles `filter` (a JSON object) into f->sql and f->binds.
**   {"topic": "food"}                metadata key equality
**   {"k": {"eq"|"ne"|"gt"|"gte"|"lt"|"lte": v}}, {"k": {"in"|"nin": [..]}},
**   {"k": {"contains"|"icontains": "s"}}, {"k": {"exists": true|false}}
**   {"AND": [..]}, {"OR": [..]}, {"NOT": [..] or {..}}; several keys in one
**   object are ANDed. Reserved keys address the memory's own columns:
**   topics, tags (array membership: eq/in/contains test elements), kind,
**   document_id, source, created_at, occurred_at, updated_at (times: ISO
**   strings or epoch ms), confidence.
** "*" as a value or key is not a wildcard: it is compared literally.
** Returns MNEMO_OK, or MNEMO_EFILTER with f->err naming the key and what was
** wrong ("unknown operator 'regex' for key 'topic'"), or MNEMO_ENOMEM. */
MN_FUNC int mn_filter_compile(const struct cJSON *filter, mn_filter *f);

/* Binds f's values to stmt starting at parameter index `first`. Returns the
** SQLite code of the first failed bind, or SQLITE_OK. */
MN_FUNC int mn_filter_bind(const mn_filter *f, struct sqlite3_stmt *stmt, int first);

MN_FUNC void mn_filter_free(mn_filter *f);

#endif
