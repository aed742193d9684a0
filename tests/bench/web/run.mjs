/*
 * run.mjs: `make bench-web`. Mnemo and its peers on the same memories and
 * the same vectors, in Node and in headless Chromium, side by side in one
 * run, with ratios against Mnemo:
 *
 *   speed     ingest rate and hybrid recall p50 / p95 at 1k, 10k, 100k, and
 *             peak memory (each Node run is its own process, each Chromium
 *             run its own browser: peak RSS of the process / of the page's
 *             renderer, next to the RSS once the inputs were loaded);
 *   open      a 10k-memory bank opened cold from IndexedDB (Chromium), after
 *             each of 5 browser restarts (the median is printed), and the
 *             IndexedDB read alone after 3 more (what the store costs);
 *   quality   session NDCG@5 on LongMemEval (bench.c's protocol), Node.
 *
 * Environment: MNEMO_BENCH_DATA (the LongMemEval file), MNEMO_BENCH_WEB_SIZES
 * ("1000,10000"), MNEMO_BENCH_WEB_ENGINES ("mnemo,orama"),
 * MNEMO_BENCH_WEB_PARTS ("node,chromium,open,quality"). Prints progress on
 * stderr; never fails on a slow figure (a benchmark, not a test).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { prepare, dataPath, SIZES } from './data.mjs';
import { ENGINES, NODE_ONLY } from './engines.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const OUT = path.join(ROOT, 'build/browser/bench');
const EMBED = process.env.MNEMO_BENCH_EMBED || path.join(OUT, 'embed');
const list = (v, d) => (v ? v.split(',').map((x) => x.trim()).filter(Boolean) : d);
const sizes = list(process.env.MNEMO_BENCH_WEB_SIZES, SIZES.map(String)).map(Number);
const engines = list(process.env.MNEMO_BENCH_WEB_ENGINES, ENGINES);
const parts = list(process.env.MNEMO_BENCH_WEB_PARTS, ['node', 'chromium', 'open', 'quality']);
const OPEN_RESTARTS = 5;
const FLOOR_RESTARTS = 3;
/* A peer whose 10k run predicts more than this for its 100k run is not run at
 * 100k: ingest at its 10k rate, the first query and the timed ones at ten
 * times its 10k latencies, plus the speed loop's budgets (measure.js). */
const MAX_RUN_S = 600;
const estimate100k = (r) => {
  const ingest = 100000 / r.ingestRate, queries = (10 * r.firstMs + 2 * 10 * r.p50) / 1e3 + 15 + 15 / 4;
  return { ingest, queries, total: ingest + queries };
};
const log = (m) => process.stderr.write(`bench-web: ${m}\n`);
const t00 = Date.now();

function runNode(args, timeoutMs) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--expose-gc', path.join(HERE, 'one.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (c) => { out += c; });
    p.stderr.on('data', (c) => { err += c; if (process.env.MNEMO_BENCH_VERBOSE) process.stderr.write(c); });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      try { resolve(JSON.parse(out.trim().split('\n').pop())); } catch {
        resolve({ error: code === null ? `killed after ${timeoutMs / 1000} s` : `exit ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}` });
      }
    });
  });
}

/* Peak RSS (VmHWM) of the renderer processes of the browser launched with
 * the switch --mnemo-bench-run=<tag> (Chromium keeps unknown switches on its
 * command line; Playwright does not expose the browser's pid). */
function rendererPeakMB(tag) {
  const kids = new Map();
  let rootPid = -1;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(`--mnemo-bench-run=${tag}\0`)) rootPid = Number(d);
    } catch { /* gone */ }
  }
  let peak = 0;
  const walk = (pid) => {
    for (const k of kids.get(pid) || []) {
      try {
        const cmd = fs.readFileSync(`/proc/${k}/cmdline`, 'utf8');
        if (cmd.includes('--type=renderer') && !cmd.includes('--extension-process')) {
          const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${k}/status`, 'utf8'));
          if (m) peak = Math.max(peak, Number(m[1]) / 1024);
        }
      } catch { /* gone */ }
      walk(k);
    }
  };
  walk(rootPid);
  return peak;
}

async function chromiumRuns(jobs) {
  const { startServer, launchBrowser, launch, freshProfile, chromiumMissing } = await import('../../web/browser/harness.mjs');
  const why = chromiumMissing();
  if (why) { log(`Chromium skipped: ${why}`); return null; }
  const server = await startServer();
  const res = {};
  try {
    for (const { engine, n } of jobs.speed) {
      log(`chromium ${engine} N=${n} ...`);
      const tag = `${process.pid}-${engine}-${n}`;
      const browser = await launchBrowser({ args: [`--mnemo-bench-run=${tag}`] });
      try {
        const page = await browser.newPage();
        page.on('console', (m) => { if (process.env.MNEMO_BENCH_VERBOSE) log(`[page] ${m.text()}`); });
        await page.goto(`${server.url}/bench/page.html`);
        await page.waitForFunction(() => globalThis.benchReady === true);
        page.setDefaultTimeout(0);
        await page.evaluate(([e, k]) => globalThis.loadSpeed(e, k), [engine, n]);
        const base = rendererPeakMB(tag);
        let timer;
        const r = await Promise.race([
          page.evaluate((e) => globalThis.runSpeed(e), engine),
          new Promise((resolve) => { timer = setTimeout(() => resolve({ error: 'no result within 10 min' }), 600000); }),
        ]);
        clearTimeout(timer);   // else it holds the process open for 10 min after the last run
        r.peakMB = rendererPeakMB(tag);
        r.startMB = base;
        res[`${engine}/${n}`] = r;
      } catch (e) {
        res[`${engine}/${n}`] = { error: e.message.split('\n')[0] };
      } finally {
        await browser.close();
      }
    }
    if (jobs.open.length) {
      const profile = freshProfile('bench-open');
      for (const engine of jobs.open) {
        log(`chromium open-from-IndexedDB ${engine} N=10000, ${OPEN_RESTARTS} browser restarts ...`);
        let ctx = null;
        const fresh = async () => {
          ctx = await launch(profile);
          const page = ctx.pages()[0] || (await ctx.newPage());
          page.setDefaultTimeout(0);
          page.on('console', (m) => { if (process.env.MNEMO_BENCH_VERBOSE) log(`[page] ${m.text()}`); });
          await page.goto(`${server.url}/bench/page.html`);
          await page.waitForFunction(() => globalThis.benchReady === true);
          return page;
        };
        try {
          const w = await (await fresh()).evaluate((e) => globalThis.runOpen(e, 'write', 10000), engine);
          if (w.error) throw new Error(w.error);
          // Each read follows a browser restart: nothing of the bank is left
          // in memory. A restarted browser is busy for a while, so one open
          // varies by tens of ms: the median run is reported, with the range.
          const runs = [];
          for (let i = 0; i < OPEN_RESTARTS; i++) {
            await ctx.close();
            const r = await (await fresh()).evaluate((e) => globalThis.runOpen(e, 'read', 10000), engine);
            if (r.error) throw new Error(r.error);
            runs.push(r);
          }
          runs.sort((a, b) => a.openMs - b.openMs);
          res[`open/${engine}`] = { ...runs[runs.length >> 1], minMs: runs[0].openMs, maxMs: runs[runs.length - 1].openMs, runs: runs.length };
          if (engine === 'mnemo') {
            // What part of the open is IndexedDB's own: the same read with
            // nothing else, as the first thing a restarted browser does.
            const floors = [];
            for (let i = 0; i < FLOOR_RESTARTS; i++) {
              await ctx.close();
              floors.push(await (await fresh()).evaluate((e) => globalThis.runOpen(e, 'floor', 10000), engine));
            }
            const mid = (k) => {
              const v = floors.map((x) => x[k]).sort((a, b) => a - b);
              return [v[v.length >> 1], v[0], v[v.length - 1]];
            };
            const [floorMs, floorMinMs, floorMaxMs] = mid('floorMs'), [floorReadMs, floorReadMinMs, floorReadMaxMs] = mid('readMs');
            Object.assign(res[`open/${engine}`], { floorMs, floorMinMs, floorMaxMs, floorReadMs, floorReadMinMs, floorReadMaxMs });
            await ctx.close();
            const c = await (await fresh()).evaluate((e) => globalThis.runOpen(e, 'catchup', 10000), engine);
            Object.assign(res[`open/${engine}`], c);
          }
        } catch (e) {
          res[`open/${engine}`] = { error: e.message.split('\n')[0] };
        } finally {
          if (ctx) await ctx.close();
        }
      }
    }
  } finally {
    await server.close();
  }
  return res;
}

/* ---- printing ---- */

const f = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(d));
const ms = (x) => (x === undefined || Number.isNaN(x) ? '-' : x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

function printSpeed(title, res) {
  console.log(`\n${title}`);
  console.log(`  ${pad('N', 7)}${pad('engine', 8)}${lpad('ingest/s', 10)}${lpad('cold/s', 9)}${lpad('first q', 10)}${lpad('hybrid p50 / p95 ms', 22)}${lpad('peak MB', 9)}${lpad('(inputs)', 9)}   mnemo/peer ingest, peer/mnemo p50`);
  for (const n of sizes) {
    const m = res[`mnemo/${n}`];
    for (const e of engines) {
      const r = res[`${e}/${n}`];
      if (!r) continue;
      if (r.error) { console.log(`  ${pad(n, 7)}${pad(e, 8)}  ${r.skip ? 'skipped' : 'failed'}: ${r.error}`); continue; }
      const star = r.nq < r.wanted ? '*' : '';
      let ratio = '';
      if (e !== 'mnemo' && m && !m.error)
        ratio = `${f(m.ingestRate / r.ingestRate, 2)}x, ${f(r.p50 / m.p50, 1)}x`;
      console.log(`  ${pad(n, 7)}${pad(e, 8)}${lpad(f(r.ingestRate, 0), 10)}${lpad(f(r.coldRate, 0), 9)}${lpad(ms(r.firstMs), 10)}${lpad(`${ms(r.p50)} / ${ms(r.p95)}${star}`, 22)}${lpad(f(r.peakMB, 0), 9)}${lpad(f(r.baselineMB ?? r.startMB, 0), 9)}   ${ratio}`);
    }
  }
  console.log("  ingest/s: memories per second over batches of 500 (one transaction each), after a warm-up in the same runtime;\n" +
    "  below 10k, the median of 5 ingests into fresh instances\n" +
    "  (1000 memories, at least 3 times and 2 s, into a throwaway instance); cold/s: the first 1000 of that warm-up, in a\n" +
    "  fresh runtime (JIT compiling as it runs); first q: the first query\n" +
    "  (Mnemo builds its recall index then, embeddings included: not in ingest/s); p50/p95 over up to 200\n" +
    "  queries after 20 warm-up ('*' = fewer fitted the 15 s budget); peak MB: peak RSS of the process\n" +
    "  (Node) or of the page's renderer (Chromium); (inputs): RSS before the engine started, with the texts\n" +
    "  (and, for peers, the vectors) loaded. Ratios > 1 favour Mnemo.");
}

function printTargets(label, res) {
  const m10 = res['mnemo/10000'], m100 = res['mnemo/100000'];
  const chk = (ok) => (ok ? 'met' : 'MISSED');
  const lines = [];
  if (m10 && !m10.error) lines.push(`hybrid recall p50 at 10k ${ms(m10.p50)} ms (target <= 1 ms: ${chk(m10.p50 <= 1)})`);
  if (m100 && !m100.error) lines.push(`at 100k ${ms(m100.p50)} ms (target <= 10 ms: ${chk(m100.p50 <= 10)})`);
  for (const n of sizes) {
    const r = res[`mnemo/${n}`];
    if (r && !r.error) lines.push(`ingest at ${n / 1000}k ${f(r.ingestRate, 0)}/s (target >= 30000: ${chk(r.ingestRate >= 30000)}; cold ${f(r.coldRate, 0)}/s)`);
  }
  if (m100 && !m100.error) {
    const own = m100.peakMB - (m100.baselineMB ?? m100.startMB);
    const heap = m100.wasmMB !== undefined ? `, Mnemo's wasm heap (all of its memory but the JS objects of each call) ${f(m100.wasmMB, 0)} MB (${chk(m100.wasmMB <= 250)})` : '';
    lines.push(`peak memory at 100k ${f(m100.peakMB, 0)} MB, ${f(own, 0)} MB over the loaded inputs (target <= 250 MB: ${chk(m100.peakMB <= 250)} for the peak, ${chk(own <= 250)} for the engine's own)${heap}`);
  }
  if (lines.length) console.log(`  Mnemo's targets (${label}): ${lines.join('; ')}.`);
}

async function main() {
  const src = dataPath();
  if (!fs.existsSync(src)) {
    console.log(`bench-web: skipped: data not found at ${src} (set MNEMO_BENCH_DATA)`);
    return;
  }
  if (!fs.existsSync(path.join(ROOT, 'build/wasm/pkg/src/index.js')))
    log('the mnemo-wasm package is not built (make web): Mnemo rows will fail');
  log('preparing inputs (corpus, queries, vectors from the built-in embedder) ...');
  const meta = prepare({ outDir: OUT, embedBin: EMBED });   // every size: one cache
  console.log(`\n== Web benchmark: Mnemo (wasm) and its peers, same memories, same 256-d vectors ==`);
  console.log(`Data: ${meta.source}; speed corpus ${meta.ncorpus} texts (${meta.nturns} distinct turns, then <= 500-byte chunks);\n` +
    `200 queries (the questions, cycled), limit 10. Node ${process.version}; CPUs: 2 shared (read ratios, not absolutes).`);
  const nodeRes = {};
  if (parts.includes('node')) {
    for (const n of sizes) for (const e of engines) {
      const prev = nodeRes[`${e}/10000`];
      const est = n === 100000 && e !== 'mnemo' && prev && !prev.error ? estimate100k(prev) : null;
      if (est && est.total > MAX_RUN_S) {
        nodeRes[`${e}/${n}`] = { error: `not run: estimated ${f(est.total / 60, 1)} min at its measured 10k rates (ingest ${f(est.ingest, 0)} s, queries ${f(est.queries, 0)} s; limit ${MAX_RUN_S / 60} min)`, skip: true };
        continue;
      }
      if (nodeRes[`${e}/1000`]?.skip) { nodeRes[`${e}/${n}`] = nodeRes[`${e}/1000`]; continue; }
      log(`node ${e} N=${n} ... (${((Date.now() - t00) / 1000).toFixed(0)} s so far)`);
      nodeRes[`${e}/${n}`] = await runNode(['speed', e, String(n)], 600000);
    }
    printSpeed('Node: speed (each run in its own process)', nodeRes);
    printTargets('Node', nodeRes);
  }
  if (parts.includes('chromium') || parts.includes('open')) {
    const jobs = { speed: [], open: [] };
    const notHere = {};   // not run in Chromium, with the reason printed in its row
    if (parts.includes('chromium'))
      for (const n of sizes) for (const e of engines) {
        const nr = nodeRes[`${e}/${n}`];
        if (NODE_ONLY[e]) notHere[`${e}/${n}`] = { error: NODE_ONLY[e], skip: true };
        else if (nr && nr.skip) notHere[`${e}/${n}`] = nr;   // not run in Node for a stated reason: not in Chromium either
        else jobs.speed.push({ engine: e, n });
      }
    if (parts.includes('open')) jobs.open = engines.filter((e) => e === 'mnemo' || e === 'pglite');
    const cr = await chromiumRuns(jobs);
    if (cr && parts.includes('chromium')) {
      for (const [k, r] of Object.entries(notHere)) if (!cr[k]) cr[k] = r;
      printSpeed('Chromium (headless, /usr/bin/chromium): speed (each run in its own browser)', cr);
      printTargets('Chromium', cr);
    }
    if (cr && jobs.open.length) {
      console.log('\nChromium: a 10k-memory bank opened cold from IndexedDB (after a browser restart)');
      const m = cr['open/mnemo'];
      for (const e of jobs.open) {
        const r = cr[`open/${e}`];
        if (r.error) { console.log(`  ${pad(e, 8)} failed: ${r.error}`); continue; }
        const waits = (w) => (w && w.count ? `waited for ${w.count} read${w.count > 1 ? 's' : ''} of pages still in IndexedDB, ${ms(w.ms)} ms in all` : 'read no page from IndexedDB');
        const sp = ' '.repeat(11);
        const extra = e === 'mnemo'
          ? `; the module started before (once per page): ${ms(r.moduleMs)} ms\n` +
            `${sp}${r.memories} memories, ${r.pages} pages x ${r.pageSize} B in ${r.entries} stored entries; pages lent unread: ${r.suspends ? 'yes (JSPI)' : 'no'}; the open ${waits(r.openWaits)}\n` +
            `${sp}then the recall index, ${f(r.indexMB, 1)} MB, ${r.warmedBy === 'snapshot' ? 'read from its snapshot' : `${r.warmedBy} in idle-time steps`}: ready ${ms(r.warmedMs)} ms later; ` +
            `the first recall then ${ms(r.firstRecallMs)} ms (it ${waits(r.recallWaits)})\n` +
            `${sp}without warming, the first recall builds the index at once: ${ms(r.buildRecallMs)} ms; after a write by a handle that saved no snapshot, ` +
            `${r.caughtUpBy === 'snapshot' ? 'the snapshot brought up to date' : `the index ${r.caughtUpBy}`} in ${ms(r.caughtUpMs)} ms\n` +
            `${sp}IndexedDB alone, the first thing after a restart (median of ${FLOOR_RESTARTS}): its open and the transaction that lists the stored pages ${ms(r.floorMs)} ms ` +
            `(${ms(r.floorMinMs)}-${ms(r.floorMaxMs)}); then reading every stored byte: ${ms(r.floorReadMs)} ms (${ms(r.floorReadMinMs)}-${ms(r.floorReadMaxMs)}); every byte once read before: ${ms(r.loadMs)} ms`
          : ` (until the first query answered; ${r.memories} rows)`;
        const ratio = e !== 'mnemo' && m && !m.error ? `   mnemo opens ${f(r.openMs / (m.openMs + m.moduleMs), 1)}x faster (module start included)` : '';
        console.log(`  ${pad(e, 8)} open ${ms(r.openMs)} ms, median of ${r.runs} restarts (${ms(r.minMs)}-${ms(r.maxMs)})${ratio}${extra}`);
      }
      if (m && !m.error) console.log(`  Mnemo's target: 10k bank opened from IndexedDB in <= 50 ms: ${m.openMs <= 50 ? 'met' : 'MISSED'}.`);
    }
  }
  if (parts.includes('quality')) {
    log('quality on LongMemEval (Node) ...');
    const q = {};
    for (const e of engines) {
      log(`quality ${e} ... (${((Date.now() - t00) / 1000).toFixed(0)} s so far)`);
      q[e] = await runNode(['quality', e], 900000);
    }
    console.log('\nRetrieval quality on LongMemEval_S (Node; session NDCG@5 and recall_any@5, limit 50, as tests/bench/bench.c)');
    console.log(`  ${pad('engine', 8)}${lpad('a: NDCG@5', 11)}${lpad('R_any@5', 9)}${lpad('b: NDCG@5', 11)}${lpad('R_any@5', 9)}${lpad('questions', 11)}   vs mnemo (NDCG@5 a, b)`);
    for (const e of engines) {
      const r = q[e];
      if (r.error) { console.log(`  ${pad(e, 8)}  ${r.skip ? 'skipped' : 'failed'}: ${r.error}`); continue; }
      const m = q.mnemo && !q.mnemo.error ? q.mnemo : null;
      const ratio = m && e !== 'mnemo' ? `${f(m.a.ndcg5 - r.a.ndcg5 >= 0 ? m.a.ndcg5 / r.a.ndcg5 : m.a.ndcg5 / r.a.ndcg5, 2)}x, ${f(m.b.ndcg5 / r.b.ndcg5, 2)}x` : '';
      console.log(`  ${pad(e, 8)}${lpad(r.a.ndcg5.toFixed(3), 11)}${lpad(r.a.any5.toFixed(3), 9)}${lpad(r.b.ndcg5.toFixed(3), 11)}${lpad(r.b.any5.toFixed(3), 9)}${lpad(r.a.n, 11)}   ${ratio}`);
    }
    console.log('  Track a: user turns only; b: every turn. A fresh (emptied) store per question; peers get the\n' +
      '  built-in embedder\'s vectors; Mnemo gets text and timestamps and embeds with the same embedder.');
  }
  console.log(`\nbench-web took ${((Date.now() - t00) / 1000).toFixed(0)} s.`);
}

main().catch((e) => { console.error(e); process.exit(1); });
