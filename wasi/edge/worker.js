// worker.js: Mnemo at the edge. A Worker authenticates each request, checks
// it, and hands it to the Durable Object of its (tenant, bank): one object
// per bank, holding one reactor instance (the core and SQLite, in wasm) and
// keeping the bank's SQLite pages in the object's transactional storage.
//
// Isolation: the tenant comes from the token and nothing else. The object is
// named tenant + '/' + bank, where both are identifiers that cannot contain
// '/', so no path, encoding or case trick can name another tenant's object;
// and each object has its own wasm memory and its own storage.
//
// REST API (JSON in and out; errors {"error": {"code", "message"}}):
//   POST   /v1/banks/{bank}/memories            retain
//   GET    /v1/banks/{bank}/memories            list (?limit, cursor, filter, include_invalid)
//   GET    /v1/banks/{bank}/memories/{id}       get
//   PATCH  /v1/banks/{bank}/memories/{id}       update
//   DELETE /v1/banks/{bank}/memories/{id}       delete
//   GET    /v1/banks/{bank}/memories/{id}/history
//   POST   /v1/banks/{bank}/recall              recall
//   GET    /v1/banks/{bank}/export              JSON Lines
//   POST   /v1/banks/{bank}/import              JSON Lines in
//   GET    /v1/banks/{bank}                     stats
//   DELETE /v1/banks/{bank}                     forget everything
//   GET    /healthz                             no auth, no data
import { DurableObject } from 'cloudflare:workers';
import reactorModule from './mnemo-reactor.wasm';
import { Reactor, MnemoError, MNEMO_EHOST, MNEMO_EINVAL } from './reactor.js';

// ---- configuration (bindings; every one optional but the tokens) ----------

const DEFAULTS = {
  MNEMO_MAX_BODY: 1 << 20, // bytes of a JSON request body
  MNEMO_MAX_IMPORT: 8 << 20, // bytes of an import body (the core's input cap)
  MNEMO_RATE: 50, // requests per second per tenant, sustained
  MNEMO_BURST: 100, // requests per tenant in a burst
  MNEMO_LLM_TIMEOUT_MS: 60000,
};

function num(env, name) {
  const v = env[name];
  if (v === undefined || v === null || v === '') return DEFAULTS[name];
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : DEFAULTS[name];
}

// A bank name or tenant id: letters, digits, '_', '-', '.', 1..64 bytes,
// starting with a letter or digit, never "..". Everything else (including
// any '%', '/', '\\', '*', control or non-ASCII character) is refused.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const isName = (s) => NAME.test(s) && !s.includes('..');
// Memory ids are the core's UUID-like strings.
const ID = /^[A-Za-z0-9-]{1,64}$/;

// MNEMO_EDGE_TOKENS: {"token": "tenant"} or {"token": {"tenant": "t",
// "read_only": true}}. Parsed once per distinct value into a Map (never a
// plain object: a token "constructor" must not find Object's).
let tokensCache = { raw: undefined, map: new Map() };
function tokens(env) {
  const raw = env.MNEMO_EDGE_TOKENS;
  if (raw === tokensCache.raw) return tokensCache.map;
  const map = new Map();
  let obj = {};
  try {
    obj = raw ? JSON.parse(raw) : {};
  } catch {
    console.error('MNEMO_EDGE_TOKENS is not JSON: no token is accepted');
  }
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [token, v] of Object.entries(obj)) {
      const tenant = typeof v === 'string' ? v : v && typeof v === 'object' ? v.tenant : undefined;
      if (token.length < 8 || typeof tenant !== 'string' || !isName(tenant)) {
        console.error('MNEMO_EDGE_TOKENS: skipping an entry (token under 8 characters or tenant not an identifier)');
        continue;
      }
      map.set(token, { tenant, readOnly: !!(v && v.read_only) });
    }
  }
  tokensCache = { raw, map };
  return map;
}

// ---- errors ------------------------------------------------------------

class HttpError extends Error {
  constructor(status, code, message, headers = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_TYPE, ...headers } });
}

function errorResponse(status, code, message, headers = {}) {
  return json(status, { error: { code, message } }, headers);
}

// The HTTP status of a core error code (by name, stable across versions).
const STATUS_OF = {
  MNEMO_EINVAL: 400,
  MNEMO_EJSON: 400,
  MNEMO_EUTF8: 400,
  MNEMO_EFILTER: 400,
  MNEMO_ETOOBIG: 413,
  MNEMO_ENOTFOUND: 404,
  MNEMO_ENOMEM: 503,
  MNEMO_EBUSY: 503,
  MNEMO_EHOST: 502,
};

// ---- per-tenant rate limit ---------------------------------------------
// A token bucket per tenant in this isolate's memory. Exact in one workerd
// process; on a fleet of isolates it bounds each isolate (a global limit
// would cost every request a round trip to one more object).
const buckets = new Map();
function rateLimit(env, tenant) {
  const rate = num(env, 'MNEMO_RATE');
  const burst = num(env, 'MNEMO_BURST');
  const now = Date.now();
  let b = buckets.get(tenant);
  if (!b) buckets.set(tenant, (b = { tokens: burst, at: now }));
  b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
  b.at = now;
  if (b.tokens < 1) {
    const wait = Math.max(1, Math.ceil((1 - b.tokens) / rate));
    throw new HttpError(429, 'EDGE_RATE_LIMITED', `more than ${rate} requests/s for this tenant`, {
      'retry-after': String(wait),
    });
  }
  b.tokens -= 1;
}

// ---- request parsing ----------------------------------------------------

// The body as text, at most `cap` bytes: refused from Content-Length before
// reading when possible, else counted while streaming.
async function readBody(request, cap) {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > cap)
    throw new HttpError(413, 'EDGE_TOO_LARGE', `request body over ${cap} bytes`);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > cap) {
      await reader.cancel();
      throw new HttpError(413, 'EDGE_TOO_LARGE', `request body over ${cap} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(all);
  } catch {
    throw new HttpError(400, 'MNEMO_EUTF8', 'request body is not valid UTF-8');
  }
}

async function readObject(request, env) {
  const text = await readBody(request, num(env, 'MNEMO_MAX_BODY'));
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, 'MNEMO_EJSON', `request body is not JSON: ${e.message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new HttpError(400, 'MNEMO_EINVAL', 'request body must be a JSON object');
  return v;
}

function listOptions(url) {
  const o = {};
  const q = url.searchParams;
  if (q.has('limit')) {
    const n = Number(q.get('limit'));
    if (!Number.isInteger(n)) throw new HttpError(400, 'MNEMO_EINVAL', `limit must be an integer, got '${q.get('limit')}'`);
    o.limit = n;
  }
  if (q.has('cursor')) o.cursor = q.get('cursor');
  if (q.has('filter')) {
    try {
      o.filter = JSON.parse(q.get('filter'));
    } catch (e) {
      throw new HttpError(400, 'MNEMO_EJSON', `filter is not JSON: ${e.message}`);
    }
  }
  if (q.has('include_invalid')) o.include_invalid = q.get('include_invalid') === 'true';
  return o;
}

// Maps method + path to an operation of the bank's object. Raw path segments
// are matched, never decoded: "%2F" or "%2e" in a name is simply not a name.
function route(method, segs) {
  // segs: after "/v1/banks/{bank}"
  const [a, id, c] = segs;
  const m = (table) => {
    const op = table[method];
    if (!op) throw new HttpError(405, 'EDGE_METHOD_NOT_ALLOWED', `${method} not allowed here`, { allow: Object.keys(table).join(', ') });
    return op;
  };
  if (segs.length === 0) return { op: m({ GET: 'stats', DELETE: 'forget' }) };
  if (a === 'memories' && segs.length === 1) return { op: m({ GET: 'list', POST: 'retain' }) };
  if (a === 'memories' && segs.length === 2) {
    if (!ID.test(id)) throw new HttpError(404, 'EDGE_NOT_FOUND', 'no such memory id');
    return { op: m({ GET: 'get', PATCH: 'update', DELETE: 'delete' }), id };
  }
  if (a === 'memories' && segs.length === 3 && c === 'history') {
    if (!ID.test(id)) throw new HttpError(404, 'EDGE_NOT_FOUND', 'no such memory id');
    return { op: m({ GET: 'history' }), id };
  }
  if (a === 'recall' && segs.length === 1) return { op: m({ POST: 'recall' }) };
  if (a === 'export' && segs.length === 1) return { op: m({ GET: 'export' }) };
  if (a === 'import' && segs.length === 1) return { op: m({ POST: 'import' }) };
  throw new HttpError(404, 'EDGE_NOT_FOUND', 'no such route');
}

const WRITES = new Set(['retain', 'update', 'delete', 'import', 'forget']);

async function handle(request, env) {
  const url = new URL(request.url);
  if (url.pathname === '/healthz') return json(200, { ok: true });

  // Authenticate first: nothing about routes or banks is said to a stranger.
  const auth = request.headers.get('authorization') || '';
  // The scheme is case-insensitive (RFC 7235); the token is exact.
  const m = /^Bearer ([\x21-\x7e]+)$/i.exec(auth);
  const who = m && tokens(env).get(m[1]);
  if (!who)
    throw new HttpError(401, 'EDGE_UNAUTHORIZED', m ? 'unknown token' : 'missing "Authorization: Bearer <token>"', {
      'www-authenticate': 'Bearer realm="mnemo"',
    });
  rateLimit(env, who.tenant);

  const segs = url.pathname.split('/');
  if (segs.length < 4 || segs[0] !== '' || segs[1] !== 'v1' || segs[2] !== 'banks')
    throw new HttpError(404, 'EDGE_NOT_FOUND', 'no such route');
  const bank = segs[3];
  if (!isName(bank))
    throw new HttpError(400, 'EDGE_INVALID_NAME', 'bank name must be 1-64 letters, digits, "_", "-" or "." (no "..")');
  const rest = segs.slice(4);
  if (rest.length && rest[rest.length - 1] === '') rest.pop(); // a trailing slash
  const r = route(request.method, rest);
  if (WRITES.has(r.op) && who.readOnly) throw new HttpError(403, 'EDGE_FORBIDDEN', 'this token is read-only');

  // Parse and check the body here, before the bank's object sees it.
  let args;
  if (r.op === 'retain' || r.op === 'recall' || r.op === 'update') args = await readObject(request, env);
  else if (r.op === 'import') args = await readBody(request, num(env, 'MNEMO_MAX_IMPORT'));
  else if (r.op === 'list') args = listOptions(url);

  const stub = env.BANKS.get(env.BANKS.idFromName(who.tenant + '/' + bank));
  const out = await stub.call({ owner: who.tenant + '/' + bank, op: r.op, id: r.id, args });
  return new Response(out.body, { status: out.status, headers: { 'content-type': out.type } });
}

export default {
  async fetch(request, env) {
    try {
      return await handle(request, env);
    } catch (e) {
      if (e instanceof HttpError) return errorResponse(e.status, e.code, e.message, e.headers);
      console.error('edge: unexpected error', e && e.stack ? e.stack : e);
      return errorResponse(500, 'EDGE_INTERNAL', 'internal error');
    }
  },
};

// ---- the LLM host: the job loop's outside world -------------------------

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// Carries out one job request (see JOBS in mnemo.h) with fetch against an
// OpenAI-compatible endpoint: chat from MNEMO_LLM_*, embeddings from
// MNEMO_EMBED_* (falling back to MNEMO_LLM_URL/KEY). Retries 429 and 5xx
// twice with backoff; reports what it could not do with mnemo_job_fail.
async function hostRequest(env, req) {
  const chat = req.type === 'chat';
  const base = chat ? env.MNEMO_LLM_URL : env.MNEMO_EMBED_URL || env.MNEMO_LLM_URL;
  const model = chat ? env.MNEMO_LLM_MODEL : env.MNEMO_EMBED_MODEL;
  const key = chat ? env.MNEMO_LLM_KEY : env.MNEMO_EMBED_KEY || env.MNEMO_LLM_KEY;
  if (req.type !== 'chat' && req.type !== 'embeddings')
    return { fail: MNEMO_EHOST, message: `unknown request type '${req.type}'` };
  if (!base) return { fail: MNEMO_EHOST, message: `no ${chat ? 'LLM' : 'embeddings'} endpoint configured` };
  const body = { ...req.body };
  if (model) body.model = model;
  const url = base.replace(/\/+$/, '') + (chat ? '/chat/completions' : '/embeddings');
  const headers = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  let why = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt) await sleep(200 * 2 ** attempt);
    let res, text;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(num(env, 'MNEMO_LLM_TIMEOUT_MS')),
      });
      text = await res.text();
    } catch (e) {
      why = `${url}: ${e && e.message ? e.message : e}`;
      continue;
    }
    if (res.ok) return { body: text };
    why = `HTTP ${res.status}: ${text.slice(0, 200)}`;
    if (res.status === 429 || res.status >= 500) continue;
    // The server refused this request: for chat the core retries once
    // without response_format (mnemo.h, JOBS).
    if (chat && (res.status === 400 || res.status === 404 || res.status === 422)) return { fail: MNEMO_EINVAL, message: why };
    return { fail: MNEMO_EHOST, message: why };
  }
  return { fail: MNEMO_EHOST, message: why };
}

// ---- the Durable Object: one bank ----------------------------------------

// Storage layout: "pg:<n>" page n (1-based, Uint8Array), "meta" {size,
// count}, "owner" "tenant/bank" (checked on every call, in depth).
const PAGE = 'pg:';
const BATCH = 128; // keys per put/delete call

export class MnemoBank extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.reactor = null;
    this.bank = null;
    this.count = 0;
    this.owner = null;
    this.tail = Promise.resolve();
  }

  // One operation at a time: a job awaiting the LLM must not interleave with
  // another call on the same handle, and each call's pages are persisted
  // before the next begins, so concurrent writers lose nothing.
  call(req) {
    const run = () => this.run(req);
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => {});
    return p;
  }

  async load(owner) {
    if (this.owner === null) this.owner = (await this.ctx.storage.get('owner')) || '';
    if (this.owner && this.owner !== owner) throw new HttpError(500, 'EDGE_INTERNAL', 'bank owner mismatch');
    if (this.bank) return;
    if (!this.reactor) this.reactor = await Reactor.instantiate(reactorModule);
    const meta = await this.ctx.storage.get('meta');
    const pages = [];
    if (meta) {
      const stored = await this.ctx.storage.list({ prefix: PAGE });
      for (const [k, v] of stored) {
        const pg = Number(k.slice(PAGE.length));
        if (pg <= meta.count) pages.push([pg, v]);
      }
      if (pages.length !== meta.count) throw new HttpError(500, 'EDGE_STORAGE', `bank has ${pages.length} of ${meta.count} pages`);
    }
    const options = {};
    if (this.env.MNEMO_LLM_MODEL) options.llm = { model: this.env.MNEMO_LLM_MODEL };
    this.bank = this.reactor.open('bank', pages, options);
    this.count = meta ? meta.count : 0;
  }

  // Writes the pages changed by the last call in one storage transaction.
  // On failure the handle is dropped: the next call reopens from storage,
  // where the bank is as it was before the call.
  async persist(owner) {
    const d = this.bank.dirty();
    if (!d.pages.length && d.count === this.count) return;
    const puts = d.pages.map(([pg, data]) => [PAGE + pg, data]);
    puts.push(['meta', { size: d.size, count: d.count }]);
    if (!this.owner) puts.push(['owner', owner]);
    const dels = [];
    for (let pg = d.count + 1; pg <= this.count; pg++) dels.push(PAGE + pg);
    try {
      await this.ctx.storage.transaction(async (txn) => {
        for (let i = 0; i < puts.length; i += BATCH) await txn.put(Object.fromEntries(puts.slice(i, i + BATCH)));
        for (let i = 0; i < dels.length; i += BATCH) await txn.delete(dels.slice(i, i + BATCH));
      });
    } catch (e) {
      this.bank.close();
      this.bank = null;
      this.owner = null;
      throw new HttpError(503, 'EDGE_STORAGE', `saving the bank failed: ${e && e.message ? e.message : e}`);
    }
    this.bank.saved();
    this.count = d.count;
    this.owner = owner;
  }

  async run({ owner, op, id, args }) {
    try {
      await this.load(owner);
      if (op === 'forget') {
        // Forget everything: the storage goes, not only the rows.
        this.bank.close();
        this.bank = null;
        await this.ctx.storage.deleteAll();
        this.count = 0;
        this.owner = '';
        return { status: 200, type: JSON_TYPE['content-type'], body: JSON.stringify({ deleted: true }) };
      }
      const host = (req) => hostRequest(this.env, req);
      const b = this.bank;
      let status = 200;
      let result;
      let type = JSON_TYPE['content-type'];
      try {
        switch (op) {
          case 'retain': result = await b.retain(args, host); status = 201; break;
          case 'recall': result = await b.recall(args, host); break;
          case 'list': result = b.list(args); break;
          case 'get': result = b.get(id); break;
          case 'update': result = await b.update(id, args, host); break;
          case 'delete': b.delete(id); result = { deleted: id }; break;
          case 'history': result = b.history(id); break;
          case 'stats': result = b.stats(); break;
          case 'export': result = b.export(); type = 'application/x-ndjson; charset=utf-8'; break;
          case 'import': result = b.import(args); break;
          default: throw new HttpError(404, 'EDGE_NOT_FOUND', `unknown operation ${op}`);
        }
      } finally {
        // Even a failed call may have written (nothing, by the core's
        // contract; but the dirty list is the truth): save what it says.
        // A read on a bank never written leaves no trace in storage.
        if (this.bank && (WRITES.has(op) || this.count > 0)) await this.persist(owner);
      }
      return { status, type, body: typeof result === 'string' ? result : JSON.stringify(result) };
    } catch (e) {
      if (e instanceof HttpError) return { status: e.status, type: JSON_TYPE['content-type'], body: JSON.stringify({ error: { code: e.code, message: e.message } }) };
      if (e instanceof MnemoError)
        return {
          status: STATUS_OF[e.errname] || 500,
          type: JSON_TYPE['content-type'],
          body: JSON.stringify({ error: { code: e.errname, message: e.message } }),
        };
      console.error('bank: unexpected error', e && e.stack ? e.stack : e);
      return { status: 500, type: JSON_TYPE['content-type'], body: JSON.stringify({ error: { code: 'EDGE_INTERNAL', message: 'internal error' } }) };
    }
  }
}
