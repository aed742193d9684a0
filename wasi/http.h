/*
** http.h: the native CLI's HTTP client, the one place that knows libcurl
** (http_curl.c). One call: POST a JSON body, with timeouts, bounded retries
** and a bearer token. Nothing else in the CLI includes curl, so cli.c still
** builds for WASI (-DMNEMO_NO_HTTP), where there are no sockets.
*/
#ifndef MNEMO_HTTP_H
#define MNEMO_HTTP_H

#include <stddef.h>

/* Bounds on what the caller may ask for; larger values are clamped. */
#define HTTP_MAX_RETRIES 10
/* A Retry-After beyond this is not waited for: the call fails at once and
** says what the server asked, rather than hanging a command for an hour. */
#define HTTP_MAX_RETRY_AFTER_MS 60000L
/* A response body beyond this is refused (a batch of 64 embeddings of 3,072
** dimensions is about 4 MB of JSON). */
#define HTTP_MAX_RESPONSE_BYTES ((size_t)64 << 20)

typedef struct http_opts {
    long connect_timeout_ms;   /* TCP + TLS handshake, per attempt */
    long timeout_ms;           /* the whole attempt, body included */
    int max_retries;           /* extra attempts after the first, 0..HTTP_MAX_RETRIES */
    long backoff_ms;           /* first wait; doubles per retry, full jitter in [d/2, d] */
    long backoff_max_ms;       /* cap on one computed wait (Retry-After has its own) */
    const char *bearer;        /* "Authorization: Bearer ..." when non-NULL and non-empty */
} http_opts;

/* Defaults: connect 10 s, total 60 s, 3 retries, backoff 500 ms up to 8 s, no bearer. */
void http_opts_default(http_opts *o);

typedef struct http_response {
    long status;        /* the final HTTP status; 0 if no response arrived */
    char *body;         /* NUL-terminated (malloc), possibly empty; NULL only on failure */
    size_t len;
    int attempts;       /* requests sent, retries included */
    char error[512];    /* why the call failed (never contains the bearer) */
} http_response;

/* Once per process, before any request (curl_global_init). Returns 0 or -1. */
int http_global_init(void);
void http_global_cleanup(void);

/*
** POSTs `body` (`len` bytes, Content-Type: application/json) to `url`.
** Retries, with exponential backoff and jitter, on connection failures,
** timeouts, HTTP 408, 429 and 5xx; a Retry-After header (seconds or a date)
** sets the wait instead, up to HTTP_MAX_RETRY_AFTER_MS. Redirects are not
** followed; only http and https are allowed.
**
** Returns 0 when a final response arrived (any status: the caller judges it;
** a retried status that persisted is returned with its last body), with
** out->status and out->body set. Returns -1 when no usable response arrived
** (connection refused, timeout, response too large, out of memory, bad URL),
** with out->error saying why; out->status may then hold the last 429/5xx.
** out is always initialised and is released with http_response_free().
*/
int http_post_json(const char *url, const char *body, size_t len, const http_opts *o,
                   http_response *out);

void http_response_free(http_response *r);

#endif
