/*
** token.h: the one tokenizer of Mnemo, shared by the lexical index, the
** built-in embedder and query analysis, so that all agree on what a word is.
** Words are maximal runs of letters and digits (ASCII alnum, and every byte of
** a UTF-8 multi-byte sequence, so non-Latin scripts stay searchable), ASCII
** is lower-cased, and English words get a light suffix stemmer ("preferences"
** -> "prefer", "running" -> "run", "cities" -> "citi") that must be cheap:
** it runs on every ingested word.
*/
#ifndef MN_TOKEN_H
#define MN_TOKEN_H

#include "common.h"

#define MN_TOKEN_MAX 32 /* longer words are cut: they are ids or noise */

enum {
    MN_TOK_STOP = 1,        /* a stop word ("the", "i", "what", ...) */
    MN_TOK_CAPITALIZED = 2, /* began with an upper-case letter in the text */
    MN_TOK_SENTENCE_START = 4, /* first word of a sentence */
    MN_TOK_NUMBER = 8,      /* all digits */
};

/* Called for each word: `term` is the normalised, stemmed form (len bytes,
** not NUL-terminated, valid only during the call), `pos` its word index. */
typedef void (*mn_token_fn)(void *ctx, const char *term, size_t len,
                            uint32_t pos, int flags);

/* Tokenizes len bytes of text; calls fn for every word, stop words included
** (flagged MN_TOK_STOP). Returns the number of words. */
MN_FUNC uint32_t mn_token_each(const char *text, size_t len, mn_token_fn fn,
                               void *ctx);

/* 1 if the normalised term is a stop word. */
MN_FUNC int mn_token_is_stop(const char *term, size_t len);

/* 64-bit hash of a term (FNV-1a style), shared by the index and embedder. */
MN_FUNC uint64_t mn_token_hash(const char *s, size_t len);

#endif
