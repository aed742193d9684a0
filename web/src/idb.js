/*
 * idb.js: the IndexedDB page store of a browser bank.
 *
 * A page bank (mnemo.h, PAGE BANKS) lives in wasm memory as SQLite pages;
 * this file keeps those pages durable in IndexedDB, one database per bank:
 *
 *   IndexedDB "mnemo-bank:<bank>"  version 3
 *     base    key: chunk index (0, 1, ...)
 *             value: Blob of up to BASE_BYTES of consecutive pages (chunk c
 *             starts at page c * chunkPages + 1)
 *     delta   key: the version of the commit that wrote it
 *             value: {pages: Uint32Array of page numbers, data: those pages
 *             in the same order, a Uint8Array (a Blob past 64 KB)}
 *     meta    key: "state"   value: {version, pageCount, pageSize,
 *                                    chunkPages, deltaBytes, deltaCount,
 *                                    touched (base chunks the deltas change)}
 *     index   key: "state"   value: {data: Blob}, the recall index snapshot
 *                                    (mnemo_index_save) bank.js keeps; not
 *                                    part of a commit (version 3 added it)
 *
 * Why this shape (measured in headless Chromium, a 10k-memory bank of 16 MB
 * read cold after a browser restart, median of repeated runs on a busy
 * machine): Chromium stores a Blob value as a raw file and reads it back at
 * memory speed, one 16 MB Blob in 22 ms, while Uint8Array values are
 * compressed and decoded one record at a time: 111 ms for the same pages as
 * 63 records of 256 KB (the layout of version 1), 70-100 ms even as one
 * record. So the bank is a few big Blobs (the base) plus the pages changed
 * since, as small delta records (a commit writes only its own pages).
 * When the deltas pass COMPACT_BYTES or COMPACT_COUNT, the commit that
 * would pass them instead rewrites the base chunks the deltas touched (from
 * the pages in wasm memory, which are what is being committed) and clears
 * the deltas: opening reads at most that much beside the base, and a commit
 * costs its own pages, plus now and then a rewrite of the chunks changed.
 *
 * - A commit is ONE readwrite transaction over all three stores. IndexedDB
 *   transactions are atomic, so a crash, a quota error or an abort leaves
 *   the previous commit whole. The promise resolves on the transaction's
 *   `complete` event, with durability "strict" where the browser supports it
 *   (Chromium otherwise reports completion before the data is flushed), so a
 *   resolved write survives a browser crash.
 * - Opening reads the three stores in one readonly transaction (getAll), the
 *   Blobs' bytes after it, and applies the deltas in commit order over the
 *   base; every read after that comes from memory. Where the module can
 *   wait for a page (JSPI, binding.js), the base Blobs are lent unread
 *   instead: SQLite's first reads fetch 64 KB windows of them, and the rest
 *   is read whole right after the open.
 * - `version` counts commits. Each commit checks, inside its own transaction,
 *   that the stored version is the one this tab loaded, and writes version + 1.
 *   So a write based on stale pages can never land (no lost update), whatever
 *   the tabs do. Tabs serialise their writes with a Web Lock per bank and tell
 *   each other about commits over a BroadcastChannel, so a tab can notice
 *   before a read or a write that it must reload (storedVersion() is the
 *   authoritative check; `stale` is the cheap hint).
 * - A version 1 database (pages as 256 KB Uint8Array chunks) is converted in
 *   its upgrade transaction: its chunks become the base, unchanged. Version
 *   2 only gains the empty index store.
 *
 * Errors carry stable codes like the core's: MNEMO_EFULL (quota), MNEMO_EBUSY
 * (another tab committed first), MNEMO_EIO (any other IndexedDB failure),
 * MNEMO_EINVAL (a bad bank name), MNEMO_ECORRUPT (stored pages that do not
 * add up). After a failed commit nothing of it is stored; the caller closes
 * its bank and opens it again from the store.
 */

import { MnemoError } from './errors.js';
import { validateBankName } from './storage.js';

const DB_PREFIX = 'mnemo-bank:';
const DB_VERSION = 3;
const LOCK_PREFIX = 'mnemo-bank-lock:';
const CHANNEL_PREFIX = 'mnemo-bank:';
const BASE = 'base';
const DELTA = 'delta';
const META = 'meta';
const INDEX = 'index';   // the recall index snapshot (version 3)
const PAGES_V1 = 'pages';
const STATE = 'state';
/* A base chunk's size: one Blob per 16 MB (each extra Blob costs a few ms
 * to open; a compaction rewrites whole chunks). */
const BASE_BYTES = 16 * 1024 * 1024;
/* Deltas kept before a commit compacts them into the base: small Uint8Array
 * records read at 6-20 ms per MB, so 1 MB of them costs at most a little
 * more than the base itself. */
const COMPACT_BYTES = 1024 * 1024;
const COMPACT_COUNT = 64;
const DELTA_BLOB_BYTES = 64 * 1024;

function pagesPerChunk(pageSize, baseBytes = BASE_BYTES) {
  return Math.max(1, Math.floor(baseBytes / pageSize));
}

const emptyState = () => ({ version: 0, pageCount: 0, pageSize: 0, chunkPages: 0, deltaBytes: 0, deltaCount: 0, touched: [] });

/* The bank's store for bank.js: see the interface in storage.js. */
export const indexeddbBackend = Object.freeze({
  kind: 'indexeddb',
  open: (bank, options) => openIdbStore(bank, options),
  destroy: (bank) => deleteIdbBank(bank),
});

function idbFactory() {
  if (typeof indexedDB === 'undefined')
    throw new MnemoError('MNEMO_EIO', 'IndexedDB is not available in this environment (storage "indexeddb" needs a browser or a worker)');
  return indexedDB;
}

/* An IndexedDB failure as a coded error; `what` says which operation. */
function storeError(what, bank, err) {
  const name = err && err.name;
  if (name === 'QuotaExceededError')
    return new MnemoError('MNEMO_EFULL', `${what} of bank "${bank}" failed: the browser's storage quota is exhausted (QuotaExceededError); nothing of it was stored`, { cause: err });
  if (err instanceof MnemoError) return err;
  return new MnemoError('MNEMO_EIO', `${what} of bank "${bank}" failed: ${name || 'IndexedDB error'}${err && err.message ? ': ' + err.message : ''}; nothing of it was stored`, { cause: err });
}

function openDatabase(bank) {
  return new Promise((resolve, reject) => {
    let req;
    try {
      req = idbFactory().open(DB_PREFIX + bank, DB_VERSION);
    } catch (e) {
      reject(storeError('opening', bank, e));
      return;
    }
    req.onupgradeneeded = (ev) => {
      const db = req.result;
      if (!db.objectStoreNames.contains(BASE)) db.createObjectStore(BASE);
      if (!db.objectStoreNames.contains(DELTA)) db.createObjectStore(DELTA);
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
      if (!db.objectStoreNames.contains(INDEX)) db.createObjectStore(INDEX);
      if (ev.oldVersion === 1 && db.objectStoreNames.contains(PAGES_V1)) upgradeFromV1(db, req.transaction);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(storeError('opening', bank, req.error));
    req.onblocked = () => reject(new MnemoError('MNEMO_EBUSY', `opening bank "${bank}": its IndexedDB database is being upgraded or deleted by another tab`));
  });
}

/* Version 1 kept pages as Uint8Array chunks keyed by their first page; in the
 * upgrade transaction they become base chunks (Blobs of the same bytes), the
 * state gains the delta counters, and the old store goes. A failure aborts
 * the upgrade, which leaves version 1 as it was. */
function upgradeFromV1(db, tx) {
  const old = tx.objectStore(PAGES_V1), meta = tx.objectStore(META), base = tx.objectStore(BASE);
  const st = meta.get(STATE), keys = old.getAllKeys(), vals = old.getAll();
  vals.onsuccess = () => {
    const state = { ...emptyState(), ...(st.result || {}) };
    if (state.pageSize) {
      const ppc = pagesPerChunk(state.pageSize), parts = new Map();
      state.chunkPages = ppc;
      keys.result.forEach((first, i) => {
        const c = Math.floor((first - 1) / ppc);
        if (!parts.has(c)) parts.set(c, []);
        parts.get(c).push(vals.result[i]);
      });
      for (const [c, list] of parts) base.put(new Blob(list), c);
    }
    meta.put(state, STATE);
    db.deleteObjectStore(PAGES_V1);
  };
}

function asError(e, bank) {
  return e instanceof MnemoError ? e : storeError('committing', bank, e);
}

/* Resolves with the request's result once the transaction has completed. */
function txDone(tx, what, bank) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx._mnemoError || storeError(what, bank, tx.error || new DOMException('transaction aborted', 'AbortError')));
    tx.onerror = (ev) => {
      // Keep the first error; `abort` follows and settles the promise.
      if (!tx._mnemoError) tx._mnemoError = storeError(what, bank, ev.target.error);
    };
  });
}

/* An in-tab queue, for hosts without Web Locks (a lock is still needed
 * between the calls of one tab: commits must not interleave). */
const localQueues = new Map();
function localLock(name, fn) {
  const prev = localQueues.get(name) || Promise.resolve();
  const run = prev.then(() => fn());
  const tail = run.catch(() => {});
  localQueues.set(name, tail);
  tail.then(() => { if (localQueues.get(name) === tail) localQueues.delete(name); });
  return run;
}

export class IdbPageStore {
  /* Use openIdbStore(). */
  constructor(bank, db, options) {
    this.bank = bank;
    this.version = 0;     // commits stored, as last loaded or written by this tab
    this.pageSize = 0;
    this.pageCount = 0;
    this._db = db;
    this._closed = false;
    this._deleted = false;
    this._heard = 0;      // the highest version other tabs announced
    this._durability = options.durability || 'strict';
    this._hooks = options.testHooks || null;
    this._compactBytes = options.compactBytes || COMPACT_BYTES;
    this._compactCount = options.compactCount || COMPACT_COUNT;
    this._baseBytes = options.baseBytes || BASE_BYTES;
    this._state = null;   // the stored state as last loaded or committed
    this._channel = null;
    db.onversionchange = () => {
      // Another tab deletes the bank: let it, and refuse further commits.
      db.close();
      this._closed = true;
      this._deleted = true;
    };
    if (typeof BroadcastChannel !== 'undefined') {
      this._channel = new BroadcastChannel(CHANNEL_PREFIX + bank);
      this._channel.onmessage = (ev) => {
        const v = ev.data && ev.data.version;
        if (typeof v === 'number' && v > this._heard) this._heard = v;
      };
    }
  }

  /* True once another tab has announced a commit this tab has not loaded.
   * A hint, free to read before every call; storedVersion() is the truth.
   * Versions only grow, so an announcement that arrives while a load reads
   * (the commit may or may not be in what it read) is judged against the
   * version the load ends with: none is lost, and none counts twice. */
  get stale() {
    return this._deleted || this._heard > this.version;
  }

  /* The version stored now (one small read). */
  async storedVersion() {
    this._checkOpen('reading the version');
    const tx = this._db.transaction(META, 'readonly');
    const req = tx.objectStore(META).get(STATE);
    await txDone(tx, 'reading the version', this.bank);
    return req.result ? req.result.version : 0;
  }

  /* Reads every stored page in one transaction. Returns {version, pageSize,
   * pageCount, pages: [[pgno, Uint8Array], ...]}: the base chunks, then the
   * deltas' pages in commit order (a later entry overwrites an earlier one);
   * the arrays are the caller's (hand them to mnemo_pages_load in order).
   * With {lazy: true} a base chunk comes as its Blob, unread: the caller
   * reads what it needs (a Blob from IndexedDB stays readable, as it was,
   * after a later commit replaces or deletes its record). */
  async load({ lazy = false } = {}) {
    this._checkOpen('loading');
    const tx = this._db.transaction([BASE, DELTA, META], 'readonly');
    const st = tx.objectStore(META).get(STATE);
    const baseKeys = tx.objectStore(BASE).getAllKeys();
    const bases = tx.objectStore(BASE).getAll();
    const deltas = tx.objectStore(DELTA).getAll();
    await txDone(tx, 'loading', this.bank);
    const state = { ...emptyState(), ...(st.result || {}) };
    const corrupt = (why) => new MnemoError('MNEMO_ECORRUPT', `bank "${this.bank}" in IndexedDB: ${why}`);
    let buffers, deltaData;
    try {
      [buffers, deltaData] = await Promise.all([
        lazy ? bases.result : Promise.all(bases.result.map((b) => b.arrayBuffer())),
        Promise.all(deltas.result.map((d) => (d.data instanceof Blob ? d.data.arrayBuffer().then((b) => new Uint8Array(b)) : d.data))),
      ]);
    } catch (e) {
      throw storeError('loading', this.bank, e);
    }
    const { pageSize, pageCount } = state;
    const pages = [];
    let covered = 0;  // pages 1..covered are in the base
    if (pageCount) {
      const ppc = state.chunkPages || pagesPerChunk(pageSize, this._baseBytes);
      buffers.forEach((buf, i) => {
        const first = baseKeys.result[i] * ppc + 1, size = lazy ? buf.size : buf.byteLength;
        if (first > pageCount) return;   // past a shrink not compacted yet
        if (first !== covered + 1 || size % pageSize) throw corrupt(`base chunk ${baseKeys.result[i]} does not follow page ${covered}`);
        const n = Math.min(size / pageSize, pageCount - first + 1);
        if (n > 0) pages.push([first, lazy ? (n * pageSize === size ? buf : buf.slice(0, n * pageSize)) : new Uint8Array(buf, 0, n * pageSize)]);
        covered = first - 1 + Math.max(n, 0);
      });
      // Every page past the base must come from some delta.
      const seen = new Uint8Array(Math.max(0, pageCount - covered));
      deltas.result.forEach((d, k) => {
        for (let i = 0; i < d.pages.length; i++) {
          const pgno = d.pages[i];
          if (pgno > pageCount) continue;   // cut off by a later shrink
          pages.push([pgno, deltaData[k].subarray(i * pageSize, (i + 1) * pageSize)]);
          if (pgno > covered) seen[pgno - covered - 1] = 1;
        }
      });
      const gap = seen.indexOf(0);
      if (gap >= 0) throw corrupt(`page ${covered + gap + 1} of ${pageCount} is missing`);
    }
    this.version = state.version;
    this.pageSize = pageSize;
    this.pageCount = pageCount;
    this._state = state;
    return { version: state.version, pageSize, pageCount, pages };
  }

  /*
   * Stores one commit atomically: `pages` is an iterable of [pgno, bytes]
   * (copied before this returns, so wasm memory may change right after),
   * `pageCount` the bank's size in pages after the commit (stored pages above
   * it are dropped), `pageSize` its page size, `readPage(pgno)` the bank's
   * page as it is with this commit (bytes valid during the call): a commit
   * that compacts reads its base chunks through it, now. Without readPage
   * a commit never compacts. Resolves once the IndexedDB transaction has
   * completed (durably with durability "strict"); rejects with MNEMO_EBUSY if
   * another tab committed since this tab loaded, MNEMO_EFULL on quota,
   * MNEMO_EIO otherwise, and then nothing was stored.
   */
  commit(pages, pageCount, pageSize, readPage) {
    try {
      this._checkOpen('committing');
    } catch (e) {
      return Promise.reject(e);
    }
    const resize = this.pageCount > 0 && pageSize !== this.pageSize;
    const prev = this._state || emptyState();
    const ppc = (!resize && prev.chunkPages) || pagesPerChunk(pageSize, this._baseBytes);
    const list = [];
    for (const [pgno, bytes] of pages) {
      if (!Number.isInteger(pgno) || pgno < 1 || pgno > pageCount)
        return Promise.reject(new MnemoError('MNEMO_EINVAL', `page number must be between 1 and ${pageCount}, got ${pgno}`));
      if (bytes.length !== pageSize)
        return Promise.reject(new MnemoError('MNEMO_EINVAL', `page ${pgno} must be ${pageSize} bytes, got ${bytes.length}`));
      list.push([pgno, bytes]);
    }
    if (resize && list.length !== pageCount)
      // The page size changes only with a VACUUM, which rewrites every page.
      return Promise.reject(new MnemoError('MNEMO_EINVAL', `the page size changes from ${this.pageSize} to ${pageSize}: every page must be in the commit, got ${list.length} of ${pageCount}`));
    const given = resize ? new Map(list) : null;   // a resize carries every page
    const touched = new Set(prev.touched);
    for (const [pgno] of list) touched.add(Math.floor((pgno - 1) / ppc));
    const lastChunk = pageCount ? Math.floor((pageCount - 1) / ppc) : -1;
    if (pageCount < prev.pageCount && lastChunk >= 0) touched.add(lastChunk);   // cut short
    const bytes = list.length * pageSize;
    const compact = resize || (typeof readPage === 'function' &&
      (prev.deltaBytes + bytes > this._compactBytes || prev.deltaCount + 1 > this._compactCount));
    const expected = this.version;
    const next = compact
      ? { version: expected + 1, pageCount, pageSize, chunkPages: ppc, deltaBytes: 0, deltaCount: 0, touched: [] }
      : { version: expected + 1, pageCount, pageSize, chunkPages: ppc, deltaBytes: prev.deltaBytes + bytes,
          deltaCount: prev.deltaCount + 1, touched: [...touched].filter((c) => c <= lastChunk).sort((x, y) => x - y) };
    // Everything written is built now, before any await.
    const chunks = [];   // [index, Blob] of a compaction
    let delta = null;
    try {
      if (compact) {
        for (let c = 0; c <= lastChunk; c++) {
          if (!resize && !touched.has(c)) continue;
          const first = c * ppc + 1, n = Math.min(ppc, pageCount - first + 1);
          const parts = [];
          for (let p = first; p < first + n; p++) {
            const page = resize ? given.get(p) : readPage(p);
            if (!page || page.length !== pageSize) throw new MnemoError('MNEMO_EINVAL', `readPage(${p}) must give ${pageSize} bytes`);
            parts.push(page.slice());
          }
          chunks.push([c, new Blob(parts)]);
        }
      } else if (list.length || pageCount !== prev.pageCount) {
        const nums = new Uint32Array(list.length), data = new Uint8Array(bytes);
        list.forEach(([pgno, b], i) => { nums[i] = pgno; data.set(b, i * pageSize); });
        // Past 64 KB Chromium compresses a typed array value into a file of
        // its own and decodes it on read; a Blob it keeps raw.
        delta = { pages: nums, data: bytes > DELTA_BLOB_BYTES ? new Blob([data]) : data };
      }
    } catch (e) {
      return Promise.reject(asError(e, this.bank));
    }
    let tx;
    try {
      tx = this._db.transaction([BASE, DELTA, META], 'readwrite', { durability: this._durability });
    } catch (e) {
      return Promise.reject(storeError('committing', this.bank, e));
    }
    const done = txDone(tx, 'committing', this.bank);
    const bank = this.bank;
    const fail = (e) => {
      if (!tx._mnemoError) tx._mnemoError = storeError('committing', bank, e);
      try { tx.abort(); } catch { /* already finished */ }
    };
    try {
      const bs = tx.objectStore(BASE), ds = tx.objectStore(DELTA), ms = tx.objectStore(META);
      const check = ms.get(STATE);
      check.onsuccess = () => {
        const stored = check.result ? check.result.version : 0;
        if (stored !== expected) {
          tx._mnemoError = new MnemoError('MNEMO_EBUSY', `committing to bank "${bank}": another tab wrote it (stored version ${stored}, this tab has ${expected}); reopen the bank and retry`);
          tx.abort();
          return;
        }
        ms.put(next, STATE);
      };
      let puts = 0;
      const put = (store, value, key) => {
        store.put(value, key);
        if (this._hooks && this._hooks.afterPut) this._hooks.afterPut(tx, puts);
        puts++;
      };
      if (compact) {
        if (resize) bs.clear();
        for (const [c, blob] of chunks) put(bs, blob, c);
        bs.delete(IDBKeyRange.lowerBound(lastChunk, true));   // chunks past the end
        ds.clear();
      } else if (delta) {
        put(ds, delta, expected + 1);
      }
    } catch (e) {
      fail(e);
    }
    return done.then(() => {
      this.version = expected + 1;
      this.pageCount = pageCount;
      this.pageSize = pageSize;
      this._state = next;
      if (this._channel) this._channel.postMessage({ version: this.version });
    });
  }

  /* The recall index snapshot (bank.js keeps it here; the core checks it
   * against the bank): [Uint8Array] or null. */
  async loadIndex() {
    this._checkOpen('reading the index of');
    const tx = this._db.transaction(INDEX, 'readonly');
    const req = tx.objectStore(INDEX).get(STATE);
    await txDone(tx, 'reading the index', this.bank);
    if (!req.result || !(req.result.data instanceof Blob)) return null;
    try {
      return [new Uint8Array(await req.result.data.arrayBuffer())];
    } catch (e) {
      throw storeError('reading the index', this.bank, e);
    }
  }

  /* Replaces the snapshot with `chunks` (Uint8Arrays). A cache: relaxed
   * durability, and a lost one only means the next open builds the index. */
  saveIndex(chunks) {
    try {
      this._checkOpen('saving the index of');
      const tx = this._db.transaction(INDEX, 'readwrite', { durability: 'relaxed' });
      tx.objectStore(INDEX).put({ data: new Blob(chunks) }, STATE);
      return txDone(tx, 'saving the index', this.bank);
    } catch (e) {
      return Promise.reject(storeError('saving the index', this.bank, e));
    }
  }

  /* Runs fn() holding this bank's exclusive lock, shared by every tab and
   * worker of the origin (Web Locks); in-tab only where Web Locks are absent. */
  exclusive(fn) {
    const name = LOCK_PREFIX + this.bank;
    if (typeof navigator !== 'undefined' && navigator.locks && navigator.locks.request)
      return navigator.locks.request(name, { mode: 'exclusive' }, () => fn());
    return localLock(name, fn);
  }

  close() {
    if (this._channel) this._channel.close();
    this._channel = null;
    if (!this._closed) this._db.close();
    this._closed = true;
  }

  _checkOpen(what) {
    if (this._closed)
      throw new MnemoError('MNEMO_EMISUSE', `${what} bank "${this.bank}": its page store is closed${this._deleted ? ' (the bank was deleted by another tab)' : ''}`);
  }
}

/* Opens (creating if absent) the page store of `bank`. Options:
 * {durability: "strict" | "relaxed" | "default", compactBytes, compactCount
 * (when deltas are folded into the base, see COMPACT_BYTES), baseBytes (the
 * size of a base chunk for a new bank; a bank keeps the size it was made
 * with)}; tests also pass
 * {testHooks: {afterPut(tx, i)}} to fail a commit midway. */
export async function openIdbStore(bank, options = {}) {
  validateBankName(bank);
  const db = await openDatabase(bank);
  return new IdbPageStore(bank, db, options);
}

/* Deletes the bank's database. Open stores of it in other tabs are closed
 * (their next commit fails with MNEMO_EMISUSE). */
export function deleteIdbBank(bank) {
  validateBankName(bank);
  return new Promise((resolve, reject) => {
    const req = idbFactory().deleteDatabase(DB_PREFIX + bank);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(storeError('deleting', bank, req.error));
  });
}
