// Node file storage: the bank is a real file that survives the process,
// commits are atomic across a crash at any point, two processes writing the
// same bank lose nothing, and a failed save leaves the bank as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pkgUrl, tmpdir } from './helpers.mjs';

const { Mnemo, MnemoError } = await import(pkgUrl('src/index.node.js'));
const CHILD = path.join(path.dirname(new URL(import.meta.url).pathname), 'child.mjs');

function child(...args) {
  const r = spawnSync(process.execPath, [CHILD, ...args], { encoding: 'utf8', env: process.env });
  return { status: r.status, signal: r.signal, out: r.stdout ? JSON.parse(r.stdout || 'null') : null, err: r.stderr };
}

test('a bank written by one process is read by the next (the file is a SQLite database)', async () => {
  const file = path.join(tmpdir(), 'alice.mnemo');
  const w = child('retain', file, 'I prefer tea to coffee');
  assert.equal(w.status, 0, w.err);
  assert.equal(child('retain', file, 'My dog is called Rex').status, 0);
  assert.deepEqual(child('texts', file).out, ['My dog is called Rex', 'I prefer tea to coffee']);
  const head = fs.readFileSync(file).subarray(0, 16).toString('latin1');
  assert.equal(head, 'SQLite format 3\0');
  const bank = await Mnemo.open({ bank: 'alice', storage: file });
  assert.equal((await bank.recall('coffee')).results[0].text, 'I prefer tea to coffee');
  await bank.close();
  // Beside it: the version file, and the recall index snapshot when a
  // handle had its index ready before it closed (a cache).
  const files = fs.readdirSync(path.dirname(file)).filter((f) => f !== 'alice.mnemo-mnemo-index');
  assert.deepEqual(files.sort(), ['alice.mnemo', 'alice.mnemo-mnemo-version']);
});

test('a directory holds one file per bank; destroy removes a bank', async () => {
  const dir = tmpdir();
  const a = await Mnemo.open({ bank: 'ann', storage: dir });
  const b = await Mnemo.open({ bank: 'bob', storage: dir + '/' });
  await a.retain('ann only');
  await b.retain('bob only');
  assert.deepEqual((await b.list()).memories.map((m) => m.text), ['bob only']);
  await a.close();
  await b.close();
  assert.ok(fs.existsSync(path.join(dir, 'ann.mnemo')) && fs.existsSync(path.join(dir, 'bob.mnemo')));
  await Mnemo.destroy({ bank: 'ann', storage: dir });
  assert.ok(!fs.existsSync(path.join(dir, 'ann.mnemo')));
  const again = await Mnemo.open({ bank: 'ann', storage: dir });
  assert.equal((await again.stats()).memories, 0);
  await again.close();
});

for (const [crash, survives] of [['redo', false], ['after-redo', true], ['apply', true]]) {
  test(`a crash ${crash === 'redo' ? 'while writing the redo log' : crash === 'after-redo' ? 'right after the redo log' : 'while writing pages into the file'} leaves ${survives ? 'the new' : 'the old'} bank, never a mix`, async () => {
    const file = path.join(tmpdir(), 'crash.mnemo');
    assert.equal(child('retain-many', file, '20').status, 0);
    const before = child('texts', file).out;
    const c = child('retain', file, 'the crashing commit', crash);
    assert.equal(c.signal, 'SIGKILL', 'the child died mid-commit');
    assert.ok(fs.existsSync(`${file}-mnemo-redo`), 'the crash left a redo log behind');
    const after = child('texts', file).out;
    assert.deepEqual(after, survives ? ['the crashing commit', ...before] : before);
    assert.ok(!fs.existsSync(`${file}-mnemo-redo`), 'recovery removed the redo log');
    assert.ok(!fs.existsSync(`${file}-mnemo-lock`), 'the dead process\'s lock was taken over and released');
    // And the bank is whole: it takes new writes and a full export.
    assert.equal(child('retain', file, 'after recovery').status, 0);
    const bank = await Mnemo.open({ bank: 'x', storage: file });
    assert.equal((await bank.stats()).memories, after.length + 1);
    assert.ok((await bank.export()).length > 0);
    await bank.close();
  });
}

test('two processes writing the same bank at once lose no update', async () => {
  const file = path.join(tmpdir(), 'shared.mnemo');
  assert.equal(child('retain', file, 'seed').status, 0);
  const run = () => new Promise((resolve) => {
    const p = spawn(process.execPath, [CHILD, 'retain-many', file, '15'], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('exit', resolve);
  });
  const codes = await Promise.all([run(), run()]);
  assert.deepEqual(codes, [0, 0]);
  assert.equal(child('texts', file).out.length, 31);
});

test('a handle sees what another handle committed, before its next read', async () => {
  const file = path.join(tmpdir(), 'two.mnemo');
  const a = await Mnemo.open({ bank: 'a', storage: file });
  const b = await Mnemo.open({ bank: 'b', storage: file });
  await a.retain('written by a');
  assert.deepEqual((await b.list()).memories.map((m) => m.text), ['written by a']);
  await b.retain('written by b');
  assert.deepEqual((await a.list()).memories.map((m) => m.text), ['written by b', 'written by a']);
  await a.close();
  await b.close();
});

test('a failed save rejects with the store\'s code, and the bank is as it was before the call', async () => {
  let fail = false;
  const inner = (await import(pkgUrl('src/file.js'))).fileBackend(path.join(tmpdir(), 'flaky.mnemo'));
  const flaky = {
    kind: 'flaky',
    async open(bank, o) {
      const s = await inner.open(bank, o);
      const commit = s.commit.bind(s);
      s.commit = async (...a) => {
        if (fail) throw Object.assign(new Error('disk full (injected)'), { code: 'MNEMO_EFULL' });
        return commit(...a);
      };
      return s;
    },
  };
  const bank = await Mnemo.open({ bank: 'f', storage: flaky });
  await bank.retain('kept');
  fail = true;
  await assert.rejects(bank.retain('lost on purpose'), (e) => e instanceof MnemoError && e.code === 'MNEMO_EFULL' && /undone/.test(e.message));
  assert.deepEqual((await bank.list()).memories.map((m) => m.text), ['kept']);
  await assert.rejects(bank.deleteAll(), (e) => e.code === 'MNEMO_EFULL');
  assert.equal((await bank.stats()).memories, 1);
  fail = false;
  await bank.retain('works again');
  assert.equal((await bank.stats()).memories, 2);
  await bank.close();
});

test('a file that is not a bank is refused with MNEMO_ECORRUPT, and left alone', async () => {
  const file = path.join(tmpdir(), 'notes.txt');
  fs.writeFileSync(file, 'just some text, not a database\n'.repeat(100));
  const before = fs.readFileSync(file);
  await assert.rejects(Mnemo.open({ bank: 'n', storage: file }), (e) => e instanceof MnemoError && e.code === 'MNEMO_ECORRUPT');
  assert.deepEqual(fs.readFileSync(file), before);
});

test('a stored bank builds its recall index in idle steps after opening (warm), or leaves it to the first recall', async () => {
  const file = path.join(tmpdir(), 'warm.mnemo');
  // warm: false also keeps this handle from saving an index snapshot, so
  // the handle below has to build its index.
  const w = await Mnemo.open({ bank: 'warm', storage: file, seed: 5, warm: false });
  const items = [];
  for (let i = 0; i < 1500; i++) items.push({ text: `note ${i}: a ${['heron', 'kingfisher', 'cormorant'][i % 3]} by lake ${i % 41}` });
  await w.retain({ items });
  await w.close();
  const idle = () => new Promise((r) => setTimeout(r, 20));
  const cold = await Mnemo.open({ bank: 'warm', storage: file, warm: false });
  const warm = await Mnemo.open({ bank: 'warm', storage: file });
  // No recall is made: only the idle-time steps can build the index.
  let bytes = 0;
  for (let i = 0; i < 500 && !bytes; i++) {
    await idle();
    bytes = (await warm.stats()).index_bytes;
  }
  assert.ok(bytes > 0, 'the warm handle built (part of) its index while idle');
  await warm.warmed;
  const built = (await warm.stats()).index_bytes;
  await idle();
  assert.equal((await warm.stats()).index_bytes, built, 'warmed: complete, no step runs after it');
  // Calls made while it warms interleave with the steps and see the same bank.
  await warm.retain('a kingfisher at dawn, once more');
  await cold.retain('an egret, for the other handle');
  await idle();
  assert.equal((await cold.stats()).index_bytes, 0, 'warm: false leaves the index to the first recall');
  const q = 'kingfisher by lake 7';
  const a = (await warm.recall(q, { limit: 8 })).results.map((r) => r.text);
  await warm.close();
  const fresh = await Mnemo.open({ bank: 'warm', storage: file, warm: false });
  const b = (await fresh.recall(q, { limit: 8 })).results.map((r) => r.text);
  assert.equal(a.length, 8);
  assert.deepEqual(a, b);
  await fresh.close();
  await cold.close();
});

test('a stored bank reopens with its recall index from the snapshot beside it, brought up to date after other writers; a damaged one is rebuilt', async () => {
  const file = path.join(tmpdir(), 'snap.mnemo');
  const snap = `${file}-mnemo-index`;
  const items = [];
  for (let i = 0; i < 1500; i++) items.push({ text: `note ${i}: a ${['heron', 'kingfisher', 'cormorant'][i % 3]} by lake ${i % 41}` });
  const q = 'kingfisher by lake 7';
  const texts = async (m) => (await m.recall(q, { limit: 8 })).results.map((r) => r.text);

  const a = await Mnemo.open({ bank: 'snap', storage: file });
  await a.retain({ items });
  assert.equal(await a.warmed, 'built');
  const want = await texts(a);
  await a.close();   // it wrote since its snapshot: saves one
  assert.ok(fs.existsSync(snap), 'close saved the index snapshot');

  const b = await Mnemo.open({ bank: 'snap', storage: file });
  assert.equal(await b.warmed, 'snapshot');
  assert.deepEqual(await texts(b), want);
  await b.retain('a kingfisher by lake 7, seen again');
  await b.close();

  const c = await Mnemo.open({ bank: 'snap', storage: file });
  assert.equal(await c.warmed, 'snapshot', 'the snapshot saved at close includes the last write');
  assert.ok((await texts(c)).includes('a kingfisher by lake 7, seen again'));
  await c.close();

  // Another writer that keeps no snapshot: the one stored is now older
  // than the bank, and is brought up to date (the new memory, a deleted one).
  const d = await Mnemo.open({ bank: 'snap', storage: file, warm: false });
  await d.retain('a kingfisher by lake 7, third time');
  const gone = (await d.recall(q, { limit: 8 })).results.find((r) => r.text !== 'a kingfisher by lake 7, third time');
  await d.delete(gone.id);
  const fresh = await texts(d);   // built from the bank by this recall
  await d.close();
  const older = fs.readFileSync(snap);
  const e = await Mnemo.open({ bank: 'snap', storage: file });
  assert.equal(await e.warmed, 'snapshot');
  const now = await texts(e);
  assert.deepEqual(now, fresh);
  assert.ok(now.includes('a kingfisher by lake 7, third time') && !now.includes(gone.text));
  await e.close();   // waits for the snapshot it saved of this state
  assert.ok(!fs.readFileSync(snap).equals(older), 'the snapshot brought up to date was saved again');

  // A damaged snapshot is refused, and the index built from the bank.
  const bytes = fs.readFileSync(snap);
  bytes[bytes.length >> 1] ^= 0xff;
  fs.writeFileSync(snap, bytes);
  const f = await Mnemo.open({ bank: 'snap', storage: file });
  assert.equal(await f.warmed, 'built');
  assert.deepEqual(await texts(f), now);
  await f.close();

  await Mnemo.destroy({ bank: 'snap', storage: file });
  assert.ok(!fs.existsSync(snap), 'destroy removes the snapshot too');
});

test('the stored pages are lent to the core, not copied in: a bank holds them until it closes, and answers as before', async () => {
  const file = path.join(tmpdir(), 'lent.mnemo');
  const w = await Mnemo.open({ bank: 'lent', storage: file });
  await w.retain({ items: Array.from({ length: 600 }, (_, i) => ({ text: `entry ${i}: the ${i % 2 ? 'red' : 'blue'} kite number ${i * 13} flew over the harbour wall` })) }, { infer: false });
  await w.retain('My sister lives in Lisbon', { infer: false });
  const want = (await w.recall('where does my sister live?', { limit: 3 })).results.map((r) => r.text);
  await w.close();
  const core = w._core;
  assert.equal(core.lent.size, 0, 'a closed bank keeps no stored pages');
  const r = await Mnemo.open({ bank: 'lent', storage: file, warm: false });
  assert.equal(core.lent.size, 1, 'the open bank borrows its stored pages');
  assert.deepEqual((await r.recall('where does my sister live?', { limit: 3 })).results.map((x) => x.text), want);
  assert.equal((await r.stats()).memories, 601);
  await r.retain('I keep bees', { infer: false });
  await r.close();
  assert.equal(core.lent.size, 0);
  // A file that fails to open lets go of its pages too.
  const bad = path.join(tmpdir(), 'bad.mnemo');
  const junk = Buffer.alloc(8192, 7);
  junk.write('SQLite format 3\0', 0, 'latin1');
  junk.writeUInt16BE(4096, 16);
  fs.writeFileSync(bad, junk);
  await assert.rejects(Mnemo.open({ bank: 'bad', storage: bad }), (e) => e.code === 'MNEMO_ECORRUPT');
  assert.equal(core.lent.size, 0);
  const again = await Mnemo.open({ bank: 'lent', storage: file });
  assert.equal((await again.stats()).memories, 602);
  await again.close();
});
