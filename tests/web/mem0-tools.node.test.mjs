// mnemo-wasm/mem0 (the mem0 OSS Memory facade) and the function-calling
// tools + context() helper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pkgUrl } from './helpers.mjs';
import { startFake, chatAnswer } from '../fake-openai.mjs';

const { Memory } = await import(pkgUrl('src/mem0.node.js'));
const { Mnemo, memoryTools } = await import(pkgUrl('src/index.node.js'));

test('mem0 facade: add, search, get, getAll, update, history, delete, deleteAll, reset', async () => {
  const memory = new Memory({ seed: 1 });
  const added = await memory.add('I love hiking in the Alps', { userId: 'alice', infer: false, metadata: { src: 'chat' } });
  assert.equal(added.results.length, 1);
  assert.equal(added.results[0].metadata.event, 'ADD');
  const id = added.results[0].id;
  await memory.add([{ role: 'user', content: 'My favourite colour is green' }], { userId: 'alice', infer: false });
  await memory.add('Bob likes sailing', { userId: 'bob', infer: false });

  const found = await memory.search('hiking', { userId: 'alice', limit: 5 });
  assert.equal(found.results[0].memory, 'I love hiking in the Alps');
  assert.equal(typeof found.results[0].score, 'number');
  assert.equal(found.results[0].userId, 'alice');
  assert.deepEqual(found.results[0].metadata, { src: 'chat' });
  assert.equal((await memory.search('sailing', { userId: 'alice' })).results.length, 0, 'users are isolated');

  const one = await memory.get(id);
  assert.equal(one.memory, 'I love hiking in the Alps');
  assert.ok(one.createdAt && one.hash);
  assert.equal(await memory.get('00000000-0000-7000-8000-000000000000'), null);

  const all = await memory.getAll({ userId: 'alice' });
  assert.equal(all.results.length, 2);

  assert.deepEqual(await memory.update(id, 'I love hiking in the Pyrenees'), { message: 'Memory updated successfully!' });
  const h = await memory.history(id);
  assert.deepEqual(h.map((e) => e.action), ['ADD', 'UPDATE']);
  assert.equal(h[1].previous_value, 'I love hiking in the Alps');
  assert.equal(h[1].new_value, 'I love hiking in the Pyrenees');
  assert.equal(h[1].memory_id, id);

  assert.deepEqual(await memory.delete(id), { message: 'Memory deleted successfully!' });
  assert.equal((await memory.getAll({ userId: 'alice' })).results.length, 1);
  await assert.rejects(memory.delete(id), (e) => e.code === 'MNEMO_ENOTFOUND');

  assert.deepEqual(await memory.deleteAll({ userId: 'alice' }), { message: 'Memories deleted successfully!' });
  assert.equal((await memory.getAll({ userId: 'alice' })).results.length, 0);
  assert.equal((await memory.getAll({ userId: 'bob' })).results.length, 1);
  await memory.reset();
  const fresh = new Memory();
  assert.equal((await fresh.getAll({ userId: 'bob' })).results.length, 0);
  await fresh.close();
});

test('mem0 facade: userId "*" is refused, not a wildcard; a scope is required', async () => {
  const memory = new Memory();
  await memory.add('secret of alice', { userId: 'alice', infer: false });
  for (const userId of ['*', '../alice', 'a/b', '']) {
    await assert.rejects(memory.getAll({ userId }), (e) => e.code === 'MNEMO_EINVAL', `userId ${JSON.stringify(userId)}`);
    await assert.rejects(memory.deleteAll({ userId }), (e) => e.code === 'MNEMO_EINVAL');
  }
  await assert.rejects(memory.search('secret', {}), (e) => e.code === 'MNEMO_EINVAL' && /userId, agentId or runId/.test(e.message));
  assert.equal((await memory.getAll({ userId: 'alice' })).results.length, 1, 'nothing was deleted');
  await memory.close();
});

test('mem0 facade: agentId and runId scope memories inside a user', async () => {
  const memory = new Memory();
  await memory.add('agent one note', { userId: 'u', agentId: 'a1', infer: false });
  await memory.add('agent two note', { userId: 'u', agentId: 'a2', infer: false });
  const a1 = await memory.getAll({ userId: 'u', agentId: 'a1' });
  assert.deepEqual(a1.results.map((m) => m.memory), ['agent one note']);
  assert.equal(a1.results[0].agentId, 'a1');
  await memory.deleteAll({ userId: 'u', agentId: 'a1' });
  assert.deepEqual((await memory.getAll({ userId: 'u' })).results.map((m) => m.memory), ['agent two note']);
  await memory.close();
});

test('mem0 facade: mem0-style provider config reaches the fake OpenAI server, infer by default', async () => {
  const fake = await startFake({ key: 'sk-m', quiet: true });
  try {
    fake.chat.push(chatAnswer({ facts: [{ op: 'ADD', ref: null, text: 'User is vegetarian', kind: 'preference', topics: ['food'], entities: [], relations: [], when: null, confidence: 0.9 }], delete: [] }));
    const memory = new Memory({
      llm: { provider: 'openai', config: { apiKey: 'sk-m', model: 'gpt-4o-mini', baseURL: fake.url } },
      embedder: { provider: 'openai', config: { apiKey: 'sk-m', model: 'text-embedding-3-small', embeddingDims: 8, baseURL: fake.url } },
    });
    const r = await memory.add([{ role: 'user', content: "I don't eat meat" }], { userId: 'v' });
    fake.assertValid();
    assert.deepEqual(r.results.map((x) => [x.memory, x.metadata.event]), [['User is vegetarian', 'ADD']]);
    assert.equal(fake.chatRequests()[0].body.model, 'gpt-4o-mini');
    assert.throws(() => new Memory({ llm: { provider: 'anthropic', config: {} } }), (e) => e.code === 'MNEMO_EINVAL');
    await memory.close();
  } finally {
    await fake.close();
  }
});

test('tools: definitions, and handlers that search, save and forget', async () => {
  const bank = await Mnemo.open({ bank: 'tools' });
  try {
    const tools = memoryTools(bank);
    assert.deepEqual(tools.definitions.map((d) => d.function.name), ['search_memory', 'save_memory', 'forget_memory']);
    for (const d of tools.definitions) {
      assert.equal(d.type, 'function');
      assert.equal(d.function.parameters.type, 'object');
    }
    const saved = await tools.handle({ id: 'c1', function: { name: 'save_memory', arguments: '{"text":"User has a cat named Mochi"}' } });
    assert.equal(saved.role, 'tool');
    assert.equal(saved.tool_call_id, 'c1');
    const sid = JSON.parse(saved.content).saved[0].id;
    const found = JSON.parse((await tools.handle({ id: 'c2', function: { name: 'search_memory', arguments: '{"query":"cat"}' } })).content);
    assert.equal(found.memories[0].id, sid);
    assert.equal(found.memories[0].text, 'User has a cat named Mochi');
    const bad = JSON.parse((await tools.handle({ id: 'c3', function: { name: 'search_memory', arguments: '{not json' } })).content);
    assert.equal(bad.error.code, 'MNEMO_EJSON');
    const unknown = JSON.parse((await tools.handle({ id: 'c4', function: { name: 'rm_rf', arguments: '{}' } })).content);
    assert.equal(unknown.error.code, 'MNEMO_EINVAL');
    const gone = await tools.handlers.forget_memory({ query: 'Mochi' });
    assert.deepEqual(gone.forgotten, [sid]);
    assert.equal((await bank.stats()).memories, 0);
    await bank.retain('x');
    const byId = (await bank.list()).memories[0].id;
    assert.deepEqual((await tools.handlers.forget_memory({ id: byId })).forgotten, [byId]);
  } finally {
    await bank.close();
  }
});

test('context(query, {maxTokens}) returns a prompt block within the budget, empty when nothing is relevant', async () => {
  const bank = await Mnemo.open({ bank: 'ctx' });
  try {
    assert.equal(await bank.context('anything'), '');
    for (let i = 0; i < 30; i++) await bank.retain(`The user went to concert number ${i} of the jazz festival with friends from work`);
    await bank.retain('The user is allergic to peanuts', { timestamp: '2024-03-02' });
    const block = await bank.context('peanuts allergy', { maxTokens: 400 });
    assert.match(block, /^## /);
    assert.match(block, /- The user is allergic to peanuts \(2024-03-02\)/);
    const small = await bank.context('jazz concert', { maxTokens: 40 });
    const big = await bank.context('jazz concert', { maxTokens: 400 });
    assert.ok(small.split('\n').length < big.split('\n').length);
    assert.ok(small.length / 4 < 40 + 30, `${small.length} chars for 40 tokens`);
  } finally {
    await bank.close();
  }
});
