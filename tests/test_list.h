/*
** test_list.h: every C test, in one list (one line per test). Names read as
** sentences: test_<area>__<what_it_should_do>.
*/
#define MNEMO_TESTS(X) \
    /* strbuf */ \
    X(test_strbuf__appends_and_escapes_json) \
    /* time (core/time.c) */ \
    /* token (core/token.c) */ \
    /* embed (core/embed.c) */ \
    /* index (core/index.c) */ \
    /* filter (core/filter.c) */ \
    /* api (the public functions of mnemo.h) */ \
    /* end */
