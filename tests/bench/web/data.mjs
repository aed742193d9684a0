/*
 * data.mjs: the web benchmark's inputs, prepared once in Node from the
 * LongMemEval file and cached under build/browser/bench/ (never committed):
 *
 *   speed corpus   the distinct non-empty turns of every question, in file
 *                  order, then <= 500-byte chunks of long turns, to 100k texts
 *                  (the corpus of tests/bench/bench_speed.h, byte for byte);
 *   queries        the questions cycled to 200, with their dates ("now");
 *   quality        per question, the turns to index and what is gold, by the
 *                  protocol of tests/bench/bench.c (session NDCG@5);
 *   vectors        256-d float32 for every text above, from the core's own
 *                  built-in embedder (embed.c), computed here, outside every
 *                  timer, and shared by every engine.
 *
 * Files: corpus_<N>.json (texts) and corpus.f32 (vectors, same order);
 * queries.json + queries.f32; quality.json + quality.f32 (the questions'
 * vectors, then every turn's in order); bench.json (the stamp).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

export const CHUNK = 500;
export const NQUERIES = 200;
export const DIM = 256;
export const SIZES = [1000, 10000, 100000];

export function dataPath() {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
  return process.env.MNEMO_BENCH_DATA || path.resolve(root, '../shared/bench/longmemeval_s_120.json');
}

/* "2023/05/20 (Sat) 02:21" -> "2023-05-20T02:21:00Z", as bench_util.h. */
function isoDate(s) {
  const m = /^(\d+)\/(\d+)\/(\d+) \([^)]*\) (\d+):(\d+)/.exec(s || '');
  if (!m) return s;
  const p = (x, n = 2) => String(x).padStart(n, '0');
  return `${p(m[1], 4)}-${p(m[2])}-${p(m[3])}T${p(m[4])}:${p(m[5])}:00Z`;
}

const blank = (s) => !/[^\s]/.test(s);

/* Cuts a string into <= CHUNK-byte pieces on UTF-8 boundaries (bench_speed.h). */
function chunks(s) {
  const b = Buffer.from(s, 'utf8'), out = [];
  for (let pos = 0; pos < b.length;) {
    let end = Math.min(pos + CHUNK, b.length);
    while (end < b.length && end > pos && (b[end] & 0xc0) === 0x80) end--;
    out.push(b.subarray(pos, end).toString('utf8'));
    pos = end;
  }
  return out;
}

export function prepare({ outDir, embedBin, max = 100000 }) {
  const src = dataPath();
  const stamp = path.join(outDir, 'bench.json');
  if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs > fs.statSync(src).mtimeMs &&
      fs.statSync(stamp).mtimeMs > fs.statSync(embedBin).mtimeMs) {
    const meta = JSON.parse(fs.readFileSync(stamp, 'utf8'));
    if (meta.max === max) return meta;
  }
  const ds = JSON.parse(fs.readFileSync(src, 'utf8'));
  const texts = [], index = new Map();
  const id = (s) => {
    let i = index.get(s);
    if (i === undefined) { i = texts.length; texts.push(s); index.set(s, i); }
    return i;
  };

  // Speed corpus: distinct turns, then chunks of the long ones.
  const corpus = [], inCorpus = new Set();
  const add = (s) => { if (!inCorpus.has(s)) { inCorpus.add(s); corpus.push(id(s)); } };
  for (const q of ds) for (const sess of q.haystack_sessions) for (const t of sess) {
    if (corpus.length >= max) break;
    if (!blank(t.content || '')) add(t.content);
  }
  const nturns = corpus.length;
  for (let i = 0; i < nturns && corpus.length < max; i++) {
    const s = texts[corpus[i]];
    if (Buffer.byteLength(s) <= CHUNK) continue;
    for (const piece of chunks(s)) {
      if (corpus.length >= max) break;
      if (!blank(piece)) add(piece);
    }
  }

  // Queries: the questions cycled.
  const queries = [];
  for (let i = 0; i < NQUERIES; i++) {
    const q = ds[i % ds.length];
    queries.push({ text: id(q.question), now: isoDate(q.question_date) });
  }

  // Quality: one entry per question, turns with canonical session indices.
  const quality = ds.map((q) => {
    const canon = q.haystack_session_ids.map((sid, si) => q.haystack_session_ids.indexOf(sid));
    const gold = q.haystack_session_ids.map((sid) => q.answer_session_ids.includes(sid) ? 1 : 0);
    const turns = [];
    q.haystack_sessions.forEach((sess, si) => {
      if (canon[si] !== si) return;   // a repeated session id counts once
      sess.forEach((t, ti) => {
        if (blank(t.content || '')) return;
        turns.push({ text: id(t.content), sess: si, turn: ti, user: t.role === 'user' ? 1 : 0,
          date: isoDate(q.haystack_dates[si]) });
      });
    });
    return {
      id: q.question_id, type: q.question_type, abs: q.question_id.endsWith('_abs'),
      question: id(q.question), now: isoDate(q.question_date),
      sessionIds: q.haystack_session_ids, goldSessions: canon.map((c, s) => (c === s && gold[s] ? 1 : 0)),
      turns,
    };
  });

  fs.mkdirSync(outDir, { recursive: true });
  const input = Buffer.from(texts.join('\0'), 'utf8');
  const all = execFileSync(embedBin, { input, maxBuffer: texts.length * DIM * 4 + 1024 });
  if (all.length !== texts.length * DIM * 4)
    throw new Error(`embedder returned ${all.length} bytes for ${texts.length} texts`);
  const vecsOf = (ids) => {
    const out = Buffer.alloc(ids.length * DIM * 4);
    ids.forEach((t, i) => all.copy(out, i * DIM * 4, t * DIM * 4, (t + 1) * DIM * 4));
    return out;
  };
  // Per-size files, so a run loads only its own inputs (peak memory).
  for (const n of SIZES.filter((n) => n <= corpus.length))
    fs.writeFileSync(path.join(outDir, `corpus_${n}.json`), JSON.stringify(corpus.slice(0, n).map((t) => texts[t])));
  fs.writeFileSync(path.join(outDir, 'corpus.f32'), vecsOf(corpus));
  fs.writeFileSync(path.join(outDir, 'queries.json'), JSON.stringify(queries.map((q) => ({ text: texts[q.text], now: q.now }))));
  fs.writeFileSync(path.join(outDir, 'queries.f32'), vecsOf(queries.map((q) => q.text)));
  const qturns = [];
  for (const q of quality) for (const t of q.turns) { qturns.push(t.text); t.text = texts[t.text]; }
  const qq = quality.map((q) => q.question);
  for (const q of quality) q.question = texts[q.question];
  fs.writeFileSync(path.join(outDir, 'quality.json'), JSON.stringify(quality));
  fs.writeFileSync(path.join(outDir, 'quality.f32'), Buffer.concat([vecsOf(qq), vecsOf(qturns)]));
  fs.writeFileSync(stamp, JSON.stringify({ max, source: path.basename(src), sizes: SIZES.filter((n) => n <= corpus.length), nturns, ncorpus: corpus.length }));
  return JSON.parse(fs.readFileSync(stamp, 'utf8'));
}

/* The inputs of one run, from the files above: what a Node run reads; the
 * browser page fetches the same files. */
function f32(file, count) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(count * DIM * 4);
  const got = fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  if (got !== buf.length) throw new Error(`${file} holds ${got / (DIM * 4)} vectors, ${count} wanted (stale cache? delete build/browser/bench)`);
  return new Float32Array(buf.buffer, buf.byteOffset, count * DIM);
}

export function loadSpeed(outDir, n, withVectors) {
  const texts = JSON.parse(fs.readFileSync(path.join(outDir, `corpus_${n}.json`), 'utf8'));
  const queries = JSON.parse(fs.readFileSync(path.join(outDir, 'queries.json'), 'utf8'));
  return {
    texts, queries,
    vectors: withVectors ? f32(path.join(outDir, 'corpus.f32'), n) : null,
    qvectors: f32(path.join(outDir, 'queries.f32'), queries.length),
  };
}

export function loadQuality(outDir) {
  const quality = JSON.parse(fs.readFileSync(path.join(outDir, 'quality.json'), 'utf8'));
  const nt = quality.reduce((a, q) => a + q.turns.length, 0);
  const v = f32(path.join(outDir, 'quality.f32'), quality.length + nt);
  let off = quality.length;
  quality.forEach((q, i) => {
    q.vec = v.subarray(i * DIM, (i + 1) * DIM);
    for (const t of q.turns) { t.vec = v.subarray(off * DIM, (off + 1) * DIM); off++; }
  });
  return quality;
}
