/*
** os_wasm.c: SQLite's operating-system layer for the wasm build
** (SQLITE_OS_OTHER). The browser has no file system, and SQLite's unix layer
** on emscripten's syscall stubs spins forever (robust_open retries while the
** stubbed open() returns fd 0). So the default VFS here opens no files at
** all: ':memory:' banks and the in-memory temp store need none, and page
** banks use core/pages.c's VFS, which asks this one only for randomness and
** the time. Without the unix layer and emscripten's FS the package is also
** smaller.
*/
/* getentropy() is declared outside strict C11. */
#define _DEFAULT_SOURCE 1
#include "sqlite3.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

static int w_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out) {
    (void)vfs; (void)name; (void)flags; (void)out;
    f->pMethods = NULL;
    return SQLITE_CANTOPEN;
}

static int w_delete(sqlite3_vfs *vfs, const char *name, int sync) {
    (void)vfs; (void)name; (void)sync;
    return SQLITE_IOERR_DELETE_NOENT;
}

static int w_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs; (void)name; (void)flags;
    *out = 0;
    return SQLITE_OK;
}

static int w_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
    (void)vfs;
    sqlite3_snprintf(n, out, "%s", name);
    return SQLITE_OK;
}

/* crypto.getRandomValues through emscripten's getentropy (256 bytes a call). */
static int w_randomness(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    for (int i = 0; i < n; i += 256) {
        size_t k = (size_t)(n - i < 256 ? n - i : 256);
        if (getentropy(out + i, k) != 0) memset(out + i, 0, k);
    }
    return n;
}

static int w_sleep(sqlite3_vfs *vfs, int us) {
    (void)vfs;
    return us; /* nothing to wait for: one thread, no other process */
}

static int w_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    struct timespec ts;
    if (timespec_get(&ts, TIME_UTC) != TIME_UTC) return SQLITE_ERROR;
    /* Julian day number in milliseconds, as SQLite wants it. */
    *out = (sqlite3_int64)210866760000000LL + (sqlite3_int64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return SQLITE_OK;
}

static int w_current_time(sqlite3_vfs *vfs, double *out) {
    sqlite3_int64 ms = 0;
    int rc = w_current_time_int64(vfs, &ms);
    *out = (double)ms / 86400000.0;
    return rc;
}

static int w_last_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs; (void)n; (void)out;
    return 0;
}

static sqlite3_vfs wasm_vfs = {
    /* szOsFile: the pager reads pMethods even of a file it never opened. */
    2, (int)sizeof(sqlite3_file), 512, NULL, "mnemo-wasm", NULL,
    w_open, w_delete, w_access, w_full_pathname,
    NULL, NULL, NULL, NULL,
    w_randomness, w_sleep, w_current_time, w_last_error,
    w_current_time_int64, NULL, NULL, NULL,
};

int sqlite3_os_init(void) { return sqlite3_vfs_register(&wasm_vfs, 1); }

int sqlite3_os_end(void) { return SQLITE_OK; }
