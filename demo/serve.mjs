#!/usr/bin/env node
// The demo's static server: the page (demo/) and the built npm package, on
// 127.0.0.1 only. Plain node:http, no dependencies.
//
//   node demo/serve.mjs [--pkg DIR] [--root DIR] [--edge URL] [--path /edge/]
//   PORT=8080 (0 picks a free port); the URL is printed on stdout.
//
// /                   the page's files (--root, default demo/)
// /pkg/...            the package's files (--pkg, the directory of its package.json)
// /mnemo-wasm.js      redirects to the package's browser entry, as read from its
//                     package.json "exports", so the page can import 'mnemo-wasm'
// /api/...            with --edge URL: forwarded to the edge service (same origin
//                     for the client page, no CORS needed)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
function opt(name, fallback) {
  const i = args.indexOf(name);
  if (i >= 0 && i + 1 < args.length) return args[i + 1];
  return fallback;
}
const root = path.resolve(opt('--root', here));
const pkgDir = opt('--pkg', process.env.MNEMO_PKG || '') ? path.resolve(opt('--pkg', process.env.MNEMO_PKG)) : '';
const edge = opt('--edge', process.env.MNEMO_EDGE_URL || '');
const startPath = opt('--path', '/');
const port = Number(process.env.PORT ?? 8080);
const host = '127.0.0.1';

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`serve: PORT must be a port number (0-65535), got "${process.env.PORT}"`);
  process.exit(2);
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8', '.wasm': 'application/wasm',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8', '.ts': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8', '.md': 'text/plain; charset=utf-8',
};

// The package's browser entry: exports["."] with the "browser" condition,
// then "import"/"default", then "module"/"main".
function packageEntry() {
  if (!pkgDir) return null;
  let pkg;
  try { pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')); } catch { return null; }
  const pick = (x) => {
    if (typeof x === 'string') return x;
    if (x && typeof x === 'object') {
      for (const c of ['browser', 'import', 'default']) {
        const v = pick(x[c]);
        if (v) return v;
      }
    }
    return null;
  };
  const dot = pkg.exports && (typeof pkg.exports === 'string' || pkg.exports['.'] === undefined ? pkg.exports : pkg.exports['.']);
  const entry = pick(dot) || pkg.module || pkg.main;
  return entry ? entry.replace(/^\.\//, '') : null;
}

// Resolves a URL path inside `base`, refusing anything that escapes it.
function inside(base, rel) {
  let decoded;
  try { decoded = decodeURIComponent(rel); } catch { return null; }
  if (decoded.includes('\0')) return null;
  const p = path.resolve(base, '.' + path.posix.normalize('/' + decoded));
  return p === base || p.startsWith(base + path.sep) ? p : null;
}

function send(res, status, body, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function serveFile(req, res, file) {
  fs.stat(file, (err, st) => {
    if (!err && st.isDirectory()) return serveFile(req, res, path.join(file, 'index.html'));
    if (err || !st.isFile()) return send(res, 404, 'not found\n');
    const type = TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
    res.writeHead(200, {
      'content-type': type, 'content-length': st.size, 'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file).pipe(res);
  });
}

function proxy(req, res, target) {
  const url = new URL(req.url.replace(/^\/api/, '') || '/', target);
  const up = http.request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (r) => {
    res.writeHead(r.statusCode || 502, r.headers);
    r.pipe(res);
  });
  up.on('error', (e) => send(res, 502, JSON.stringify({ error: { code: 'EDGE_UNREACHABLE', message: `edge service at ${target}: ${e.message}` } }) + '\n', 'application/json'));
  req.pipe(up);
}

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://localhost');
  if (edge && (u.pathname === '/api' || u.pathname.startsWith('/api/'))) return proxy(req, res, edge);
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
  if (u.pathname === '/mnemo-wasm.js') {
    const entry = packageEntry();
    if (!entry) return send(res, 503, `the mnemo-wasm package is not built (looked in ${pkgDir || '(no --pkg given)'}); run make web\n`);
    res.writeHead(302, { location: '/pkg/' + entry, 'cache-control': 'no-store' });
    return res.end();
  }
  if (u.pathname.startsWith('/pkg/')) {
    const f = pkgDir && inside(pkgDir, u.pathname.slice(5));
    return f ? serveFile(req, res, f) : send(res, 404, 'not found\n');
  }
  const f = inside(root, u.pathname);
  return f ? serveFile(req, res, f) : send(res, 404, 'not found\n');
});

server.on('error', (e) => {
  console.error(e.code === 'EADDRINUSE'
    ? `serve: port ${port} is in use on ${host}; try PORT=8081 make demo`
    : `serve: ${e.message}`);
  process.exit(1);
});
server.listen(port, host, () => {
  const url = `http://${host}:${server.address().port}${startPath}`;
  console.log(`Mnemo demo: ${url}`);
  if (!edge && (!pkgDir || !packageEntry())) console.log(`(warning: no built package in ${pkgDir || '(none given)'})`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
