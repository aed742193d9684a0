// The edge service in real workerd on loopback: the REST API round trip,
// auth and tenant isolation, limits and errors, concurrent writers, and
// persistence across a workerd restart. One workerd for the whole file
// (restarted once). Run with `make test-edge`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { startWorkerd, api } from './workerd.mjs';

const ALICE = 'tok-alice-0001';
const BOB = 'tok-bob-000002';
const ALICE_RO = 'tok-alice-readonly';
const CASE_ALICE = 'tok-Alice-00003'; // tenant "Alice": not "alice"
const CAROL = 'tok-carol-00004';
const TOKENS = {
  [ALICE]: 'alice',
  [BOB]: 'bob',
  [ALICE_RO]: { tenant: 'alice', read_only: true },
  [CASE_ALICE]: 'Alice',
  [CAROL]: 'carol',
  'tok-slash-00005': 'alice/notes', // not an identifier: never accepted
  short: 'alice', // under 8 characters: never accepted
};
const MAX_BODY = 64 * 1024;

let w;
let dir;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnemo-edge-'));
  w = await startWorkerd({
    dir,
    env: {
      MNEMO_EDGE_TOKENS: JSON.stringify(TOKENS),
      MNEMO_MAX_BODY: String(MAX_BODY),
      MNEMO_RATE: '20',
      MNEMO_BURST: '400',
    },
  });
});
after(async () => {
  if (w) await w.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const call = (token, method, p, body, headers) => api(w.url, token, method, p, body, headers);
const retain = async (token, bank, input) => {
  const r = await call(token, 'POST', `/v1/banks/${bank}/memories`, input);
  assert.equal(r.status, 201, r.text);
  return r.body;
};
const texts = async (token, bank) => {
  const r = await call(token, 'GET', `/v1/banks/${bank}/memories?limit=1000`);
  assert.equal(r.status, 200, r.text);
  return r.body.memories.map((m) => m.text).sort();
};

// A request with the path sent exactly as written (fetch would normalise it).
function raw(method, p, token) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: w.port, method, path: p, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, text, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

// The Durable Objects that have storage on disk (one SQLite file per object).
function storedObjects() {
  const d = path.join(dir, 'mnemo-bank-v1');
  return fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.endsWith('.sqlite')).sort() : [];
}

test('retain, recall, list, get, update, history, delete, export and import round trip', async () => {
  const a = await retain(ALICE, 'notes', { text: 'My favourite colour is deep ocean blue', metadata: { topic: 'taste' } });
  assert.equal(a.added.length, 1);
  const id = a.added[0].id;
  await retain(ALICE, 'notes', { text: 'The quarterly budget meeting moved to Thursday' });
  const msgs = await retain(ALICE, 'notes', {
    messages: [
      { role: 'user', content: 'I adopted a cat named Miso' },
      { role: 'assistant', content: 'Congratulations on adopting Miso!' },
    ],
    document_id: 'chat-1',
    timestamp: '2026-05-01T10:00:00Z',
  });
  assert.equal(msgs.added.length, 2);

  const rec = await call(ALICE, 'POST', '/v1/banks/notes/recall', { query: 'what is my favourite colour?', limit: 3 });
  assert.equal(rec.status, 200, rec.text);
  assert.equal(rec.body.results[0].id, id);
  assert.ok(rec.body.results[0].signals);
  const filtered = await call(ALICE, 'POST', '/v1/banks/notes/recall', { query: 'colour', filter: { topic: 'taste' } });
  assert.deepEqual(filtered.body.results.map((m) => m.id), [id]);

  assert.deepEqual(await texts(ALICE, 'notes'), [
    'Congratulations on adopting Miso!',
    'I adopted a cat named Miso',
    'My favourite colour is deep ocean blue',
    'The quarterly budget meeting moved to Thursday',
  ]);
  const page = await call(ALICE, 'GET', '/v1/banks/notes/memories?limit=3');
  assert.equal(page.body.memories.length, 3);
  const rest = await call(ALICE, 'GET', `/v1/banks/notes/memories?limit=3&cursor=${encodeURIComponent(page.body.next_cursor)}`);
  assert.equal(rest.body.memories.length, 1);
  const byTopic = await call(ALICE, 'GET', `/v1/banks/notes/memories?filter=${encodeURIComponent('{"topic":"taste"}')}`);
  assert.deepEqual(byTopic.body.memories.map((m) => m.id), [id]);

  const got = await call(ALICE, 'GET', `/v1/banks/notes/memories/${id}`);
  assert.equal(got.status, 200);
  assert.equal(got.body.text, 'My favourite colour is deep ocean blue');
  assert.deepEqual(got.body.metadata, { topic: 'taste' });

  const upd = await call(ALICE, 'PATCH', `/v1/banks/notes/memories/${id}`, { text: 'My favourite colour is forest green' });
  assert.equal(upd.status, 200, upd.text);
  assert.equal((await call(ALICE, 'GET', `/v1/banks/notes/memories/${id}`)).body.text, 'My favourite colour is forest green');
  const hist = await call(ALICE, 'GET', `/v1/banks/notes/memories/${id}/history`);
  assert.deepEqual(hist.body.history.map((e) => e.event), ['ADD', 'UPDATE']);

  const budget = (await call(ALICE, 'GET', '/v1/banks/notes/memories')).body.memories.find((m) => /budget/.test(m.text));
  const del = await call(ALICE, 'DELETE', `/v1/banks/notes/memories/${budget.id}`);
  assert.equal(del.status, 200);
  const gone = await call(ALICE, 'GET', `/v1/banks/notes/memories/${budget.id}`);
  assert.equal(gone.status, 404);
  assert.equal(gone.body.error.code, 'MNEMO_ENOTFOUND');
  assert.deepEqual((await call(ALICE, 'GET', `/v1/banks/notes/memories/${budget.id}/history`)).body.history.map((e) => e.event), ['ADD', 'DELETE']);

  const exp = await call(ALICE, 'GET', '/v1/banks/notes/export');
  assert.equal(exp.status, 200);
  assert.match(exp.headers.get('content-type'), /application\/x-ndjson/);
  const lines = exp.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.filter((l) => l.type === 'memory').length, 3);
  assert.ok(lines.some((l) => l.type === 'history' && l.memory_id === id && l.event === 'UPDATE'));
  const imp = await call(ALICE, 'POST', '/v1/banks/copy/import', exp.text, { 'content-type': 'application/x-ndjson' });
  assert.equal(imp.status, 200, imp.text);
  assert.equal(imp.body.imported > 0, true);
  const exp2 = await call(ALICE, 'GET', '/v1/banks/copy/export');
  assert.equal(exp2.text, exp.text);

  const stats = await call(ALICE, 'GET', '/v1/banks/notes');
  assert.equal(stats.body.memories, 3);
});

test('a bank forgotten with DELETE /v1/banks/{bank} is empty, and its storage is gone', async () => {
  await retain(ALICE, 'scratch', { text: 'temporary thought about lanterns' });
  const before = storedObjects();
  const r = await call(ALICE, 'DELETE', '/v1/banks/scratch');
  assert.equal(r.status, 200);
  assert.deepEqual(await texts(ALICE, 'scratch'), []);
  const exp = await call(ALICE, 'GET', '/v1/banks/scratch/export');
  assert.ok(!exp.text.includes('lanterns'));
  // nothing of it is left on disk: its object's storage file was emptied or removed
  const after = storedObjects();
  assert.ok(after.length <= before.length);
});

test('auth: no token, an unknown token and malformed headers get 401 with a stable code', async () => {
  for (const [token, headers] of [
    [null, {}],
    ['tok-nobody-0000', {}],
    [null, { authorization: `Bearer ${ALICE.toUpperCase()}` }],
    [null, { authorization: `Bearer ${ALICE}x` }],
    [null, { authorization: `Bearer  ${ALICE}` }],
    [null, { authorization: `Basic ${ALICE}` }],
    ['constructor', {}],
    ['__proto__', {}],
    ['hasOwnProperty', {}],
    ['short', {}],
    ['tok-slash-00005', {}],
  ]) {
    const r = await call(token, 'GET', '/v1/banks/notes/memories', undefined, headers);
    assert.equal(r.status, 401, `${token} ${JSON.stringify(headers)}: ${r.text}`);
    assert.equal(r.body.error.code, 'EDGE_UNAUTHORIZED');
    assert.match(r.headers.get('www-authenticate'), /^Bearer/);
  }
  // the scheme's case does not matter (RFC 7235), the token's does
  assert.equal((await call(null, 'GET', '/v1/banks/notes', undefined, { authorization: `bearer ${ALICE}` })).status, 200);
  // an unknown route says nothing to a stranger either
  assert.equal((await call(null, 'GET', '/v2/whatever')).status, 401);
});

test('a read-only token reads but cannot write (403)', async () => {
  await retain(ALICE, 'shared', { text: 'The office wifi password changes monthly' });
  assert.deepEqual(await texts(ALICE_RO, 'shared'), ['The office wifi password changes monthly']);
  for (const [m, p, b] of [
    ['POST', '/v1/banks/shared/memories', { text: 'x' }],
    ['POST', '/v1/banks/shared/import', ''],
    ['DELETE', '/v1/banks/shared', undefined],
  ]) {
    const r = await call(ALICE_RO, m, p, b);
    assert.equal(r.status, 403, `${m} ${p}`);
    assert.equal(r.body.error.code, 'EDGE_FORBIDDEN');
  }
  assert.deepEqual(await texts(ALICE, 'shared'), ['The office wifi password changes monthly']);
});

test('isolation: another tenant cannot read, list, export or delete a bank by any path or token trick', async () => {
  const secret = await retain(ALICE, 'diary', { text: 'Alice secret: the treasure is under the old oak' });
  const sid = secret.added[0].id;
  // Bob's "diary" is his own, empty bank.
  assert.deepEqual(await texts(BOB, 'diary'), []);
  assert.equal((await call(BOB, 'GET', `/v1/banks/diary/memories/${sid}`)).status, 404);
  assert.equal((await call(BOB, 'GET', `/v1/banks/diary/memories/${sid}/history`)).status, 404);
  const rec = await call(BOB, 'POST', '/v1/banks/diary/recall', { query: 'treasure oak secret' });
  assert.deepEqual(rec.body.results, []);
  assert.ok(!(await call(BOB, 'GET', '/v1/banks/diary/export')).text.includes('treasure'));
  assert.equal((await call(BOB, 'DELETE', `/v1/banks/diary/memories/${sid}`)).status, 404);
  assert.equal((await call(BOB, 'DELETE', '/v1/banks/diary')).status, 200); // forgets Bob's diary only
  // A tenant whose id differs only in case is another tenant.
  assert.deepEqual(await texts(CASE_ALICE, 'diary'), []);

  // Path tricks, sent byte for byte: encoded separators and dots are not
  // names; a normalised ".." stays inside Bob's own banks.
  const tricks = [
    '/v1/banks/alice%2Fdiary/memories',
    '/v1/banks/alice%2fdiary/memories',
    '/v1/banks/..%2Falice%2Fdiary/memories',
    '/v1/banks/%2e%2e/memories',
    '/v1/banks/diary%00/memories',
    '/v1/banks/alice\\diary/memories',
    '/v1/banks/*/memories',
    '/v1/banks/../banks/diary/memories',
    '/v1/banks/diary/../../banks/diary/memories',
    '/v1/banks/%64iary/memories',
    '/v1/banks/.diary/memories',
    '/v1/banks/di..ary/memories',
    '/v1/banks/' + 'a'.repeat(65) + '/memories',
    '/v1/banks//memories',
    '/v1/banks/diary/memories/..%2F..%2Falice/history',
    `/v1/banks/diary/memories/${sid}%2Fhistory`,
  ];
  for (const p of tricks) {
    for (const method of ['GET', 'DELETE']) {
      const r = await raw(method, p, BOB);
      assert.ok(r.status >= 200 && r.status < 500, `${method} ${p}: ${r.status}`);
      assert.ok(!r.text.includes('treasure'), `${method} ${p} leaked: ${r.text}`);
      if (r.status >= 400) assert.equal(typeof r.body.error.code, 'string', `${p}: JSON error`);
    }
  }
  // Encoded separators, NUL and wildcards are refused as names; "%2e%2e"
  // and "\\" are turned into ".." and "/" by the URL parser, which leaves
  // no route at all.
  for (const [i, code] of [[0, 400], [1, 400], [2, 400], [3, 404], [4, 400], [5, 404], [6, 400]]) {
    const r = await raw('GET', tricks[i], BOB);
    assert.equal(r.status, code, `${tricks[i]}`);
    assert.equal(r.body.error.code, code === 400 ? 'EDGE_INVALID_NAME' : 'EDGE_NOT_FOUND');
  }
  // Alice's bank is untouched by all of it.
  assert.deepEqual(await texts(ALICE, 'diary'), ['Alice secret: the treasure is under the old oak']);
  assert.equal((await call(ALICE, 'GET', `/v1/banks/diary/memories/${sid}`)).status, 200);
});

test('errors: JSON bodies with stable codes; unknown routes 404, wrong methods 405', async () => {
  const cases = [
    ['GET', '/v1/nope', undefined, 404, 'EDGE_NOT_FOUND'],
    ['GET', '/v1/banks/notes/nothing', undefined, 404, 'EDGE_NOT_FOUND'],
    ['PUT', '/v1/banks/notes/memories', { text: 'x' }, 405, 'EDGE_METHOD_NOT_ALLOWED'],
    ['GET', '/v1/banks/notes/recall', undefined, 405, 'EDGE_METHOD_NOT_ALLOWED'],
    ['POST', '/v1/banks/notes/memories', { text: '' }, 400, 'MNEMO_EINVAL'],
    ['POST', '/v1/banks/notes/memories', [1, 2], 400, 'MNEMO_EINVAL'],
    ['POST', '/v1/banks/notes/recall', { query: 'x', filter: { topic: { near: 1 } } }, 400, 'MNEMO_EFILTER'],
    ['GET', '/v1/banks/notes/memories?limit=abc', undefined, 400, 'MNEMO_EINVAL'],
    ['GET', '/v1/banks/notes/memories?filter=%7B', undefined, 400, 'MNEMO_EJSON'],
    ['GET', '/v1/banks/notes/memories/00000000-0000-0000-0000-000000000000', undefined, 404, 'MNEMO_ENOTFOUND'],
    ['POST', '/v1/banks/notes/import', '{"type":"memory"}\nnot json\n', 400, null],
  ];
  for (const [m, p, b, status, code] of cases) {
    const r = await call(ALICE, m, p, b);
    assert.equal(r.status, status, `${m} ${p}: ${r.text}`);
    assert.equal(typeof r.body.error.message, 'string');
    if (code) assert.equal(r.body.error.code, code, `${m} ${p}`);
  }
  assert.match((await call(ALICE, 'PUT', '/v1/banks/notes/memories', {})).headers.get('allow'), /GET, POST/);
});

test('a malformed or oversized body never reaches storage', async () => {
  const before = storedObjects();
  const bad = [
    ['{"text": "unterminated', 400, 'MNEMO_EJSON'],
    ['not json at all', 400, 'MNEMO_EJSON'],
    ['"a string"', 400, 'MNEMO_EINVAL'],
    [JSON.stringify({ text: 'x'.repeat(MAX_BODY) }), 413, 'EDGE_TOO_LARGE'],
  ];
  for (const [body, status, code] of bad) {
    const r = await call(ALICE, 'POST', '/v1/banks/untouched/memories', body, { 'content-type': 'application/json' });
    assert.equal(r.status, status, r.text);
    assert.equal(r.body.error.code, code);
  }
  // Invalid UTF-8.
  const u = await fetch(w.url + '/v1/banks/untouched/memories', {
    method: 'POST',
    headers: { authorization: `Bearer ${ALICE}` },
    body: Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  });
  assert.equal(u.status, 400);
  assert.equal((await u.json()).error.code, 'MNEMO_EUTF8');
  // A streamed body with no Content-Length is counted as it arrives.
  const chunk = new TextEncoder().encode('x'.repeat(16 * 1024));
  let sent = 0;
  const stream = new ReadableStream({
    pull(c) {
      if (sent++ < 8) c.enqueue(chunk);
      else c.close();
    },
  });
  const s = await fetch(w.url + '/v1/banks/untouched/import', {
    method: 'POST',
    headers: { authorization: `Bearer ${ALICE}` },
    body: stream,
    duplex: 'half',
  });
  assert.ok(s.status === 400 || s.status === 200, 'an import under the import cap reaches the core');
  // Over the cap, streamed: the server answers 413 as soon as the cap is
  // passed and stops reading, so the client may see its upload cut short
  // after the answer; node:http lets us keep the answer.
  const bigStatus = await new Promise((resolve, reject) => {
    let status = null;
    const req = http.request({
      host: '127.0.0.1', port: w.port, method: 'POST', path: '/v1/banks/untouched2/memories',
      headers: { authorization: `Bearer ${ALICE}`, 'transfer-encoding': 'chunked' },
    }, (res) => {
      status = res.statusCode;
      res.resume();
      res.on('end', () => resolve(status));
    });
    req.on('error', (e) => (status !== null ? resolve(status) : reject(e)));
    let n = 0;
    const pump = () => {
      if (status !== null || n++ >= 20) return req.end();
      req.write(chunk, () => setTimeout(pump, 2));
    };
    pump();
  });
  assert.equal(bigStatus, 413);
  // No object for "untouched2" was ever created; "untouched" got at most the
  // import's (refused, so empty) call.
  const after = storedObjects();
  assert.ok(after.length <= before.length + 1, `${before.length} -> ${after.length} stored objects`);
  assert.deepEqual(await texts(ALICE, 'untouched2'), []);
});

test('concurrent writers to one bank lose nothing', async () => {
  const n = 40;
  const rs = await Promise.all(
    Array.from({ length: n }, (_, i) => call(ALICE, 'POST', '/v1/banks/busy/memories', { text: `parallel note number ${i} about kites` })),
  );
  for (const r of rs) assert.equal(r.status, 201, r.text);
  const got = await texts(ALICE, 'busy');
  assert.equal(got.length, n);
  assert.deepEqual(new Set(got), new Set(Array.from({ length: n }, (_, i) => `parallel note number ${i} about kites`)));
});

test('per-tenant rate limit: 429 with Retry-After for the noisy tenant only', async () => {
  const rs = await Promise.all(Array.from({ length: 450 }, () => call(CAROL, 'GET', '/v1/banks/x/memories')));
  const limited = rs.filter((r) => r.status === 429);
  assert.ok(limited.length > 0, 'some requests over the burst are refused');
  assert.equal(limited[0].body.error.code, 'EDGE_RATE_LIMITED');
  assert.ok(Number(limited[0].headers.get('retry-after')) >= 1);
  assert.ok(rs.filter((r) => r.status === 200).length >= 400, 'the burst itself is served');
  // Alice is not slowed down by Carol.
  assert.equal((await call(ALICE, 'GET', '/v1/banks/notes')).status, 200);
});

test('banks survive a workerd restart', async () => {
  const before = (await call(ALICE, 'GET', '/v1/banks/notes/export')).text;
  const diary = await texts(ALICE, 'diary');
  w = await w.restart();
  assert.equal((await call(ALICE, 'GET', '/v1/banks/notes/export')).text, before);
  assert.deepEqual(await texts(ALICE, 'diary'), diary);
  // and the bank goes on working after its cold start
  await retain(ALICE, 'notes', { text: 'Written after the restart' });
  const rec = await call(ALICE, 'POST', '/v1/banks/notes/recall', { query: 'written after the restart' });
  assert.equal(rec.body.results[0].text, 'Written after the restart');
});
