/*
** host_wasi.c: what the reactor module needs of its runtime, with nothing but
** WASI preview1 clock_time_get and random_get underneath (through wasi-libc).
**
** The reactor has no file system: SQLite is built with SQLITE_OS_OTHER, so
** its Unix layer (and every path_open/fd_* import it would pull in) is gone.
** SQLite then asks the application for sqlite3_os_init(); the one below
** registers a default VFS that opens no files at all and only supplies
** randomness and time. Page banks ("storage": "pages") run on the core's own
** in-memory VFS, which borrows these two from the default one. Opening a bank
** by file name therefore fails cleanly (SQLITE_CANTOPEN -> MNEMO_EIO) instead
** of reaching a file system the host never granted.
*/
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>

#include "reactor.h"
#include "sqlite3.h"

/* ---- the Mnemo host table: clock and randomness ------------------------ */

static int64_t wasi_now_ms(void *ctx)
{
    struct timeval tv;
    (void)ctx;
    if (gettimeofday(&tv, NULL) != 0)
        return 0;
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static uint64_t wasi_random(void *ctx)
{
    uint64_t v = 0;
    (void)ctx;
    /* random_get cannot fail on any runtime we serve (it is crypto's
    ** getRandomValues in the edge shim); if it did, ids would still differ
    ** through the clock mixed in by the caller's counter. */
    if (getentropy(&v, sizeof v) != 0)
        v = (uint64_t)wasi_now_ms(NULL) * 0x9E3779B97F4A7C15ull;
    return v;
}

static const mnemo_host wasi_host = {1, NULL, wasi_now_ms, wasi_random};

const mnemo_host *mnemo__wasm_host(void)
{
    return &wasi_host;
}

/* ---- SQLite's OS layer: no files -------------------------------------- */

static int nofs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs; (void)name; (void)flags; (void)out;
    f->pMethods = NULL; /* tells SQLite there is nothing to close */
    return SQLITE_CANTOPEN;
}

static int nofs_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
    (void)vfs; (void)name; (void)sync;
    return SQLITE_IOERR_DELETE;
}

static int nofs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs; (void)name; (void)flags;
    *out = 0;
    return SQLITE_OK;
}

static int nofs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    sqlite3_snprintf(n, out, "%s", name);
    return SQLITE_OK;
}

static int nofs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    /* getentropy takes at most 256 bytes per call. */
    for (int done = 0; done < n;) {
        int k = n - done > 256 ? 256 : n - done;
        if (getentropy(out + done, (size_t)k) != 0) {
            memset(out + done, 0, (size_t)(n - done));
            break;
        }
        done += k;
    }
    return n;
}

static int nofs_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return us; /* one thread, no other writer to wait for */
}

static int nofs_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    /* Julian day in milliseconds: the Unix epoch is day 2440587.5. */
    *out = (sqlite3_int64)210866760000000LL + wasi_now_ms(NULL);
    return SQLITE_OK;
}

static int nofs_current_time(sqlite3_vfs *vfs, double *out)
{
    sqlite3_int64 ms;
    nofs_current_time_int64(vfs, &ms);
    *out = (double)ms / 86400000.0;
    return SQLITE_OK;
}

static int nofs_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs; (void)n; (void)out;
    return 0;
}

static sqlite3_vfs nofs_vfs = {
    2, 0, 512, NULL, "mnemo-nofs", NULL,
    nofs_open, nofs_delete, nofs_access, nofs_full_pathname,
    NULL, NULL, NULL, NULL, /* no dynamic loading */
    nofs_randomness, nofs_sleep, nofs_current_time, nofs_last_error,
    nofs_current_time_int64, NULL, NULL, NULL,
};

/* Called by sqlite3_initialize() in an SQLITE_OS_OTHER build. */
int sqlite3_os_init(void)
{
    return sqlite3_vfs_register(&nofs_vfs, 1);
}

int sqlite3_os_end(void)
{
    return SQLITE_OK;
}
