# web/web.mk: the npm package mnemo-wasm. Included by the top Makefile, so
# WARN, INC, SQLITE_DEFS, CJSON_DEFS, CORE_SRC and DEPS are known here.
#
#   build/wasm/pkg/           the package as published: package.json, src/*.js,
#                             types, README, mnemo.wasm + mnemo-core.js
#   build/web-pack/*.tgz      `npm pack` of it (make web-pack)
#
# Toolchain: Debian's emscripten 3.1.6. Debian ships its system libraries
# prebuilt in a frozen cache, so nothing is compiled into a cache here. Its
# JS tools need Debian's node modules (acorn, ...) on NODE_PATH.

EMCC       ?= emcc
WEB_DIR    := $(BUILD)/wasm
WEB_PKG    := $(WEB_DIR)/pkg
WEB_PACK   := $(BUILD)/web-pack
EM_ENV     := NODE_PATH=/usr/share/nodejs$(if $(NODE_PATH),:$(NODE_PATH))

# -Oz: the package's size is the binding target (make web-size; web/README.md).
# SIMD128: Node >= 16, every current browser; the built-in embedder uses it.
# Bulk memory (same support): memcpy/memset become memory.copy/memory.fill
# instead of byte loops; SQLite's page copies and zeroing were the hottest
# code of an ingest without it (make bench-web, about a fifth of its time).
WEB_OPT    := -Oz -msimd128 -mbulk-memory
# One thread per instance: no-op mutexes (the mutex API stays: core/pages.c
# guards its registry with it on native builds). No WAL: page banks keep their journal
# in memory and 'memory' banks need none, so the WAL code is dead weight.
# Temporary tables in memory: there is no file system to spill to. No unix
# layer: web/os_wasm.c is the OS layer (see why there).
WEB_SQLITE_DEFS := $(SQLITE_DEFS) -DSQLITE_MUTEX_NOOP -DSQLITE_OS_OTHER=1 \
           -DSQLITE_OMIT_WAL -DSQLITE_TEMP_STORE=3 -DSQLITE_OMIT_UTF16 \
           -DSQLITE_OMIT_PROGRESS_CALLBACK -DSQLITE_OMIT_COMPLETE \
           -DSQLITE_OMIT_TCL_VARIABLE -DSQLITE_OMIT_DECLTYPE -DSQLITE_USE_ALLOCA
# The loader is ours (src/binding.js): the emscripten glue never fetches or
# reads the wasm itself (instantiateWasm), so it is built for web+worker only
# and contains no Node code (3.1.6's Node path fetches file paths and its ES6
# output uses __dirname). No file system: banks are ':memory:' or page banks.
WEB_LDFLAGS := -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createMnemoCore \
           -sENVIRONMENT=web,worker -sFILESYSTEM=0 -sALLOW_MEMORY_GROWTH=1 \
           -sINITIAL_MEMORY=16MB -sMAXIMUM_MEMORY=4GB -sTOTAL_STACK=1MB \
           -sDYNAMIC_EXECUTION=0 -sTEXTDECODER=2 -sSUPPORT_LONGJMP=0 \
           -sEXPORTED_FUNCTIONS=@web/exported_functions.json --no-entry

# Every output is written aside and renamed into place: `make` from another
# shell may build the same targets at the same time.
WEB_CORE_OBJ := $(patsubst core/%.c,$(WEB_DIR)/obj/core/%.o,$(CORE_SRC))
WEB_SRC      := $(sort $(wildcard web/src/*.js))
WEB_TYPES    := web/index.d.ts web/mem0.d.ts

.PHONY: web web-size web-pack test-web
ALL_MORE  += web
TEST_MORE += test-web

web: $(WEB_PKG)/.stamp

# Objects depend on this file: a changed flag must not leave old objects.
$(WEB_DIR)/obj/sqlite3.o: $(DEPS)/sqlite/sqlite3.c web/web.mk
	@mkdir -p $(@D)
	$(EM_ENV) $(EMCC) $(WEB_OPT) $(WEB_SQLITE_DEFS) -w -c $< -o $@.$$$$.tmp && mv $@.$$$$.tmp $@

$(WEB_DIR)/obj/cJSON.o: $(DEPS)/cjson/cJSON.c web/web.mk
	@mkdir -p $(@D)
	$(EM_ENV) $(EMCC) $(WEB_OPT) $(CJSON_DEFS) -w -c $< -o $@.$$$$.tmp && mv $@.$$$$.tmp $@

$(WEB_DIR)/obj/core/%.o: core/%.c $(wildcard core/*.h) include/mnemo.h web/web.mk | deps
	@mkdir -p $(@D)
	$(EM_ENV) $(EMCC) $(WARN) $(WEB_OPT) $(INC) -c $< -o $@.$$$$.tmp && mv $@.$$$$.tmp $@

$(WEB_DIR)/obj/%.o: web/%.c include/mnemo.h web/web.mk | deps
	@mkdir -p $(@D)
	$(EM_ENV) $(EMCC) $(WARN) $(WEB_OPT) $(INC) -c $< -o $@.$$$$.tmp && mv $@.$$$$.tmp $@

$(WEB_DIR)/mnemo-core.js: $(WEB_CORE_OBJ) $(WEB_DIR)/obj/wasm_glue.o $(WEB_DIR)/obj/os_wasm.o $(WEB_DIR)/obj/sqlite3.o \
                          $(WEB_DIR)/obj/cJSON.o web/exported_functions.json
	@t=$(WEB_DIR)/link.$$$$; rm -rf $$t && mkdir -p $$t && \
	echo "emcc ... -o $@" && $(EM_ENV) $(EMCC) $(WEB_OPT) $(WEB_LDFLAGS) $(filter %.o,$^) -o $$t/mnemo-core.js && \
	mv $$t/mnemo-core.wasm $(WEB_DIR)/mnemo-core.wasm && mv $$t/mnemo-core.js $@ && rmdir $$t

# The package directory: sources as written, plus the build's two files.
# Assembled aside and swapped in, so a test reading it never sees half.
$(WEB_PKG)/.stamp: $(WEB_DIR)/mnemo-core.js $(WEB_SRC) $(WEB_TYPES) web/package.json web/README.md
	@n=$(WEB_PKG).new.$$$$; o=$(WEB_PKG).old.$$$$; rm -rf $$n && mkdir -p $$n/src $$n/dist && \
	cp web/package.json web/README.md $(WEB_TYPES) $$n/ && cp $(WEB_SRC) $$n/src/ && \
	cp $(WEB_DIR)/mnemo-core.js $(WEB_DIR)/mnemo-core.wasm $$n/dist/ && touch $$n/.stamp && \
	if [ -d $(WEB_PKG) ]; then mv $(WEB_PKG) $$o; fi; mv $$n $(WEB_PKG); rm -rf $$o
	@echo "web: package in $(WEB_PKG)"
	@$(MAKE) --no-print-directory web-size

# Size as shipped: the wasm and every JS file, raw and gzipped (-9).
web-size:
	@cd $(WEB_PKG) && total=0; gtotal=0; \
	for f in dist/mnemo-core.wasm dist/mnemo-core.js src/*.js; do \
	  r=$$(wc -c < $$f); g=$$(gzip -9c $$f | wc -c); total=$$((total+r)); gtotal=$$((gtotal+g)); \
	  printf '  %-28s %8d bytes  %7d gzip\n' $$f $$r $$g; done; \
	printf 'mnemo-wasm size: %d bytes raw, %d bytes gzip (%d KB; target < 450 KB)\n' $$total $$gtotal $$((gtotal/1024))

# Node tests of the package (node:test, no npm packages except for the
# packed-tarball check, which needs vite: tests/web/package.json).
WEB_NODE_TESTS := $(sort $(wildcard tests/web/*.node.test.mjs))
test-web: web
	@bash .ci/npm.sh tests/web/pack
	MNEMO_WASM_PKG=$(WEB_PKG) node --test $(WEB_NODE_TESTS)
-include web/browser.mk
