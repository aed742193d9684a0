# workerd configuration of the Mnemo edge service. `make serve-edge` runs it:
#
#   workerd serve wasi/edge/mnemo.capnp \
#     --socket-addr http=127.0.0.1:$PORT --directory-path do-storage=DIR
#
# Bindings read from the environment (workerd's fromEnvironment):
#   MNEMO_EDGE_TOKENS   {"token": "tenant", ...} (required; see wasi/README.md)
#   MNEMO_LLM_URL, MNEMO_LLM_MODEL, MNEMO_LLM_KEY         chat completions
#   MNEMO_EMBED_URL, MNEMO_EMBED_MODEL, MNEMO_EMBED_KEY   embeddings
#   MNEMO_MAX_BODY, MNEMO_MAX_IMPORT, MNEMO_RATE, MNEMO_BURST,
#   MNEMO_LLM_TIMEOUT_MS                                  limits
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .mnemoWorker),
    # Durable Object storage on disk, so banks survive a restart. The path
    # is overridden with --directory-path do-storage=DIR.
    (name = "do-storage", disk = (path = "../../build/edge/do", writable = true)),
    # The Worker's fetch (LLM calls): the public internet and, for a local
    # model server (Ollama, llama.cpp) or tests, loopback and private nets.
    (name = "internet", network = (allow = ["public", "private", "local"],
                                    tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const mnemoWorker :Workerd.Worker = (
  compatibilityDate = "2025-06-01",
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "reactor.js", esModule = embed "reactor.js"),
    (name = "wasi_shim.js", esModule = embed "wasi_shim.js"),
    (name = "mnemo-reactor.wasm", wasm = embed "../../build/wasi/mnemo-reactor.wasm"),
  ],
  durableObjectNamespaces = [(className = "MnemoBank", uniqueKey = "mnemo-bank-v1")],
  durableObjectStorage = (localDisk = "do-storage"),
  globalOutbound = "internet",
  bindings = [
    (name = "BANKS", durableObjectNamespace = "MnemoBank"),
    (name = "MNEMO_EDGE_TOKENS", fromEnvironment = "MNEMO_EDGE_TOKENS"),
    (name = "MNEMO_LLM_URL", fromEnvironment = "MNEMO_LLM_URL"),
    (name = "MNEMO_LLM_MODEL", fromEnvironment = "MNEMO_LLM_MODEL"),
    (name = "MNEMO_LLM_KEY", fromEnvironment = "MNEMO_LLM_KEY"),
    (name = "MNEMO_EMBED_URL", fromEnvironment = "MNEMO_EMBED_URL"),
    (name = "MNEMO_EMBED_MODEL", fromEnvironment = "MNEMO_EMBED_MODEL"),
    (name = "MNEMO_EMBED_KEY", fromEnvironment = "MNEMO_EMBED_KEY"),
    (name = "MNEMO_MAX_BODY", fromEnvironment = "MNEMO_MAX_BODY"),
    (name = "MNEMO_MAX_IMPORT", fromEnvironment = "MNEMO_MAX_IMPORT"),
    (name = "MNEMO_RATE", fromEnvironment = "MNEMO_RATE"),
    (name = "MNEMO_BURST", fromEnvironment = "MNEMO_BURST"),
    (name = "MNEMO_LLM_TIMEOUT_MS", fromEnvironment = "MNEMO_LLM_TIMEOUT_MS"),
  ],
);
