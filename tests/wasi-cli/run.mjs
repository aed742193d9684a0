// Runs the WASI command build/wasi/mnemo.wasm under Node's WASI (preview1),
// like `wasmtime run --dir D ... mnemo.wasm -- ARGS`.
//
//   node --no-warnings tests/wasi-cli/run.mjs ARGS...
//
// MNEMO_WASM   the module (default: build/wasi/mnemo.wasm of this checkout)
// MNEMO_WASI_DIRS
//              host directories the instance may use, separated by ':'. Each
//              is granted at its own absolute path, so absolute paths mean the
//              same inside and out. Default: the working directory and the
//              system's temporary directory. Nothing else of the file system
//              is visible: that is WASI's capability model.
// The environment is passed through (the CLI reads MNEMO_DB); stdin, stdout
// and stderr are the process's own; the exit status is the module's.
import { WASI } from 'node:wasi';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const wasmPath = process.env.MNEMO_WASM || path.join(root, 'build/wasi/mnemo.wasm');

const dirs = process.env.MNEMO_WASI_DIRS
  ? process.env.MNEMO_WASI_DIRS.split(':').filter(Boolean)
  : [process.cwd(), os.tmpdir()];
const preopens = {};
for (const d of dirs) {
  // realpath: a granted symlink (macOS /tmp) is the directory it names.
  const real = fs.realpathSync(d);
  preopens[path.resolve(d)] = real;
  preopens[real] = real;
}
// Relative paths resolve against the guest's working directory, which
// wasi-libc starts at "/": grant the host's working directory as "." too.
if (!process.env.MNEMO_WASI_DIRS || dirs.some((d) => path.resolve(d) === process.cwd()))
  preopens['.'] = process.cwd();

const wasi = new WASI({
  version: 'preview1',
  args: ['mnemo', ...process.argv.slice(2)],
  env: process.env,
  preopens,
  returnOnExit: true,
});

let status;
try {
  const mod = await WebAssembly.compile(fs.readFileSync(wasmPath));
  const instance = await WebAssembly.instantiate(mod, wasi.getImportObject());
  status = wasi.start(instance);
} catch (e) {
  // A trap (out of memory, a bug) or a missing module: say so like a crash.
  fs.writeSync(2, `mnemo.wasm: ${e && e.message ? e.message : e}\n`);
  status = 134;
}
process.exitCode = status;
