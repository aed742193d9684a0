# demo/demo.mk: the in-browser demo and its end-to-end test. Included by the
# top Makefile after web/web.mk (WEB_PKG: the built npm package) and
# wasi/wasi.mk (serve-edge: the edge service).
#
#   make demo        builds the package, serves the demo on 127.0.0.1:$PORT (8080)
#   make demo-edge   runs the edge service and a client page against it
#   make demo-cli    the CLI remembering a user across two sessions
#   make test-demo   the demo end to end in headless Chromium (part of make test)

# PORT is read by the recipes from the environment (default 8080), not set
# here: the edge service's fragment has its own default for the same name.
EDGE_PORT  ?= 8787
DEMO_PKG   ?= $(if $(WEB_PKG),$(WEB_PKG),$(BUILD)/wasm/pkg)
DEMO_TEST  := $(BUILD)/demo-test

.PHONY: demo demo-edge demo-cli test-demo
TEST_MORE += test-demo

demo: toolchain
	@$(MAKE) --no-print-directory web
	@PORT=$${PORT:-8080} node demo/serve.mjs --pkg $(DEMO_PKG)

demo-cli: toolchain
	@$(MAKE) --no-print-directory cli
	@bash demo/cli-demo.sh

# The edge service (wasi/: `make serve-edge`, workerd on EDGE_PORT) in the
# background, and the client page in front of it; the page reaches the
# service through the demo server's /api, so no CORS is involved.
demo-edge: toolchain
	@bash demo/edge/run.sh $${PORT:-8080} $(EDGE_PORT) "$(MAKE) --no-print-directory serve-edge PORT=$(EDGE_PORT)"

# One Chromium launch sequence: offline and LLM paths, reload and restart on
# one profile, the inspector, forget me; screenshots in $(DEMO_TEST)/.
test-demo:
	@$(MAKE) --no-print-directory web
	@bash .ci/npm.sh tests/demo
	MNEMO_PKG=$(DEMO_PKG) MNEMO_DEMO_OUT=$(DEMO_TEST) node --test tests/demo/demo.browser.test.mjs
