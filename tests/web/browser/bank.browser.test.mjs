/*
 * bank.browser.test.mjs: mnemo-wasm in real headless Chromium with storage
 * "indexeddb": persistence across a reload and a browser restart, two tabs on
 * one bank, a quota that runs out and a commit aborted midway (the call
 * fails, the bank is as before, nothing is lost), offline mode (an LLM is
 * configured but the network is down), the mem0 facade, and the packed
 * tarball bundled by Vite. The package is the built one (build/wasm/pkg,
 * served as /pkg/); the Vite page is the one the packed-tarball check builds
 * (build/web-pack/vite-app/dist, served as /vite/).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startServer, freshProfile, launch, openPage, chromiumMissing } from './harness.mjs';

const PKG = process.env.MNEMO_WASM_PKG ? path.resolve(process.env.MNEMO_WASM_PKG) : path.join(ROOT, 'build/wasm/pkg');
const VITE = path.join(ROOT, 'build/web-pack/vite-app/dist');
const skip = chromiumMissing() || (fs.existsSync(path.join(PKG, 'src/index.js')) ? false : `the package is not built (${PKG}): make web`);
let server, profile, ctx, page;
const URL_ = () => `${server.url}/pages/blank.html`;

before(async () => {
  if (skip) return;
  // The Vite build refers to its assets from the root (/assets/...).
  server = await startServer({ '/pkg/': PKG, '/vite/': VITE, '/assets/': path.join(VITE, 'assets') });
  profile = freshProfile('bank');
  ctx = await launch(profile);
  page = await openPage(ctx, URL_());
});

after(async () => {
  if (ctx) await ctx.close();
  if (server) await server.close();
});

async function install(p) {
  await p.evaluate(async () => {
    globalThis.mw = await import('/pkg/src/index.js');
    globalThis.texts = async (bank) => (await bank.list({ limit: 1000 })).memories.map((m) => m.text).sort();
  });
}

test('a bank in IndexedDB survives a reload and a browser restart', { skip }, async () => {
  await install(page);
  const first = await page.evaluate(async () => {
    const b = await mw.Mnemo.open({ bank: 'alice', storage: 'indexeddb' });
    await b.retain('I prefer dark mode in every editor', { infer: false });
    await b.retain('My sister Ana lives in Lisbon', { infer: false });
    const r = await b.recall('which mode do I prefer?', { limit: 1 });
    await b.close();
    return r.results[0].text;
  });
  assert.equal(first, 'I prefer dark mode in every editor');
  await page.reload();
  await install(page);
  const reloaded = await page.evaluate(async () => {
    const b = await mw.Mnemo.open({ bank: 'alice', storage: 'indexeddb' });
    const r = await b.recall('where does my sister live?', { limit: 1 });
    await b.retain('I drink green tea', { infer: false });
    const t = await texts(b);
    await b.close();
    return { top: r.results[0].text, t };
  });
  assert.equal(reloaded.top, 'My sister Ana lives in Lisbon');
  assert.equal(reloaded.t.length, 3);
  await ctx.close();
  ctx = await launch(profile);
  page = await openPage(ctx, URL_());
  await install(page);
  const restarted = await page.evaluate(async () => {
    const b = await mw.Mnemo.open({ bank: 'alice', storage: 'indexeddb' });
    const t = await texts(b);
    const other = await mw.Mnemo.open({ bank: 'bob', storage: 'indexeddb' });
    const n = (await other.stats()).memories;
    await other.close();
    await b.close();
    return { t, n };
  });
  assert.deepEqual(restarted.t, ['I drink green tea', 'I prefer dark mode in every editor', 'My sister Ana lives in Lisbon']);
  assert.equal(restarted.n, 0, "another bank does not see alice's memories");
});

test('the recall index is kept beside the bank: after a restart it is read, not rebuilt, and brought up to date if the bank changed', { skip }, async () => {
  await install(page);
  const q = 'kingfisher by lake 7';
  const first = await page.evaluate(async (q) => {
    const b = await mw.Mnemo.open({ bank: 'snap', storage: 'indexeddb' });
    const items = [];
    for (let i = 0; i < 600; i++) items.push({ text: `note ${i}: a ${['heron', 'kingfisher', 'cormorant'][i % 3]} by lake ${i % 41}` });
    await b.retain({ items }, { infer: false });
    const how = await b.warmed;
    const r = (await b.recall(q, { limit: 8 })).results.map((x) => x.text);
    await b.close();
    return { how, r };
  }, q);
  assert.equal(first.how, 'built');
  await ctx.close();
  ctx = await launch(profile);
  page = await openPage(ctx, URL_());
  await install(page);
  const again = await page.evaluate(async (q) => {
    const b = await mw.Mnemo.open({ bank: 'snap', storage: 'indexeddb' });
    const how = await b.warmed;
    const r = (await b.recall(q, { limit: 8 })).results.map((x) => x.text);
    await b.close();
    // A writer that keeps no snapshot: the stored one is older than the bank.
    const w = await mw.Mnemo.open({ bank: 'snap', storage: 'indexeddb', warm: false });
    await w.retain('a kingfisher by lake 7, at dawn', { infer: false });
    await w.close();
    const c = await mw.Mnemo.open({ bank: 'snap', storage: 'indexeddb' });
    const how2 = await c.warmed;
    const r2 = (await c.recall(q, { limit: 8 })).results.map((x) => x.text);
    await c.close();
    return { how, r, how2, r2 };
  }, q);
  assert.equal(again.how, 'snapshot');
  assert.deepEqual(again.r, first.r);
  assert.equal(again.how2, 'snapshot');
  assert.ok(again.r2.includes('a kingfisher by lake 7, at dawn'));
});

test('two tabs on one bank: each sees the other\'s writes, and concurrent writes all land', { skip }, async () => {
  const a = page, b = await ctx.newPage();
  await b.goto(URL_());
  for (const p of [a, b]) {
    await install(p);
    await p.evaluate(async () => { globalThis.bank = await mw.Mnemo.open({ bank: 'shared', storage: 'indexeddb' }); });
  }
  await a.evaluate(() => bank.retain('Tab A says the meeting is on Friday', { infer: false }));
  const seen = await b.evaluate(async () => (await bank.recall('when is the meeting?', { limit: 1 })).results.map((r) => r.text));
  assert.deepEqual(seen, ['Tab A says the meeting is on Friday']);
  const N = 12;
  const burst = (p, tag) => p.evaluate(async ([n, t]) => {
    await Promise.all(Array.from({ length: n }, (_, i) => bank.retain(`note ${t}${i} from a busy tab`, { infer: false })));
  }, [N, tag]);
  await Promise.all([burst(a, 'a'), burst(b, 'b')]);
  const counts = await Promise.all([a, b].map((p) => p.evaluate(async () => {
    await bank.recall('note', { limit: 1 });   // a read catches up with the other tab
    return (await texts(bank)).length;
  })));
  assert.deepEqual(counts, [1 + 2 * N, 1 + 2 * N]);
  for (const p of [a, b]) await p.evaluate(() => bank.close());
  await b.close();
});

test('a stored bank opens while another tab holds its write lock, and writes once it is free', { skip }, async () => {
  const a = page, b = await ctx.newPage();
  await b.goto(URL_());
  for (const p of [a, b]) await install(p);
  await a.evaluate(async () => {
    const m = await mw.Mnemo.open({ bank: 'busy', storage: 'indexeddb' });
    await m.retain('The plumber comes on Monday', { infer: false });
    await m.close();
  });
  // Tab b is in the middle of a long write: it holds the bank's lock.
  await b.evaluate(() => {
    globalThis.held = new Promise((granted) => {
      navigator.locks.request('mnemo-bank-lock:busy', () => new Promise((release) => { globalThis.release = release; granted(); }));
    });
    return globalThis.held;
  });
  const opened = await a.evaluate(async () => {
    const timeout = new Promise((r) => setTimeout(() => r('still waiting after 5 s'), 5000));
    const r = await Promise.race([mw.Mnemo.open({ bank: 'busy', storage: 'indexeddb' }), timeout]);
    if (typeof r === 'string') return r;
    globalThis.bank = r;
    const top = (await r.recall('when does the plumber come?', { limit: 1 })).results.map((x) => x.text);
    globalThis.writing = r.retain('The electrician comes on Tuesday', { infer: false });
    return top;
  });
  assert.deepEqual(opened, ['The plumber comes on Monday']);
  await b.evaluate(() => globalThis.release());
  const after = await a.evaluate(async () => {
    await writing;
    const t = await texts(bank);
    await bank.close();
    return t;
  });
  assert.deepEqual(after, ['The electrician comes on Tuesday', 'The plumber comes on Monday']);
  await b.close();
});

test('a stored bank opens reading only the pages it needs, answers as if read whole, and reads the rest in the background', { skip }, async () => {
  await install(page);
  const want = await page.evaluate(async () => {
    const b = await mw.Mnemo.open({ bank: 'lazy', storage: 'indexeddb' });
    const items = Array.from({ length: 1500 }, (_, i) => ({ text: `log entry ${i}: the ${['red', 'green', 'blue'][i % 3]} kite number ${i * 7} flew over the harbour wall ${'and circled the lighthouse twice '.repeat(8)}` }));
    await b.retain({ items }, { infer: false });
    await b.retain('My sister Ana lives in Lisbon', { infer: false });
    const top = (await b.recall('where does my sister live?', { limit: 3 })).results.map((r) => r.text);
    await b.close();
    return top;
  });
  await page.reload();   // a fresh module: nothing of the bank in memory
  await install(page);
  const r = await page.evaluate(async () => {
    const b = await mw.Mnemo.open({ bank: 'lazy', storage: 'indexeddb' });
    const core = b._core, lent = core.lent.get(b._lend);
    const windows = () => lent.windows.reduce((n, w) => n + (w ? w.size : 0), 0);
    const total = lent.windows.reduce((n, w, i) => n + (w ? Math.ceil(lent.pages[i][1].size / 65536) : 0), 0);
    const atOpen = { read: windows(), waits: core.waits.count };
    await b.warmed;
    const top = (await b.recall('where does my sister live?', { limit: 3 })).results.map((x) => x.text);
    const afterRecall = windows();
    await core.pages_fill(b._lend);
    const filled = windows(), waits = core.waits.count;
    const n = (await b.stats()).memories;
    const waitsAfterFill = core.waits.count - waits;
    await b.retain('I keep bees on the roof', { infer: false });   // commits (compaction reads every page)
    await b.close();
    const again = await mw.Mnemo.open({ bank: 'lazy', storage: 'indexeddb' });
    const bees = (await again.recall('what do I keep on the roof?', { limit: 1 })).results[0].text;
    const m = (await again.stats()).memories;
    await again.close();
    return { suspends: core.suspends, total, atOpen, top, afterRecall, filled, waitsAfterFill, n, m, bees };
  });
  assert.equal(r.suspends, true, 'Chromium has JSPI: the pages are lent unread');
  assert.ok(r.total >= 10, `the bank spans ${r.total} windows of 64 KB`);
  // Page 1 changes with every commit: it may come from a delta, in memory.
  // Its window is read from the lend on: the open may find it there.
  assert.ok(r.atOpen.read <= 2 && r.atOpen.waits <= r.atOpen.read, `the open read ${r.atOpen.read} of ${r.total} windows (${r.atOpen.waits} waits)`);
  assert.deepEqual(r.top, want);
  assert.ok(r.afterRecall > r.atOpen.read && r.afterRecall < r.total, `a recall reads the windows it needs (${r.afterRecall} of ${r.total})`);
  assert.equal(r.filled, r.total, 'pages_fill brings in every window');
  assert.equal(r.waitsAfterFill, 0);
  assert.equal(r.n, 1501);
  assert.equal(r.m, 1502);
  assert.equal(r.bees, 'I keep bees on the roof');
});

test('a page that cannot be read from IndexedDB fails the call with MNEMO_EIO; the bank answers once it can', { skip }, async () => {
  await install(page);
  await page.evaluate(async () => {
    // Every commit compacts: the pages are in base Blobs, read lazily.
    const b = await mw.Mnemo.open({ bank: 'unreadable', storage: 'indexeddb', storageOptions: { compactBytes: 1 } });
    const items = Array.from({ length: 600 }, (_, i) => ({ text: `note ${i}: ${'a line about the weather and the tides '.repeat(6)}` }));
    await b.retain({ items }, { infer: false });
    await b.retain('The spare key is under the blue flowerpot', { infer: false });
    await b.close();
  });
  await page.reload();
  await install(page);
  const r = await page.evaluate(async () => {
    // Blob reads fail while `broken` is set (a storage failure mid-read).
    const read = Blob.prototype.arrayBuffer;
    Blob.prototype.arrayBuffer = function () {
      return globalThis.broken ? Promise.reject(new DOMException('the file is gone', 'NotReadableError')) : read.call(this);
    };
    const fail = async (p) => {
      try {
        await p;
        return null;
      } catch (e) {
        return { code: e.code, message: e.message };
      }
    };
    globalThis.broken = true;
    const openErr = await fail(mw.Mnemo.open({ bank: 'unreadable', storage: 'indexeddb', warm: false }));
    globalThis.broken = false;
    const b = await mw.Mnemo.open({ bank: 'unreadable', storage: 'indexeddb', warm: false });
    globalThis.broken = true;
    const recallErr = await fail(b.recall('where is the spare key?', { limit: 1 }));
    globalThis.broken = false;
    const key = (await b.recall('where is the spare key?', { limit: 1 })).results[0].text;
    await b.retain('The bike lock code is 4711', { infer: false });
    const n = (await b.stats()).memories;
    await b.close();
    Blob.prototype.arrayBuffer = read;
    return { openErr, recallErr, key, n };
  });
  assert.equal(r.openErr && r.openErr.code, 'MNEMO_EIO', JSON.stringify(r.openErr));
  assert.equal(r.recallErr && r.recallErr.code, 'MNEMO_EIO', JSON.stringify(r.recallErr));
  assert.equal(r.key, 'The spare key is under the blue flowerpot');
  assert.equal(r.n, 602);
});

test('a commit aborted midway fails the call, keeps the bank as it was, loses nothing', { skip }, async () => {
  await install(page);
  const r = await page.evaluate(async () => {
    const hooks = { afterPut: (tx, i) => { if (globalThis.breakCommit && i === 0) tx.abort(); } };
    const b = await mw.Mnemo.open({ bank: 'aborts', storage: 'indexeddb', storageOptions: { testHooks: hooks } });
    await b.retain('kept: the first memory', { infer: false });
    globalThis.breakCommit = true;
    let err = null;
    try {
      await b.retain('lost: written while the store fails', { infer: false });
    } catch (e) {
      err = { code: e.code, name: e.name, message: e.message };
    }
    globalThis.breakCommit = false;
    const after = await texts(b);
    await b.retain('kept: written after the failure', { infer: false });
    await b.close();
    const again = await mw.Mnemo.open({ bank: 'aborts', storage: 'indexeddb' });
    const stored = await texts(again);
    await again.close();
    return { err, after, stored };
  });
  assert.ok(r.err, 'the call whose commit aborted must reject');
  assert.equal(r.err.name, 'MnemoError');
  assert.equal(r.err.code, 'MNEMO_EIO');
  assert.deepEqual(r.after, ['kept: the first memory']);
  assert.deepEqual(r.stored, ['kept: the first memory', 'kept: written after the failure']);
});

test('quota exceeded: the call fails with MNEMO_EFULL and the bank is as before', { skip }, async () => {
  const origin = server.url.replace('127.0.0.1', 'localhost');   // an origin with no IndexedDB yet
  const q = await ctx.newPage();
  const cdp = await ctx.newCDPSession(q);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 2 * 1024 * 1024 });
  try {
    await q.goto(`${origin}/pages/blank.html`);
    await install(q);
    const r = await q.evaluate(async () => {
      const b = await mw.Mnemo.open({ bank: 'quota', storage: 'indexeddb' });
      await b.retain('a small memory that fits', { infer: false });
      // 64 memories of 64 KB of random words: incompressible, over the quota.
      const word = () => Math.random().toString(36).slice(2, 10);
      const big = Array.from({ length: 64 }, () => ({ text: Array.from({ length: 7000 }, word).join(' ').slice(0, 65000) }));
      let err = null;
      try {
        await b.retain({ items: big }, { infer: false });
      } catch (e) {
        err = { code: e.code, message: e.message };
      }
      const after = await texts(b);
      await b.close();
      const reopened = await mw.Mnemo.open({ bank: 'quota', storage: 'indexeddb' });
      const stored = await texts(reopened);
      await reopened.close();
      return { err, after, stored };
    });
    assert.ok(r.err, 'a 4 MB retain under a 2 MB quota must reject');
    assert.equal(r.err.code, 'MNEMO_EFULL');
    assert.match(r.err.message, /quota/);
    assert.deepEqual(r.after, ['a small memory that fits']);
    assert.deepEqual(r.stored, ['a small memory that fits']);
    // With room again, the same bank takes writes.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    const later = await q.evaluate(async () => {
      const b = await mw.Mnemo.open({ bank: 'quota', storage: 'indexeddb' });
      await b.retain('another small memory', { infer: false });
      await b.close();
      const again = await mw.Mnemo.open({ bank: 'quota', storage: 'indexeddb' });
      const t = await texts(again);
      await again.close();
      return t;
    });
    assert.deepEqual(later, ['a small memory that fits', 'another small memory']);
  } finally {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    await cdp.detach();
    await q.close();
  }
});

test('offline: with an LLM configured and no network, retain and recall still work', { skip }, async () => {
  await install(page);
  await ctx.setOffline(true);
  try {
    const r = await page.evaluate(async () => {
      const llm = mw.openai({ baseURL: 'https://llm.invalid/v1', apiKey: 'k', model: 'm', retries: 0, timeout: 2000 });
      const b = await mw.Mnemo.open({ bank: 'offline', storage: 'indexeddb', llm });
      const res = await b.retain([{ role: 'user', content: 'I moved to Porto last spring and I love surfing there.' }]);
      const hits = await b.recall('surfing in Porto', { limit: 3 });
      const stats = await b.stats();
      await b.close();
      return { mode: res.mode, calls: res.usage && res.usage.llm_calls, n: stats.memories, hits: hits.results.map((h) => h.text) };
    });
    assert.ok(r.n >= 1, `memories stored offline: ${JSON.stringify(r)}`);
    assert.notEqual(r.mode, 'llm');
    assert.ok(r.hits.some((t) => /surf/i.test(t)), `recall finds the offline memory: ${JSON.stringify(r.hits)}`);
  } finally {
    await ctx.setOffline(false);
  }
});

test('the mem0 facade works in the browser and keeps users apart', { skip }, async () => {
  await page.reload();
  const r = await page.evaluate(async () => {
    const { Memory } = await import('/pkg/src/mem0.js');
    const m = new Memory({ storage: 'indexeddb' });
    await m.add('Likes green tea', { userId: 'u1', infer: false });
    await m.add([{ role: 'user', content: 'I am allergic to peanuts' }], { userId: 'u1', infer: false });
    await m.add('Likes black coffee', { userId: 'u2', infer: false });
    const found = await m.search('green tea', { userId: 'u1', limit: 5 });
    const all1 = await m.getAll({ userId: 'u1' });
    const id = all1.results.find((x) => /tea/.test(x.memory)).id;
    await m.update(id, 'Likes jasmine tea', { userId: 'u1' });
    const hist = await m.history(id, { userId: 'u1' });
    let star = null;
    try { await m.getAll({ userId: '*' }); } catch (e) { star = e.code; }
    await m.close();
    const m2 = new Memory({ storage: 'indexeddb' });
    const again = await m2.getAll({ userId: 'u1' });
    await m2.close();
    return {
      found: found.results.map((x) => x.memory), n1: all1.results.length, hist: hist.length, star,
      again: again.results.map((x) => x.memory).sort(),
    };
  });
  assert.ok(r.found.includes('Likes green tea'));
  assert.ok(!r.found.includes('Likes black coffee'), "u2's memory is not in u1's results");
  assert.equal(r.n1, 2);
  assert.ok(r.hist >= 2, 'history holds the ADD and the UPDATE');
  assert.equal(r.star, 'MNEMO_EINVAL');
  assert.deepEqual(r.again, ['I am allergic to peanuts', 'Likes jasmine tea']);
});

test('the packed tarball, bundled by Vite, runs in the page with IndexedDB', { skip }, async (t) => {
  if (!fs.existsSync(path.join(VITE, 'index.html'))) {
    assert.fail(`the Vite page is not built (${VITE}): it is built by the packed-tarball check (make test-web)`);
  }
  const p = await ctx.newPage();
  const run = async () => {
    await p.goto(`${server.url}/vite/index.html?storage=indexeddb`);
    await p.waitForFunction(() => window.__mnemo !== undefined, null, { timeout: 30000 });
    return p.evaluate(() => window.__mnemo);
  };
  const one = await run();
  assert.equal(one.ok, true, JSON.stringify(one));
  assert.equal(one.storage, 'indexeddb');
  assert.equal(one.top, 'The user prefers dark mode');
  assert.equal(one.refused, 'MNEMO_EINVAL');
  assert.deepEqual(one.mem0, ['Likes green tea']);
  const two = await run();   // the page retains again: the bank persisted
  assert.equal(two.memories, one.memories + 1);
  await p.close();
});
