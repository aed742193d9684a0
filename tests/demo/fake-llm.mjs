// A small OpenAI-compatible test double for the demo's LLM path, on
// 127.0.0.1, reachable from a page on another origin (CORS).
//
// POST /v1/chat/completions
//   - the core's extraction request (system prompt "You maintain a long-term
//     memory about the user"): each clause of each [user] line of the
//     conversation that is a statement ("I prefer dark mode", "I use Python")
//     becomes an ADD fact in the third person ("User prefers dark mode");
//     questions are skipped. So what the page shows as learned comes from
//     this server's answer, not from the core's heuristic.
//   - any other chat request (the demo's reply): "You told me: <first
//     remembered line>." when the system prompt carries memories, else
//     "Nice to meet you." The reply names what the model was given.
// POST /v1/embeddings: deterministic 8-dimensional vectors.
// Every request is recorded (requests[]) with its headers and body.
import http from 'node:http';

function thirdPerson(clause) {
  const m = /^i\s+(\w+)(.*)$/i.exec(clause.trim());
  if (!m) return null;
  let verb = m[1].toLowerCase();
  if (verb === 'am') verb = 'is';
  else if (verb === 'have') verb = 'has';
  else if (/(s|sh|ch|x|o)$/.test(verb)) verb += 'es';
  else if (/[^aeiou]y$/.test(verb)) verb = verb.slice(0, -1) + 'ies';
  else verb += 's';
  return `User ${verb}${m[2]}`.replace(/[.!\s]+$/, '');
}

export function extractFacts(userMessage) {
  const facts = [];
  const conv = userMessage.split('\nConversation:\n')[1] || '';
  for (const line of conv.split('\n')) {
    const m = /^\[user\]\s*(.*)$/.exec(line);
    if (!m || /\?\s*$/.test(m[1])) continue;
    for (const clause of m[1].split(/\s*(?:,|;|\.|\band\b)\s*/i)) {
      const text = thirdPerson(clause);
      if (!text) continue;
      facts.push({ op: 'ADD', ref: null, text, kind: 'preference', topics: [], entities: [],
                   relations: [], when: null, confidence: 0.9 });
    }
  }
  return { facts, delete: [] };
}

function reply(messages) {
  const sys = messages.find((m) => m.role === 'system')?.content || '';
  const lines = sys.split('\n').filter((l) => l.startsWith('- ')).map((l) => l.slice(2));
  return lines.length ? `You told me: ${lines[0]}.` : 'Nice to meet you.';
}

export function startFakeLLM() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': req.headers['access-control-request-headers'] || 'authorization, content-type',
      'access-control-max-age': '600',
    };
    const json = (status, body) => {
      res.writeHead(status, { ...cors, 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'OPTIONS') { res.writeHead(204, cors); res.end(); return; }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body;
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch {
        return json(400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
      }
      const path = new URL(req.url, 'http://x').pathname;
      requests.push({ path, headers: req.headers, body });
      if (req.method !== 'POST') return json(405, { error: { message: 'POST only' } });
      if (path === '/v1/embeddings') {
        const input = Array.isArray(body.input) ? body.input : [body.input];
        const data = input.map((t, index) => {
          const v = new Array(8).fill(0);
          for (let i = 0; i < String(t).length; i++) v[i % 8] += String(t).charCodeAt(i) / 1000;
          return { object: 'embedding', index, embedding: v };
        });
        return json(200, { object: 'list', data, model: body.model || 'fake-embed', usage: { prompt_tokens: 1, total_tokens: 1 } });
      }
      if (path !== '/v1/chat/completions') return json(404, { error: { message: `no route ${path}` } });
      if (!Array.isArray(body.messages) || body.messages.length === 0)
        return json(400, { error: { message: 'messages must be a non-empty array', type: 'invalid_request_error' } });
      const sys = body.messages[0].role === 'system' ? body.messages[0].content : '';
      const user = body.messages.filter((m) => m.role === 'user').at(-1)?.content || '';
      const content = sys.startsWith('You maintain a long-term memory')
        ? JSON.stringify(extractFacts(user))
        : reply(body.messages);
      return json(200, {
        id: `chatcmpl-${requests.length}`, object: 'chat.completion', model: body.model || 'fake',
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}/v1`;
      resolve({ url, requests, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) });
    });
  });
}
