// The demo: a chat assistant that remembers its user, with a memory
// inspector. Everything runs in this page: the memory engine (WebAssembly),
// the bank (SQLite pages in IndexedDB), and, when a model is set, the calls
// to its OpenAI-compatible endpoint.
import { Mnemo, openai } from 'mnemo-wasm';
import { loadSettings, saveSettings, checkSettings, chatReply } from './llm.js';

const BANK = 'demo-user';          // one bank: the person using this browser
const RECALL_LIMIT = 5;            // memories offered to each answer
const CONTEXT_TOKENS = 600;        // budget for them in the model's prompt
const RECENT_TURNS = 6;            // this session's messages sent with each question

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'), log: $('log'), composer: $('composer'), message: $('message'),
  send: $('send'), settings: $('settings'), settingsForm: $('settings-form'),
  memories: $('memories'), empty: $('empty'), count: $('count'), search: $('search'),
  exportBtn: $('export'), importButton: $('import-button'), importInput: $('import'), forget: $('forget'), note: $('note'),
};

let settings = loadSettings();
let bank = null;                   // the open bank, or null (before open, after "forget me")
let forgotten = false;             // "forget me" ran: show nothing, open nothing until asked
const recent = [];                 // [{role, content}] of this session, for the model
const texts = new Map();           // id -> text of memories seen, to name forgotten ones
const channel = 'BroadcastChannel' in self ? new BroadcastChannel('mnemo-demo') : null;

// One operation at a time on the bank: a turn, an edit and a refresh of the
// inspector never interleave, so what is shown is what is stored.
let queue = Promise.resolve();
function serial(fn) {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

function describeError(e) {
  const code = e && (e.code || e.name);
  const msg = (e && e.message) || String(e);
  return code && !msg.startsWith(code) ? `${code}: ${msg}` : msg;
}

function setStatus(text) { ui.status.textContent = text; }
function note(text) { ui.note.textContent = text; }

function modeLabel() {
  return settings.mode === 'llm' && !checkSettings(settings)
    ? `Model: ${settings.model} at ${new URL(settings.baseURL).host}`
    : 'Offline mode (no model; set one in Settings)';
}

// ---- the bank -------------------------------------------------------------

async function openBank() {
  if (bank) return bank;
  forgotten = false;
  const options = { bank: BANK, storage: 'indexeddb' };
  if (settings.mode === 'llm' && !checkSettings(settings)) {
    // The model extracts facts when retaining; without it the core's
    // heuristic extractor does, and keeps the turn for a model later.
    options.llm = openai({ baseURL: settings.baseURL, apiKey: settings.apiKey || undefined, model: settings.model });
  }
  bank = await Mnemo.open(options);
  return bank;
}

async function closeBank() {
  const b = bank;
  bank = null;
  if (b) await b.close();
}

// The IndexedDB database(s) that hold the bank's pages, removed for good.
async function removeStorage() {
  if (typeof Mnemo.destroy === 'function') { await Mnemo.destroy({ bank: BANK, storage: 'indexeddb' }); return; }
  if (typeof Mnemo.drop === 'function') { await Mnemo.drop(BANK, { storage: 'indexeddb' }); return; }
  const dbs = indexedDB.databases ? await indexedDB.databases() : [];
  await Promise.all(dbs.filter((d) => d.name && d.name.includes(BANK)).map((d) => new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(d.name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error || new Error(`could not delete IndexedDB database ${d.name}`));
  })));
}

// After a failure that leaves the bank's store unusable (deleted in another
// tab, a failed commit), drop the handle: the next operation reopens the bank
// from IndexedDB, as it was before the failure.
const STORE_GONE = ['MNEMO_EMISUSE', 'MNEMO_EBUSY', 'MNEMO_EIO', 'MNEMO_EFULL'];
function recover(e) {
  if (e && STORE_GONE.includes(e.code)) serial(closeBank).then(refresh, () => {});
}

function announce(what) { if (channel) channel.postMessage(what); }

// ---- results from the package, whatever their exact shape --------------------

const listOf = (x, ...keys) => {
  if (Array.isArray(x)) return x;
  for (const k of keys) if (x && Array.isArray(x[k])) return x[k];
  return [];
};

// What a retain did, as [{tag, text, old}]: learned (new memories), changed
// (updated in place), superseded (replaced by a newer fact), forgotten.
export function changesOf(result) {
  const out = [];
  const add = (tag, list) => {
    for (const x of list || []) {
      if (typeof x === 'string') { out.push({ tag, id: x, text: texts.get(x) || x }); continue; }
      const text = x.text ?? x.new ?? x.memory ?? texts.get(x.id) ?? x.id;
      out.push({ tag, id: x.id, text, old: x.old_text ?? x.oldText ?? x.old ?? null });
    }
  };
  add('learned', result?.learned ?? result?.added);
  add('changed', result?.changed ?? result?.updated);
  add('superseded', result?.superseded);
  add('forgotten', result?.forgotten ?? result?.removed);
  return out;
}

function remember(items) { for (const m of items) if (m && m.id && m.text) texts.set(m.id, m.text); }

// ---- the chat -------------------------------------------------------------

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}

function usedPanel(results) {
  const box = el('div', { class: 'used', 'data-part': 'used' });
  box.append(el('h3', {}, results.length ? `Memories used (${results.length})` : 'Memories used: none'));
  if (results.length) {
    const ul = el('ul');
    for (const r of results) {
      const score = typeof r.score === 'number' ? ` (score ${r.score.toFixed(3)})` : '';
      ul.append(el('li', { 'data-id': r.id }, r.text, el('span', { class: 'score' }, score)));
    }
    box.append(ul);
  }
  return box;
}

function learnedPanel(changes, result) {
  const mode = (result && result.mode) || 'manual';
  const box = el('div', { class: 'learned', 'data-part': 'learned', 'data-mode': mode });
  const pending = result && (result.pending || result.status === 'pending');
  const by = mode === 'llm' ? ' (by the model)' : mode === 'heuristic' ? ' (offline heuristic)' : '';
  box.append(el('h3', {}, changes.length ? `What I learned or changed${by}` : `Nothing new to remember${by}`));
  if (changes.length) {
    const ul = el('ul');
    for (const c of changes) {
      ul.append(el('li', { 'data-tag': c.tag }, el('span', { class: 'tag' }, c.tag),
        c.old ? `${c.old} → ${c.text}` : c.text));
    }
    box.append(ul);
  }
  if (pending) box.append(el('p', { class: 'score' }, 'Offline: kept as said, plus the obvious facts; a model can revisit it later.'));
  return box;
}

function offlineReply(results, changes) {
  const lines = [];
  if (results.length) {
    lines.push('Here is what I remember that may help:');
    for (const r of results) lines.push(`• ${r.text}`);
  } else {
    lines.push("I don't remember anything about that yet.");
  }
  const learned = changes.filter((c) => c.tag !== 'forgotten');
  if (learned.length) lines.push('', `I noted ${learned.length === 1 ? 'one thing' : `${learned.length} things`} about you (below).`);
  return lines.join('\n');
}

async function turn(message) {
  const li = el('li', { class: 'turn', 'data-state': 'working' });
  li.append(el('p', { class: 'bubble user' }, message));
  const answer = el('p', { class: 'bubble assistant' }, 'Thinking…');
  li.append(answer);
  ui.log.append(li);
  li.scrollIntoView({ block: 'end' });
  try {
    const b = await openBank();
    // Recall before retaining, so the message does not find itself.
    const recalled = await b.recall(message, { limit: RECALL_LIMIT, maxTokens: CONTEXT_TOKENS });
    const results = listOf(recalled, 'results');
    remember(results);
    li.insertBefore(usedPanel(results), answer);

    let reply = null, replyError = null;
    const llm = settings.mode === 'llm' && !checkSettings(settings);
    if (llm) {
      const block = results.map((r) => `- ${r.text}`).join('\n');
      try { reply = await chatReply(settings, block, recent.slice(-RECENT_TURNS), message); } catch (e) { replyError = e; }
    }
    const turnMessages = [{ role: 'user', content: message }];
    if (reply) turnMessages.push({ role: 'assistant', content: reply });
    const result = await b.retain(turnMessages, { infer: true });
    const changes = changesOf(result);
    remember(changes);
    announce('changed');

    if (llm) {
      if (replyError) { answer.textContent = `The model could not answer: ${describeError(replyError)}`; answer.classList.add('error'); }
      else answer.textContent = reply;
      if (reply) recent.push({ role: 'user', content: message }, { role: 'assistant', content: reply });
    } else {
      answer.textContent = offlineReply(results, changes);
    }
    li.append(learnedPanel(changes, result));
    li.dataset.state = 'done';
  } catch (e) {
    answer.textContent = `Error: ${describeError(e)} (your message is back in the box).`;
    answer.classList.add('error');
    li.dataset.state = 'error';
    if (!ui.message.value) ui.message.value = message;   // nothing the user typed is lost
    // A bank whose store went away (deleted in another tab, a failed commit)
    // is reopened from IndexedDB by the next operation.
    if (e && STORE_GONE.includes(e.code)) await closeBank().catch(() => {});
  }
  li.scrollIntoView({ block: 'end' });
  await refreshNow().catch((e) => note(`Could not read the memories: ${describeError(e)}`));
}

ui.composer.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const message = ui.message.value.trim();
  if (!message) return;
  ui.message.value = '';
  ui.send.disabled = true;
  ui.log.setAttribute('aria-busy', 'true');
  serial(() => turn(message)).finally(() => {
    ui.send.disabled = false;
    ui.log.setAttribute('aria-busy', 'false');
    ui.message.focus();
  });
});

ui.message.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    ui.composer.requestSubmit();
  }
});

// ---- the inspector ----------------------------------------------------------

function fmtTime(t) {
  if (t == null) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString();
}

function memoryItem(m) {
  const li = document.getElementById('memory-item').content.firstElementChild.cloneNode(true);
  li.dataset.id = m.id;
  li.querySelector('.text').textContent = m.text;
  const meta = [m.kind, m.source, fmtTime(m.updated_at || m.created_at)];
  if (typeof m.score === 'number') meta.push(`score ${m.score.toFixed(3)}`);
  li.querySelector('.meta').textContent = meta.filter(Boolean).join(' · ');
  for (const btn of li.querySelectorAll('button')) btn.setAttribute('aria-label', `${btn.textContent}: ${m.text}`);
  return li;
}

async function refreshNow() {
  if (!bank && !forgotten) await openBank();
  if (!bank) {
    ui.memories.replaceChildren();
    ui.empty.hidden = false;
    ui.count.textContent = '(0)';
    return;
  }
  const q = ui.search.value.trim();
  let items;
  if (q) items = listOf(await bank.recall(q, { limit: 50 }), 'results');
  else items = listOf(await bank.list({ limit: 500 }), 'memories', 'results', 'items');
  remember(items);
  ui.memories.replaceChildren(...items.map(memoryItem));
  ui.empty.hidden = items.length > 0;
  ui.empty.textContent = q ? `No memory matches “${q}”.` : 'Nothing is stored.';
  let total = items.length;
  try { const s = await bank.stats(); if (typeof s?.memories === 'number') total = s.memories; } catch { /* count what is shown */ }
  ui.count.textContent = q ? `(${items.length} of ${total})` : `(${total})`;
}

function refresh() {
  return serial(refreshNow).catch((e) => note(`Could not read the memories: ${describeError(e)}`));
}

let searchTimer = 0;
ui.search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(refresh, 150);
});

function startEdit(li, id) {
  const p = li.querySelector('.text');
  if (li.querySelector('form')) return;
  const form = el('form', { class: 'edit' });
  const fieldId = `edit-${id}`;
  const area = el('textarea', { id: fieldId, rows: '2' });
  area.value = p.textContent;
  const save = el('button', { type: 'submit' }, 'Save');
  const cancel = el('button', { type: 'button' }, 'Cancel');
  form.append(el('label', { for: fieldId }, 'Edit memory'), area, el('div', { class: 'actions' }, save, cancel));
  p.hidden = true;
  p.after(form);
  area.focus();
  cancel.addEventListener('click', () => { form.remove(); p.hidden = false; });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = area.value.trim();
    if (!text) { note('A memory cannot be empty; delete it instead.'); return; }
    save.disabled = true;
    serial(async () => {
      await bank.update(id, { text });
      announce('changed');
      note('Memory updated.');
      await refreshNow();
    }).catch((e) => { save.disabled = false; note(`Could not update: ${describeError(e)}`); recover(e); });
  });
}

async function showHistory(li, id) {
  const old = li.querySelector('.history');
  if (old) { old.remove(); return; }
  const h = await serial(() => bank.history(id));
  const ol = el('ol', { class: 'history', 'aria-label': 'History' });
  for (const ev of listOf(h, 'history', 'events')) {
    const what = ev.event || ev.type || '?';
    // old/new are the memory before and after (objects), or just their texts.
    const textOf = (x) => (x == null ? null : typeof x === 'string' ? x : x.text ?? null);
    const before = textOf(ev.old), after = textOf(ev.new);
    let text = after ?? before ?? '';
    if (before != null && after != null && before !== after) text = `${before} → ${after}`;
    const why = ev.reason ? ` (${ev.reason})` : '';
    ol.append(el('li', {}, `${what} ${fmtTime(ev.at ?? ev.created_at)}${text ? ': ' + text : ''}${why}`));
  }
  li.append(ol);
}

ui.memories.addEventListener('click', (ev) => {
  const btn = ev.target.closest('button[data-act]');
  if (!btn) return;
  const li = btn.closest('li.memory');
  const id = li.dataset.id;
  if (btn.dataset.act === 'edit') startEdit(li, id);
  else if (btn.dataset.act === 'history') showHistory(li, id).catch((e) => note(`Could not read the history: ${describeError(e)}`));
  else if (btn.dataset.act === 'delete') {
    serial(async () => {
      await bank.delete(id);
      announce('changed');
      note(`Deleted: ${texts.get(id) || id}`);
      await refreshNow();
    }).catch((e) => { note(`Could not delete: ${describeError(e)}`); recover(e); });
  }
});

// Export: the bank as JSON Lines (the format `mnemo import` and the CLI read).
async function exportText(b) {
  const x = await b.export();
  if (typeof x === 'string') return x;
  if (x instanceof Blob) return x.text();
  if (x instanceof Uint8Array || x instanceof ArrayBuffer) return new TextDecoder().decode(x);
  if (x && typeof x[Symbol.asyncIterator] === 'function') {
    const lines = [];
    for await (const line of x) lines.push(typeof line === 'string' ? line : JSON.stringify(line));
    return lines.join('\n') + (lines.length ? '\n' : '');
  }
  if (Array.isArray(x)) return x.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + (x.length ? '\n' : '');
  throw new Error('export returned an unexpected value');
}

ui.exportBtn.addEventListener('click', () => {
  serial(async () => {
    const b = await openBank();
    const text = await exportText(b);
    const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
    const a = el('a', { href: url, download: `mnemo-${BANK}-${new Date().toISOString().slice(0, 10)}.jsonl` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    const n = text.split('\n').filter((l) => {
      try { return (JSON.parse(l).type ?? 'memory') === 'memory'; } catch { return false; }
    }).length;
    note(`Exported ${n} memor${n === 1 ? 'y' : 'ies'} (with their history).`);
  }).catch((e) => note(`Could not export: ${describeError(e)}`));
});

ui.importButton.addEventListener('click', () => ui.importInput.click());
ui.importInput.addEventListener('change', () => {
  const file = ui.importInput.files && ui.importInput.files[0];
  ui.importInput.value = '';
  if (!file) return;
  serial(async () => {
    const text = await file.text();
    const b = await openBank();
    const r = await b.import(text);
    const n = typeof r === 'number' ? r : r?.imported;
    announce('changed');
    note(`Imported ${n ?? 'the'} memor${n === 1 ? 'y' : 'ies'} from ${file.name}.`);
    await refreshNow();
  }).catch((e) => { note(`Nothing was imported from ${file.name}: ${describeError(e)}`); recover(e); });
});

// "Forget me": every memory goes, then the bank's IndexedDB database itself.
// Nothing is reopened until the next message, so nothing is left behind.
ui.forget.addEventListener('click', () => {
  if (!confirm('Forget everything this assistant knows about you? This cannot be undone.')) return;
  ui.forget.disabled = true;
  announce('forget');
  serial(async () => {
    const b = await openBank();
    await b.deleteAll();
    await closeBank();
    await removeStorage();
    forgotten = true;
    texts.clear();
    recent.length = 0;
    ui.log.replaceChildren();
    note('Forgotten: nothing about you is stored in this browser any more.');
    await refreshNow();
  }).catch((e) => note(`Could not forget: ${describeError(e)}`))
    .finally(() => { ui.forget.disabled = false; });
});

// Another tab of this page changed the bank: show it; it forgets: let go.
if (channel) {
  channel.onmessage = (ev) => {
    if (ev.data === 'forget') serial(async () => { await closeBank(); forgotten = true; }).then(refresh);
    else refresh();
  };
}

// ---- settings ---------------------------------------------------------------

function showSettings() {
  const f = ui.settingsForm;
  f.elements.mode.value = settings.mode;
  f.elements.baseURL.value = settings.baseURL;
  f.elements.model.value = settings.model;
  f.elements.apiKey.value = settings.apiKey;
  syncFields();
}

function syncFields() {
  const offline = ui.settingsForm.elements.mode.value !== 'llm';
  const box = ui.settingsForm.querySelector('.llm-fields');
  box.setAttribute('aria-disabled', String(offline));
  for (const i of box.querySelectorAll('input')) i.disabled = offline;
}

ui.settingsForm.addEventListener('change', syncFields);
ui.settingsForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = ui.settingsForm.elements;
  const next = { mode: f.mode.value, baseURL: f.baseURL.value.trim(), model: f.model.value.trim(), apiKey: f.apiKey.value };
  const problem = checkSettings(next);
  if (problem) { setStatus(problem); return; }
  settings = next;
  saveSettings(settings);
  ui.settings.open = false;
  // The model is given to the bank when it opens: reopen with the new one.
  serial(async () => {
    if (bank) { await closeBank(); await openBank(); }
    setStatus(`${modeLabel()} · memory in this browser (IndexedDB)`);
    // What was said while offline waits for a model: let this one look at it.
    if (settings.mode === 'llm' && bank && typeof bank.processPending === 'function') {
      try {
        const r = await bank.processPending({ limit: 20 });
        if (r && r.processed) {
          note(`The model looked again at ${r.processed} earlier message${r.processed === 1 ? '' : 's'} kept while offline.`);
          announce('changed');
          await refreshNow();
        }
      } catch (e) {
        note(`The model could not look at earlier messages yet: ${describeError(e)}`);
      }
    }
  }).catch((e) => setStatus(`Could not reopen the bank: ${describeError(e)}`));
});

// ---- start --------------------------------------------------------------------

showSettings();
serial(async () => {
  await openBank();
  setStatus(`${modeLabel()} · memory in this browser (IndexedDB)`);
  await refreshNow();
  document.documentElement.dataset.ready = 'true';
}).catch((e) => {
  setStatus(`The memory engine did not start: ${describeError(e)}`);
  document.documentElement.dataset.ready = 'error';
});
