// The mnemo-wasm API in Node: every call of a bank, errors with their codes,
// bank-name validation, import/reindex progress and abort, wasm memory that
// does not grow. Run with `make test-web`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pkgUrl } from './helpers.mjs';

const { Mnemo, MnemoError, validateBankName } = await import(pkgUrl('src/index.node.js'));
const { loadCore } = await import(pkgUrl('src/binding.js'));

async function withBank(fn, options = {}) {
  const bank = await Mnemo.open({ bank: 'alice', storage: 'memory', seed: 7, ...options });
  try {
    return await fn(bank);
  } finally {
    await bank.close();
  }
}

const isCode = (code) => (e) => {
  assert.ok(e instanceof MnemoError, `expected a MnemoError, got ${e && e.stack}`);
  assert.ok(e instanceof Error);
  assert.equal(e.code, code, e.message);
  assert.equal(typeof e.errno, 'number');
  return true;
};

test('the error table comes from C: codes, names and texts match mnemo_errname/errstr', async () => {
  const codes = await Mnemo.errorCodes();
  const core = await loadCore();
  assert.equal(codes.MNEMO_OK.code, 0);
  assert.equal(codes.MNEMO_ENOTFOUND.code, 5);
  for (const e of Object.values(codes)) {
    assert.equal(core.errname(e.code), e.name);
    assert.equal(core.errstr(e.code), e.text);
  }
  assert.ok(Object.keys(codes).length >= 17);
});

test('stored pages that do not make an image are refused before anything is copied', async () => {
  const core = await loadCore();
  const page = new Uint8Array(4096);
  for (const size of [0, 100, 3000, 131072])
    assert.throws(() => core.pages_load('bad-size', size, [[1, page]]), (e) => e.code === 'MNEMO_ECORRUPT' && /page size/.test(e.message));
  assert.throws(() => core.pages_load('bad-run', 4096, [[1, new Uint8Array(100)]]), (e) => e.code === 'MNEMO_ECORRUPT');
  assert.throws(() => core.pages_load('bad-pgno', 4096, [[0, page]]), (e) => e.code === 'MNEMO_ECORRUPT');
  // Nothing was left behind: the names load and open normally afterwards.
  core.pages_load('bad-size', 4096, []);
  core.pages_drop('bad-size');
});

/* A page store in memory that answers lazy loads with Blobs, as idb.js does. */
function blobBackend() {
  const banks = new Map();
  return {
    kind: 'blobs',
    lazyLoads: 0,
    async open(bank) {
      const backend = this;
      if (!banks.has(bank)) banks.set(bank, { version: 0, pageSize: 0, pageCount: 0, pages: new Map() });
      const b = banks.get(bank);
      return {
        version: 0,
        pageCount: 0,
        stale: false,
        async load({ lazy = false } = {}) {
          if (lazy) backend.lazyLoads++;
          this.version = b.version;
          this.pageCount = b.pageCount;
          const pages = [...b.pages].sort((x, y) => x[0] - y[0]).map(([pg, bytes]) => [pg, lazy ? new Blob([bytes]) : bytes.slice()]);
          return { version: b.version, pageSize: b.pageSize, pageCount: b.pageCount, pages };
        },
        async storedVersion() {
          return b.version;
        },
        async commit(pages, pageCount, pageSize) {
          for (const [pg, bytes] of pages) b.pages.set(pg, bytes.slice());
          for (const pg of [...b.pages.keys()]) if (pg > pageCount) b.pages.delete(pg);
          Object.assign(b, { version: b.version + 1, pageCount, pageSize });
          this.version = b.version;
          this.pageCount = pageCount;
        },
        exclusive: (fn) => fn(),
        close() {},
      };
    },
    async destroy(bank) {
      banks.delete(bank);
    },
  };
}

test('a store may answer pages as Blobs: a module that cannot wait for them (no JSPI) reads them whole first', async () => {
  await Mnemo.errorCodes();   // loads the module the Node way
  const core = await loadCore();
  const storage = blobBackend();
  const w = await Mnemo.open({ bank: 'blobs', storage });
  await w.retain({ items: Array.from({ length: 300 }, (_, i) => ({ text: `entry ${i} about the ${i % 2 ? 'red' : 'blue'} kite` })) }, { infer: false });
  await w.retain('My sister lives in Lisbon', { infer: false });
  await w.close();
  const r = await Mnemo.open({ bank: 'blobs', storage });
  assert.ok(storage.lazyLoads >= 2, 'the bank asks for a lazy load');
  assert.equal((await r.recall('where does my sister live?', { limit: 1 })).results[0].text, 'My sister lives in Lisbon');
  assert.equal((await r.stats()).memories, 301);
  await r.close();
  if (!core.suspends) {
    // The binding itself refuses Blobs it could not wait for.
    assert.throws(() => core.pages_load('blob-pages', 4096, [[1, new Blob([new Uint8Array(4096)])]]), isCode('MNEMO_EINVAL'));
    assert.equal(core.lent.size, 0);
  }
});

test('retain stores text, messages and items; results name what was added', async () => {
  await withBank(async (bank) => {
    const a = await bank.retain('I prefer dark mode', { metadata: { topic: 'ui' }, timestamp: new Date('2024-05-01T10:00:00Z') });
    assert.equal(a.mode, 'manual');
    assert.equal(a.added.length, 1);
    const m = await bank.retain([{ role: 'user', content: 'I live in Lyon' }, { role: 'assistant', content: 'Noted, Lyon.' }]);
    assert.equal(m.added.length, 2);
    const it = await bank.retain({ items: [{ text: 'one' }, { text: 'two' }, { text: 'three' }] });
    assert.equal(it.added.length, 3);
    const got = await bank.get(a.added[0].id);
    assert.equal(got.text, 'I prefer dark mode');
    assert.deepEqual(got.metadata, { topic: 'ui' });
    assert.equal(got.occurred_at, '2024-05-01T10:00:00Z');
    assert.equal((await bank.get(m.added[0].id)).source, 'user');
    assert.equal(it.added[1].text, 'two');
    // echo: false, for bulk imports: the ids without the texts.
    const quiet = await bank.retain({ items: [{ text: 'four' }, { text: 'five' }] }, { echo: false });
    assert.deepEqual(quiet.added.map((x) => Object.keys(x)), [['id'], ['id']]);
    assert.equal((await bank.get(quiet.added[1].id)).text, 'five');
    await assert.rejects(bank.retain('six', { echo: 'no' }), isCode('MNEMO_EINVAL'));
    assert.equal((await bank.stats()).memories, 8);
  });
});

test('retaining a documentId again replaces what the old version gave', async () => {
  await withBank(async (bank) => {
    await bank.retain('The meeting is on Monday', { documentId: 'doc-1' });
    const r = await bank.retain('The meeting is on Tuesday', { documentId: 'doc-1' });
    assert.equal(r.removed.length, 1);
    const texts = (await bank.list()).memories.map((m) => m.text);
    assert.deepEqual(texts, ['The meeting is on Tuesday']);
    const same = await bank.retain('The meeting is on Tuesday', { documentId: 'doc-1' });
    assert.equal(same.unchanged, true);
  });
});

test('recall ranks by relevance, filters on metadata and packs to maxTokens', async () => {
  await withBank(async (bank) => {
    await bank.retain('I use Python for data science', { metadata: { topic: 'code' } });
    await bank.retain('My favourite food is ramen', { metadata: { topic: 'food' } });
    await bank.retain('Python packaging is painful', { metadata: { topic: 'rant' } });
    const all = await bank.recall('python', { limit: 5 });
    assert.equal(all.results.length, 2);
    assert.ok(all.results.every((r) => /Python/.test(r.text)));
    assert.ok(all.results[0].signals && typeof all.results[0].score === 'number');
    const code = await bank.recall('python', { filter: { topic: 'code' } });
    assert.deepEqual(code.results.map((r) => r.text), ['I use Python for data science']);
    const small = await bank.recall('python', { maxTokens: 8 });
    assert.ok(small.tokens <= 8, `tokens ${small.tokens}`);
    assert.ok(small.results.length < 2);
    await assert.rejects(bank.recall('python', { filter: { topic: { $regex: 'x' } } }), isCode('MNEMO_EFILTER'));
    await assert.rejects(async () => bank.recall(42), isCode('MNEMO_EINVAL'));
    await assert.rejects(bank.recall('python', { limit: 0 }), isCode('MNEMO_EINVAL'));
  });
});

test('get returns null for an unknown id; list pages with a cursor, newest first', async () => {
  await withBank(async (bank) => {
    assert.equal(await bank.get('00000000-0000-7000-8000-000000000000'), null);
    for (let i = 0; i < 5; i++) await bank.retain(`memory number ${i}`);
    const p1 = await bank.list({ limit: 2 });
    assert.deepEqual(p1.memories.map((m) => m.text), ['memory number 4', 'memory number 3']);
    assert.ok(p1.nextCursor);
    const p2 = await bank.list({ limit: 2, cursor: p1.nextCursor });
    assert.deepEqual(p2.memories.map((m) => m.text), ['memory number 2', 'memory number 1']);
    const p3 = await bank.list({ limit: 2, cursor: p2.nextCursor });
    assert.deepEqual(p3.memories.map((m) => m.text), ['memory number 0']);
    assert.equal(p3.nextCursor, null);
  });
});

test('update changes text and metadata, keeps history; delete and deleteAll forget', async () => {
  await withBank(async (bank) => {
    const { added: [a] } = await bank.retain('I live in Paris');
    const u = await bank.update(a.id, 'I live in Berlin');
    assert.equal(u.text, 'I live in Berlin');
    const u2 = await bank.update(a.id, { metadata: { city: 'Berlin' } });
    assert.deepEqual(u2.metadata, { city: 'Berlin' });
    const h = await bank.history(a.id);
    assert.deepEqual(h.map((e) => e.event), ['ADD', 'UPDATE', 'UPDATE']);
    assert.equal(h[1].old.text, 'I live in Paris');
    await assert.rejects(bank.update('nope', 'x'), isCode('MNEMO_ENOTFOUND'));
    await bank.delete(a.id);
    assert.equal(await bank.get(a.id), null);
    assert.equal((await bank.history(a.id)).at(-1).event, 'DELETE');
    await assert.rejects(bank.delete(a.id), isCode('MNEMO_ENOTFOUND'));
    await assert.rejects(bank.history('never-was'), isCode('MNEMO_ENOTFOUND'));
    await bank.retain('x');
    await bank.retain('y');
    await bank.deleteAll();
    assert.equal((await bank.stats()).memories, 0);
    assert.equal((await bank.list()).memories.length, 0);
    await bank.retain('still usable');
    assert.equal((await bank.stats()).memories, 1);
  });
});

test('export then import restores every memory exactly, in another bank', async () => {
  let dump;
  await withBank(async (bank) => {
    await bank.retain('alpha', { metadata: { k: 1 }, documentId: 'd' });
    await bank.retain('beta', { topics: ['t'] });
    dump = await bank.export();
  });
  assert.ok(dump.endsWith('\n'));
  for (const line of dump.trim().split('\n')) JSON.parse(line);
  await withBank(async (bank) => {
    const r = await bank.import(dump);
    assert.ok(r.imported >= 2);
    assert.deepEqual((await bank.list()).memories.map((m) => m.text), ['beta', 'alpha']);
    assert.equal(await bank.export(), dump);
  }, { bank: 'bob' });
});

test('a bad import line imports nothing and names the line', async () => {
  await withBank(async (bank) => {
    for (let i = 0; i < 30; i++) await bank.retain(`keep me ${i}`);
    const good = (await bank.export()).trim().split('\n');
    await bank.deleteAll();
    const bad = [...good, '{"id": broken'].join('\n');
    await assert.rejects(bank.import(bad), (e) => isCode('MNEMO_EJSON')(e) && new RegExp(`line ${good.length + 1}\\b`).test(e.message));
    assert.equal((await bank.stats()).memories, 0);
    // Chunked (progress/abort) import: the same all-or-nothing rule, and the
    // line number counts from the start of the input, not of the chunk.
    const lines = [...good];
    lines.splice(25, 0, '{"oops"');
    await assert.rejects(bank.import(lines.join('\n') + '\n', { onProgress() {}, chunkLines: 10 }),
      (e) => isCode('MNEMO_EJSON')(e) && /line 26\b/.test(e.message));
    assert.equal((await bank.stats()).memories, 0);
    await assert.rejects(async () => bank.import(42), isCode('MNEMO_EINVAL'));
  });
});

test('import reports progress and stops on abort, leaving the bank as it was', async () => {
  let dump;
  await withBank(async (bank) => {
    for (let i = 0; i < 50; i++) await bank.retain(`fact ${i}`);
    dump = await bank.export();
  });
  const total = dump.trim().split('\n').length;
  await withBank(async (bank) => {
    const seen = [];
    await bank.import(dump, { chunkLines: 10, onProgress: (p) => seen.push(p) });
    assert.equal((await bank.stats()).memories, 50);
    assert.equal(seen.length, Math.ceil(total / 10));
    assert.equal(seen.at(-1).done, total);
    assert.ok(seen.every((p, i) => p.total === total && p.phase === 'import' && (i === 0 || p.done > seen[i - 1].done)));
  }, { bank: 'b2' });
  await withBank(async (bank) => {
    const ctl = new AbortController();
    const p = bank.import(dump, { chunkLines: 10, signal: ctl.signal, onProgress: (x) => { if (x.done === 20) ctl.abort(); } });
    await assert.rejects(p, (e) => e.name === 'AbortError');
    assert.equal((await bank.stats()).memories, 0);
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(bank.import(dump, { signal: pre.signal }), (e) => e.name === 'AbortError');
    await assert.rejects(bank.reindex({ signal: pre.signal }), (e) => e.name === 'AbortError');
    assert.equal((await bank.stats()).memories, 0);
  }, { bank: 'b3' });
});

test('reindex and processPending run as jobs and report progress', async () => {
  await withBank(async (bank) => {
    await bank.retain('something to index');
    const steps = [];
    const r = await bank.reindex({ onProgress: (p) => steps.push(p.phase) });
    assert.equal(typeof r, 'object');
    assert.deepEqual(steps, ['done']);
    const pp = await bank.processPending();
    assert.equal(pp.processed, 0);
    assert.equal(typeof pp.remaining, 'number');
  });
});

test('stats and a fresh bank: counts, embedder, schema', async () => {
  await withBank(async (bank) => {
    const s = await bank.stats();
    assert.equal(s.memories, 0);
    assert.equal(s.embedder.builtin, true);
    assert.ok(s.schema_version >= 1);
    assert.equal(bank.bank, 'alice');
    assert.equal(bank.storage, 'memory');
  });
});

test('a closed bank refuses calls with MNEMO_EMISUSE; close is idempotent', async () => {
  const bank = await Mnemo.open({ bank: 'c' });
  await bank.close();
  await bank.close();
  await assert.rejects(bank.list(), isCode('MNEMO_EMISUSE'));
  await assert.rejects(bank.retain('x'), isCode('MNEMO_EMISUSE'));
});

test('calls on one bank run one at a time, in order', async () => {
  await withBank(async (bank) => {
    const ps = [];
    for (let i = 0; i < 20; i++) ps.push(bank.retain(`n${i}`));
    ps.push(bank.list({ limit: 100 }));
    const all = await Promise.all(ps);
    assert.equal(all.at(-1).memories.length, 20);
    assert.equal(all.at(-1).memories[0].text, 'n19');
  });
});

test('bad input gets a clear error with its code and loses nothing', async () => {
  await withBank(async (bank) => {
    await bank.retain('precious');
    await assert.rejects(bank.retain(''), isCode('MNEMO_EINVAL'));
    await assert.rejects(bank.retain({ text: 'x', metadata: 'not an object' }), isCode('MNEMO_EINVAL'));
    await assert.rejects(async () => bank.retain(null), isCode('MNEMO_EINVAL'));
    await assert.rejects(async () => bank.get(''), isCode('MNEMO_EINVAL'));
    await assert.rejects(bank.retain('x'.repeat(1024 * 1024 + 1)), isCode('MNEMO_ETOOBIG'));
    assert.deepEqual((await bank.list()).memories.map((m) => m.text), ['precious']);
  });
  await assert.rejects(Mnemo.open({ bank: 'x', seed: 'no' }), isCode('MNEMO_EINVAL'));
  await assert.rejects(Mnemo.open({ bank: 'x', storage: 'indexeddb' }), isCode('MNEMO_EINVAL'));
  await assert.rejects(Mnemo.open({ bank: 'x', storage: { nope: 1 } }), isCode('MNEMO_EINVAL'));
  await assert.rejects(Mnemo.open('alice'), isCode('MNEMO_EINVAL'));
});

test('bank names that are patterns or paths are refused with MNEMO_EINVAL', async () => {
  const bad = ['', '*', 'user*', '..', 'a..b', 'a/b', '/abs', 'a\\b', 'x\u0000y', 'x\ny', 'tab\there', 'del\u007f',
    ' lead', 'trail ', 'x'.repeat(129), 42, null, undefined, {}];
  for (const b of bad) {
    await assert.rejects(Mnemo.open({ bank: b }), isCode('MNEMO_EINVAL'), `bank name ${JSON.stringify(b)}`);
    assert.throws(() => validateBankName(b), isCode('MNEMO_EINVAL'));
  }
  for (const good of ['alice', 'user:42', 'tenant_7.prod', 'Zoë', 'x'.repeat(128), 'a.b-c']) {
    assert.equal(validateBankName(good), good);
    const bank = await Mnemo.open({ bank: good });
    await bank.close();
  }
  await assert.rejects(Mnemo.destroy({ bank: '../etc', storage: '/tmp' }), isCode('MNEMO_EINVAL'));
});

test('wasm memory does not grow over thousands of calls (every job and string is freed)', async () => {
  const core = await loadCore();
  await withBank(async (bank) => {
    for (let i = 0; i < 200; i++) await bank.retain(`warm up memory ${i} about topic ${i % 7}`);
    const round = async () => {
      for (let i = 0; i < 300; i++) {
        await bank.recall(`topic ${i % 7}`, { limit: 5 });
        await bank.list({ limit: 5 });
        await bank.get('00000000-0000-7000-8000-000000000000');
        await assert.rejects(bank.delete('missing'));
      }
      await bank.export();
    };
    await round();
    const before = core.M.HEAPU8.length;
    await round();
    await round();
    assert.equal(core.M.HEAPU8.length, before, 'the wasm heap grew: something is not freed');
  });
});
