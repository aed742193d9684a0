/*
 * engines.js: Mnemo and its peers behind one small interface, for Node and
 * the browser alike (bare imports; the browser page maps them with an import
 * map). Every engine gets the same texts and the same 256-d vectors (the
 * core's built-in embedder, computed before any timer).
 *
 *   engine = {
 *     name, how,                        how: one line on what "hybrid" means for it
 *     prep(batch) -> opaque,            untimed: turns [{i, text, vec}] into the
 *                                       engine's input (vectors to its format)
 *     async ingest(opaque),             one batch, one transaction where it has them
 *     async search({text, vec, now}, k) -> [i, ...] best first
 *     async reset()                     empties it (quality runs reuse one engine)
 *     async close()
 *   }
 *
 * Hybrid, per engine, as its users would write it:
 *   mnemo    recall(): its own fusion of BM25, keywords, vectors, names, time
 *            (vectors from the same built-in embedder, computed by Mnemo itself)
 *   orama    search({mode: 'hybrid'}): its own weighted fusion, similarity 0
 *   pglite   ts_rank_cd over to_tsvector('english') (GIN) OR-query top 50, and
 *            pgvector cosine distance top 50 (exact), fused by RRF (k = 60) in SQL
 *   sqlite   FTS5 bm25 (porter unicode61) OR-query top 50, and an exact dot
 *            product over a JS array of the vectors top 50, RRF (k = 60)
 *   mem0     Memory.search(): cosine over every stored vector, top max(4k, 60),
 *            plus its own BM25 over every stored text, summed (mem0ai 3.x);
 *            added with infer: false (no LLM)
 */

export const DIM = 256;
export const RRF_K = 60;
export const TOP = 50;

/* Words of a question, letters and digits only (the OR queries of the peers;
 * bench_util.h's fts5_or_query). */
export function words(q) {
  return (q.match(/[\p{L}\p{N}]+/gu) || []);
}

function rrf(lists, k) {
  const score = new Map();
  for (const list of lists)
    list.forEach((id, r) => score.set(id, (score.get(id) || 0) + 1 / (RRF_K + r + 1)));
  return [...score.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map((e) => e[0]);
}

async function mnemo(env) {
  const { Mnemo } = await import(env.mnemoModule);
  const bank = await Mnemo.open({ bank: 'bench', storage: 'memory', seed: 1 });
  return {
    name: 'mnemo',
    how: 'recall(): fused BM25 + keywords + vectors + names + time',
    prep: (batch) => ({ items: batch.map((d) => ({ text: d.text, metadata: { i: d.i }, ...(d.timestamp ? { timestamp: d.timestamp } : {}) })) }),
    // echo: false: like the peers' inserts, the ids come back, not the texts.
    ingest: (input) => bank.retain(input, { infer: false, echo: false }),
    async search(q, k) {
      const { results } = await bank.recall(q.text, { limit: k, ...(q.now ? { now: q.now } : {}) });
      return results.map((r) => r.metadata.i);
    },
    reset: () => bank.deleteAll(),
    close: () => bank.close(),
    // Mnemo's whole heap (its SQLite pages, recall index, buffers): the wasm
    // memory, which only grows, so its size is the peak. A bench-only look
    // at the binding's module.
    wasmMB: () => bank._core.u8.length / 1048576,
  };
}

async function orama() {
  const { create, insertMultiple, search } = await import('@orama/orama');
  const db = create({ schema: { i: 'number', text: 'string', embedding: `vector[${DIM}]` } });
  return {
    name: 'orama',
    how: "search({mode: 'hybrid'}) (Orama's own fusion)",
    prep: (batch) => batch.map((d) => ({ i: d.i, text: d.text, embedding: Array.from(d.vec) })),
    ingest: (docs) => insertMultiple(db, docs, docs.length),
    async search(q, k) {
      const r = await search(db, {
        mode: 'hybrid', term: q.text, vector: { value: Array.from(q.vec), property: 'embedding' },
        similarity: 0, limit: k, includeVectors: false,
      });
      return r.hits.map((h) => h.document.i);
    },
    async reset() {
      const fresh = await orama();
      Object.assign(this, { ingest: fresh.ingest, search: fresh.search });
    },
    close: async () => {},
  };
}

const vecText = (v) => '[' + Array.prototype.join.call(v, ',') + ']';

async function pglite() {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const db = await PGlite.create({ extensions: { vector } });
  await db.exec(`CREATE EXTENSION IF NOT EXISTS vector;
    CREATE TABLE m (i integer PRIMARY KEY, text text NOT NULL,
      tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
      emb vector(${DIM}) NOT NULL);
    CREATE INDEX m_tsv ON m USING gin (tsv);`);
  const ins = new Map();
  const insertSql = (n) => {
    if (!ins.has(n)) {
      const rows = [];
      for (let r = 0; r < n; r++) rows.push(`($${3 * r + 1}, $${3 * r + 2}, $${3 * r + 3})`);
      ins.set(n, `INSERT INTO m (i, text, emb) VALUES ${rows.join(', ')}`);
    }
    return ins.get(n);
  };
  const hybrid = `WITH lex AS (
      SELECT i, row_number() OVER (ORDER BY ts_rank_cd(tsv, q) DESC) AS r
      FROM m, to_tsquery('english', $1) q WHERE tsv @@ q
      ORDER BY ts_rank_cd(tsv, q) DESC LIMIT ${TOP}),
    vec AS (
      SELECT i, row_number() OVER (ORDER BY emb <=> $2::vector) AS r
      FROM m ORDER BY emb <=> $2::vector LIMIT ${TOP})
    SELECT i, sum(1.0 / (${RRF_K} + r)) AS s FROM (SELECT * FROM lex UNION ALL SELECT * FROM vec) u
    GROUP BY i ORDER BY s DESC, i LIMIT $3`;
  return {
    name: 'pglite',
    how: 'ts_rank_cd (GIN) top 50 + pgvector cosine top 50, RRF in SQL',
    prep: (batch) => batch.flatMap((d) => [d.i, d.text, vecText(d.vec)]),
    async ingest(params) {
      await db.transaction(async (tx) => { await tx.query(insertSql(params.length / 3), params); });
    },
    async search(q, k) {
      const ws = words(q.text).map((w) => w.replace(/'/g, ''));
      const r = await db.query(hybrid, [ws.length ? ws.join(' | ') : 'a', vecText(q.vec), k]);
      return r.rows.map((row) => row.i);
    },
    reset: () => db.exec('TRUNCATE m'),
    close: () => db.close(),
  };
}

async function sqlite() {
  const { default: init } = await import('@sqlite.org/sqlite-wasm');
  const sqlite3 = await init({ print: () => {}, printErr: () => {} });
  const db = new sqlite3.oo1.DB(':memory:');
  db.exec(`CREATE VIRTUAL TABLE t USING fts5(text, tokenize='porter unicode61');`);
  // sqlite-wasm has no vector extension, and a JS SQL function over BLOBs
  // costs a copy per row (measured: 146 ms p50 at 10k): vectors are kept in
  // a JS array next to the database and scanned exactly, as an application
  // built on sqlite-wasm would do (PEERS.md measured it so too).
  let vecs = new Float32Array(1024 * DIM), ids = new Int32Array(1024), nv = 0;
  const insT = db.prepare('INSERT INTO t (rowid, text) VALUES (?, ?)');
  const lex = db.prepare(`SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT ${TOP}`);
  const col = (st) => { const out = []; while (st.step()) out.push(st.get(0)); st.reset(); return out; };
  return {
    name: 'sqlite',
    how: 'FTS5 bm25 top 50 + exact dot over a JS vector array top 50, RRF',
    prep: (batch) => batch,
    async ingest(batch) {
      db.exec('BEGIN');
      for (const d of batch) insT.bind([d.i + 1, d.text]).stepReset();
      db.exec('COMMIT');
      if ((nv + batch.length) * DIM > vecs.length) {
        const nvecs = new Float32Array(Math.max(vecs.length * 2, (nv + batch.length) * DIM));
        nvecs.set(vecs.subarray(0, nv * DIM));
        vecs = nvecs;
        const nids = new Int32Array(nvecs.length / DIM);
        nids.set(ids.subarray(0, nv));
        ids = nids;
      }
      for (const d of batch) { vecs.set(d.vec, nv * DIM); ids[nv++] = d.i + 1; }
    },
    async search(q, k) {
      const ws = words(q.text);
      let a = [];
      if (ws.length) {
        lex.bind([ws.map((w) => `"${w}"`).join(' OR ')]);
        a = col(lex);
      }
      // top TOP by dot product: a small sorted buffer
      const best = [];
      for (let r = 0; r < nv; r++) {
        let s = 0;
        const o = r * DIM;
        for (let j = 0; j < DIM; j++) s += vecs[o + j] * q.vec[j];
        if (best.length < TOP || s > best[best.length - 1][0]) {
          let p = best.length < TOP ? best.length : TOP - 1;
          if (best.length < TOP) best.push(null);
          while (p > 0 && best[p - 1][0] < s) { best[p] = best[p - 1]; p--; }
          best[p] = [s, ids[r]];
        }
      }
      return rrf([a, best.map((b) => b[1])], k).map((id) => id - 1);
    },
    async reset() { db.exec('DELETE FROM t'); nv = 0; },
    async close() { insT.finalize(); lex.finalize(); db.close(); },
  };
}

/* Engines that run in Node only, and why (run.mjs skips them in Chromium). */
export const NODE_ONLY = {
  mem0: 'Node only: mem0ai/oss keeps its vectors in better-sqlite3, a native Node addon',
};

async function mem0(env) {
  if (typeof process === 'undefined' || !process.versions?.node) {
    const err = new Error(NODE_ONLY.mem0);
    err.skip = true;
    throw err;
  }
  let Memory;
  try {
    ({ Memory } = await import('mem0ai/oss'));
  } catch (e) {
    const err = new Error(`mem0ai/oss does not load here: ${e.message.split('\n')[0]}`);
    err.skip = true;
    throw err;
  }
  if (!env.fakeOpenAI) {
    const err = new Error('mem0 needs the fake OpenAI server (Node only)');
    err.skip = true;
    throw err;
  }
  // Its default 'memory' vector store is SQLite (better-sqlite3) in a file
  // under ~/.mem0; here in memory, like every other engine of this bench.
  const m = new Memory({
    version: 'v1.1', disableHistory: true,
    embedder: { provider: 'openai', config: { apiKey: 'x', baseURL: env.fakeOpenAI, model: 'mnemo-hash-v1', embeddingDims: DIM } },
    vectorStore: { provider: 'memory', config: { collectionName: 'bench', dimension: DIM, dbPath: ':memory:' } },
    llm: { provider: 'openai', config: { apiKey: 'x', baseURL: env.fakeOpenAI, model: 'none' } },
  });
  return {
    name: 'mem0',
    how: 'Memory.search(): cosine + its BM25 (full scans), infer: false',
    prep: (batch) => batch,
    // add() takes one memory: one embeddings request each, as its users pay.
    async ingest(batch) {
      for (const d of batch) await m.add(d.text, { userId: 'bench', infer: false, metadata: { i: d.i } });
    },
    // One embeddings request for the question, one more for the names it
    // finds in it (its entity store stays empty with infer: false). threshold
    // 0: its default (0.1, on the cosine) is tuned for OpenAI's embeddings;
    // with the bench's vectors it returned about 33 of 50 asked (300 memories).
    async search(q, k) {
      const r = await m.search(q.text, { filters: { user_id: 'bench' }, topK: k, threshold: 0 });
      return r.results.map((x) => x.metadata.i);
    },
    reset: () => m.reset(),
    close: async () => {},
  };
}

const MAKERS = { mnemo, orama, pglite, sqlite, mem0 };
export const ENGINES = Object.keys(MAKERS);

export function makeEngine(name, env = {}) {
  if (!MAKERS[name]) throw new Error(`unknown engine ${name}`);
  return MAKERS[name](env);
}
