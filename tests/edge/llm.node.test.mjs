// The edge service's LLM path: a retain with "infer": true runs the core's
// job loop in the bank's Durable Object, whose chat requests go out with the
// Worker's fetch to an OpenAI-compatible server (tests/fake-openai.mjs, on
// loopback), with the model and key from bindings. One workerd for the file.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startFake, chatAnswer, parsePrompt } from '../fake-openai.mjs';
import { startWorkerd, api } from './workerd.mjs';

const TOKEN = 'tok-llm-tenant-01';
const KEY = `sk-edge-test-${crypto.randomBytes(12).toString('hex')}`;

let w, fake, dir;
before(async () => {
  fake = await startFake({ key: KEY, quiet: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnemo-edge-llm-'));
  w = await startWorkerd({
    dir,
    env: {
      MNEMO_EDGE_TOKENS: JSON.stringify({ [TOKEN]: 'llmtenant' }),
      MNEMO_LLM_URL: fake.url,
      MNEMO_LLM_MODEL: 'edge-chat',
      MNEMO_LLM_KEY: KEY,
    },
  });
});
after(async () => {
  if (w) await w.stop();
  if (fake) await fake.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(() => fake.assertValid());

const fact = (op, text, more = {}) => ({ op, ref: null, text, kind: 'fact', topics: [], entities: [], relations: [], when: null, confidence: 0.9, ...more });
const answer = (facts, del = []) => chatAnswer({ facts, delete: del });
const call = (method, p, body) => api(w.url, TOKEN, method, p, body);

test('retain with infer: one chat request with the bound model and key; the extracted fact is stored', async () => {
  fake.requests.length = 0;
  fake.chat.length = 0;
  fake.chat.push(answer([fact('ADD', 'User prefers dark mode', { kind: 'preference', topics: ['user interface'] })]));
  const r = await call('POST', '/v1/banks/prefs/memories', { text: 'I prefer dark mode', infer: true });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.mode, 'llm');
  assert.deepEqual(r.body.learned.map((m) => m.text), ['User prefers dark mode']);
  const reqs = fake.chatRequests();
  assert.equal(reqs.length, 1);
  assert.equal(reqs[0].body.model, 'edge-chat');
  assert.equal(reqs[0].headers.authorization, `Bearer ${KEY}`);
  assert.equal(reqs[0].body.response_format.type, 'json_schema');
  assert.match(parsePrompt(reqs[0]).conversation, /I prefer dark mode/);
  assert.ok(!r.text.includes(KEY));
  const list = await call('GET', '/v1/banks/prefs/memories');
  const m = list.body.memories.find((x) => x.text === 'User prefers dark mode');
  assert.equal(m.kind, 'preference');
  const rec = await call('POST', '/v1/banks/prefs/recall', { query: 'which theme does the user like?' });
  assert.equal(rec.body.results[0].text, 'User prefers dark mode');
});

test('an LLM that keeps failing (HTTP 500) is retried, then the retain falls back and loses nothing', async () => {
  fake.requests.length = 0;
  fake.chat.length = 0;
  const fail = { status: 500, json: { error: { message: 'overloaded', type: 'server_error' } } };
  fake.chat.push(fail, fail, fail, fail, fail, fail);
  const r = await call('POST', '/v1/banks/fallback/memories', { text: 'My sister Ana lives in Lisbon', infer: true });
  assert.equal(r.status, 201, r.text);
  assert.notEqual(r.body.mode, 'llm');
  assert.equal(fake.chatRequests().length, 3, 'three attempts: the first and two retries');
  assert.ok(!r.text.includes(KEY));
  const list = await call('GET', '/v1/banks/fallback/memories');
  assert.ok(list.body.memories.some((m) => /Lisbon/.test(m.text)), JSON.stringify(list.body));
});

test('a model answer that refuses response_format (HTTP 400) is retried once without it', async () => {
  fake.requests.length = 0;
  fake.chat.length = 0;
  fake.chat.push({ status: 400, json: { error: { message: 'response_format not supported', type: 'invalid_request_error' } } });
  fake.chat.push(answer([fact('ADD', 'User owns a red bicycle')]));
  const r = await call('POST', '/v1/banks/bikes/memories', { text: 'I own a red bicycle', infer: true });
  assert.equal(r.status, 201, r.text);
  const reqs = fake.chatRequests();
  assert.equal(reqs.length, 2);
  assert.ok(reqs[0].body.response_format);
  assert.equal(reqs[1].body.response_format, undefined);
  assert.deepEqual(r.body.learned.map((m) => m.text), ['User owns a red bicycle']);
});
