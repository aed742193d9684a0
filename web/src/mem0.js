/* mnemo-wasm/mem0 for browsers, workers and bundlers; see mem0-facade.js. */
import { Mnemo } from './index.js';
import { createMemoryClass } from './mem0-facade.js';

export const Memory = createMemoryClass(Mnemo);
export { MnemoError } from './errors.js';
