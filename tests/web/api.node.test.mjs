// The mnemo-wasm API in Node: every call, errors with codes, bank names.
// Run with `make test-web` (MNEMO_WASM_PKG points at the built package).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const PKG = path.resolve(process.env.MNEMO_WASM_PKG || 'build/wasm/pkg');
const { Mnemo, MnemoError } = await import(pathToFileURL(path.join(PKG, 'src/index.node.js')).href);

test('a memory bank retains and lists what it was given', async () => {
  const bank = await Mnemo.open({ bank: 'alice', storage: 'memory', seed: 7 });
  try {
    const r = await bank.retain('I prefer dark mode', { metadata: { topic: 'ui' } });
    assert.equal(r.added.length, 1);
    const { memories } = await bank.list();
    assert.deepEqual(memories.map((m) => m.text), ['I prefer dark mode']);
    assert.deepEqual(memories[0].metadata, { topic: 'ui' });
  } finally {
    await bank.close();
  }
});

test('bank names that are patterns or paths are refused with MNEMO_EINVAL', async () => {
  for (const bad of ['', '*', 'a*', '..', 'a/b', 'a\\b', 'x\u0000y', 'x\ny', 'x'.repeat(129), 42]) {
    await assert.rejects(Mnemo.open({ bank: bad }), (e) => e instanceof MnemoError && e.code === 'MNEMO_EINVAL' && e.errno === 1,
      `bank name ${JSON.stringify(bad)}`);
  }
});
