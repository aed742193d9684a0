/*
 * mem0-facade.js: `Memory` with the method names and result shapes of the
 * mem0 TypeScript SDK's open-source Memory (mem0ai/oss), over Mnemo banks,
 * so a mem0 user switches with one import:
 *
 *   import { Memory } from 'mnemo-wasm/mem0';
 *   const memory = new Memory({ storage: 'indexeddb', llm: {...}, embedder: {...} });
 *   await memory.add(messages, { userId: 'alice' });
 *   const { results } = await memory.search('what does she like?', { userId: 'alice' });
 *
 * Differences that are deliberate:
 * - Isolation: each userId (else agentId, else runId) is its own bank
 *   ("user:alice"), not a filter over one shared store. agentId and runId
 *   within a user's bank are metadata (agent_id, run_id) and filter it.
 * - Ids are identifiers: userId "*" is refused (MNEMO_EINVAL), where mem0
 *   reads it as a wildcard over every user's memories.
 * - get/update/delete/history(memoryId) look in the banks this Memory has
 *   opened; pass {userId} as a second argument to name the bank.
 * Config: Mnemo.open's options (storage, llm, embedder as providers), or
 * mem0's {llm: {provider: 'openai', config: {apiKey, model, baseURL}},
 * embedder: {provider: 'openai', config: {apiKey, model, embeddingDims}}}.
 */
import { MnemoError } from './errors.js';
import { openai } from './providers.js';

function fromMem0Provider(p, role) {
  if (p == null || typeof p === 'function' || typeof p.call === 'function') return p;
  if (typeof p === 'object' && p.provider) {
    const c = p.config || {};
    if (p.provider !== 'openai')
      throw new MnemoError('MNEMO_EINVAL', `mem0 ${role} provider "${p.provider}" is not built in: pass openai({...}) with its baseURL, or an async function`);
    const cfg = { apiKey: c.apiKey, model: c.model, baseURL: c.baseURL || c.openaiBaseUrl || c.url };
    if (role === 'embedder') return openai.embeddings({ ...cfg, dimensions: c.embeddingDims || c.dimensions });
    return openai(cfg);
  }
  return p;
}

function scopeOf(cfg = {}, what) {
  const { userId, agentId, runId } = cfg;
  if (userId == null && agentId == null && runId == null)
    throw new MnemoError('MNEMO_EINVAL', `${what}: one of the filters userId, agentId or runId is required`);
  for (const [k, v] of Object.entries({ userId, agentId, runId }))
    if (v != null && (typeof v !== 'string' || !v)) throw new MnemoError('MNEMO_EINVAL', `${what}: ${k} must be a non-empty string, got ${JSON.stringify(v)}`);
  const bank = userId != null ? `user:${userId}` : agentId != null ? `agent:${agentId}` : `run:${runId}`;
  const meta = {};
  if (userId != null && agentId != null) meta.agent_id = agentId;
  if ((userId != null || agentId != null) && runId != null) meta.run_id = runId;
  return { bank, meta, userId, agentId, runId };
}

function item(m, scope) {
  const meta = m.metadata && typeof m.metadata === 'object' ? { ...m.metadata } : {};
  const out = {
    id: m.id,
    memory: m.text,
    hash: m.hash,
    createdAt: m.created_at,
    updatedAt: m.updated_at,
    metadata: meta,
  };
  if (m.score !== undefined) out.score = m.score;
  if (scope && scope.userId != null) out.userId = scope.userId;
  if (meta.agent_id != null) out.agentId = meta.agent_id;
  else if (scope && scope.agentId != null) out.agentId = scope.agentId;
  if (meta.run_id != null) out.runId = meta.run_id;
  else if (scope && scope.runId != null) out.runId = scope.runId;
  return out;
}

export function createMemoryClass(Mnemo) {
  return class Memory {
    constructor(config = {}) {
      this._config = { ...config, llm: fromMem0Provider(config.llm, 'llm'), embedder: fromMem0Provider(config.embedder, 'embedder') };
      this._banks = new Map(); // bank name -> Promise<Mnemo>
    }

    _open(name) {
      let p = this._banks.get(name);
      if (!p) {
        const { storage = 'memory', llm, embedder, seed, llmOptions, storageOptions } = this._config;
        // One seed per bank: equal seeds would give equal ids in every bank,
        // and get/update/delete(memoryId) look across banks.
        let bankSeed;
        if (seed !== undefined) {
          bankSeed = Number(seed) >>> 0;
          for (const ch of name) bankSeed = (Math.imul(bankSeed ^ ch.codePointAt(0), 16777619) >>> 0);
        }
        p = Mnemo.open({ bank: name, storage, llm, embedder, seed: bankSeed, llmOptions, storageOptions });
        this._banks.set(name, p);
        p.catch(() => this._banks.delete(name));
      }
      return p;
    }

    /* The bank holding `memoryId`: the scope's, or the first open one that has it. */
    async _find(memoryId, scope) {
      if (typeof memoryId !== 'string' || !memoryId) throw new MnemoError('MNEMO_EINVAL', 'memoryId must be a non-empty string');
      const names = scope ? [scopeOf(scope, 'memory lookup').bank] : [...this._banks.keys()];
      for (const n of names) {
        const bank = await this._open(n);
        const m = await bank.get(memoryId);
        if (m) return { bank, m };
      }
      return null;
    }

    /* {results: [{id, memory, metadata: {event: 'ADD'|'UPDATE'|'DELETE'}}]} */
    async add(messages, config = {}) {
      const s = scopeOf(config, 'add');
      const bank = await this._open(s.bank);
      const metadata = { ...(config.metadata || {}), ...s.meta };
      const r = await bank.retain(messages, { infer: config.infer ?? true, metadata: Object.keys(metadata).length ? metadata : undefined });
      const results = [];
      const learned = r.learned || r.added;
      for (const m of learned) results.push({ id: m.id, memory: m.text, metadata: { ...metadata, event: 'ADD' } });
      for (const m of r.changed || []) results.push({ id: m.id, memory: m.text, metadata: { ...metadata, event: 'UPDATE', previousMemory: m.old_text } });
      for (const m of r.forgotten || []) results.push({ id: m.id, memory: m.text, metadata: { event: 'DELETE' } });
      for (const m of r.superseded || []) results.push({ id: m.id, memory: m.text, metadata: { event: 'DELETE', supersededBy: m.by } });
      return { results };
    }

    /* {results: [MemoryItem with score]} */
    async search(query, config = {}) {
      const s = scopeOf(config, 'search');
      const bank = await this._open(s.bank);
      const filter = { ...(config.filters || {}), ...s.meta };
      const r = await bank.recall(query, { limit: config.limit ?? 100, filter: Object.keys(filter).length ? filter : undefined });
      return { results: r.results.map((m) => item(m, s)) };
    }

    /* One MemoryItem, or null. */
    async get(memoryId, scope) {
      const f = await this._find(memoryId, scope);
      return f ? item(f.m, scope) : null;
    }

    /* {results: [MemoryItem]}, newest first. */
    async getAll(config = {}) {
      const s = scopeOf(config, 'getAll');
      const bank = await this._open(s.bank);
      const filter = { ...(config.filters || {}), ...s.meta };
      const limit = config.limit ?? 100;
      const out = [];
      let cursor = null;
      do {
        const page = await bank.list({ limit: Math.min(limit - out.length, 1000), cursor, filter: Object.keys(filter).length ? filter : undefined });
        for (const m of page.memories) out.push(item(m, s));
        cursor = page.nextCursor;
      } while (cursor && out.length < limit);
      return { results: out };
    }

    async update(memoryId, data, scope) {
      if (typeof data !== 'string' || !data) throw new MnemoError('MNEMO_EINVAL', 'update: data must be the new text (a non-empty string)');
      const f = await this._find(memoryId, scope);
      if (!f) throw new MnemoError('MNEMO_ENOTFOUND', `Memory with ID ${memoryId} not found`);
      await f.bank.update(memoryId, { text: data });
      return { message: 'Memory updated successfully!' };
    }

    async delete(memoryId, scope) {
      const f = await this._find(memoryId, scope);
      if (!f) throw new MnemoError('MNEMO_ENOTFOUND', `Memory with ID ${memoryId} not found`);
      await f.bank.delete(memoryId);
      return { message: 'Memory deleted successfully!' };
    }

    /* Every memory of a user (the bank is emptied), or of an agent/run within it. */
    async deleteAll(config = {}) {
      const s = scopeOf(config, 'deleteAll');
      const bank = await this._open(s.bank);
      if (!Object.keys(s.meta).length) {
        await bank.deleteAll();
      } else {
        for (;;) {
          const page = await bank.list({ limit: 1000, filter: s.meta });
          if (!page.memories.length) break;
          for (const m of page.memories) await bank.delete(m.id);
        }
      }
      return { message: 'Memories deleted successfully!' };
    }

    /* mem0's history rows: {id, memory_id, previous_value, new_value, action, created_at, updated_at, is_deleted}. */
    async history(memoryId, scope) {
      if (typeof memoryId !== 'string' || !memoryId) throw new MnemoError('MNEMO_EINVAL', 'memoryId must be a non-empty string');
      const names = scope ? [scopeOf(scope, 'history').bank] : [...this._banks.keys()];
      for (const n of names) {
        const bank = await this._open(n);
        let h;
        try {
          h = await bank.history(memoryId);
        } catch (e) {
          if (e.code === 'MNEMO_ENOTFOUND') continue;
          throw e;
        }
        return h.map((e, i) => ({
          id: `${memoryId}:${i + 1}`,
          memory_id: memoryId,
          previous_value: e.old ? e.old.text ?? null : null,
          new_value: e.new ? e.new.text ?? null : null,
          action: e.event,
          created_at: e.at,
          updated_at: e.at,
          is_deleted: e.event === 'DELETE' ? 1 : 0,
        }));
      }
      return [];
    }

    /* Forgets every bank this Memory has opened, and closes them. */
    async reset() {
      const banks = [...this._banks.values()];
      this._banks.clear();
      for (const p of banks) {
        const bank = await p.catch(() => null);
        if (!bank) continue;
        await bank.deleteAll();
        await bank.close();
      }
    }

    /* Not in mem0: closes the banks (their data stays). */
    async close() {
      const banks = [...this._banks.values()];
      this._banks.clear();
      for (const p of banks) {
        const bank = await p.catch(() => null);
        if (bank) await bank.close();
      }
    }
  };
}
