#include "test.h"
#include "datetime.h"

static int64_t day_at(const char *iso) {
    int64_t ms = 0;
    mn_time_parse(iso, &ms);
    return ms / 86400000;
}

void test_time__shifts_months_across_years(void) {
    CHECK_INT(mn_time_month_shift(day_at("2024-11-21"), 1), day_at("2024-12-01"));
    CHECK_INT(mn_time_month_shift(day_at("2024-11-21"), 2), day_at("2025-01-01"));
    CHECK_INT(mn_time_month_shift(day_at("2024-03-31"), 0), day_at("2024-03-01"));
    CHECK_INT(mn_time_month_shift(day_at("2024-03-31"), -3), day_at("2023-12-01"));
    CHECK_INT(mn_time_month_of(day_at("2024-02-29")), 1);
    CHECK_INT(mn_time_month_of(day_at("1969-12-31")), 11);
}

/* -Wmissing-prototypes wants each test declared before it is defined; the
** test list declares them all (the list a lone-module build uses, if any). */
#ifdef MNEMO_TEST_LIST
#include MNEMO_TEST_LIST
#else
#include "test_list.h"
#endif
#define DECLARE(name) void name(void);
MNEMO_TESTS(DECLARE)
#undef DECLARE

/* An instant the tests know to be valid; INT64_MIN makes a typo loud. */
static int64_t P(const char *s) {
    int64_t v = INT64_MIN;
    if (mn_time_parse(s, &v) != 0) fprintf(stderr, "  cannot parse \"%s\"\n", s);
    return v;
}

/* Saturday 2023-05-20, 02:21 UTC: the "now" of every query test. */
#define NOW P("2023-05-20T02:21:00Z")

static int rejects(const char *s) {
    int64_t v = 12345;
    int rc = mn_time_parse(s, &v);
    if (rc != -1) fprintf(stderr, "  \"%s\" parsed, expected a rejection\n", s);
    return rc == -1 && v == 12345;
}

/* Does q name [from, to) (day texts for the parser) relative to now? */
static int range_is(const char *q, int64_t now, const char *from, const char *to) {
    int64_t f = 0, t = 0;
    char fs[MN_TIME_ISO_MAX] = "", ts[MN_TIME_ISO_MAX] = "";
    int rc = mn_time_query_range(q, strlen(q), now, &f, &t);
    if (rc == 1 && f == P(from) && t == P(to)) return 1;
    mn_time_format(f, fs);
    mn_time_format(t, ts);
    fprintf(stderr, "  \"%s\": rc %d [%s, %s), expected [%s, %s)\n", q, rc, rc ? fs : "-",
            rc ? ts : "-", from, to);
    return 0;
}

static int names_nothing(const char *q) {
    int64_t f = 0, t = 0;
    char fs[MN_TIME_ISO_MAX], ts[MN_TIME_ISO_MAX];
    if (mn_time_query_range(q, strlen(q), NOW, &f, &t) == 0) return 1;
    mn_time_format(f, fs);
    mn_time_format(t, ts);
    fprintf(stderr, "  \"%s\" named [%s, %s), expected nothing\n", q, fs, ts);
    return 0;
}

/* ---- parse ------------------------------------------------------------- */

void test_time__parses_date_and_minutes(void) {
    int64_t v;
    CHECK_INT(mn_time_parse("2023-05-20", &v), 0);
    CHECK_INT(v, 1684540800000LL);
    CHECK_INT(mn_time_parse("2023-05-20T02:21", &v), 0);
    CHECK_INT(v, 1684549260000LL);
    CHECK_INT(mn_time_parse("2023-05-20T02:21:00Z", &v), 0);
    CHECK_INT(v, 1684549260000LL);
    CHECK_INT(mn_time_parse("1970-01-01", &v), 0);
    CHECK_INT(v, 0);
}

void test_time__parses_iso_with_offset(void) {
    int64_t z = P("2023-05-20T02:21:00Z");
    CHECK_INT(P("2023-05-20T04:21:00.000+02:00"), z);
    CHECK_INT(P("2023-05-19T21:21:00-05:00"), z);
    CHECK_INT(P("2023-05-20T07:51:00+0530"), z);
    CHECK_INT(P("2023-05-20T03:21:00+01"), z);
    CHECK_INT(P("2023-05-20T02:21:00-00:00"), z);
    CHECK_INT(P("2023-05-20T02:21:00.123+02:00"), z - 2 * 3600000LL + 123);
}

void test_time__parses_space_lowercase_z_and_fraction(void) {
    int64_t z = P("2023-05-20T02:21:00Z");
    CHECK_INT(P("2023-05-20 02:21:00z"), z);
    CHECK_INT(P("2023-05-20t02:21"), z);
    CHECK_INT(P("2023-05-20T02:21:00.5Z"), z + 500);
    CHECK_INT(P("2023-05-20T02:21:00.123456789Z"), z + 123); /* truncated, not rounded */
    CHECK_INT(P("2016-12-31T23:59:60Z"), P("2017-01-01")); /* a leap second */
}

void test_time__parses_longmemeval_format(void) {
    int64_t z = P("2023-05-20T02:21:00Z");
    CHECK_INT(P("2023/05/20 (Sat) 02:21"), z);
    CHECK_INT(P("2023/05/20 (sat) 02:21"), z);
    CHECK_INT(P("2023/05/20 02:21"), z);
    CHECK_INT(P("2023/05/20"), P("2023-05-20"));
    CHECK_INT(P("2023/05/20 (Sat)"), P("2023-05-20"));
    CHECK(rejects("2023/05/20 (Fri) 02:21")); /* the weekday disagrees */
    CHECK(rejects("2023/05/20 (Xyz) 02:21"));
    CHECK(rejects("2023/05/20(Sat) 02:21"));
    CHECK(rejects("2023/05-20"));
    CHECK(rejects("2023/05/20 02:21Z"));
}

void test_time__parses_epoch_millis(void) {
    int64_t v;
    CHECK_INT(mn_time_parse("1684549260000", &v), 0);
    CHECK_INT(v, P("2023-05-20T02:21:00Z"));
    CHECK_INT(mn_time_parse("0", &v), 0);
    CHECK_INT(v, 0);
    CHECK(rejects("-1000"));
    CHECK(rejects("1234567890123456789")); /* 19 digits could overflow */
    CHECK(rejects("12 34"));
}

void test_time__rejects_feb_30(void) {
    CHECK(rejects("2023-02-30"));
    CHECK(rejects("2023-02-29"));
    CHECK(rejects("1900-02-29")); /* centuries are not leap years... */
    CHECK_INT(P("2000-02-29") + 86400000LL, P("2000-03-01")); /* ...unless by 400 */
    CHECK_INT(P("2024-02-29") + 86400000LL, P("2024-03-01"));
    CHECK(rejects("2023-04-31"));
    CHECK_INT(P("2023-12-31") + 86400000LL, P("2024-01-01"));
}

void test_time__rejects_out_of_range_fields(void) {
    CHECK(rejects("2023-00-10"));
    CHECK(rejects("2023-13-10"));
    CHECK(rejects("2023-05-00"));
    CHECK(rejects("2023-05-32"));
    CHECK(rejects("2023-05-20T24:00"));
    CHECK(rejects("2023-05-20T23:60"));
    CHECK(rejects("2023-05-20T23:59:61"));
    CHECK(rejects("2023-05-20T02:21:00+24:00"));
    CHECK(rejects("2023-05-20T02:21:00+02:60"));
}

void test_time__rejects_malformed_and_trailing_garbage(void) {
    CHECK(rejects(""));
    CHECK(rejects("yesterday"));
    CHECK(rejects("2023-05-20x"));
    CHECK(rejects("2023-05-20T02:21:00Zx"));
    CHECK(rejects("2023-05-20 "));
    CHECK(rejects(" 2023-05-20"));
    CHECK(rejects("2023-5-20"));
    CHECK(rejects("23-05-20"));
    CHECK(rejects("2023-05-20T02"));
    CHECK(rejects("2023-05-20T02:21:00."));
    CHECK(rejects("2023-05-20T02:21:00+2"));
    CHECK(rejects("2023-05-20T"));
    CHECK(rejects("2023-05-20+02:00")); /* an offset needs a time */
    CHECK(rejects("2023-05"));
    CHECK(mn_time_parse(NULL, NULL) == -1);
}

void test_time__parses_years_0000_to_9999(void) {
    CHECK_INT(P("0000-01-01"), -62167219200000LL);
    CHECK_INT(P("0000-02-29") + 86400000LL, P("0000-03-01")); /* year 0 is leap */
    CHECK_INT(P("9999-12-31T23:59:59.999Z"), 253402300799999LL);
    CHECK_INT(P("1969-12-31T23:59:59.999Z"), -1);
}

/* ---- format ------------------------------------------------------------ */

void test_time__formats_whole_seconds_and_millis(void) {
    char s[MN_TIME_ISO_MAX];
    mn_time_format(1684549260000LL, s);
    CHECK_STR(s, "2023-05-20T02:21:00Z");
    mn_time_format(1684549260123LL, s);
    CHECK_STR(s, "2023-05-20T02:21:00.123Z");
    mn_time_format(1684549260007LL, s);
    CHECK_STR(s, "2023-05-20T02:21:00.007Z");
    mn_time_format(0, s);
    CHECK_STR(s, "1970-01-01T00:00:00Z");
}

void test_time__formats_before_epoch(void) {
    char s[MN_TIME_ISO_MAX];
    mn_time_format(-1, s);
    CHECK_STR(s, "1969-12-31T23:59:59.999Z");
    mn_time_format(-86400000LL, s);
    CHECK_STR(s, "1969-12-31T00:00:00Z");
    mn_time_format(-62167219200000LL, s);
    CHECK_STR(s, "0000-01-01T00:00:00Z");
    mn_time_format(P("1900-03-01T12:00:00Z") - 1000, s);
    CHECK_STR(s, "1900-03-01T11:59:59Z");
    mn_time_format(INT64_MIN, s); /* absurd, but must stay in the buffer */
    CHECK(strlen(s) < MN_TIME_ISO_MAX);
    mn_time_format(INT64_MAX, s);
    CHECK(strlen(s) < MN_TIME_ISO_MAX);
}

void test_time__round_trips_format_and_parse(void) {
    static const int64_t v[] = {0, 1, -1, 999, -999, 1000, -1000, 1684549260123LL,
                                951782400000LL, -2208988800000LL, -62167219200000LL,
                                253402300799999LL, -12219292800000LL};
    char s[MN_TIME_ISO_MAX];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int64_t back = 0;
        mn_time_format(v[i], s);
        CHECK_INT(mn_time_parse(s, &back), 0);
        CHECK_INT(back, v[i]);
    }
    /* every day of 400 years (a full Gregorian cycle), at a varying time */
    int64_t t = P("1800-01-01") + 3723004;
    for (int d = 0; d < 146097; d++, t += 86400000LL + 1001) {
        int64_t back = 0;
        mn_time_format(t, s);
        CHECK_INT(mn_time_parse(s, &back), 0);
        CHECK_INT(back, t);
    }
}

/* ---- query ranges ------------------------------------------------------ */

void test_time__finds_today_and_yesterday(void) {
    CHECK(range_is("What did I eat today?", NOW, "2023-05-20", "2023-05-21"));
    CHECK(range_is("what did I do YESTERDAY", NOW, "2023-05-19", "2023-05-20"));
    CHECK(range_is("and the day before yesterday?", NOW, "2023-05-18", "2023-05-19"));
    CHECK(range_is("Where did I go last night?", NOW, "2023-05-19", "2023-05-20"));
    CHECK(range_is("What is planned for tomorrow?", NOW, "2023-05-21", "2023-05-22"));
    /* the first expression named wins */
    CHECK(range_is("yesterday or last week?", NOW, "2023-05-19", "2023-05-20"));
    /* now just before midnight, and before 1970 */
    CHECK(range_is("today", P("2023-05-20T23:59:59.999Z"), "2023-05-20", "2023-05-21"));
    CHECK(range_is("yesterday", P("1960-03-01T05:00:00Z"), "1960-02-29", "1960-03-01"));
}

void test_time__finds_days_ago(void) {
    CHECK(range_is("What did I buy 3 days ago?", NOW, "2023-05-17", "2023-05-18"));
    CHECK(range_is("two days ago", NOW, "2023-05-18", "2023-05-19"));
    CHECK(range_is("a couple of days ago", NOW, "2023-05-18", "2023-05-19"));
    CHECK(range_is("a day ago", NOW, "2023-05-19", "2023-05-20"));
    CHECK(range_is("twenty days ago", NOW, "2023-04-30", "2023-05-01"));
    CHECK(range_is("a few days ago", NOW, "2023-05-15", "2023-05-19"));
}

void test_time__finds_weeks_ago_as_monday_weeks(void) {
    CHECK(range_is("a week ago", NOW, "2023-05-08", "2023-05-15"));
    CHECK(range_is("What happened two weeks ago?", NOW, "2023-05-01", "2023-05-08"));
    CHECK(range_is("2 weeks ago", NOW, "2023-05-01", "2023-05-08"));
    /* on a Monday the week is the one starting that Monday */
    CHECK(range_is("1 week ago", P("2023-05-22T08:00:00Z"), "2023-05-15", "2023-05-22"));
}

void test_time__finds_months_and_years_ago(void) {
    CHECK(range_is("3 months ago", NOW, "2023-02-01", "2023-03-01"));
    CHECK(range_is("a month ago", NOW, "2023-04-01", "2023-05-01"));
    CHECK(range_is("six months ago", NOW, "2022-11-01", "2022-12-01"));
    CHECK(range_is("two years ago", NOW, "2021-01-01", "2022-01-01"));
    CHECK(range_is("a year ago", NOW, "2022-01-01", "2023-01-01"));
}

void test_time__finds_last_and_this_week(void) {
    CHECK(range_is("What did I do last week?", NOW, "2023-05-08", "2023-05-15"));
    CHECK(range_is("earlier this week", NOW, "2023-05-15", "2023-05-22"));
    CHECK(range_is("the previous week", NOW, "2023-05-08", "2023-05-15"));
    CHECK(range_is("next week", NOW, "2023-05-22", "2023-05-29"));
    /* "past week" and "the last week" roll back 7 days through today */
    CHECK(range_is("in the past week", NOW, "2023-05-13", "2023-05-21"));
    CHECK(range_is("in the last week", NOW, "2023-05-13", "2023-05-21"));
}

void test_time__finds_last_and_this_month_and_year(void) {
    CHECK(range_is("last month", NOW, "2023-04-01", "2023-05-01"));
    CHECK(range_is("this month", NOW, "2023-05-01", "2023-06-01"));
    CHECK(range_is("last year", NOW, "2022-01-01", "2023-01-01"));
    CHECK(range_is("this year", NOW, "2023-01-01", "2024-01-01"));
    CHECK(range_is("last month", P("2023-01-10"), "2022-12-01", "2023-01-01"));
    CHECK(range_is("in the past month", NOW, "2023-04-20", "2023-05-21"));
    CHECK(range_is("in the last year", NOW, "2022-05-20", "2023-05-21"));
    /* 31 March minus a month clamps to the end of February */
    CHECK(range_is("past month", P("2023-03-31"), "2023-02-28", "2023-04-01"));
}

void test_time__finds_past_n_days(void) {
    CHECK(range_is("in the past 3 days", NOW, "2023-05-17", "2023-05-21"));
    CHECK(range_is("over the last seven days", NOW, "2023-05-13", "2023-05-21"));
    CHECK(range_is("the past two weeks", NOW, "2023-05-06", "2023-05-21"));
    CHECK(range_is("the last couple of months", NOW, "2023-03-20", "2023-05-21"));
    CHECK(range_is("past few days", NOW, "2023-05-15", "2023-05-21"));
}

void test_time__finds_last_weekend(void) {
    /* on Saturday, last weekend is the previous week's */
    CHECK(range_is("last weekend", NOW, "2023-05-13", "2023-05-15"));
    CHECK(range_is("this weekend", NOW, "2023-05-20", "2023-05-22"));
    /* on Monday, it is the one just gone */
    CHECK(range_is("What did I do last weekend?", P("2023-05-22T09:00:00Z"), "2023-05-20",
                   "2023-05-22"));
    CHECK(range_is("this past weekend", P("2023-05-22T09:00:00Z"), "2023-05-20",
                   "2023-05-22"));
}

void test_time__finds_in_may(void) {
    /* the latest May not after now: this one */
    CHECK(range_is("What did I do in May?", NOW, "2023-05-01", "2023-06-01"));
    CHECK(range_is("in June", NOW, "2022-06-01", "2022-07-01"));
    CHECK(range_is("What happened in January?", NOW, "2023-01-01", "2023-02-01"));
    CHECK(range_is("my November trip", NOW, "2022-11-01", "2022-12-01"));
    CHECK(range_is("in early march", NOW, "2023-03-01", "2023-04-01"));
    CHECK(range_is("this June", NOW, "2023-06-01", "2023-07-01"));
}

void test_time__finds_last_may_before_now(void) {
    /* "last May" in May is the year before */
    CHECK(range_is("What did I do last May?", NOW, "2022-05-01", "2022-06-01"));
    CHECK(range_is("last April", NOW, "2023-04-01", "2023-05-01"));
    CHECK(range_is("last June", NOW, "2022-06-01", "2022-07-01"));
    CHECK(range_is("last may", P("2023-06-02"), "2023-05-01", "2023-06-01"));
}

void test_time__finds_month_with_day_or_year(void) {
    CHECK(range_is("in May 2022", NOW, "2022-05-01", "2022-06-01"));
    CHECK(range_is("May of 2021", NOW, "2021-05-01", "2021-06-01"));
    CHECK(range_is("on May 5th", NOW, "2023-05-05", "2023-05-06"));
    CHECK(range_is("May 25th", NOW, "2022-05-25", "2022-05-26")); /* not in the future */
    CHECK(range_is("on 5 May", NOW, "2023-05-05", "2023-05-06"));
    CHECK(range_is("the 3rd of March", NOW, "2023-03-03", "2023-03-04"));
    CHECK(range_is("on May 5, 2022", NOW, "2022-05-05", "2022-05-06"));
    CHECK(range_is("5th May 2021", NOW, "2021-05-05", "2021-05-06"));
    CHECK(range_is("December 25", NOW, "2022-12-25", "2022-12-26"));
    CHECK(range_is("on February 29", NOW, "2020-02-29", "2020-03-01"));
    CHECK(range_is("may 5th", NOW, "2023-05-05", "2023-05-06"));
}

void test_time__reads_month_abbreviations(void) {
    CHECK(range_is("on Jan 5", NOW, "2023-01-05", "2023-01-06"));
    CHECK(range_is("in Feb.", NOW, "2023-02-01", "2023-03-01"));
    CHECK(range_is("Sept 3rd", NOW, "2022-09-03", "2022-09-04"));
    CHECK(range_is("mid-Sept", NOW, "2022-09-01", "2022-10-01"));
    CHECK(range_is("Dec. 24, 2021", NOW, "2021-12-24", "2021-12-25"));
    CHECK(names_nothing("Did Jan call me?")); /* a name, not January */
}

void test_time__finds_iso_dates_in_query(void) {
    CHECK(range_is("What happened on 2023-05-01?", NOW, "2023-05-01", "2023-05-02"));
    CHECK(range_is("notes from 2022/11/30 please", NOW, "2022-11-30", "2022-12-01"));
    CHECK(range_is("in 2022-11", NOW, "2022-11-01", "2022-12-01"));
    CHECK(names_nothing("order 2023-13-01"));
    CHECK(names_nothing("order 2023-02-30"));
}

void test_time__finds_year_after_in(void) {
    CHECK(range_is("Where did I travel in 2022?", NOW, "2022-01-01", "2023-01-01"));
    CHECK(range_is("during 1999", NOW, "1999-01-01", "2000-01-01"));
    CHECK(names_nothing("I ran 2022 meters"));
    CHECK(names_nothing("in 1500 words"));
}

void test_time__finds_weekdays(void) {
    /* now is Saturday 2023-05-20 */
    CHECK(range_is("What did I eat on Monday?", NOW, "2023-05-15", "2023-05-16"));
    CHECK(range_is("last Friday", NOW, "2023-05-19", "2023-05-20"));
    CHECK(range_is("last saturday", NOW, "2023-05-13", "2023-05-14"));
    CHECK(range_is("on Saturday", NOW, "2023-05-20", "2023-05-21"));
    CHECK(range_is("this Monday", NOW, "2023-05-15", "2023-05-16"));
    CHECK(range_is("on sunday", NOW, "2023-05-14", "2023-05-15"));
    CHECK(range_is("next Tuesday", NOW, "2023-05-23", "2023-05-24"));
}

void test_time__ignores_modal_may(void) {
    CHECK(names_nothing("May I ask what my favorite color is?"));
    CHECK(names_nothing("What you may have forgotten about my dog"));
    CHECK(names_nothing("This may be hard: what is my cat called?"));
    CHECK(names_nothing("it may 5 times"));
    CHECK(range_is("I may have said it in June", NOW, "2022-06-01", "2022-07-01"));
    CHECK(range_is("May I know what I did in March?", NOW, "2023-03-01", "2023-04-01"));
}

void test_time__ignores_march_verb_and_second(void) {
    CHECK(names_nothing("Did we march in the parade?"));
    CHECK(names_nothing("March is a verb here"));
    CHECK(names_nothing("What was the second book I read?"));
    CHECK(names_nothing("Who came 2nd in the race"));
    CHECK(names_nothing("What was the last book I read?"));
    CHECK(names_nothing("my last day at work"));
    CHECK(names_nothing("Wait a second"));
}

void test_time__finds_recently(void) {
    CHECK(range_is("What have I been reading recently?", NOW, "2023-04-20", "2023-05-21"));
    CHECK(range_is("lately", NOW, "2023-04-20", "2023-05-21"));
}

void test_time__extends_since_to_today(void) {
    CHECK(range_is("since last week", NOW, "2023-05-08", "2023-05-21"));
    CHECK(range_is("since 2022", NOW, "2022-01-01", "2023-05-21"));
    CHECK(range_is("since May", NOW, "2023-05-01", "2023-05-21"));
    CHECK(range_is("since last May", NOW, "2022-05-01", "2023-05-21"));
}

void test_time__returns_zero_without_time(void) {
    int64_t f = 7, t = 7;
    CHECK(names_nothing("What is my favorite color?"));
    CHECK(names_nothing(""));
    CHECK(names_nothing("I have 3 cats and 2 dogs"));
    CHECK(names_nothing("days ago"));
    CHECK_INT(mn_time_query_range(NULL, 0, 0, &f, &t), 0);
    CHECK_INT(f, 7);
    CHECK_INT(t, 7);
}

void test_time__reads_only_len_bytes(void) {
    static const char q[] = "today and yesterday";
    int64_t f = 0, t = 0;
    CHECK_INT(mn_time_query_range("yesterday", 4, NOW, &f, &t), 0);
    CHECK_INT(mn_time_query_range(q + 10, 9, NOW, &f, &t), 1);
    CHECK_INT(f, P("2023-05-19"));
    /* a buffer with no NUL at all */
    char buf[5];
    memcpy(buf, "today", 5);
    CHECK_INT(mn_time_query_range(buf, sizeof buf, NOW, &f, &t), 1);
    CHECK_INT(t, P("2023-05-21"));
}

void test_time__survives_long_and_odd_queries(void) {
    char q[4000];
    size_t n = 0;
    for (int i = 0; n + 8 < sizeof q; i++) n += (size_t)snprintf(q + n, sizeof q - n, "w%d ", i);
    int64_t f, t;
    CHECK_INT(mn_time_query_range(q, n, NOW, &f, &t), 0);
    static const char odd[] = "\xff\xfe 99999999999999999999 days ago 2023-05- 2023/ May";
    CHECK_INT(mn_time_query_range(odd, sizeof odd - 1, NOW, &f, &t), 0);
    CHECK_INT(mn_time_query_range("last", 4, INT64_MAX, &f, &t), 0);
    CHECK_INT(mn_time_query_range("today", 5, INT64_MIN, &f, &t), 0);
}
