// End-to-end tests of the `mnemo` command. Run with
//   MNEMO_BIN=build/test/mnemo node --test tests/cli.node.test.mjs
// Node 20, node:test only, no npm packages. Every test uses its own bank in a
// temporary directory, removed at the end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BIN = process.env.MNEMO_BIN;
if (!BIN) throw new Error('set MNEMO_BIN to the mnemo binary');

const dirs = [];
after(() => {
  for (const d of dirs) {
    try { fs.chmodSync(d, 0o755); } catch { /* already writable */ }
    fs.rmSync(d, { recursive: true, force: true });
  }
});

function tmp() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mnemo-cli-'));
  dirs.push(d);
  return d;
}

function newDb() {
  return path.join(tmp(), 'bank.db');
}

// Runs the binary; `input` (string or Buffer) goes to stdin.
function run(args, { input, env } = {}) {
  const r = spawnSync(BIN, args, {
    input,
    env: { ...process.env, ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  const stderr = r.stderr.toString('utf8');
  // ASan exits 1 on a leak, like an ordinary failure: look at what it says.
  assert.doesNotMatch(stderr, /Sanitizer|runtime error:/, `mnemo ${args.join(' ')}`);
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr };
}

// Runs a command on `db` that must succeed; returns its parsed stdout.
function ok(db, ...args) {
  const r = run(['--db', db, ...args]);
  assert.equal(r.status, 0, `mnemo ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// Runs a command that must fail with `status` and error `code`; returns the error.
function fails(db, status, code, ...args) {
  const r = run(['--db', db, ...args]);
  assert.equal(r.status, status, `expected exit ${status}, got ${r.status}: ${r.stdout}${r.stderr}`);
  assert.equal(r.stdout, '');
  const err = JSON.parse(r.stderr.split('\n')[0]);
  assert.equal(err.ok, false);
  assert.equal(err.error.code, code);
  assert.equal(typeof err.error.message, 'string');
  assert.ok(err.error.message.length > 0);
  return err.error;
}

function batch(db, lines) {
  const input = Buffer.isBuffer(lines) ? lines : lines.join('\n') + '\n';
  const r = run(['--db', db, 'batch'], { input });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

const retainText = (db, text, ...more) => ok(db, 'retain', '--text', text, '--no-infer', ...more);

test('--version and --help print to stdout and exit 0', () => {
  const v = run(['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^mnemo \d+\.\d+\.\d+\n$/);
  const h = run(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /^usage: mnemo/);
  assert.match(h.stdout, /recall --query Q/);
});

test('retain --text then recall finds it as the top result', () => {
  const db = newDb();
  const a = retainText(db, 'My favourite colour is deep ocean blue');
  retainText(db, 'The quarterly budget meeting moved to Thursday');
  retainText(db, 'Paris is the capital of France');
  assert.equal(a.mode, 'manual');
  assert.equal(a.added.length, 1);
  assert.equal(a.added[0].text, 'My favourite colour is deep ocean blue');
  const r = ok(db, 'recall', '--query', 'what is my favourite colour?');
  assert.ok(r.results.length >= 1);
  const top = r.results[0];
  assert.equal(top.id, a.added[0].id);
  assert.equal(top.text, 'My favourite colour is deep ocean blue');
  assert.equal(typeof top.score, 'number');
  assert.deepEqual(top.metadata, {});
  assert.match(top.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.ok('occurred_at' in top);
});

test('retain --messages stores one memory per message, source = role', () => {
  const db = newDb();
  const msgs = [
    { role: 'user', content: 'I adopted a cat named Miso last spring' },
    { role: 'assistant', content: 'Congratulations on adopting Miso!' },
    { role: 'user', content: 'She likes sleeping on my keyboard' },
  ];
  const r = ok(db, 'retain', '--messages', JSON.stringify(msgs), '--no-infer');
  assert.deepEqual(r.added.map((m) => m.text), msgs.map((m) => m.content));
  const list = ok(db, 'list');
  assert.equal(list.memories.length, 3);
  assert.deepEqual(list.memories.map((m) => m.text).sort(), msgs.map((m) => m.content).sort());
  const sources = r.added.map((m) => ok(db, 'get', m.id).source);
  assert.deepEqual(sources, ['user', 'assistant', 'user']);
});

test('--metadata is stored and --filter selects by it in recall and list', () => {
  const db = newDb();
  const food = retainText(db, 'Lunch was a spicy ramen bowl', '--metadata', '{"topic":"food","n":3}');
  retainText(db, 'Lunch meeting with the travel agent about ramen tours', '--metadata', '{"topic":"travel"}');
  const got = ok(db, 'get', food.added[0].id);
  assert.deepEqual(got.metadata, { topic: 'food', n: 3 });
  const r = ok(db, 'recall', '--query', 'ramen lunch', '--filter', '{"topic":"food"}');
  assert.deepEqual(r.results.map((x) => x.id), [food.added[0].id]);
  assert.deepEqual(r.results[0].metadata, { topic: 'food', n: 3 });
  const l = ok(db, 'list', '--filter', '{"n":{"gte":3}}');
  assert.deepEqual(l.memories.map((x) => x.id), [food.added[0].id]);
});

test('retaining a document id again replaces its old memories', () => {
  const db = newDb();
  const v1 = retainText(db, 'Draft: the launch is on Monday', '--document-id', 'plan');
  const v2 = retainText(db, 'Final: the launch is on Wednesday', '--document-id', 'plan');
  assert.deepEqual(v2.removed, [v1.added[0].id]);
  assert.equal(v2.unchanged, false);
  const l = ok(db, 'list');
  assert.deepEqual(l.memories.map((m) => m.text), ['Final: the launch is on Wednesday']);
  assert.equal(l.memories[0].document_id, 'plan');
  const again = retainText(db, 'Final: the launch is on Wednesday', '--document-id', 'plan');
  assert.equal(again.unchanged, true);
  assert.deepEqual(again.added, []);
  assert.equal(ok(db, 'list').memories.length, 1);
});

test('get, update and history: ADD then UPDATE with old and new text', () => {
  const db = newDb();
  const id = retainText(db, 'I live in Lisbon').added[0].id;
  assert.equal(ok(db, 'get', id).text, 'I live in Lisbon');
  const u = ok(db, 'update', id, '--text', 'I live in Porto', '--metadata', '{"moved":true}');
  assert.equal(typeof u, 'object');
  const g = ok(db, 'get', id);
  assert.equal(g.id, id);
  assert.equal(g.text, 'I live in Porto');
  assert.deepEqual(g.metadata, { moved: true });
  const h = ok(db, 'history', id).history;
  assert.deepEqual(h.map((e) => e.event), ['ADD', 'UPDATE']);
  assert.equal(h[1].old.text, 'I live in Lisbon');
  assert.equal(h[1].new.text, 'I live in Porto');
  // recall sees the new text, not the old one
  const r = ok(db, 'recall', '--query', 'Porto');
  assert.equal(r.results[0].id, id);
});

test('delete then get fails with MNEMO_ENOTFOUND and exit 1; history keeps DELETE', () => {
  const db = newDb();
  const id = retainText(db, 'Temporary note about the dentist').added[0].id;
  assert.deepEqual(ok(db, 'delete', id), { deleted: id });
  fails(db, 1, 'MNEMO_ENOTFOUND', 'get', id);
  fails(db, 1, 'MNEMO_ENOTFOUND', 'delete', id);
  assert.deepEqual(ok(db, 'history', id).history.map((e) => e.event), ['ADD', 'DELETE']);
  fails(db, 1, 'MNEMO_ENOTFOUND', 'history', 'no-such-id');
  fails(db, 1, 'MNEMO_ENOTFOUND', 'update', 'no-such-id', '--text', 'x');
});

test('delete-all then stats shows no memories', () => {
  const db = newDb();
  retainText(db, 'one fact');
  retainText(db, 'another fact');
  assert.equal(ok(db, 'stats').memories, 2);
  assert.deepEqual(ok(db, 'delete-all'), { deleted_all: true });
  const s = ok(db, 'stats');
  assert.equal(s.memories, 0);
  assert.equal(s.history, 0);
  assert.deepEqual(ok(db, 'list').memories, []);
  retainText(db, 'the bank is still usable');
  assert.equal(ok(db, 'stats').memories, 1);
});

test('export then import into a fresh bank gives an identical export', () => {
  const db = newDb();
  const id = retainText(db, 'Anna is allergic to peanuts', '--metadata', '{"person":"Anna"}',
    '--timestamp', '2023-05-20T02:21:00Z').added[0].id;
  retainText(db, 'The wifi password is on the fridge');
  ok(db, 'update', id, '--text', 'Anna is allergic to peanuts and shellfish');
  const e1 = run(['--db', db, 'export']);
  assert.equal(e1.status, 0, e1.stderr);
  const records = e1.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(records[0].type, 'bank');
  assert.deepEqual(records.filter((x) => x.type === 'memory').map((x) => x.text).sort(),
    ['Anna is allergic to peanuts and shellfish', 'The wifi password is on the fridge']);
  assert.deepEqual(records.filter((x) => x.type === 'history').map((x) => x.event).sort(),
    ['ADD', 'ADD', 'UPDATE']);
  const file = path.join(tmp(), 'dump.jsonl');
  fs.writeFileSync(file, e1.stdout);
  const db2 = newDb();
  assert.equal(ok(db2, 'import', file).imported, 2);
  const e2 = run(['--db', db2, 'export']);
  assert.equal(e2.status, 0, e2.stderr);
  assert.equal(e2.stdout, e1.stdout);
  assert.deepEqual(ok(db2, 'get', id), ok(db, 'get', id));
});

test('export FILE writes atomically; import - reads stdin', () => {
  const db = newDb();
  retainText(db, 'fact one');
  retainText(db, 'fact two');
  retainText(db, 'fact three');
  const dir = tmp();
  const file = path.join(dir, 'out.jsonl');
  const ex = run(['--db', db, 'export']).stdout;
  assert.deepEqual(ok(db, 'export', file), { file, lines: ex.split('\n').length - 1 });
  assert.deepEqual(fs.readdirSync(dir), ['out.jsonl']); // no .tmp left behind
  const content = fs.readFileSync(file, 'utf8');
  assert.equal(content, ex);
  const db2 = newDb();
  const r = run(['--db', db2, 'import', '-'], { input: content });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).imported, 3);
  // a bad line imports nothing
  const db3 = newDb();
  const bad = path.join(dir, 'bad.jsonl');
  fs.writeFileSync(bad, content + '{"not":"a memory"\n');
  fails(db3, 1, 'MNEMO_EJSON', 'import', bad);
  assert.equal(ok(db3, 'stats').memories, 0);
  // export into a directory that does not exist: error, nothing created
  fails(db, 1, 'MNEMO_EIO', 'export', path.join(dir, 'missing', 'x.jsonl'));
  fails(db, 1, 'MNEMO_EIO', 'import', path.join(dir, 'missing.jsonl'));
});

test('batch answers every line, in order, even around a malformed one', () => {
  const db = newDb();
  const out = batch(db, [
    '{"op":"retain","text":"Batch fact about kayaks","infer":false}',
    '{"op":"retain","text": oops',
    '',
    '{"op":"frobnicate"}',
    '[1,2]',
    '{"op":"get"}',
    '{"op":"stats"}',
  ]);
  assert.equal(out.length, 6);
  assert.equal(out[0].ok, true);
  assert.equal(out[0].result.added[0].text, 'Batch fact about kayaks');
  assert.deepEqual(out.slice(1, 5).map((o) => [o.ok, o.error.code]), [
    [false, 'MNEMO_EJSON'], [false, 'MNEMO_EINVAL'], [false, 'MNEMO_EINVAL'], [false, 'MNEMO_EINVAL'],
  ]);
  assert.equal(out[5].ok, true);
  assert.equal(out[5].result.memories, 1);
});

test('batch accepts CRLF, blank lines and a last line without newline', () => {
  const db = newDb();
  const out = batch(db, Buffer.from(
    '{"op":"retain","text":"windows line"}\r\n  \r\n\t\n{"op":"list"}\r\n{"op":"stats"}'));
  assert.equal(out.length, 3);
  assert.equal(out[1].result.memories[0].text, 'windows line');
  assert.equal(out[2].result.memories, 1);
  assert.deepEqual(batch(db, Buffer.alloc(0)), []);
});

test('batch runs every op on one bank', () => {
  const db = newDb();
  const first = batch(db, [
    '{"op":"retain","text":"The red bicycle is in the garage","metadata":{"k":1},"infer":false}',
    '{"op":"retain","messages":[{"role":"user","content":"I bought new running shoes"}]}',
  ]);
  assert.equal(first[0].result.mode, 'manual');
  assert.equal(first[1].result.mode, 'manual'); // the core's default: no inference
  const a = first[0].result.added[0].id;
  const b = first[1].result.added[0].id;
  const out = batch(db, [
    JSON.stringify({ op: 'get', id: a }),
    JSON.stringify({ op: 'update', id: a, patch: { text: 'The red bicycle is in the shed' } }),
    JSON.stringify({ op: 'update', id: b, metadata: { brand: 'x' } }),
    JSON.stringify({ op: 'history', id: a }),
    JSON.stringify({ op: 'recall', query: 'where is the bicycle', limit: 1 }),
    JSON.stringify({ op: 'list', limit: 10 }),
    JSON.stringify({ op: 'stats' }),
    JSON.stringify({ op: 'delete', id: b }),
    JSON.stringify({ op: 'get', id: b }),
    JSON.stringify({ op: 'delete_all' }),
    JSON.stringify({ op: 'stats' }),
  ]);
  assert.equal(out.length, 11);
  assert.equal(out[0].result.text, 'The red bicycle is in the garage');
  assert.deepEqual(out[0].result.metadata, { k: 1 });
  assert.equal(out[1].ok, true);
  assert.equal(out[2].ok, true);
  assert.deepEqual(out[3].result.history.map((e) => e.event), ['ADD', 'UPDATE']);
  assert.equal(out[4].result.results.length, 1);
  assert.equal(out[4].result.results[0].text, 'The red bicycle is in the shed');
  assert.equal(out[5].result.memories.length, 2);
  assert.deepEqual(out[5].result.memories.find((m) => m.id === b).metadata, { brand: 'x' });
  assert.equal(out[6].result.memories, 2);
  assert.deepEqual(out[7].result, { deleted: b });
  assert.equal(out[8].error.code, 'MNEMO_ENOTFOUND');
  assert.deepEqual(out[9].result, { deleted_all: true });
  assert.equal(out[10].result.memories, 0);
});

test('retain without --no-infer and no model: the turn is kept, heuristic facts, queued', () => {
  const db = newDb();
  const r = ok(db, 'retain', '--text', 'I prefer tea over coffee');
  assert.equal(r.mode, 'heuristic');
  assert.equal(r.pending, true);
  assert.ok(r.added.some((m) => m.text === 'I prefer tea over coffee'), JSON.stringify(r.added));
  assert.equal(ok(db, 'stats').pending, 1);
  const n = ok(db, 'retain', '--text', 'I prefer window seats', '--no-infer');
  assert.equal(n.mode, 'manual');
  assert.deepEqual(n.added.map((m) => m.text), ['I prefer window seats']);
  assert.equal(ok(db, 'stats').pending, 1);
});

test('malformed JSON in --metadata: MNEMO_EJSON, exit 1, nothing stored', () => {
  const db = newDb();
  const e = fails(db, 1, 'MNEMO_EJSON', 'retain', '--text', 'x', '--metadata', '{"a":');
  assert.match(e.message, /--metadata/);
  // one value only: no smuggling of sibling keys
  fails(db, 1, 'MNEMO_EJSON', 'retain', '--text', 'x', '--metadata', '{}, "document_id": "y"');
  fails(db, 1, 'MNEMO_EJSON', 'recall', '--query', 'x', '--filter', '{topic: food}');
  assert.equal(ok(db, 'stats').memories, 0);
});

test('invalid UTF-8 text is refused with MNEMO_EUTF8', () => {
  const db = newDb();
  const line = Buffer.concat([
    Buffer.from('{"op":"retain","text":"bad '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}\n'),
    Buffer.from('{"op":"stats"}\n'),
  ]);
  const out = batch(db, line);
  assert.equal(out.length, 2);
  assert.equal(out[0].ok, false);
  assert.equal(out[0].error.code, 'MNEMO_EUTF8');
  assert.equal(out[1].result.memories, 0);
});

test('empty text is refused with MNEMO_EINVAL', () => {
  const db = newDb();
  fails(db, 1, 'MNEMO_EINVAL', 'retain', '--text', '', '--no-infer');
  assert.equal(ok(db, 'stats').memories, 0);
});

test('oversized inputs: MNEMO_ETOOBIG, and the batch goes on', () => {
  const db = newDb();
  const huge = JSON.stringify({ op: 'retain', text: 'a'.repeat(11 * 1024 * 1024) });
  const big = JSON.stringify({ op: 'retain', text: 'word '.repeat(420 * 1024) }); // 2.1 MB text
  const out = batch(db, [huge, big, '{"op":"retain","text":"small one"}', '{"op":"stats"}']);
  assert.equal(out.length, 4);
  assert.equal(out[0].error.code, 'MNEMO_ETOOBIG');
  assert.equal(out[1].error.code, 'MNEMO_ETOOBIG');
  assert.equal(out[2].ok, true);
  assert.equal(out[3].result.memories, 1);
});

test('usage errors exit 2 with usage on stderr', () => {
  const db = newDb();
  for (const args of [
    ['frobnicate'],
    ['recall'],
    ['recall', '--query', 'x', '--limit', 'ten'],
    ['retain', '--text', 'x', '--messages', '[]'],
    ['retain', '--bogus', 'x'],
    ['get'],
    ['get', 'a', 'b'],
  ]) {
    const r = run(['--db', db, ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(JSON.parse(r.stderr.split('\n')[0]).error.code, 'MNEMO_EINVAL');
    assert.match(r.stderr, /usage: mnemo/);
  }
  assert.equal(fs.existsSync(db), false); // a usage error creates no bank
  const g = run(['--frob', 'stats']);
  assert.equal(g.status, 2);
  assert.match(g.stderr, /unknown option '--frob'/);
  const nodb = run(['stats'], { env: { MNEMO_DB: '' } });
  assert.equal(nodb.status, 2);
  assert.match(nodb.stderr, /--db/);
});

test('a corrupt bank file: MNEMO_ECORRUPT, exit 1, file unchanged', () => {
  const db = newDb();
  const junk = crypto.randomBytes(16384);
  fs.writeFileSync(db, junk);
  fails(db, 1, 'MNEMO_ECORRUPT', 'stats');
  fails(db, 1, 'MNEMO_ECORRUPT', 'retain', '--text', 'x', '--no-infer');
  const b = run(['--db', db, 'batch'], { input: '{"op":"stats"}\n' });
  assert.equal(b.status, 1);
  assert.equal(b.stdout, '');
  assert.equal(JSON.parse(b.stderr).error.code, 'MNEMO_ECORRUPT');
  assert.ok(fs.readFileSync(db).equals(junk));
  assert.deepEqual(fs.readdirSync(path.dirname(db)), ['bank.db']);
});

test('a bank that cannot be created: clear error naming the path, exit 1', () => {
  const dir = tmp();
  const file = path.join(dir, 'plain-file');
  fs.writeFileSync(file, 'x');
  const under = path.join(file, 'bank.db'); // a path under a regular file
  const r = run(['--db', under, 'stats']);
  assert.equal(r.status, 1);
  const e = JSON.parse(r.stderr).error;
  assert.ok(['MNEMO_EIO', 'MNEMO_EREADONLY'].includes(e.code), e.code);
  assert.ok(e.message.includes(under), e.message);
});

test('a read-only directory: clear error, exit 1', { skip: process.getuid?.() === 0 && 'root ignores permissions' }, () => {
  const dir = tmp();
  fs.chmodSync(dir, 0o555);
  const db = path.join(dir, 'bank.db');
  const r = run(['--db', db, 'retain', '--text', 'x', '--no-infer']);
  assert.equal(r.status, 1);
  const e = JSON.parse(r.stderr).error;
  assert.ok(['MNEMO_EIO', 'MNEMO_EREADONLY'].includes(e.code), e.code);
  assert.ok(e.message.includes(db), e.message);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('recall --limit and --max-tokens are honoured', () => {
  const db = newDb();
  for (let i = 0; i < 6; i++) retainText(db, `Note ${i} about the garden tomatoes`);
  assert.equal(ok(db, 'recall', '--query', 'garden tomatoes').results.length, 6);
  assert.equal(ok(db, 'recall', '--query', 'garden tomatoes', '--limit', '2').results.length, 2);
  const t = ok(db, 'recall', '--query', 'garden tomatoes', '--max-tokens', '12');
  assert.ok(t.results.length >= 1 && t.results.length < 6, JSON.stringify(t));
  assert.ok(t.tokens <= 12);
});

test('recall --now decides what "yesterday" means', () => {
  const db = newDb();
  const may = retainText(db, 'I went hiking in the mountains', '--timestamp', '2023-05-19T10:00:00Z').added[0].id;
  const june = retainText(db, 'I went hiking by the lake', '--timestamp', '2023-06-10T10:00:00Z').added[0].id;
  const q = 'where did I go hiking yesterday?';
  assert.equal(ok(db, 'recall', '--query', q, '--now', '2023-05-20T12:00:00Z').results[0].id, may);
  assert.equal(ok(db, 'recall', '--query', q, '--now', '2023-06-11T12:00:00Z').results[0].id, june);
  // epoch milliseconds work too
  assert.equal(ok(db, 'recall', '--query', q, '--now', String(Date.UTC(2023, 5, 11, 12))).results[0].id, june);
  fails(db, 1, 'MNEMO_EINVAL', 'recall', '--query', q, '--now', 'next Tuesday-ish');
});

test('an unknown filter operator is MNEMO_EFILTER', () => {
  const db = newDb();
  retainText(db, 'something to search');
  const e = fails(db, 1, 'MNEMO_EFILTER', 'recall', '--query', 'something', '--filter', '{"topic":{"regex":"a.*"}}');
  assert.match(e.message, /regex/);
  fails(db, 1, 'MNEMO_EFILTER', 'list', '--filter', '{"topic":{"regex":"a.*"}}');
});

test('--seed gives the same ids on two fresh banks', () => {
  const ids = () => {
    const db = newDb();
    const r = run(['--db', db, '--seed', '42', 'retain', '--text', 'deterministic', '--no-infer']);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).added[0].id;
  };
  assert.equal(ids(), ids());
  const a = retainText(newDb(), 'random').added[0].id;
  const b = retainText(newDb(), 'random').added[0].id;
  assert.notEqual(a, b);
  assert.equal(run(['--db', newDb(), '--seed', 'x', 'stats']).status, 2);
});

test('MNEMO_DB, --pretty, list paging and host options', () => {
  const db = newDb();
  for (let i = 0; i < 5; i++) retainText(db, `paged memory ${i}`);
  const s = run(['stats'], { env: { MNEMO_DB: db } });
  assert.equal(s.status, 0, s.stderr);
  assert.equal(JSON.parse(s.stdout).memories, 5);
  const p = run(['--db', db, '--pretty', 'stats']);
  assert.ok(p.stdout.split('\n').length > 3);
  assert.deepEqual(JSON.parse(p.stdout), JSON.parse(s.stdout));
  const p1 = ok(db, 'list', '--limit', '3');
  assert.equal(p1.memories.length, 3);
  assert.equal(typeof p1.next_cursor, 'string');
  const p2 = ok(db, 'list', '--limit', '3', '--cursor', p1.next_cursor);
  assert.equal(p2.memories.length, 2);
  assert.equal(p2.next_cursor, null);
  const all = [...p1.memories, ...p2.memories].map((m) => m.text);
  assert.deepEqual(all.sort(), [0, 1, 2, 3, 4].map((i) => `paged memory ${i}`));
  // Host options: the WASI build has no HTTP client and says so; the native
  // one opens the bank with the host embedder (tests/cli-llm.node.test.mjs
  // covers its requests).
  const h = run(['--db', db, '--embed-url', 'http://127.0.0.1:1/v1', '--embed-model', 'e',
    '--embed-dim', '8', 'stats']);
  assert.equal(h.status, 0, h.stderr);
  assert.equal(JSON.parse(h.stdout).memories, 5);
  if (process.env.MNEMO_WASM) {
    assert.match(h.stderr, /warning: .*not available in this build/);
  } else {
    assert.equal(h.stderr, '');
    assert.deepEqual(JSON.parse(h.stdout).embedder, { model: 'e', dim: 8, builtin: false });
  }
});

test('reindex on an up-to-date bank succeeds and re-embeds nothing', () => {
  const db = newDb();
  retainText(db, 'already embedded by the built-in model');
  const r = ok(db, 'reindex');
  assert.equal(r.reindexed, 0);
  const out = batch(db, ['{"op":"reindex"}']);
  assert.equal(out[0].ok, true, JSON.stringify(out[0]));
  assert.equal(out[0].result.reindexed, 0);
});
