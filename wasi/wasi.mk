# wasi/wasi.mk: the WASI builds and the edge host. Included by the top
# Makefile, so WARN, INC, SQLITE_DEFS, CJSON_DEFS, CORE_SRC, CLI_SRC and DEPS
# are known here.
#
#   build/wasi/mnemo.wasm      WASI command: the CLI, banks as files in the
#                              directories the runtime grants
#   build/wasi/mnemo-reactor.wasm
#                              WASI reactor: the core API for embedding, banks
#                              as pages kept by the host (no file system)
#
# Toolchain: Debian's clang-19 + lld-19 + wasi-libc + libclang-rt-19-dev-wasm32,
# the parts wasi-sdk bundles. Debian's clang finds wasi-libc under
# /usr/lib/wasm32-wasi and the wasm32 builtins in its resource directory, so
# no --sysroot is needed; WASI_SYSROOT overrides it for another layout.

WASI_CC      ?= clang-19
WASI_DIR     := $(BUILD)/wasi
WASI_SYSROOT ?=
WASI_TARGET  := --target=wasm32-wasi $(if $(WASI_SYSROOT),--sysroot=$(WASI_SYSROOT))
# SIMD128 runs in every runtime we serve (Node >= 16, workerd, wasmtime) and
# the built-in embedder has a wasm_simd128 path.
WASI_OPT     := -O2 -msimd128
# One thread per instance in WASI: SQLite's mutexes are no-ops (the API stays,
# core/pages.c uses it). SQLite turns its WASI support on by itself (no mmap,
# no shared memory, "unix-dotfile" locking between processes). Exclusive
# locking lets WAL keep its index in the heap instead of shared memory, so a
# WASI instance opens WAL banks written natively and writes WAL banks itself;
# the price: one process per bank file at a time, which is how the CLI and a
# tenant's instance use it anyway.
WASI_SQLITE_DEFS := $(SQLITE_DEFS) -DSQLITE_MUTEX_NOOP -DSQLITE_DEFAULT_LOCKING_MODE=1
# 1 MiB of stack: the default 64 KiB is tight for SQLite's parser plus the
# core's JSON nesting limit.
WASI_LDFLAGS := -Wl,-z,stack-size=1048576 -Wl,--strip-debug

WASI_CMD     := $(WASI_DIR)/mnemo.wasm
WASI_REACTOR := $(WASI_DIR)/mnemo-reactor.wasm

# The CLI sources minus the libcurl client: no sockets under WASI preview1,
# so the command is built without an HTTP client (MNEMO_NO_HTTP) and uses the
# built-in embedder and extractor.
WASI_CLI_SRC := $(filter-out wasi/http_curl.c wasi/llm_host.c,$(CLI_SRC)) wasi/wasi_lstat.c

WASI_CORE_OBJ := $(patsubst core/%.c,$(WASI_DIR)/obj/core/%.o,$(CORE_SRC))

.PHONY: wasi wasi-cmd wasi-reactor test-wasi
ALL_MORE  += wasi
TEST_MORE += test-wasi

wasi: wasi-cmd wasi-reactor
wasi-cmd: $(WASI_CMD)
wasi-reactor: $(WASI_REACTOR)

comma := ,

# Third-party objects, built once for every WASI artefact. The command's
# SQLite checks path prefixes with wasi_lstat.c's lstat (see there why).
$(WASI_DIR)/obj/sqlite3.o: $(DEPS)/sqlite/sqlite3.c
	@mkdir -p $(@D)
	$(WASI_CC) $(WASI_TARGET) $(WASI_OPT) $(WASI_SQLITE_DEFS) -Dlstat=mnemo__wasi_lstat -w -c $< -o $@

$(WASI_DIR)/obj/cJSON.o: $(DEPS)/cjson/cJSON.c
	@mkdir -p $(@D)
	$(WASI_CC) $(WASI_TARGET) $(WASI_OPT) $(CJSON_DEFS) -w -c $< -o $@

$(WASI_DIR)/obj/core/%.o: core/%.c $(wildcard core/*.h) include/mnemo.h | deps
	@mkdir -p $(@D)
	$(WASI_CC) $(WASI_TARGET) $(WARN) $(WASI_OPT) $(INC) -c $< -o $@

WASI_LIB_OBJ := $(WASI_CORE_OBJ) $(WASI_DIR)/obj/sqlite3.o $(WASI_DIR)/obj/cJSON.o

$(WASI_CMD): $(WASI_CLI_SRC) $(wildcard wasi/*.h) $(WASI_LIB_OBJ)
	@mkdir -p $(@D)
	$(WASI_CC) $(WASI_TARGET) $(WARN) $(WASI_OPT) -DMNEMO_NO_HTTP $(INC) \
	    $(WASI_CLI_SRC) $(WASI_LIB_OBJ) $(WASI_LDFLAGS) -o $@

# The CLI end-to-end suite, run against the WASI command under Node's WASI,
# plus the capability-isolation test.
test-wasi: $(WASI_CMD) $(WASI_REACTOR)
	MNEMO_BIN=tests/wasi-cli/mnemo-wasi MNEMO_WASM=$(abspath $(WASI_CMD)) \
	    node --test tests/cli.node.test.mjs tests/wasi-cli/isolation.node.test.mjs

# ---- the reactor --------------------------------------------------------
# SQLite without an OS layer (SQLITE_OS_OTHER): host_wasi.c supplies a VFS
# that opens no files, so the module imports no file-system calls at all.
WASI_RSQLITE_DEFS := $(WASI_SQLITE_DEFS) -DSQLITE_OS_OTHER=1 -DSQLITE_OMIT_WAL \
    -DSQLITE_TEMP_STORE=3
# Exports: every MNEMO_API function of mnemo.h and of the glue header, read
# from the headers so the list cannot drift; memory and _initialize come
# with the reactor model.
lparen := (
WASI_EXPORTS = $(shell sed -n 's/^MNEMO_API[^$(lparen)]*[ *]\(mnemo_[a-z0-9_]*\)$(lparen).*/\1/p' \
    include/mnemo.h wasi/reactor.h)
WASI_REACTOR_SRC := wasi/reactor.c wasi/host_wasi.c

$(WASI_DIR)/obj/sqlite3-nofs.o: $(DEPS)/sqlite/sqlite3.c
	@mkdir -p $(@D)
	$(WASI_CC) $(WASI_TARGET) $(WASI_OPT) $(WASI_RSQLITE_DEFS) -w -c $< -o $@

$(WASI_REACTOR): $(WASI_REACTOR_SRC) wasi/reactor.h include/mnemo.h $(WASI_CORE_OBJ) \
        $(WASI_DIR)/obj/sqlite3-nofs.o $(WASI_DIR)/obj/cJSON.o
	@mkdir -p $(@D)
	$(WASI_CC) $(WASI_TARGET) -mexec-model=reactor $(WARN) $(WASI_OPT) $(INC) \
	    $(WASI_REACTOR_SRC) $(WASI_CORE_OBJ) $(WASI_DIR)/obj/sqlite3-nofs.o \
	    $(WASI_DIR)/obj/cJSON.o $(WASI_LDFLAGS) $(addprefix -Wl$(comma)--export=,$(WASI_EXPORTS)) -o $@

# ---- the edge service (workerd + Durable Objects) ------------------------
# workerd comes from npm (tests/edge/package-lock.json pins its Linux binary
# packages); .ci/npm.sh installs them into build/npm.
EDGE_DIR     := $(BUILD)/edge
EDGE_NPM     := tests/edge/node_modules/.package-lock.json
WORKERD       = $(firstword $(wildcard tests/edge/node_modules/@cloudflare/workerd-linux-*/bin/workerd))
PORT         ?= 8787

.PHONY: edge-deps serve-edge test-edge bench-edge
TEST_MORE  += test-edge
BENCH_MORE += bench-edge

$(EDGE_NPM): tests/edge/package.json tests/edge/package-lock.json
	@bash .ci/npm.sh tests/edge
edge-deps: $(EDGE_NPM)

# Foreground, on 127.0.0.1:$(PORT); banks under build/edge/do survive restarts.
serve-edge: $(WASI_REACTOR) edge-deps
	@mkdir -p $(EDGE_DIR)/do
	@[ -n "$$MNEMO_EDGE_TOKENS" ] || echo "serve-edge: MNEMO_EDGE_TOKENS is empty: every request will get 401" >&2
	@echo "mnemo edge: http://127.0.0.1:$(PORT)/v1/banks/{bank}/..."
	exec $(WORKERD) serve wasi/edge/mnemo.capnp --socket-addr http=127.0.0.1:$(PORT) \
	    --directory-path do-storage=$(abspath $(EDGE_DIR)/do)

# Real workerd on loopback, one instance per test file (each starts its own).
test-edge: $(WASI_REACTOR) edge-deps
	WORKERD=$(WORKERD) node --test tests/edge/*.node.test.mjs

# Load from a second process (autocannon), cold start of a 10k-memory bank,
# and the CLI native vs WASI.
bench-edge: $(WASI_REACTOR) $(WASI_CMD) $(CLI) edge-deps
	WORKERD=$(WORKERD) node tests/edge/bench.mjs
