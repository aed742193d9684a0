/*
** snapshot.c: recall index snapshots (mnemo_index_save, mnemo_index_load).
**
** Why: the index lives in memory only and the first recall of a handle
** builds it from every memory: about half a second per 10k long memories in
** a browser, and the first recall after opening waits for it. A host that
** keeps the index beside the bank's pages loads it in a fraction of that.
**
** A snapshot is exact for the bank state it was taken at. SQLite counts
** every write transaction in the database header (the file change counter,
** page 1 offset 24), which a page bank's rollback journal keeps up to date;
** with the page count it says whether the bank is still in that state. If
** not (a tab wrote and was closed before saving a new snapshot, another tab
** wrote), the snapshot is brought up to date: every memory is read once and
** only those whose text or vector changed are indexed again (the index keeps
** a hash of both per memory), far less work than indexing every one. A
** snapshot of another embedder (model, size) or format is not used.
**
** Stream: header, the index (index.c), then a checksum over both. Native
** byte order, which the header records; a snapshot from another order is
** refused as corrupt, like a damaged one.
*/
#include <string.h>

#include "index.h"
#include "recall.h"

#define MAGIC "MNEMOIX2" /* the last byte is the format's version */
#define ORDER 0x01020304u
#define CHUNK 65536

typedef struct head {
    char magic[8];
    uint32_t order;
    uint32_t changes;   /* SQLite's file change counter */
    uint32_t pages, page_size;
    int32_t dim, builtin;
    char model[sizeof(((mnemo *)0)->embed_model)];
} head;

/* A checksum that does not depend on how the stream is cut into pieces:
** 8-byte words, with a partial word carried between pieces. */
typedef struct sum {
    uint64_t h, w;
    unsigned nw;
} sum;

static void sum_word(sum *s, uint64_t w) {
    uint64_t x = s->h ^ w;
    s->h = ((x << 29) | (x >> 35)) * 0x9E3779B97F4A7C15u;
}

static void sum_bytes(sum *s, const unsigned char *p, size_t n) {
    while (n && s->nw) {
        s->w |= (uint64_t)*p++ << (8 * s->nw);
        n--;
        if (++s->nw == 8) {
            sum_word(s, s->w);
            s->w = 0;
            s->nw = 0;
        }
    }
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        sum_word(s, w);
    }
    while (n--) s->w |= (uint64_t)*p++ << (8 * s->nw++);
}

static uint64_t sum_end(sum *s) {
    sum t = *s;
    sum_word(&t, t.w ^ ((uint64_t)t.nw << 56));
    return t.h;
}

/* The header for the bank as it is now; -1 if it is not a page bank. */
static int bank_head(mnemo *db, head *h) {
    const unsigned char *p1 = mnemo_pages_page(db, 1);
    if (!p1) return -1;
    memset(h, 0, sizeof *h);
    memcpy(h->magic, MAGIC, 8);
    h->order = ORDER;
    h->changes = (uint32_t)p1[24] << 24 | (uint32_t)p1[25] << 16 | (uint32_t)p1[26] << 8 | p1[27];
    h->pages = mnemo_pages_count(db);
    h->page_size = mnemo_pages_size(db);
    h->dim = db->embed_dim;
    h->builtin = db->builtin_embedder;
    memcpy(h->model, db->embed_model, sizeof h->model);
    return 0;
}

/* Whether a snapshot with header h can serve the bank whose header is now:
** the same format and embedder, whatever the state. */
static int same_setup(const head *h, const head *now) {
    head a = *h;
    a.changes = now->changes;
    a.pages = now->pages;
    return !memcmp(&a, now, sizeof a);
}

/* ---- save: the host's write behind a buffer ---- */

typedef struct writer {
    int (*write)(void *ctx, const void *bytes, size_t n);
    void *ctx;
    sum sum;
    size_t n;
    int failed;
    unsigned char buf[CHUNK];
} writer;

static int flush(writer *w) {
    if (w->n && !w->failed && w->write(w->ctx, w->buf, w->n)) w->failed = 1;
    w->n = 0;
    return w->failed;
}

static int put(void *ctx, const void *bytes, size_t n) {
    writer *w = ctx;
    if (w->failed) return -1;
    if (!n) return 0; /* an empty array's pointer may be NULL */
    sum_bytes(&w->sum, bytes, n);
    if (w->n + n > CHUNK && flush(w)) return -1;
    if (n >= CHUNK) { /* big arrays go straight through */
        if (w->write(w->ctx, bytes, n)) w->failed = 1;
        return w->failed;
    }
    memcpy(w->buf + w->n, bytes, n);
    w->n += n;
    return 0;
}

int mnemo_index_save(mnemo *db, int (*write)(void *ctx, const void *bytes, size_t n), void *ctx) {
    if (!db || !db->sql) return MNEMO_EMISUSE;
    if (!write) return mn_bank_err(db, MNEMO_EINVAL, "write is NULL");
    head h;
    if (bank_head(db, &h))
        return mn_bank_err(db, MNEMO_EMISUSE, "index snapshots are for page banks");
    int rc = mn_recall_index_sync(db);
    if (rc) return rc;
    writer *w = mn_malloc(sizeof *w);
    if (!w) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory saving the recall index");
    memset(w, 0, sizeof *w - sizeof w->buf);
    w->write = write;
    w->ctx = ctx;
    if (!put(w, &h, sizeof h) && !mn_index_save(db->index, put, w)) {
        uint64_t check = sum_end(&w->sum);
        put(w, &check, sizeof check);
    }
    flush(w);
    int failed = w->failed;
    mn_free(w);
    return failed ? mn_bank_err(db, MNEMO_EIO, "writing the recall index snapshot failed") : MNEMO_OK;
}

/* ---- load: the host's read behind a buffer, checked ---- */

typedef struct reader {
    size_t (*read)(void *ctx, void *into, size_t n);
    void *ctx;
    sum sum;
    size_t at, have;
    unsigned char buf[CHUNK];
} reader;

/* Exactly n bytes of the stream into `into`; -1 if it ends first. Small
** reads come from the buffer, so the host is called about once per CHUNK,
** not once per field (a JS host pays for every call). */
static int get(void *ctx, void *into, size_t n) {
    reader *r = ctx;
    unsigned char *to = into;
    while (n) {
        if (r->at == r->have) {
            if (n >= CHUNK) { /* big arrays come straight in */
                size_t got = r->read(r->ctx, to, n);
                if (!got || got > n) return -1;
                sum_bytes(&r->sum, to, got);
                to += got;
                n -= got;
                continue;
            }
            r->at = 0;
            r->have = r->read(r->ctx, r->buf, CHUNK);
            if (!r->have || r->have > CHUNK) return r->have = 0, -1;
        }
        size_t take = r->have - r->at < n ? r->have - r->at : n;
        memcpy(to, r->buf + r->at, take);
        sum_bytes(&r->sum, to, take);
        r->at += take;
        to += take;
        n -= take;
    }
    return 0;
}

int mnemo_index_load(mnemo *db, size_t (*read)(void *ctx, void *into, size_t n), void *ctx,
                     int *used) {
    if (!db || !db->sql) return MNEMO_EMISUSE;
    if (!read || !used) return mn_bank_err(db, MNEMO_EINVAL, "read or used is NULL");
    *used = 0;
    head now, h;
    if (bank_head(db, &now))
        return mn_bank_err(db, MNEMO_EMISUSE, "index snapshots are for page banks");
    reader *r = mn_malloc(sizeof *r);
    if (!r) return mn_bank_err(db, MNEMO_ENOMEM, "out of memory loading the recall index");
    memset(r, 0, sizeof *r - sizeof r->buf);
    r->read = read;
    r->ctx = ctx;
    mn_index *ix = NULL;
    int rc = MNEMO_OK;
    uint64_t check = 0, want;
    if (get(r, &h, sizeof h)) {
        rc = mn_bank_err(db, MNEMO_EIO, "the recall index snapshot is cut short or unreadable");
    } else if (memcmp(h.magic, MAGIC, 7) || h.order != ORDER) {
        rc = mn_bank_err(db, MNEMO_ECORRUPT, "not a recall index snapshot of this build");
    } else if (!same_setup(&h, &now)) {
        /* another format or embedder: not used */
    } else {
        int lrc = mn_index_load(now.dim, get, r, &ix);
        want = sum_end(&r->sum);
        if (lrc == -2) rc = mn_bank_err(db, MNEMO_ENOMEM, "out of memory loading the recall index");
        else if (lrc == -3 || (!lrc && get(r, &check, sizeof check)))
            rc = mn_bank_err(db, MNEMO_EIO, "the recall index snapshot is cut short or unreadable");
        else if (lrc || check != want)
            rc = mn_bank_err(db, MNEMO_ECORRUPT, "the recall index snapshot is damaged");
        else if (h.changes == now.changes && h.pages == now.pages) {
            if (!(rc = mn_recall_index_adopt(db, ix))) ix = NULL, *used = 1;
        } else {
            int64_t changed;
            if (!(rc = mn_recall_index_catch_up(db, ix, &changed)) &&
                !(rc = mn_recall_index_adopt(db, ix)))
                ix = NULL, *used = 2;
        }
    }
    mn_index_free(ix);
    mn_free(r);
    return rc;
}
