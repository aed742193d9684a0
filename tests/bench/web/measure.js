/*
 * measure.js: the measurements of the web benchmark, shared by Node (one.mjs)
 * and Chromium (page.html): speed (ingest rate, recall latency) on the speed
 * corpus, and retrieval quality on LongMemEval by the protocol of
 * tests/bench/bench.c (session NDCG@5, recall limit 50).
 */
import { DIM } from './engines.js';

export const BATCH = 500;
export const NWARMUP = 20;
export const LIMIT = 10;
export const QLIMIT = 50;

const now = () => performance.now();

/* Nearest-rank percentile, as bench_util.h. */
export function percentile(v, p) {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

const vec = (all, i) => (all ? all.subarray(i * DIM, (i + 1) * DIM) : null);

/*
 * The ingest of a fresh runtime, then a warm-up: the first WARMUP texts
 * (batches of BATCH) into `engine`, a throwaway instance made before the
 * measured one in the same process or page, timed: that is the cold rate,
 * returned in memories/s. Its first batches run while the JavaScript and
 * WebAssembly engines still compile the hot code (V8 starts wasm in a
 * baseline tier and optimizes what runs hot, here on 2 cores competing with
 * the work), which is what a user's first minute costs. Then the same texts
 * again, untimed, until WARMUP_ROUNDS rounds and WARMUP_MS have passed (at
 * most 10 rounds), so the measured run that follows is warm, as every later
 * one is. Every engine gets the same treatment.
 */
export const WARMUP = 1000;
const WARMUP_ROUNDS = 3, WARMUP_MS = 2000;
async function coldIngest(engine, data) {
  const n = Math.min(WARMUP, data.texts.length);
  const start = now();
  let ms = 0;
  for (let round = 0; round < 10 && (round < WARMUP_ROUNDS || now() - start < WARMUP_MS); round++) {
    const t = await ingestAll(engine, data, { n, offset: round * n });
    if (round === 0) ms = t;
  }
  return n / (ms / 1e3);
}

/* Ingests data's first n texts in batches of BATCH, ids from `offset`;
 * returns the milliseconds spent in ingest calls (prep is untimed). */
async function ingestAll(engine, data, { n = data.texts.length, offset = 0, progress = () => {} } = {}) {
  let ms = 0;
  for (let b = 0; b < n; b += BATCH) {
    const batch = [];
    for (let i = b; i < Math.min(n, b + BATCH); i++) batch.push({ i: offset + i, text: data.texts[i], vec: vec(data.vectors, i) });
    const input = engine.prep(batch);
    const t0 = now();
    await engine.ingest(input);
    ms += now() - t0;
    if ((b / BATCH) % 20 === 19) progress(`${engine.name} N=${n}: ingested ${b + BATCH}`);
  }
  return ms;
}

/* Below this many memories an ingest is a few batches (tens of ms), which a
 * single GC pause moves: it is measured SMALL_REPEATS times, each into a
 * fresh instance from `again()`, and the median rate is reported. */
const SMALL = 10000, SMALL_REPEATS = 5;

async function speed(engine, data, { budgetMs = 15000, progress = () => {}, again = null } = {}) {
  const n = data.texts.length;
  const rates = [];
  if (again && n < SMALL)
    for (let r = 1; r < SMALL_REPEATS; r++) {
      const e = await again();
      rates.push(n / ((await ingestAll(e, data, { progress })) / 1e3));
      await e.close();
    }
  const ingestMs = await ingestAll(engine, data, { progress });
  rates.push(n / (ingestMs / 1e3));
  const q = (i) => ({ text: data.queries[i % data.queries.length].text, now: data.queries[i % data.queries.length].now,
    vec: vec(data.qvectors, i % data.queries.length) });
  let t0 = now();
  const first = await engine.search(q(0), LIMIT);
  const firstMs = now() - t0;
  if (!Array.isArray(first)) throw new Error(`${engine.name}: search did not return a list`);
  const start = now();
  for (let i = 1; i < NWARMUP && now() - start < budgetMs / 4; i++) await engine.search(q(i), LIMIT);
  const lat = [];
  const loop = now();
  for (let i = 0; i < data.queries.length && now() - loop < budgetMs; i++) {
    t0 = now();
    await engine.search(q(i), LIMIT);
    lat.push(now() - t0);
  }
  return {
    n, ingestRate: percentile(rates, 0.5), ingestRuns: rates.length, ingestMs, firstMs,
    p50: percentile(lat, 0.5), p95: percentile(lat, 0.95), nq: lat.length, wanted: data.queries.length,
  };
}

/* One speed run as one.mjs and page.html make it: a warm-up instance from
 * make() (coldIngest), then the measured one; closes both. */
export async function speedRun(make, data, { progress } = {}) {
  const warm = await make();
  const coldRate = await coldIngest(warm, data);
  await warm.close();
  const engine = await make();
  try {
    const out = await speed(engine, data, { progress, again: make });
    return { ...out, coldRate, wasmMB: engine.wasmMB ? engine.wasmMB() : undefined };
  } finally {
    await engine.close();
  }
}

/* NDCG@k of one ranking: rel[i] = 1 if rank i+1 is gold (bench_util.h). */
function ndcg(rel, ngold, k) {
  let dcg = 0, idcg = 0;
  for (let i = 0; i < k && i < rel.length; i++) if (rel[i]) dcg += 1 / Math.log2(i + 2);
  for (let i = 0; i < k && i < ngold; i++) idcg += 1 / Math.log2(i + 2);
  return idcg > 0 ? dcg / idcg : 0;
}

/*
 * Session-level NDCG@5 and recall_any@5 over the questions that are not
 * _abs and have a gold session, one engine reset per question; the ranked
 * turns are collapsed to distinct sessions in order (bench.c score_both).
 * userOnly: track (a), user turns only; else track (b), every turn.
 */
export async function quality(engine, questions, { userOnly, progress = () => {} }) {
  let sum = 0, any5 = 0, n = 0, memories = 0, ingestMs = 0, queryMs = 0;
  const byType = {};
  for (let qi = 0; qi < questions.length; qi++) {
    const q = questions[qi];
    const ngs = q.goldSessions.reduce((a, b) => a + b, 0);
    if (q.abs || ngs === 0) continue;
    await engine.reset();
    const turns = q.turns.filter((t) => !userOnly || t.user);
    for (let b = 0; b < turns.length; b += BATCH) {
      const batch = turns.slice(b, b + BATCH).map((t, j) => ({ i: b + j, text: t.text, vec: t.vec, timestamp: t.date }));
      const input = engine.prep(batch);
      const t0 = now();
      await engine.ingest(input);
      ingestMs += now() - t0;
    }
    memories += turns.length;
    const t0 = now();
    const ranked = await engine.search({ text: q.question, vec: q.vec, now: q.now }, QLIMIT);
    queryMs += now() - t0;
    const seen = new Set(), rel = [];
    for (const i of ranked) {
      const t = turns[i];
      if (!t || seen.has(t.sess)) continue;
      seen.add(t.sess);
      rel.push(q.goldSessions[t.sess]);
    }
    const v = ndcg(rel, ngs, 5);
    sum += v;
    any5 += rel.slice(0, 5).some(Boolean) ? 1 : 0;
    n++;
    const ty = (byType[q.type] ||= { n: 0, ndcg: 0 });
    ty.n++;
    ty.ndcg += v;
    if (qi % 20 === 19) progress(`${engine.name} quality track ${userOnly ? 'a' : 'b'}: ${qi + 1} questions`);
  }
  for (const ty of Object.values(byType)) ty.ndcg /= ty.n;
  return { ndcg5: sum / n, any5: any5 / n, n, memories, ingestRate: memories / (ingestMs / 1e3), queryMs: queryMs / n, byType };
}
