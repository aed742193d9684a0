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
 */
import createMnemoCore from '../dist/mnemo-core.js';
import { MnemoError, setErrorTable } from './errors.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export class Core {
  constructor(M) {
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
    const M = this.M;
    this.u32[this.slot >>> 2] = 0;
    const rc = this.withStrings([path, options == null ? null : JSON.stringify(options)],
      (p, o) => M._mnemo_open(p, o, 0, this.slot));
    const db = this.outPtr();
    if (rc !== 0) {
      const msg = db ? this.str(M._mnemo_errmsg(db)) : this.errstr(rc);
      M._mnemo_close(db);
      throw new MnemoError(this.codeName(rc), msg);
    }
    return db;
  }

  close(db) {
    this.M._mnemo_close(db);
  }

  errmsg(db) {
    return this.str(this.M._mnemo_errmsg(db));
  }

  /* Calls that start a job: each returns the job pointer (caller frees). */
  startJob(db, fn) {
    this.u32[this.slot >>> 2] = 0;
    const rc = fn();
    this.check(rc, db);
    return this.outPtr();
  }

  retain(db, input) {
    return this.withStrings([JSON.stringify(input)], (p) =>
      this.startJob(db, () => this.M._mnemo_retain(db, p, this.slot)));
  }

  recall(db, query) {
    return this.withStrings([JSON.stringify(query)], (p) =>
      this.startJob(db, () => this.M._mnemo_recall(db, p, this.slot)));
  }

  update(db, id, patch) {
    return this.withStrings([id, JSON.stringify(patch)], (i, p) =>
      this.startJob(db, () => this.M._mnemo_update(db, i, p, this.slot)));
  }

  reindex(db) {
    return this.startJob(db, () => this.M._mnemo_reindex(db, this.slot));
  }

  /* True when the module has mnemo_process_pending (LLM extraction built in). */
  get hasProcessPending() {
    return typeof this.M._mnemo_process_pending === 'function';
  }

  process_pending(db, options) {
    if (!this.hasProcessPending)
      throw new MnemoError('MNEMO_EMISUSE', 'processPending: this build of the core has no pending queue');
    return this.withStrings([options == null ? null : JSON.stringify(options)], (p) =>
      this.startJob(db, () => this.M._mnemo_process_pending(db, p, this.slot)));
  }

  /* Calls with a `char **out` JSON result: returns the parsed value. */
  outJson(db, fn) {
    this.u32[this.slot >>> 2] = 0;
    const rc = fn();
    this.check(rc, db);
    return JSON.parse(this.take(this.outPtr()));
  }

  get(db, id) {
    return this.withStrings([id], (i) => this.outJson(db, () => this.M._mnemo_get(db, i, this.slot)));
  }

  list(db, options) {
    return this.withStrings([JSON.stringify(options || {})], (o) =>
      this.outJson(db, () => this.M._mnemo_list(db, o, this.slot)));
  }

  delete(db, id) {
    this.withStrings([id], (i) => this.check(this.M._mnemo_delete(db, i), db));
  }

  delete_all(db) {
    this.check(this.M._mnemo_delete_all(db), db);
  }

  history(db, id) {
    return this.withStrings([id], (i) => this.outJson(db, () => this.M._mnemo_history(db, i, this.slot)));
  }

  stats(db) {
    return this.outJson(db, () => this.M._mnemo_stats(db, this.slot));
  }

  /* Builds up to max more memories of the recall index; true once complete. */
  warm(db, max) {
    this.u32[this.slot >>> 2] = 0;
    this.check(this.M._mnemo_warm(db, max, this.slot), db);
    return this.u32[this.slot >>> 2];
  }

  /* Export as one JSON Lines string (each line ends with "\n"). */
  export(db) {
    this.u32[this.slot >>> 2] = 0;
    const rc = this.M._mnemo__wasm_export(db, this.slot, this.slot + 4);
    this.check(rc, db);
    const ptr = this.outPtr(0), len = this.outPtr(1);
    try {
      return dec.decode(this.u8.subarray(ptr, ptr + len));
    } finally {
      this.M._free(ptr);
    }
  }

  import(db, jsonl) {
    const [p, n] = this.alloc(jsonl);
    try {
      return this.outJson(db, () => this.M._mnemo_import(db, p, n, this.slot));
    } finally {
      this.free(p);
    }
  }

  /* ---- jobs ------------------------------------------------------------ */

  job_pending(job) {
    return this.M._mnemo_job_pending(job) !== 0;
  }

  job_request(job) {
    return this.str(this.M._mnemo_job_request(job));
  }

  job_resume(job, text) {
    const [p, n] = this.alloc(text);
    try {
      return this.M._mnemo_job_resume(job, p, n);
    } finally {
      this.free(p);
    }
  }

  job_fail(job, code, message) {
    const rc = typeof code === 'number' ? code : this.errors.find((e) => e.name === code).code;
    return this.withStrings([message], (m) => this.M._mnemo_job_fail(job, rc, m));
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
    this.M._mnemo_job_free(job);
  }

  /* ---- page banks ------------------------------------------------------ */

  /* Lends [pgno, bytes] runs to the image `name` (bytes: whole pages; a
   * later run overwrites an earlier one): the core copies a page in from
   * them the first time SQLite reads it (mnemo_pages_lazy), so opening a
   * 16 MB bank copies a few pages, not 16 MB into fresh wasm memory. The
   * runs are kept, unchanged, until the core lets go of them (every page
   * read, or the bank closed). */
  pages_load(name, pageSize, pages) {
    if (!Number.isInteger(pageSize) || pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)))
      throw new MnemoError('MNEMO_ECORRUPT', `bank image "${name}": page size ${pageSize} is not a power of two from 512 to 65536`);
    let count = 0;
    for (const [pgno, bytes] of pages) {
      if (!Number.isInteger(pgno) || pgno < 1 || bytes.length % pageSize)
        throw new MnemoError('MNEMO_ECORRUPT', `page ${pgno} of bank image "${name}" is ${bytes.length} bytes, not a multiple of the page size ${pageSize}, or not numbered from 1`);
      count = Math.max(count, pgno - 1 + bytes.length / pageSize);
    }
    // Which run holds each page (the last one that has it); -1: none, the
    // page reads as zeros, as an unwritten page of a file does.
    const run = new Int32Array(count + 1).fill(-1);
    pages.forEach(([pgno, bytes], i) => run.fill(i, pgno, pgno + bytes.length / pageSize));
    const id = ++this.lendSeq;
    this.lent.set(id, { pages, run, pageSize });
    const [np] = this.alloc(name);
    try {
      const rc = this.M._mnemo__wasm_pages_lazy(np, count, pageSize, id);
      if (rc) throw new MnemoError(this.codeName(rc), `bank image "${name}" cannot take its ${count} pages of ${pageSize} bytes: ${this.errstr(rc)}`);
    } catch (e) {
      this.lent.delete(id);   // a failed lend never calls back
      throw e;
    } finally {
      this.free(np);
    }
  }

  /* Module.pagesRead: copies [offset, offset + n) of lent pages to wasm
   * memory at `into`; n 0 lets them go. 0, or -1 if they are unknown. */
  _pagesRead(id, offset, into, n) {
    const l = this.lent.get(id);
    if (!l) return -1;
    if (!n) {
      this.lent.delete(id);
      return 0;
    }
    const { pages, run, pageSize } = l;
    const u8 = this.u8, end = offset + n;
    for (let o = offset; o < end;) {
      const pg = Math.floor(o / pageSize) + 1, within = o - (pg - 1) * pageSize;
      const take = Math.min(pageSize - within, end - o), at = into + (o - offset);
      const r = pg < run.length ? run[pg] : -1;
      if (r < 0) {
        u8.fill(0, at, at + take);
      } else {
        const [first, bytes] = pages[r], from = (pg - first) * pageSize + within;
        u8.set(bytes.subarray(from, from + take), at);
      }
      o += take;
    }
    return 0;
  }

  /* The recall index as a snapshot (mnemo_index_save): Uint8Array chunks. */
  index_save(db) {
    const chunks = [];
    this.M.snapPut = (p, n) => {
      chunks.push(this.u8.slice(p, p + n));
      return 0;
    };
    try {
      this.check(this.M._mnemo__wasm_index_save(db), db);
    } finally {
      this.M.snapPut = null;
    }
    return chunks;
  }

  /* Loads a snapshot given as Uint8Array chunks (mnemo_index_load): 1 if
   * it was used as is, 2 if it was brought up to date with writes made
   * since (worth saving again), 0 if not used (another embedder). */
  index_load(db, chunks) {
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
      this.check(this.M._mnemo__wasm_index_load(db, this.slot), db);
    } finally {
      this.M.snapGet = null;
    }
    return this.u32[this.slot >>> 2];
  }

  pages_drop(name) {
    return this.withStrings([name], (n) => this.M._mnemo_pages_drop(n));
  }

  /* The changed pages as [pgno, copy of its bytes], in page order. */
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
   * call into the module), or null. */
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
      const ready = createMnemoCore({
        instantiateWasm(imports, done) {
          Promise.resolve()
            .then(() => instantiate(imports))
            .then((r) => done(r.instance, r.module), failed);
          return {}; // exports arrive through done()
        },
        print() {},
        printErr() {},
      });
      const M = await Promise.race([ready, failure]);
      return new Core(M);
    })();
    loading.catch(() => { loading = null; }); // a later call may retry
  }
  return loading;
}
