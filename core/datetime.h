/*
** datetime.h: instants as int64 milliseconds since the epoch (UTC), their
** ISO-8601 text, and the dates a natural-language query names.
*/
#ifndef MN_DATETIME_H
#define MN_DATETIME_H

#include "common.h"

/* Parses an instant. Accepts ISO-8601 / RFC 3339: "2023-05-20",
** "2023-05-20T02:21", "2023-05-20T02:21:00Z", "...:00.123+02:00", a space
** instead of 'T'; LongMemEval's "2023/05/20 (Sat) 02:21"; and an all-digit
** string of epoch milliseconds. Times without an offset are UTC.
** Returns 0 and sets *ms, or -1 for anything else (nothing is guessed). */
MN_FUNC int mn_time_parse(const char *s, int64_t *ms);

/* Writes "2023-05-20T02:21:00Z" (with ".123" when ms is not whole seconds)
** into out, NUL-terminated. out must hold MN_TIME_ISO_MAX bytes. */
#define MN_TIME_ISO_MAX 32
MN_FUNC void mn_time_format(int64_t ms, char *out);

/* Calendar arithmetic on days since 1970-01-01 (UTC): the first day of the
** month `months` after the month of `day` (0: its own month), and the month
** of `day`, 0 for January ... 11 for December. */
MN_FUNC int64_t mn_time_month_shift(int64_t day, int months);
MN_FUNC int mn_time_month_of(int64_t day);

/* Finds a time range named in a natural-language query, relative to now_ms:
** "yesterday", "today", "last week/month/year", "this week", "N days/weeks/
** months ago", "in May" / "last May" (most recent May not after now),
** "May 2023", "May 5th", "5 May", "2023-05-01", "in 2022", weekday names
** ("on Monday" = the most recent one), "last weekend", "two weeks ago".
** Returns 1 with [*from, *to) set (to exclusive), or 0 when none is named. */
MN_FUNC int mn_time_query_range(const char *q, size_t len, int64_t now_ms,
                                int64_t *from, int64_t *to);

#endif
