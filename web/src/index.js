/*
 * mnemo-wasm, browser and worker entry (also what bundlers pick by default).
 * Storage: 'memory' or 'indexeddb' (idb.js). The wasm is fetched from next to
 * this package (`new URL(..., import.meta.url)`, which bundlers such as Vite
 * rewrite to the emitted asset); setWasm() points elsewhere (a CDN, bytes, a
 * compiled WebAssembly.Module) before the first open.
 */
import { loadCore, instantiateFrom } from './binding.js';
import { Mnemo, setPlatform } from './bank.js';
import { MnemoError } from './errors.js';
import { indexeddbBackend } from './idb.js';

let wasmSource = null;

/* Where to get the wasm: a URL (string or URL), a Response, bytes
 * (ArrayBuffer or a typed array) or a WebAssembly.Module. Call before the
 * first Mnemo.open(). */
export function setWasm(source) {
  wasmSource = source;
}

setPlatform({
  core: () => loadCore((imports) =>
    instantiateFrom(wasmSource ?? new URL('../dist/mnemo-core.wasm', import.meta.url), imports)),
  storage(name) {
    if (name === 'indexeddb') return indexeddbBackend;
    throw new MnemoError('MNEMO_EINVAL', `storage must be "memory" or "indexeddb" in a browser, got ${JSON.stringify(name)}`);
  },
});

export { Mnemo };
export { MnemoError, errorCodes } from './errors.js';
export { openai, ProviderError } from './providers.js';
export { validateBankName } from './storage.js';
export { memoryTools, context } from './tools.js';
