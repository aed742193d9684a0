// Shared by the mnemo-wasm Node tests: the built package and temp dirs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const PKG = path.resolve(ROOT, process.env.MNEMO_WASM_PKG || 'build/wasm/pkg');
export const pkgUrl = (rel) => pathToFileURL(path.join(PKG, rel)).href;

const dirs = [];
export function tmpdir(prefix = 'mnemo-web-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}
process.on('exit', () => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
