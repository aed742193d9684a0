/*
** test_main.c: runs every test of test_list.h (or those whose name contains
** argv[1]) and ends with the line "N passed, N failed". A module can be
** tested alone with -DMNEMO_TEST_LIST='"its_list.h"'.
*/
#include "test.h"
#include "mnemo.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>


int mn_test_failures;

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
#define ENTRY(name) {#name, name},
    MNEMO_TESTS(ENTRY)
#undef ENTRY
};

int mn_test_count_memories(mnemo *db) {
    char *s = NULL;
    if (mnemo_stats(db, &s) != MNEMO_OK) return -1;
    const char *p = strstr(s, "\"memories\":");
    int n = p ? atoi(p + 11) : -1;
    mnemo_free(s);
    return n;
}

const char *mn_test_path(const char *name) {
    static char path[512];
    mkdir("build", 0755);
    mkdir("build/test", 0755);
    mkdir("build/test/tmp", 0755);
    snprintf(path, sizeof path, "build/test/tmp/%s", name);
    unlink(path);
    char side[600];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-journal", path);
    unlink(side);
    return path;
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1])) continue;
        mn_test_failures = 0;
        tests[i].fn();
        if (mn_test_failures) {
            failed++;
            printf("FAIL %s\n", tests[i].name);
        } else {
            passed++;
            printf("ok   %s\n", tests[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
