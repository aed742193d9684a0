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
    /* Points into the filter's cJSON tree (keep it alive while the statement
    ** runs) or into f->owned (a metadata JSON path the compiler built). */
    const char *text;
} mn_bind;

#define MN_FILTER_MAX_DEPTH 32   /* nested filter objects */
#define MN_FILTER_MAX_VALUES 500 /* operands, list elements and sub-filters */

typedef struct mn_filter {
    mn_sb sql;        /* e.g. "((json_extract(m.metadata, ?) IS ?))" */
    mn_bind *binds;
    int nbinds;
    int cap;
    char **owned;     /* strings the binds point to that f owns (JSON paths) */
    int nowned;
    int owned_cap;
    int nvalues;      /* counted against MN_FILTER_MAX_VALUES */
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
**
** The exact rules:
** - Every compiled predicate is two-valued (never SQL NULL), so NOT is the
**   plain complement of what it wraps.
** - Keys are case-sensitive. "AND"/"and", "OR"/"or", "NOT"/"not" are the
**   logical keys; AND/OR take an array of filter objects (empty AND is true,
**   empty OR false); NOT takes an object or an array (NOT of the AND).
** - A key starting with "metadata." always addresses metadata: the rest is
**   one key name, dots included ("metadata.a.b" is the key "a.b", not a
**   nested path). This is how to reach metadata keys named like a reserved
**   or logical key ("metadata.kind", "metadata.AND"). Any other key is a
**   top-level metadata key, matched exactly (no nested paths).
** - Metadata values: eq/ne take a string, number, boolean or null. Booleans
**   compare as 1/0 (what json_extract returns), so true also equals a JSON 1.
**   {"k": null} / {"eq": null} match a key that is absent or null.
**   ne (and nin) count a missing key as "not equal": those rows are included.
**   gt/gte/lt/lte with a number compare only JSON numbers (not strings, not
**   booleans) by numeric value; with a string, only JSON strings, by bytes.
**   contains/icontains apply to JSON string values only (instr; icontains
**   lowers both sides, ASCII letters only, and has no wildcards: % and _ are
**   literal). exists tests presence of the key, even with a null value.
**   in/nin elements are strings, numbers or booleans.
** - kind, document_id, source: eq/ne (string or null), in/nin, contains,
**   icontains, exists (column is not NULL). ne/nin include NULL columns.
** - created_at, occurred_at, updated_at: eq/ne (or null), gt/gte/lt/lte,
**   in/nin, exists; values are ISO strings (mn_time_parse; a date alone is
**   its midnight UTC) or integral epoch ms. confidence: the same with numbers.
** - topics, tags: eq/contains "s" = some element equals s; ne = none does;
**   in = some element is in the list; nin = none is; icontains = some element
**   contains s ignoring ASCII case; exists true = the array is not empty.
** - Errors (MNEMO_EFILTER): non-object filter, empty key, unknown operator,
**   an operator a key does not support, empty operator object, wrong value
**   type, bad time, nesting over MN_FILTER_MAX_DEPTH, more than
**   MN_FILTER_MAX_VALUES values. Nothing is ignored silently.
**
** f need not be initialised; on failure it holds nothing to free. Returns
** MNEMO_OK, or MNEMO_EFILTER with f->err naming the key and what was wrong
** ("unknown operator 'regex' for key 'topic'"), or MNEMO_ENOMEM. */
MN_FUNC int mn_filter_compile(const struct cJSON *filter, mn_filter *f);

/* Binds f's values to stmt starting at parameter index `first`. Returns the
** SQLite code of the first failed bind, or SQLITE_OK. */
MN_FUNC int mn_filter_bind(const mn_filter *f, struct sqlite3_stmt *stmt, int first);

/* Frees what f holds (safe on a zeroed or failed filter). */
MN_FUNC void mn_filter_free(mn_filter *f);

#endif
