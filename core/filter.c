/*
** filter.c: a mem0-style filter (JSON) compiled into one parenthesised SQL
** boolean expression over `memories m` plus its bind values. The rules are
** in filter.h. Why the code is shaped as it is:
** - User values and metadata key paths only ever travel as bind parameters.
**   The only names spliced into the SQL come from the static column table.
** - Every predicate is written to be two-valued (0/1, never NULL): with SQL's
**   three-valued logic NOT {"topic": "food"} would silently drop the rows
**   that have no topic at all, and NOT must be the plain complement.
** - Binds are pushed in exactly the order their '?' are written, so each
**   emitter writes SQL and pushes binds in one left-to-right pass. A failure
**   anywhere aborts the whole compile, so half-written SQL never escapes.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cJSON.h"
#include "sqlite3.h"

#include "filter.h"
#include "datetime.h"

enum {
    OP_EQ, OP_NE, OP_GT, OP_GTE, OP_LT, OP_LTE, OP_IN, OP_NIN,
    OP_CONTAINS, OP_ICONTAINS, OP_EXISTS, OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "nin",
    "contains", "icontains", "exists"};
static const char *const cmp_sql[OP_COUNT] = {
    [OP_GT] = ">", [OP_GTE] = ">=", [OP_LT] = "<", [OP_LTE] = "<="};

/* What a key addresses, and which operators make sense there: ordering a
** text column or a tag array has no meaning we would want to guess at. */
enum { K_META, K_TEXT, K_TIME, K_NUM, K_ARRAY };
#define B(op) (1u << (op))
#define ORDER_OPS (B(OP_GT) | B(OP_GTE) | B(OP_LT) | B(OP_LTE))
#define BASE_OPS (B(OP_EQ) | B(OP_NE) | B(OP_IN) | B(OP_NIN) | B(OP_EXISTS))
#define TEXT_OPS (B(OP_CONTAINS) | B(OP_ICONTAINS))
static const unsigned kind_ops[] = {
    [K_META] = BASE_OPS | ORDER_OPS | TEXT_OPS, [K_TEXT] = BASE_OPS | TEXT_OPS,
    [K_TIME] = BASE_OPS | ORDER_OPS, [K_NUM] = BASE_OPS | ORDER_OPS,
    [K_ARRAY] = BASE_OPS | TEXT_OPS};

static const struct {
    const char *name;
    int kind;
} columns[] = {
    {"kind", K_TEXT},        {"document_id", K_TEXT}, {"source", K_TEXT},
    {"created_at", K_TIME},  {"occurred_at", K_TIME}, {"updated_at", K_TIME},
    {"confidence", K_NUM},   {"topics", K_ARRAY},     {"tags", K_ARRAY},
};

/* The JSON types an operand may have (V_TIME: ISO string or integral ms). */
enum { V_STR = 1, V_NUM = 2, V_BOOL = 4, V_NULL = 8, V_TIME = 16 };

typedef struct target {
    const char *key;  /* as the user wrote it, for messages */
    int kind;
    const char *col;  /* column name (not metadata) */
    const char *path; /* metadata JSON path, owned by the filter */
} target;

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(mn_filter *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->err, sizeof f->err, fmt, ap);
    va_end(ap);
    return MNEMO_EFILTER;
}

static const char *type_name(const cJSON *v) {
    if (cJSON_IsString(v)) return "string";
    if (cJSON_IsNumber(v)) return "number";
    if (cJSON_IsBool(v)) return "boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "array";
    if (cJSON_IsObject(v)) return "object";
    return "invalid";
}

/* The size limit counts what the user wrote (operands, list elements, empty
** filters), so that both the bind count and SQLite's expression depth (a
** long AND chain is a deep left tree) stay far below SQLite's limits. */
static int count(mn_filter *f) {
    if (++f->nvalues > MN_FILTER_MAX_VALUES)
        return fail(f, "filter has more than %d values", MN_FILTER_MAX_VALUES);
    return MNEMO_OK;
}

static int push(mn_filter *f, mn_bind b) {
    if (f->nbinds == f->cap) {
        int cap = f->cap ? f->cap * 2 : 16;
        mn_bind *p = mn_realloc(f->binds, (size_t)cap * sizeof *p);
        if (!p) return MNEMO_ENOMEM;
        f->binds = p;
        f->cap = cap;
    }
    f->binds[f->nbinds++] = b;
    return MNEMO_OK;
}

static int push_text(mn_filter *f, const char *s) {
    mn_bind b = {MN_BIND_TEXT, 0, 0, s};
    return push(f, b);
}

/* '$."key"' with the key JSON-escaped: SQLite reads a quoted path member
** with JSON escapes, so '"', '\' and dots in a key cannot change the path. */
static int make_path(mn_filter *f, const char *key, const char **out) {
    mn_sb sb;
    mn_sb_init(&sb);
    mn_sb_adds(&sb, "$.");
    mn_sb_json_str(&sb, key, strlen(key));
    char *p = mn_sb_take(&sb);
    if (!p) return MNEMO_ENOMEM;
    if (f->nowned == f->owned_cap) {
        int cap = f->owned_cap ? f->owned_cap * 2 : 8;
        char **o = mn_realloc(f->owned, (size_t)cap * sizeof *o);
        if (!o) {
            mn_free(p);
            return MNEMO_ENOMEM;
        }
        f->owned = o;
        f->owned_cap = cap;
    }
    f->owned[f->nowned++] = p;
    *out = p;
    return MNEMO_OK;
}

static void describe(int accept, char *buf, size_t n) {
    if (accept & V_TIME) {
        snprintf(buf, n, "a time (ISO-8601 string or epoch ms)%s",
                 accept & V_NULL ? " or null" : "");
        return;
    }
    static const struct { int bit; const char *name; } names[] = {
        {V_STR, "string"}, {V_NUM, "number"}, {V_BOOL, "boolean"}, {V_NULL, "null"}};
    int total = 0, seen = 0;
    for (size_t i = 0; i < 4; i++) total += (accept & names[i].bit) != 0;
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < 4 && len < n; i++) {
        if (!(accept & names[i].bit)) continue;
        const char *sep = seen == 0 ? "a " : seen == total - 1 ? " or " : ", ";
        len += (size_t)snprintf(buf + len, n - len, "%s%s", sep, names[i].name);
        seen++;
    }
}

/* Checks operand v against `accept` and turns it into a bind. `op` is NULL
** for the shorthand {"k": v}; `index` >= 0 for an element of an in/nin list. */
static int to_bind(mn_filter *f, const target *t, const char *op, const cJSON *v,
                   int accept, int index, mn_bind *b) {
    memset(b, 0, sizeof *b);
    if (cJSON_IsString(v) && (accept & V_STR)) {
        b->type = MN_BIND_TEXT;
        b->text = v->valuestring;
        return MNEMO_OK;
    }
    if (cJSON_IsString(v) && (accept & V_TIME)) {
        if (mn_time_parse(v->valuestring, &b->i) != 0)
            return fail(f, "time value for '%s' is not ISO-8601 or epoch ms: \"%s\"",
                        t->key, v->valuestring);
        b->type = MN_BIND_INT;
        return MNEMO_OK;
    }
    if (cJSON_IsNumber(v) && (accept & (V_NUM | V_TIME))) {
        double d = v->valuedouble;
        /* Integral values bind as integers so they compare exactly with
        ** integer columns and json_extract's integers. */
        int integral = isfinite(d) && d == floor(d) && d >= -9223372036854775808.0 &&
                       d < 9223372036854775808.0;
        if ((accept & V_TIME) && !integral)
            return fail(f, "time value for '%s' is not ISO-8601 or epoch ms: %.17g",
                        t->key, d);
        if (!isfinite(d)) return fail(f, "value for key '%s' is not a finite number", t->key);
        b->type = integral ? MN_BIND_INT : MN_BIND_REAL;
        b->i = integral ? (int64_t)d : 0;
        b->d = d;
        return MNEMO_OK;
    }
    if (cJSON_IsBool(v) && (accept & V_BOOL)) {
        /* json_extract returns 1/0 for JSON true/false. */
        b->type = MN_BIND_INT;
        b->i = cJSON_IsTrue(v) ? 1 : 0;
        return MNEMO_OK;
    }
    if (cJSON_IsNull(v) && (accept & V_NULL)) {
        b->type = MN_BIND_NULL;
        return MNEMO_OK;
    }
    char want[96];
    describe(accept, want, sizeof want);
    if (index >= 0)
        return fail(f, "element %d of '%s' for key '%s' must be %s, got %s", index, op,
                    t->key, want, type_name(v));
    if (!op)
        return fail(f, "value for key '%s' must be %s, got %s", t->key, want, type_name(v));
    return fail(f, "'%s' for key '%s' needs %s, got %s", op, t->key, want, type_name(v));
}

static int accepted(int kind, int op) {
    int list = op == OP_IN || op == OP_NIN;
    int eq = op == OP_EQ || op == OP_NE;
    switch (kind) {
    case K_META:
        if (eq) return V_STR | V_NUM | V_BOOL | V_NULL;
        if (list) return V_STR | V_NUM | V_BOOL;
        return cmp_sql[op] ? V_STR | V_NUM : V_STR;
    case K_TEXT: return eq ? V_STR | V_NULL : V_STR;
    case K_TIME: return eq ? V_TIME | V_NULL : V_TIME;
    case K_NUM: return eq ? V_NUM | V_NULL : V_NUM;
    default: return V_STR; /* K_ARRAY: elements are strings */
    }
}

static int compile_list(mn_filter *f, const target *t, int op, const cJSON *v) {
    mn_sb *s = &f->sql;
    const char *name = op_names[op];
    int in = op == OP_IN, rc;
    if (!cJSON_IsArray(v))
        return fail(f, "'%s' for key '%s' needs an array, got %s", name, t->key, type_name(v));
    if (!v->child) { /* nothing to be in: in is false, nin true */
        mn_sb_adds(s, in ? "(0)" : "(1)");
        return count(f);
    }
    /* NULL-safe forms: a missing key / NULL column is "not in" the list. */
    if (t->kind == K_META) {
        mn_sb_adds(s, "coalesce(json_extract(m.metadata, ?) ");
        if ((rc = push_text(f, t->path))) return rc;
    } else if (t->kind == K_ARRAY) {
        mn_sb_printf(s, "(%sEXISTS (SELECT 1 FROM json_each(m.%s) AS j WHERE j.value ",
                     in ? "" : "NOT ", t->col);
    } else {
        mn_sb_printf(s, in ? "(m.%s IS NOT NULL AND m.%s " : "(m.%s IS NULL OR m.%s ",
                     t->col, t->col);
    }
    mn_sb_adds(s, in || t->kind == K_ARRAY ? "IN (" : "NOT IN (");
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        mn_bind b;
        if ((rc = count(f))) return rc;
        if ((rc = to_bind(f, t, name, e, accepted(t->kind, op), i, &b))) return rc;
        if ((rc = push(f, b))) return rc;
        mn_sb_adds(s, i ? ", ?" : "?");
    }
    if (t->kind == K_META) mn_sb_adds(s, in ? "), 0)" : "), 1)");
    else if (t->kind == K_ARRAY) mn_sb_adds(s, ")))");
    else mn_sb_adds(s, "))");
    return MNEMO_OK;
}

static int compile_exists(mn_filter *f, const target *t, const cJSON *v) {
    mn_sb *s = &f->sql;
    if (!cJSON_IsBool(v))
        return fail(f, "'exists' for key '%s' needs a boolean, got %s", t->key, type_name(v));
    int yes = cJSON_IsTrue(v);
    if (t->kind == K_META) { /* json_type is NULL only for an absent key */
        mn_sb_adds(s, yes ? "(json_type(m.metadata, ?) IS NOT NULL)"
                          : "(json_type(m.metadata, ?) IS NULL)");
        return push_text(f, t->path);
    }
    if (t->kind == K_ARRAY)
        mn_sb_printf(s, "(json_array_length(m.%s) %s 0)", t->col, yes ? ">" : "=");
    else
        mn_sb_printf(s, "(m.%s IS %sNULL)", t->col, yes ? "NOT " : "");
    return MNEMO_OK;
}

/* One operator applied to one key; op_given is 0 for the {"k": v} form. */
static int compile_op(mn_filter *f, const target *t, int op, int op_given,
                      const cJSON *v) {
    mn_sb *s = &f->sql;
    const char *name = op_names[op];
    mn_bind b;
    int rc;
    if (!(kind_ops[t->kind] & B(op)))
        return fail(f, "operator '%s' is not supported for key '%s'", name, t->key);
    if (op == OP_IN || op == OP_NIN) return compile_list(f, t, op, v);
    if ((rc = count(f))) return rc; /* a list counts its elements instead */
    if (op == OP_EXISTS) return compile_exists(f, t, v);
    if (!op_given && cJSON_IsArray(v))
        return fail(f, "value for key '%s' must be a string, number, boolean, null or an "
                       "operator object, got array (use {\"in\": [...]})", t->key);
    if ((rc = to_bind(f, t, op_given ? name : NULL, v, accepted(t->kind, op), -1, &b)))
        return rc;
    int ne = op == OP_NE, lower = op == OP_ICONTAINS;
    if (t->kind == K_META) {
        const char *p = t->path;
        if (op == OP_EQ || ne) { /* IS: NULL-safe, so a missing key is "ne" */
            mn_sb_adds(s, ne ? "(json_extract(m.metadata, ?) IS NOT ?)"
                             : "(json_extract(m.metadata, ?) IS ?)");
            if ((rc = push_text(f, p))) return rc;
        } else {
            /* Only compare like with like: SQLite orders every number below
            ** every string, so {"gt": 18} would otherwise match "young". */
            const char *guard = b.type == MN_BIND_TEXT ? "= 'text'" : "IN ('integer','real')";
            if (cmp_sql[op])
                mn_sb_printf(s, "coalesce(json_type(m.metadata, ?) %s AND "
                                "json_extract(m.metadata, ?) %s ?, 0)", guard, cmp_sql[op]);
            else
                mn_sb_printf(s, "coalesce(json_type(m.metadata, ?) = 'text' AND "
                                "instr(%sjson_extract(m.metadata, ?)%s, %s?%s) > 0, 0)",
                             lower ? "lower(" : "", lower ? ")" : "",
                             lower ? "lower(" : "", lower ? ")" : "");
            if ((rc = push_text(f, p)) || (rc = push_text(f, p))) return rc;
        }
    } else if (t->kind == K_ARRAY) {
        if (lower)
            mn_sb_printf(s, "(EXISTS (SELECT 1 FROM json_each(m.%s) AS j WHERE "
                            "instr(lower(j.value), lower(?)) > 0))", t->col);
        else /* eq, contains: has the element; ne: has not */
            mn_sb_printf(s, "(%sEXISTS (SELECT 1 FROM json_each(m.%s) AS j WHERE "
                            "j.value = ?))", ne ? "NOT " : "", t->col);
    } else if (op == OP_EQ || ne) {
        mn_sb_printf(s, "(m.%s IS %s?)", t->col, ne ? "NOT " : "");
    } else if (cmp_sql[op]) {
        mn_sb_printf(s, "(m.%s IS NOT NULL AND m.%s %s ?)", t->col, t->col, cmp_sql[op]);
    } else {
        mn_sb_printf(s, "(m.%s IS NOT NULL AND instr(%sm.%s%s, %s?%s) > 0)", t->col,
                     lower ? "lower(" : "", t->col, lower ? ")" : "",
                     lower ? "lower(" : "", lower ? ")" : "");
    }
    return push(f, b);
}

static int compile_object(mn_filter *f, const cJSON *obj, int depth);

static int logical_kind(const char *k) {
    if (!strcmp(k, "AND") || !strcmp(k, "and")) return 1;
    if (!strcmp(k, "OR") || !strcmp(k, "or")) return 2;
    if (!strcmp(k, "NOT") || !strcmp(k, "not")) return 3;
    return 0;
}

/* The elements of an AND/OR array (or NOT's array, which is their AND). */
static int compile_junction(mn_filter *f, const char *name, int is_and,
                            const cJSON *v, int depth) {
    int rc, i = 0;
    if (!v->child) { /* empty AND is true, empty OR false */
        mn_sb_adds(&f->sql, is_and ? "(1)" : "(0)");
        return count(f);
    }
    mn_sb_addc(&f->sql, '(');
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        if (!cJSON_IsObject(e))
            return fail(f, "element %d of '%s' must be a JSON object, got %s", i, name,
                        type_name(e));
        if (i) mn_sb_adds(&f->sql, is_and ? " AND " : " OR ");
        if ((rc = compile_object(f, e, depth + 1))) return rc;
    }
    mn_sb_addc(&f->sql, ')');
    return MNEMO_OK;
}

static int compile_key(mn_filter *f, const char *key, const cJSON *v, int depth) {
    int logical = logical_kind(key), rc;
    if (logical == 3) {
        if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
            return fail(f, "'%s' needs a filter object or an array of them, got %s", key,
                        type_name(v));
        mn_sb_adds(&f->sql, "(NOT ");
        rc = cJSON_IsObject(v) ? compile_object(f, v, depth + 1)
                               : compile_junction(f, key, 1, v, depth);
        mn_sb_addc(&f->sql, ')');
        return rc;
    }
    if (logical) {
        if (!cJSON_IsArray(v))
            return fail(f, "'%s' needs an array of filters, got %s", key, type_name(v));
        return compile_junction(f, key, logical == 1, v, depth);
    }

    target t = {key, K_META, NULL, NULL};
    const char *mkey = key;
    if (!*key) return fail(f, "empty key in filter");
    if (!strncmp(key, "metadata.", 9)) {
        mkey = key + 9; /* the rest is one key name, dots included */
        if (!*mkey) return fail(f, "empty metadata key in '%s'", key);
    } else {
        for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++)
            if (!strcmp(key, columns[i].name)) {
                t.kind = columns[i].kind;
                t.col = columns[i].name;
            }
    }
    if (t.kind == K_META && (rc = make_path(f, mkey, &t.path))) return rc;

    if (!cJSON_IsObject(v)) return compile_op(f, &t, OP_EQ, 0, v);
    if (!v->child) return fail(f, "no operator for key '%s': the operator object is empty", key);
    mn_sb_addc(&f->sql, '(');
    for (const cJSON *o = v->child; o; o = o->next) {
        const char *name = o->string ? o->string : "";
        int op = 0;
        while (op < OP_COUNT && strcmp(name, op_names[op])) op++;
        if (op == OP_COUNT) return fail(f, "unknown operator '%s' for key '%s'", name, key);
        if (o != v->child) mn_sb_adds(&f->sql, " AND ");
        if ((rc = compile_op(f, &t, op, 1, o))) return rc;
    }
    mn_sb_addc(&f->sql, ')');
    return MNEMO_OK;
}

static int compile_object(mn_filter *f, const cJSON *obj, int depth) {
    int rc;
    if (depth > MN_FILTER_MAX_DEPTH)
        return fail(f, "filter nests deeper than %d levels", MN_FILTER_MAX_DEPTH);
    if (!obj->child) {
        mn_sb_adds(&f->sql, "(1)");
        return count(f);
    }
    mn_sb_addc(&f->sql, '(');
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (c != obj->child) mn_sb_adds(&f->sql, " AND ");
        if ((rc = compile_key(f, c->string ? c->string : "", c, depth))) return rc;
    }
    mn_sb_addc(&f->sql, ')');
    return MNEMO_OK;
}

int mn_filter_compile(const cJSON *filter, mn_filter *f) {
    int rc;
    memset(f, 0, sizeof *f);
    if (!cJSON_IsObject(filter))
        rc = fail(f, "filter must be a JSON object, got %s",
                  filter ? type_name(filter) : "nothing");
    else
        rc = compile_object(f, filter, 1);
    if (rc == MNEMO_OK && f->sql.oom) rc = MNEMO_ENOMEM;
    if (rc != MNEMO_OK) { /* leave nothing to free, only the reason */
        char err[sizeof f->err];
        memcpy(err, f->err, sizeof err);
        mn_filter_free(f);
        if (rc == MNEMO_ENOMEM) snprintf(f->err, sizeof f->err, "out of memory");
        else memcpy(f->err, err, sizeof err);
    }
    return rc;
}

int mn_filter_bind(const mn_filter *f, sqlite3_stmt *stmt, int first) {
    for (int i = 0; i < f->nbinds; i++) {
        const mn_bind *b = &f->binds[i];
        int rc;
        switch (b->type) {
        case MN_BIND_INT: rc = sqlite3_bind_int64(stmt, first + i, (sqlite3_int64)b->i); break;
        case MN_BIND_REAL: rc = sqlite3_bind_double(stmt, first + i, b->d); break;
        case MN_BIND_TEXT: /* static: the cJSON tree or f outlives the statement */
            rc = sqlite3_bind_text(stmt, first + i, b->text, -1, SQLITE_STATIC);
            break;
        default: rc = sqlite3_bind_null(stmt, first + i);
        }
        if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
}

void mn_filter_free(mn_filter *f) {
    for (int i = 0; i < f->nowned; i++) mn_free(f->owned[i]);
    mn_free(f->owned);
    mn_free(f->binds);
    mn_sb_free(&f->sql);
    memset(f, 0, sizeof *f);
}
