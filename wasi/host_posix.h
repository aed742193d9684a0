/*
** host_posix.h: the host Mnemo needs (clock, randomness) and the plain file
** handling the CLI needs, on POSIX and on WASI (wasi-libc). Nothing here uses
** processes, signals or terminals, so the same file builds for both.
*/
#ifndef MNEMO_HOST_POSIX_H
#define MNEMO_HOST_POSIX_H

#include <stddef.h>
#include <stdio.h>

#include "mnemo.h"

/* Fills *host with the POSIX clock and, when `with_random` is non-zero and the
** system has a source, the system's randomness. Without `with_random` (or
** without a source) `random` stays NULL, so the core uses its own generator,
** seeded from the "seed" open option: that is what makes --seed deterministic. */
void hp_host_init(mnemo_host *host, int with_random);

/* Reads all of `path` ("-" is stdin) into a NUL-terminated buffer (released
** with free()). Returns 0, or -1 with errno set; EFBIG when the content
** exceeds `limit` bytes (nothing is kept then). */
int hp_read_all(const char *path, size_t limit, char **out, size_t *len);

/* A file written under a temporary name and renamed into place on commit, so
** a reader never sees a half-written file and a failed run leaves the old one. */
typedef struct hp_atomic {
    FILE *f;
    char *path;     /* final name */
    char *tmp;      /* path + ".tmp" */
} hp_atomic;

/* Returns 0, or -1 with errno set. */
int hp_atomic_open(hp_atomic *a, const char *path);
/* Flushes, syncs, closes and renames. Returns 0, or -1 with errno set (the
** temporary file is removed then). Always releases `a`. */
int hp_atomic_commit(hp_atomic *a);
/* Closes and removes the temporary file; releases `a`. Safe after a failed
** open or a commit. */
void hp_atomic_abort(hp_atomic *a);

#endif
