/*
** index.c: the in-memory recall index (contract in index.h).
**
** Layout. Documents live in dense slots (rowid -> slot by an open-addressing
** table); a slot is never reused until compaction renumbers them, so postings
** can stay append-only and sorted by slot. Per slot: rowid, length in content
** words (MN_DEAD once removed), how many distinct terms it has, an int8 vector
** with its scale, and a print: a hash of what the document was put from (its
** text and its vector), so that a snapshot of an older state of the bank can
** be brought up to date by putting again only the documents whose print
** changed.
** Terms: an open-addressing table over term bytes kept in one arena; each term
** owns a postings array of (slot, tf). Stop words are not indexed.
**
** Document frequencies. A removal does not know its document's terms (the
** index keeps no forward lists: they would cost as much memory as the
** postings, about 18 MB per 100k memories, for the rare removal). Instead a
** removal moves a generation, and a term's frequency is counted again from
** its postings, skipping dead slots, the first time a query needs it after
** that: a walk the query makes anyway to score the term.
**
** Failure. mn_index_put first reserves every byte it may need (new terms,
** postings room, slot room), and only then commits with no allocation left to
** fail. A failure midway leaves at most unused capacity and empty dictionary
** entries, which change no answer.
**
** Queries reuse scratch arrays sized to the slot capacity (a float
** accumulator, a touched list, an allow stamp), so they allocate nothing;
** this is why they take a non-const index, and why one index serves one
** thread at a time (as a bank handle does).
*/
#include <math.h>
#include <string.h>

#include "embed.h"
#include "index.h"
#include "token.h"

#define MN_DEAD UINT32_MAX
#define MN_QTERMS 64 /* distinct query words used; the rest are ignored */

/* A posting is one word: the slot in its high 24 bits, the term frequency
** (clamped to 255, where BM25 saturated long before) in its low 8. Half the
** size of a struct, and postings are most of the index. */
typedef uint32_t posting;
#define MAX_SLOTS (1u << 24)
#define POSTING(slot, tf) ((uint32_t)(slot) << 8 | (uint32_t)((tf) < 255 ? (tf) : 255))
#define P_SLOT(p) ((p) >> 8)
#define P_TF(p) ((p) & 255u)

typedef struct term {
    uint64_t hash;
    uint32_t off, len; /* bytes in the arena */
    posting *post;
    uint32_t n, cap;   /* postings, dead ones included until compaction */
    uint32_t df;       /* live documents, if df_gen is the index's kill_gen */
    uint32_t df_gen;
    uint32_t mark, tmp; /* per operation: seen in this doc/query, its index */
} term;

struct mn_index {
    int dim;
    /* slots */
    uint32_t nslots, cap, live, dead_slots;
    int64_t *rowid;
    uint32_t *len;      /* content words; MN_DEAD when removed */
    uint16_t *nterm;    /* distinct terms (its postings) */
    uint8_t *hasvec;
    uint64_t *print;
    float *vscale;
    int8_t *vec;        /* cap * dim */
    uint64_t total_len;
    uint32_t kill_gen;  /* removals so far (see term.df) */
    /* rowid -> slot + 1 (0 = empty), linear probing */
    uint32_t *map;
    uint32_t map_cap;
    /* terms */
    term *terms;
    uint32_t nterms, terms_cap;
    uint32_t *thash; /* term id + 1 */
    uint32_t thash_cap;
    char *arena;
    size_t arena_len, arena_cap;
    uint64_t npost, dead_post;
    uint32_t epoch; /* term.mark generation */
    /* scratch */
    float *acc;
    uint32_t *touched; /* also the slot remap during compaction */
    uint32_t *stamp, stamp_gen;
    uint32_t *dt;      /* the document being put: term ids ... */
    uint16_t *dtf;     /* ... and their counts */
    uint32_t ndt, dt_cap, dlen;
    int oom;
    mn_embed_ctx *emb; /* during a put that embeds: the embedder fed per word */
    int8_t *qvec;
};

static int grow(void *pp, size_t elem, size_t n) {
    void *p = mn_realloc(*(void **)pp, elem * n);
    if (!p) return -1;
    *(void **)pp = p;
    return 0;
}

static uint32_t mix(int64_t r) {
    uint64_t x = (uint64_t)r * 0x9E3779B97F4A7C15u;
    return (uint32_t)(x >> 32) ^ (uint32_t)x;
}

mn_index *mn_index_new(int dim) {
    if (dim < 0) return NULL;
    mn_index *ix = mn_malloc(sizeof *ix);
    if (!ix) return NULL;
    memset(ix, 0, sizeof *ix);
    ix->dim = dim;
    ix->qvec = mn_malloc((size_t)dim);
    if (!ix->qvec) {
        mn_free(ix);
        return NULL;
    }
    return ix;
}

void mn_index_free(mn_index *ix) {
    if (!ix) return;
    for (uint32_t t = 0; t < ix->nterms; t++) mn_free(ix->terms[t].post);
    void *ps[] = {ix->rowid, ix->len, ix->nterm, ix->hasvec,
                  ix->print, ix->vscale, ix->vec, ix->map, ix->terms, ix->thash,
                  ix->arena, ix->acc, ix->touched, ix->stamp, ix->dt, ix->dtf,
                  ix->qvec};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) mn_free(ps[i]);
    mn_free(ix);
}

size_t mn_index_count(const mn_index *ix) { return ix->live; }

size_t mn_index_bytes(const mn_index *ix) {
    size_t b = sizeof *ix + (size_t)ix->dim;
    b += (size_t)ix->cap * (sizeof(int64_t) + 3 * 4 + 2 + 1 + 8 + 4 + (size_t)ix->dim);
    b += (size_t)ix->map_cap * 4 + (size_t)ix->thash_cap * 4;
    b += (size_t)ix->terms_cap * sizeof(term) + ix->arena_cap;
    b += (size_t)ix->dt_cap * 6;
    for (uint32_t t = 0; t < ix->nterms; t++) b += ix->terms[t].cap * sizeof(posting);
    return b;
}

/* --- rowid map ----------------------------------------------------------- */

static uint32_t map_find(const mn_index *ix, int64_t rowid) {
    if (!ix->map_cap) return MN_DEAD;
    uint32_t mask = ix->map_cap - 1;
    for (uint32_t i = mix(rowid) & mask;; i = (i + 1) & mask) {
        uint32_t s = ix->map[i];
        if (!s) return MN_DEAD;
        if (ix->rowid[s - 1] == rowid) return s - 1;
    }
}

/* Points rowid at slot (inserting or overwriting); room is reserved. */
static void map_set(mn_index *ix, int64_t rowid, uint32_t slot) {
    uint32_t mask = ix->map_cap - 1;
    uint32_t i = mix(rowid) & mask;
    while (ix->map[i] && ix->rowid[ix->map[i] - 1] != rowid) i = (i + 1) & mask;
    ix->map[i] = slot + 1;
}

/* Deletes by backward shift, so probes never need tombstones. */
static void map_del(mn_index *ix, int64_t rowid) {
    uint32_t mask = ix->map_cap - 1;
    uint32_t i = mix(rowid) & mask;
    while (ix->map[i] && ix->rowid[ix->map[i] - 1] != rowid) i = (i + 1) & mask;
    if (!ix->map[i]) return;
    for (uint32_t j = (i + 1) & mask; ix->map[j]; j = (j + 1) & mask) {
        uint32_t home = mix(ix->rowid[ix->map[j] - 1]) & mask;
        /* Move j back into the hole at i unless its home lies in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            ix->map[i] = ix->map[j];
            i = j;
        }
    }
    ix->map[i] = 0;
}

static void map_rebuild(mn_index *ix) {
    memset(ix->map, 0, (size_t)ix->map_cap * sizeof *ix->map);
    for (uint32_t s = 0; s < ix->nslots; s++)
        if (ix->len[s] != MN_DEAD) map_set(ix, ix->rowid[s], s);
}

/* --- terms --------------------------------------------------------------- */

static uint32_t term_find(const mn_index *ix, const char *s, size_t n, uint64_t h,
                          uint32_t *at) {
    uint32_t mask = ix->thash_cap - 1, i = (uint32_t)(h ^ (h >> 32)) & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t t = ix->thash[i];
        if (!t) break;
        const term *e = &ix->terms[t - 1];
        if (e->hash == h && e->len == n && memcmp(ix->arena + e->off, s, n) == 0)
            return t - 1;
    }
    if (at) *at = i;
    return MN_DEAD;
}

static uint32_t term_lookup(const mn_index *ix, const char *s, size_t n) {
    if (!ix->thash_cap) return MN_DEAD;
    return term_find(ix, s, n, mn_token_hash(s, n), NULL);
}

/* The id of a term, created (with no postings) if new; MN_DEAD when out of
** memory. Each step leaves the dictionary consistent if the next fails. */
static uint32_t term_intern(mn_index *ix, const char *s, size_t n, uint64_t h) {
    if ((ix->nterms + 1) * 2 > ix->thash_cap) {
        uint32_t nc = ix->thash_cap ? ix->thash_cap * 2 : 1024;
        uint32_t *nt = mn_malloc((size_t)nc * sizeof *nt);
        if (!nt) return MN_DEAD;
        memset(nt, 0, (size_t)nc * sizeof *nt);
        for (uint32_t t = 0; t < ix->nterms; t++) {
            uint64_t th = ix->terms[t].hash;
            uint32_t i = (uint32_t)(th ^ (th >> 32)) & (nc - 1);
            while (nt[i]) i = (i + 1) & (nc - 1);
            nt[i] = t + 1;
        }
        mn_free(ix->thash);
        ix->thash = nt;
        ix->thash_cap = nc;
    }
    uint32_t at, id = term_find(ix, s, n, h, &at);
    if (id != MN_DEAD) return id;
    if (ix->nterms == ix->terms_cap) {
        uint32_t nc = ix->terms_cap ? ix->terms_cap * 2 : 512;
        if (grow(&ix->terms, sizeof(term), nc)) return MN_DEAD;
        ix->terms_cap = nc;
    }
    if (ix->arena_len + n > ix->arena_cap) {
        /* Loaded indexes start at their exact size: grow from any capacity. */
        size_t nc = ix->arena_cap > 8192 ? ix->arena_cap : 8192;
        while (nc < ix->arena_len + n) nc *= 2;
        if (grow(&ix->arena, 1, nc)) return MN_DEAD;
        ix->arena_cap = nc;
    }
    term *e = &ix->terms[ix->nterms];
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->off = (uint32_t)ix->arena_len;
    e->len = (uint32_t)n;
    memcpy(ix->arena + ix->arena_len, s, n);
    ix->arena_len += n;
    ix->thash[at] = ++ix->nterms;
    return ix->nterms - 1;
}

static uint32_t next_epoch(mn_index *ix) {
    if (++ix->epoch == 0) { /* wrapped: forget every old mark */
        for (uint32_t t = 0; t < ix->nterms; t++) ix->terms[t].mark = 0;
        ix->epoch = 1;
    }
    return ix->epoch;
}

/* --- put / remove -------------------------------------------------------- */

static void on_doc_word(void *ctx, const char *s, size_t n, uint32_t pos, int flags) {
    mn_index *ix = ctx;
    int stop = flags & MN_TOK_STOP;
    uint64_t h = stop ? 0 : mn_token_hash(s, n);
    if (ix->emb) mn_embed_add(ix->emb, s, n, h, flags);
    if (stop || ix->oom) return;
    uint32_t id = term_intern(ix, s, n, h);
    if (id == MN_DEAD) {
        ix->oom = 1;
        return;
    }
    ix->dlen++;
    term *e = &ix->terms[id];
    if (e->mark == ix->epoch) {
        if (ix->dtf[e->tmp] < UINT16_MAX) ix->dtf[e->tmp]++;
        return;
    }
    if (ix->ndt == ix->dt_cap) {
        uint32_t nc = ix->dt_cap ? ix->dt_cap * 2 : 256;
        if (grow(&ix->dt, 4, nc) || grow(&ix->dtf, 2, nc)) {
            ix->oom = 1;
            return;
        }
        ix->dt_cap = nc;
    }
    e->mark = ix->epoch;
    e->tmp = ix->ndt;
    ix->dt[ix->ndt] = id;
    ix->dtf[ix->ndt++] = 1;
}

/* Grows every per-slot array to nc slots. */
static int grow_slots(mn_index *ix, size_t nc) {
    /* Every array grows to nc before cap moves: a failure in the middle
    ** leaves some arrays larger than cap, which is harmless. */
    if (grow(&ix->rowid, sizeof(int64_t), nc) || grow(&ix->len, 4, nc) ||
        grow(&ix->nterm, 2, nc) ||
        grow(&ix->hasvec, 1, nc) || grow(&ix->print, 8, nc) || grow(&ix->vscale, 4, nc) ||
        grow(&ix->vec, (size_t)ix->dim, nc) || grow(&ix->touched, 4, nc) ||
        grow(&ix->stamp, 4, nc) || grow(&ix->acc, 4, nc))
        return -1;
    /* acc and stamp rely on zeros beyond the old capacity. */
    memset(ix->acc + ix->cap, 0, (nc - ix->cap) * sizeof(float));
    memset(ix->stamp + ix->cap, 0, (nc - ix->cap) * sizeof(uint32_t));
    ix->cap = (uint32_t)nc;
    return 0;
}

static int reserve_slots(mn_index *ix, uint32_t need) {
    if (need <= ix->cap) return 0;
    if (need > MAX_SLOTS) return -1;
    size_t nc = ix->cap ? (size_t)ix->cap * 2 : 256;
    return grow_slots(ix, nc < MAX_SLOTS ? nc : MAX_SLOTS);
}

int mn_index_reserve(mn_index *ix, size_t docs) {
    if (docs > MAX_SLOTS) return -1;
    return docs <= ix->cap ? 0 : grow_slots(ix, docs);
}

static int reserve_map(mn_index *ix) {
    if ((ix->live + 1) * 2 <= ix->map_cap) return 0;
    uint32_t nc = ix->map_cap ? ix->map_cap * 2 : 512;
    uint32_t *m = mn_malloc((size_t)nc * sizeof *m);
    if (!m) return -1;
    mn_free(ix->map);
    ix->map = m;
    ix->map_cap = nc;
    map_rebuild(ix);
    return 0;
}

/* Marks a slot dead and takes its words out of the statistics. */
static void kill_slot(mn_index *ix, uint32_t s) {
    ix->kill_gen++; /* every term's df is to be counted again */
    ix->dead_post += ix->nterm[s];
    ix->total_len -= ix->len[s];
    ix->len[s] = MN_DEAD;
    ix->hasvec[s] = 0;
    ix->live--;
    ix->dead_slots++;
}

/* Drops dead postings and renumbers live slots densely, in place: no
** allocation, so remove (which cannot fail) may call it. */
static void compact(mn_index *ix) {
    uint32_t *remap = ix->touched, n = 0;
    size_t d = (size_t)ix->dim;
    for (uint32_t s = 0; s < ix->nslots; s++) {
        if (ix->len[s] == MN_DEAD) {
            remap[s] = MN_DEAD;
            continue;
        }
        remap[s] = n;
        ix->nterm[n] = ix->nterm[s];
        ix->rowid[n] = ix->rowid[s];
        ix->len[n] = ix->len[s];
        ix->hasvec[n] = ix->hasvec[s];
        ix->print[n] = ix->print[s];
        ix->vscale[n] = ix->vscale[s];
        if (d && n != s) memcpy(ix->vec + n * d, ix->vec + s * d, d);
        n++;
    }
    for (uint32_t t = 0; t < ix->nterms; t++) {
        term *e = &ix->terms[t];
        uint32_t k = 0;
        for (uint32_t i = 0; i < e->n; i++) {
            uint32_t ns = remap[P_SLOT(e->post[i])];
            if (ns != MN_DEAD) e->post[k++] = POSTING(ns, P_TF(e->post[i]));
        }
        e->n = e->df = k;
        e->df_gen = ix->kill_gen;
        if (!k) { /* a word no live document has any more: give back its room */
            mn_free(e->post);
            e->post = NULL;
            e->cap = 0;
        }
    }
    ix->nslots = n;
    ix->npost -= ix->dead_post;
    ix->dead_post = 0;
    ix->dead_slots = 0;
    map_rebuild(ix);
}

static void maybe_compact(mn_index *ix) {
    if (ix->dead_post * 4 > ix->npost || (uint64_t)ix->dead_slots * 4 > ix->nslots)
        compact(ix);
}

/* A word-at-a-time hash (the print is taken of every document put, so it
** must cost little beside tokenizing). */
static uint64_t hash_bytes(uint64_t h, const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15u;
        h ^= h >> 29;
    }
    uint64_t w = (uint64_t)n << 56;
    memcpy(&w, p, n); /* the low bytes; n < 8 leaves the length byte */
    h = (h ^ w) * 0x9E3779B97F4A7C15u;
    return h ^ (h >> 32);
}

/* The print of a document put from text and vec, or from text and the
** built-in embedder's vector of it (embedded). */
static uint64_t print_of(const mn_index *ix, const char *text, size_t len,
                         const float *vec, int embedded) {
    uint64_t h = hash_bytes(len, text, len);
    if (vec && ix->dim > 0) return hash_bytes(h ^ 1, vec, (size_t)ix->dim * sizeof *vec);
    return hash_bytes(h ^ (embedded ? 2 : 3), "", 0);
}

/* emb: when set, the built-in embedder is fed the same words and vec is
** its vector (one tokenizer pass for both). */
static int put(mn_index *ix, int64_t rowid, const char *text, size_t len,
               const float *vec, mn_embed_ctx *emb) {
    uint64_t print = print_of(ix, text, len, vec, emb != NULL);
    /* 1. Tokenize into (term id, tf); this may add dictionary entries. */
    next_epoch(ix);
    ix->ndt = ix->dlen = 0;
    ix->oom = 0;
    ix->emb = emb;
    mn_token_each(text, len, on_doc_word, ix);
    ix->emb = NULL;
    if (ix->oom) return -1;
    float own[MN_EMBED_DIM];
    if (emb) {
        mn_embed_end(emb, own);
        vec = own;
    }
    if (ix->ndt > UINT16_MAX) ix->ndt = UINT16_MAX; /* nterm's limit */
    /* 2. Reserve room for everything the commit writes. */
    for (uint32_t i = 0; i < ix->ndt; i++) {
        term *e = &ix->terms[ix->dt[i]];
        if (e->n == e->cap) {
            /* 1.5x: most words stay rare, and slack here is most of the
            ** index's slack. */
            uint32_t nc = e->cap < 4 ? 4 : e->cap + e->cap / 2;
            if (grow(&e->post, sizeof(posting), nc)) return -1;
            e->cap = nc;
        }
    }
    if (reserve_slots(ix, ix->nslots + 1) || reserve_map(ix)) return -1;
    /* 3. Commit: nothing below allocates. */
    uint32_t old = map_find(ix, rowid);
    if (old != MN_DEAD) kill_slot(ix, old);
    uint32_t s = ix->nslots++;
    ix->rowid[s] = rowid;
    ix->len[s] = ix->dlen;
    ix->total_len += ix->dlen;
    ix->nterm[s] = (uint16_t)ix->ndt;
    for (uint32_t i = 0; i < ix->ndt; i++) {
        term *e = &ix->terms[ix->dt[i]];
        e->post[e->n++] = POSTING(s, ix->dtf[i]);
        e->df++; /* right if it was, and recounted anyway if not */
    }
    ix->npost += ix->ndt;
    ix->hasvec[s] = vec && ix->dim > 0;
    ix->print[s] = print;
    ix->vscale[s] = 0;
    if (ix->hasvec[s])
        ix->vscale[s] = mn_vec_quantize(vec, (size_t)ix->dim, ix->vec + (size_t)s * (size_t)ix->dim);
    ix->live++;
    map_set(ix, rowid, s);
    maybe_compact(ix);
    return 0;
}

int mn_index_put(mn_index *ix, int64_t rowid, const char *text, size_t len,
                 const float *vec) {
    return put(ix, rowid, text, len, vec, NULL);
}

int mn_index_put_embedded(mn_index *ix, int64_t rowid, const char *text, size_t len) {
    if (ix->dim != MN_EMBED_DIM) return put(ix, rowid, text, len, NULL, NULL);
    mn_embed_ctx emb;
    mn_embed_begin(&emb);
    return put(ix, rowid, text, len, NULL, &emb);
}

int mn_index_has(const mn_index *ix, int64_t rowid, const char *text, size_t len,
                 const float *vec, int embedded) {
    uint32_t s = map_find(ix, rowid);
    embedded = embedded && !vec && ix->dim == MN_EMBED_DIM; /* as put_embedded does */
    return s != MN_DEAD && ix->print[s] == print_of(ix, text, len, vec, embedded);
}

void mn_index_keep(mn_index *ix, const int64_t *rowids, size_t n) {
    for (uint32_t s = 0; s < ix->nslots; s++) {
        if (ix->len[s] == MN_DEAD) continue;
        size_t lo = 0, hi = n; /* is rowid[s] in rowids? */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (rowids[mid] < ix->rowid[s]) lo = mid + 1;
            else hi = mid;
        }
        if (lo < n && rowids[lo] == ix->rowid[s]) continue;
        map_del(ix, ix->rowid[s]);
        kill_slot(ix, s);
    }
    maybe_compact(ix); /* once: it renumbers the slots this loop walks */
}

void mn_index_remove(mn_index *ix, int64_t rowid) {
    uint32_t s = map_find(ix, rowid);
    if (s == MN_DEAD) return;
    map_del(ix, rowid);
    kill_slot(ix, s);
    maybe_compact(ix);
}

/* --- top-k ----------------------------------------------------------------- */

/* a ranks above b: higher score, then the newer (higher) rowid. */
static int above(const mn_hit *a, const mn_hit *b) {
    return a->score > b->score || (a->score == b->score && a->rowid > b->rowid);
}

/* out[0..*n) is a heap with the weakest hit at the root. */
static void sift_down(mn_hit *h, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && above(&h[w], &h[l])) w = l;
        if (r < n && above(&h[w], &h[r])) w = r;
        if (w == i) return;
        mn_hit t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static void heap_offer(mn_hit *h, int *n, int k, int64_t rowid, float score) {
    mn_hit x = {rowid, score};
    if (*n < k) {
        int i = (*n)++;
        while (i > 0 && above(&h[(i - 1) / 2], &x)) {
            h[i] = h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h[i] = x;
    } else if (above(&x, &h[0])) {
        h[0] = x;
        sift_down(h, *n, 0);
    }
}

/* Heap-sorts in place: the weakest goes last, leaving best first. */
static int heap_finish(mn_hit *h, int n) {
    for (int m = n - 1; m > 0; m--) {
        mn_hit t = h[0];
        h[0] = h[m];
        h[m] = t;
        sift_down(h, m, 0);
    }
    return n;
}

/* Stamps the allowed live slots; returns the stamp generation. */
static uint32_t stamp_allow(mn_index *ix, const mn_allow *allow) {
    if (++ix->stamp_gen == 0) {
        memset(ix->stamp, 0, (size_t)ix->cap * sizeof *ix->stamp);
        ix->stamp_gen = 1;
    }
    for (size_t i = 0; i < allow->n; i++) {
        uint32_t s = map_find(ix, allow->rowids[i]);
        if (s != MN_DEAD) ix->stamp[s] = ix->stamp_gen;
    }
    return ix->stamp_gen;
}

/* --- lexical signals ---------------------------------------------------- */

enum { SIG_BM25, SIG_KEYWORD, SIG_TERMS };

typedef struct qterms {
    mn_index *ix;
    uint32_t id[MN_QTERMS];
    int n, content, stop_only;
} qterms;

static void on_query_word(void *ctx, const char *s, size_t n, uint32_t pos, int flags) {
    qterms *q = ctx;
    int stop = (flags & MN_TOK_STOP) != 0;
    if (!stop) q->content = 1;
    /* First pass takes content words; the second (stop_only) the rest. */
    if (stop != q->stop_only || q->n == MN_QTERMS) return;
    uint32_t id = term_lookup(q->ix, s, n);
    if (id == MN_DEAD || q->ix->terms[id].mark == q->ix->epoch) return;
    q->ix->terms[id].mark = q->ix->epoch;
    q->id[q->n++] = id;
}

static int lexical(mn_index *ix, int sig, const qterms *q, const mn_allow *allow,
                   int k, mn_hit *out) {
    if (k <= 0 || ix->live == 0 || q->n == 0) return 0;
    uint32_t gen = allow ? stamp_allow(ix, allow) : 0;
    const uint32_t *stamp = ix->stamp, *len = ix->len;
    float *acc = ix->acc;
    uint32_t *touched = ix->touched, nt = 0;
    double N = ix->live, avgdl = (double)ix->total_len / N;
    /* BM25's length norm as c0 + c1 * len, hoisted out of the loop. */
    const float k1 = 1.2f, b = 0.75f;
    float c0 = k1 * (1 - b), c1 = avgdl > 0 ? (float)(k1 * b / avgdl) : 0;
    for (int i = 0; i < q->n; i++) {
        term *e = &ix->terms[q->id[i]];
        if (e->df_gen != ix->kill_gen) {
            uint32_t df = 0;
            for (uint32_t j = 0; j < e->n; j++) df += len[P_SLOT(e->post[j])] != MN_DEAD;
            e->df = df;
            e->df_gen = ix->kill_gen;
        }
        if (!e->df) continue;
        float idf = (float)log(1.0 + (N - e->df + 0.5) / (e->df + 0.5));
        float w = sig == SIG_TERMS ? 1.0f : idf;
        for (uint32_t j = 0; j < e->n; j++) {
            uint32_t s = P_SLOT(e->post[j]);
            if (len[s] == MN_DEAD || (allow && stamp[s] != gen)) continue;
            float add = w;
            if (sig == SIG_BM25) {
                float tf = (float)P_TF(e->post[j]);
                add = w * tf * (k1 + 1) / (tf + c0 + c1 * (float)len[s]);
            }
            /* Every contribution is > 0, so 0 means untouched. */
            if (acc[s] == 0) touched[nt++] = s;
            acc[s] += add;
        }
    }
    int n = 0;
    for (uint32_t i = 0; i < nt; i++) {
        uint32_t s = touched[i];
        if (n < k || acc[s] >= out[0].score) heap_offer(out, &n, k, ix->rowid[s], acc[s]);
        acc[s] = 0;
    }
    return heap_finish(out, n);
}

static int query_words(mn_index *ix, int sig, const char *query, size_t len,
                       const mn_allow *allow, int k, mn_hit *out) {
    qterms q = {0};
    q.ix = ix;
    next_epoch(ix);
    mn_token_each(query, len, on_query_word, &q);
    if (!q.content) { /* only stop words: they are not indexed, so 0 hits */
        q.stop_only = 1;
        mn_token_each(query, len, on_query_word, &q);
    }
    return lexical(ix, sig, &q, allow, k, out);
}

int mn_index_bm25(mn_index *ix, const char *query, size_t len,
                  const mn_allow *allow, int k, mn_hit *out) {
    return query_words(ix, SIG_BM25, query, len, allow, k, out);
}

int mn_index_keyword(mn_index *ix, const char *query, size_t len,
                     const mn_allow *allow, int k, mn_hit *out) {
    return query_words(ix, SIG_KEYWORD, query, len, allow, k, out);
}

int mn_index_terms(mn_index *ix, const char *const *terms, int n,
                   const mn_allow *allow, int k, mn_hit *out) {
    qterms q = {0};
    q.ix = ix;
    uint32_t ep = next_epoch(ix);
    for (int i = 0; i < n && q.n < MN_QTERMS; i++) {
        uint32_t id = term_lookup(ix, terms[i], strlen(terms[i]));
        if (id == MN_DEAD || ix->terms[id].mark == ep) continue;
        ix->terms[id].mark = ep;
        q.id[q.n++] = id;
    }
    return lexical(ix, SIG_TERMS, &q, allow, k, out);
}

/* --- vectors ------------------------------------------------------------- */

int mn_index_vector(mn_index *ix, const float *q, const mn_allow *allow, int k,
                    mn_hit *out) {
    if (k <= 0 || ix->dim == 0 || ix->live == 0) return 0;
    size_t d = (size_t)ix->dim;
    float qs = mn_vec_quantize(q, d, ix->qvec);
    if (qs == 0) return 0;
    int n = 0;
    size_t count = allow ? allow->n : ix->nslots;
    for (size_t i = 0; i < count; i++) {
        uint32_t s = allow ? map_find(ix, allow->rowids[i]) : (uint32_t)i;
        if (s == MN_DEAD || !ix->hasvec[s]) continue;
        float score = (float)mn_vec_dot_i8(ix->qvec, ix->vec + s * d, d) * qs * ix->vscale[s];
        /* Cheap reject before the heap once it is full. */
        if (n == k && score < out[0].score) continue;
        heap_offer(out, &n, k, ix->rowid[s], score);
    }
    return heap_finish(out, n);
}

float mn_index_similarity(mn_index *ix, int64_t a, int64_t b) {
    uint32_t sa = map_find(ix, a), sb = map_find(ix, b);
    if (sa == MN_DEAD || sb == MN_DEAD || !ix->hasvec[sa] || !ix->hasvec[sb]) return 0;
    size_t d = (size_t)ix->dim;
    return (float)mn_vec_dot_i8(ix->vec + sa * d, ix->vec + sb * d, d) *
           ix->vscale[sa] * ix->vscale[sb];
}

/* --- snapshots ------------------------------------------------------------ */

/* Counts first, then the per-slot arrays, then each term: its bytes and its
** postings. Native byte order (snapshot.c's header records it). */
typedef struct snap_counts {
    uint32_t dim, nslots, nterms, pad;
    uint64_t arena_len, npost, total_len;
} snap_counts;

int mn_index_save(mn_index *ix, mn_put_fn out, void *ctx) {
    if (ix->dead_slots || ix->dead_post) compact(ix);
    snap_counts c = {(uint32_t)ix->dim, ix->nslots, ix->nterms, 0,
                     ix->arena_len, ix->npost, ix->total_len};
    size_t n = ix->nslots, d = (size_t)ix->dim;
    if (out(ctx, &c, sizeof c) || out(ctx, ix->rowid, n * sizeof *ix->rowid) ||
        out(ctx, ix->len, n * sizeof *ix->len) || out(ctx, ix->hasvec, n) ||
        out(ctx, ix->print, n * sizeof *ix->print) ||
        out(ctx, ix->vscale, n * sizeof *ix->vscale) || out(ctx, ix->vec, n * d) ||
        out(ctx, ix->arena, ix->arena_len))
        return -1;
    for (uint32_t t = 0; t < ix->nterms; t++) {
        const term *e = &ix->terms[t];
        uint32_t head[3] = {e->off, e->len, e->n};
        if (out(ctx, head, sizeof head) || out(ctx, e->post, (size_t)e->n * sizeof(posting)))
            return -1;
    }
    return 0;
}

static int pow2_at_least(uint64_t n, uint32_t *out) {
    uint64_t c = 512;
    while (c < n) c *= 2;
    if (c > UINT32_MAX) return -1;
    *out = (uint32_t)c;
    return 0;
}

/* The body of mn_index_load: fills ix, which the caller frees on failure. */
static int load_into(mn_index *ix, mn_get_fn in, void *ctx) {
    snap_counts c;
    if (in(ctx, &c, sizeof c)) return -3;
    if (c.dim != (uint32_t)ix->dim || c.nslots > MAX_SLOTS || c.arena_len > UINT32_MAX ||
        c.nterms > UINT32_MAX / 2)
        return -1;
    size_t n = c.nslots, d = (size_t)ix->dim;
    if (n && grow_slots(ix, n)) return -2;
    if (in(ctx, ix->rowid, n * sizeof *ix->rowid) || in(ctx, ix->len, n * sizeof *ix->len) ||
        in(ctx, ix->hasvec, n) || in(ctx, ix->print, n * sizeof *ix->print) ||
        in(ctx, ix->vscale, n * sizeof *ix->vscale) ||
        in(ctx, ix->vec, n * d))
        return -3;
    uint64_t total = 0;
    for (size_t s = 0; s < n; s++) {
        if (ix->len[s] == MN_DEAD || ix->hasvec[s] > 1 || !isfinite(ix->vscale[s])) return -1;
        total += ix->len[s];
    }
    if (total != c.total_len) return -1;
    ix->nslots = ix->live = (uint32_t)n;
    ix->total_len = total;
    /* The rowid map; a rowid twice is bad data. */
    uint32_t mcap;
    if (pow2_at_least((uint64_t)n * 2 + 2, &mcap)) return -1;
    if (!(ix->map = mn_malloc((size_t)mcap * sizeof *ix->map))) return -2;
    ix->map_cap = mcap;
    memset(ix->map, 0, (size_t)mcap * sizeof *ix->map);
    for (uint32_t s = 0; s < n; s++) {
        if (map_find(ix, ix->rowid[s]) != MN_DEAD) return -1;
        map_set(ix, ix->rowid[s], s);
    }
    /* Terms: the arena, then each term's place in it and its postings. */
    if (c.arena_len && !(ix->arena = mn_malloc((size_t)c.arena_len))) return -2;
    ix->arena_cap = (size_t)c.arena_len;
    if (in(ctx, ix->arena, (size_t)c.arena_len)) return -3;
    ix->arena_len = (size_t)c.arena_len;
    if (c.nterms) {
        if (!(ix->terms = mn_malloc((size_t)c.nterms * sizeof(term)))) return -2;
        ix->terms_cap = (uint32_t)c.nterms;
    }
    uint32_t tcap;
    if (pow2_at_least((uint64_t)c.nterms * 2 + 2, &tcap)) return -1;
    if (!(ix->thash = mn_malloc((size_t)tcap * sizeof *ix->thash))) return -2;
    ix->thash_cap = tcap;
    memset(ix->thash, 0, (size_t)tcap * sizeof *ix->thash);
    uint64_t npost = 0;
    for (uint32_t t = 0; t < c.nterms; t++) {
        uint32_t head[3];
        if (in(ctx, head, sizeof head)) return -3;
        if (head[1] == 0 || head[0] > c.arena_len || head[1] > c.arena_len - head[0] ||
            head[2] > n)
            return -1;
        term *e = &ix->terms[t];
        memset(e, 0, sizeof *e);
        e->off = head[0];
        e->len = head[1];
        e->hash = mn_token_hash(ix->arena + e->off, e->len);
        uint32_t at;
        if (term_find(ix, ix->arena + e->off, e->len, e->hash, &at) != MN_DEAD) return -1;
        ix->thash[at] = ++ix->nterms;
        if (head[2]) {
            if (!(e->post = mn_malloc((size_t)head[2] * sizeof(posting)))) return -2;
            e->cap = head[2];
            if (in(ctx, e->post, (size_t)head[2] * sizeof(posting))) return -3;
            for (uint32_t i = 0; i < head[2]; i++)
                if (P_SLOT(e->post[i]) >= n || (i && P_SLOT(e->post[i]) <= P_SLOT(e->post[i - 1])))
                    return -1;
        }
        e->n = e->df = head[2];
        npost += head[2];
    }
    if (npost != c.npost) return -1;
    ix->npost = npost;
    /* Each slot's count of terms, from the postings. */
    if (n) memset(ix->nterm, 0, n * sizeof *ix->nterm);
    for (uint32_t t = 0; t < ix->nterms; t++)
        for (uint32_t i = 0; i < ix->terms[t].n; i++) {
            uint32_t s = P_SLOT(ix->terms[t].post[i]);
            if (ix->nterm[s] == UINT16_MAX) return -1;
            ix->nterm[s]++;
        }
    return 0;
}

int mn_index_load(int dim, mn_get_fn in, void *ctx, mn_index **out) {
    *out = NULL;
    mn_index *ix = mn_index_new(dim);
    if (!ix) return -2;
    int rc = load_into(ix, in, ctx);
    if (rc) {
        mn_index_free(ix);
        return rc;
    }
    *out = ix;
    return 0;
}
