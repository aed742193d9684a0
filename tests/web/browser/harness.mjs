/*
 * harness.mjs: what every browser test shares: a static HTTP server on
 * 127.0.0.1 and Debian's Chromium driven by playwright-core.
 *
 * The server maps a few URL prefixes to directories (nothing else of the
 * disk is reachable): /web/ -> web/, /pages/ -> tests/web/browser/pages/,
 * /build/ -> build/browser/, /bench/ -> tests/bench/web/, /pkg/ -> the built
 * package (build/wasm/pkg: sources and the wasm). http://127.0.0.1 is a secure context, so
 * Web Locks, BroadcastChannel and durable IndexedDB behave as on https.
 *
 * Chromium: /usr/bin/chromium (never a downloaded browser), headless, one
 * persistent profile per test file under build/browser/profiles/, so a test
 * can close the browser and launch it again on the same profile (a browser
 * restart).
 */
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BUILD = path.join(ROOT, 'build/browser');
export const CHROMIUM = process.env.MNEMO_CHROMIUM || '/usr/bin/chromium';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.json': 'application/json', '.wasm': 'application/wasm', '.css': 'text/css',
  '.map': 'application/json', '.bin': 'application/octet-stream', '.svg': 'image/svg+xml',
};

/* Starts the server; resolves with {url, close()}. `mounts` adds or replaces
 * prefixes ({'/vite/': dir}). */
export function startServer(mounts = {}) {
  const table = {
    '/web/': path.join(ROOT, 'web'),
    '/pages/': path.join(ROOT, 'tests/web/browser/pages'),
    '/build/': BUILD,
    '/bench/': path.join(ROOT, 'tests/bench/web'),
    '/pkg/': path.join(ROOT, 'build/wasm/pkg'),
    ...mounts,
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    let file = null;
    for (const [prefix, dir] of Object.entries(table)) {
      if (!url.pathname.startsWith(prefix)) continue;
      const rel = decodeURIComponent(url.pathname.slice(prefix.length));
      const full = path.resolve(dir, rel || 'index.html');
      if (full === dir || full.startsWith(dir + path.sep)) file = full;
      break;
    }
    if (file && fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const type = TYPES[path.extname(file)] || 'application/octet-stream';
    // Single byte ranges: the benchmark reads a prefix of its vector files.
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
    if (range) {
      const size = fs.statSync(file).size;
      const start = Number(range[1]), end = Math.min(size - 1, range[2] ? Number(range[2]) : size - 1);
      res.writeHead(206, { 'content-type': type, 'cache-control': 'no-store',
        'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
      fs.createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
      });
    });
  });
}

/* A fresh profile directory for one test file. */
export function freshProfile(name) {
  const dir = path.join(BUILD, 'profiles', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export const ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-gpu', '--no-first-run', '--disable-sync'];

/* Launches headless Chromium on `profile`; resolves with a BrowserContext. */
export function launch(profile, options = {}) {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, ...(options.args || [])],
    ...(options.offline ? { offline: true } : {}),
  });
}

/* A browser without a profile (benchmarks); resolves with a Browser. */
export function launchBrowser(options = {}) {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...ARGS, ...(options.args || [])] });
}

/* The context's first page, or a new one, at `url`, with console errors
 * forwarded to the test's stderr (a failing page explains itself). */
export async function openPage(ctx, url) {
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));
  page.on('console', (m) => { if (m.type() === 'error') process.stderr.write(`[console] ${m.text()}\n`); });
  await page.goto(url);
  return page;
}

/* Whether the browser is there at all: tests skip with a reason otherwise. */
export function chromiumMissing() {
  return fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} not found (install Debian's chromium)`;
}
