/*
 * errors.js: MnemoError, the one error class of the package.
 *
 * Every failure carries a stable `code`, the name from the C error list
 * ("MNEMO_ENOTFOUND", "MNEMO_EFILTER", ...), and `errno`, its number. The
 * table comes from the wasm module itself (mnemo__wasm_errors_json, generated
 * from the MNEMO_ERRORS X-macro of mnemo.h), never copied by hand.
 */

const table = new Map(); // name -> {code, name, text}

/* Called once by the binding with the C table. */
export function setErrorTable(list) {
  table.clear();
  for (const e of list) if (e) table.set(e.name, Object.freeze({ ...e }));
}

/* {"MNEMO_OK": {code: 0, name, text}, ...}: the C list as loaded. */
export function errorCodes() {
  return Object.fromEntries(table);
}

export class MnemoError extends Error {
  /* code: "MNEMO_E..."; message: what happened, with the value that was wrong. */
  constructor(code, message, options) {
    super(message, options);
    this.code = code;
  }

  get name() {
    return 'MnemoError';
  }

  /* The C code number (MNEMO_ENOTFOUND = 5), or undefined for a name the
   * table does not hold (never for errors this package throws). */
  get errno() {
    const e = table.get(this.code);
    return e ? e.code : undefined;
  }

  toJSON() {
    return { name: this.name, code: this.code, errno: this.errno, message: this.message };
  }
}

/* Any error as a MnemoError: errors of a page store that carry a MNEMO_*
 * code keep it; others become `fallback` with their message. */
export function asMnemoError(err, fallback, prefix = '') {
  if (err instanceof MnemoError && !prefix) return err;
  const code = err && typeof err.code === 'string' && err.code.startsWith('MNEMO_') ? err.code : fallback;
  const msg = err && err.message ? err.message : String(err);
  return new MnemoError(code, prefix + msg, { cause: err });
}
