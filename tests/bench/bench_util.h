/*
** bench_util.h: clocks, statistics, the LongMemEval data set, ranking metrics.
** Included once, by bench.c: every function is static.
*/
#ifndef MNEMO_BENCH_UTIL_H
#define MNEMO_BENCH_UTIL_H

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cJSON.h"

/* ---- clocks and statistics ---- */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : (x > y ? 1 : 0);
}

/* Nearest-rank percentile of n samples (sorts them). */
static double percentile(double *v, int n, double p) {
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i = (int)ceil(p * n) - 1;
    if (i < 0) i = 0;
    if (i >= n) i = n - 1;
    return v[i];
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    return p;
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    return p;
}

static char *xstrdup_n(const char *s, size_t n) {
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static int blank(const char *s) {
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) return 0;
    return 1;
}

/* ---- the data set ---- */

#define NTYPES 6
static const char *const type_names[NTYPES] = {
    "single-session-user", "single-session-assistant", "single-session-preference",
    "temporal-reasoning",  "knowledge-update",         "multi-session"};
static const char *const type_short[NTYPES] = {"ss-user", "ss-assist", "ss-pref",
                                               "temporal", "know-upd", "multi-sess"};

typedef struct bturn {
    const char *text; /* owned by the cJSON tree */
    int sess;         /* canonical session index (first occurrence of its id) */
    int turn;         /* index within its session */
    int user, gold, empty;
} bturn;

typedef struct bquestion {
    const char *id, *question;
    int type, abs;
    char qdate[32];     /* ISO-8601 */
    int nsess;
    const char **sess_id;
    char (*sess_date)[32];
    int *sess_gold;     /* session id is in answer_session_ids */
    int *sess_canon;    /* index of the first session with the same id */
    int *sess_off;      /* index of the session's first turn in turns[] */
    bturn *turns;
    int nturns;
} bquestion;

typedef struct dataset {
    cJSON *root;
    bquestion *q;
    int nq;
} dataset;

/* "2023/05/20 (Sat) 02:21" -> "2023-05-20T02:21:00Z"; the input on failure. */
static void iso_date(const char *in, char out[32]) {
    int y, mo, d, h = 0, mi = 0;
    if (sscanf(in, "%d/%d/%d (%*[^)]) %d:%d", &y, &mo, &d, &h, &mi) >= 3)
        snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:00Z", y, mo, d, h, mi);
    else
        snprintf(out, 32, "%.31s", in);
}

static const char *str_field(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static int session_index(const bquestion *q, const char *id) {
    for (int s = 0; s < q->nsess; s++)
        if (!strcmp(q->sess_id[s], id)) return q->sess_canon[s];
    return -1;
}

/* Reads the whole file; NULL if it cannot be read. */
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = xmalloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            cap *= 2;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static int load_dataset(const char *path, dataset *ds) {
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return -1;
    ds->root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsArray(ds->root)) {
        fprintf(stderr, "bench: %s is not a JSON array\n", path);
        return -2;
    }
    ds->nq = cJSON_GetArraySize(ds->root);
    ds->q = xcalloc((size_t)ds->nq, sizeof *ds->q);
    int i = 0;
    for (const cJSON *o = ds->root->child; o; o = o->next, i++) {
        bquestion *q = &ds->q[i];
        q->id = str_field(o, "question_id");
        q->question = str_field(o, "question");
        size_t idl = strlen(q->id);
        q->abs = idl >= 4 && !strcmp(q->id + idl - 4, "_abs");
        q->type = -1;
        for (int t = 0; t < NTYPES; t++)
            if (!strcmp(str_field(o, "question_type"), type_names[t])) q->type = t;
        iso_date(str_field(o, "question_date"), q->qdate);
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(o, "haystack_session_ids");
        const cJSON *dates = cJSON_GetObjectItemCaseSensitive(o, "haystack_dates");
        const cJSON *sessions = cJSON_GetObjectItemCaseSensitive(o, "haystack_sessions");
        const cJSON *answers = cJSON_GetObjectItemCaseSensitive(o, "answer_session_ids");
        q->nsess = cJSON_GetArraySize(sessions);
        q->sess_id = xcalloc((size_t)q->nsess, sizeof *q->sess_id);
        q->sess_date = xcalloc((size_t)q->nsess, sizeof *q->sess_date);
        q->sess_gold = xcalloc((size_t)q->nsess, sizeof(int));
        q->sess_canon = xcalloc((size_t)q->nsess, sizeof(int));
        q->sess_off = xcalloc((size_t)q->nsess, sizeof(int));
        int nturns = 0;
        for (const cJSON *s = sessions ? sessions->child : NULL; s; s = s->next)
            nturns += cJSON_GetArraySize(s);
        q->turns = xcalloc((size_t)nturns, sizeof *q->turns);
        int si = 0;
        for (const cJSON *s = sessions ? sessions->child : NULL; s; s = s->next, si++) {
            const cJSON *id = cJSON_GetArrayItem(ids, si);
            const cJSON *date = cJSON_GetArrayItem(dates, si);
            q->sess_id[si] = cJSON_IsString(id) ? id->valuestring : "";
            iso_date(cJSON_IsString(date) ? date->valuestring : "", q->sess_date[si]);
            q->sess_canon[si] = si;
            for (int k = 0; k < si; k++)
                if (!strcmp(q->sess_id[k], q->sess_id[si])) {
                    q->sess_canon[si] = k;
                    break;
                }
            for (const cJSON *a = answers ? answers->child : NULL; a; a = a->next)
                if (cJSON_IsString(a) && !strcmp(a->valuestring, q->sess_id[si])) q->sess_gold[si] = 1;
            q->sess_off[si] = q->nturns;
            int ti = 0;
            for (const cJSON *t = s->child; t; t = t->next, ti++) {
                bturn *bt = &q->turns[q->nturns++];
                bt->text = str_field(t, "content");
                bt->sess = q->sess_canon[si];
                bt->turn = ti;
                bt->user = !strcmp(str_field(t, "role"), "user");
                bt->gold = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "has_answer"));
                bt->empty = blank(bt->text);
            }
        }
    }
    return 0;
}

/* The turns[] index of (canonical session, turn index), or -1. */
static int turn_lookup(const bquestion *q, int sess, int turn) {
    if (sess < 0 || sess >= q->nsess || turn < 0) return -1;
    int i = q->sess_off[sess] + turn;
    int end = sess + 1 < q->nsess ? q->sess_off[sess + 1] : q->nturns;
    return i < end ? i : -1;
}

/* ---- ranking metrics ---- */

enum { M_ANY1, M_ANY5, M_ANY10, M_ALL1, M_ALL5, M_ALL10, M_NDCG1, M_NDCG5, M_NDCG10, M_MRR, M_N };

typedef struct acc {
    double sum[M_N];
    int n;
} acc;

/* rel[i]: 1 if the item at rank i+1 is gold; ngold: how many gold items exist. */
static void score_ranking(const int *rel, int n, int ngold, acc *a) {
    static const int ks[3] = {1, 5, 10};
    for (int j = 0; j < 3; j++) {
        int k = ks[j], cnt = 0;
        double dcg = 0, idcg = 0;
        for (int i = 0; i < k && i < n; i++)
            if (rel[i]) cnt++, dcg += 1.0 / log2(i + 2.0);
        for (int i = 0; i < k && i < ngold; i++) idcg += 1.0 / log2(i + 2.0);
        a->sum[M_ANY1 + j] += cnt > 0;
        a->sum[M_ALL1 + j] += cnt >= ngold;
        a->sum[M_NDCG1 + j] += idcg > 0 ? dcg / idcg : 0;
    }
    for (int i = 0; i < n; i++)
        if (rel[i]) {
            a->sum[M_MRR] += 1.0 / (i + 1);
            break;
        }
    a->n++;
}

static double mean(const acc *a, int m) { return a->n ? a->sum[m] / a->n : NAN; }

/* Words of a question as an FTS5 OR query of quoted terms ("" if none). */
static char *fts5_or_query(const char *q) {
    size_t n = strlen(q);
    char *out = xmalloc(n * 6 + 8);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)q[i];
        if (!(isalnum(c) || c >= 0x80)) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && (isalnum((unsigned char)q[j]) || (unsigned char)q[j] >= 0x80)) j++;
        if (o) memcpy(out + o, " OR ", 4), o += 4;
        out[o++] = '"';
        memcpy(out + o, q + i, j - i);
        o += j - i;
        out[o++] = '"';
        i = j;
    }
    out[o] = 0;
    return out;
}

#endif
