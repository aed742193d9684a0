// reactor.js: the JavaScript twin of wasi/reactor.c. Loads mnemo-reactor.wasm
// and opens page banks on it: the bank's SQLite pages live in the module's
// memory, the host keeps them wherever it likes (a Durable Object's storage)
// and feeds them back before open. Names follow the C API without its prefix.
//
// One Reactor is one wasm instance: one linear memory, so a tenant's banks
// never share memory with another tenant's when each tenant (or bank) gets
// its own instance, as the edge host does.
import { wasiImports } from './wasi_shim.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

// Codes of mnemo.h that hosts act on; every other code comes with its name.
export const MNEMO_OK = 0;
export const MNEMO_EINVAL = 1;
export const MNEMO_ENOMEM = 7;
export const MNEMO_EHOST = 15;

export class MnemoError extends Error {
  constructor(code, name, message) {
    super(message || name);
    this.code = code;
    this.name = 'MnemoError';
    this.errname = name;
  }
}

export class Reactor {
  constructor(instance) {
    this.x = instance.exports;
  }

  // `module` is a compiled WebAssembly.Module (workerd imports .wasm modules
  // compiled; Node compiles the file's bytes first).
  static async instantiate(module, { log } = {}) {
    let instance;
    const wasi = wasiImports(() => instance.exports.memory, log);
    instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi });
    instance.exports._initialize();
    return new Reactor(instance);
  }

  get u8() {
    return new Uint8Array(this.x.memory.buffer);
  }
  get dv() {
    return new DataView(this.x.memory.buffer);
  }

  // Pointers come from wasm as signed 32-bit numbers: each is read `>>> 0`
  // so a heap past 2 GB is addressed right.
  alloc(n) {
    const p = this.x.mnemo__wasm_malloc(n) >>> 0;
    if (!p) throw new MnemoError(MNEMO_ENOMEM, 'MNEMO_ENOMEM', `out of memory allocating ${n} bytes`);
    return p;
  }
  free(p) {
    this.x.mnemo__wasm_free(p);
  }
  // Copies bytes in; the caller frees.
  bytes(b) {
    const p = this.alloc(b.length);
    this.u8.set(b, p);
    return p;
  }
  // A NUL-terminated UTF-8 copy of `s`; the caller frees.
  cstr(s) {
    const b = enc.encode(s);
    const p = this.alloc(b.length + 1);
    const u8 = this.u8;
    u8.set(b, p);
    u8[p + b.length] = 0;
    return p;
  }
  str(p) {
    p >>>= 0;
    if (!p) return null;
    const u8 = this.u8;
    let e = p;
    while (u8[e]) e++;
    return dec.decode(u8.subarray(p, e));
  }
  u32(p) {
    return this.dv.getUint32(p, true);
  }
  errname(rc) {
    return this.str(this.x.mnemo_errname(rc));
  }
  version() {
    return this.str(this.x.mnemo_version());
  }

  // Runs fn(...pointers) with every string argument copied in and freed after.
  withStrings(strings, fn) {
    const ptrs = [];
    try {
      for (const s of strings) ptrs.push(s == null ? 0 : this.cstr(s));
      return fn(...ptrs);
    } finally {
      for (const p of ptrs) if (p) this.free(p);
    }
  }

  // Opens the page bank `name`, first loading `pages` (an iterable of
  // [pgno, Uint8Array], 1-based page numbers, every page the same size).
  // The image is made at its full size and each page copied straight in.
  open(name, pages = [], options = {}) {
    return this.withStrings([name, JSON.stringify({ ...options, storage: 'pages' })], (pName, pOpts) => {
      const list = [...pages];
      let size = 0;
      for (const [pgno, data] of list) size = Math.max(size, pgno * data.length);
      if (list.length) {
        const at = this.x.mnemo_pages_buffer(pName, 0n, size) >>> 0;
        if (!at) {
          this.x.mnemo_pages_drop(pName);
          throw new MnemoError(MNEMO_ENOMEM, 'MNEMO_ENOMEM', `out of memory loading ${size} bytes of bank '${name}'`);
        }
        const u8 = this.u8;
        for (const [pgno, data] of list) u8.set(data, at + (pgno - 1) * data.length);
      }
      const out = this.alloc(4);
      try {
        const rc = this.x.mnemo_open(pName, pOpts, this.x.mnemo__wasm_host(), out);
        const db = this.u32(out);
        if (rc) {
          const msg = db ? this.str(this.x.mnemo_errmsg(db)) : 'out of memory';
          this.x.mnemo_close(db);
          this.x.mnemo_pages_drop(pName);
          throw new MnemoError(rc, this.errname(rc), msg);
        }
        return new PageBank(this, name, db);
      } finally {
        this.free(out);
      }
    });
  }
}

// A host's answer to one job request: {body: text} (a response body, fed
// back with mnemo_job_resume) or {fail: code, message} (mnemo_job_fail).
// `host(request)` may be async; it receives the parsed request.
export class PageBank {
  constructor(reactor, name, db) {
    this.r = reactor;
    this.x = reactor.x;
    this.name = name;
    this.db = db;
  }

  fail(rc) {
    throw new MnemoError(rc, this.r.errname(rc), this.r.str(this.x.mnemo_errmsg(this.db)));
  }

  close() {
    if (this.db) this.x.mnemo_close(this.db);
    this.db = 0;
  }

  // The job loop, the same in every host: ask, carry out, feed back.
  async runJob(job, host) {
    const r = this.r;
    try {
      while (this.x.mnemo_job_pending(job)) {
        const req = JSON.parse(r.str(this.x.mnemo_job_request(job)));
        let answer;
        try {
          answer = host ? await host(req) : { fail: MNEMO_EHOST, message: 'no host for job requests' };
        } catch (e) {
          answer = { fail: MNEMO_EHOST, message: String(e && e.message ? e.message : e) };
        }
        if (answer.fail) {
          r.withStrings([answer.message || 'host request failed'], (m) => this.x.mnemo_job_fail(job, answer.fail, m));
        } else {
          const b = enc.encode(answer.body);
          const p = r.bytes(b);
          this.x.mnemo_job_resume(job, p, b.length);
          r.free(p);
        }
      }
      const st = this.x.mnemo_job_status(job);
      if (st) throw new MnemoError(st, r.errname(st), r.str(this.x.mnemo_job_errmsg(job)));
      return JSON.parse(r.str(this.x.mnemo_job_result(job)));
    } finally {
      this.x.mnemo_job_free(job);
    }
  }

  // Calls fn(db, ...strings, outPtr); returns the u32 left in *out.
  outCall(fn, strings) {
    const r = this.r;
    const out = r.alloc(4);
    try {
      return r.withStrings(strings, (...ptrs) => {
        const rc = fn(this.db, ...ptrs, out);
        if (rc) this.fail(rc);
        return r.u32(out);
      });
    } finally {
      r.free(out);
    }
  }

  // A char* result: parsed, then released with mnemo_free().
  jsonOut(fn, strings) {
    const p = this.outCall(fn, strings);
    try {
      return JSON.parse(this.r.str(p));
    } finally {
      this.x.mnemo_free(p);
    }
  }

  retain(input, host) {
    return this.runJob(this.outCall(this.x.mnemo_retain, [JSON.stringify(input)]), host);
  }
  recall(query, host) {
    return this.runJob(this.outCall(this.x.mnemo_recall, [JSON.stringify(query)]), host);
  }
  update(id, patch, host) {
    return this.runJob(this.outCall(this.x.mnemo_update, [id, JSON.stringify(patch)]), host);
  }
  processPending(options, host) {
    return this.runJob(this.outCall(this.x.mnemo_process_pending, [JSON.stringify(options || {})]), host);
  }
  get(id) {
    return this.jsonOut(this.x.mnemo_get, [id]);
  }
  list(options = {}) {
    return this.jsonOut(this.x.mnemo_list, [JSON.stringify(options)]);
  }
  history(id) {
    return this.jsonOut(this.x.mnemo_history, [id]);
  }
  stats() {
    return this.jsonOut(this.x.mnemo_stats, []);
  }
  delete(id) {
    const rc = this.r.withStrings([id], (p) => this.x.mnemo_delete(this.db, p));
    if (rc) this.fail(rc);
  }
  deleteAll() {
    const rc = this.x.mnemo_delete_all(this.db);
    if (rc) this.fail(rc);
  }
  // JSON Lines text, one record per line.
  export() {
    const r = this.r;
    const out = r.alloc(8);
    try {
      const rc = this.x.mnemo__wasm_export(this.db, out, out + 4);
      if (rc) this.fail(rc);
      const p = r.u32(out);
      const len = r.u32(out + 4);
      const text = dec.decode(r.u8.subarray(p, p + len));
      r.free(p);
      return text;
    } finally {
      r.free(out);
    }
  }
  import(jsonl) {
    const r = this.r;
    const b = enc.encode(jsonl);
    const p = r.bytes(b);
    try {
      return this.jsonOut((db, out) => this.x.mnemo_import(db, p, b.length, out), []);
    } finally {
      r.free(p);
    }
  }

  // The pages written since the last saved(): {pages: [[pgno, Uint8Array]],
  // count, size}. The arrays are copies, safe to keep across calls.
  dirty() {
    const r = this.r;
    const out = r.alloc(4);
    try {
      const n = this.x.mnemo_pages_dirty(this.db, out);
      const list = r.u32(out);
      const size = this.x.mnemo_pages_size(this.db);
      const pages = [];
      for (let i = 0; i < n; i++) {
        const pgno = r.u32(list + 4 * i);
        const p = this.x.mnemo_pages_page(this.db, pgno) >>> 0;
        pages.push([pgno, r.u8.slice(p, p + size)]);
      }
      return { pages, count: this.x.mnemo_pages_count(this.db), size };
    } finally {
      r.free(out);
    }
  }
  saved() {
    this.x.mnemo_pages_saved(this.db);
  }
}
