// Edge and WASI benchmarks (`make bench-edge`):
//   1. requests/s, p50 and p99 latency for recall and retain on one bank and
//      spread over 100 tenants, against real workerd on loopback, under a
//      bounded load (autocannon, a second process: load.mjs);
//   2. cold start of a Durable Object holding a 10k-memory bank (workerd
//      restarted, then the first call and the first recall timed);
//   3. the same CLI operations with the native build and the WASI build under
//      Node's WASI, and their ratio.
// Env: BENCH_DURATION (s per load scenario, default 5), BENCH_CONNECTIONS (8).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startWorkerd, api } from './workerd.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const DURATION = Number(process.env.BENCH_DURATION || 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 8);
const TENANTS = 100;

// Deterministic synthetic memories: varied words, a few named things.
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const WORDS = ('travel cooking python rust garden piano marathon coffee tea budget meeting sister brother ' +
  'doctor dentist flight hotel museum concert novel podcast recipe bicycle camera laptop invoice ' +
  'birthday wedding holiday project deadline manager client report vaccine allergy yoga swimming').split(' ');
const NAMES = ['Ana', 'Lisbon', 'Kyoto', 'Miso', 'Berlin', 'Priya', 'Oslo', 'Diego', 'Nairobi', 'Quebec'];
const pick = (a) => a[Math.floor(rnd() * a.length)];
function sentence(i) {
  const w = Array.from({ length: 6 + Math.floor(rnd() * 8) }, () => pick(WORDS));
  return `Note ${i}: ${pick(NAMES)} ${w.join(' ')} with ${pick(NAMES)}`;
}

const fmt = (n, d = 0) => (n === undefined || n === null ? '-' : Number(n).toFixed(d));

function load(scenario) {
  const r = spawnSync(process.execPath, [path.join(here, 'load.mjs'), JSON.stringify(scenario)], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) throw new Error(`load.mjs failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

// A request on a fresh connection's terms: workerd closes keep-alive
// connections left idle during a load scenario, and the client only learns
// it when reusing one ("other side closed", before any byte was processed).
async function call(...a) {
  try {
    return await api(...a);
  } catch (e) {
    if (e?.cause?.code !== 'UND_ERR_SOCKET') throw e;
    return api(...a);
  }
}

async function seedBank(url, token, bank, n, batch = 1000) {
  for (let i = 0; i < n; i += batch) {
    const items = [];
    for (let j = i; j < Math.min(n, i + batch); j++) items.push({ text: sentence(j) });
    const r = await call(url, token, 'POST', `/v1/banks/${bank}/memories`, { items });
    if (r.status !== 201) throw new Error(`seeding ${bank}: ${r.status} ${r.text}`);
  }
}

async function edge() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnemo-edge-bench-'));
  const tokens = {};
  const toks = [];
  for (let t = 0; t < TENANTS; t++) {
    const tok = `bench-token-${String(t).padStart(4, '0')}`;
    tokens[tok] = `tenant${t}`;
    toks.push(tok);
  }
  const env = {
    MNEMO_EDGE_TOKENS: JSON.stringify(tokens),
    MNEMO_RATE: '1000000',
    MNEMO_BURST: '1000000',
    MNEMO_MAX_BODY: String(4 << 20),
  };
  let w = await startWorkerd({ dir, env });
  try {
    console.log(`edge: workerd on loopback, ${CONNECTIONS} connections, ${DURATION} s per scenario, load from a second process (autocannon)`);
    await seedBank(w.url, toks[0], 'one', 1000);
    for (let t = 0; t < TENANTS; t++) await seedBank(w.url, toks[t], 'mem', 50);
    const base = { url: w.url, connections: CONNECTIONS, duration: DURATION };
    const rows = [
      ['recall, one bank (1k memories)', { ...base, method: 'POST', path: '/v1/banks/{bank}/recall', tokens: [toks[0]], banks: ['one'], body: { query: 'coffee with Ana in Lisbon {n}', limit: 5 } }],
      ['retain, one bank', { ...base, method: 'POST', path: '/v1/banks/{bank}/memories', tokens: [toks[0]], banks: ['one'], body: { text: 'Load test memory number {n} about the garden' } }],
      ['recall, 100 tenants (50 memories each)', { ...base, method: 'POST', path: '/v1/banks/{bank}/recall', tokens: toks, banks: ['mem'], body: { query: 'piano concert {n}', limit: 5 } }],
      ['retain, 100 tenants', { ...base, method: 'POST', path: '/v1/banks/{bank}/memories', tokens: toks, banks: ['mem'], body: { text: 'Load test memory number {n} about a flight' } }],
    ];
    console.log('scenario                                  req/s    p50 ms   p99 ms   requests  non-2xx');
    for (const [name, s] of rows) {
      const r = load(s);
      console.log(`${name.padEnd(40)} ${fmt(r.rps).padStart(7)} ${fmt(r.p50, 1).padStart(9)} ${fmt(r.p99, 1).padStart(8)} ${String(r.requests).padStart(10)} ${String(r.non2xx + r.errors).padStart(8)}`);
    }

    // Cold start: a 10k-memory bank, workerd restarted, first calls timed.
    const t0 = Date.now();
    await seedBank(w.url, toks[1], 'big', 10000);
    const seedMs = Date.now() - t0;
    const stats = (await call(w.url, toks[1], 'GET', '/v1/banks/big')).body;
    w = await w.restart();
    let t = performance.now();
    const first = await api(w.url, toks[1], 'GET', '/v1/banks/big');
    const openMs = performance.now() - t;
    if (first.body.memories !== 10000) throw new Error(`cold bank has ${first.body.memories} memories`);
    t = performance.now();
    const rec = await api(w.url, toks[1], 'POST', '/v1/banks/big/recall', { query: 'marathon with Priya in Oslo', limit: 5 });
    const recallMs = performance.now() - t;
    if (rec.status !== 200) throw new Error(`cold recall: ${rec.text}`);
    t = performance.now();
    await api(w.url, toks[1], 'POST', '/v1/banks/big/recall', { query: 'dentist appointment with Diego', limit: 5 });
    const warmMs = performance.now() - t;
    console.log(
      `cold start, 10k-memory bank (${(stats.bytes / 1048576).toFixed(1)} MiB of pages, seeded in ${(seedMs / 1000).toFixed(1)} s): ` +
        `workerd restart ${w.startMs} ms; first call (load pages + open) ${fmt(openMs)} ms; ` +
        `first recall (builds the index) ${fmt(recallMs)} ms; next recall ${fmt(warmMs, 1)} ms`,
    );
  } catch (e) {
    console.error(`edge bench failed; workerd said:\n${w.logs().slice(-4000)}`);
    throw e;
  } finally {
    await w.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// The same CLI work, native and WASI (Node's WASI), wall time per run.
function cli() {
  const native = path.join(root, 'build/bin/mnemo');
  const wasi = path.join(root, 'tests/wasi-cli/mnemo-wasi');
  if (!fs.existsSync(native) || !fs.existsSync(path.join(root, 'build/wasi/mnemo.wasm'))) {
    console.log('cli: build/bin/mnemo or build/wasi/mnemo.wasm missing; skipped');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnemo-cli-bench-'));
  const retains = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ op: 'retain', text: sentence(i) })).join('\n') + '\n';
  const recalls = Array.from({ length: 200 }, (_, i) => JSON.stringify({ op: 'recall', query: `${pick(WORDS)} ${pick(NAMES)} ${i}`, limit: 5 })).join('\n') + '\n';
  const time = (bin, args, input) => {
    const t = performance.now();
    const r = spawnSync(bin, args, { input, maxBuffer: 64 << 20, cwd: dir });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: ${r.stderr}`);
    return ms;
  };
  const best = (f, n = 3) => Math.min(...Array.from({ length: n }, f));
  const ops = [
    ['start-up (--version)', (bin) => best(() => time(bin, ['--version']))],
    ['batch retain, 2000 memories', (bin, db) => time(bin, ['--db', db, 'batch'], retains)],
    ['batch recall, 200 queries', (bin, db) => best(() => time(bin, ['--db', db, 'batch'], recalls))],
    ['one recall (open + index + query)', (bin, db) => best(() => time(bin, ['--db', db, 'recall', '--query', 'coffee with Ana']))],
    ['export', (bin, db) => best(() => time(bin, ['--db', db, 'export']))],
  ];
  console.log('cli (wall ms, best of 3)                  native      wasi   ratio');
  try {
    for (const [name, f] of ops) {
      const n = f(native, path.join(dir, 'native.db'));
      const x = f(wasi, path.join(dir, 'wasi.db'));
      console.log(`${name.padEnd(40)} ${fmt(n, 1).padStart(8)} ${fmt(x, 1).padStart(9)} ${(x / n).toFixed(1).padStart(7)}x`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await edge();
cli();
