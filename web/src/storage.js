/*
 * storage.js: where a bank's pages live, and what a bank name may be.
 *
 * THE PAGE STORE INTERFACE. A persistent bank is a page bank (mnemo.h, PAGE
 * BANKS): SQLite pages in wasm memory, loaded in full at open, and after
 * every call that wrote, the changed pages are handed to a page store in one
 * commit. A storage backend is a factory plus the stores it opens:
 *
 *   backend = {
 *     kind: 'indexeddb' | 'file' | ...,           for messages
 *     async open(bank, options) -> store,          the bank's store (created empty if absent)
 *     async destroy(bank),                         deletes the stored bank
 *   }
 *
 *   store = {
 *     version,             number: the commits stored, as last loaded or
 *                          committed through this store (0: empty)
 *     stale,               boolean, cheap, read before every call: true once
 *                          another tab/process has committed a version this
 *                          store has not loaded (a hint; storedVersion() is
 *                          the truth). May be a getter.
 *     async load({lazy}) -> {version, pageSize, pageCount, pages},
 *                          every stored page; `pages` is an array of
 *                          [pgno, Uint8Array] (1-based pgno; the bytes may hold
 *                          several whole consecutive pages starting at pgno).
 *                          With lazy true the bytes may also be a Blob, read
 *                          only where a page is needed: it must stay readable,
 *                          unchanged, after later commits. Sets store.version.
 *     async storedVersion() -> number,   the version stored now
 *     async commit(pages, pageCount, pageSize, readPage),
 *                          `pages`: [pgno, Uint8Array of one page] (copies the
 *                          caller gives away); `readPage(pgno)`: any page of
 *                          the bank as committed (a view, to copy at once: a
 *                          store that rewrites more than the changed pages
 *                          reads them there); stores them, drops stored pages
 *                          above pageCount and sets version + 1, ATOMICALLY,
 *                          and resolves only once that is durable. It must
 *                          reject, storing nothing, if the stored version is
 *                          not store.version (another writer came first:
 *                          MNEMO_EBUSY), on a full disk or quota (MNEMO_EFULL)
 *                          or any other failure (MNEMO_EIO); errors carry
 *                          that `code`.
 *     async exclusive(fn) -> fn's result,
 *                          runs fn while holding the bank's write lock, shared
 *                          by every tab/worker/process that can open the bank
 *     close(),             releases the store (the bank is closed)
 *     async loadIndex(), async saveIndex(chunks)   (optional)
 *                          a recall index snapshot kept beside the pages:
 *                          [Uint8Array] or null, and replace it with the
 *                          Uint8Array chunks given. A cache: no lock, no
 *                          durability needed; the core checks a snapshot
 *                          against the bank (brings an older one up to date,
 *                          refuses one of another embedder).
 *   }
 *
 * How a bank uses it (bank.js): open = load, lend the pages to the core
 * (mnemo_pages_lazy: they are kept, unchanged, until the bank closes or has
 * read them all), mnemo_open; only if that wrote (a new bank, an older
 * schema): exclusive(load again if storedVersion() != version, commit). Each writing call =
 * exclusive(reload if storedVersion() != version, run the call, commit the
 * dirty pages, mnemo_pages_saved). Each reading call: reload first if
 * `stale`. A failed commit: close the C handle and reopen from the store,
 * so memory matches what is stored, then reject the call's promise with the
 * store's error. Nothing of the failed call is kept; nothing before it is
 * lost.
 *
 * Implementations: idb.js (IndexedDB, browsers and workers), file.js (a
 * file, Node). 'memory' banks are plain in-memory SQLite with no store.
 */
import { MnemoError } from './errors.js';

/* Longer names are refused: a bank name is an identifier, and hosts use it
 * in database names, lock names and file names. */
export const MAX_BANK_NAME = 128;

/*
 * A bank name is an identifier, never a pattern or a path. mem0's SDK reads
 * user_id "*" as a wildcard; here "*" is refused, as are "..", slashes and
 * backslashes (a path), control characters and the empty name. Returns the
 * name; throws MnemoError MNEMO_EINVAL naming the rule and the value.
 */
export function validateBankName(bank) {
  const bad = (why) => {
    throw new MnemoError('MNEMO_EINVAL', `bank name ${why}, got ${JSON.stringify(bank)}`);
  };
  if (typeof bank !== 'string') bad('must be a string');
  if (bank.length === 0) bad('must not be empty');
  if (bank.length > MAX_BANK_NAME) bad(`must be at most ${MAX_BANK_NAME} characters`);
  if (bank.includes('*')) bad('must not contain "*" (a bank name is not a pattern)');
  if (bank.includes('..')) bad('must not contain ".."');
  if (/[/\\]/.test(bank)) bad('must not contain a slash or a backslash (a bank name is not a path)');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(bank)) bad('must not contain control characters');
  if (bank.trim() !== bank) bad('must not start or end with white space');
  return bank;
}

/* Checks that an object implements the backend interface above. */
export function checkBackend(b) {
  if (!b || typeof b.open !== 'function')
    throw new MnemoError('MNEMO_EINVAL', 'storage must be "memory", "indexeddb", a file path (Node) or a backend {open(bank), destroy(bank)}');
  return b;
}
