/*
** wasi_lstat.c: lstat() for SQLite's unix layer in the WASI command.
**
** Before opening a bank, SQLite resolves symbolic links in its path by
** calling lstat() on every prefix: "/", "/data", "/data/alice.db". Under WASI
** only the granted directories exist; lstat() on an ancestor the runtime did
** not grant ("/data" when only "/data/alice" is granted) fails with
** ENOTCAPABLE, and SQLite gives up on a path it could perfectly open. The
** build compiles SQLite with -Dlstat=mnemo__wasi_lstat, which reports such an
** ancestor as absent (ENOENT): SQLite then keeps the name as written, and the
** runtime still decides, at open, what may be touched. Nothing is granted
** that was not: this only stops a path check from failing early.
*/
#include <errno.h>
#include <sys/stat.h>

int mnemo__wasi_lstat(const char *path, struct stat *st);

int mnemo__wasi_lstat(const char *path, struct stat *st)
{
    int rc = lstat(path, st);
    if (rc != 0 && errno == ENOTCAPABLE)
        errno = ENOENT;
    return rc;
}
