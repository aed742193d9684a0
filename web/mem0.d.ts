// Types of mnemo-wasm/mem0: see README.md until then.
