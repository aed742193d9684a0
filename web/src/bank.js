/*
 * bank.js: the high layer. `Mnemo` is one open bank: it runs the core's job
 * loop with the caller's providers, persists page banks through a page store
 * (storage.js) and serialises the calls made on it.
 *
 * Lifetimes: every C job is freed in `finally`, every buffer by the binding;
 * close() frees the C handle. Nothing is left for the garbage collector.
 */
import { MnemoError, asMnemoError } from './errors.js';
import { validateBankName, checkBackend } from './storage.js';
import { toProvider } from './providers.js';
import { memoryTools, context } from './tools.js';

let platform = null;
let imageSeq = 0;

/* Set by the entry point (index.js, index.node.js): how to get the core and
 * which storages exist. */
export function setPlatform(p) {
  platform = p;
}

function needPlatform() {
  if (!platform) throw new MnemoError('MNEMO_EMISUSE', 'import "mnemo-wasm" (its entry point loads the wasm), not an internal file');
  return platform;
}

/* Rejects an aborted signal's reason (an AbortError) where one is due. */
function throwIfAborted(signal) {
  if (signal && signal.aborted) throw signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/* JS option names to the core's snake_case ones. */
function recallQuery(query, o = {}) {
  if (typeof query !== 'string') throw new MnemoError('MNEMO_EINVAL', `recall query must be a string, got ${typeof query}`);
  const q = { query };
  if (o.limit !== undefined) q.limit = o.limit;
  if (o.filter !== undefined) q.filter = o.filter;
  if (o.now !== undefined) q.now = o.now instanceof Date ? o.now.toISOString() : o.now;
  if (o.maxTokens !== undefined) q.max_tokens = o.maxTokens;
  if (o.diversity !== undefined) q.diversity = o.diversity;
  if (o.signals !== undefined) q.signals = o.signals;
  if (o.weights !== undefined) q.weights = o.weights;
  if (o.fusion !== undefined) q.fusion = o.fusion;
  return q;
}

function retainInput(input, o = {}) {
  let r;
  if (typeof input === 'string') r = { text: input };
  else if (Array.isArray(input)) r = { messages: input };
  else if (isObject(input)) r = { ...input };
  else throw new MnemoError('MNEMO_EINVAL', `retain input must be a string, an array of messages or an object, got ${input === null ? 'null' : typeof input}`);
  const map = { documentId: 'document_id', metadata: 'metadata', timestamp: 'timestamp', infer: 'infer',
    kind: 'kind', topics: 'topics', tags: 'tags', source: 'source', confidence: 'confidence', echo: 'echo' };
  for (const [k, c] of Object.entries(map)) {
    if (o[k] === undefined) continue;
    r[c] = o[k] instanceof Date ? o[k].toISOString() : o[k];
  }
  return r;
}

function updatePatch(patch) {
  if (typeof patch === 'string') return { text: patch };
  if (!isObject(patch)) throw new MnemoError('MNEMO_EINVAL', 'update patch must be a string (the new text) or an object');
  const p = { ...patch };
  if (p.occurredAt !== undefined) {
    p.occurred_at = p.occurredAt instanceof Date ? p.occurredAt.toISOString() : p.occurredAt;
    delete p.occurredAt;
  }
  return p;
}

function checkId(id) {
  if (typeof id !== 'string' || !id) throw new MnemoError('MNEMO_EINVAL', `memory id must be a non-empty string, got ${JSON.stringify(id)}`);
  return id;
}

/* HTTP statuses that mean "the server refused this request": the core then
 * retries a chat once without response_format (mnemo.h, JOBS). */
const REFUSED = new Set([400, 404, 422]);

/* Memories indexed per warm-up step: about 5 ms of work for long ones. */
const WARM_STEP = 256;
/* After a snapshot was brought up to date: when to save it again. */
const SAVE_LATER_MS = 2000;

/* Opens a bank's store and starts reading its pages; resolves to {store,
 * snap}, snap being the pages or the Error reading them (the lock-holding
 * load then tries again and reports). Rejects only if the store does not
 * open. `lazy`: a store may answer pages that are still in storage as Blobs
 * (idb.js); _load reads them first if the module cannot wait for them. */
async function prefetch(backend, bank, options) {
  const store = await backend.open(bank, options);
  let snap;
  try {
    snap = await store.load({ lazy: true });
  } catch (e) {
    snap = e instanceof Error ? e : new Error(String(e));
  }
  return { store, snap };
}

/* Runs fn as a background task. Browsers: scheduler.postTask (setTimeout(0)
 * is clamped to 4 ms once nested, which would add seconds to a big bank's
 * warm-up in steps). */
function background(fn) {
  if (typeof scheduler !== 'undefined' && typeof scheduler.postTask === 'function') {
    scheduler.postTask(fn, { priority: 'background' }).catch(() => {});
    return;
  }
  setTimeout(fn, 0);
}

/* A snapshot's pages with any Blob read into bytes: for a module that
 * cannot wait for a page (no JSPI), every byte is read before the open. */
async function readBlobs(pages) {
  try {
    return await Promise.all(pages.map(async ([pgno, src]) =>
      [pgno, typeof Blob !== 'undefined' && src instanceof Blob ? new Uint8Array(await src.arrayBuffer()) : src]));
  } catch (e) {
    throw asMnemoError(e, 'MNEMO_EIO', 'reading the stored pages failed: ');
  }
}

export class Mnemo {
  /* Use Mnemo.open(). */
  constructor(core, init) {
    this._core = core;
    this.bank = init.bank;
    this.storage = init.storageKind;
    this._db = 0;
    this._store = init.store || null;
    this._image = init.image || null;
    this._lend = 0;         // the core's lender id of the stored pages (pages_fill)
    this._openOptions = init.openOptions;
    this._llm = init.llm;
    this._embedder = init.embedder;
    this._queue = Promise.resolve();
    this._closed = false;
    this._warm = init.warm !== false;
    /* Settles once the recall index is built (or warming stopped). */
    this.warmed = Promise.resolve();
    this._indexReady = 0;   // the handle whose index is complete (warmed)
    this._commits = 0;      // commits of this handle, and the one the stored
    this._snapshotAt = -1;  // index snapshot is as of (-1: none known)
    this._saving = null;    // the last snapshot save, settled or not
  }

  /*
   * Opens (creating if absent) a bank. Options:
   *   bank       the bank's name (an identifier; see validateBankName)
   *   storage    'memory' (default), 'indexeddb' (browsers, workers), a file
   *              path or directory (Node), or a backend object (storage.js)
   *   llm        openai({...}) or any async (body, {signal}) => response JSON
   *   embedder   openai.embeddings({...}) or {model, dim, embed: fn} / a
   *              function with .model and .dim
   *   seed, fts5, readonly, llmOptions (the core's "llm" open options:
   *   {json_schema, candidates, max_deletes, max_calls_per_day, ...})
   *   warm       false: leave the recall index to the first recall (by
   *              default a stored bank builds it in small steps after
   *              opening, in idle time, see _warmSoon)
   */
  static async open(options = {}) {
    if (!isObject(options)) throw new MnemoError('MNEMO_EINVAL', 'Mnemo.open takes an options object');
    const p = needPlatform();
    const bank = validateBankName(options.bank);
    const llm = options.llm == null ? null : toProvider(options.llm, 'llm');
    const embedder = options.embedder == null ? null : toProvider(options.embedder, 'embedder');
    const openOptions = {};
    if (options.seed !== undefined) openOptions.seed = options.seed;
    if (options.fts5 !== undefined) openOptions.fts5 = !!options.fts5;
    if (options.readonly !== undefined) openOptions.readonly = !!options.readonly;
    if (embedder) {
      if (typeof embedder.model !== 'string' || !embedder.model)
        throw new MnemoError('MNEMO_EINVAL', 'embedder needs a model name (embedder.model)');
      if (!Number.isInteger(embedder.dim) || embedder.dim < 1)
        throw new MnemoError('MNEMO_EINVAL', `embedder "${embedder.model}" needs its vector size (dimensions), got ${embedder.dim}`);
      openOptions.embedder = { model: embedder.model, dim: embedder.dim };
    }
    if (options.llmOptions !== undefined) {
      if (!isObject(options.llmOptions)) throw new MnemoError('MNEMO_EINVAL', 'llmOptions must be an object');
      openOptions.llm = options.llmOptions;
    }
    const storage = options.storage ?? 'memory';
    // A stored bank's pages are read while the module compiles: the two
    // overlap (the read happens in the browser's storage process).
    const backend = storage === 'memory' ? null : checkBackend(typeof storage === 'string' ? p.storage(storage) : storage);
    const opening = backend ? prefetch(backend, bank, options.storageOptions || {}) : null;
    let core;
    try {
      core = await p.core();
    } catch (e) {
      if (opening) opening.then(({ store }) => store.close(), () => {});
      throw e;
    }
    const init = { bank, llm, embedder, openOptions, warm: options.warm };
    if (!backend) {
      const m = new Mnemo(core, { ...init, storageKind: 'memory' });
      m._db = await core.open(':memory:', openOptions);
      return m;
    }
    const { store, snap } = await opening;
    const m = new Mnemo(core, { ...init, storageKind: backend.kind || 'custom', store });
    try {
      // The pages read above are one committed state: the bank opens from
      // them without the lock. A commit made since by another tab is
      // announced (store.stale), and the first call reloads, as after any
      // write of another tab. The lock (and a check that the pages read are
      // still the latest) is for an open that writes: a new bank, an older
      // schema. And for pages that could not be read: read them again.
      const read = snap instanceof Error ? null : snap;
      if (read) await m._load(read, false);
      if (!read || (!openOptions.readonly && m._changed())) {
        await store.exclusive(async () => {
          if (!read || (await store.storedVersion()) !== read.version) {
            await m._dropHandle();
            await m._load(null, false);
          }
          if (!openOptions.readonly) await m._commit();
        });
      }
    } catch (e) {
      await m._dropHandle();
      try { store.close(); } catch { /* already closed */ }
      throw asMnemoError(e, 'MNEMO_EIO');
    }
    // After the lock is released: the open resolves without waiting for the
    // index, and a call made next still queues behind the snapshot read.
    m._warmSoon();
    return m;
  }

  /* Deletes a stored bank ('memory' banks vanish on close). Close it first. */
  static async destroy(options = {}) {
    const p = needPlatform();
    await p.core();
    const bank = validateBankName(options.bank);
    const storage = options.storage ?? 'memory';
    if (storage === 'memory') return;
    const backend = checkBackend(typeof storage === 'string' ? p.storage(storage) : storage);
    if (typeof backend.destroy !== 'function') throw new MnemoError('MNEMO_EINVAL', 'this storage cannot delete banks');
    await backend.destroy(bank);
  }

  /* The C error list, as {name: {code, name, text}}. */
  static async errorCodes() {
    const core = await needPlatform().core();
    return Object.fromEntries(core.errors.map((e) => [e.name, e]));
  }

  /* ---- page-bank plumbing ----------------------------------------------- */

  /* Lends the stored pages (or the given snapshot of them) to a fresh image
   * and opens it; then readies its recall index, unless told not to. Pages
   * still in storage (Blobs) are read by the calls that need them, and all
   * of them once the index is ready, in the background (_warmSoon,
   * pages_fill): reads after that come from memory; a commit waits for it. */
  async _load(given = null, warm = true) {
    const core = this._core;
    const snap = given || (await this._store.load({ lazy: true }));
    const pages = core.suspends ? snap.pages : await readBlobs(snap.pages);
    const image = `${++imageSeq}:${this.bank}`;
    const lend = pages.length ? core.pages_load(image, snap.pageSize, pages) : 0;
    try {
      this._db = await core.open(image, { ...this._openOptions, storage: 'pages' });
    } catch (e) {
      core.pages_drop(image);
      throw e;
    }
    this._image = image;
    this._lend = lend;
    this._created = !pages.length;   // a new bank: nothing stored yet
    if (warm) this._warmSoon();
  }

  /*
   * Readies the recall index of a freshly loaded bank, so the first recall
   * finds it instead of building it all at once (about half a second per
   * 10k memories in a browser). First from the store's snapshot of it, if
   * the store keeps one (a read of a few ms per 10k memories). A snapshot
   * older than the bank (a tab that wrote and was closed without close(),
   * another tab) is brought up to date by the core, which re-indexes only
   * the memories changed since, and is then saved again. Else built in
   * steps of WARM_STEP memories (a few ms each, mnemo_warm), each a task of
   * its own queued like any call, and then saved as the next snapshot. A
   * new bank's empty index is complete at once (else writes that follow the
   * open could outpace the steps). A call made meanwhile waits for the
   * snapshot read or one step at most. In Node the steps keep the process
   * alive until the index is ready or the bank closed (so `await warmed`
   * works in a script). `warmed` resolves with "snapshot" or "built" once the
   * index is complete, or "stopped" (closed, reloaded, an error the next
   * recall will report).
   */
  _warmSoon() {
    const db = this._db, store = this._store;
    // Then the pages still in storage, behind the index and the first
    // calls: those wait for a page at most, not for the whole bank.
    const fill = () => background(() => {
      if (this._db === db && this._lend) this._core.pages_fill(this._lend).catch(() => {});   // _commit retries, and reports
    });
    if (!this._warm) return fill();   // warmed stays the constructor's settled promise
    let settle;
    this.warmed = new Promise((r) => { settle = r; });
    const finish = (how) => {
      settle(how);
      fill();
    };
    const ready = (how) => {
      this._indexReady = db;
      finish(how);
    };
    const tick = () => {
      if (this._closed || this._db !== db) return finish('stopped'); // closed, or reloaded (that load warms itself)
      this._serial(() => (this._db === db ? this._core.warm(db, WARM_STEP) : true))
        .then((done) => {
          if (!done) return background(tick);
          ready('built');
          this._saveIndex(false);
        }, () => finish('stopped'));
    };
    // The store's snapshot of the index, if it keeps one; else build it.
    const fromSnapshot = () => {
      if (!store || typeof store.loadIndex !== 'function') return tick();
      // In the queue, so a recall waits for this read rather than building.
      this._serial(async () => {
        const chunks = await store.loadIndex();
        return !!chunks && this._db === db && this._core.index_load(db, chunks);
      }).then((used) => {
        if (!used) return tick();
        ready('snapshot');
        if (used === 1) {
          this._snapshotAt = this._commits;
          return;
        }
        // Brought up to date: save that state, a little later, so that calls
        // made right after opening do not queue behind copying the index out
        // (about 40 ms per 100k memories). close() saves it sooner.
        const t = setTimeout(() => this._saveIndex(false), SAVE_LATER_MS);
        if (typeof t === 'object' && typeof t.unref === 'function') t.unref();   // Node: not a reason to stay alive
      }, tick);   // an unreadable or damaged snapshot: build instead
    };
    if (!this._created) return fromSnapshot();
    // First in the queue: a new bank's index is complete before any call.
    this._serial(() => (this._db === db ? this._core.warm(db, WARM_STEP) : false))
      .then((done) => (done ? ready('built') : fromSnapshot()), fromSnapshot);
  }

  /* Saves the recall index as the store's snapshot, as of now. In the
   * background (wait false) it holds the queue only while the index is
   * copied out, not while the store writes it. A failure is ignored: the
   * snapshot is a cache, and the next open brings the older one up to date
   * or builds the index. */
  _saveIndex(wait) {
    const store = this._store, db = this._db;
    if (!store || typeof store.saveIndex !== 'function' || this._openOptions.readonly) return Promise.resolve();
    return this._serial(async () => {
      if (this._db !== db || this._indexReady !== db) return;
      const at = this._commits;
      const saving = store.saveIndex(await this._core.index_save(db))
        .then(() => { this._snapshotAt = at; }, () => {});
      this._saving = saving;   // close() lets it land before the store closes
      if (wait) await saving;
    }).catch(() => {});
  }

  async _dropHandle() {
    const db = this._db;
    this._db = 0;
    this._lend = 0;
    if (db) await this._core.close(db); // frees the image too
  }

  /* Closes the handle and opens again from the store: memory = what is stored. */
  async _reload() {
    await this._dropHandle();
    await this._load();
  }

  /* True if the bank in memory differs from the stored one. */
  _changed() {
    const core = this._core;
    return core.pages_dirty_count(this._db) > 0 || core.pages_count(this._db) !== this._store.pageCount;
  }

  /* Hands the changed pages to the store; on failure, back to what is stored. */
  async _commit() {
    const core = this._core;
    const pages = core.pages_dirty(this._db);
    const count = core.pages_count(this._db);
    if (!pages.length && count === this._store.pageCount) return;
    try {
      const db = this._db;
      // A compaction reads pages outside any call (readPage): they must all
      // be in memory by now (what the background read of _warmSoon has not
      // brought in yet is read here).
      if (this._lend) await core.pages_fill(this._lend);
      await this._store.commit(pages, count, core.pages_size(db), (pgno) => core.pages_page(db, pgno));
    } catch (e) {
      let why = '';
      try {
        await this._reload();
      } catch (re) {
        await this._dropHandle();
        why = `; reopening it failed too (${re.message}), the bank is closed`;
        this._closed = true;
      }
      throw asMnemoError(e, 'MNEMO_EIO', `saving bank "${this.bank}" failed, the call was undone${why}: `);
    }
    core.pages_saved(this._db);
    this._commits++;
  }

  /* Runs calls one at a time on this handle, in order. */
  _serial(fn) {
    const run = this._queue.then(() => {
      if (this._closed || !this._db) throw new MnemoError('MNEMO_EMISUSE', `bank "${this.bank}" is closed`);
      return fn();
    });
    this._queue = run.catch(() => {});
    return run;
  }

  /* A call that only reads: first catch up with other writers. */
  _read(fn) {
    return this._serial(async () => {
      if (this._store && this._store.stale) await this._reload();
      return fn();
    });
  }

  /* A call that writes: under the bank's lock, on the latest version, then
   * committed. If the call fails, its uncommitted pages are discarded. */
  _write(fn) {
    return this._serial(async () => {
      if (!this._store) return fn();
      return this._store.exclusive(async () => {
        if ((await this._store.storedVersion()) !== this._store.version) await this._reload();
        let result;
        try {
          result = await fn();
        } catch (e) {
          // A failed call wrote nothing, but its rollback may have touched
          // pages: saving them keeps memory and store equal (a failed save
          // reloads from the store by itself). The call's error wins.
          if (this._db) await this._commit().catch(() => {});
          throw e;
        }
        await this._commit();
        return result;
      });
    });
  }

  /* ---- the job loop ------------------------------------------------------ */

  /*
   * Drives a job to its end: each request goes to the llm ("chat") or the
   * embedder ("embeddings"); a provider failure is reported to the core
   * (mnemo_job_fail), which falls back where it can. Aborting frees the job,
   * which writes nothing, and rejects with the signal's reason.
   */
  async _runJob(start, { signal, onProgress } = {}) {
    throwIfAborted(signal);
    const core = this._core;
    const job = await start();
    try {
      let step = 0;
      while (core.job_pending(job)) {
        throwIfAborted(signal);
        const req = JSON.parse(core.job_request(job));
        const provider = req.type === 'chat' ? this._llm : req.type === 'embeddings' ? this._embedder : null;
        step++;
        if (onProgress) onProgress({ phase: 'request', step, type: req.type });
        if (!provider) {
          const what = req.type === 'chat' ? 'no llm configured' : req.type === 'embeddings' ? 'no embedder configured' : `unknown request type "${req.type}"`;
          await core.job_fail(job, 'MNEMO_EHOST', what);
          continue;
        }
        let resp;
        try {
          resp = await provider.call(req.body, { signal, type: req.type });
        } catch (e) {
          throwIfAborted(signal);
          const status = e && e.status;
          const code = req.type === 'chat' && REFUSED.has(status) ? 'MNEMO_EINVAL' : 'MNEMO_EHOST';
          await core.job_fail(job, code, (e && e.message) || String(e));
          continue;
        }
        throwIfAborted(signal);
        await core.job_resume(job, typeof resp === 'string' ? resp : JSON.stringify(resp));
      }
      const rc = core.job_status(job);
      if (rc !== 0) throw new MnemoError(core.codeName(rc), core.job_errmsg(job) || core.errstr(rc));
      const result = JSON.parse(core.job_result(job));
      if (onProgress) onProgress({ phase: 'done', step });
      return result;
    } finally {
      await core.job_free(job);
    }
  }

  /* ---- the API (mirrors mnemo.h) ----------------------------------------- */

  /* Stores text, chat messages or {items}; see mnemo_retain. */
  retain(input, options = {}) {
    const body = retainInput(input, options);
    return this._write(() => this._runJob(() => this._core.retain(this._db, body), options));
  }

  /* {results: [...], tokens}; see mnemo_recall. */
  recall(query, options = {}) {
    const q = recallQuery(query, options);
    return this._read(() => this._runJob(() => this._core.recall(this._db, q), options));
  }

  /* One memory, or null if there is none with that id. */
  get(id) {
    checkId(id);
    return this._read(async () => {
      try {
        return await this._core.get(this._db, id);
      } catch (e) {
        if (e.code === 'MNEMO_ENOTFOUND') return null;
        throw e;
      }
    });
  }

  /* {memories, nextCursor}: newest first; options {limit, cursor, filter, includeInvalid}. */
  list(options = {}) {
    const o = {};
    if (options.limit !== undefined) o.limit = options.limit;
    if (options.cursor != null) o.cursor = options.cursor;
    if (options.filter !== undefined) o.filter = options.filter;
    if (options.includeInvalid !== undefined) o.include_invalid = options.includeInvalid;
    return this._read(async () => {
      const r = await this._core.list(this._db, o);
      return { memories: r.memories, nextCursor: r.next_cursor ?? null };
    });
  }

  /* Changes a memory (a string is its new text); resolves to the memory. */
  update(id, patch, options = {}) {
    checkId(id);
    const p = updatePatch(patch);
    return this._write(async () => {
      await this._runJob(() => this._core.update(this._db, id, p), options);
      return this._core.get(this._db, id);
    });
  }

  /* Deletes one memory; MNEMO_ENOTFOUND if there is none. */
  delete(id) {
    checkId(id);
    return this._write(() => this._core.delete(this._db, id));
  }

  /* Forgets everything in the bank (it stays usable). */
  deleteAll() {
    return this._write(() => this._core.delete_all(this._db));
  }

  /* The memory's change history, oldest first. */
  history(id) {
    checkId(id);
    return this._read(async () => (await this._core.history(this._db, id)).history);
  }

  stats() {
    return this._read(() => this._core.stats(this._db));
  }

  /* Every memory as JSON Lines (a string); import() restores it exactly. */
  export() {
    return this._read(() => this._core.export(this._db));
  }

  /*
   * Restores export() output. All or nothing: a bad line imports nothing and
   * the error names it. With onProgress or a signal the input goes in
   * chunks of `chunkLines` lines, reported ({phase: 'import', done, total})
   * and abortable between chunks; a page bank is committed once at the end
   * (and reloaded on failure); a 'memory' bank is first checked chunk by
   * chunk on a scratch bank, then imported in one call.
   */
  import(jsonl, options = {}) {
    if (typeof jsonl !== 'string') throw new MnemoError('MNEMO_EINVAL', 'import takes the JSON Lines text of export()');
    const { signal, onProgress } = options;
    const chunked = !!(signal || onProgress);
    return this._write(async () => {
      throwIfAborted(signal);
      if (!chunked) return this._core.import(this._db, jsonl);
      const lines = jsonl.split('\n').filter((l) => l.trim() !== '');
      const size = options.chunkLines || 500;
      const total = lines.length;
      const core = this._core;
      const intoScratch = !this._store;
      const target = intoScratch ? await core.open(':memory:', { seed: 1 }) : this._db;
      let imported = 0;
      try {
        for (let i = 0; i < total; i += size) {
          throwIfAborted(signal);
          try {
            imported += (await core.import(target, lines.slice(i, i + size).join('\n'))).imported;
          } catch (e) {
            // Line numbers in the message are per chunk: make them absolute.
            e.message = e.message.replace(/line (\d+)/, (_, n) => `line ${Number(n) + i}`);
            throw e;
          }
          if (onProgress) onProgress({ phase: 'import', done: Math.min(i + size, total), total });
          await new Promise((r) => setTimeout(r, 0)); // let abort and UI events in
        }
        throwIfAborted(signal);
      } catch (e) {
        if (!intoScratch) await this._reload(); // undo the chunks already in memory
        throw e;
      } finally {
        if (intoScratch) await core.close(target);
      }
      return intoScratch ? core.import(this._db, jsonl) : { imported };
    });
  }

  /* Embeds again memories whose vector is missing or from another model. */
  reindex(options = {}) {
    return this._write(() => this._runJob(() => this._core.reindex(this._db), options));
  }

  /* Re-extracts with the LLM what was retained while no model answered. */
  processPending(options = {}) {
    const o = options.limit !== undefined ? { limit: options.limit } : null;
    return this._write(() => this._runJob(() => this._core.process_pending(this._db, o), options));
  }

  /* A prompt block of what is relevant to `query` (tools.js context()). */
  context(query, options = {}) {
    return context(this, query, options);
  }

  /* search/save/forget tools for function-calling models (tools.js). */
  tools(options = {}) {
    return memoryTools(this, options);
  }

  /* Closes the bank; later calls reject with MNEMO_EMISUSE. Idempotent.
   * First saves the recall index as the store's snapshot if this handle
   * changed the bank since the last one (and its index is ready). */
  close() {
    if (!this._closed && this._db && this._indexReady === this._db && this._snapshotAt !== this._commits)
      this._saveIndex(true);
    const done = this._queue.then(async () => {
      if (this._closed && !this._db) return;
      this._closed = true;
      await this._dropHandle();
      await this._saving;   // a background snapshot save still writing
      if (this._store) this._store.close();
    });
    this._queue = done.catch(() => {});
    return done;
  }
}
