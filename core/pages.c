/*
** pages.c: page banks. A SQLite VFS ("mnemo-pages") whose files are images
** in memory, for hosts with no file system: a browser keeps the pages in
** IndexedDB, a Durable Object in its storage. The host loads the pages it
** kept before opening, and after each call saves the pages written since
** its last save (mnemo_pages_dirty), as one atomic write of its own.
**
** Why not let the host implement a VFS: IndexedDB and Durable Object storage
** are asynchronous, and the core never blocks on the host (no Asyncify). A
** memory image read in full at open, with a dirty map, needs nothing of the
** host while SQLite runs, and makes a commit cost the pages it changed.
**
** Named images live in a registry from mnemo_pages_load() until the bank
** that claimed them closes. Journals and temporary files get private,
** anonymous images. No locks: an image belongs to one handle.
**
** A host that already holds its stored pages in memory (a browser's
** IndexedDB read, a file read whole) can lend them instead of copying them
** in (mnemo_pages_lazy): the image then keeps a bit per unit still "with
** the host" and fetches those units on their first read. Opening a bank
** reads a few pages, a recall the pages of its results: the rest is never
** copied, and never touches fresh memory (a 16 MB copy into new wasm pages
** was a quarter of a browser's open).
*/
#include "pages.h"

#include <string.h>

/* Dirty state is kept per 512-byte unit, SQLite's smallest page size, so it
** stays right when a VACUUM changes the page size. */
#define UNIT 512

typedef struct image {
    struct image *next;      /* registry (named images only) */
    char *name;              /* NULL for anonymous files */
    unsigned char *data;
    size_t size, cap;
    uint8_t *dirty;          /* one bit per UNIT bytes of data */
    size_t dirty_cap;        /* bytes of `dirty` */
    int claimed;             /* opened as a bank's main database */
    uint32_t *list;          /* mnemo_pages_dirty()'s answer */
    size_t list_cap;
    mnemo_pages_reader read; /* lent pages: NULL once none is left */
    void *read_ctx;
    uint8_t *lent;           /* one bit per UNIT below lent_units: at the host */
    size_t lent_units, lent_left;
} image;

typedef struct pfile {
    sqlite3_file base;
    image *img;
} pfile;

static image *registry;
static int vfs_registered;

/* The registry is process-wide: guard it where SQLite has mutexes (native
** builds); single-threaded wasm builds get no-op mutexes. */
static sqlite3_mutex *registry_mutex(void) {
    return sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_APP1);
}

/* The host is told once that it may let go of its pages. */
static void image_unlend(image *img) {
    if (img->read) img->read(img->read_ctx, 0, NULL, 0);
    img->read = NULL;
    mn_free(img->lent);
    img->lent = NULL;
    img->lent_units = img->lent_left = 0;
}

static void image_free(image *img) {
    if (!img) return;
    image_unlend(img);
    mn_free(img->name);
    mn_free(img->data);
    mn_free(img->dirty);
    mn_free(img->list);
    mn_free(img);
}

static image **find(const char *name) {
    image **p = &registry;
    while (*p && strcmp((*p)->name, name)) p = &(*p)->next;
    return p;
}

static void unlink_image(image *img) {
    for (image **p = &registry; *p; p = &(*p)->next)
        if (*p == img) {
            *p = img->next;
            return;
        }
}

/* Makes room for `size` bytes of data (zero-filled) and their dirty bits. */
static int image_reserve(image *img, size_t size) {
    if (size > img->cap) {
        /* 1.5x keeps appends amortized; a jump past that (a host loading a
        ** stored bank, last page first) gets exactly its size. Room past
        ** `size` is never read (x_read stops at size, image_write zeroes a
        ** gap), so it is left untouched: no memory is committed for it. */
        size_t cap = img->cap ? img->cap + img->cap / 2 : 64 * 1024;
        if (cap < size) cap = size;
        unsigned char *d = mn_realloc(img->data, cap);
        if (!d) return SQLITE_NOMEM;
        img->data = d;
        img->cap = cap;
    }
    size_t bits = (size + UNIT - 1) / UNIT;
    size_t need = (bits + 7) / 8;
    if (need > img->dirty_cap) {
        size_t cap = img->dirty_cap ? img->dirty_cap : 64;
        while (cap < need) cap *= 2;
        uint8_t *d = mn_realloc(img->dirty, cap);
        if (!d) return SQLITE_NOMEM;
        memset(d + img->dirty_cap, 0, cap - img->dirty_cap);
        img->dirty = d;
        img->dirty_cap = cap;
    }
    return SQLITE_OK;
}

#define LENT(img, u) ((img)->lent[(u) / 8] & (1u << ((u) % 8)))

static void unit_taken(image *img, size_t u) {
    img->lent[u / 8] &= (uint8_t)~(1u << (u % 8));
    img->lent_left--;
}

/* Makes the bytes [off, off + n) the image's own: fetches the units of that
** range still lent, in runs, one host call per run. */
static int image_fetch(image *img, size_t off, size_t n) {
    if (!img->read || n == 0) return SQLITE_OK;
    size_t u = off / UNIT, end = off / UNIT + (off % UNIT + n + UNIT - 1) / UNIT;
    if (end > img->lent_units) end = img->lent_units;
    while (u < end) {
        if (!LENT(img, u)) {
            u++;
            continue;
        }
        size_t run = u;
        while (run < end && LENT(img, run)) run++;
        if (img->read(img->read_ctx, (int64_t)(u * UNIT), img->data + u * UNIT, (run - u) * UNIT))
            return SQLITE_IOERR_READ;
        for (; u < run; u++) unit_taken(img, u);
    }
    if (!img->lent_left) image_unlend(img);
    return SQLITE_OK;
}

/* The bytes [off, off + n) are about to be overwritten: whole lent units in
** that range are not fetched, only the partly covered ones at its ends. */
static int image_claim(image *img, size_t off, size_t n) {
    if (!img->read || n == 0) return SQLITE_OK;
    size_t first = off / UNIT, last = (off + n - 1) / UNIT;
    if ((off % UNIT && image_fetch(img, first * UNIT, 1)) ||
        ((off + n) % UNIT && image_fetch(img, last * UNIT, 1)))
        return SQLITE_IOERR_READ;
    if (!img->read) return SQLITE_OK; /* those fetches took the last ones */
    for (size_t u = first; u <= last && u < img->lent_units; u++)
        if (LENT(img, u)) unit_taken(img, u);
    if (!img->lent_left) image_unlend(img);
    return SQLITE_OK;
}

/* The bytes [off, off + n) of the image, growing it (a gap before `off` is
** zero-filled); NULL when out of memory or past the address space. */
static unsigned char *image_span(image *img, size_t off, size_t n) {
    if (off + n < off || image_reserve(img, off + n)) return NULL;
    if (off > img->size) memset(img->data + img->size, 0, off - img->size);
    if (off + n > img->size) img->size = off + n;
    return img->data + off;
}

/* Copies bytes in at `off`, growing the image; marks them dirty if asked. */
static int image_write(image *img, const void *buf, size_t n, size_t off, int mark) {
    if (n == 0) return SQLITE_OK;
    int rc = image_claim(img, off, n);
    if (rc) return rc;
    unsigned char *at = image_span(img, off, n);
    if (!at) return off + n < off ? SQLITE_FULL : SQLITE_NOMEM;
    memcpy(at, buf, n);
    if (mark)
        for (size_t u = off / UNIT; u <= (off + n - 1) / UNIT; u++)
            img->dirty[u / 8] |= (uint8_t)(1u << (u % 8));
    return SQLITE_OK;
}

/* The page size the header declares (offset 16, big-endian; 1 is 65536). */
static uint32_t image_page_size(image *img) {
    if (img->size < 100 || image_fetch(img, 0, 100)) return 4096;
    uint32_t v = (uint32_t)img->data[16] << 8 | img->data[17];
    if (v == 1) return 65536;
    if (v < 512 || (v & (v - 1))) return 4096;
    return v;
}

/* ---- sqlite3_io_methods ------------------------------------------------ */

static int x_close(sqlite3_file *f) {
    image *img = ((pfile *)f)->img;
    if (img && img->name) {
        sqlite3_mutex_enter(registry_mutex());
        unlink_image(img);
        sqlite3_mutex_leave(registry_mutex());
    }
    image_free(img);
    ((pfile *)f)->img = NULL;
    return SQLITE_OK;
}

static int x_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off) {
    image *img = ((pfile *)f)->img;
    size_t n = (size_t)amt, o = (size_t)off;
    if (o >= img->size) {
        memset(buf, 0, n);
        return SQLITE_IOERR_SHORT_READ;
    }
    size_t have = img->size - o < n ? img->size - o : n;
    if (image_fetch(img, o, have)) return SQLITE_IOERR_READ;
    memcpy(buf, img->data + o, have);
    if (have < n) {
        memset((char *)buf + have, 0, n - have);
        return SQLITE_IOERR_SHORT_READ;
    }
    return SQLITE_OK;
}

static int x_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off) {
    image *img = ((pfile *)f)->img;
    int rc = image_write(img, buf, (size_t)amt, (size_t)off, 1);
    /* Room for the dirty list now, so that mnemo_pages_dirty() never has to
    ** allocate: a host must always learn every page it has to save. */
    size_t units = (img->size + UNIT - 1) / UNIT;
    if (!rc && img->name && units > img->list_cap) {
        size_t cap = img->list_cap ? img->list_cap : 64;
        while (cap < units) cap *= 2;
        uint32_t *l = mn_realloc(img->list, cap * sizeof *l);
        if (!l) rc = SQLITE_NOMEM;
        else img->list = l, img->list_cap = cap;
    }
    return rc == SQLITE_NOMEM ? SQLITE_IOERR_NOMEM : rc;
}

static int x_truncate(sqlite3_file *f, sqlite3_int64 size) {
    image *img = ((pfile *)f)->img;
    if ((size_t)size >= img->size) return SQLITE_OK;
    img->size = (size_t)size;
    /* Units past the end are no longer the host's: growing again zero-fills. */
    size_t keep = (img->size + UNIT - 1) / UNIT;
    for (size_t u = keep; u < img->lent_units; u++)
        if (LENT(img, u)) unit_taken(img, u);
    if (img->read && keep < img->lent_units) img->lent_units = keep;
    if (img->read && !img->lent_left) image_unlend(img);
    return SQLITE_OK;
}

static int x_sync(sqlite3_file *f, int flags) { return SQLITE_OK; }

static int x_file_size(sqlite3_file *f, sqlite3_int64 *size) {
    *size = (sqlite3_int64)((pfile *)f)->img->size;
    return SQLITE_OK;
}

static int x_lock(sqlite3_file *f, int level) { return SQLITE_OK; }
static int x_check_reserved(sqlite3_file *f, int *out) { *out = 0; return SQLITE_OK; }
static int x_file_control(sqlite3_file *f, int op, void *arg) { return SQLITE_NOTFOUND; }
static int x_sector_size(sqlite3_file *f) { return UNIT; }

static int x_device(sqlite3_file *f) {
    /* Memory: a write never tears, and appends are safe. Not "atomic": the
    ** journal must still be kept, so a failed statement can roll back. */
    return SQLITE_IOCAP_SAFE_APPEND | SQLITE_IOCAP_SEQUENTIAL | SQLITE_IOCAP_POWERSAFE_OVERWRITE;
}

static const sqlite3_io_methods io_methods = {
    1, x_close, x_read, x_write, x_truncate, x_sync, x_file_size, x_lock, x_lock,
    x_check_reserved, x_file_control, x_sector_size, x_device,
    NULL, NULL, NULL, NULL, NULL, NULL, /* version 1: no WAL, no mmap */
};

/* ---- sqlite3_vfs ------------------------------------------------------- */

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags) {
    pfile *pf = (pfile *)f;
    memset(pf, 0, sizeof *pf);
    image *img = NULL;
    if ((flags & SQLITE_OPEN_MAIN_DB) && name) {
        sqlite3_mutex_enter(registry_mutex());
        image **p = find(name);
        img = *p;
        if (img && img->claimed) img = NULL, flags = -1;
        if (img) img->claimed = 1;
        if (!img && flags != -1 && (img = mn_malloc(sizeof *img))) {
            memset(img, 0, sizeof *img);
            size_t n = strlen(name) + 1;
            if ((img->name = mn_malloc(n))) {
                memcpy(img->name, name, n);
                img->claimed = 1;
                img->next = registry;
                registry = img;
            } else {
                mn_free(img);
                img = NULL;
            }
        }
        sqlite3_mutex_leave(registry_mutex());
        if (!img) return flags == -1 ? SQLITE_CANTOPEN : SQLITE_NOMEM;
    } else {
        /* Journals and temporary files: private to this open. */
        if (!(img = mn_malloc(sizeof *img))) return SQLITE_NOMEM;
        memset(img, 0, sizeof *img);
    }
    pf->img = img;
    pf->base.pMethods = &io_methods;
    if (out_flags) *out_flags = flags;
    return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync) { return SQLITE_OK; }

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    /* Only journals are asked about, and they never outlive their open. */
    *out = 0;
    return SQLITE_OK;
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
    sqlite3_snprintf(n, out, "%s", name);
    return SQLITE_OK;
}

/* Randomness and time are only used by SQLite for temporary names and SQL
** date functions, which Mnemo does not use: borrow the default VFS's if the
** build has one. */
static int v_randomness(sqlite3_vfs *vfs, int n, char *out) {
    sqlite3_vfs *d = vfs->pAppData;
    if (d) return d->xRandomness(d, n, out);
    memset(out, 0, (size_t)n);
    return n;
}

static int v_sleep(sqlite3_vfs *vfs, int us) { return us; }

static int v_current_time(sqlite3_vfs *vfs, double *out) {
    sqlite3_vfs *d = vfs->pAppData;
    if (d) return d->xCurrentTime(d, out);
    *out = 2440587.5; /* the Unix epoch as a Julian day */
    return SQLITE_OK;
}

static int v_last_error(sqlite3_vfs *vfs, int n, char *out) { return 0; }

static sqlite3_vfs pages_vfs = {
    1, (int)sizeof(pfile), 512, NULL, MN_PAGES_VFS, NULL,
    v_open, v_delete, v_access, v_full_pathname,
    NULL, NULL, NULL, NULL, /* no dynamic loading */
    v_randomness, v_sleep, v_current_time, v_last_error,
    NULL, NULL, NULL, NULL,
};

int mn_pages_register(void) {
    int rc = sqlite3_initialize();
    if (rc) return rc;
    sqlite3_mutex_enter(registry_mutex());
    if (!vfs_registered) {
        pages_vfs.pAppData = sqlite3_vfs_find(NULL);
        rc = sqlite3_vfs_register(&pages_vfs, 0);
        if (!rc) vfs_registered = 1;
    }
    sqlite3_mutex_leave(registry_mutex());
    return rc;
}

int mn_pages_is_open(const char *name) {
    sqlite3_mutex_enter(registry_mutex());
    image *img = *find(name);
    int open = img && img->claimed;
    sqlite3_mutex_leave(registry_mutex());
    return open;
}

/* ---- public API -------------------------------------------------------- */

/* The unclaimed image `name`, created empty if absent; with the registry
** locked. NULL with *rc set: MNEMO_EBUSY (open) or MNEMO_ENOMEM. */
static image *unclaimed_image(const char *name, int *rc) {
    image *img = *find(name);
    if (img && img->claimed) {
        *rc = MNEMO_EBUSY;
        return NULL;
    }
    if (img) return img;
    size_t n = strlen(name) + 1;
    if ((img = mn_malloc(sizeof *img))) memset(img, 0, sizeof *img);
    if (!img || !(img->name = mn_malloc(n))) {
        image_free(img);
        *rc = MNEMO_ENOMEM;
        return NULL;
    }
    memcpy(img->name, name, n);
    img->next = registry;
    registry = img;
    return img;
}

/* The bytes [offset, offset + len) of the unclaimed image `name` (zeroed if
** asked); NULL with *rc set. Loaded pages are what the host already has:
** never dirty. */
static unsigned char *load_span(const char *name, int64_t offset, size_t len, int zero, int *rc) {
    if (!name || !*name || offset < 0) {
        *rc = MNEMO_EINVAL;
        return NULL;
    }
    if ((uint64_t)offset > SIZE_MAX - len) {
        *rc = MNEMO_ETOOBIG;
        return NULL;
    }
    if (sqlite3_initialize()) {
        *rc = MNEMO_ENOMEM;
        return NULL;
    }
    sqlite3_mutex_enter(registry_mutex());
    image *img = unclaimed_image(name, rc);
    unsigned char *at = NULL;
    static unsigned char none[1];   /* len 0: the image exists, nothing to write */
    if (img && len == 0) {
        at = none;
    } else if (img && image_claim(img, (size_t)offset, len)) {
        *rc = MNEMO_EIO; /* a lent unit it half covers could not be fetched */
    } else if (img && !(at = image_span(img, (size_t)offset, len))) {
        *rc = MNEMO_ENOMEM;
    } else if (at && zero) {
        memset(at, 0, len);
    }
    sqlite3_mutex_leave(registry_mutex());
    return at;
}

int mnemo_pages_load(const char *name, int64_t offset, const void *data, size_t len) {
    if (len && !data) return MNEMO_EINVAL;
    int rc = MNEMO_OK;
    unsigned char *at = load_span(name, offset, len, 0, &rc);
    if (at && len) memcpy(at, data, len);
    return at ? MNEMO_OK : rc;
}

unsigned char *mnemo_pages_buffer(const char *name, int64_t offset, size_t len) {
    int rc = MNEMO_OK;
    return load_span(name, offset, len, 1, &rc);
}

int mnemo_pages_lazy(const char *name, int64_t size, mnemo_pages_reader read, void *ctx) {
    if (!name || !*name || size < 0 || size % UNIT || !read) return MNEMO_EINVAL;
    if ((uint64_t)size > SIZE_MAX - SIZE_MAX / 8) return MNEMO_ETOOBIG;
    if (sqlite3_initialize()) return MNEMO_ENOMEM;
    int rc = MNEMO_OK;
    sqlite3_mutex_enter(registry_mutex());
    image *img = unclaimed_image(name, &rc);
    if (img && (img->size || img->read)) {
        rc = MNEMO_EINVAL; /* already holds pages */
    } else if (img && size) {
        size_t units = (size_t)size / UNIT;
        /* Headroom past the lent pages: growing the data by realloc would
        ** copy every byte, lent or not, and so touch all of it. Untouched,
        ** the room costs address space, not memory. */
        size_t room = (size_t)size + (size_t)size / 8;
        uint8_t *lent = mn_malloc((units + 7) / 8);
        if (!lent || image_reserve(img, room) != SQLITE_OK) {
            mn_free(lent);
            rc = MNEMO_ENOMEM;
        } else {
            memset(lent, 0xff, (units + 7) / 8);
            img->lent = lent;
            img->lent_units = img->lent_left = units;
            img->read = read;
            img->read_ctx = ctx;
            img->size = (size_t)size;
        }
    }
    sqlite3_mutex_leave(registry_mutex());
    /* The host lends nothing it will be asked for: let it go at once. */
    if (rc == MNEMO_OK && !size) read(ctx, 0, NULL, 0);
    return rc;
}

int mnemo_pages_drop(const char *name) {
    if (!name) return MNEMO_OK;
    if (sqlite3_initialize()) return MNEMO_ENOMEM;
    int rc = MNEMO_OK;
    sqlite3_mutex_enter(registry_mutex());
    image **p = find(name);
    image *img = *p;
    if (img && img->claimed) {
        rc = MNEMO_EBUSY;
    } else if (img) {
        *p = img->next;
        image_free(img);
    }
    sqlite3_mutex_leave(registry_mutex());
    return rc;
}

/* The image behind a page bank's main database, or NULL. */
static image *bank_image(mnemo *db) {
    if (!db || !db->sql || !db->pages) return NULL;
    sqlite3_file *f = NULL;
    if (sqlite3_file_control(db->sql, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f ||
        f->pMethods != &io_methods)
        return NULL;
    return ((pfile *)f)->img;
}

uint32_t mnemo_pages_size(mnemo *db) {
    image *img = bank_image(db);
    return img ? image_page_size(img) : 0;
}

uint32_t mnemo_pages_count(mnemo *db) {
    image *img = bank_image(db);
    if (!img) return 0;
    uint32_t ps = image_page_size(img);
    return (uint32_t)((img->size + ps - 1) / ps);
}

const unsigned char *mnemo_pages_page(mnemo *db, uint32_t pgno) {
    image *img = bank_image(db);
    if (!img || pgno < 1 || pgno > mnemo_pages_count(db)) return NULL;
    uint32_t ps = image_page_size(img);
    /* The last page may be partial only in a damaged image; pad it so the
    ** caller can always read a whole page. */
    if (image_reserve(img, (size_t)pgno * ps) || image_fetch(img, (size_t)(pgno - 1) * ps, ps))
        return NULL;
    return img->data + (size_t)(pgno - 1) * ps;
}

size_t mnemo_pages_dirty(mnemo *db, const uint32_t **pgnos) {
    if (pgnos) *pgnos = NULL;
    image *img = bank_image(db);
    if (!img || !pgnos) return 0;
    uint32_t ps = image_page_size(img), count = mnemo_pages_count(db);
    size_t n = 0, units = (img->size + UNIT - 1) / UNIT;
    uint32_t last = 0;
    for (size_t u = 0; u < units; u++) {
        if (!(img->dirty[u / 8] & (1u << (u % 8)))) {
            if (!img->dirty[u / 8] && u % 8 == 0) u += 7; /* skip clean bytes */
            continue;
        }
        uint32_t pg = (uint32_t)(u * UNIT / ps) + 1;
        if (pg == last || pg > count || n == img->list_cap) continue;
        img->list[n++] = last = pg;
    }
    *pgnos = img->list;
    return n;
}

void mnemo_pages_saved(mnemo *db) {
    image *img = bank_image(db);
    if (img && img->dirty) memset(img->dirty, 0, img->dirty_cap);
}
