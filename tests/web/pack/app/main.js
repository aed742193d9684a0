// A page built by Vite from the packed mnemo-wasm tarball: the bundler must
// pick the browser entry, emit the wasm as an asset and resolve its URL.
// Loaded in Chromium by the browser tests; `?storage=indexeddb` uses
// IndexedDB instead of memory. The outcome is in window.__mnemo and #out.
import { Mnemo, MnemoError, openai } from 'mnemo-wasm';
import { Memory } from 'mnemo-wasm/mem0';

async function run() {
  const storage = new URLSearchParams(location.search).get('storage') || 'memory';
  const bank = await Mnemo.open({ bank: 'vite-page', storage });
  await bank.retain('The user prefers dark mode', { metadata: { topic: 'ui' } });
  const { results } = await bank.recall('dark mode', { limit: 3 });
  const stats = await bank.stats();
  await bank.close();
  const memory = new Memory();
  await memory.add('Likes green tea', { userId: 'page-user', infer: false });
  const m0 = await memory.search('tea', { userId: 'page-user' });
  await memory.close();
  let refused = null;
  try {
    await Mnemo.open({ bank: '*' });
  } catch (e) {
    refused = e instanceof MnemoError ? e.code : String(e);
  }
  return { ok: true, storage, top: results[0] && results[0].text, memories: stats.memories,
    mem0: m0.results.map((r) => r.memory), refused, openai: typeof openai };
}

run().then(
  (r) => { window.__mnemo = r; document.getElementById('out').textContent = JSON.stringify(r); },
  (e) => { window.__mnemo = { ok: false, error: String(e && e.stack || e) }; document.getElementById('out').textContent = String(e); },
);
