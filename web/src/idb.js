/*
 * idb.js: the IndexedDB page store of a browser bank.
 *
 * A page bank (mnemo.h, PAGE BANKS) lives in wasm memory as SQLite pages;
 * this file keeps those pages durable in IndexedDB, one database per bank:
 *
 *   IndexedDB "mnemo-bank:<bank>"  version 1
 *     pages   key: first page number of a chunk (1-based)
 *             value: Uint8Array of up to 64 consecutive pages (256 KB)
 *     meta    key: "state"                value: {version, pageCount, pageSize}
 *
 * Why this shape:
 * - A commit (the pages one API call changed) is ONE readwrite transaction
 *   over both stores: the changed pages, the pages cut off by a shrink, and the
 *   new state. IndexedDB transactions are atomic, so a crash, a quota error or
 *   an abort leaves the previous commit whole. The promise resolves on the
 *   transaction's `complete` event, with durability "strict" where the browser
 *   supports it (Chromium otherwise reports completion before the data is
 *   flushed), so a resolved write survives a browser crash.
 * - Chunks of 256 KB (see CHUNK_BYTES for the measurement): a commit costs
 *   the chunks it changed, never the size of the bank; opening reads every
 *   chunk at once (getAll), after which every read comes from memory.
 * - `version` counts commits. Each commit checks, inside its own transaction,
 *   that the stored version is the one this tab loaded, and writes version + 1.
 *   So a write based on stale pages can never land (no lost update), whatever
 *   the tabs do. Tabs serialise their writes with a Web Lock per bank and tell
 *   each other about commits over a BroadcastChannel, so a tab can notice
 *   before a read or a write that it must reload (storedVersion() is the
 *   authoritative check; `stale` is the cheap hint).
 *
 * Errors carry stable codes like the core's: MNEMO_EFULL (quota), MNEMO_EBUSY
 * (another tab committed first), MNEMO_EIO (any other IndexedDB failure),
 * MNEMO_EINVAL (a bad bank name). After a failed commit nothing of it is
 * stored; the caller closes its bank and opens it again from the store.
 */

import { MnemoError } from './errors.js';
import { validateBankName } from './storage.js';

const DB_PREFIX = 'mnemo-bank:';
const LOCK_PREFIX = 'mnemo-bank-lock:';
const CHANNEL_PREFIX = 'mnemo-bank:';
const PAGES = 'pages';
const META = 'meta';
const STATE = 'state';
/* Pages are stored in chunks of this many bytes (64 pages of 4 KB), keyed by
 * their first page, because IndexedDB's cost is per record as much as per
 * byte. Measured in headless Chromium, a 10k-memory bank (3,980 pages, 16 MB)
 * read cold after a browser restart: 271 ms as one record per page, 125 ms
 * (82 ms warm) as 63 chunks of 256 KB; 1 MB chunks gained little more (81 ms)
 * for four times the write per touched chunk. The price: a commit rewrites
 * each chunk it touches (read and written in its transaction), so its cost
 * grows with the chunks changed, never with the bank's size. */
const CHUNK_BYTES = 256 * 1024;

function pagesPerChunk(pageSize) {
  return Math.max(1, Math.floor(CHUNK_BYTES / pageSize));
}

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
      req = idbFactory().open(DB_PREFIX + bank, 1);
    } catch (e) {
      reject(storeError('opening', bank, e));
      return;
    }
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(PAGES)) db.createObjectStore(PAGES);
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(storeError('opening', bank, req.error));
    req.onblocked = () => reject(new MnemoError('MNEMO_EBUSY', `opening bank "${bank}": its IndexedDB database is being upgraded or deleted by another tab`));
  });
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
    this._stale = false;
    this._durability = options.durability || 'strict';
    this._hooks = options.testHooks || null;
    this._channel = null;
    db.onversionchange = () => {
      // Another tab deletes the bank: let it, and refuse further commits.
      db.close();
      this._closed = true;
      this._stale = true;
    };
    if (typeof BroadcastChannel !== 'undefined') {
      this._channel = new BroadcastChannel(CHANNEL_PREFIX + bank);
      this._channel.onmessage = (ev) => {
        const v = ev.data && ev.data.version;
        if (typeof v === 'number' && v !== this.version) this._stale = true;
      };
    }
  }

  /* True once another tab has announced a commit this tab has not loaded.
   * A hint, free to read before every call; storedVersion() is the truth. */
  get stale() {
    return this._stale;
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
   * pageCount, pages: [[pgno, Uint8Array], ...]} in page order; the arrays
   * are the caller's (hand them to mnemo_pages_load, then drop them). */
  async load() {
    this._checkOpen('loading');
    const tx = this._db.transaction([PAGES, META], 'readonly');
    const st = tx.objectStore(META).get(STATE);
    const keys = tx.objectStore(PAGES).getAllKeys();
    const vals = tx.objectStore(PAGES).getAll();
    await txDone(tx, 'loading', this.bank);
    const state = st.result || { version: 0, pageCount: 0, pageSize: 0 };
    const pages = new Array(keys.result.length);
    let n = 0;
    for (let i = 0; i < pages.length; i++) {
      pages[i] = [keys.result[i], vals.result[i]];
      n += state.pageSize ? vals.result[i].length / state.pageSize : 0;
    }
    if (n !== state.pageCount)
      throw new MnemoError('MNEMO_ECORRUPT', `bank "${this.bank}" in IndexedDB holds ${n} pages, its state says ${state.pageCount}`);
    this.version = state.version;
    this.pageSize = state.pageSize;
    this.pageCount = state.pageCount;
    this._stale = false;
    return { version: state.version, pageSize: state.pageSize, pageCount: state.pageCount, pages };
  }

  /*
   * Stores one commit atomically: `pages` is an iterable of [pgno, bytes]
   * (copied before this returns, so wasm memory may change right after),
   * `pageCount` the bank's size in pages after the commit (stored pages above
   * it are deleted), `pageSize` its page size. Resolves once the IndexedDB
   * transaction has completed (durably with durability "strict"); rejects
   * with MNEMO_EBUSY if another tab committed since this tab loaded,
   * MNEMO_EFULL on quota, MNEMO_EIO otherwise, and then nothing was stored.
   */
  commit(pages, pageCount, pageSize) {
    try {
      this._checkOpen('committing');
    } catch (e) {
      return Promise.reject(e);
    }
    const ppc = pagesPerChunk(pageSize);
    const resize = this.pageCount > 0 && pageSize !== this.pageSize;
    const chunks = new Map();   // chunk index -> Map(pgno -> bytes), copied now
    for (const [pgno, bytes] of pages) {
      if (!Number.isInteger(pgno) || pgno < 1 || pgno > pageCount)
        return Promise.reject(new MnemoError('MNEMO_EINVAL', `page number must be between 1 and ${pageCount}, got ${pgno}`));
      if (bytes.length !== pageSize)
        return Promise.reject(new MnemoError('MNEMO_EINVAL', `page ${pgno} must be ${pageSize} bytes, got ${bytes.length}`));
      const c = Math.floor((pgno - 1) / ppc);
      if (!chunks.has(c)) chunks.set(c, new Map());
      chunks.get(c).set(pgno, bytes.slice());
    }
    const lastChunk = pageCount ? Math.floor((pageCount - 1) / ppc) : -1;
    if (resize) {
      // The page size changes only with a VACUUM, which rewrites every page.
      let n = 0;
      for (const m of chunks.values()) n += m.size;
      if (n !== pageCount)
        return Promise.reject(new MnemoError('MNEMO_EINVAL', `the page size changes from ${this.pageSize} to ${pageSize}: every page must be in the commit, got ${n} of ${pageCount}`));
    } else if (pageCount < this.pageCount && lastChunk >= 0 && !chunks.has(lastChunk)) {
      chunks.set(lastChunk, new Map());   // a shrink cuts the last chunk short
    }
    const expected = this.version;
    let tx;
    try {
      tx = this._db.transaction([PAGES, META], 'readwrite', { durability: this._durability });
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
      const ps = tx.objectStore(PAGES), ms = tx.objectStore(META);
      const check = ms.get(STATE);
      check.onsuccess = () => {
        const stored = check.result ? check.result.version : 0;
        if (stored !== expected) {
          tx._mnemoError = new MnemoError('MNEMO_EBUSY', `committing to bank "${bank}": another tab wrote it (stored version ${stored}, this tab has ${expected}); reopen the bank and retry`);
          tx.abort();
          return;
        }
        ms.put({ version: expected + 1, pageCount, pageSize }, STATE);
      };
      if (resize) ps.clear();
      let puts = 0;
      const put = (bytes, key) => {
        ps.put(bytes, key);
        if (this._hooks && this._hooks.afterPut) this._hooks.afterPut(tx, puts);
        puts++;
      };
      for (const [c, dirty] of chunks) {
        const first = c * ppc + 1;
        const len = Math.min(ppc, pageCount - first + 1);
        const build = (old) => {
          const buf = new Uint8Array(len * pageSize);
          if (old) buf.set(old.length > buf.length ? old.subarray(0, buf.length) : old);
          for (const [pgno, bytes] of dirty) buf.set(bytes, (pgno - first) * pageSize);
          return buf;
        };
        if (dirty.size === len) {
          put(build(null), first);
        } else {
          // Part of the chunk changed: the rest is read from the store in
          // this same transaction.
          const req = ps.get(first);
          req.onsuccess = () => {
            try { put(build(req.result), first); } catch (e) { fail(e); }
          };
        }
      }
      // Chunks past the new end go (a chunk's key is its first page).
      ps.delete(IDBKeyRange.lowerBound(lastChunk >= 0 ? lastChunk * ppc + 1 : 0, true));
    } catch (e) {
      fail(e);
    }
    return done.then(() => {
      this.version = expected + 1;
      this.pageCount = pageCount;
      this.pageSize = pageSize;
      if (this._channel) this._channel.postMessage({ version: this.version });
    });
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
      throw new MnemoError('MNEMO_EMISUSE', `${what} bank "${this.bank}": its page store is closed${this._stale ? ' (the bank was deleted by another tab)' : ''}`);
  }
}

/* Opens (creating if absent) the page store of `bank`. Options:
 * {durability: "strict" | "relaxed" | "default"}; the test build also takes
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
