// Starts the edge service (wasi/edge/mnemo.capnp) in a real workerd on a
// free loopback port, with its Durable Object storage in `dir`.
//
//   const w = await startWorkerd({ dir, env: { MNEMO_EDGE_TOKENS: ... } });
//   await fetch(w.url + '/v1/banks/notes/memories', ...);
//   await w.stop();              SIGTERM, waits for the exit
//   const w2 = await w.restart(); same port, same storage
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CONFIG = path.join(root, 'wasi/edge/mnemo.capnp');

export function workerdBin() {
  if (process.env.WORKERD) return process.env.WORKERD;
  const base = path.join(root, 'tests/edge/node_modules/@cloudflare');
  for (const d of fs.existsSync(base) ? fs.readdirSync(base) : []) {
    const p = path.join(base, d, 'bin/workerd');
    if (d.startsWith('workerd-') && fs.existsSync(p)) return p;
  }
  throw new Error('workerd not installed: run `bash .ci/npm.sh tests/edge`');
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// The environment workerd sees: ours without MNEMO_* (so a developer's
// shell settings do not leak into a test) plus `env`.
function cleanEnv(env) {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MNEMO_') && !/_proxy$/i.test(k)) out[k] = v;
  return { ...out, ...env };
}

export async function startWorkerd({ dir, env = {}, port = null, timeoutMs = 30000 } = {}) {
  port = port || (await freePort());
  fs.mkdirSync(dir, { recursive: true });
  const child = spawn(
    workerdBin(),
    ['serve', CONFIG, '--socket-addr', `http=127.0.0.1:${port}`, '--directory-path', `do-storage=${dir}`],
    { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let logs = '';
  child.stdout.on('data', (c) => (logs += c));
  child.stderr.on('data', (c) => (logs += c));
  let exited = null;
  const exit = new Promise((resolve) => child.on('exit', (code, sig) => resolve((exited = { code, sig }))));
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (exited) throw new Error(`workerd exited (${JSON.stringify(exited)}):\n${logs}`);
    try {
      const r = await fetch(url + '/healthz');
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() - t0 > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`workerd did not answer within ${timeoutMs} ms:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const w = {
    url,
    port,
    dir,
    startMs: Date.now() - t0,
    logs: () => logs,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(t);
    },
    async restart() {
      await w.stop();
      return startWorkerd({ dir, env, port, timeoutMs });
    },
  };
  return w;
}

// A JSON request with a bearer token: {status, headers, body (parsed when
// JSON), text}.
export async function api(base, token, method, p, body, headers = {}) {
  const h = { ...headers };
  if (token !== null) h.authorization = `Bearer ${token}`;
  let b = body;
  if (body !== undefined && typeof body !== 'string') {
    b = JSON.stringify(body);
    h['content-type'] = 'application/json';
  }
  const r = await fetch(base + p, { method, headers: h, body: b });
  const text = await r.text();
  let parsed = null;
  if ((r.headers.get('content-type') || '').startsWith('application/json')) parsed = JSON.parse(text);
  return { status: r.status, headers: r.headers, body: parsed, text };
}
