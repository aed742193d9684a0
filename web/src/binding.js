/*
 * binding.js: the low layer. It loads the wasm module and wraps the C API of
 * mnemo.h one to one, with the C names minus the `mnemo_` prefix (sqlite-wasm's
 * "capi", wa-sqlite). Strings cross as UTF-8 in wasm memory; every buffer this
 * layer allocates is freed before it returns, and every `char *` the C side
 * hands over is copied into a JS string and released with mnemo_free at once.
 * Handles (bank and job pointers) are plain numbers: the high layer
 * (bank.js) owns their lifetimes and frees jobs in `finally`.
 *
 * A failing call throws MnemoError with the C code and mnemo_errmsg() text
 * (one check(), as in wa-sqlite). Nothing here does I/O: the caller passes
 * a function that instantiates the wasm, so one package serves browsers,
 * workers, Node and bundlers (see index.js and index.node.js).
 *
 * Calls that may run SQL are async: where the engine has JSPI (WebAssembly
 * .Suspending and .promising: Chromium 137, Firefox 153, Safari 27), a page
 * that is still in the browser's storage when SQLite first reads it
 * suspends the call until its bytes arrive (pages_load, pagesWait), so a
 * bank opens after reading the pages it needs, not all of them. Such calls
 * run one at a time in the module (exclusive): a suspended call still holds
 * SQLite's state and the C stack. Without JSPI every call runs straight
 * through and the store hands over bytes only.
 */
import createMnemoCore from '../dist/mnemo-core.js';
import { MnemoError, setErrorTable } from './errors.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

const JSPI = typeof WebAssembly.Suspending === 'function' && typeof WebAssembly.promising === 'function';

/* The exports that may run SQL, and so read a page: called through
 * WebAssembly.promising under JSPI (Core.call). */
const SUSPENDING = ['mnemo_open', 'mnemo_close', 'mnemo_retain', 'mnemo_recall', 'mnemo_update',
  'mnemo_reindex', 'mnemo_process_pending', 'mnemo_get', 'mnemo_list', 'mnemo_delete',
  'mnemo_delete_all', 'mnemo_history', 'mnemo_stats', 'mnemo_warm', 'mnemo_import',
  'mnemo_job_resume', 'mnemo_job_fail', 'mnemo_job_free', 'mnemo__wasm_export', 'mnemo__wasm_index_save', 'mnemo__wasm_index_load'];

/* Lent pages held in a Blob are read in windows of this many bytes (a
 * multiple of any page size): one storage round trip (about 1 ms in
 * Chromium) brings the page SQLite asked for and its neighbours. */
const WINDOW = 65536;
/* pages_fill reads this many windows at a time (1 MB). */
const FILL_WINDOWS = 16;

/* The raw wasm function behind the glue's export `_name`. Export names are
 * minified: the glue's lazy wrapper names the real one (`Module["asm"]["x"]`)
 * until its first call replaces it with the raw function. Null if neither. */
function rawExport(M, name) {
  const f = M['_' + name];
  if (typeof f !== 'function') return null;
  const m = /Module\["asm"\]\["([\w$]+)"\]/.exec(String(f));
  return m ? M.asm[m[1]] || null : f;
}

/* Wraps the import that waits for pages (wasm_glue.c, pages_wait_js) as a
 * suspending one. False where there is no JSPI or no such import. */
function suspendImport(imports) {
  if (!JSPI) return false;
  for (const mod of Object.values(imports)) {
    for (const [key, fn] of Object.entries(mod)) {
      if (typeof fn === 'function' && fn.name === 'pages_wait_js') {
        mod[key] = new WebAssembly.Suspending(fn);
        return true;
      }
    }
  }
  return false;
}

export class Core {
  constructor(M, suspends = false) {
    this.M = M;
    // One scratch block for OUT parameters (pointers and sizes): calls never
    // interleave inside the core, so one is enough. Pointers come from wasm
    // as signed 32-bit numbers: every one is read `>>> 0`, so a heap past
    // 2 GB (MAXIMUM_MEMORY is 4 GB) is addressed right.
    this.slot = M._malloc(16) >>> 0;
    if (!this.slot) throw new MnemoError('MNEMO_ENOMEM', 'out of wasm memory while starting');
    this.errors = JSON.parse(this.str(M._mnemo__wasm_errors_json())).filter(Boolean);
    setErrorTable(this.errors);
    this.byCode = new Map(this.errors.map((e) => [e.code, e.name]));
    this.version = this.str(M._mnemo_version());
    // Stored pages lent to page images (pages_load), by the id C knows.
    this.lent = new Map();
    this.lendSeq = 0;
    // An exception must not unwind through SQLite: a failed read is -1.
    M.pagesRead = (id, offset, into, n) => {
      try {
        return this._pagesRead(id, offset, into, n);
      } catch {
        return -1;
      }
    };
    M.pagesWait = (id, offset, into, n) => this._pagesWait(id, offset, into, n);
    // Under JSPI: the promising wrappers, by export name, if every one was
    // found (else no call suspends, and stores hand over bytes only).
    this.promising = null;
    if (suspends) {
      const wrapped = {};
      for (const name of SUSPENDING) {
        const raw = rawExport(M, name);
        try {
          wrapped[name] = WebAssembly.promising(raw);
        } catch {
          break;   // not a wasm function: leave JSPI off
        }
      }
      if (Object.keys(wrapped).length === SUSPENDING.length) this.promising = wrapped;
    }
    this._turn = Promise.resolve();
    this._busy = false;          // a call holds the module (exclusive)
    this._idle = [];             // resolvers waiting for it to end
    this._suspendable = false;   // a promising call is running in the module
    this._lazy = 0;              // lenders with pages still in Blobs
    // Calls that waited for a page in storage, and for how long in all (ms).
    this.waits = { count: 0, ms: 0 };
  }

  /* True if a call may wait for a page in storage: stores may then lend
   * Blobs (pages_load) instead of reading every byte first. */
  get suspends() {
    return this.promising !== null;
  }

  /* Runs fn (which makes calls into the module) after every call made
   * before it has finished: a call suspended on a page keeps the module's
   * C stack and SQLite state, so no other may start meanwhile. */
  exclusive(fn) {
    const run = this._turn.then(async () => {
      this._busy = true;
      try {
        return await fn();
      } finally {
        this._busy = false;
        for (const wake of this._idle.splice(0)) wake();
      }
    });
    this._turn = run.catch(() => {});
    return run;
  }

  /* Resolves once no call is running in the module. */
  _whenIdle() {
    return this._busy ? new Promise((r) => this._idle.push(r)) : Promise.resolve();
  }

  /* Calls export `name` (one of SUSPENDING), inside exclusive(). Under
   * JSPI, while some lent pages are still in Blobs, through its promising
   * wrapper, so it may wait for a page. */
  async call(name, ...args) {
    // Straight through while no page is left in storage: a promising call
    // costs a stack switch and a promise, felt at 500 calls per ingest.
    if (!this.promising || !this._lazy) return this.M['_' + name](...args);
    this._suspendable = true;
    let pending;
    try {
      pending = this.promising[name](...args);
    } finally {
      this._suspendable = false;
    }
    return pending.finally(() => { this._suspendable = false; });
  }

  /* Views are taken afresh each time: memory growth replaces the buffer. */
  get u8() {
    return this.M.HEAPU8;
  }

  get u32() {
    return this.M.HEAPU32;
  }

  codeName(rc) {
    return this.byCode.get(rc) || `MNEMO_UNKNOWN(${rc})`;
  }

  /* ---- memory helpers ------------------------------------------------ */

  /* A NUL-terminated string at ptr, decoded as UTF-8. */
  str(ptr) {
    ptr >>>= 0;
    if (!ptr) return null;
    const u8 = this.u8;
    let end = ptr;
    while (u8[end]) end++;
    return dec.decode(u8.subarray(ptr, end));
  }

  /* Copies `s` into fresh wasm memory, NUL-terminated; returns [ptr, bytes]. */
  alloc(s) {
    const max = s.length * 3 + 1;
    const ptr = this.M._malloc(max) >>> 0;
    if (!ptr) throw new MnemoError('MNEMO_ENOMEM', `out of wasm memory for a ${max}-byte argument`);
    const { written } = enc.encodeInto(s, this.u8.subarray(ptr, ptr + max - 1));
    this.u8[ptr + written] = 0;
    return [ptr, written];
  }

  allocBytes(bytes) {
    const ptr = this.M._malloc(Math.max(1, bytes.length)) >>> 0;
    if (!ptr) throw new MnemoError('MNEMO_ENOMEM', `out of wasm memory for ${bytes.length} bytes`);
    this.u8.set(bytes, ptr);
    return ptr;
  }

  free(ptr) {
    if (ptr) this.M._free(ptr);
  }

  /* Runs fn(ptr1, ptr2, ...) with the strings copied in, frees them after. */
  withStrings(strings, fn) {
    const ptrs = [];
    try {
      for (const s of strings) ptrs.push(s == null ? 0 : this.alloc(s)[0]);
      return fn(...ptrs);
    } finally {
      for (const p of ptrs) this.free(p);
    }
  }

  /* Takes a `char *` result: copies it out and releases it with mnemo_free. */
  take(ptr) {
    try {
      return this.str(ptr);
    } finally {
      this.M._mnemo_free(ptr);
    }
  }

  outPtr(i = 0) {
    return this.u32[(this.slot >>> 2) + i];
  }

  /* Throws for a non-zero code, with the bank's message when there is one. */
  check(rc, db) {
    if (rc === 0) return;
    const msg = db ? this.str(this.M._mnemo_errmsg(db)) : '';
    throw new MnemoError(this.codeName(rc), msg || this.str(this.M._mnemo_errstr(rc)));
  }

  /* ---- the C API --------------------------------------------------- */

  errname(rc) {
    return this.str(this.M._mnemo_errname(rc));
  }

  errstr(rc) {
    return this.str(this.M._mnemo_errstr(rc));
  }

  /* Returns the bank pointer; on failure closes the half-open handle and throws. */
  open(path, options) {
    const o = options == null ? null : JSON.stringify(options);
    return this.run('mnemo_open', [path, o], ([p], [q]) => [p, q, 0, this.slot], async (rc) => {
      const db = this.outPtr();
      if (rc === 0) return db;
      const msg = db ? this.str(this.M._mnemo_errmsg(db)) : this.errstr(rc);
      await this.call('mnemo_close', db);
      throw new MnemoError(this.codeName(rc), msg);
    });
  }

  close(db) {
    return this.exclusive(() => this.call('mnemo_close', db));
  }

  errmsg(db) {
    return this.str(this.M._mnemo_errmsg(db));
  }

  /* Runs export `name` with the strings copied in (args gets [ptr, bytes]
   * of each; freed after), then `after(rc)`, all inside exclusive(): OUT
   * parameters in this.slot are read before another call can write them. */
  run(name, strings, args, after) {
    return this.exclusive(async () => {
      const given = [];   // [ptr, bytes] per string
      let rc;
      try {
        for (const s of strings) given.push(s == null ? [0, 0] : this.alloc(s));
        this.u32[this.slot >>> 2] = 0;
        this.u32[(this.slot >>> 2) + 1] = 0;
        rc = await this.call(name, ...args(...given));
      } finally {
        for (const [p] of given) this.free(p);
      }
      return after(rc);
    });
  }

  /* Calls that start a job: each resolves to the job pointer (caller frees). */
  startJob(db, name, strings, args) {
    return this.run(name, strings, args, (rc) => {
      this.check(rc, db);
      return this.outPtr();
    });
  }

  retain(db, input) {
    return this.startJob(db, 'mnemo_retain', [JSON.stringify(input)], ([p]) => [db, p, this.slot]);
  }

  recall(db, query) {
    return this.startJob(db, 'mnemo_recall', [JSON.stringify(query)], ([p]) => [db, p, this.slot]);
  }

  update(db, id, patch) {
    return this.startJob(db, 'mnemo_update', [id, JSON.stringify(patch)], ([i], [p]) => [db, i, p, this.slot]);
  }

  reindex(db) {
    return this.startJob(db, 'mnemo_reindex', [], () => [db, this.slot]);
  }

  /* True when the module has mnemo_process_pending (LLM extraction built in). */
  get hasProcessPending() {
    return typeof this.M._mnemo_process_pending === 'function';
  }

  process_pending(db, options) {
    if (!this.hasProcessPending)
      return Promise.reject(new MnemoError('MNEMO_EMISUSE', 'processPending: this build of the core has no pending queue'));
    return this.startJob(db, 'mnemo_process_pending', [options == null ? null : JSON.stringify(options)], ([p]) => [db, p, this.slot]);
  }

  /* Calls with a `char **out` JSON result: resolves to the parsed value. */
  outJson(db, name, strings, args) {
    return this.run(name, strings, args, (rc) => {
      this.check(rc, db);
      return JSON.parse(this.take(this.outPtr()));
    });
  }

  get(db, id) {
    return this.outJson(db, 'mnemo_get', [id], ([i]) => [db, i, this.slot]);
  }

  list(db, options) {
    return this.outJson(db, 'mnemo_list', [JSON.stringify(options || {})], ([o]) => [db, o, this.slot]);
  }

  delete(db, id) {
    return this.run('mnemo_delete', [id], ([i]) => [db, i], (rc) => this.check(rc, db));
  }

  delete_all(db) {
    return this.run('mnemo_delete_all', [], () => [db], (rc) => this.check(rc, db));
  }

  history(db, id) {
    return this.outJson(db, 'mnemo_history', [id], ([i]) => [db, i, this.slot]);
  }

  stats(db) {
    return this.outJson(db, 'mnemo_stats', [], () => [db, this.slot]);
  }

  /* Builds up to max more memories of the recall index; true once complete. */
  warm(db, max) {
    return this.run('mnemo_warm', [], () => [db, max, this.slot], (rc) => {
      this.check(rc, db);
      return this.u32[this.slot >>> 2] !== 0;
    });
  }

  /* Export as one JSON Lines string (each line ends with "\n"). */
  export(db) {
    return this.run('mnemo__wasm_export', [], () => [db, this.slot, this.slot + 4], (rc) => {
      this.check(rc, db);
      const ptr = this.outPtr(0), len = this.outPtr(1);
      try {
        return dec.decode(this.u8.subarray(ptr, ptr + len));
      } finally {
        this.M._free(ptr);
      }
    });
  }

  import(db, jsonl) {
    return this.outJson(db, 'mnemo_import', [jsonl], ([p, n]) => [db, p, n, this.slot]);
  }

  /* ---- jobs ------------------------------------------------------------ */

  job_pending(job) {
    return this.M._mnemo_job_pending(job) !== 0;
  }

  job_request(job) {
    return this.str(this.M._mnemo_job_request(job));
  }

  job_resume(job, text) {
    return this.run('mnemo_job_resume', [text], ([p, n]) => [job, p, n], (rc) => rc);
  }

  job_fail(job, code, message) {
    const rc = typeof code === 'number' ? code : this.errors.find((e) => e.name === code).code;
    return this.run('mnemo_job_fail', [message], ([m]) => [job, rc, m], (r) => r);
  }

  job_status(job) {
    return this.M._mnemo_job_status(job);
  }

  job_result(job) {
    return this.str(this.M._mnemo_job_result(job));
  }

  job_errmsg(job) {
    return this.str(this.M._mnemo_job_errmsg(job));
  }

  job_free(job) {
    return this.exclusive(() => this.call('mnemo_job_free', job));
  }

  /* ---- page banks ------------------------------------------------------ */

  /* Lends [pgno, bytes] runs to the image `name` (bytes: whole pages, a
   * Uint8Array, or a Blob if this.suspends; a later run overwrites an
   * earlier one): the core copies a page in from them the first time SQLite
   * reads it (mnemo_pages_lazy), so opening a 16 MB bank copies a few pages,
   * not 16 MB into fresh wasm memory. A page in a Blob is read from storage
   * then, by the call that needs it (pagesWait), or by pages_fill. The runs
   * are kept until the core lets go of them (every page read, or the bank
   * closed). Returns the lender's id (for pages_fill). */
  pages_load(name, pageSize, pages) {
    if (!Number.isInteger(pageSize) || pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)))
      throw new MnemoError('MNEMO_ECORRUPT', `bank image "${name}": page size ${pageSize} is not a power of two from 512 to 65536`);
    let count = 0;
    const windows = [];   // per run: null (bytes), or a Map window -> Uint8Array read
    const reading = [];   // per run: null, or a Map window -> the read bringing it
    for (const [pgno, src] of pages) {
      const blob = typeof Blob !== 'undefined' && src instanceof Blob;
      if (blob && !this.suspends) throw new MnemoError('MNEMO_EINVAL', `bank image "${name}": pages in a Blob need a module that can wait for them (JSPI)`);
      const size = blob ? src.size : src.length;
      if (!Number.isInteger(pgno) || pgno < 1 || size % pageSize)
        throw new MnemoError('MNEMO_ECORRUPT', `page ${pgno} of bank image "${name}" is ${size} bytes, not a multiple of the page size ${pageSize}, or not numbered from 1`);
      count = Math.max(count, pgno - 1 + size / pageSize);
      windows.push(blob ? new Map() : null);
      reading.push(blob ? new Map() : null);
    }
    // Which run holds each page (the last one that has it); -1: none, the
    // page reads as zeros, as an unwritten page of a file does.
    const run = new Int32Array(count + 1).fill(-1);
    pages.forEach(([pgno, src], i) => run.fill(i, pgno, pgno + (windows[i] ? src.size : src.length) / pageSize));
    const id = ++this.lendSeq;
    const lazy = windows.some(Boolean);
    this.lent.set(id, { pages, run, pageSize, windows, reading, filling: null, lazy });
    if (lazy) this._lazy++;
    const [np] = this.alloc(name);
    try {
      const rc = this.M._mnemo__wasm_pages_lazy(np, count, pageSize, id);
      if (rc) throw new MnemoError(this.codeName(rc), `bank image "${name}" cannot take its ${count} pages of ${pageSize} bytes: ${this.errstr(rc)}`);
    } catch (e) {
      this._settle(this.lent.get(id));
      this.lent.delete(id);   // a failed lend never calls back
      throw e;
    } finally {
      this.free(np);
    }
    // The open reads page 1 (the header and the schema) first: its window
    // is read now, while SQLite starts, so the open's wait is shorter or
    // none. A failure is left to the read that needs the page.
    if (lazy) this._readWindows(this.lent.get(id), 0, pageSize).catch(() => {});
    return id;
  }

  /* Reads every page of lender `id` still in a Blob into memory, a few
   * windows per read, in order, and only while no call runs in the module:
   * a call that needs a page waits for that window alone, not behind the
   * whole bank. Resolves when none is left (at once if none was, or once
   * the core has let go). Afterwards no read of it waits, so a caller that
   * needs pages outside a call (pages_page) awaits this first. A failed
   * read rejects, and the next pages_fill tries again. */
  pages_fill(id) {
    const l = this.lent.get(id);
    if (!l || !l.lazy) return Promise.resolve();
    if (!l.filling) {
      l.filling = (async () => {
        for (let r = 0; r < l.pages.length; r++) {
          if (!l.windows[r]) continue;
          const last = Math.ceil(l.pages[r][1].size / WINDOW) - 1;
          for (let w = 0; w <= last && this.lent.has(id); w += FILL_WINDOWS) {
            await this._whenIdle();   // a running call's own reads go first
            await this._readSpan(l, r, w, Math.min(w + FILL_WINDOWS - 1, last));
          }
        }
        this._settle(l);
      })().catch((e) => {
        l.filling = null;
        throw new MnemoError('MNEMO_EIO', `reading the stored pages failed: ${(e && e.message) || e}`, { cause: e });
      });
    }
    return l.filling;
  }

  /* Lender l has no page left in a Blob (all read, or let go). */
  _settle(l) {
    if (l && l.lazy) {
      l.lazy = false;
      this._lazy--;
    }
  }

  /* Module.pagesRead: copies [offset, offset + n) of lent pages to wasm
   * memory at `into`; n 0 lets them go. 0; 1 if some of those bytes are
   * still in a Blob and this call can wait for them (pagesWait then); -1
   * if they are unknown or cannot be waited for. */
  _pagesRead(id, offset, into, n) {
    const l = this.lent.get(id);
    if (!l) return -1;
    if (!n) {
      this._settle(l);
      this.lent.delete(id);
      return 0;
    }
    const { pages, run, pageSize, windows } = l;
    const u8 = this.u8, end = offset + n;
    for (let o = offset; o < end;) {
      const pg = Math.floor(o / pageSize) + 1, within = o - (pg - 1) * pageSize;
      const take = Math.min(pageSize - within, end - o), at = into + (o - offset);
      const r = pg < run.length ? run[pg] : -1;
      if (r < 0) {
        u8.fill(0, at, at + take);
      } else {
        const [first, src] = pages[r];
        let from = (pg - first) * pageSize + within, bytes = src;
        if (windows[r]) {
          const w = Math.floor(from / WINDOW);
          bytes = windows[r].get(w);
          if (!bytes) return this._suspendable ? 1 : -1;
          from -= w * WINDOW;
        }
        u8.set(bytes.subarray(from, from + take), at);
      }
      o += take;
    }
    return 0;
  }

  /* Module.pagesWait (a suspending import under JSPI): reads from their
   * Blobs the windows of [offset, offset + n) not in memory yet, one read
   * per run of them, then copies as pagesRead. -1 on any failure: SQLite
   * reports an I/O error for that call, and the bank stays usable. */
  async _pagesWait(id, offset, into, n) {
    this._suspendable = false;   // this call waits: the module is idle
    const t0 = performance.now();
    let rc = -1;
    try {
      const l = this.lent.get(id);
      if (l) {
        await this._readWindows(l, offset, n);
        rc = this._pagesRead(id, offset, into, n);   // -1 if still missing
      }
    } catch {
      rc = -1;
    }
    this._suspendable = true;   // the call resumes
    this.waits.count++;
    this.waits.ms += performance.now() - t0;
    return rc;
  }

  /* Reads the windows of [offset, offset + n) still in their Blobs. */
  _readWindows(l, offset, n) {
    const { pages, run, pageSize, windows } = l;
    const want = new Map();   // run -> [first window, last window]
    for (let pg = Math.floor(offset / pageSize) + 1; (pg - 1) * pageSize < offset + n; pg++) {
      const r = pg < run.length ? run[pg] : -1;
      if (r < 0 || !windows[r]) continue;
      const w = Math.floor((pg - pages[r][0]) * pageSize / WINDOW);
      const span = want.get(r);
      if (!span) want.set(r, [w, w]);
      else span[1] = Math.max(span[1], w);
    }
    return Promise.all([...want].map(([r, [w0, w1]]) => this._readSpan(l, r, w0, w1)));
  }

  /* Reads windows w0..w1 of run r's Blob in one read, but for those in
   * memory already or being read (it waits for those reads instead). */
  async _readSpan(l, r, w0, w1) {
    const windows = l.windows[r], reading = l.reading[r];
    const others = [];
    for (let w = w0; w <= w1; w++) if (reading.has(w)) others.push(reading.get(w).catch(() => {}));
    await Promise.all(others);
    while (w0 <= w1 && windows.has(w0)) w0++;
    while (w1 >= w0 && windows.has(w1)) w1--;
    if (w0 > w1) return;
    const read = l.pages[r][1].slice(w0 * WINDOW, (w1 + 1) * WINDOW).arrayBuffer().then((buf) => {
      for (let w = w0; w <= w1; w++) {
        const from = (w - w0) * WINDOW;
        if (from < buf.byteLength && !windows.has(w)) windows.set(w, new Uint8Array(buf, from, Math.min(WINDOW, buf.byteLength - from)));
      }
    });
    for (let w = w0; w <= w1; w++) reading.set(w, read);
    try {
      await read;
    } finally {
      for (let w = w0; w <= w1; w++) if (reading.get(w) === read) reading.delete(w);
    }
  }

  /* The recall index as a snapshot (mnemo_index_save): Uint8Array chunks. */
  index_save(db) {
    return this.exclusive(async () => {
      const chunks = [];
      this.M.snapPut = (p, n) => {
        chunks.push(this.u8.slice(p, p + n));
        return 0;
      };
      try {
        this.check(await this.call('mnemo__wasm_index_save', db), db);
      } finally {
        this.M.snapPut = null;
      }
      return chunks;
    });
  }

  /* Loads a snapshot given as Uint8Array chunks (mnemo_index_load): 1 if
   * it was used as is, 2 if it was brought up to date with writes made
   * since (worth saving again), 0 if not used (another embedder). */
  index_load(db, chunks) {
    return this.exclusive(async () => {
      let i = 0, off = 0;
      // Up to n bytes of the snapshot at p; how many (0 at the end).
      this.M.snapGet = (p, n) => {
        const u8 = this.u8;
        let put = 0;
        while (put < n && i < chunks.length) {
          const c = chunks[i], take = Math.min(n - put, c.length - off);
          u8.set(c.subarray(off, off + take), p + put);
          put += take;
          off += take;
          if (off === c.length) {
            i++;
            off = 0;
          }
        }
        return put;
      };
      this.u32[this.slot >>> 2] = 0;
      try {
        this.check(await this.call('mnemo__wasm_index_load', db, this.slot), db);
      } finally {
        this.M.snapGet = null;
      }
      return this.u32[this.slot >>> 2];
    });
  }

  pages_drop(name) {
    return this.withStrings([name], (n) => this.M._mnemo_pages_drop(n));
  }

  /* How many pages changed since the last pages_saved (nothing copied). */
  pages_dirty_count(db) {
    return this.M._mnemo_pages_dirty(db, this.slot);
  }

  /* The changed pages as [pgno, copy of its bytes], in page order. Never
   * waits: a page written is wholly in wasm memory. */
  pages_dirty(db) {
    const n = this.M._mnemo_pages_dirty(db, this.slot);
    if (!n) return [];
    const size = this.M._mnemo_pages_size(db);
    const count = this.M._mnemo_pages_count(db);
    const at = this.outPtr() >>> 2;
    const list = this.u32.slice(at, at + n);
    const out = [];
    for (const pgno of list) {
      if (pgno > count) continue; // cut off by a shrink: the store drops it
      const p = this.M._mnemo_pages_page(db, pgno) >>> 0;
      out.push([pgno, this.u8.slice(p, p + size)]);
    }
    return out;
  }

  /* Page pgno of a page bank as a view of wasm memory (valid until the next
   * call into the module), or null: also for a lent page still in a Blob
   * (await pages_fill first). */
  pages_page(db, pgno) {
    const p = this.M._mnemo_pages_page(db, pgno) >>> 0;
    if (!p) return null;
    const size = this.M._mnemo_pages_size(db);
    return this.u8.subarray(p, p + size);
  }

  pages_size(db) {
    return this.M._mnemo_pages_size(db);
  }

  pages_count(db) {
    return this.M._mnemo_pages_count(db);
  }

  pages_saved(db) {
    this.M._mnemo_pages_saved(db);
  }
}

/* Instantiates from any of the sources above. Used by the entry points. */
export async function instantiateFrom(src, imports) {
  if (src instanceof WebAssembly.Module) return { instance: await WebAssembly.instantiate(src, imports), module: src };
  if (src instanceof ArrayBuffer || ArrayBuffer.isView(src)) return WebAssembly.instantiate(src, imports);
  const res = typeof Response !== 'undefined' && src instanceof Response ? src : await fetch(src, { credentials: 'same-origin' });
  if (!res.ok) throw new MnemoError('MNEMO_EIO', `loading the Mnemo wasm from ${res.url || src} failed: HTTP ${res.status}`);
  const type = res.headers.get('content-type') || '';
  if (typeof WebAssembly.instantiateStreaming === 'function' && type.startsWith('application/wasm'))
    return WebAssembly.instantiateStreaming(res, imports);
  return WebAssembly.instantiate(await res.arrayBuffer(), imports);
}

let loading = null;

/*
 * Loads the module once per JS realm. `instantiate(imports)` must return
 * {instance, module} (WebAssembly.instantiate's answer); the emscripten glue
 * never fetches or reads anything itself.
 */
export function loadCore(instantiate) {
  if (!loading) {
    loading = (async () => {
      let failed;
      const failure = new Promise((_, reject) => { failed = reject; });
      let suspends = false;
      const ready = createMnemoCore({
        instantiateWasm(imports, done) {
          suspends = suspendImport(imports);
          Promise.resolve()
            .then(() => instantiate(imports))
            .then((r) => done(r.instance, r.module), failed);
          return {}; // exports arrive through done()
        },
        print() {},
        printErr() {},
      });
      const M = await Promise.race([ready, failure]);
      return new Core(M, suspends);
    })();
    loading.catch(() => { loading = null; }); // a later call may retry
  }
  return loading;
}
