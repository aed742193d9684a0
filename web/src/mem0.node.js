/* mnemo-wasm/mem0 for Node (file storage); see mem0-facade.js. */
import { Mnemo } from './index.node.js';
import { createMemoryClass } from './mem0-facade.js';

export const Memory = createMemoryClass(Mnemo);
export { MnemoError } from './errors.js';
