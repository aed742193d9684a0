// Settings (kept in this browser's localStorage only) and the assistant's
// reply: a chat completion against any OpenAI-compatible endpoint, with what
// the bank recalled placed in the system prompt.

const KEY = 'mnemo-demo.settings';

export function loadSettings() {
  let s = {};
  try { s = JSON.parse(localStorage.getItem(KEY) || '{}') || {}; } catch { s = {}; }
  return {
    mode: s.mode === 'llm' ? 'llm' : 'offline',
    baseURL: typeof s.baseURL === 'string' ? s.baseURL : '',
    model: typeof s.model === 'string' ? s.model : '',
    apiKey: typeof s.apiKey === 'string' ? s.apiKey : '',
  };
}

// Returns an error message, or '' when the settings are usable.
export function checkSettings(s) {
  if (s.mode !== 'llm') return '';
  if (!s.baseURL) return 'Set the endpoint\'s base URL (e.g. https://api.openai.com/v1), or choose offline mode.';
  let u;
  try { u = new URL(s.baseURL); } catch { return `The base URL is not a URL: "${s.baseURL}".`; }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `The base URL must be http(s), got "${u.protocol}".`;
  if (!s.model) return 'Set the model name (e.g. gpt-4o-mini, llama3.1).';
  return '';
}

export function saveSettings(s) {
  localStorage.setItem(KEY, JSON.stringify(s));
}

const SYSTEM = `You are a friendly assistant with a long-term memory of this user.
Use what you remember when it helps, say so briefly when you rely on it, and never
invent memories. Keep answers short.`;

// The assistant's reply. `memoryBlock` is the text recalled for this message;
// `recent` the last turns of this session ([{role, content}]).
export async function chatReply(settings, memoryBlock, recent, message, signal) {
  const url = settings.baseURL.replace(/\/+$/, '') + '/chat/completions';
  const system = memoryBlock
    ? `${SYSTEM}\n\nWhat you remember about the user:\n${memoryBlock}`
    : `${SYSTEM}\n\nYou remember nothing about this user yet.`;
  const headers = { 'content-type': 'application/json' };
  if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`;
  let res;
  try {
    res = await fetch(url, {
      method: 'POST', headers, signal,
      body: JSON.stringify({
        model: settings.model,
        messages: [{ role: 'system', content: system }, ...recent, { role: 'user', content: message }],
      }),
    });
  } catch (e) {
    throw new Error(`Could not reach ${url} (${e.message}). Is the endpoint running, and does it allow requests from this page (CORS)?`);
  }
  const body = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${body.slice(0, 300)}`);
  let json;
  try { json = JSON.parse(body); } catch { throw new Error(`${url} answered with something that is not JSON: ${body.slice(0, 200)}`); }
  const text = json?.choices?.[0]?.message?.content;
  if (typeof text !== 'string') throw new Error(`${url} answered without choices[0].message.content`);
  return text.trim();
}
