/*
** test_filter.c: mem0-style filters run against a real (in-memory) memories
** table; every test checks the exact set of ids a filter selects.
*/
#include "test.h"

#include <stdlib.h>

#include "cJSON.h"
#include "sqlite3.h"

#include "filter.h"

#define DAY 86400000LL
#define MAY1 1682899200000LL /* 2023-05-01T00:00:00Z */

static const struct row {
    const char *id, *kind, *topics, *tags, *metadata, *document_id, *source;
    double confidence;
    long long occurred_at; /* 0 = NULL */
} rows[] = {
    {"m1", "fact", "[\"food\",\"travel\"]", "[\"pinned\"]",
     "{\"topic\":\"food\",\"age\":30,\"vip\":true,\"city\":\"Paris\",\"score\":4.5}",
     "doc1", "chat", 0.9, MAY1 - 11 * DAY},
    {"m2", "preference", "[\"food\"]", "[]",
     "{\"topic\":\"sports\",\"age\":17,\"vip\":false,\"city\":\"paris\"}", "doc1", "email",
     0.5, 0},
    {"m3", "fact", "[]", "[\"Work\"]",
     "{\"topic\":\"*\",\"age\":\"30\",\"note\":\"50% off_sale\"}", NULL, "chat", 1.0,
     MAY1 + 2 * DAY},
    {"m4", "event", "[\"travel\"]", "[]",
     "{\"kind\":\"secret\",\"say \\\"hi\\\"\":\"q\",\"back\\\\slash\":\"b\",\"a.b\":\"dot\","
     "\"AND\":\"x\"}",
     "doc2", NULL, 0.75, 0},
    {"m5", "fact", "[\"music\"]", "[\"pinned\",\"Work\"]", "{}", NULL, NULL, 1.0, 0},
    {"m6", "fact", "[\"Food Court\"]", "[]",
     "{\"topic\":null,\"age\":65,\"nested\":{\"x\":1}}", "doc2", "chat", 0.3,
     MAY1 + 5 * DAY},
    {"m7", "preference", "[\"*\"]", "[]",
     "{\"topic\":\"Food\",\"age\":64.5,\"city\":\"PARIS\",\"vip\":1}", NULL, "email", 1.0, 0},
    {"m8", "fact", "[\"travel\",\"music\"]", "[]",
     "{\"topic\":\"travel\",\"note\":\"100% 5_0\"}", "doc3", "chat", 0.8, MAY1 + 7 * DAY},
};

static void bind_opt(sqlite3_stmt *st, int i, const char *s) {
    if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, i);
}

/* The table of the brief, with created_at = May 1st + i days, updated 1h on. */
static sqlite3 *open_db(void) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) return NULL;
    sqlite3_exec(db,
                 "CREATE TABLE memories(rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
                 " text TEXT NOT NULL, kind TEXT NOT NULL DEFAULT 'fact', topics TEXT NOT "
                 "NULL DEFAULT '[]', tags TEXT NOT NULL DEFAULT '[]', metadata TEXT NOT "
                 "NULL DEFAULT '{}', document_id TEXT, source TEXT, confidence REAL NOT "
                 "NULL DEFAULT 1.0, occurred_at INTEGER, created_at INTEGER NOT NULL, "
                 "updated_at INTEGER NOT NULL, valid_from INTEGER, valid_to INTEGER, "
                 "superseded_by TEXT, hash TEXT NOT NULL)",
                 NULL, NULL, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO memories(id, text, kind, topics, tags, metadata, "
                       "document_id, source, confidence, occurred_at, created_at, "
                       "updated_at, hash) VALUES(?,'t',?,?,?,?,?,?,?,?,?,?,'h')",
                       -1, &st, NULL);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r->topics, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->tags, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->metadata, -1, SQLITE_STATIC);
        bind_opt(st, 6, r->document_id);
        bind_opt(st, 7, r->source);
        sqlite3_bind_double(st, 8, r->confidence);
        if (r->occurred_at) sqlite3_bind_int64(st, 9, r->occurred_at);
        else sqlite3_bind_null(st, 9);
        sqlite3_bind_int64(st, 10, MAY1 + (long long)i * DAY);
        sqlite3_bind_int64(st, 11, MAY1 + (long long)i * DAY + 3600000);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            sqlite3_close(db);
            return NULL;
        }
    }
    sqlite3_finalize(st);
    return db;
}

static char result[8192];

/* Runs `SELECT id ... WHERE <filter>` and returns the ids, comma-separated,
** or "ERR: <f->err>" when the filter does not compile. */
static const char *ids(sqlite3 *db, const char *json) {
    cJSON *j = json ? cJSON_Parse(json) : NULL;
    mn_filter f;
    if (!j) return "BAD TEST JSON";
    int rc = mn_filter_compile(j, &f);
    if (rc != MNEMO_OK) {
        snprintf(result, sizeof result, "ERR: %s", f.err);
        if (f.sql.p || f.binds || f.owned) strcpy(result, "ERR LEFT MEMORY BEHIND");
        mn_filter_free(&f);
        cJSON_Delete(j);
        return result;
    }
    char *sql = NULL;
    size_t n = strlen(mn_sb_str(&f.sql)) + 64;
    sql = malloc(n);
    snprintf(sql, n, "SELECT id FROM memories m WHERE %s ORDER BY rowid", mn_sb_str(&f.sql));
    sqlite3_stmt *st = NULL;
    result[0] = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(result, sizeof result, "SQL: %s", sqlite3_errmsg(db));
    } else if (sqlite3_bind_parameter_count(st) != f.nbinds ||
               mn_filter_bind(&f, st, 1) != SQLITE_OK) {
        snprintf(result, sizeof result, "BIND MISMATCH");
    } else {
        size_t len = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            len += (size_t)snprintf(result + len, sizeof result - len, "%s%s",
                                    len ? "," : "", sqlite3_column_text(st, 0));
        if (rc != SQLITE_DONE) snprintf(result, sizeof result, "SQL: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    free(sql);
    mn_filter_free(&f);
    cJSON_Delete(j);
    return result;
}

#define ALL "m1,m2,m3,m4,m5,m6,m7,m8"

void test_filter__matches_metadata_equality(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"topic\": \"food\"}"), "m1");
    CHECK_STR(ids(db, "{\"topic\": {\"eq\": \"sports\"}}"), "m2");
    CHECK_STR(ids(db, "{\"age\": 30}"), "m1"); /* not the string "30" of m3 */
    CHECK_STR(ids(db, "{\"age\": 64.5}"), "m7");
    CHECK_STR(ids(db, "{\"age\": 30.0}"), "m1");
    CHECK_STR(ids(db, "{\"vip\": true}"), "m1,m7"); /* booleans compare as 1/0 */
    CHECK_STR(ids(db, "{\"vip\": false}"), "m2");
    CHECK_STR(ids(db, "{\"topic\": null}"), "m4,m5,m6"); /* absent or null */
    CHECK_STR(ids(db, "{\"city\": \"Paris\", \"age\": 30}"), "m1");
    CHECK_STR(ids(db, "{\"city\": \"Paris\", \"age\": 17}"), "");
    sqlite3_close(db);
}

void test_filter__rejects_unknown_operator(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"topic\": {\"regex\": \"f.*\"}}"),
              "ERR: unknown operator 'regex' for key 'topic'");
    CHECK_STR(ids(db, "{\"topic\": {\"EQ\": \"food\"}}"),
              "ERR: unknown operator 'EQ' for key 'topic'");
    CHECK_STR(ids(db, "{\"age\": {\"gte\": 18, \"between\": [1, 2]}}"),
              "ERR: unknown operator 'between' for key 'age'");
    CHECK_STR(ids(db, "{\"created_at\": {\"contains\": \"2023\"}}"),
              "ERR: operator 'contains' is not supported for key 'created_at'");
    CHECK_STR(ids(db, "{\"kind\": {\"gt\": \"a\"}}"),
              "ERR: operator 'gt' is not supported for key 'kind'");
    sqlite3_close(db);
}

void test_filter__combines_and_or_not(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"OR\": [{\"topic\": \"food\"}, {\"topic\": \"sports\"}]}"), "m1,m2");
    CHECK_STR(ids(db, "{\"AND\": [{\"city\": \"paris\"}, {\"age\": 17}]}"), "m2");
    /* NOT is the complement: rows without the key are kept */
    CHECK_STR(ids(db, "{\"NOT\": {\"topic\": \"food\"}}"), "m2,m3,m4,m5,m6,m7,m8");
    CHECK_STR(ids(db, "{\"NOT\": [{\"kind\": \"fact\"}, {\"source\": \"chat\"}]}"),
              "m2,m4,m5,m7");
    CHECK_STR(ids(db, "{\"or\": [{\"and\": [{\"kind\": \"fact\"}, {\"topics\": \"music\"}]},"
                      " {\"not\": {\"age\": {\"lt\": 65}}}]}"),
              "m3,m4,m5,m6,m8");
    CHECK_STR(ids(db, "{\"AND\": []}"), ALL);
    CHECK_STR(ids(db, "{\"OR\": []}"), "");
    CHECK_STR(ids(db, "{\"NOT\": []}"), "");
    CHECK_STR(ids(db, "{}"), ALL);
    sqlite3_close(db);
}

void test_filter__matches_topics_membership(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"topics\": \"food\"}"), "m1,m2"); /* not "Food Court" */
    CHECK_STR(ids(db, "{\"topics\": {\"contains\": \"travel\"}}"), "m1,m4,m8");
    CHECK_STR(ids(db, "{\"topics\": {\"eq\": \"music\"}}"), "m5,m8");
    CHECK_STR(ids(db, "{\"topics\": {\"ne\": \"travel\"}}"), "m2,m3,m5,m6,m7");
    CHECK_STR(ids(db, "{\"topics\": {\"contains\": \"trav\"}}"), ""); /* elements, whole */
    CHECK_STR(ids(db, "{\"topics\": {\"icontains\": \"FOOD\"}}"), "m1,m2,m6");
    CHECK_STR(ids(db, "{\"topics\": {\"exists\": false}}"), "m3");
    CHECK_STR(ids(db, "{\"topics\": 1}"),
              "ERR: value for key 'topics' must be a string, got number");
    sqlite3_close(db);
}

void test_filter__matches_tags_membership(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"tags\": \"pinned\"}"), "m1,m5");
    CHECK_STR(ids(db, "{\"tags\": \"work\"}"), "");
    CHECK_STR(ids(db, "{\"tags\": {\"icontains\": \"work\"}}"), "m3,m5");
    CHECK_STR(ids(db, "{\"tags\": {\"exists\": true}}"), "m1,m3,m5");
    CHECK_STR(ids(db, "{\"tags\": {\"in\": [\"Work\", \"x\"]}, \"topics\": \"music\"}"), "m5");
    sqlite3_close(db);
}

void test_filter__compares_times_given_as_iso(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"created_at\": {\"gte\": \"2023-05-03\", \"lt\": \"2023-05-05\"}}"),
              "m3,m4");
    CHECK_STR(ids(db, "{\"created_at\": {\"gt\": \"2023-05-07T00:00:00Z\"}}"), "m8");
    CHECK_STR(ids(db, "{\"created_at\": \"2023-05-07T00:00:00Z\"}"), "m7");
    CHECK_STR(ids(db, "{\"occurred_at\": {\"lte\": \"2023-05-03\"}}"), "m1,m3");
    CHECK_STR(ids(db, "{\"occurred_at\": null}"), "m2,m4,m5,m7");
    CHECK_STR(ids(db, "{\"occurred_at\": {\"ne\": \"2023-05-03\"}}"), "m1,m2,m4,m5,m6,m7,m8");
    CHECK_STR(ids(db, "{\"updated_at\": {\"gt\": \"2023-05-08\"}}"), "m8");
    CHECK_STR(ids(db, "{\"created_at\": {\"gt\": \"yesterdayish\"}}"),
              "ERR: time value for 'created_at' is not ISO-8601 or epoch ms: \"yesterdayish\"");
    CHECK_STR(ids(db, "{\"created_at\": {\"gt\": true}}"),
              "ERR: 'gt' for key 'created_at' needs a time (ISO-8601 string or epoch ms), "
              "got boolean");
    sqlite3_close(db);
}

void test_filter__compares_times_given_as_epoch_ms(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"created_at\": {\"gte\": 1683072000000}}"), "m3,m4,m5,m6,m7,m8");
    CHECK_STR(ids(db, "{\"created_at\": {\"gte\": \"1683072000000\"}}"), "m3,m4,m5,m6,m7,m8");
    CHECK_STR(ids(db, "{\"created_at\": 1683072000000}"), "m3");
    CHECK_STR(ids(db, "{\"created_at\": {\"in\": [1683072000000, \"2023-05-01\"]}}"), "m1,m3");
    CHECK_STR(ids(db, "{\"occurred_at\": {\"exists\": true}}"), "m1,m3,m6,m8");
    CHECK_STR(ids(db, "{\"created_at\": {\"lt\": 1.5}}"),
              "ERR: time value for 'created_at' is not ISO-8601 or epoch ms: 1.5");
    sqlite3_close(db);
}

void test_filter__treats_star_literally(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"topic\": \"*\"}"), "m3");
    CHECK_STR(ids(db, "{\"topics\": \"*\"}"), "m7");
    CHECK_STR(ids(db, "{\"*\": \"food\"}"), "");
    CHECK_STR(ids(db, "{\"topic\": {\"in\": [\"*\"]}}"), "m3");
    CHECK_STR(ids(db, "{\"topic\": {\"contains\": \"*\"}}"), "m3");
    sqlite3_close(db);
}

void test_filter__escapes_quotes_in_keys(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"say \\\"hi\\\"\": \"q\"}"), "m4");
    CHECK_STR(ids(db, "{\"back\\\\slash\": \"b\"}"), "m4");
    CHECK_STR(ids(db, "{\"a.b\": \"dot\"}"), "m4"); /* one key, not a nested path */
    CHECK_STR(ids(db, "{\"nested.x\": 1}"), "");
    CHECK_STR(ids(db, "{\"say \\\"\": \"q\"}"), "");
    CHECK_STR(ids(db, "{\"x') OR 1=1 --\": \"q\"}"), "");
    CHECK_STR(ids(db, "{\"topic\\\"].x\": \"food\"}"), "");
    /* neither keys nor values reach the SQL text */
    cJSON *j = cJSON_Parse("{\"say \\\"hi\\\"\": \"quote'd\"}");
    mn_filter f;
    CHECK_INT(mn_filter_compile(j, &f), MNEMO_OK);
    int clean = !strstr(mn_sb_str(&f.sql), "say") && !strstr(mn_sb_str(&f.sql), "quote");
    CHECK_INT(f.nbinds, 2);
    CHECK_STR(f.binds[0].text, "$.\"say \\\"hi\\\"\"");
    mn_filter_free(&f);
    cJSON_Delete(j);
    CHECK(clean);
    sqlite3_close(db);
}

void test_filter__handles_in_and_nin(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"topic\": {\"in\": [\"food\", \"sports\"]}}"), "m1,m2");
    CHECK_STR(ids(db, "{\"age\": {\"in\": [17, 65]}}"), "m2,m6");
    CHECK_STR(ids(db, "{\"age\": {\"in\": [30]}}"), "m1");
    CHECK_STR(ids(db, "{\"topic\": {\"nin\": [\"food\", \"sports\"]}}"), "m3,m4,m5,m6,m7,m8");
    CHECK_STR(ids(db, "{\"kind\": {\"in\": [\"event\", \"preference\"]}}"), "m2,m4,m7");
    CHECK_STR(ids(db, "{\"source\": {\"nin\": [\"chat\"]}}"), "m2,m4,m5,m7");
    CHECK_STR(ids(db, "{\"topics\": {\"in\": [\"music\", \"sports\"]}}"), "m5,m8");
    CHECK_STR(ids(db, "{\"topics\": {\"nin\": [\"food\", \"travel\"]}}"), "m3,m5,m6,m7");
    CHECK_STR(ids(db, "{\"topic\": {\"in\": []}}"), "");
    CHECK_STR(ids(db, "{\"topic\": {\"nin\": []}}"), ALL);
    CHECK_STR(ids(db, "{\"x\": {\"in\": \"food\"}}"), "ERR: 'in' for key 'x' needs an array, got string");
    CHECK_STR(ids(db, "{\"x\": {\"nin\": [\"a\", null]}}"),
              "ERR: element 1 of 'nin' for key 'x' must be a string, number or boolean, got null");
    sqlite3_close(db);
}

void test_filter__icontains_ignores_case_and_percent(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"city\": {\"icontains\": \"PAR\"}}"), "m1,m2,m7");
    CHECK_STR(ids(db, "{\"city\": {\"contains\": \"Par\"}}"), "m1");
    CHECK_STR(ids(db, "{\"note\": {\"icontains\": \"0%\"}}"), "m3,m8");
    CHECK_STR(ids(db, "{\"note\": {\"icontains\": \"5%\"}}"), ""); /* % is no wildcard */
    CHECK_STR(ids(db, "{\"note\": {\"icontains\": \"0_\"}}"), ""); /* nor is _ */
    CHECK_STR(ids(db, "{\"note\": {\"icontains\": \"F_S\"}}"), "m3");
    CHECK_STR(ids(db, "{\"source\": {\"icontains\": \"MAIL\"}}"), "m2,m7");
    CHECK_STR(ids(db, "{\"age\": {\"contains\": \"3\"}}"), "m3"); /* strings only */
    sqlite3_close(db);
}

void test_filter__ne_includes_missing_keys(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"topic\": {\"ne\": \"food\"}}"), "m2,m3,m4,m5,m6,m7,m8");
    CHECK_STR(ids(db, "{\"city\": {\"ne\": \"Paris\"}}"), "m2,m3,m4,m5,m6,m7,m8");
    CHECK_STR(ids(db, "{\"source\": {\"ne\": \"chat\"}}"), "m2,m4,m5,m7");
    CHECK_STR(ids(db, "{\"topic\": {\"ne\": null}}"), "m1,m2,m3,m7,m8");
    sqlite3_close(db);
}

/* n filter objects nested through NOT (n = 1: {"a": 1}). */
static char *nest(int n) {
    char *s = malloc((size_t)n * 12 + 16);
    size_t len = 0;
    if (!s) return NULL;
    for (int i = 1; i < n; i++) len += (size_t)sprintf(s + len, "{\"NOT\":");
    len += (size_t)sprintf(s + len, "{\"a\":1}");
    for (int i = 1; i < n; i++) s[len++] = '}';
    s[len] = 0;
    return s;
}

void test_filter__rejects_too_deep_nesting(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    char *ok = nest(32), *deep = nest(33);
    char okr[64], deepr[128];
    snprintf(okr, sizeof okr, "%s", ids(db, ok));
    snprintf(deepr, sizeof deepr, "%s", ids(db, deep));
    free(ok);
    free(deep);
    CHECK_STR(okr, ALL); /* 31 NOTs around "a = 1", which no row has */
    CHECK_STR(deepr, "ERR: filter nests deeper than 32 levels");
    sqlite3_close(db);
}

void test_filter__compares_numbers_by_json_value(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"age\": {\"gt\": 29}}"), "m1,m6,m7"); /* not the string "30" */
    CHECK_STR(ids(db, "{\"age\": {\"gte\": 18, \"lt\": 65}}"), "m1,m7");
    CHECK_STR(ids(db, "{\"age\": {\"lte\": 17.0}}"), "m2");
    CHECK_STR(ids(db, "{\"score\": {\"gt\": 4}}"), "m1");
    CHECK_STR(ids(db, "{\"vip\": {\"gte\": 0}}"), "m7"); /* booleans are not numbers */
    CHECK_STR(ids(db, "{\"age\": {\"gt\": \"3\"}}"), "m3"); /* strings with strings */
    CHECK_STR(ids(db, "{\"age\": {\"gt\": null}}"),
              "ERR: 'gt' for key 'age' needs a string or number, got null");
    sqlite3_close(db);
}

void test_filter__addresses_metadata_with_reserved_names(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"metadata.kind\": \"secret\"}"), "m4");
    CHECK_STR(ids(db, "{\"kind\": \"secret\"}"), "");
    CHECK_STR(ids(db, "{\"kind\": \"event\"}"), "m4");
    CHECK_STR(ids(db, "{\"metadata.AND\": \"x\"}"), "m4");
    CHECK_STR(ids(db, "{\"metadata.a.b\": \"dot\"}"), "m4");
    CHECK_STR(ids(db, "{\"metadata.\": \"x\"}"), "ERR: empty metadata key in 'metadata.'");
    CHECK_STR(ids(db, "{\"\": 1}"), "ERR: empty key in filter");
    sqlite3_close(db);
}

void test_filter__tests_key_existence(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"topic\": {\"exists\": true}}"), "m1,m2,m3,m6,m7,m8");
    CHECK_STR(ids(db, "{\"topic\": {\"exists\": false}}"), "m4,m5");
    CHECK_STR(ids(db, "{\"nested\": {\"exists\": true}}"), "m6");
    CHECK_STR(ids(db, "{\"document_id\": {\"exists\": false}}"), "m3,m5,m7");
    CHECK_STR(ids(db, "{\"topic\": {\"exists\": \"yes\"}}"),
              "ERR: 'exists' for key 'topic' needs a boolean, got string");
    sqlite3_close(db);
}

void test_filter__filters_on_text_columns(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"kind\": \"preference\"}"), "m2,m7");
    CHECK_STR(ids(db, "{\"kind\": {\"ne\": \"fact\"}}"), "m2,m4,m7");
    CHECK_STR(ids(db, "{\"document_id\": {\"in\": [\"doc2\", \"doc3\"]}}"), "m4,m6,m8");
    CHECK_STR(ids(db, "{\"document_id\": null}"), "m3,m5,m7");
    CHECK_STR(ids(db, "{\"source\": {\"contains\": \"ai\"}}"), "m2,m7");
    CHECK_STR(ids(db, "{\"kind\": 5}"), "ERR: value for key 'kind' must be a string or null, got number");
    sqlite3_close(db);
}

void test_filter__matches_confidence(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "{\"confidence\": {\"gte\": 0.8}}"), "m1,m3,m5,m7,m8");
    CHECK_STR(ids(db, "{\"confidence\": 1}"), "m3,m5,m7");
    CHECK_STR(ids(db, "{\"confidence\": {\"lt\": 0.5}}"), "m6");
    CHECK_STR(ids(db, "{\"confidence\": {\"gt\": \"high\"}}"),
              "ERR: 'gt' for key 'confidence' needs a number, got string");
    sqlite3_close(db);
}

void test_filter__rejects_malformed_filters(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    CHECK_STR(ids(db, "[1]"), "ERR: filter must be a JSON object, got array");
    CHECK_STR(ids(db, "\"x\""), "ERR: filter must be a JSON object, got string");
    CHECK_STR(ids(db, "{\"AND\": {\"a\": 1}}"), "ERR: 'AND' needs an array of filters, got object");
    CHECK_STR(ids(db, "{\"OR\": [{\"a\": 1}, 1]}"),
              "ERR: element 1 of 'OR' must be a JSON object, got number");
    CHECK_STR(ids(db, "{\"NOT\": \"x\"}"),
              "ERR: 'NOT' needs a filter object or an array of them, got string");
    CHECK_STR(ids(db, "{\"age\": {}}"), "ERR: no operator for key 'age': the operator object is empty");
    CHECK_STR(ids(db, "{\"topic\": [\"a\", \"b\"]}"),
              "ERR: value for key 'topic' must be a string, number, boolean, null or an "
              "operator object, got array (use {\"in\": [...]})");
    mn_filter f;
    CHECK_INT(mn_filter_compile(NULL, &f), MNEMO_EFILTER);
    CHECK_STR(f.err, "filter must be a JSON object, got nothing");
    mn_filter_free(&f);
    sqlite3_close(db);
}

/* {"OR": [{"age": {"gt": 0}}, ... n times]} or {"x": {"in": [0..n-1]}}. */
static char *big(int n, int as_list) {
    char *s = malloc((size_t)n * 24 + 32);
    if (!s) return NULL;
    size_t len = (size_t)sprintf(s, as_list ? "{\"x\": {\"in\": [" : "{\"OR\": [");
    for (int i = 0; i < n; i++)
        len += (size_t)sprintf(s + len, as_list ? "%s%d" : "%s{\"age\":{\"gt\":%d}}",
                               i ? "," : "", as_list ? i : 0);
    sprintf(s + len, as_list ? "]}}" : "]}");
    return s;
}

void test_filter__limits_bound_values(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    char *ors = big(500, 0), *list = big(500, 1), *over = big(501, 1);
    char r1[64], r2[64], r3[64];
    /* 500 ORed comparisons (1500 binds) still parse within SQLite's limits */
    snprintf(r1, sizeof r1, "%s", ids(db, ors));
    snprintf(r2, sizeof r2, "%s", ids(db, list));
    snprintf(r3, sizeof r3, "%s", ids(db, over));
    free(ors);
    free(list);
    free(over);
    CHECK_STR(r1, "m1,m2,m6,m7");
    CHECK_STR(r2, "");
    CHECK_STR(r3, "ERR: filter has more than 500 values");
    sqlite3_close(db);
}

void test_filter__binds_after_other_parameters(void) {
    sqlite3 *db = open_db();
    CHECK(db);
    cJSON *j = cJSON_Parse("{\"topics\": \"travel\", \"age\": {\"gte\": 0}}");
    mn_filter f;
    sqlite3_stmt *st = NULL;
    char sql[1024], got[64] = "";
    CHECK_INT(mn_filter_compile(j, &f), MNEMO_OK);
    snprintf(sql, sizeof sql, "SELECT id FROM memories m WHERE m.kind = ? AND %s ORDER BY rowid",
             mn_sb_str(&f.sql));
    int prep = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (prep == SQLITE_OK) {
        sqlite3_bind_text(st, 1, "fact", -1, SQLITE_STATIC);
        prep = mn_filter_bind(&f, st, 2);
        size_t len = 0;
        while (prep == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", len ? "," : "",
                                    sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    mn_filter_free(&f);
    cJSON_Delete(j);
    sqlite3_close(db);
    CHECK_INT(prep, SQLITE_OK);
    CHECK_STR(got, "m1");
}

void test_filter__reports_out_of_memory_without_leaking(void) {
    cJSON *j = cJSON_Parse("{\"OR\": [{\"topic\": {\"in\": [\"a\", \"b\", \"c\"]}}, "
                           "{\"NOT\": {\"metadata.kind\": \"x\", \"k2\": 1, \"k3\": 2, "
                           "\"k4\": 3, \"k5\": 4, \"k6\": 5, \"k7\": 6, \"k8\": 7, "
                           "\"k9\": {\"gt\": 8, \"lt\": 9}}}, {\"tags\": \"t\"}]}");
    CHECK(j);
    int failures = 0, ok = 0;
    for (long n = 1; n < 200 && !ok; n++) {
        mn_filter f;
        mn_mem_fail_after(n);
        int rc = mn_filter_compile(j, &f);
        mn_mem_fail_after(0);
        if (rc == MNEMO_OK) {
            ok = 1;
        } else {
            failures++;
            if (rc != MNEMO_ENOMEM || strcmp(f.err, "out of memory") != 0 || f.sql.p ||
                f.binds || f.owned)
                ok = -1;
        }
        mn_filter_free(&f);
    }
    cJSON_Delete(j);
    CHECK_INT(ok, 1);
    CHECK(failures >= 3);
}
