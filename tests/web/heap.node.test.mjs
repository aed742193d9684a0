// A wasm heap past 2 GB: pointers above 2^31 come out of wasm as negative
// numbers, and the binding must still address them. Run with `make test-web`
// (its own process: the module's heap stays grown for the rest of it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pkgUrl } from './helpers.mjs';

const { Mnemo } = await import(pkgUrl('src/index.node.js'));

test('a bank whose strings and pages live above 2 GB of wasm heap works', async () => {
  const bank = await Mnemo.open({ bank: 'high', storage: 'memory' });
  try {
    // Reserve the heap up to past 2 GB. Untouched, these blocks cost address
    // space, not memory. Whatever the bank allocates bigger than the holes
    // left below then lands above 2^31.
    const core = bank._core, held = [];
    while (core.u8.length <= 2 ** 31 + 2 ** 28) {
      const p = core.M._malloc(2 ** 27);
      assert.ok(p, 'the wasm heap grows past 2 GB');
      held.push(p);
    }
    assert.ok(held.some((p) => p < 0), 'some blocks sit above 2^31');
    const text = `My sister lives in Lisbon. ${'She likes the trams there. '.repeat(20000)}`;
    const { added: [m] } = await bank.retain(text, { infer: false });
    assert.equal((await bank.get(m.id)).text, text);
    const { results } = await bank.recall('where does my sister live?', { limit: 1 });
    assert.equal(results[0].text, text);
    const lines = await bank.export();
    assert.ok(lines.includes('She likes the trams there.'));
    for (const p of held) core.M._free(p);
  } finally {
    await bank.close();
  }
});
