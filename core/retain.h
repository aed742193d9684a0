/*
** retain.h: the retain input as read and checked, shared by the manual
** path (retain.c), LLM extraction (extract.c) and the pending queue, which
** reads a queued input again exactly as retain first did.
*/
#ifndef MN_RETAIN_H
#define MN_RETAIN_H

#include "job.h"
#include "memory.h"

typedef struct mn_retain_item {
    mn_memory m;
    char *metadata_owned;  /* printed metadata, when merged or re-serialised */
    char *topics_owned, *tags_owned;
    const char *role;      /* a message's role; NULL for plain text */
    int skip;              /* its document is unchanged */
} mn_retain_item;

typedef struct mn_retain_in {
    cJSON *input;          /* first: see mn_job_begin */
    mn_retain_item *items;
    int n, cap;
    const char **texts;    /* the texts to embed (not skipped), for vectors.c */
    size_t *lens;
    int *which;            /* texts[k] belongs to items[which[k]] */
    int nembed;
    int infer;             /* "infer": true somewhere in the input */
    int no_echo;           /* "echo": false: "added" without the texts */
    cJSON *merged;         /* merged metadata objects, kept for the items' life */
    char *metadata;        /* the input's own metadata, printed; NULL if none */
    const char *source;    /* the input's own "source", or NULL */
    const char *topics;    /* the input's own "topics" (JSON text), or NULL */
    const char *tags;      /* the input's own "tags" (JSON text), or NULL */
    struct mn_extract *ex; /* LLM extraction under way (extract.c) */
} mn_retain_in;

/* Reads and checks s->input (already parsed) into items; with `upsert`,
** marks the items of documents whose stored version is identical (skip)
** and lists the rest in texts/lens/which. MNEMO_OK or a code (message set). */
MN_FUNC int mn_retain_read(mnemo *db, mn_retain_in *s, int upsert);

/* Frees what s holds (not s itself). */
MN_FUNC void mn_retain_clear(mn_retain_in *s);

/* 1 if item i is the first of its document: documents are handled once. */
MN_FUNC int mn_retain_first_of_document(const mn_retain_in *s, int i);

/* Deletes every memory of a document's previous version (and its queued
** inputs), appending their ids to removed. Inside the caller's transaction. */
MN_FUNC int mn_retain_replace_document(mnemo *db, const char *doc, mn_sb *removed, int *nremoved);

/* Records the new version of each changed document of s. */
MN_FUNC int mn_retain_record_documents(mnemo *db, const mn_retain_in *s, int64_t now);

#endif
