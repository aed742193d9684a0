// The demo's model for the LLM path: the shared fake OpenAI-compatible server
// (tests/fake-openai.mjs, which checks every request against what the real
// API accepts), answering by rule, behind a small CORS front so a page on
// another origin can call it, as it would call a real endpoint.
//
// Answers:
//   - the core's extraction request (system prompt "You maintain a long-term
//     memory about the user"): each clause of each [user] line that is a
//     statement ("I prefer dark mode", "I use Python") becomes an ADD fact in
//     the third person ("User prefers dark mode"), with topics and entities
//     for the words it knows; questions are skipped. So
//     what the page shows as learned comes from the model's answer, not from
//     the core's heuristic.
//   - any other chat request (the demo's reply): "You told me: <first
//     remembered line>." when the system prompt carries memories, else
//     "Nice to meet you."
import http from 'node:http';
import { startFake, chatAnswer, parsePrompt } from '../fake-openai.mjs';

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

// Topics and entities, as the prompt asks a model to give them ("topics: 1
// to 3 general subjects, e.g. programming language"), for the few words
// these tests use.
const LEXICON = [
  [/\b(python|rust|javascript|typescript|go|java)\b/i, 'programming language', 'language'],
  [/\b(dark|light) mode\b|\btheme\b/i, 'user interface', null],
];

function tag(text) {
  const topics = [], entities = [];
  for (const [re, topic, type] of LEXICON) {
    const m = re.exec(text);
    if (!m) continue;
    topics.push(topic);
    if (type) entities.push({ name: m[0][0].toUpperCase() + m[0].slice(1), type });
  }
  return { topics, entities };
}

export function extractFacts(conversation) {
  const facts = [];
  for (const line of conversation.split('\n')) {
    const m = /^\[user\]\s*(.*)$/.exec(line);
    if (!m || /\?\s*$/.test(m[1])) continue;
    for (const clause of m[1].split(/\s*(?:,|;|\.|\band\b)\s*/i)) {
      const text = thirdPerson(clause);
      if (!text) continue;
      facts.push({ op: 'ADD', ref: null, text, kind: 'preference', ...tag(text),
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

// A loopback front that answers CORS preflights and forwards everything else
// to `target`, adding Access-Control-Allow-Origin to the answer.
function corsFront(target) {
  const t = new URL(target);
  const server = http.createServer((req, res) => {
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': req.headers['access-control-request-headers'] || 'authorization, content-type',
      'access-control-max-age': '600',
    };
    if (req.method === 'OPTIONS') { res.writeHead(204, cors); res.end(); return; }
    const up = http.request({ host: t.hostname, port: t.port, path: req.url, method: req.method,
      headers: { ...req.headers, host: t.host } }, (r) => {
      res.writeHead(r.statusCode, { ...r.headers, ...cors });
      r.pipe(res);
    });
    up.on('error', () => { res.writeHead(502, cors); res.end(); });
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function startDemoLLM({ key }) {
  const fake = await startFake({ key });
  fake.onChat = (req) => {
    const msgs = req.body.messages;
    if (/^You maintain a long-term memory/.test(msgs[0]?.content || ''))
      return chatAnswer(JSON.stringify(extractFacts(parsePrompt(req).conversation)));
    return chatAnswer(reply(msgs));
  };
  const front = await corsFront(fake.url);
  return {
    url: `http://127.0.0.1:${front.address().port}/v1`,
    requests: fake.requests,
    assertValid: fake.assertValid,
    close: async () => {
      front.closeAllConnections();
      await new Promise((r) => front.close(r));
      await fake.close();
    },
  };
}
