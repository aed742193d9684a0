/*
 * mnemo-wasm, Node entry. Storage: 'memory', or a file path (file.js): a
 * path to a file is the bank's file; an existing directory (or a path ending
 * in "/") holds one file per bank, "<bank>.mnemo". The wasm is read from the
 * package directory with fs; setWasm() overrides it.
 */
import { readFile } from 'node:fs/promises';
import { loadCore, instantiateFrom } from './binding.js';
import { Mnemo, setPlatform } from './bank.js';
import { MnemoError } from './errors.js';
import { fileBackend } from './file.js';

let wasmSource = null;

export function setWasm(source) {
  wasmSource = source;
}

setPlatform({
  core: () => loadCore(async (imports) =>
    instantiateFrom(wasmSource ?? await readFile(new URL('../dist/mnemo-core.wasm', import.meta.url)), imports)),
  storage(name) {
    if (name === 'indexeddb')
      throw new MnemoError('MNEMO_EINVAL', 'storage "indexeddb" needs a browser or a worker; in Node use "memory" or a file path');
    return fileBackend(name);
  },
});

export { Mnemo };
export { MnemoError, errorCodes } from './errors.js';
export { openai, ProviderError } from './providers.js';
export { validateBankName } from './storage.js';
export { memoryTools, context } from './tools.js';
