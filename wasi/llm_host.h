/*
** llm_host.h: carries out a job's requests against OpenAI-compatible
** endpoints (OpenAI, Ollama, LM Studio, llama.cpp server, vLLM, ...).
** Native CLI only; the WASI build has no HTTP client and never includes it.
**
** A job's request is {"type": "chat"|"embeddings", "body": {...}}. The body
** goes, with "model" set to the configured one, to {base}/chat/completions or
** {base}/embeddings. The answer goes back as mnemo.h's JOBS section says:
**   2xx                      mnemo_job_resume(body)
**   other 4xx, JSON body     mnemo_job_resume(body): an error body the core
**                            reacts to (say, a server that rejects
**                            response_format: it retries without it)
**   other 4xx, no JSON       mnemo_job_fail(MNEMO_EINVAL): the same, said so
**   401, 403, 407            mnemo_job_fail(MNEMO_EHOST): the key is refused
**   no endpoint configured, no connection, timeouts, 408/429/5xx after the
**   retries, 3xx             mnemo_job_fail(MNEMO_EHOST)
** On MNEMO_EHOST the core falls back at once (built-in extractor or
** embedder, pending queue). A key the server echoes is overwritten with '*'
** in whatever is fed back or said.
*/
#ifndef MNEMO_LLM_HOST_H
#define MNEMO_LLM_HOST_H

#include <stddef.h>

#include "http.h"
#include "mnemo.h"

typedef struct llm_endpoint {
    const char *base;   /* "http://127.0.0.1:11434/v1"; NULL: not configured */
    const char *model;  /* required when base is set */
    const char *key;    /* bearer token, from the environment only; may be NULL */
} llm_endpoint;

typedef struct llm_host {
    llm_endpoint chat, embed;
    http_opts http;     /* bearer is set per request from the endpoint */
    int requests;       /* HTTP requests sent so far, retries included */
} llm_host;

/* Drives `job` until it is no longer pending. Never fails itself: whatever
** goes wrong is reported to the job, whose status and message say it. */
void llm_host_run(llm_host *h, mnemo_job *job);

/* Asks the embeddings endpoint for one vector and returns its length in
** *dim: what the bank's host embedder needs to know. Returns 0, or -1 with
** `err` (never containing the key) saying why. */
int llm_host_embed_dim(llm_host *h, int *dim, char *err, size_t errlen);

#endif
