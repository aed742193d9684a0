# web/browser.mk: the browser side of mnemo-wasm: tests in real headless
# Chromium and the web benchmark. Included by web/web.mk, so everything of
# the top Makefile and of web.mk (WEB_PKG, web, test-web) is known here.
#
#   make test-browser   tests/web/browser/*.browser.test.mjs: playwright-core
#                       driving Debian's /usr/bin/chromium (never a downloaded
#                       browser); profiles and pages under build/browser/
#   make bench-web      tests/bench/web: Mnemo next to Orama, PGlite + pgvector,
#                       SQLite wasm + FTS5 and mem0, in Node and in Chromium

BROWSER_DIR   := $(BUILD)/browser
BROWSER_TESTS := $(sort $(wildcard tests/web/browser/*.browser.test.mjs))
BENCH_EMBED   := $(BROWSER_DIR)/bench/embed

.PHONY: test-browser bench-web
TEST_MORE  += test-browser
BENCH_MORE += bench-web

# After test-web: it packs the tarball and builds the Vite page these tests
# load. One Chromium per test file; files run one after another (2 cores).
test-browser: web test-web
	@bash .ci/npm.sh tests/web
	node --test --test-concurrency=1 $(BROWSER_TESTS)

# The core's built-in embedder as a filter: every engine gets its vectors.
$(BENCH_EMBED): tests/bench/web/embed.c core/embed.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) $(INC) $< $(LIB) -lm -lpthread -o $@

# better-sqlite3 (mem0ai/oss's store) is a native addon: native.sh compiles it
# offline with node-gyp against this Node's headers, once per install of the
# lock (kept in build/npm/tests_bench_web). If it cannot, mem0's rows say why.
bench-web: web $(BENCH_EMBED)
	@bash .ci/npm.sh tests/web
	@bash .ci/npm.sh tests/bench/web
	@bash tests/bench/web/native.sh || echo "bench-web: better-sqlite3 not built: mem0 will be skipped"
	MNEMO_BENCH_EMBED=$(BENCH_EMBED) node tests/bench/web/run.mjs
