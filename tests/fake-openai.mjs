// A fake OpenAI-compatible server for the CLI's end-to-end tests: loopback
// only, node:http, no npm packages.
//
//   const fake = await startFake({ key: 'sk-test...' });
//   fake.url                      'http://127.0.0.1:PORT/v1', for --llm-url
//   fake.chat.push(answer, ...)   scripted answers, in order, per endpoint;
//   fake.embeddings.push(...)     then fake.onChat / fake.onEmbeddings (functions)
//   fake.requests                 every request: {path, method, headers, body, raw, at}
//   fake.problems                 every way a request was not valid for the real API,
//                                 and every assertion a scripted answer threw
//   await fake.close()
//
// An answer is a plain object, or a function (request) => answer:
//   {status: 200, json: {...}}    a JSON body
//   {status: 500, body: 'text'}   a raw body
//   {headers: {'retry-after': '1'}}
//   {delay: ms}                   wait before answering (timeouts)
//   {hangup: true}                close the connection without an answer
//   {partial: 'text'}             send part of a body, then close (short read)
// chatAnswer(content) and embeddingsAnswer(inputs, dim) build well-formed ones.
//
// Each request is checked against what the real OpenAI API accepts (chat:
// messages with roles and string content, well-formed response_format,
// strict json_schema rules, known parameters; embeddings: input a string or
// an array of non-empty strings); a request that is not valid is answered
// 400, as OpenAI would, recorded in fake.problems and printed, so the test
// that caused it fails loudly (assertValid()).
import http from 'node:http';
import crypto from 'node:crypto';

const CHAT_PARAMS = new Set([
  'model', 'messages', 'temperature', 'top_p', 'n', 'stream', 'stop', 'max_tokens',
  'max_completion_tokens', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'user',
  'response_format', 'seed', 'tools', 'tool_choice', 'logprobs', 'top_logprobs',
  'parallel_tool_calls', 'store', 'metadata', 'reasoning_effort', 'service_tier',
  'stream_options', 'modalities', 'prediction', 'audio',
]);
const EMBED_PARAMS = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user']);
const ROLES = new Set(['system', 'developer', 'user', 'assistant']);

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// OpenAI's structured outputs in strict mode: every object lists all its
// properties as required and forbids others; the root is an object.
function checkStrictSchema(s, where, out) {
  if (!isObj(s)) { out.push(`${where}: a schema must be an object`); return; }
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (s.anyOf) {
    if (!Array.isArray(s.anyOf)) out.push(`${where}.anyOf must be an array`);
    else s.anyOf.forEach((x, i) => checkStrictSchema(x, `${where}.anyOf[${i}]`, out));
    return;
  }
  if (s.$ref) return;
  for (const t of types)
    if (!['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'].includes(t))
      out.push(`${where}.type: unsupported type ${JSON.stringify(t)}`);
  if (types.includes('object')) {
    const props = s.properties ?? {};
    if (!isObj(props)) out.push(`${where}.properties must be an object`);
    if (s.additionalProperties !== false)
      out.push(`${where}: strict mode needs "additionalProperties": false`);
    const req = s.required ?? [];
    for (const k of Object.keys(props)) {
      if (!req.includes(k)) out.push(`${where}: strict mode needs "${k}" in "required"`);
      checkStrictSchema(props[k], `${where}.properties.${k}`, out);
    }
    for (const k of req)
      if (!(k in props)) out.push(`${where}: "required" names "${k}", which is not a property`);
  }
  if (types.includes('array')) {
    if (!s.items) out.push(`${where}: an array schema needs "items"`);
    else checkStrictSchema(s.items, `${where}.items`, out);
  }
  if (s.enum && !Array.isArray(s.enum)) out.push(`${where}.enum must be an array`);
}

// The problems of a chat completions body, [] when the real API would take it.
export function chatProblems(b) {
  const p = [];
  if (!isObj(b)) return ['the body is not a JSON object'];
  for (const k of Object.keys(b)) if (!CHAT_PARAMS.has(k)) p.push(`unknown parameter "${k}"`);
  if (typeof b.model !== 'string' || !b.model) p.push('"model" must be a non-empty string');
  if (!Array.isArray(b.messages) || b.messages.length === 0) {
    p.push('"messages" must be a non-empty array');
  } else {
    b.messages.forEach((m, i) => {
      if (!isObj(m)) { p.push(`messages[${i}] is not an object`); return; }
      if (!ROLES.has(m.role)) p.push(`messages[${i}].role ${JSON.stringify(m.role)} is not a role`);
      if (typeof m.content !== 'string') p.push(`messages[${i}].content must be a string`);
      for (const k of Object.keys(m))
        if (!['role', 'content', 'name'].includes(k)) p.push(`messages[${i}] has unknown key "${k}"`);
    });
  }
  if ('temperature' in b && !(typeof b.temperature === 'number' && b.temperature >= 0 && b.temperature <= 2))
    p.push('"temperature" must be a number in [0, 2]');
  for (const k of ['max_tokens', 'max_completion_tokens'])
    if (k in b && !(Number.isInteger(b[k]) && b[k] >= 1)) p.push(`"${k}" must be a positive integer`);
  if (b.stream === true) p.push('"stream": true is not what a JSON client can read');
  if ('response_format' in b) {
    const rf = b.response_format;
    if (!isObj(rf) || !['text', 'json_object', 'json_schema'].includes(rf.type)) {
      p.push('"response_format.type" must be text, json_object or json_schema');
    } else if (rf.type === 'json_schema') {
      const js = rf.json_schema;
      if (!isObj(js)) p.push('"response_format.json_schema" must be an object');
      else {
        if (typeof js.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(js.name))
          p.push('"json_schema.name" must match ^[A-Za-z0-9_-]{1,64}$');
        if ('strict' in js && typeof js.strict !== 'boolean') p.push('"json_schema.strict" must be a boolean');
        if (!isObj(js.schema)) p.push('"json_schema.schema" must be an object');
        else if (js.strict) {
          if (js.schema.type !== 'object') p.push('a strict schema\'s root must be an object');
          checkStrictSchema(js.schema, 'schema', p);
        }
        for (const k of Object.keys(js))
          if (!['name', 'schema', 'strict', 'description'].includes(k)) p.push(`json_schema has unknown key "${k}"`);
      }
    } else if (rf.type === 'json_object') {
      // OpenAI refuses json_object unless a message mentions JSON.
      if (!b.messages?.some((m) => typeof m.content === 'string' && /json/i.test(m.content)))
        p.push('response_format json_object needs the word "JSON" in a message');
    }
  }
  return p;
}

// The problems of an embeddings body.
export function embeddingsProblems(b) {
  const p = [];
  if (!isObj(b)) return ['the body is not a JSON object'];
  for (const k of Object.keys(b)) if (!EMBED_PARAMS.has(k)) p.push(`unknown parameter "${k}"`);
  if (typeof b.model !== 'string' || !b.model) p.push('"model" must be a non-empty string');
  const inp = b.input;
  if (typeof inp === 'string') {
    if (!inp) p.push('"input" must not be empty');
  } else if (Array.isArray(inp)) {
    if (inp.length === 0 || inp.length > 2048) p.push('"input" must hold 1 to 2048 items');
    inp.forEach((s, i) => {
      if (typeof s !== 'string') p.push(`input[${i}] must be a string`);
      else if (!s) p.push(`input[${i}] must not be empty`);
    });
  } else {
    p.push('"input" must be a string or an array of strings');
  }
  if ('encoding_format' in b && !['float', 'base64'].includes(b.encoding_format))
    p.push('"encoding_format" must be float or base64');
  if ('dimensions' in b && !(Number.isInteger(b.dimensions) && b.dimensions >= 1))
    p.push('"dimensions" must be a positive integer');
  return p;
}

let ids = 0;

// A chat completion whose message content is `content` (a string, or an
// object that is sent as its JSON text).
export function chatAnswer(content, { promptTokens = 321, completionTokens = 45, model = 'fake-model', finish = 'stop' } = {}) {
  const text = typeof content === 'string' ? content : JSON.stringify(content);
  return {
    status: 200,
    json: {
      id: `chatcmpl-fake${++ids}`,
      object: 'chat.completion',
      created: 1700000000,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finish }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    },
  };
}

// A deterministic unit vector of `dim` numbers for a text: equal texts get
// equal vectors, and texts sharing words get close ones (bag of hashed words).
export function fakeVector(text, dim) {
  const v = new Array(dim).fill(0);
  for (const w of String(text).toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? ['']) {
    const h = crypto.createHash('sha256').update(w).digest();
    for (let i = 0; i < dim; i++) v[i] += (h[i % 32] / 255 - 0.5) * (h[(i + 7) % 32] & 1 ? 1 : -1);
  }
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

export function embeddingsAnswer(input, dim = 8, model = 'fake-embed') {
  const list = Array.isArray(input) ? input : [input];
  return {
    status: 200,
    json: {
      object: 'list',
      data: list.map((s, index) => ({ object: 'embedding', index, embedding: fakeVector(s, dim) })),
      model,
      usage: { prompt_tokens: list.length * 4, total_tokens: list.length * 4 },
    },
  };
}

// In a recorded chat request: the conversation's user message, the alias
// list of known memories ({alias: text}), and the message time.
export function parsePrompt(req) {
  const msgs = req.body?.messages ?? [];
  const user = msgs.find((m) => m.role === 'user')?.content ?? '';
  const known = {};
  for (const m of user.matchAll(/^(m\d+): (.*) \([^()]*\)$/gm)) known[m[1]] = m[2];
  const time = /Message time: (\d{4}-\d\d-\d\d)/.exec(user)?.[1] ?? null;
  const conv = user.split('Conversation:\n')[1] ?? '';
  return { user, known, time, conversation: conv };
}

// The alias under which a known memory matching `re` was shown, or null.
export function aliasOf(req, re) {
  const { known } = parsePrompt(req);
  for (const [a, t] of Object.entries(known)) if (re.test(t)) return a;
  return null;
}

export async function startFake({ key = null, dim = 8, quiet = false } = {}) {
  const fake = {
    url: '',
    requests: [],
    problems: [],
    chat: [],
    embeddings: [],
    onChat: null,
    onEmbeddings: (req) => embeddingsAnswer(req.body.input, fake.dim),
    dim,
    key,
    sockets: new Set(),
  };

  const problem = (req, what) => {
    const msg = `${req.path}: ${what}`;
    fake.problems.push(msg);
    if (!quiet) process.stderr.write(`fake-openai: INVALID REQUEST ${msg}\n`);
  };

  async function answer(res, a, req) {
    if (typeof a === 'function') {
      try {
        a = await a(req);
      } catch (e) {
        // An assertion in a scripted answer: the test fails (assertValid).
        problem(req, `the scripted answer threw: ${e?.stack ?? e}`);
        a = { status: 500, json: { error: { message: 'fake-openai: the scripted answer threw', type: 'server_error' } } };
      }
    }
    a = a ?? { status: 500, json: { error: { message: 'fake-openai: no answer scripted', type: 'server_error' } } };
    if (a.delay) await new Promise((r) => setTimeout(r, a.delay));
    if (res.destroyed) return;
    if (a.hangup) { res.socket?.destroy(); return; }
    const headers = { ...(a.headers ?? {}) };
    let body = a.body ?? (a.json !== undefined ? JSON.stringify(a.json) : '');
    if (a.json !== undefined || a.partial !== undefined) headers['content-type'] ??= 'application/json';
    if (a.partial !== undefined) {
      // Promise more than is sent, then hang up: a short read for the client.
      res.writeHead(a.status ?? 200, { ...headers, 'content-length': String(Buffer.byteLength(a.partial) + 100) });
      res.write(a.partial);
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    res.writeHead(a.status ?? 200, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body = null;
      try { body = JSON.parse(raw); } catch { /* recorded below */ }
      const rec = { method: req.method, path: req.url, headers: { ...req.headers }, body, raw, at: Date.now() };
      fake.requests.push(rec);
      let probs = [];
      if (req.method !== 'POST') probs.push(`method ${req.method}, expected POST`);
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) probs.push('Content-Type is not application/json');
      if (body === null) probs.push('the body is not JSON');
      const route = req.url === '/v1/chat/completions' ? 'chat' : req.url === '/v1/embeddings' ? 'embeddings' : null;
      if (!route) probs.push(`unknown path ${req.url}`);
      else if (body !== null) probs = probs.concat(route === 'chat' ? chatProblems(body) : embeddingsProblems(body));
      if (fake.key !== null && req.headers.authorization !== `Bearer ${fake.key}`)
        probs.push(`Authorization header is ${JSON.stringify(req.headers.authorization ?? null)}, expected the Bearer key`);
      if (probs.length) {
        probs.forEach((p) => problem(rec, p));
        await answer(res, { status: 400, json: { error: { message: `fake-openai: ${probs.join('; ')}`, type: 'invalid_request_error', param: null, code: null } } }, rec);
        return;
      }
      const queue = fake[route];
      const next = queue.length ? queue.shift() : route === 'chat' ? fake.onChat : fake.onEmbeddings;
      await answer(res, next, rec);
    });
  });
  server.on('connection', (s) => { fake.sockets.add(s); s.on('close', () => fake.sockets.delete(s)); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  fake.port = server.address().port;
  fake.url = `http://127.0.0.1:${fake.port}/v1`;
  fake.chatRequests = () => fake.requests.filter((r) => r.path === '/v1/chat/completions');
  fake.embeddingRequests = () => fake.requests.filter((r) => r.path === '/v1/embeddings');
  fake.assertValid = () => {
    if (fake.problems.length) throw new Error(`requests not valid for the OpenAI API:\n  ${fake.problems.join('\n  ')}`);
  };
  fake.reset = () => { fake.requests.length = 0; fake.chat.length = 0; fake.embeddings.length = 0; };
  fake.close = () => new Promise((r) => {
    for (const s of fake.sockets) s.destroy();
    server.close(() => r());
  });
  return fake;
}
