/*
** host_posix.c: the POSIX / WASI host of the mnemo CLI. Only what wasi-libc
** also provides: clock_gettime, getentropy, stdio, rename, fsync.
*/
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, fileno, fsync under -std=c11 */
#endif

#include "host_posix.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
/* The build puts -Icore first, and core/time.h then shadows the system's
** <time.h>. Included anyway: where it is the system header we use
** clock_gettime, otherwise gettimeofday from <sys/time.h>. */
#include <time.h>
#if defined(CLOCK_REALTIME) && !defined(MN_TIME_H)
#define HP_CLOCK_GETTIME 1
#endif

/* getentropy lives in <sys/random.h> on glibc >= 2.25, musl, wasi-libc and
** macOS. A libc without it builds with -DHP_NO_GETENTROPY and reads
** /dev/urandom instead. */
#ifndef HP_NO_GETENTROPY
#include <sys/types.h>
#include <sys/random.h>
#endif

static int64_t hp_now_ms(void *ctx)
{
    (void)ctx;
#ifdef HP_CLOCK_GETTIME
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
    struct timeval tv;
    if (gettimeofday(&tv, NULL) != 0)
        return 0; /* gettimeofday cannot fail with a valid pointer */
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int hp_entropy(void *buf, size_t n)
{
#ifndef HP_NO_GETENTROPY
    if (getentropy(buf, n) == 0)
        return 0;
#endif
    /* No getentropy (or it failed: an old kernel, a sandbox): the device. */
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f)
        return -1;
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    return got == n ? 0 : -1;
}

/* Last resort when the system source vanished after the probe in
** hp_host_init: ids must still differ, not be secret. splitmix64. */
static uint64_t hp_fallback_state;

static uint64_t hp_random(void *ctx)
{
    uint64_t v;
    (void)ctx;
    if (hp_entropy(&v, sizeof v) == 0)
        return v;
    if (hp_fallback_state == 0)
        hp_fallback_state = (uint64_t)hp_now_ms(NULL) ^ (uint64_t)(uintptr_t)&v;
    uint64_t z = (hp_fallback_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void hp_host_init(mnemo_host *host, int with_random)
{
    memset(host, 0, sizeof *host);
    host->version = 1;
    host->now_ms = hp_now_ms;
    if (with_random) {
        /* Probe once: with no system source at all the core's generator
        ** (seeded from the clock) is as good as our fallback. */
        uint64_t probe;
        if (hp_entropy(&probe, sizeof probe) == 0)
            host->random = hp_random;
    }
}

int hp_read_all(const char *path, size_t limit, char **out, size_t *len)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int err = 0;

    *out = NULL;
    *len = 0;
    if (!f)
        return -1;
    for (;;) {
        if (n + 1 >= cap) {
            /* Grow geometrically, but never past limit + 2: one byte over the
            ** limit (plus the NUL) is enough to know the input is too large. */
            size_t ncap = cap ? cap * 2 : (size_t)1 << 20;
            if (ncap > limit + 2)
                ncap = limit + 2;
            char *p = realloc(buf, ncap);
            if (!p) {
                err = ENOMEM;
                break;
            }
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (n > limit) {
            err = EFBIG;
            break;
        }
        if (got == 0) {
            if (ferror(f))
                err = errno ? errno : EIO;
            break;
        }
    }
    if (!is_stdin)
        fclose(f);
    if (err) {
        free(buf);
        errno = err;
        return -1;
    }
    if (!buf) { /* empty input */
        buf = malloc(1);
        if (!buf) {
            errno = ENOMEM;
            return -1;
        }
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int hp_atomic_open(hp_atomic *a, const char *path)
{
    size_t n = strlen(path);
    memset(a, 0, sizeof *a);
    a->path = malloc(n + 1);
    a->tmp = malloc(n + 5);
    if (!a->path || !a->tmp) {
        hp_atomic_abort(a);
        errno = ENOMEM;
        return -1;
    }
    memcpy(a->path, path, n + 1);
    memcpy(a->tmp, path, n);
    memcpy(a->tmp + n, ".tmp", 5);
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        int e = errno;
        hp_atomic_abort(a);
        errno = e;
        return -1;
    }
    return 0;
}

int hp_atomic_commit(hp_atomic *a)
{
    int e = 0;
    if (fflush(a->f) != 0)
        e = errno;
    /* Sync before the rename, or a crash could leave the new name on an
    ** empty file. Some hosts (WASI sandboxes) refuse fsync: not fatal. */
    else if (fsync(fileno(a->f)) != 0 && errno != EINVAL && errno != ENOTSUP)
        e = errno;
    if (fclose(a->f) != 0 && !e)
        e = errno;
    a->f = NULL;
    if (!e && rename(a->tmp, a->path) != 0)
        e = errno;
    hp_atomic_abort(a); /* removes the tmp file if it is still there */
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}

void hp_atomic_abort(hp_atomic *a)
{
    if (a->f) {
        fclose(a->f);
        a->f = NULL;
    }
    if (a->tmp)
        remove(a->tmp); /* after a successful rename: ENOENT, harmless */
    free(a->tmp);
    free(a->path);
    a->tmp = NULL;
    a->path = NULL;
}
