// mnemo-wasm's providers against the fake OpenAI-compatible server on
// loopback (tests/fake-openai.mjs): chat extraction, embeddings, retries,
// fallbacks, the pending queue, abort and timeouts, custom functions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pkgUrl } from './helpers.mjs';
import { startFake, chatAnswer, embeddingsAnswer } from '../fake-openai.mjs';

const { Mnemo, openai, MnemoError } = await import(pkgUrl('src/index.node.js'));

const KEY = 'sk-test-web-123';
let fake;
before(async () => { fake = await startFake({ key: KEY, dim: 8, quiet: true }); });
after(async () => { await fake.close(); });

const extraction = (facts) => chatAnswer({ facts, delete: [] });
const fact = (text, kind = 'preference') => ({ op: 'ADD', ref: null, text, kind, topics: ['t'], entities: [], relations: [], when: null, confidence: 0.9 });

async function open(extra = {}) {
  fake.reset();
  fake.problems.length = 0;
  return Mnemo.open({
    bank: 'llm-user', seed: 3,
    llm: openai({ baseURL: fake.url, apiKey: KEY, model: 'gpt-test', retries: 1, timeout: 2000 }),
    embedder: openai.embeddings({ baseURL: fake.url, apiKey: KEY, model: 'embed-test', dimensions: 8, retries: 1 }),
    ...extra,
  });
}

test('retain with infer: one chat request with our model and key, then embeddings of the facts', async () => {
  const bank = await open();
  try {
    fake.chat.push(extraction([fact('User prefers dark mode'), fact('User writes Python', 'fact')]));
    const r = await bank.retain([{ role: 'user', content: 'I like dark mode, and I code in Python.' }], { infer: true });
    fake.assertValid();
    assert.equal(r.mode, 'llm');
    assert.deepEqual(r.learned.map((m) => m.text).sort(), ['User prefers dark mode', 'User writes Python']);
    const chats = fake.chatRequests();
    assert.equal(chats.length, 1);
    assert.equal(chats[0].body.model, 'gpt-test');
    assert.equal(chats[0].headers.authorization, `Bearer ${KEY}`);
    assert.match(JSON.stringify(chats[0].body.messages), /dark mode/);
    const embeds = fake.embeddingRequests();
    assert.ok(embeds.length >= 1);
    assert.equal(embeds[0].body.model, 'embed-test');
    assert.equal((await bank.stats()).vectors >= 2, true);
    // Recall embeds the query through the host too.
    const before = fake.embeddingRequests().length;
    const rec = await bank.recall('dark mode?', { limit: 3 });
    assert.equal(fake.embeddingRequests().length, before + 1);
    assert.equal(rec.results[0].text, 'User prefers dark mode');
  } finally {
    await bank.close();
  }
});

test('429 and 5xx are retried; a success after them is used', async () => {
  const bank = await open();
  try {
    fake.chat.push({ status: 429, json: { error: { message: 'slow down' } }, headers: { 'retry-after': '0' } });
    fake.chat.push(extraction([fact('User owns a cat')]));
    const r = await bank.retain('I have a cat', { infer: true });
    assert.equal(r.mode, 'llm');
    assert.equal(fake.chatRequests().length, 2);
  } finally {
    await bank.close();
  }
});

test('a failing LLM never fails retain: heuristic fallback, pending, then processPending with the model back', async () => {
  const bank = await open();
  try {
    fake.chat.push({ status: 500, body: 'boom' }, { status: 503, body: 'still down' });
    const r = await bank.retain([{ role: 'user', content: 'I moved to Berlin in May' }], { infer: true });
    assert.equal(r.mode, 'heuristic');
    assert.equal(r.pending, true);
    assert.match(r.fallback, /HTTP 503: still down/);
    assert.equal((await bank.stats()).pending, 1);
    fake.chat.push(extraction([fact('User moved to Berlin', 'event')]));
    const steps = [];
    const p = await bank.processPending({ onProgress: (s) => steps.push(s) });
    assert.equal(p.processed, 1);
    assert.equal(p.remaining, 0);
    assert.ok(steps.some((s) => s.type === 'chat'));
    assert.equal(steps.at(-1).phase, 'done');
    assert.equal((await bank.stats()).pending, 0);
    const texts = (await bank.list()).memories.map((m) => m.text);
    assert.ok(texts.includes('User moved to Berlin'), texts.join(' | '));
  } finally {
    await bank.close();
  }
});

test('an embeddings failure falls back to the built-in embedder and still stores', async () => {
  const bank = await open({ llm: undefined });
  try {
    fake.embeddings.push({ status: 500, body: 'x' }, { status: 500, body: 'x' });
    const r = await bank.retain('plain text memory');
    assert.equal(r.added.length, 1);
    assert.equal((await bank.list()).memories.length, 1);
  } finally {
    await bank.close();
  }
});

test('a 400 on chat makes the core retry once without response_format', async () => {
  const bank = await open();
  try {
    fake.chat.push({ status: 400, json: { error: { message: 'response_format not supported' } } });
    fake.chat.push(extraction([fact('User likes tea')]));
    const r = await bank.retain('I like tea', { infer: true });
    const chats = fake.chatRequests();
    assert.equal(chats.length, 2);
    assert.ok(chats[0].body.response_format);
    assert.equal(chats[1].body.response_format, undefined);
    assert.equal(r.mode, 'llm');
  } finally {
    await bank.close();
  }
});

test('aborting a retain during its LLM call rejects with AbortError and writes nothing', async () => {
  const bank = await open();
  try {
    fake.chat.push({ ...extraction([fact('never stored')]), delay: 1000 });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 100);
    const t0 = Date.now();
    await assert.rejects(bank.retain('something slow', { infer: true, signal: ctl.signal }), (e) => e.name === 'AbortError');
    assert.ok(Date.now() - t0 < 900, 'the fetch itself was aborted');
    assert.equal((await bank.stats()).memories, 0);
    // The bank is still usable.
    fake.chat.push(extraction([fact('User plays chess')]));
    assert.equal((await bank.retain('I play chess', { infer: true })).mode, 'llm');
  } finally {
    await bank.close();
  }
});

test('a timeout is a host failure: fallback, not an error', async () => {
  const bank = await open({ llm: openai({ baseURL: fake.url, apiKey: KEY, model: 'gpt-test', timeout: 100, retries: 0 }) });
  try {
    fake.chat.push({ ...extraction([fact('late')]), delay: 500 });
    const r = await bank.retain('I like jazz', { infer: true });
    assert.equal(r.mode, 'heuristic');
    assert.match(r.fallback, /timed out/);
  } finally {
    await bank.close();
  }
});

test('any async function is a provider (test doubles, local models)', async () => {
  const seen = [];
  const llm = async (body) => {
    seen.push(body);
    return { choices: [{ message: { content: JSON.stringify({ facts: [fact('User speaks French')], delete: [] }) } }] };
  };
  const embedder = Object.assign(async (body) => embeddingsAnswer(body.input, 4).json, { model: 'local-4', dim: 4 });
  const bank = await Mnemo.open({ bank: 'fn', llm, embedder });
  try {
    const r = await bank.retain('Je parle français', { infer: true });
    assert.equal(r.mode, 'llm');
    assert.equal(seen.length, 1);
    assert.ok(Array.isArray(seen[0].messages));
    assert.equal((await bank.stats()).embedder.model, 'local-4');
    const thrower = await Mnemo.open({ bank: 'fn2', llm: async () => { throw new Error('no GPU'); } });
    const t = await thrower.retain('I like pizza', { infer: true });
    assert.match(t.fallback, /no GPU/);
    await thrower.close();
  } finally {
    await bank.close();
  }
});

test('provider options are checked', async () => {
  assert.throws(() => openai.embeddings({ model: 'mystery' }), (e) => e instanceof MnemoError && e.code === 'MNEMO_EINVAL' && /dimensions/.test(e.message));
  assert.equal(openai.embeddings({ model: 'text-embedding-3-small' }).dim, 1536);
  assert.throws(() => openai({ timeout: -1 }), (e) => e.code === 'MNEMO_EINVAL');
  await assert.rejects(Mnemo.open({ bank: 'x', llm: 42 }), (e) => e.code === 'MNEMO_EINVAL');
  await assert.rejects(Mnemo.open({ bank: 'x', embedder: async () => ({}) }), (e) => e.code === 'MNEMO_EINVAL' && /model/.test(e.message));
});
