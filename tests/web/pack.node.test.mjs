// The package as published: `npm pack` of the built package, installed into
// a fresh project, used from Node (both entry points), and bundled by Vite
// (pinned in tests/web/pack/package.json) into a page. The page is only
// built here; the browser tests load build/web-pack/vite-app/dist in Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, PKG } from './helpers.mjs';

const OUT = path.join(ROOT, 'build/web-pack');
const APP = path.join(OUT, 'vite-app');
const VITE = path.join(ROOT, 'tests/web/pack/node_modules/vite/bin/vite.js');
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

let tarball;

test('npm pack makes a tarball with the wasm, the JS, the types and the README', () => {
  fs.mkdirSync(OUT, { recursive: true });
  for (const f of fs.readdirSync(OUT)) if (f.endsWith('.tgz')) fs.rmSync(path.join(OUT, f));
  const info = JSON.parse(run('npm', ['pack', PKG, '--json', '--pack-destination', OUT], OUT))[0];
  tarball = path.join(OUT, info.filename);
  const files = info.files.map((f) => f.path).sort();
  for (const f of ['package.json', 'README.md', 'index.d.ts', 'mem0.d.ts', 'dist/mnemo-core.wasm', 'dist/mnemo-core.js',
    'src/index.js', 'src/index.node.js', 'src/mem0.js', 'src/mem0.node.js', 'src/idb.js', 'src/file.js'])
    assert.ok(files.includes(f), `${f} is in the tarball`);
  assert.ok(!files.some((f) => f.endsWith('.stamp')), 'no build droppings');
  console.log(`# tarball ${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${files.length} files`);
});

test('the tarball installs into a fresh project and works there from Node', () => {
  fs.rmSync(APP, { recursive: true, force: true });
  fs.mkdirSync(APP, { recursive: true });
  fs.writeFileSync(path.join(APP, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true, type: 'module' }));
  run('npm', ['install', tarball, '--no-audit', '--no-fund', '--ignore-scripts', '--offline', '--loglevel=error'], APP);
  fs.writeFileSync(path.join(APP, 'node-check.mjs'), `
    import { Mnemo } from 'mnemo-wasm';
    import { Memory } from 'mnemo-wasm/mem0';
    const file = process.argv[2];
    const bank = await Mnemo.open({ bank: 'fresh', storage: file });
    await bank.retain('Installed from the tarball');
    const r = await bank.recall('tarball');
    await bank.close();
    const again = await Mnemo.open({ bank: 'fresh', storage: file });
    const n = (await again.stats()).memories;
    await again.close();
    const m = new Memory();
    await m.add('hello', { userId: 'u', infer: false });
    const all = await m.getAll({ userId: 'u' });
    console.log(JSON.stringify({ top: r.results[0].text, n, mem0: all.results.length }));
  `);
  const out = JSON.parse(run(process.execPath, ['node-check.mjs', path.join(APP, 'bank.mnemo')], APP));
  assert.deepEqual(out, { top: 'Installed from the tarball', n: 1, mem0: 1 });
  // Types resolve through the exports map.
  const pj = JSON.parse(fs.readFileSync(path.join(APP, 'node_modules/mnemo-wasm/package.json'), 'utf8'));
  assert.equal(pj.exports['.'].types, './index.d.ts');
  assert.equal(pj.exports['./mem0'].types, './mem0.d.ts');
});

test('Vite bundles a page that imports the package: browser entry, wasm emitted as an asset', () => {
  assert.ok(fs.existsSync(VITE), 'vite is installed (bash .ci/npm.sh tests/web/pack)');
  for (const f of ['index.html', 'main.js']) fs.copyFileSync(path.join(ROOT, 'tests/web/pack/app', f), path.join(APP, f));
  run(process.execPath, [VITE, 'build', '--logLevel', 'warn', '--emptyOutDir'], APP);
  const dist = path.join(APP, 'dist');
  const assets = fs.readdirSync(path.join(dist, 'assets'));
  const wasm = assets.filter((f) => f.endsWith('.wasm'));
  assert.ok(wasm.length >= 1, `a wasm asset in ${assets.join(', ')}`);
  assert.deepEqual(fs.readFileSync(path.join(dist, 'assets', wasm[0])), fs.readFileSync(path.join(PKG, 'dist/mnemo-core.wasm')));
  const js = assets.filter((f) => f.endsWith('.js')).map((f) => fs.readFileSync(path.join(dist, 'assets', f), 'utf8')).join('\n');
  assert.ok(js.includes(wasm[0]), 'the bundle refers to the emitted wasm');
  assert.doesNotMatch(js, /node:fs|__dirname|require\(/, 'no Node code in the browser bundle');
  assert.match(js, /indexedDB/, 'the IndexedDB store is in');
  console.log(`# vite page: ${dist} (${assets.join(', ')})`);
});

test('the types check under strict TypeScript, through the exports map', () => {
  const TSC = path.join(ROOT, 'tests/web/pack/node_modules/typescript/bin/tsc');
  fs.writeFileSync(path.join(APP, 'check.ts'), `
    import { Mnemo, MnemoError, openai, type RecallResult } from 'mnemo-wasm';
    import { Memory, type MemoryItem } from 'mnemo-wasm/mem0';
    export async function main(): Promise<string> {
      const bank: Mnemo = await Mnemo.open({ bank: 'b', storage: 'memory',
        llm: openai({ baseURL: 'http://127.0.0.1:1/v1', model: 'm' }),
        embedder: openai.embeddings({ model: 'text-embedding-3-small' }) });
      await bank.retain([{ role: 'user', content: 'hi' }], { infer: true, documentId: 'd' });
      const r: RecallResult = await bank.recall('hi', { limit: 3, maxTokens: 100 });
      const m = await bank.get(r.results[0].id);
      const tools = bank.tools();
      await tools.handle({ id: '1', function: { name: 'search_memory', arguments: '{}' } });
      const block: string = await bank.context('hi', { maxTokens: 200 });
      await bank.processPending({ onProgress: (p) => p.step, signal: AbortSignal.timeout(10) });
      const mem = new Memory();
      const items: MemoryItem[] = (await mem.search('x', { userId: 'u' })).results;
      try { await bank.delete('x'); } catch (e) { if (e instanceof MnemoError) return e.code + e.errno; }
      return block + (m ? m.text : '') + items.length;
    }
  `);
  fs.writeFileSync(path.join(APP, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], skipLibCheck: false },
    files: ['check.ts'],
  }));
  try {
    run(process.execPath, [TSC, '-p', APP], APP);
  } catch (e) {
    assert.fail(`tsc found errors:\n${e.stdout}${e.stderr}`);
  }
});
