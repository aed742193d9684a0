/*
 * file.js: the Node page store. A bank is a real file, and the file IS the
 * SQLite database (pages in order), so `sqlite3 bank.mnemo` can read it.
 *
 * Why not emscripten's NODEFS under SQLite's unix layer: that needs
 * emscripten's Node runtime and file system in the package (bigger, and the
 * same module would no longer be the browser's), and NODEFS has no file
 * locks. The page-bank API already hands over exactly the pages a call
 * changed, so Node persists them itself, like IndexedDB does in a browser.
 *
 * Why a redo log and not write-new-and-rename: rename rewrites the whole
 * bank on every call, so a commit would cost the bank's size; a redo log
 * costs the pages changed. A commit:
 *
 *   1. writes "<file>-mnemo-redo": header (magic, version, page size, page
 *      count, n), n records (pgno + page), a checksum over all of it, then
 *      fsync (and fsync of the directory when the file is new);
 *   2. writes the pages into the file at their offsets, truncates it to
 *      pageCount pages, fsync;
 *   3. writes the new version to "<file>-mnemo-version" (write a temporary,
 *      fsync, rename over), fsync of the directory;
 *   4. removes the redo log.
 *
 * The commit point is the end of step 1. A crash before it leaves a redo
 * log whose checksum fails (or none): it is discarded and the file was never
 * touched. A crash after it leaves a complete log, replayed (steps 2-4,
 * idempotent) by the next open or commit under the lock. So the file always
 * opens as one commit or the next, never a mix.
 *
 * Writers across processes serialise on "<file>-mnemo-lock", created
 * exclusively (O_EXCL) and holding the owner's pid; a lock whose process is
 * gone is taken over. Readers load under the same lock (a load must not see
 * a half-applied step 2). `stale` reads the small version file, so every
 * call notices another process's commit.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MnemoError } from './errors.js';

const MAGIC = 'MNEMOREDO1\0\0'; // 12 bytes
const HEADER = 32;              // magic, version (u64), page size, page count, n
const LOCK_TIMEOUT_MS = 10000;

/* FNV-1a over the log, 32 bits, seeded per field: catches torn and short
 * writes (the failure a crash produces), not adversaries. */
function checksum(buf, end) {
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return h >>> 0;
}

function fsError(err, what, file) {
  const code = err && err.code;
  const m = `${what} ${file}: ${err && err.message}`;
  if (err instanceof MnemoError) return err;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new MnemoError('MNEMO_EFULL', m, { cause: err });
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return new MnemoError('MNEMO_EREADONLY', m, { cause: err });
  return new MnemoError('MNEMO_EIO', m, { cause: err });
}

async function fsyncDir(dir) {
  let h;
  try {
    h = await fsp.open(dir, 'r');
    await h.sync();
  } catch {
    /* some file systems cannot sync a directory; the file's own fsync stands */
  } finally {
    if (h) await h.close();
  }
}

function pidAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* The page size recorded in a SQLite header (bytes 16-17; 1 means 65536). */
function headerPageSize(buf) {
  if (buf.length < 100 || buf.toString('latin1', 0, 16) !== 'SQLite format 3\0') return 0;
  const v = buf.readUInt16BE(16);
  return v === 1 ? 65536 : v;
}

let tmpSeq = 0;

export class FilePageStore {
  constructor(file, options = {}) {
    this.file = file;
    this.redo = `${file}-mnemo-redo`;
    this.versionFile = `${file}-mnemo-version`;
    this.lockFile = `${file}-mnemo-lock`;
    this.indexFile = `${file}-mnemo-index`;
    this.version = 0;
    this.pageSize = 0;
    this.pageCount = 0;
    this._held = 0;
    this._hooks = options.testHooks || null;
    this._lockTimeout = options.lockTimeout ?? LOCK_TIMEOUT_MS;
    this._closed = false;
  }

  /* Another process has committed since this store loaded or committed. */
  get stale() {
    if (this._closed) return false;
    return this._readVersionSync() !== this.version || fs.existsSync(this.redo);
  }

  _readVersionSync() {
    try {
      return Number(fs.readFileSync(this.versionFile, 'latin1')) || 0;
    } catch {
      return 0;
    }
  }

  async storedVersion() {
    return this._held ? this._readVersionSync() : this.exclusive(async () => this._readVersionSync());
  }

  /* Runs fn holding the bank's lock file; re-entrant within this store. */
  async exclusive(fn) {
    if (this._held) {
      this._held++;
      try {
        return await fn();
      } finally {
        this._held--;
      }
    }
    await this._lock();
    this._held = 1;
    try {
      await this._recover();
      return await fn();
    } finally {
      this._held = 0;
      await fsp.unlink(this.lockFile).catch(() => {});
    }
  }

  async _lock() {
    const deadline = Date.now() + this._lockTimeout;
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      try {
        const h = await fsp.open(this.lockFile, 'wx');
        await h.writeFile(String(process.pid));
        await h.close();
        return;
      } catch (e) {
        if (e.code === 'ENOENT') throw fsError(e, 'locking', this.file); // no such directory
        if (e.code !== 'EEXIST') throw fsError(e, 'locking', this.file);
      }
      let owner = NaN;
      try {
        owner = Number(await fsp.readFile(this.lockFile, 'latin1'));
      } catch { /* released meanwhile */ }
      // An empty file is a lock being written right now; a dead pid a crash.
      if (Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) {
        await fsp.unlink(this.lockFile).catch(() => {});
        continue;
      }
      if (Date.now() > deadline)
        throw new MnemoError('MNEMO_EBUSY', `bank file ${this.file} is locked by process ${owner} for more than ${this._lockTimeout} ms`);
      await sleep(wait);
    }
  }

  /* Reads and checks the redo log: its content, or null if absent/torn. */
  async _readRedo() {
    let buf;
    try {
      buf = await fsp.readFile(this.redo);
    } catch (e) {
      if (e.code === 'ENOENT') return null;
      throw fsError(e, 'reading the redo log of', this.file);
    }
    if (buf.length < HEADER + 4 || buf.toString('latin1', 0, 12) !== MAGIC) return null;
    const version = Number(buf.readBigUInt64LE(12));
    const pageSize = buf.readUInt32LE(20), pageCount = buf.readUInt32LE(24), n = buf.readUInt32LE(28);
    const end = HEADER + n * (4 + pageSize);
    if (pageSize < 512 || buf.length !== end + 4 || buf.readUInt32LE(end) !== checksum(buf, end)) return null;
    const pages = [];
    for (let i = 0, o = HEADER; i < n; i++, o += 4 + pageSize)
      pages.push([buf.readUInt32LE(o), buf.subarray(o + 4, o + 4 + pageSize)]);
    return { version, pageSize, pageCount, pages };
  }

  /* Replays a complete redo log; drops a torn one. Under the lock. */
  async _recover() {
    const r = await this._readRedo();
    if (r) await this._apply(r);
    else await fsp.unlink(this.redo).catch(() => {});
  }

  /* Steps 2-4 of a commit. */
  async _apply({ version, pageSize, pageCount, pages }) {
    const hook = this._hooks && this._hooks.duringApply;
    let h;
    try {
      h = await fsp.open(this.file, fs.existsSync(this.file) ? 'r+' : 'w+');
      for (let i = 0; i < pages.length; i++) {
        const [pgno, bytes] = pages[i];
        await h.write(bytes, 0, bytes.length, (pgno - 1) * pageSize);
        if (hook) await hook(i);
      }
      await h.truncate(pageCount * pageSize);
      await h.sync();
    } catch (e) {
      throw fsError(e, 'writing', this.file);
    } finally {
      if (h) await h.close();
    }
    const tmp = `${this.versionFile}.tmp`;
    try {
      await fsp.writeFile(tmp, String(version));
      const t = await fsp.open(tmp, 'r');
      await t.sync();
      await t.close();
      await fsp.rename(tmp, this.versionFile);
      await fsyncDir(path.dirname(this.file));
      await fsp.unlink(this.redo).catch(() => {});
    } catch (e) {
      throw fsError(e, 'writing the version of', this.file);
    }
  }

  /* Every page of the file, as one run: [[1, bytes]]. */
  async load() {
    return this.exclusive(async () => {
      let buf;
      try {
        buf = await fsp.readFile(this.file);
      } catch (e) {
        if (e.code !== 'ENOENT') throw fsError(e, 'reading', this.file);
        buf = Buffer.alloc(0);
      }
      const version = this._readVersionSync();
      let pageSize = 0;
      if (buf.length) {
        pageSize = headerPageSize(buf);
        if (!pageSize || buf.length % pageSize)
          throw new MnemoError('MNEMO_ECORRUPT', `${this.file} is not a Mnemo bank (not a SQLite database, or cut short)`);
      }
      this.version = version;
      this.pageSize = pageSize;
      this.pageCount = pageSize ? buf.length / pageSize : 0;
      return { version, pageSize, pageCount: this.pageCount, pages: buf.length ? [[1, buf]] : [] };
    });
  }

  /* One atomic, durable commit (see the top of this file). */
  async commit(pages, pageCount, pageSize) {
    if (this._closed) throw new MnemoError('MNEMO_EMISUSE', `bank file ${this.file} is closed`);
    return this.exclusive(async () => {
      const stored = this._readVersionSync();
      if (stored !== this.version)
        throw new MnemoError('MNEMO_EBUSY', `committing to ${this.file}: another process wrote it (version ${stored}, this one has ${this.version}); reopen the bank and retry`);
      const n = pages.length;
      const end = HEADER + n * (4 + pageSize);
      const buf = Buffer.allocUnsafe(end + 4);
      buf.write(MAGIC, 0, 'latin1');
      buf.writeBigUInt64LE(BigInt(stored + 1), 12);
      buf.writeUInt32LE(pageSize, 20);
      buf.writeUInt32LE(pageCount, 24);
      buf.writeUInt32LE(n, 28);
      let o = HEADER;
      for (const [pgno, bytes] of pages) {
        if (bytes.length !== pageSize) throw new MnemoError('MNEMO_EINVAL', `page ${pgno} is ${bytes.length} bytes, the page size is ${pageSize}`);
        buf.writeUInt32LE(pgno, o);
        buf.set(bytes, o + 4);
        o += 4 + pageSize;
      }
      buf.writeUInt32LE(checksum(buf, end), end);
      const fresh = !fs.existsSync(this.file);
      let h;
      try {
        h = await fsp.open(this.redo, 'w');
        const hook = this._hooks && this._hooks.duringRedo;
        if (hook) {
          await h.write(buf, 0, buf.length >> 1, 0); // half, then the test's crash
          await hook();
        }
        await h.write(buf, 0, buf.length, 0);
        await h.sync();
      } catch (e) {
        if (h) await h.close().catch(() => {});
        h = null;
        await fsp.unlink(this.redo).catch(() => {});
        throw fsError(e, 'writing the redo log of', this.file);
      } finally {
        if (h) await h.close();
      }
      if (fresh) await fsyncDir(path.dirname(this.file));
      // Committed. Applying may still fail (e.g. a full disk): the log stays
      // and is replayed by the next open or commit, so the data is not lost.
      if (this._hooks && this._hooks.afterRedo) await this._hooks.afterRedo();
      this.version = stored + 1;
      this.pageSize = pageSize;
      this.pageCount = pageCount;
      try {
        await this._apply({ version: stored + 1, pageSize, pageCount, pages });
      } catch (e) {
        if (this._hooks && this._hooks.onApplyError) this._hooks.onApplyError(e);
      }
    });
  }

  /* The recall index snapshot kept beside the bank (bank.js): a cache, so
   * no lock and no fsync; the core checks it against the bank. Resolves
   * with [Uint8Array] or null. */
  async loadIndex() {
    try {
      return [new Uint8Array(await fsp.readFile(this.indexFile))];
    } catch (e) {
      if (e.code === 'ENOENT') return null;
      throw fsError(e, 'reading', this.indexFile);
    }
  }

  /* Replaces the snapshot with `chunks` (written aside, then renamed). */
  async saveIndex(chunks) {
    const tmp = `${this.indexFile}-${process.pid}-${++tmpSeq}`;
    try {
      await fsp.writeFile(tmp, chunks);
      await fsp.rename(tmp, this.indexFile);
    } catch (e) {
      await fsp.unlink(tmp).catch(() => {});
      throw fsError(e, 'writing', this.indexFile);
    }
  }

  close() {
    this._closed = true;
  }

  /* Removes the bank's file and its companions. */
  async destroy() {
    await this.exclusive(async () => {
      for (const f of [this.file, this.redo, this.versionFile, this.indexFile])
        await fsp.unlink(f).catch((e) => { if (e.code !== 'ENOENT') throw fsError(e, 'deleting', f); });
    });
  }
}

/*
 * The backend for storage "<path>": an existing directory or a path ending
 * in a separator holds "<bank>.mnemo" files; any other path is the file.
 */
export function fileBackend(location) {
  if (typeof location !== 'string' || !location)
    throw new MnemoError('MNEMO_EINVAL', `storage must be "memory" or a file path, got ${JSON.stringify(location)}`);
  const fileOf = (bank) => {
    let dir = /[/\\]$/.test(location);
    if (!dir) {
      try {
        dir = fs.statSync(location).isDirectory();
      } catch { /* a file to create */ }
    }
    return dir ? path.join(location, `${bank}.mnemo`) : path.resolve(location);
  };
  return {
    kind: 'file',
    async open(bank, options) {
      const f = fileOf(bank);
      try {
        await fsp.mkdir(path.dirname(f), { recursive: true });
      } catch (e) {
        throw fsError(e, 'creating the directory of', f);
      }
      return new FilePageStore(f, options);
    },
    async destroy(bank) {
      await new FilePageStore(fileOf(bank)).destroy();
    },
  };
}
