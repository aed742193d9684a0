/*
** bank.c: opening and closing a bank, its error state, and the small helpers
** every operation shares (ids, clock, JSON input, transactions).
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bank.h"
#include "budget.h"
#include "embed.h"
#include "index.h"
#include "job.h"
#include "pages.h"
#include "schema.h"

const char *mnemo_version(void) { return MNEMO_VERSION; }

const char *mnemo_errname(int rc) {
    switch (rc) {
#define NAME_(name, code, text) case code: return "MNEMO_" #name;
        MNEMO_ERRORS(NAME_)
#undef NAME_
    }
    return "MNEMO_UNKNOWN";
}

const char *mnemo_errstr(int rc) {
    switch (rc) {
#define TEXT_(name, code, text) case code: return text;
        MNEMO_ERRORS(TEXT_)
#undef TEXT_
    }
    return "unknown error";
}

int mn_bank_err(mnemo *db, int rc, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mn_sb_reset(&db->err);
    db->err.oom = 0;
    mn_sb_adds(&db->err, msg);
    return rc;
}

int mn_bank_sqlerr(mnemo *db, int sqlrc, const char *what) {
    int rc;
    switch (sqlrc & 0xff) {
    case SQLITE_NOMEM: rc = MNEMO_ENOMEM; break;
    case SQLITE_FULL: rc = MNEMO_EFULL; break;
    case SQLITE_READONLY: rc = MNEMO_EREADONLY; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: rc = MNEMO_ECORRUPT; break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: rc = MNEMO_EBUSY; break;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM: rc = MNEMO_EIO; break;
    default: rc = MNEMO_EINTERNAL; break;
    }
    return mn_bank_err(db, rc, "%s: %s", what,
                       db->sql ? sqlite3_errmsg(db->sql) : sqlite3_errstr(sqlrc));
}

const char *mnemo_errmsg(const mnemo *db) {
    if (!db) return "no bank (NULL handle)";
    return mn_sb_str(&db->err);
}

/* Defaults for a host that gives no clock or randomness. */
static int64_t default_now(void *ctx) {
    (void)ctx;
    struct timespec ts;
    if (timespec_get(&ts, TIME_UTC) != TIME_UTC) return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mn_bank_now(mnemo *db) { return db->host.now_ms(db->host.ctx); }

uint64_t mn_bank_random(mnemo *db) {
    if (db->host.random) return db->host.random(db->host.ctx);
    /* splitmix64: tiny, fast, passes BigCrush; good enough for ids. */
    uint64_t z = (db->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void mn_bank_new_id(mnemo *db, char *out) {
    /* UUIDv7 layout: 48 bits of milliseconds, then randomness. Ids that grow
    ** with time keep every insert into the id and history indexes at the
    ** right edge of the B-tree; random (v4) ids made ingest at 100k memories
    ** 2x slower than at 10k. A seeded bank counts instead of reading the
    ** clock, so its ids stay reproducible. */
    uint64_t t = db->seeded ? ++db->id_seq : (uint64_t)mn_bank_now(db);
    if (!db->seeded && t <= db->id_seq) t = db->id_seq; /* clock stepped back */
    db->id_seq = t;
    uint64_t a = (t << 16) | (mn_bank_random(db) & 0x0FFF) | 0x7000ull; /* version 7 */
    uint64_t b = mn_bank_random(db);
    b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull; /* variant 10 */
    snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)((a >> 16) & 0xFFFF), (unsigned)(a & 0xFFFF),
             (unsigned)(b >> 48), (unsigned long long)(b & 0xFFFFFFFFFFFFull));
}

void mn_hash_hex(const char *s, size_t n, char *out) {
    /* FNV-1a 64 with a final avalanche: content identity within one bank,
    ** not a defence against an adversary (ids are random, not hashes). */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

int mn_bank_parse(mnemo *db, const char *json, size_t len, const char *what,
                  int any_type, cJSON **out) {
    *out = NULL;
    if (!json) return mn_bank_err(db, MNEMO_EINVAL, "%s is NULL", what);
    if (len > MNEMO_MAX_INPUT_BYTES)
        return mn_bank_err(db, MNEMO_ETOOBIG, "%s is %zu bytes, the limit is %d", what,
                           len, MNEMO_MAX_INPUT_BYTES);
    size_t bad;
    if (!mn_utf8_valid(json, len, &bad))
        return mn_bank_err(db, MNEMO_EUTF8, "%s has invalid UTF-8 at byte %zu", what, bad);
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!j) {
        size_t off = end ? (size_t)(end - json) : 0;
        return mn_bank_err(db, MNEMO_EJSON, "%s is not valid JSON (at byte %zu)", what, off);
    }
    /* Trailing non-space after the value is an error, not ignored. */
    while (end && (size_t)(end - json) < len &&
           (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
        end++;
    if (end && (size_t)(end - json) < len && *end) {
        size_t off = (size_t)(end - json);
        cJSON_Delete(j);
        return mn_bank_err(db, MNEMO_EJSON, "%s has trailing data at byte %zu", what, off);
    }
    if (!any_type && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return mn_bank_err(db, MNEMO_EINVAL, "%s must be a JSON object", what);
    }
    *out = j;
    return MNEMO_OK;
}

int mn_bank_prepare(mnemo *db, const char *sql, sqlite3_stmt **st) {
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return mn_bank_sqlerr(db, rc, "preparing a statement");
    }
    return MNEMO_OK;
}

int mn_bank_cached(mnemo *db, int slot, const char *sql, sqlite3_stmt **st) {
    if (db->cached[slot]) {
        sqlite3_reset(db->cached[slot]);
        sqlite3_clear_bindings(db->cached[slot]);
        *st = db->cached[slot];
        return MNEMO_OK;
    }
    int rc = mn_bank_prepare(db, sql, st);
    if (rc == MNEMO_OK) db->cached[slot] = *st;
    return rc;
}

int mn_bank_write(mnemo *db, sqlite3_stmt *st, const char *what) {
    int s = sqlite3_step(st);
    sqlite3_reset(st);
    return s == SQLITE_DONE ? MNEMO_OK : mn_bank_sqlerr(db, s, what);
}

int mn_bank_exec(mnemo *db, const char *sql) {
    int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? MNEMO_OK : mn_bank_sqlerr(db, rc, "writing the bank");
}

int mn_bank_begin(mnemo *db) {
    if (db->readonly) return mn_bank_err(db, MNEMO_EREADONLY, "bank is opened read-only");
    int rc = sqlite3_exec(db->sql, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    return rc == SQLITE_OK ? MNEMO_OK : mn_bank_sqlerr(db, rc, "starting a transaction");
}

int mn_bank_commit(mnemo *db) {
    int rc = sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);
    return rc == SQLITE_OK ? MNEMO_OK : mn_bank_sqlerr(db, rc, "committing");
}

void mn_bank_rollback(mnemo *db) {
    if (!sqlite3_get_autocommit(db->sql))
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
}

/* Reads the open options; unknown keys are errors, so typos do not pass. */
static int read_options(mnemo *db, const char *options_json, int *wal, int64_t *seed,
                        int *has_seed, int *fts5) {
    *wal = 1;
    *fts5 = 0;
    *has_seed = 0;
    snprintf(db->embed_model, sizeof db->embed_model, "%s", MN_EMBED_MODEL);
    db->embed_dim = MN_EMBED_DIM;
    db->builtin_embedder = 1;
    mn_budget_defaults(&db->llm);
    if (!options_json) return MNEMO_OK;
    cJSON *o;
    int rc = mn_bank_parse(db, options_json, strlen(options_json), "open options", 0, &o);
    if (rc) return rc;
    for (cJSON *it = o->child; it; it = it->next) {
        const char *k = it->string;
        if (!strcmp(k, "seed")) {
            if (!cJSON_IsNumber(it)) { rc = mn_bank_err(db, MNEMO_EINVAL, "option 'seed' must be a number"); break; }
            *seed = (int64_t)it->valuedouble;
            *has_seed = 1;
        } else if (!strcmp(k, "journal")) {
            const char *v = cJSON_GetStringValue(it);
            if (v && !strcmp(v, "wal")) *wal = 1;
            else if (v && !strcmp(v, "delete")) *wal = 0;
            else { rc = mn_bank_err(db, MNEMO_EINVAL, "option 'journal' must be \"wal\" or \"delete\""); break; }
        } else if (!strcmp(k, "fts5")) {
            *fts5 = cJSON_IsTrue(it);
        } else if (!strcmp(k, "storage")) {
            const char *v = cJSON_GetStringValue(it);
            if (v && !strcmp(v, "pages")) db->pages = 1;
            else if (!v || strcmp(v, "file")) {
                rc = mn_bank_err(db, MNEMO_EINVAL, "option 'storage' must be \"file\" or \"pages\"");
                break;
            }
        } else if (!strcmp(k, "readonly")) {
            db->readonly = cJSON_IsTrue(it);
        } else if (!strcmp(k, "embedder")) {
            cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "model");
            cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "dim");
            const char *model = cJSON_GetStringValue(m);
            if (!cJSON_IsObject(it) || !model || !*model || strlen(model) >= sizeof db->embed_model) {
                rc = mn_bank_err(db, MNEMO_EINVAL, "option 'embedder' must be {\"model\": \"name\", \"dim\": n}");
                break;
            }
            if (strcmp(model, "builtin") && strcmp(model, MN_EMBED_MODEL)) {
                if (!cJSON_IsNumber(d) || d->valuedouble < 1 || d->valuedouble > 8192) {
                    rc = mn_bank_err(db, MNEMO_EINVAL, "embedder 'dim' must be between 1 and 8192");
                    break;
                }
                snprintf(db->embed_model, sizeof db->embed_model, "%s", model);
                db->embed_dim = (int)d->valuedouble;
                db->builtin_embedder = 0;
            }
        } else if (!strcmp(k, "llm")) {
            if ((rc = mn_budget_options(db, it))) break;
        } else {
            rc = mn_bank_err(db, MNEMO_EINVAL, "unknown open option '%s'", k);
            break;
        }
    }
    cJSON_Delete(o);
    return rc;
}

int mnemo_open(const char *path, const char *options_json, const mnemo_host *host,
               mnemo **out) {
    if (!out) return MNEMO_EINVAL;
    *out = NULL;
    mnemo *db = mn_malloc(sizeof *db);
    if (!db) return MNEMO_ENOMEM;
    memset(db, 0, sizeof *db);
    mn_sb_init(&db->err);
    *out = db;
    if (host) {
        if (host->version < 1)
            return db->failed_open = 1,
                   mn_bank_err(db, MNEMO_EINVAL, "host version must be 1, got %d", host->version);
        db->host = *host;
    }
    if (!db->host.now_ms) db->host.now_ms = default_now;
    db->host.version = 1;

    int wal, has_seed, fts5, rc;
    int64_t seed = 0;
    if (!path || !*path) {
        rc = mn_bank_err(db, MNEMO_EINVAL, "bank path is empty");
        goto fail;
    }
    if ((rc = read_options(db, options_json, &wal, &seed, &has_seed, &fts5))) goto fail;
    db->rng = has_seed ? (uint64_t)seed : (uint64_t)mn_bank_now(db) ^ (uint64_t)(uintptr_t)db;
    db->seeded = has_seed;

    int flags = db->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (db->pages) {
        if (mn_pages_register() != SQLITE_OK) {
            rc = mn_bank_err(db, MNEMO_ENOMEM, "cannot register the page store");
            goto fail;
        }
        if (mn_pages_is_open(path)) {
            rc = mn_bank_err(db, MNEMO_EBUSY, "page bank '%s' is already open", path);
            goto fail;
        }
    }
    int src = sqlite3_open_v2(path, &db->sql, flags | SQLITE_OPEN_NOMUTEX,
                              db->pages ? MN_PAGES_VFS : NULL);
    if (src != SQLITE_OK) {
        rc = mn_bank_sqlerr(db, src, "opening the bank file");
        goto fail;
    }
    sqlite3_extended_result_codes(db->sql, 1);
    sqlite3_busy_timeout(db->sql, 5000);
    /* A page bank's journal stays in memory: the host's atomic save of the
    ** changed pages is the commit that survives a crash. */
    if (db->pages && (src = sqlite3_exec(db->sql, "PRAGMA journal_mode=MEMORY; PRAGMA temp_store=MEMORY",
                                         NULL, NULL, NULL)) != SQLITE_OK) {
        rc = mn_bank_sqlerr(db, src, "setting up the page bank");
        goto fail;
    }
    if ((rc = mn_schema_migrate(db))) goto fail;
    if ((rc = mn_schema_fts5(db, fts5 && !db->readonly))) goto fail;
    if (!db->readonly && !db->pages && strcmp(path, ":memory:")) {
        /* WAL: readers never block the writer (two tabs, a CLI beside an app).
        ** A host whose VFS cannot share memory falls back to a rollback journal. */
        if (wal && sqlite3_exec(db->sql, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK)
            sqlite3_exec(db->sql, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
        if (!wal) sqlite3_exec(db->sql, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    }
    return MNEMO_OK;
fail:
    db->failed_open = 1;
    if (db->sql) {
        sqlite3_close_v2(db->sql);
        db->sql = NULL;
    }
    return rc;
}

int mnemo_close(mnemo *db) {
    if (!db) return MNEMO_OK;
    while (db->jobs) mnemo_job_free(db->jobs);
    mn_index_free(db->index);
    for (int i = 0; i < MN_STMT_MAX; i++) sqlite3_finalize(db->cached[i]);
    if (db->sql) sqlite3_close_v2(db->sql);
    mn_sb_free(&db->err);
    mn_free(db);
    return MNEMO_OK;
}
