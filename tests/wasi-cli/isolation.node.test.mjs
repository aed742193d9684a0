// Capability isolation of the WASI builds: an instance sees only what its
// host grants. The command (build/wasi/mnemo.wasm) granted tenant A's
// directory cannot open tenant B's bank by any path; the reactor imports no
// file-system call at all, so its banks exist only as the pages its host
// hands it. Run by `make test-wasi`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Reactor } from '../../wasi/edge/reactor.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const LAUNCHER = path.join(here, 'mnemo-wasi');
const REACTOR = path.join(root, 'build/wasi/mnemo-reactor.wasm');

const top = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mnemo-iso-')));
after(() => fs.rmSync(top, { recursive: true, force: true }));
const A = path.join(top, 'tenant-a');
const B = path.join(top, 'tenant-b');
fs.mkdirSync(A);
fs.mkdirSync(B);

// Runs the WASI command with only `dirs` granted, from a working directory
// outside all of them.
function run(dirs, args) {
  const r = spawnSync(LAUNCHER, args, { cwd: top, env: { ...process.env, MNEMO_WASI_DIRS: dirs.join(':') } });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const digest = (dir) => {
  const h = crypto.createHash('sha256');
  for (const f of fs.readdirSync(dir).sort()) h.update(f).update(fs.readFileSync(path.join(dir, f)));
  return h.digest('hex');
};

test("the command granted tenant A's directory cannot reach tenant B's bank", () => {
  const bankB = path.join(B, 'bank.db');
  const w = run([B], ['--db', bankB, 'retain', '--text', 'Tenant B secret: launch code 4471', '--no-infer']);
  assert.equal(w.status, 0, w.stderr);
  const before = digest(B);
  // A symlink inside A pointing at B must not be a way out either.
  fs.symlinkSync(B, path.join(A, 'link'));
  fs.symlinkSync(bankB, path.join(A, 'bank-link.db'));

  for (const db of [
    bankB,
    path.join(A, '..', 'tenant-b', 'bank.db'),
    path.join(A, 'link', 'bank.db'),
    path.join(A, 'bank-link.db'),
    'tenant-b/bank.db', // relative to the working directory, which is not granted
  ]) {
    for (const cmd of [['list'], ['export'], ['recall', '--query', 'launch code'], ['delete-all']]) {
      const r = run([A], ['--db', db, ...cmd]);
      assert.notEqual(r.status, 0, `${db} ${cmd[0]} succeeded: ${r.stdout}`);
      assert.ok(!r.stdout.includes('4471') && !r.stderr.includes('4471'), `${db} ${cmd[0]} leaked`);
      const err = JSON.parse(r.stderr.split('\n')[0]);
      assert.equal(err.ok, false);
      assert.match(err.error.code, /^MNEMO_E(IO|READONLY|CORRUPT)$/, `${db}: ${r.stderr}`);
    }
  }
  assert.equal(digest(B), before, "tenant B's directory is unchanged");

  // Tenant A's own directory works, and B's bank is still B's.
  const own = run([A], ['--db', path.join(A, 'bank.db'), 'retain', '--text', 'Tenant A note', '--no-infer']);
  assert.equal(own.status, 0, own.stderr);
  const b = run([B], ['--db', bankB, 'list']);
  assert.deepEqual(JSON.parse(b.stdout).memories.map((m) => m.text), ['Tenant B secret: launch code 4471']);
});

test('the reactor imports no file-system call: its banks are only the pages its host loads', async () => {
  const mod = await WebAssembly.compile(fs.readFileSync(REACTOR));
  const imports = WebAssembly.Module.imports(mod);
  assert.ok(imports.every((i) => i.module === 'wasi_snapshot_preview1'));
  const names = imports.map((i) => i.name).sort();
  for (const n of names) assert.ok(!/^(path_|fd_read|fd_pread|fd_readdir|fd_prestat)/.test(n), `imports ${n}`);

  // Tenant B's bank as pages, in B's instance.
  const rb = await Reactor.instantiate(mod);
  const bankB = rb.open('bank');
  await bankB.retain({ text: 'Tenant B secret: launch code 4471' });
  const pagesB = bankB.dirty().pages;
  bankB.close();

  // Tenant A's instance: its own memory, no store of B's pages. Opening
  // "bank" there is a new, empty bank; opening B's file by path fails.
  const ra = await Reactor.instantiate(mod);
  const bankA = ra.open('bank');
  assert.deepEqual(bankA.list().memories, []);
  const bytesA = new Uint8Array(ra.x.memory.buffer);
  const needle = new TextEncoder().encode('launch code 4471');
  const find = (hay) => {
    outer: for (let i = 0; i + needle.length <= hay.length; i++) {
      for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
      return true;
    }
    return false;
  };
  assert.equal(find(bytesA), false, "B's text is nowhere in A's memory");
  const rc = ra.withStrings([path.join(B, 'bank.db'), '{}'], (p, o) => {
    const out = ra.alloc(4);
    const code = ra.x.mnemo_open(p, o, 0, out);
    ra.x.mnemo_close(ra.u32(out));
    ra.free(out);
    return code;
  });
  assert.equal(ra.errname(rc), 'MNEMO_EIO');

  // Only the host that holds B's pages can open B's bank.
  const rb2 = await Reactor.instantiate(mod);
  const again = rb2.open('bank', pagesB);
  assert.deepEqual(again.list().memories.map((m) => m.text), ['Tenant B secret: launch code 4471']);
});
