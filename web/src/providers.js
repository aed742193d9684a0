/*
 * providers.js: who carries out the core's requests. A provider is an object
 * {call(body, {signal, type}) -> response JSON (object or text)}; for an
 * embedder also {model, dim}. The core builds every request body (mnemo.h,
 * JOBS); a provider only delivers it and brings back the answer, so anything
 * that speaks OpenAI's request/response shapes plugs in: openai() below over
 * fetch, or a plain async function (transformers.js, WebLLM, Workers AI, a
 * test double).
 *
 * Failures: throw. An error with `status` 400/404/422 on a chat request
 * tells the core the server refused the request shape (it retries once
 * without response_format); anything else is "host failed" and the core
 * falls back (built-in embedder, heuristic extraction + pending queue).
 */
import { MnemoError } from './errors.js';

/* Sizes of well-known embedding models, so `dimensions` is optional for them. */
const KNOWN_DIMS = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
  'nomic-embed-text': 768,
  'mxbai-embed-large': 1024,
  'all-minilm': 384,
};

/* An HTTP failure: `status` and the start of the body, as the core wants it. */
export class ProviderError extends Error {
  constructor(message, { status, body, cause } = {}) {
    super(message, { cause });
    this.status = status;
    this.body = body;
  }

  get name() {
    return 'ProviderError';
  }
}

/* Normalises what Mnemo.open was given as llm/embedder into a provider. */
export function toProvider(p, role) {
  if (typeof p === 'function') {
    return { call: (body, ctx) => p(body, ctx), model: p.model, dim: p.dim ?? p.dimensions };
  }
  if (p && typeof p === 'object') {
    const fn = p.call || p.embed || p.chat || p.complete;
    if (typeof fn === 'function') {
      return { call: (body, ctx) => fn.call(p, body, ctx), model: p.model, dim: p.dim ?? p.dimensions };
    }
  }
  throw new MnemoError('MNEMO_EINVAL', `${role} must be openai${role === 'embedder' ? '.embeddings' : ''}({...}), an async function (body) => response, or an object with call(body)`);
}

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  if (signal && signal.aborted) return reject(signal.reason);
  const t = setTimeout(() => { cleanup(); resolve(); }, ms);
  const onAbort = () => { clearTimeout(t); cleanup(); reject(signal.reason); };
  const cleanup = () => signal && signal.removeEventListener('abort', onAbort);
  if (signal) signal.addEventListener('abort', onAbort, { once: true });
});

/* One signal that fires when the caller's fires or after `timeout` ms. */
function linkSignal(outer, timeout) {
  const ctl = new AbortController();
  let timer = null;
  const onAbort = () => ctl.abort(outer.reason);
  if (outer) {
    if (outer.aborted) ctl.abort(outer.reason);
    else outer.addEventListener('abort', onAbort, { once: true });
  }
  if (timeout > 0) {
    timer = setTimeout(() => ctl.abort(new ProviderError(`request timed out after ${timeout} ms`)), timeout);
  }
  return {
    signal: ctl.signal,
    done() {
      if (timer) clearTimeout(timer);
      if (outer) outer.removeEventListener('abort', onAbort);
    },
  };
}

function checkConfig(cfg, what) {
  if (cfg == null || typeof cfg !== 'object') throw new MnemoError('MNEMO_EINVAL', `${what} takes an options object {baseURL, apiKey, model, ...}`);
  if (cfg.baseURL !== undefined && typeof cfg.baseURL !== 'string') throw new MnemoError('MNEMO_EINVAL', `${what}: baseURL must be a string`);
  for (const k of ['timeout', 'retries']) {
    if (cfg[k] !== undefined && !(Number.isFinite(cfg[k]) && cfg[k] >= 0))
      throw new MnemoError('MNEMO_EINVAL', `${what}: ${k} must be a number >= 0, got ${cfg[k]}`);
  }
}

/*
 * POSTs `body` as JSON to baseURL + path with retries on 429 and 5xx (and
 * network errors): exponential backoff from 250 ms, honouring Retry-After up
 * to 10 s. Resolves with the response text of a 2xx answer; otherwise
 * throws ProviderError "HTTP <status>: <start of body>".
 */
async function post(cfg, path, body, ctx = {}) {
  const f = cfg.fetch || globalThis.fetch;
  if (typeof f !== 'function') throw new ProviderError('no fetch() in this runtime: pass {fetch} to the provider');
  const url = (cfg.baseURL || 'https://api.openai.com/v1').replace(/\/+$/, '') + path;
  const headers = { 'content-type': 'application/json', ...(cfg.headers || {}) };
  if (cfg.apiKey) headers.authorization = `Bearer ${cfg.apiKey}`;
  const retries = cfg.retries ?? 2;
  const outer = ctx.signal || cfg.signal || null;
  for (let attempt = 0; ; attempt++) {
    const link = linkSignal(outer, cfg.timeout ?? 60000);
    let res, text;
    try {
      res = await f(url, { method: 'POST', headers, body: JSON.stringify(body), signal: link.signal });
      text = await res.text();
    } catch (e) {
      link.done();
      if (outer && outer.aborted) throw outer.reason;
      const timedOut = link.signal.aborted;
      const err = timedOut ? link.signal.reason : new ProviderError(`network error calling ${url}: ${e && e.message}`, { cause: e });
      if (attempt < retries && !timedOut) {
        await sleep(250 * 2 ** attempt, outer);
        continue;
      }
      throw err;
    }
    link.done();
    if (res.ok) return text;
    const again = res.status === 429 || res.status >= 500;
    if (again && attempt < retries) {
      const ra = Number(res.headers.get('retry-after'));
      await sleep(Number.isFinite(ra) && ra > 0 ? Math.min(ra * 1000, 10000) : 250 * 2 ** attempt, outer);
      continue;
    }
    throw new ProviderError(`HTTP ${res.status}: ${text.slice(0, 200)}`, { status: res.status, body: text });
  }
}

/*
 * A chat provider for any OpenAI-compatible server (OpenAI, Ollama, LM
 * Studio, llama.cpp, vLLM, ...): POSTs the core's chat bodies to
 * {baseURL}/chat/completions. Options: baseURL, apiKey, model (set in
 * every body), headers, timeout (ms, default 60000), retries (default 2),
 * signal (aborts every request), fetch (a fetch to use instead of the
 * global one).
 */
export function openai(cfg = {}) {
  checkConfig(cfg, 'openai()');
  const p = (body, ctx) => post(cfg, '/chat/completions', cfg.model ? { ...body, model: cfg.model } : body, ctx);
  p.model = cfg.model;
  p.kind = 'chat';
  return p;
}

/*
 * An embeddings provider: POSTs {model, input: [...]} to {baseURL}/embeddings.
 * `dimensions` (the vector size) is required unless the model is a known one;
 * it is also sent in the body when given (OpenAI's v3 models can shorten).
 */
openai.embeddings = function embeddings(cfg = {}) {
  checkConfig(cfg, 'openai.embeddings()');
  if (!cfg.model || typeof cfg.model !== 'string') throw new MnemoError('MNEMO_EINVAL', 'openai.embeddings() needs a model name');
  const dim = cfg.dimensions ?? KNOWN_DIMS[cfg.model];
  if (!Number.isInteger(dim) || dim < 1)
    throw new MnemoError('MNEMO_EINVAL', `openai.embeddings(): pass dimensions (the vector size) for model "${cfg.model}"`);
  const p = (body, ctx) => post(cfg, '/embeddings',
    { ...body, model: cfg.model, ...(cfg.dimensions ? { dimensions: cfg.dimensions } : {}) }, ctx);
  p.model = cfg.model;
  p.dim = dim;
  p.kind = 'embeddings';
  return p;
};
