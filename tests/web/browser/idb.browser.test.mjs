/*
 * idb.browser.test.mjs: the IndexedDB page store (web/src/idb.js) on its own,
 * in real headless Chromium: atomic commits, persistence across a reload and
 * a browser restart, two tabs, a quota that runs out, a commit aborted midway.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, freshProfile, launch, openPage, chromiumMissing } from './harness.mjs';

const skip = chromiumMissing() || false;
let server, profile, ctx, page;
const PAGE = () => `${server.url}/pages/blank.html`;

before(async () => {
  if (skip) return;
  server = await startServer();
  profile = freshProfile('idb');
  ctx = await launch(profile);
  page = await openPage(ctx, PAGE());
});

after(async () => {
  if (ctx) await ctx.close();
  if (server) await server.close();
});

/* In-page helpers, installed on globalThis of a page: pages filled with a
 * byte pattern that names the page and the round, so any mix-up shows. */
async function install(p) {
  await p.evaluate(async () => {
    const m = await import('/web/src/idb.js');
    globalThis.idb = m;
    /* xorshift32 bytes: incompressible (IndexedDB compresses values, and the
     * quota test must really fill the quota). */
    globalThis.pageOf = (size, pgno, round) => {
      const b = new Uint8Array(size);
      let x = (pgno * 1000003 + round * 7919 + 1) >>> 0;
      for (let i = 0; i < size; i++) {
        x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
        b[i] = x & 255;
      }
      return b;
    };
    /* {pgno: round} of a loaded image, or a string naming the first bad page. */
    globalThis.rounds = (img) => {
      const out = {};
      const pages = [];   // a stored entry may hold several consecutive pages
      for (const [first, chunk] of img.pages)
        for (let o = 0; o < chunk.length; o += img.pageSize) pages.push([first + o / img.pageSize, chunk.subarray(o, o + img.pageSize)]);
      for (const [pgno, bytes] of pages) {
        let round = -1;
        for (let r = 0; r < 256 && round < 0; r++) {
          const want = globalThis.pageOf(img.pageSize, pgno, r);
          if (want.every((v, i) => v === bytes[i])) round = r;
        }
        if (round < 0) return `page ${pgno} has unexpected bytes`;
        out[pgno] = round;
      }
      return out;
    };
  });
}

test('a commit is loaded back exactly, and a shrink deletes the pages past the end', { skip }, async () => {
  await install(page);
  const r = await page.evaluate(async () => {
    const s = await idb.openIdbStore('roundtrip');
    const empty = await s.load();
    await s.commit([1, 2, 3, 4].map((p) => [p, pageOf(4096, p, 1)]), 4, 4096);
    await s.commit([[2, pageOf(4096, 2, 2)]], 4, 4096);   // one page changed
    const four = rounds(await s.load());
    await s.commit([[1, pageOf(4096, 1, 3)]], 2, 4096);   // shrink to 2 pages
    const two = await s.load();
    s.close();
    return { empty: empty.pages.length, emptyVersion: empty.version, four, two: rounds(two), v: two.version, n: two.pageCount };
  });
  assert.equal(r.empty, 0);
  assert.equal(r.emptyVersion, 0);
  assert.deepEqual(r.four, { 1: 1, 2: 2, 3: 1, 4: 1 });
  assert.deepEqual(r.two, { 1: 3, 2: 2 });
  assert.equal(r.v, 3);
  assert.equal(r.n, 2);
});

test('commits that touch part of a chunk, or many chunks, keep every other page', { skip }, async () => {
  await install(page);
  const r = await page.evaluate(async () => {
    const s = await idb.openIdbStore('chunks');
    const all = [];
    for (let p = 1; p <= 200; p++) all.push([p, pageOf(4096, p, 1)]);
    await s.commit(all, 200, 4096);                       // 4 chunks of 64 pages (the last short)
    await s.commit([[3, pageOf(4096, 3, 2)], [130, pageOf(4096, 130, 2)]], 200, 4096);
    await s.commit([[201, pageOf(4096, 201, 3)]], 201, 4096);   // grows the last chunk
    const grown = rounds(await s.load());
    await s.commit([], 100, 4096);                        // shrinks into the second chunk
    const img = await s.load();
    s.close();
    return { grown, shrunk: rounds(img), entries: img.pages.length };
  });
  const want = {};
  for (let p = 1; p <= 200; p++) want[p] = p === 3 || p === 130 ? 2 : 1;
  want[201] = 3;
  assert.deepEqual(r.grown, want);
  const small = {};
  for (let p = 1; p <= 100; p++) small[p] = p === 3 ? 2 : 1;
  assert.deepEqual(r.shrunk, small);
  assert.equal(r.entries, 2);
});

test('pages survive a reload and a browser restart on the same profile', { skip }, async () => {
  await install(page);
  await page.evaluate(async () => {
    const s = await idb.openIdbStore('restart');
    await s.commit([1, 2, 3].map((p) => [p, pageOf(8192, p, 5)]), 3, 8192);
    s.close();
  });
  await page.reload();
  await install(page);
  const afterReload = await page.evaluate(async () => {
    const s = await idb.openIdbStore('restart');
    const img = await s.load();
    await s.commit([[3, pageOf(8192, 3, 6)]], 3, 8192);
    s.close();
    return rounds(img);
  });
  assert.deepEqual(afterReload, { 1: 5, 2: 5, 3: 5 });
  // The commit above resolved: with strict durability it must outlive the browser.
  await ctx.close();
  ctx = await launch(profile);
  page = await openPage(ctx, PAGE());
  await install(page);
  const afterRestart = await page.evaluate(async () => {
    const s = await idb.openIdbStore('restart');
    const img = await s.load();
    s.close();
    return { r: rounds(img), v: img.version };
  });
  assert.deepEqual(afterRestart.r, { 1: 5, 2: 5, 3: 6 });
  assert.equal(afterRestart.v, 2);
});

test('a commit aborted midway stores nothing and says why', { skip }, async () => {
  await install(page);
  const r = await page.evaluate(async () => {
    const s = await idb.openIdbStore('abort', {
      testHooks: { afterPut: (tx, i) => { if (globalThis.failAt === i) tx.abort(); } },
    });
    await s.commit([1, 2, 3, 4].map((p) => [p, pageOf(4096, p, 1)]), 4, 4096);
    globalThis.failAt = 0;
    let err = null;
    try {
      await s.commit([1, 2, 3, 4, 5, 6].map((p) => [p, pageOf(4096, p, 2)]), 6, 4096);
    } catch (e) {
      err = { code: e.code, message: e.message };
    }
    globalThis.failAt = undefined;
    const img = await s.load();
    // The store stays usable after the failure.
    await s.commit([[4, pageOf(4096, 4, 3)]], 4, 4096);
    const again = await s.load();
    s.close();
    return { err, before: rounds(img), v: img.version, again: rounds(again) };
  });
  assert.ok(r.err, 'the aborted commit must reject');
  assert.equal(r.err.code, 'MNEMO_EIO');
  assert.match(r.err.message, /nothing of it was stored/);
  assert.deepEqual(r.before, { 1: 1, 2: 1, 3: 1, 4: 1 });
  assert.equal(r.v, 1);
  assert.deepEqual(r.again, { 1: 1, 2: 1, 3: 1, 4: 3 });
});

test('a commit over the storage quota fails with MNEMO_EFULL and keeps the previous pages', { skip }, async () => {
  // Chromium fixes an origin's IndexedDB quota when the origin first uses
  // IndexedDB, so the override goes to an origin not used yet: localhost.
  const origin = server.url.replace('127.0.0.1', 'localhost');
  const q = await ctx.newPage();
  const cdp = await ctx.newCDPSession(q);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1024 * 1024 });
  try {
    await q.goto(`${origin}/pages/blank.html`);
    await install(q);
    const r = await q.evaluate(async () => {
      const s = await idb.openIdbStore('quota');
      await s.load();
      await s.commit([1, 2].map((p) => [p, pageOf(65536, p, 1)]), 2, 65536);
      const pages = [];
      for (let p = 1; p <= 64; p++) pages.push([p, pageOf(65536, p, 2)]);  // 4 MB
      let err = null;
      try {
        await s.commit(pages, 64, 65536);
      } catch (e) {
        err = { code: e.code, message: e.message };
      }
      const img = await s.load();
      s.close();
      return { err, r: rounds(img), v: img.version };
    });
    assert.ok(r.err, 'a 4 MB commit under a 1 MB quota must reject');
    assert.equal(r.err.code, 'MNEMO_EFULL');
    assert.match(r.err.message, /quota/);
    assert.deepEqual(r.r, { 1: 1, 2: 1 });
    assert.equal(r.v, 1);
  } finally {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    await cdp.detach();
    await q.close();
  }
});

test('two tabs: a stale tab cannot overwrite, and locked read-modify-writes lose nothing', { skip }, async () => {
  const a = page, b = await ctx.newPage();
  await b.goto(PAGE());
  await install(a);
  await install(b);
  for (const p of [a, b])
    await p.evaluate(async () => { globalThis.store = await idb.openIdbStore('tabs'); await store.load(); });
  await a.evaluate(() => store.commit([[1, new Uint8Array(1024)]], 1, 1024));   // counter = 0
  // b learns about a's commit from the channel, and its own stale write is refused.
  const stale = await b.evaluate(async () => {
    const t0 = Date.now();
    while (!store.stale && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    let code = null;
    try { await store.commit([[1, pageOf(1024, 1, 9)]], 1, 1024); } catch (e) { code = e.code; }
    return { hint: store.stale, code, stored: await store.storedVersion(), mine: store.version };
  });
  assert.equal(stale.hint, true);
  assert.equal(stale.code, 'MNEMO_EBUSY');
  assert.equal(stale.stored, 1);
  assert.equal(stale.mine, 0);
  // Both tabs increment a counter kept in page 1, 40 times each, concurrently,
  // each increment under the bank's Web Lock, reloading when another tab wrote.
  const N = 40;
  const run = (p) => p.evaluate(async (n) => {
    for (let i = 0; i < n; i++) {
      await store.exclusive(async () => {
        if (store.stale || (await store.storedVersion()) !== store.version) await store.load();
        const img = await store.load();
        const count = img.pages.length ? new DataView(img.pages[0][1].buffer).getUint32(0) : 0;
        const next = new Uint8Array(1024);
        new DataView(next.buffer).setUint32(0, count + 1);
        await store.commit([[1, next]], 1, 1024);
      });
    }
  }, N);
  await Promise.all([run(a), run(b)]);
  const final = await a.evaluate(async () => {
    const img = await store.load();
    return { count: new DataView(img.pages[0][1].buffer).getUint32(0), v: img.version };
  });
  assert.equal(final.count, 2 * N);
  assert.equal(final.v, 1 + 2 * N);
  for (const p of [a, b]) await p.evaluate(() => store.close());
  await b.close();
});

test('bank names that are patterns or paths are refused', { skip }, async () => {
  await install(page);
  const r = await page.evaluate(async () => {
    const out = {};
    for (const name of ['*', '', 'a/b', 'a\\b', '..', 'x\u0001', 'a'.repeat(129), 42]) {
      try { await idb.openIdbStore(name); out[String(name)] = 'opened'; } catch (e) { out[String(name)] = e.code; }
    }
    return out;
  });
  for (const [name, code] of Object.entries(r)) assert.equal(code, 'MNEMO_EINVAL', `name ${JSON.stringify(name)}`);
});
