/*
** datetime.c: instants as epoch milliseconds, their ISO-8601 text, and the date
** ranges that natural-language questions name. See datetime.h.
**
** Calendar arithmetic is done here on proleptic Gregorian day numbers
** (Howard Hinnant's days_from_civil), never with timegm/mktime/locale/TZ:
** the same answers must come out natively, under WASI and in the browser.
*/
#include <string.h>
#include <stdio.h>

#include "datetime.h"

#define DAY_MS 86400000LL

/* ---- calendar ---------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q; /* b > 0 everywhere here */
}

static int64_t floor_mod(int64_t a, int64_t b) { return a - b * floor_div(a, b); }

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int64_t y, int m) {
    static const unsigned char n[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return (m == 2 && is_leap(y)) ? 29 : n[m - 1];
}

/* Days since 1970-01-01 of a valid y-m-d (any year, negative included). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Monday: weeks start on Monday (ISO), and 1970-01-01 was a Thursday. */
static int weekday(int64_t day) { return (int)floor_mod(day + 3, 7); }

/* First day of month m of year y; m may run past 1..12 (month arithmetic). */
static int64_t month_start(int64_t y, int64_t m) {
    y += floor_div(m - 1, 12);
    return days_from_civil(y, (int)floor_mod(m - 1, 12) + 1, 1);
}

int64_t mn_time_month_shift(int64_t day, int months) {
    int64_t y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    return month_start(y, m + months);
}

int mn_time_month_of(int64_t day) {
    int64_t y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    return m - 1;
}

/* ---- parse and format -------------------------------------------------- */

/* ASCII only, on purpose: <ctype.h> answers depend on the locale. */
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alpha(int c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static char lower(int c) { return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c); }

/* Reads exactly n digits. Stops at the first non-digit, so never reads past
** the terminating NUL. */
static int fixed(const char **p, int n, int *v) {
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((*p)[i])) return 0;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return 1;
}

static const char *const WDAY[7] = {"monday", "tuesday", "wednesday", "thursday",
                                    "friday", "saturday", "sunday"};

/* "HH:MM[:SS[.fff]]" into milliseconds of the day. */
static int clock_ms(const char **p, int64_t *ms) {
    int h, mi, s = 0, frac = 0;
    if (!fixed(p, 2, &h) || **p != ':') return 0;
    (*p)++;
    if (!fixed(p, 2, &mi)) return 0;
    if (**p == ':') {
        (*p)++;
        if (!fixed(p, 2, &s)) return 0;
        if (**p == '.') { /* keep milliseconds, truncate finer digits */
            int n = 0;
            for ((*p)++; is_digit(**p); (*p)++, n++)
                if (n < 3) frac = frac * 10 + (**p - '0');
            if (n == 0 || n > 9) return 0;
            for (; n < 3; n++) frac *= 10;
        }
    }
    if (h > 23 || mi > 59 || s > 60) return 0; /* 60: a leap second */
    *ms = h * 3600000LL + mi * 60000LL + s * 1000LL + frac;
    return 1;
}

int mn_time_parse(const char *s, int64_t *ms) {
    if (!s || !*s) return -1;
    const char *p = s;
    while (is_digit(*p)) p++;
    if (!*p) { /* all digits: epoch milliseconds; 18 digits cannot overflow */
        if (p - s > 18) return -1;
        int64_t v = 0;
        for (p = s; *p; p++) v = v * 10 + (*p - '0');
        *ms = v;
        return 0;
    }
    int y, mo, d;
    p = s;
    if (!fixed(&p, 4, &y) || (*p != '-' && *p != '/')) return -1;
    char sep = *p++;
    if (!fixed(&p, 2, &mo) || *p != sep) return -1;
    p++;
    if (!fixed(&p, 2, &d)) return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo)) return -1;
    int64_t day = days_from_civil(y, mo, d), tod = 0, off = 0;
    if (sep == '/') { /* LongMemEval: "2023/05/20 (Sat) 02:21" */
        if (p[0] == ' ' && p[1] == '(') {
            /* A weekday that disagrees with the date is an error, not a guess. */
            const char *w = WDAY[weekday(day)];
            for (int i = 0; i < 3; i++)
                if (lower(p[2 + i]) != w[i]) return -1;
            if (p[5] != ')') return -1;
            p += 6;
        }
        if (*p == ' ') {
            p++;
            if (!clock_ms(&p, &tod)) return -1;
        }
    } else if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ') return -1;
        p++;
        if (!clock_ms(&p, &tod)) return -1;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') { /* +HH:MM, +HHMM or +HH */
            int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
            if (!fixed(&p, 2, &oh)) return -1;
            if (*p == ':') {
                p++;
                if (!fixed(&p, 2, &om)) return -1;
            } else if (is_digit(*p) && !fixed(&p, 2, &om)) {
                return -1;
            }
            if (oh > 23 || om > 59) return -1;
            off = sign * (oh * 60 + om) * 60000LL;
        }
    }
    if (*p) return -1; /* trailing garbage */
    *ms = day * DAY_MS + tod - off; /* local = UTC + offset */
    return 0;
}

void mn_time_format(int64_t ms, char *out) {
    int64_t day = ms / DAY_MS, rem = ms % DAY_MS, y; /* floored without overflow */
    if (rem < 0) {
        rem += DAY_MS;
        day--;
    }
    int m, d;
    civil_from_days(day, &y, &m, &d);
    int n = snprintf(out, MN_TIME_ISO_MAX, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m,
                     d, (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60));
    if (rem % 1000) n += snprintf(out + n, MN_TIME_ISO_MAX - (size_t)n, ".%03d", (int)(rem % 1000));
    snprintf(out + n, MN_TIME_ISO_MAX - (size_t)n, "Z");
}

/* ---- natural-language ranges ------------------------------------------- */

/* A question is cut into words and numbers; patterns then look at a few
** neighbours. 256 tokens is far beyond any question; later ones are ignored. */
#define MAX_TOK 256
enum { T_WORD, T_NUM, T_DATE };
enum { U_DAY = 1, U_WEEK, U_MONTH, U_YEAR };

typedef struct {
    char w[12];          /* lowercased word; "" when too long to be one of ours */
    int32_t num;         /* T_NUM value (-1 when huge); T_DATE year */
    unsigned char kind;
    unsigned char ndig;  /* digits in a T_NUM */
    unsigned char ord;   /* "5th": an ordinal suffix followed */
    unsigned char cap;   /* first letter upper case */
    signed char m, d;    /* T_DATE month and day (d 0: the whole month) */
} tok;

typedef struct {
    const tok *t;
    int n;
    int64_t today, y; /* day number and calendar of now */
    int m, d, wd;
} ctx;

static char at(const char *q, size_t len, size_t i) { return i < len ? q[i] : 0; }

/* "2023-05-01", "2023-05" or "2023/05/01" starting at q[i] (4 digits seen). */
static size_t iso_date(const char *q, size_t len, size_t i, tok *k) {
    char sep = at(q, len, i + 4);
    size_t j = i + 5;
    if ((sep != '-' && sep != '/') || !is_digit(at(q, len, j)) || !is_digit(at(q, len, j + 1)))
        return 0;
    int m = (q[j] - '0') * 10 + (q[j + 1] - '0'), d = 0;
    j += 2;
    if (at(q, len, j) == sep) { /* a day must follow: "2023-05-" is no date */
        if (!is_digit(at(q, len, j + 1)) || !is_digit(at(q, len, j + 2))) return 0;
        d = (q[j + 1] - '0') * 10 + (q[j + 2] - '0');
        j += 3;
        if (d < 1) return 0;
    }
    if (is_digit(at(q, len, j)) || m < 1 || m > 12) return 0;
    if (d == 0 && sep == '/') return 0; /* "2023/05" reads as a fraction as much as a month */
    if (d && d > month_days(k->num, m)) return 0;
    k->kind = T_DATE;
    k->m = (signed char)m;
    k->d = (signed char)d;
    return j;
}

static int tokenize(const char *q, size_t len, tok *t) {
    int n = 0;
    size_t i = 0;
    while (i < len && n < MAX_TOK) {
        unsigned char c = (unsigned char)q[i];
        size_t j = i;
        tok *k = &t[n];
        if (!is_alpha(c) && !is_digit(c)) {
            i++;
            continue;
        }
        memset(k, 0, sizeof *k);
        n++;
        if (is_alpha(c)) {
            while (j < len && is_alpha(q[j])) j++;
            k->kind = T_WORD;
            k->cap = c >= 'A' && c <= 'Z';
            if (j - i < sizeof k->w)
                for (size_t x = 0; x < j - i; x++) k->w[x] = lower(q[i + x]);
            i = j;
            continue;
        }
        int64_t v = 0;
        while (j < len && is_digit(q[j])) {
            if (v < 100000000) v = v * 10 + (q[j] - '0');
            j++;
        }
        k->kind = T_NUM;
        k->ndig = (unsigned char)(j - i > 200 ? 200 : j - i);
        k->num = v >= 100000000 ? -1 : (int32_t)v;
        size_t e = k->ndig == 4 ? iso_date(q, len, i, k) : 0;
        if (e) {
            i = e;
            continue;
        }
        char a = lower(at(q, len, j)), b = lower(at(q, len, j + 1));
        if (((a == 's' && b == 't') || (a == 'n' && b == 'd') || (a == 'r' && b == 'd') ||
             (a == 't' && b == 'h')) && !is_alpha(at(q, len, j + 2))) {
            k->ord = 1;
            j += 2;
        }
        i = j;
    }
    return n;
}

static const char *word(const ctx *c, int i) {
    return (i >= 0 && i < c->n && c->t[i].kind == T_WORD) ? c->t[i].w : "";
}

static int is(const ctx *c, int i, const char *w) { return strcmp(word(c, i), w) == 0; }

/* Is w one of the space-separated words of list? */
static int among(const char *w, const char *list) {
    size_t n = strlen(w);
    for (const char *p = list; n && (p = strstr(p, w)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n])) return 1;
    return 0;
}

/* A day-of-month number (1..31) or a 4-digit year at token i, else 0. */
static int day_num(const ctx *c, int i) {
    const tok *k = (i >= 0 && i < c->n) ? &c->t[i] : NULL;
    return (k && k->kind == T_NUM && k->ndig <= 2 && k->num >= 1 && k->num <= 31) ? k->num : 0;
}

static int year_num(const ctx *c, int i) {
    const tok *k = (i >= 0 && i < c->n) ? &c->t[i] : NULL;
    return (k && k->kind == T_NUM && k->ndig == 4 && !k->ord) ? k->num : 0;
}

/* Month of a word, with how much context it needs: 0 none ("January"),
** 1 an abbreviation ("Jan" is also a name), 2 also a verb ("may", "march"). */
static int month_of(const char *w, int *weak) {
    static const char *const full[12] = {"january", "february", "march",     "april",
                                         "may",     "june",     "july",      "august",
                                         "september", "october", "november", "december"};
    for (int m = 0; m < 12; m++) {
        if (strcmp(w, full[m]) == 0) {
            *weak = (m == 2 || m == 4) ? 2 : 0;
            return m + 1;
        }
        if (strlen(w) >= 3 && strlen(w) <= 4 && strncmp(w, full[m], strlen(w)) == 0 &&
            (strlen(w) == 3 || strcmp(w, "sept") == 0)) {
            *weak = m == 2 ? 2 : 1;
            return m + 1;
        }
    }
    return 0;
}

static int weekday_of(const char *w) {
    for (int i = 0; i < 7; i++)
        if (strcmp(w, WDAY[i]) == 0) return i;
    return -1;
}

static int unit_of(const char *w) {
    static const char *const u[4] = {"day", "week", "month", "year"};
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(u[i]);
        if (strncmp(w, u[i], n) == 0 && (!w[n] || (w[n] == 's' && !w[n + 1]))) return i + 1;
    }
    return 0;
}

/* A count at token i ("3", "three", "a", "a couple of", "a few"): returns the
** tokens it spans, 0 if none. *few marks a vague count (few, several). */
static int count_at(const ctx *c, int i, int *v, int *few) {
    static const char *const words[] = {"one", "two", "three", "four", "five", "six",
                                        "seven", "eight", "nine", "ten", "eleven", "twelve",
                                        "thirteen", "fourteen", "fifteen", "sixteen",
                                        "seventeen", "eighteen", "nineteen", "twenty"};
    const char *w = word(c, i);
    int s = i;
    *few = 0;
    if (i >= 0 && i < c->n && c->t[i].kind == T_NUM) {
        if (c->t[i].ord || c->t[i].num < 1 || c->t[i].num > 9999) return 0;
        *v = c->t[i].num;
        return 1;
    }
    for (int k = 0; k < 20; k++)
        if (strcmp(w, words[k]) == 0) {
            *v = k + 1;
            return 1;
        }
    if (!strcmp(w, "thirty")) {
        *v = 30;
        return 1;
    }
    if (!strcmp(w, "a") || !strcmp(w, "an")) w = word(c, ++i);
    if (!strcmp(w, "couple")) {
        *v = 2;
    } else if (!strcmp(w, "few") || !strcmp(w, "several")) {
        *v = 5; /* the far end: "a few days ago" spans 2..5 days back */
        *few = 1;
    } else if (i > s) { /* "a week" */
        *v = 1;
        return 1;
    } else {
        return 0;
    }
    return i - s + 1 + is(c, i + 1, "of");
}

/* The calendar unit k units from now's (k < 0: past) as [a, b) day numbers. */
static void unit_range(const ctx *c, int unit, int64_t k, int64_t *a, int64_t *b) {
    if (unit == U_DAY) {
        *a = c->today + k, *b = *a + 1;
    } else if (unit == U_WEEK) {
        *a = c->today - c->wd + 7 * k, *b = *a + 7;
    } else if (unit == U_MONTH) {
        *a = month_start(c->y, c->m + k), *b = month_start(c->y, c->m + k + 1);
    } else {
        *a = days_from_civil(c->y + k, 1, 1), *b = days_from_civil(c->y + k + 1, 1, 1);
    }
}

/* "the past N units": from the same day N units back through today. */
static void rolling(const ctx *c, int unit, int64_t k, int64_t *a, int64_t *b) {
    *b = c->today + 1;
    if (unit == U_DAY || unit == U_WEEK) {
        *a = c->today - (unit == U_WEEK ? 7 * k : k);
    } else {
        int64_t m = c->m - 1 - (unit == U_MONTH ? k : 12 * k);
        int64_t y = c->y + floor_div(m, 12);
        int mm = (int)floor_mod(m, 12) + 1, dd = c->d;
        if (dd > month_days(y, mm)) dd = month_days(y, mm); /* Mar 31 - 1 month */
        *a = days_from_civil(y, mm, dd);
    }
}

/* Day dd of month m: of year y when given, else the latest one not after today
** (looking back far enough to find a Feb 29). */
static int month_day(const ctx *c, int m, int dd, int y, int64_t *a, int64_t *b) {
    if (y) {
        if (dd > month_days(y, m)) return 0;
        *a = days_from_civil(y, m, dd);
    } else {
        int64_t yy = c->y;
        for (;; yy--) {
            if (yy < c->y - 8) return 0;
            if (dd <= month_days(yy, m) && days_from_civil(yy, m, dd) <= c->today) break;
        }
        *a = days_from_civil(yy, m, dd);
    }
    *b = *a + 1;
    return 1;
}

/* A month word at token i, with what surrounds it. */
static int month_at(const ctx *c, int i, int64_t *a, int64_t *b) {
    int weak, m = month_of(word(c, i), &weak);
    if (!m) return 0;
    const char *prev = word(c, i - 1);
    int cap = c->t[i].cap, dd = day_num(c, i + 1);
    int y = dd ? year_num(c, i + 2) : year_num(c, i + 1 + is(c, i + 1, "of"));
    /* "may" and "march" are verbs far more often than months in questions. */
    int ctx_ok = among(prev, "in last next of since during early mid late until from") ||
                 (!strcmp(prev, "this") && cap);
    int num_ok = (dd || y) && (weak < 2 || cap || (dd && c->t[i + 1].ord));
    if (!(weak == 0 || ctx_ok || num_ok)) return 0;
    if (num_ok && dd) return month_day(c, m, dd, y, a, b);
    if (num_ok && y) {
        *a = month_start(y, m), *b = month_start(y, m + 1);
        return 1;
    }
    int64_t yy = c->y;
    if (!strcmp(prev, "last")) yy -= m >= c->m;      /* strictly before this month */
    else if (!strcmp(prev, "next")) yy += m <= c->m; /* strictly after */
    else if (strcmp(prev, "this")) yy -= m > c->m;   /* the latest not after now */
    *a = month_start(yy, m), *b = month_start(yy, m + 1);
    return 1;
}

/* Everything that can start at token i; [a, b) in day numbers. */
static int match(const ctx *c, int i, int64_t *a, int64_t *b) {
    const tok *k = &c->t[i];
    const char *w = word(c, i), *nx = word(c, i + 1);
    int v, few, span, unit, wd, weak;
    if (k->kind == T_DATE) {
        if (k->d) return month_day(c, k->m, k->d, k->num, a, b);
        *a = month_start(k->num, k->m), *b = month_start(k->num, k->m + 1);
        return 1;
    }
    /* "3 days ago", "a couple of weeks ago", "a few months ago" */
    if ((span = count_at(c, i, &v, &few)) && (unit = unit_of(word(c, i + span))) &&
        is(c, i + span + 1, "ago")) {
        int64_t a2, b2;
        unit_range(c, unit, few ? -5 : -v, a, b);
        unit_range(c, unit, few ? -2 : -v, &a2, &b2);
        *b = b2;
        return 1;
    }
    if (k->kind == T_NUM) {
        int dd = day_num(c, i), j = i + 1 + is(c, i + 1, "of"), m;
        /* "5 May", "5th of May 2023" */
        if (dd && (m = month_of(word(c, j), &weak)) && (weak < 2 || c->t[j].cap || k->ord))
            return month_day(c, m, dd, year_num(c, j + 1), a, b);
        /* "in 2022": a bare number is a year only after such a word */
        int y = year_num(c, i);
        if (y >= 1900 && y <= 2199 && among(word(c, i - 1), "in during since of from year")) {
            *a = days_from_civil(y, 1, 1), *b = days_from_civil(y + 1, 1, 1);
            return 1;
        }
        return 0;
    }
    if (among(w, "today tonight")) return unit_range(c, U_DAY, 0, a, b), 1;
    if (!strcmp(w, "yesterday")) return unit_range(c, U_DAY, -1, a, b), 1;
    if (!strcmp(w, "tomorrow")) return unit_range(c, U_DAY, 1, a, b), 1;
    if (!strcmp(w, "day") && !strcmp(nx, "before") && is(c, i + 2, "yesterday"))
        return unit_range(c, U_DAY, -2, a, b), 1;
    if (among(w, "recently lately")) { /* recency, not a date: the past 30 days */
        *a = c->today - 30, *b = c->today + 1;
        return 1;
    }
    if (among(w, "last past previous this next")) {
        int step = !strcmp(w, "this") ? 0 : !strcmp(w, "next") ? 1 : -1;
        /* "the past 3 days", "last couple of weeks": rolling, through today */
        if (step < 0 && (span = count_at(c, i + 1, &v, &few)) &&
            (unit = unit_of(word(c, i + 1 + span)))) {
            rolling(c, unit, v, a, b);
            return 1;
        }
        if (!strcmp(nx, "weekend") || (!strcmp(nx, "week") && is(c, i + 2, "end"))) {
            *a = c->today - c->wd + 7 * step + 5, *b = *a + 2;
            return 1;
        }
        if (!strcmp(w, "last") && !strcmp(nx, "night")) return unit_range(c, U_DAY, -1, a, b), 1;
        if (step == 0 && among(nx, "morning afternoon evening"))
            return unit_range(c, U_DAY, 0, a, b), 1;
        /* Singular units only, and not "day": "my last day at work" is no date. */
        if ((unit = unit_of(nx)) > U_DAY && nx[strlen(nx) - 1] != 's') {
            /* "past week" and "the last week" roll; "last week" is the calendar one */
            if (!strcmp(w, "past") || (!strcmp(w, "last") && is(c, i - 1, "the")))
                return rolling(c, unit, 1, a, b), 1;
            return unit_range(c, unit, step, a, b), 1;
        }
        if ((wd = weekday_of(nx)) >= 0) {
            int64_t back = floor_mod(c->wd - wd, 7);
            if (step == 0) *a = c->today - c->wd + wd; /* this Monday: of this week */
            else if (step < 0) *a = c->today - (back ? back : 7);
            else *a = c->today + (back ? 7 - back : 7);
            *b = *a + 1;
            return 1;
        }
        return 0; /* "last May" is seen at "May", which looks back */
    }
    if ((wd = weekday_of(w)) >= 0) { /* "on Monday": the latest one, today included */
        *a = c->today - floor_mod(c->wd - wd, 7), *b = *a + 1;
        return 1;
    }
    return month_at(c, i, a, b);
}

int mn_time_query_range(const char *q, size_t len, int64_t now_ms, int64_t *from, int64_t *to) {
    tok t[MAX_TOK];
    ctx c;
    if (!q || !from || !to) return 0;
    c.t = t;
    c.n = tokenize(q, len, t);
    c.today = floor_div(now_ms, DAY_MS);
    if (c.today < -100000000 || c.today > 100000000) return 0; /* keeps *DAY_MS in range */
    civil_from_days(c.today, &c.y, &c.m, &c.d);
    c.wd = weekday(c.today);
    for (int i = 0; i < c.n; i++) {
        int64_t a, b;
        if (!match(&c, i, &a, &b)) continue;
        /* "since May", "since last week": from then through today */
        if ((is(&c, i - 1, "since") || is(&c, i - 2, "since")) && a <= c.today) b = c.today + 1;
        *from = a * DAY_MS;
        *to = b * DAY_MS;
        return 1;
    }
    return 0;
}
