// A small client of the edge service's REST API (see wasi/ for the service):
// retain, recall, list, delete, forget the bank. Requests go to this page's
// own origin under /api, which the demo server forwards to the service.
const $ = (id) => document.getElementById(id);
const conn = { token: '', bank: '' };

async function api(method, path, body) {
  const res = await fetch(`/api/v1/banks/${encodeURIComponent(conn.bank)}${path}`, {
    method,
    headers: { authorization: `Bearer ${conn.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: reported below */ }
  if (!res.ok) {
    const e = json && json.error;
    throw new Error(e ? `${res.status} ${e.code || ''} ${e.message || ''}`.trim() : `${res.status} ${text.slice(0, 200)}`);
  }
  return json;
}

function log(title, lines) {
  const li = document.createElement('li');
  li.className = 'turn';
  const p = document.createElement('p');
  p.className = 'bubble assistant';
  p.textContent = [title, ...lines.map((l) => `• ${l}`)].join('\n');
  li.append(p);
  $('log').prepend(li);
}

function status(text) { $('status').textContent = text; }

async function refresh() {
  const r = await api('GET', '/memories?limit=200');
  const items = (r && (r.memories || r.results)) || [];
  $('memories').replaceChildren(...items.map((m) => {
    const li = document.createElement('li');
    li.className = 'memory';
    const p = document.createElement('p');
    p.className = 'text';
    p.textContent = m.text;
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'danger';
    del.textContent = 'Delete';
    del.setAttribute('aria-label', `Delete: ${m.text}`);
    del.onclick = () => api('DELETE', `/memories/${encodeURIComponent(m.id)}`).then(refresh).catch((e) => status(e.message));
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(del);
    li.append(p, actions);
    return li;
  }));
  $('empty').hidden = items.length > 0;
  $('count').textContent = `(${items.length})`;
}

$('conn').addEventListener('submit', (ev) => {
  ev.preventDefault();
  conn.token = $('token').value;
  conn.bank = $('bank').value.trim();
  refresh().then(() => status(`Connected: bank "${conn.bank}".`)).catch((e) => status(`Could not connect: ${e.message}`));
});

$('retain').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = $('message').value.trim();
  if (!text) return;
  api('POST', '/memories', { messages: [{ role: 'user', content: text }], infer: true })
    .then((r) => {
      $('message').value = '';
      const learned = (r.learned || r.added || []).map((m) => m.text);
      log(`Retained: "${text}"`, learned.length ? learned : ['(nothing new)']);
      return refresh();
    })
    .catch((e) => status(`Retain failed: ${e.message}`));
});

$('recall').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const query = $('query').value.trim();
  if (!query) return;
  api('POST', '/recall', { query, limit: 5 })
    .then((r) => log(`Recalled for "${query}":`, (r.results || []).map((m) => `${m.text} (score ${Number(m.score).toFixed(3)})`)))
    .catch((e) => status(`Recall failed: ${e.message}`));
});

$('refresh').addEventListener('click', () => refresh().catch((e) => status(e.message)));
$('forget').addEventListener('click', () => {
  if (!confirm(`Forget everything in bank "${conn.bank}"?`)) return;
  api('DELETE', '').then(refresh).then(() => status(`Bank "${conn.bank}" forgotten.`)).catch((e) => status(e.message));
});

$('conn').requestSubmit();
