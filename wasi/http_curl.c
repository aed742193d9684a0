/*
** http_curl.c: http.h with libcurl's easy API (native builds only).
**
** One easy handle per call, reused across its retries so a kept-alive
** connection is reused too. The bearer token only ever goes into a request
** header list; it is never written to a message, and curl's own error text
** (CURLOPT_ERRORBUFFER) names the URL and the failure, never headers.
*/
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"

void http_opts_default(http_opts *o)
{
    o->connect_timeout_ms = 10000;
    o->timeout_ms = 60000;
    o->max_retries = 3;
    o->backoff_ms = 500;
    o->backoff_max_ms = 8000;
    o->bearer = NULL;
}

int http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void http_global_cleanup(void)
{
    curl_global_cleanup();
}

void http_response_free(http_response *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

/* ---- response body ---------------------------------------------------- */

typedef struct sink {
    char *buf;
    size_t len, cap;
    int too_big, nomem;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    sink *s = ctx;
    size_t add = size * n;
    if (add > HTTP_MAX_RESPONSE_BYTES - s->len) {
        s->too_big = 1;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    if (s->len + add + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 16384;
        while (cap < s->len + add + 1)
            cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb) {
            s->nomem = 1;
            return 0;
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, add);
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

/* ---- waiting ---------------------------------------------------------- */

/* Jitter only: a weak generator is enough, seeded so two processes that
** failed together do not retry together. */
static uint64_t jitter_state;

static uint64_t jitter_next(void)
{
    if (!jitter_state) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        jitter_state = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec
                     ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15u;
    }
    uint64_t z = (jitter_state += 0x9E3779B97F4A7C15u); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The wait before retry number `retry` (1-based): backoff * 2^(retry-1),
** capped, then drawn uniformly from [d/2, d] ("equal jitter": never zero, so
** a crowd of clients still spreads out but none hammers the server). */
static long backoff_wait(const http_opts *o, int retry)
{
    long d = o->backoff_ms > 0 ? o->backoff_ms : 0;
    for (int i = 1; i < retry && d < o->backoff_max_ms; i++)
        d *= 2;
    if (d > o->backoff_max_ms)
        d = o->backoff_max_ms;
    if (d < 2)
        return d;
    return d / 2 + (long)(jitter_next() % (uint64_t)(d - d / 2 + 1));
}

/* ---- one call --------------------------------------------------------- */

static int retryable_status(long st)
{
    return st == 408 || st == 429 || (st >= 500 && st <= 599);
}

/* Failures worth another attempt: the network or the server, not our request. */
static int retryable_curl(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

static void set_error(http_response *r, const char *url, const char *what)
{
    snprintf(r->error, sizeof r->error, "POST %s: %s", url, what);
}

static long clamp(long v, long lo, long hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int http_post_json(const char *url, const char *body, size_t len, const http_opts *o,
                   http_response *out)
{
    memset(out, 0, sizeof *out);
    http_opts def;
    if (!o) {
        http_opts_default(&def);
        o = &def;
    }
    int max_retries = (int)clamp(o->max_retries, 0, HTTP_MAX_RETRIES);
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL, *more;
    char *auth = NULL;
    if (!h) {
        set_error(out, url, "cannot start libcurl");
        return -1;
    }
    hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    more = hdrs ? curl_slist_append(hdrs, "Accept: application/json") : NULL;
    /* Without this curl sends "Expect: 100-continue" for bodies over 1 MB
    ** and waits a second for servers that never answer it. */
    more = more ? curl_slist_append(more, "Expect:") : NULL;
    if (more && o->bearer && *o->bearer) {
        size_t n = strlen(o->bearer) + sizeof "Authorization: Bearer ";
        auth = malloc(n);
        if (auth)
            snprintf(auth, n, "Authorization: Bearer %s", o->bearer);
        more = auth ? curl_slist_append(more, auth) : NULL;
    }
    if (!more) {
        set_error(out, url, "out of memory");
        goto fail;
    }
    hdrs = more;

    char errbuf[CURL_ERROR_SIZE];
    sink s = {NULL, 0, 0, 0, 0};
    curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string form; the bitmask one is deprecated */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    /* CURLOPT_NOSIGNAL stays off: curl then ignores SIGPIPE while it works
    ** (a TLS write to a closed connection would otherwise kill the CLI) and
    ** restores it after, so `mnemo export | head` behaves as before. */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, clamp(o->connect_timeout_ms, 1, 86400000L));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, clamp(o->timeout_ms, 1, 86400000L));
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* whatever curl can decode */
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mnemo-cli");

    for (int attempt = 0;; attempt++) {
        s.len = 0;
        if (s.buf)
            s.buf[0] = '\0';
        errbuf[0] = '\0';
        CURLcode c = curl_easy_perform(h);
        out->attempts = attempt + 1;
        long wait = -1; /* -1: do not retry */
        if (c == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
            if (!retryable_status(out->status))
                break;
            snprintf(out->error, sizeof out->error, "POST %s: HTTP %ld", url, out->status);
            if (attempt >= max_retries)
                break;
            wait = backoff_wait(o, attempt + 1);
            curl_off_t ra = -1;
            if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0) {
                if (ra * 1000 > HTTP_MAX_RETRY_AFTER_MS) {
                    snprintf(out->error, sizeof out->error,
                             "POST %s: HTTP %ld, and the server asks to retry after %lld s "
                             "(more than %ld s)", url, out->status, (long long)ra,
                             HTTP_MAX_RETRY_AFTER_MS / 1000);
                    break;
                }
                wait = (long)ra * 1000;
            }
        } else {
            if (s.too_big)
                snprintf(out->error, sizeof out->error, "POST %s: response larger than %zu bytes",
                         url, HTTP_MAX_RESPONSE_BYTES);
            else if (s.nomem)
                set_error(out, url, "out of memory reading the response");
            else
                snprintf(out->error, sizeof out->error, "POST %s: %s", url,
                         errbuf[0] ? errbuf : curl_easy_strerror(c));
            out->status = 0;
            if (!retryable_curl(c) || attempt >= max_retries)
                goto fail_body;
            wait = backoff_wait(o, attempt + 1);
        }
        if (wait < 0)
            break;
        sleep_ms(wait);
    }
    if (!s.buf && !(s.buf = calloc(1, 1))) {
        set_error(out, url, "out of memory");
        goto fail;
    }
    if (!retryable_status(out->status))
        out->error[0] = '\0';
    out->body = s.buf;
    out->len = s.len;
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    return 0;

fail_body:
    free(s.buf);
fail:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    return -1;
}
