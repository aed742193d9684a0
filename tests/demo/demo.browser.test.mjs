// The demo end to end, in real headless Chromium (Debian's, driven by
// playwright-core), on one profile that survives reloads and restarts:
//
//   offline: a first session says something about the user; the page is
//   reloaded and the browser restarted; a question recalls it; the inspector
//   edits, searches, shows history, deletes, exports and imports; "forget me"
//   leaves nothing in IndexedDB.
//   LLM path: the same, with a fake OpenAI-compatible server as the endpoint.
//
// Screenshots go to $MNEMO_DEMO_OUT (build/demo-test). Needs the built
// package ($MNEMO_PKG, `make web`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startDemoLLM } from './fake-llm.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.resolve(repo, process.env.MNEMO_DEMO_OUT || 'build/demo-test');
const PKG = path.resolve(repo, process.env.MNEMO_PKG || 'build/wasm/pkg');
const PROFILE = path.join(OUT, 'profile');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-gpu', '--no-first-run', '--disable-sync'];
const DB_NAME = 'mnemo-bank:demo-user';   // the package's IndexedDB database of the demo's bank
const STEP = 30_000;

let server, base, llm, context, page;
const consoleErrors = [];

function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(repo, 'demo/serve.mjs'), '--pkg', PKG],
      { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = /Mnemo demo: (http:\/\/\S+)/.exec(out);
      if (m) resolve({ proc: p, url: m[1] });
    });
    p.on('exit', (code) => reject(new Error(`demo server exited (${code}): ${out}`)));
  });
}

async function launch() {
  context = await chromium.launchPersistentContext(PROFILE, {
    executablePath: CHROMIUM, headless: true, args: ARGS,
    viewport: { width: 1280, height: 860 }, acceptDownloads: true,
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(STEP);
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  await page.goto(base);
  await ready();
}

async function restart() {
  await context.close();
  await launch();
}

async function ready() {
  await page.waitForFunction(() => document.documentElement.dataset.ready);
  const state = await page.evaluate(() => document.documentElement.dataset.ready);
  if (state !== 'true') assert.fail(`the page did not start: ${await page.locator('#status').textContent()}`);
}

const inspector = () => page.getByRole('region', { name: 'Memories' });
const memoryTexts = () => inspector().locator('li.memory .text').allTextContents();
const memoryItem = (re) => inspector().locator('li.memory').filter({ has: page.locator('.text', { hasText: re }) }).first();

// Types a message, sends it, waits for the turn to finish; returns the turn.
async function say(text) {
  const before = await page.locator('#log > li.turn').count();
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const turn = page.locator('#log > li.turn').nth(before);
  await page.waitForFunction((i) => {
    const t = document.querySelectorAll('#log > li.turn')[i];
    return t && t.dataset.state !== 'working';
  }, before);
  assert.equal(await turn.getAttribute('data-state'), 'done', `turn failed: ${await turn.textContent()}`);
  return turn;
}

async function waitTexts(pred, what) {
  try {
    await page.waitForFunction(pred, null, { timeout: STEP });
  } catch {
    assert.fail(`${what}; the inspector shows ${JSON.stringify(await memoryTexts())}`);
  }
}

const showsText = (re) => waitTexts(
  new Function(`return [...document.querySelectorAll('#memories li.memory .text')].some((e) => ${re}.test(e.textContent))`),
  `expected a memory matching ${re}`);
const lacksId = (id) => waitTexts(
  new Function(`return !document.querySelector('#memories li.memory[data-id="${id}"]')`),
  `expected memory ${id} to be gone`);

// What IndexedDB holds for this origin: every database, every store, every record.
function idbContents() {
  return page.evaluate(async (dbName) => {
    const req2p = (r) => new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const names = (await indexedDB.databases()).map((d) => d.name);
    const records = {};
    for (const name of names) {
      const db = await req2p(indexedDB.open(name));
      for (const store of db.objectStoreNames) {
        const tx = db.transaction(store, 'readonly');
        records[`${name}/${store}`] = await req2p(tx.objectStore(store).count());
      }
      db.close();
    }
    // Opening the bank's database by name must find nothing: an upgrade from
    // version 0 means it did not exist (the upgrade is aborted, so it still does not).
    const existed = await new Promise((resolve, reject) => {
      const r = indexedDB.open(dbName);
      r.onupgradeneeded = (ev) => { resolve(ev.oldVersion !== 0); r.transaction.abort(); };
      r.onsuccess = () => { r.result.close(); resolve(true); };
      r.onerror = () => { if (r.error && r.error.name === 'AbortError') return; reject(r.error); };
    });
    return { names, records, existed };
  }, DB_NAME);
}

async function forgetMe() {
  page.once('dialog', (d) => d.accept());
  await inspector().getByRole('button', { name: 'Forget me' }).click();
  await page.locator('#note').filter({ hasText: /Forgotten/ }).waitFor();
  await page.locator('#empty').filter({ hasText: 'Nothing is stored.' }).waitFor();
  assert.equal(await inspector().locator('li.memory').count(), 0);
  const idb = await idbContents();
  assert.deepEqual(idb.names, [], `IndexedDB still holds ${JSON.stringify(idb)}`);
  assert.deepEqual(idb.records, {});
  assert.equal(idb.existed, false, `${DB_NAME} still exists`);
  assert.equal(await page.locator('#log > li').count(), 0, 'the conversation is cleared too');
}

const shot = (name) => page.screenshot({ path: path.join(OUT, name), fullPage: true });

before(async () => {
  assert.ok(fs.existsSync(path.join(PKG, 'package.json')), `no built package in ${PKG}: run make web`);
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  server = await startServer();
  base = server.url;
  llm = await startDemoLLM({ key: 'sk-demo-test' });
});

after(async () => {
  if (context) await context.close().catch(() => {});
  if (server) server.proc.kill();
  if (llm) await llm.close();
});

// A raw GET (no URL normalisation on the client side, so "/../" reaches the server).
function rawGet(urlPath) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: urlPath, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the demo server serves the page and the package, and nothing outside them', async () => {
  const entry = await rawGet('/mnemo-wasm.js');
  assert.equal(entry.statusCode, 302);
  const pkg = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8'));
  assert.equal(entry.headers.location, '/pkg/' + pkg.exports['.'].browser.replace(/^\.\//, ''));
  const wasm = fs.readdirSync(path.join(PKG, 'dist')).find((f) => f.endsWith('.wasm'));
  assert.equal((await rawGet(`/pkg/dist/${wasm}`)).headers['content-type'], 'application/wasm');
  assert.match((await rawGet('/')).headers['content-type'], /^text\/html/);
  // Each of these names a file that exists (the repository's Makefile) if the
  // server followed the path out of its roots (demo/, and build/wasm/pkg/).
  const up = path.relative(PKG, repo).split(path.sep).map(() => '%2e%2e').join('/');
  assert.ok(fs.existsSync(path.join(repo, 'demo', '..', 'Makefile')));
  for (const p of ['/../Makefile', '/%2e%2e/Makefile', '/%2E%2E%2FMakefile', `/pkg/${up}/Makefile`,
    `/pkg/${up.replace(/%2e%2e/g, '..')}/Makefile`, '/%00', '/index.html%00.png'])
    assert.equal((await rawGet(p)).statusCode, 404, p);
});

test('the demo remembers its user, shows and edits what it knows, and forgets on request', async (t) => {
  await launch();

  await t.test('accessible controls, an empty bank at first', async () => {
    await page.getByLabel('Message', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Send', exact: true }).waitFor();
    await inspector().waitFor();
    assert.equal(await inspector().locator('li.memory').count(), 0);
    assert.match(await page.locator('#status').textContent(), /Offline/);
  });

  await t.test('offline: the first session is retained with the heuristic extractor', async () => {
    const turn = await say('I prefer dark mode and I use Python');
    assert.equal(await turn.locator('[data-part=learned]').getAttribute('data-mode'), 'heuristic');
    const learned = turn.locator('[data-part=learned] li');
    assert.ok(await learned.count() >= 1, `nothing learned: ${await turn.textContent()}`);
    assert.match((await learned.allTextContents()).join('\n'), /Python/);
    await showsText(/Python/);
    await shot('1-offline-first-session.png');
  });

  await t.test('offline: the memory survives a reload and a browser restart', async () => {
    await page.reload();
    await ready();
    await showsText(/Python/);
    await restart();
    await showsText(/Python/);
  });

  await t.test('offline: the question recalls the Python memory and shows it', async () => {
    const turn = await say("What's my preferred language?");
    const used = await turn.locator('[data-part=used] li').allTextContents();
    assert.ok(used.some((u) => /Python/.test(u)), `memories used: ${JSON.stringify(used)}`);
    assert.match(await turn.locator('.bubble.assistant').textContent(), /Python/);
    await shot('2-offline-recall.png');
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a 390px screen`);
    await page.screenshot({ path: path.join(OUT, '3-phone-390x844.png') });
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  let editedId;
  await t.test('inspector: an edit takes effect, is searchable, has history, survives reload', async () => {
    const item = memoryItem(/Python/);
    editedId = await item.getAttribute('data-id');
    await item.getByRole('button', { name: /^Edit/ }).click();
    await item.getByLabel('Edit memory').fill('User writes Python and Rust');
    await item.getByRole('button', { name: 'Save' }).click();
    await waitTexts(new Function(`const e = document.querySelector('#memories li.memory[data-id="${editedId}"] .text');
      return e && e.textContent === 'User writes Python and Rust'`), 'expected the edited text');
    await page.getByLabel('Search memories').fill('Rust');
    await page.waitForFunction(() => document.querySelectorAll('#memories li.memory').length > 0
      && [...document.querySelectorAll('#memories li.memory .text')].every((e) => /Rust/.test(e.textContent)));
    await page.getByLabel('Search memories').fill('');
    await page.reload();
    await ready();
    const again = inspector().locator(`li.memory[data-id="${editedId}"]`);
    assert.equal(await again.locator('.text').textContent(), 'User writes Python and Rust');
    await again.getByRole('button', { name: /^History/ }).click();
    const hist = await again.locator('.history li').allTextContents();
    assert.ok(hist.some((h) => /^ADD/.test(h)) && hist.some((h) => /^UPDATE/.test(h) && /Rust/.test(h)),
      `history: ${JSON.stringify(hist)}`);
  });

  await t.test('inspector: a delete takes effect and survives reload', async () => {
    const n = await inspector().locator('li.memory').count();
    await inspector().locator(`li.memory[data-id="${editedId}"]`).getByRole('button', { name: /^Delete/ }).click();
    await lacksId(editedId);
    assert.equal(await inspector().locator('li.memory').count(), n - 1);
    await page.reload();
    await ready();
    assert.equal(await inspector().locator(`li.memory[data-id="${editedId}"]`).count(), 0);
    assert.equal(await inspector().locator('li.memory').count(), n - 1);
  });

  let exported, kept;
  await t.test('inspector: export downloads the bank as JSON Lines', async () => {
    kept = (await memoryTexts()).sort();
    assert.ok(kept.length >= 1, 'something is left to export');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      inspector().getByRole('button', { name: 'Export' }).click(),
    ]);
    exported = path.join(OUT, 'export.jsonl');
    await download.saveAs(exported);
    const lines = fs.readFileSync(exported, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const texts = lines.filter((l) => (l.type ?? 'memory') === 'memory').map((l) => l.text).sort();
    assert.deepEqual(texts, kept);
  });

  await t.test('forget me, with a second tab open: nothing is left, and the other tab follows live', async () => {
    const other = await context.newPage();
    other.on('pageerror', (e) => consoleErrors.push(`pageerror (second tab): ${e.message}`));
    await other.goto(base);
    await other.waitForFunction(() => document.documentElement.dataset.ready === 'true');
    assert.equal(await other.locator('#memories li.memory').count(), kept.length);
    await forgetMe();
    await other.waitForFunction(() => document.querySelectorAll('#memories li.memory').length === 0);
    const idb = await idbContents();
    assert.deepEqual(idb.names, [], 'the second tab did not bring the bank back');
    await other.close();
  });

  await t.test('inspector: a bad file imports nothing; the export restores everything', async () => {
    const bad = path.join(OUT, 'bad.jsonl');
    fs.writeFileSync(bad, '{"this is": "not an export"\n');
    await page.locator('#import').setInputFiles(bad);
    await page.locator('#note').filter({ hasText: /Nothing was imported/ }).waitFor();
    assert.equal(await inspector().locator('li.memory').count(), 0);
    await page.locator('#import').setInputFiles(exported);
    await page.locator('#note').filter({ hasText: /Imported/ }).waitFor();
    await page.waitForFunction((n) => document.querySelectorAll('#memories li.memory').length === n, kept.length);
    assert.deepEqual((await memoryTexts()).sort(), kept);
  });

  await t.test('forget me again, after the import', forgetMe);

  await t.test('LLM path: settings for an OpenAI-compatible endpoint, kept in this browser', async () => {
    await page.getByText('Settings', { exact: true }).click();
    await page.getByLabel('An OpenAI-compatible endpoint').check();
    await page.getByLabel('Base URL').fill(llm.url);
    await page.getByLabel('Model', { exact: true }).fill('fake-chat');
    await page.getByLabel('API key').fill('sk-demo-test');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('#status').filter({ hasText: 'fake-chat' }).waitFor();
  });

  await t.test('LLM path: the model extracts what the first session says', async () => {
    const n0 = llm.requests.length;
    const turn = await say('I prefer dark mode and I use Python');
    assert.equal(await turn.locator('[data-part=learned]').getAttribute('data-mode'), 'llm',
      'the retain used the model\'s answer, not the offline heuristic');
    const learned = await turn.locator('[data-part=learned] li').allTextContents();
    assert.ok(learned.some((l) => /User uses Python/.test(l)), `learned: ${JSON.stringify(learned)}`);
    assert.ok(learned.some((l) => /User prefers dark mode/.test(l)), `learned: ${JSON.stringify(learned)}`);
    assert.equal(await turn.locator('.bubble.assistant').textContent(), 'Nice to meet you.');
    const reqs = llm.requests.slice(n0);
    const extract = reqs.filter((r) => /^You maintain a long-term memory/.test(r.body.messages?.[0]?.content || ''));
    assert.ok(extract.length >= 1, 'the core asked the model to extract');
    for (const r of reqs) assert.equal(r.headers.authorization, 'Bearer sk-demo-test');
    await showsText(/User uses Python/);
    await shot('4-llm-first-session.png');
  });

  await t.test('LLM path: after reload and restart, the question recalls Python and the model gets it', async () => {
    await page.reload();
    await ready();
    await restart();
    assert.match(await page.locator('#status').textContent(), /fake-chat/);
    await showsText(/User uses Python/);
    const n0 = llm.requests.length;
    const turn = await say("What's my preferred language?");
    const used = await turn.locator('[data-part=used] li').allTextContents();
    assert.ok(used.some((u) => /User uses Python/.test(u)), `memories used: ${JSON.stringify(used)}`);
    const chat = llm.requests.slice(n0).find((r) => /What you remember about the user/.test(r.body.messages?.[0]?.content || ''));
    assert.ok(chat, 'the reply request carries the recalled memories');
    assert.match(chat.body.messages[0].content, /User uses Python/);
    assert.match(await turn.locator('.bubble.assistant').textContent(), /^You told me: /);
    await shot('5-llm-recall.png');
  });

  await t.test('LLM path: forget me leaves nothing in IndexedDB', forgetMe);

  await t.test('LLM path: every request the page made is one the real API accepts', () => llm.assertValid());

  assert.deepEqual(consoleErrors.filter((e) => !/favicon/.test(e)), [], 'no errors in the page');
  await context.close();
  context = null;
});
