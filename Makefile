# Mnemo build. `make` builds the native library and CLI; `make test` builds
# and runs every test; `make bench` runs the benchmarks. On a fresh machine
# `make test` installs what it lacks (apt-get) and fetches pinned sources.

CC      ?= cc
BUILD   := build
DEPS    := $(BUILD)/deps

# Warnings are errors everywhere: one list, used by every flavour.
WARN    := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wvla -Wformat=2 -Wno-unused-parameter -Werror
OPT     := -O2
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
INC     := -Iinclude -Icore -I$(DEPS)/sqlite -I$(DEPS)/cjson

# SQLite as a bank needs it: FTS5 (built in JSON since 3.38), foreign keys,
# no deprecated APIs, no extension loading (no dlopen in any host we serve),
# double-quoted strings as identifiers only (catches quoting bugs early).
SQLITE_DEFS := -DSQLITE_ENABLE_FTS5 -DSQLITE_DQS=0 -DSQLITE_THREADSAFE=2 \
           -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_OMIT_DEPRECATED \
           -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_SHARED_CACHE \
           -DSQLITE_DEFAULT_FOREIGN_KEYS=1 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS \
           -DSQLITE_DEFAULT_WAL_SYNCHRONOUS=1
CJSON_DEFS := -DCJSON_NESTING_LIMIT=64

CORE_SRC := $(sort $(wildcard core/*.c))
CLI_SRC  := wasi/cli.c wasi/host_posix.c
# The native CLI's HTTP client for LLM and embeddings endpoints (libcurl,
# Debian's libcurl4-openssl-dev). Not in CLI_SRC: WASI builds cli.c without
# it (-DMNEMO_NO_HTTP).
CLI_HTTP_SRC := wasi/llm_host.c wasi/http_curl.c
CURL_CFLAGS  := $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS    := $(or $(shell pkg-config --libs libcurl 2>/dev/null),-lcurl)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_HDR := tests/test.h tests/test_list.h

LIB      := $(BUILD)/lib/libmnemo.a
CLI      := $(BUILD)/bin/mnemo
TESTBIN  := $(BUILD)/test/mnemo_tests
TESTCLI  := $(BUILD)/test/mnemo

.PHONY: all lib cli demo test test-c test-cli bench bench-c deps toolchain clean

# Other hosts add their targets here: ALL_MORE (built by `make`), TEST_MORE
# (run by `make test`), BENCH_MORE (run by `make bench`).
ALL_MORE   :=
TEST_MORE  :=
BENCH_MORE :=

all: lib cli all-more

lib: $(LIB)
cli: $(CLI)

toolchain:
	@bash .ci/toolchain.sh

deps: $(DEPS)/sqlite/sqlite3.c $(DEPS)/cjson/cJSON.c

$(DEPS)/sqlite/sqlite3.c:
	@bash .ci/deps.sh sqlite $(DEPS)/sqlite

$(DEPS)/cjson/cJSON.c:
	@bash .ci/deps.sh cjson $(DEPS)/cjson

# Third-party objects: built once, optimised, shared by every native flavour.
$(BUILD)/obj/sqlite3.o: $(DEPS)/sqlite/sqlite3.c
	@mkdir -p $(@D)
	$(CC) -O2 $(SQLITE_DEFS) -w -c $< -o $@

$(BUILD)/obj/cJSON.o: $(DEPS)/cjson/cJSON.c
	@mkdir -p $(@D)
	$(CC) -O2 $(CJSON_DEFS) -w -c $< -o $@

# Release flavour.
REL_OBJ := $(patsubst core/%.c,$(BUILD)/obj/rel/%.o,$(CORE_SRC))
$(BUILD)/obj/rel/%.o: core/%.c $(wildcard core/*.h) include/mnemo.h | deps
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) -march=native $(INC) -c $< -o $@

$(LIB): $(REL_OBJ) $(BUILD)/obj/sqlite3.o $(BUILD)/obj/cJSON.o
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(CLI): $(CLI_SRC) $(CLI_HTTP_SRC) $(wildcard wasi/*.h) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) $(INC) $(CURL_CFLAGS) $(CLI_SRC) $(CLI_HTTP_SRC) $(LIB) \
	    $(CURL_LIBS) -lm -lpthread -o $@

# Test flavour: ASan + UBSan on our code, internals reachable (MNEMO_TEST).
TST_OBJ := $(patsubst core/%.c,$(BUILD)/obj/tst/%.o,$(CORE_SRC))
$(BUILD)/obj/tst/%.o: core/%.c $(wildcard core/*.h) include/mnemo.h | deps
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(SAN) -DMNEMO_TEST $(INC) -c $< -o $@

$(TESTBIN): $(TST_OBJ) $(TEST_SRC) $(TEST_HDR) $(BUILD)/obj/sqlite3.o $(BUILD)/obj/cJSON.o
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(SAN) -DMNEMO_TEST $(INC) -Itests $(TEST_SRC) $(TST_OBJ) \
	    $(BUILD)/obj/sqlite3.o $(BUILD)/obj/cJSON.o -lm -lpthread -o $@

$(TESTCLI): $(CLI_SRC) $(CLI_HTTP_SRC) $(wildcard wasi/*.h) $(TST_OBJ) $(BUILD)/obj/sqlite3.o $(BUILD)/obj/cJSON.o
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(SAN) $(INC) $(CURL_CFLAGS) $(CLI_SRC) $(CLI_HTTP_SRC) $(TST_OBJ) \
	    $(BUILD)/obj/sqlite3.o $(BUILD)/obj/cJSON.o $(CURL_LIBS) -lm -lpthread -o $@

test: toolchain
	@$(MAKE) --no-print-directory test-c test-cli $(TEST_MORE)

test-c: $(TESTBIN)
	ASAN_OPTIONS=detect_leaks=1 $(TESTBIN)

# The CLI end to end; cli-llm runs the LLM and embeddings paths against a
# loopback fake OpenAI-compatible server (tests/fake-openai.mjs).
test-cli: $(TESTCLI)
	MNEMO_BIN=$(TESTCLI) ASAN_OPTIONS=detect_leaks=1 node --test tests/cli.node.test.mjs \
	    tests/cli-llm.node.test.mjs

BENCH := $(BUILD)/bin/mnemo_bench
$(BENCH): tests/bench/bench.c $(wildcard tests/bench/*.h) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) -march=native $(INC) tests/bench/bench.c $(LIB) -lm -lpthread -o $@

bench: toolchain
	@$(MAKE) --no-print-directory bench-c $(BENCH_MORE)

bench-c: $(BENCH)
	$(BENCH)

# The main job, `make demo` (the in-browser demo), is in demo/demo.mk.

clean:
	rm -rf $(BUILD)/obj $(BUILD)/lib $(BUILD)/bin $(BUILD)/test

# Each host's build lives beside its code; included last so it can use
# everything above.
-include web/web.mk wasi/wasi.mk demo/demo.mk

# Runs after the includes so their ALL_MORE is known.
.PHONY: all-more
all-more: $(ALL_MORE)
