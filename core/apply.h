/*
** apply.h: inside an extraction: what extract.c decided and apply.c writes.
** Internal to those two files.
*/
#ifndef MN_APPLY_H
#define MN_APPLY_H

#include "extract.h"
#include "llmjson.h"
#include "prompt.h"

enum { MODE_LLM, MODE_HEURISTIC };
enum { W_RAW, W_ADD, W_UPDATE, W_SUPERSEDE };

typedef struct cand {
    int64_t rowid;
    char id[37];
    char *text;
    size_t len;
    char *kind;
    int64_t when;
    int touched;          /* an UPDATE, SUPERSEDE or DELETE decided on it */
} cand;

typedef struct wr {
    int type;
    const mn_fact *f;
    int cand;             /* UPDATE, SUPERSEDE */
    int item;             /* RAW */
    int vec;              /* its row in texts, or -1 */
    char *topics;         /* printed JSON array (facts) */
    int64_t when;
} wr;

struct mn_extract {
    mn_retain_in *in;
    int64_t pending_id;   /* re-extracting this queued input; 0 for a retain */
    mn_extract_done done; /* NULL for a retain */
    int64_t now;          /* the message time */
    const char *doc;      /* the document extracted memories belong to */
    mn_prompt_turn *turns;
    int nturns;
    int *raw;             /* per item: store as given (not seen whole, or fallback) */
    cand *cands;
    mn_prompt_cand *pcands;
    int ncands, nshown;
    int attempt, schema;
    int est;              /* estimated prompt tokens of the request out */
    mn_usage usage;
    char *retry_error;
    mn_answer ans;
    int mode;
    mn_sb why;            /* why the model's answer was not used */
    wr *w;
    int nw;
    int *dels;
    int ndels;
    mn_sb warnings;
    const char **texts;
    size_t *lens;
    int ntexts;
};

/* Appends a note to the result's "warnings" (a JSON array's content). */
MN_FUNC void mn_extract_note(mn_extract *ex, const char *msg);

/* Writes the planned decisions in one transaction (vecs: one vector per
** planned text, or NULL; vectors_missing: the host could not give them) and
** the whole result into out. MNEMO_OK, or a code with nothing written. */
MN_FUNC int mn_apply(mnemo *db, mn_extract *ex, const float *vecs, int vectors_missing, mn_sb *out);

#endif
