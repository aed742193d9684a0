/*
 * one.mjs: one Node measurement in its own process (so peak RSS is the
 * engine's): `node one.mjs speed ENGINE N` or `node one.mjs quality ENGINE`.
 * Prints one JSON line on stdout; progress on stderr. Inputs come from
 * data.mjs's cache, build/browser/bench/.
 *
 * The mem0 engine talks to a fake OpenAI-compatible server on loopback
 * started here: embeddings are the very vectors every engine gets (looked up
 * by text), and chat is never needed (infer: false). Its telemetry (posts to
 * PostHog, and notices) is off, and the id file it keeps in ~/.mem0 goes to
 * build/browser/bench/mem0 instead.
 */
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeEngine, DIM } from './engines.js';
import { speedRun, quality } from './measure.js';
import { loadSpeed, loadQuality } from './data.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const OUT = path.join(ROOT, 'build/browser/bench');
const [mode, name, arg] = process.argv.slice(2);
const progress = (m) => process.stderr.write(`  ${m}\n`);

function fakeOpenAI(lookup) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const j = JSON.parse(body || '{}');
      if (req.url.endsWith('/embeddings')) {
        const input = Array.isArray(j.input) ? j.input : [j.input];
        const data = input.map((t, index) => ({ object: 'embedding', index, embedding: Array.from(lookup(t)) }));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data, model: j.model, usage: { prompt_tokens: 0, total_tokens: 0 } }));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'the benchmark serves embeddings only' } }));
      }
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

async function main() {
  const env = { mnemoModule: pathToFileURL(path.join(ROOT, 'build/wasm/pkg/src/index.node.js')).href };
  let data, questions, server;
  if (mode === 'speed') data = loadSpeed(OUT, Number(arg), name !== 'mnemo');
  else questions = loadQuality(OUT);
  if (name === 'mem0') {
    process.env.MEM0_TELEMETRY = 'false';   // read when mem0ai/oss loads (engines.js imports it later)
    process.env.MEM0_DIR = path.join(OUT, 'mem0');
    const map = new Map();
    if (data) {
      data.texts.forEach((t, i) => map.set(t, data.vectors.subarray(i * DIM, (i + 1) * DIM)));
      data.queries.forEach((q, i) => map.set(q.text, data.qvectors.subarray(i * DIM, (i + 1) * DIM)));
    } else for (const q of questions) { map.set(q.question, q.vec); for (const t of q.turns) map.set(t.text, t.vec); }
    server = await fakeOpenAI((t) => map.get(t) || new Float32Array(DIM));
    env.fakeOpenAI = `http://127.0.0.1:${server.address().port}/v1`;
  }
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let out;
  try {
    if (mode === 'speed') {
      out = await speedRun(() => makeEngine(name, env), data, { progress });
    } else {
      const engine = await makeEngine(name, env);
      out = {
        a: await quality(engine, questions, { userOnly: true, progress }),
        b: await quality(engine, questions, { userOnly: false, progress }),
      };
      await engine.close();
    }
  } catch (e) {
    out = { error: e.message.split('\n')[0], skip: !!e.skip };
  }
  if (server) server.close();
  out.peakMB = process.resourceUsage().maxRSS / 1024;
  out.baselineMB = baseline / 1048576;
  process.stdout.write(JSON.stringify(out) + '\n');
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
