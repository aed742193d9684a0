// Types of mnemo-wasm. Every promise rejects with MnemoError (a stable
// `code` from the C error list) unless stated otherwise; an aborted call
// rejects with its signal's reason (an AbortError).

/** A JSON value as the core returns it. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Error codes of include/mnemo.h (MNEMO_ERRORS). */
export type MnemoErrorCode =
  | 'MNEMO_EINVAL' | 'MNEMO_EJSON' | 'MNEMO_EUTF8' | 'MNEMO_ETOOBIG' | 'MNEMO_ENOTFOUND'
  | 'MNEMO_EFILTER' | 'MNEMO_ENOMEM' | 'MNEMO_EIO' | 'MNEMO_EFULL' | 'MNEMO_EREADONLY'
  | 'MNEMO_ECORRUPT' | 'MNEMO_EBUSY' | 'MNEMO_ESCHEMA' | 'MNEMO_EMISUSE' | 'MNEMO_EHOST'
  | 'MNEMO_EINTERNAL';

export class MnemoError extends Error {
  readonly name: 'MnemoError';
  readonly code: MnemoErrorCode | string;
  /** The C code number (MNEMO_ENOTFOUND = 5). */
  readonly errno: number | undefined;
}

/** The C error list as loaded from the wasm: {MNEMO_EJSON: {code: 2, name, text}, ...}. */
export function errorCodes(): Record<string, { code: number; name: string; text: string }>;

/** Throws MnemoError MNEMO_EINVAL for "", "*", "..", slashes, control characters, > 128 chars. */
export function validateBankName(bank: string): string;

/** Where to load the wasm from (a URL, a Response, bytes or a compiled module); call before the first open. */
export function setWasm(source: string | URL | Response | ArrayBuffer | ArrayBufferView | WebAssembly.Module): void;

// ---- providers ----------------------------------------------------------

export interface ProviderContext {
  signal?: AbortSignal;
  type: 'chat' | 'embeddings';
}

/** Carries out one OpenAI-compatible request body; returns the response JSON (object or text). Throw to fail; an error with `status` 400/404/422 means "request refused". */
export type ProviderFn = ((body: any, ctx: ProviderContext) => Promise<unknown>) & { model?: string; dim?: number };

export interface EmbedderObject {
  model: string;
  dim: number;
  call?(body: { model: string; input: string[] }, ctx: ProviderContext): Promise<unknown>;
  embed?(body: { model: string; input: string[] }, ctx: ProviderContext): Promise<unknown>;
}

export interface OpenAIOptions {
  /** Default https://api.openai.com/v1. */
  baseURL?: string;
  apiKey?: string;
  model?: string;
  headers?: Record<string, string>;
  /** Per request, ms. Default 60000. */
  timeout?: number;
  /** Retries on 429, 5xx and network errors (backoff, Retry-After). Default 2. */
  retries?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export class ProviderError extends Error {
  readonly status?: number;
  readonly body?: string;
}

export interface OpenAIFactory {
  /** Chat completions at {baseURL}/chat/completions. */
  (options?: OpenAIOptions): ProviderFn & { kind: 'chat' };
  /** Embeddings at {baseURL}/embeddings; `dimensions` is required unless the model is well known. Throws MnemoError MNEMO_EINVAL. */
  embeddings(options: OpenAIOptions & { model: string; dimensions?: number }): ProviderFn & { kind: 'embeddings'; model: string; dim: number };
}
export const openai: OpenAIFactory;

// ---- storage -------------------------------------------------------------

/** A page store (see src/storage.js for the contract). */
export interface PageStore {
  version: number;
  pageCount: number;
  readonly stale: boolean;
  /** With `lazy`, a chunk may be a Blob, read only where a page is needed (it must stay readable, unchanged, after later commits). */
  load(options?: { lazy?: boolean }): Promise<{ version: number; pageSize: number; pageCount: number; pages: Array<[number, Uint8Array | Blob]> }>;
  storedVersion(): Promise<number>;
  commit(pages: Array<[number, Uint8Array]>, pageCount: number, pageSize: number): Promise<void>;
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  close(): void;
}

export interface StorageBackend {
  kind?: string;
  open(bank: string, options?: object): Promise<PageStore>;
  destroy?(bank: string): Promise<void>;
}

// ---- the bank ------------------------------------------------------------

export interface OpenOptions {
  /** The bank's name: an identifier (see validateBankName). */
  bank: string;
  /** 'memory' (default), 'indexeddb' (browsers, workers), a file or directory path (Node), or a backend. */
  storage?: 'memory' | 'indexeddb' | string | StorageBackend;
  storageOptions?: object;
  llm?: ProviderFn | { call(body: any, ctx: ProviderContext): Promise<unknown> };
  embedder?: ProviderFn | EmbedderObject;
  /** Deterministic ids and tie-breaks. */
  seed?: number;
  fts5?: boolean;
  readonly?: boolean;
  /** The core's "llm" open options: json_schema, candidates, max_deletes, max_calls_per_day, ... */
  llmOptions?: Record<string, Json>;
  /**
   * Ready the recall index after opening a stored bank (default true): from the snapshot of it
   * the store keeps beside the pages (if the bank changed since, only the memories changed are
   * indexed again, and the snapshot is saved anew), else built in small idle-time steps and then
   * saved as the next snapshot (again on close() after writes). false leaves it all to the first
   * recall, and neither reads nor writes snapshots.
   */
  warm?: boolean;
}

export interface Message {
  role: 'user' | 'assistant' | 'system' | string;
  content: string;
  metadata?: Record<string, Json>;
  timestamp?: string | number;
}

export type RetainInput = string | Message[] | { text?: string; messages?: Message[]; items?: RetainInput[]; [k: string]: any };

export interface LongOptions {
  signal?: AbortSignal;
  onProgress?: (p: { phase: 'request' | 'done' | 'import'; step?: number; type?: string; done?: number; total?: number }) => void;
}

export interface RetainOptions extends LongOptions {
  documentId?: string;
  metadata?: Record<string, Json>;
  timestamp?: string | number | Date;
  /** true: LLM extraction and consolidation (falls back to heuristics offline). Default false. */
  infer?: boolean;
  kind?: string;
  topics?: string[];
  tags?: string[];
  source?: string;
  confidence?: number;
  /** false: `added` lists ids only, without the texts (bulk imports need not copy every text back). Default true. */
  echo?: boolean;
}

export interface Memory {
  id: string;
  text: string;
  kind: string;
  topics: string[];
  tags: string[];
  metadata: Record<string, Json>;
  document_id: string | null;
  source: string | null;
  confidence: number;
  occurred_at: string | null;
  created_at: string;
  updated_at: string;
  valid_from: string;
  valid_to: string | null;
  superseded_by: string | null;
  hash: string;
  [k: string]: Json;
}

export interface RetainResult {
  mode: 'manual' | 'llm' | 'heuristic';
  /** Every new memory; `text` is absent with `echo: false`. */
  added: Array<{ id: string; text?: string }>;
  removed: string[];
  unchanged: boolean;
  learned?: Array<{ id: string; text: string; kind: string; topics: string[]; occurred_at: string | null }>;
  changed?: Array<{ id: string; text: string; old_text: string }>;
  superseded?: Array<{ id: string; text: string; by: string }>;
  forgotten?: Array<{ id: string; text: string }>;
  pending?: boolean;
  fallback?: string;
  usage?: Record<string, Json>;
  [k: string]: any;
}

export interface RecallOptions extends LongOptions {
  limit?: number;
  filter?: Record<string, Json>;
  now?: string | number | Date;
  maxTokens?: number;
  diversity?: number;
  signals?: Array<'bm25' | 'vector' | 'keyword' | 'entity' | 'time'>;
  weights?: Record<string, number>;
  fusion?: 'score' | 'rrf';
}

export interface RecallResult {
  results: Array<Memory & { score: number; signals: Record<string, { rank: number; score: number }> }>;
  tokens: number;
}

export interface HistoryEvent {
  event: 'ADD' | 'UPDATE' | 'DELETE' | 'INVALIDATE';
  old: Json;
  new: Json;
  at: string;
  [k: string]: Json;
}

export interface Tools {
  /** OpenAI "tools" definitions: search_memory, save_memory, forget_memory. */
  definitions: Array<{ type: 'function'; function: { name: string; description: string; parameters: object } }>;
  handlers: Record<'search_memory' | 'save_memory' | 'forget_memory', (args: object | string) => Promise<Json>>;
  /** Runs a model's tool call; errors come back as {error: {code, message}} in the content, never thrown. */
  handle(call: { id?: string; function: { name: string; arguments: string | object } }): Promise<{ role: 'tool'; tool_call_id?: string; content: string }>;
}

export interface ContextOptions {
  maxTokens?: number;
  limit?: number;
  filter?: Record<string, Json>;
  now?: string | number | Date;
  title?: string;
}

export class Mnemo {
  /** Opens (creating if absent) a bank. MNEMO_EINVAL for a bad name or option, MNEMO_ECORRUPT for a file that is not a bank. */
  static open(options: OpenOptions): Promise<Mnemo>;
  /** Deletes a stored bank (close it first). */
  static destroy(options: { bank: string; storage?: OpenOptions['storage'] }): Promise<void>;
  static errorCodes(): Promise<Record<string, { code: number; name: string; text: string }>>;

  readonly bank: string;
  readonly storage: string;

  retain(input: RetainInput, options?: RetainOptions): Promise<RetainResult>;
  recall(query: string, options?: RecallOptions): Promise<RecallResult>;
  /** null when there is no memory with that id. */
  get(id: string): Promise<Memory | null>;
  list(options?: { limit?: number; cursor?: string | null; filter?: Record<string, Json>; includeInvalid?: boolean }): Promise<{ memories: Memory[]; nextCursor: string | null }>;
  /** A string is the new text. MNEMO_ENOTFOUND for an unknown id. Resolves to the updated memory. */
  update(id: string, patch: string | { text?: string; metadata?: Record<string, Json>; topics?: string[]; tags?: string[]; kind?: string; occurredAt?: string | Date }, options?: LongOptions): Promise<Memory>;
  /** MNEMO_ENOTFOUND if absent. */
  delete(id: string): Promise<void>;
  deleteAll(): Promise<void>;
  /** Oldest first; MNEMO_ENOTFOUND if the id never existed. */
  history(id: string): Promise<HistoryEvent[]>;
  /**
   * Settles when the recall index is ready after opening (see OpenOptions.warm): "snapshot" (read
   * from the store, brought up to date if the bank changed since), "built", or "stopped" (closed
   * or reloaded first); undefined at once when
   * there is nothing to warm.
   */
  readonly warmed: Promise<'snapshot' | 'built' | 'stopped' | undefined>;
  stats(): Promise<Record<string, Json>>;
  /** JSON Lines, one record a line. */
  export(): Promise<string>;
  /** All or nothing; the error names the bad line. With signal/onProgress: chunked, abortable. */
  import(jsonl: string, options?: LongOptions & { chunkLines?: number }): Promise<{ imported: number }>;
  reindex(options?: LongOptions): Promise<Record<string, Json>>;
  processPending(options?: LongOptions & { limit?: number }): Promise<{ processed: number; remaining: number; results: RetainResult[]; stopped?: string }>;
  /** A ready prompt block of the memories relevant to `query` ("" if none). */
  context(query: string, options?: ContextOptions): Promise<string>;
  tools(options?: { limit?: number }): Tools;
  /** Idempotent; later calls reject with MNEMO_EMISUSE. */
  close(): Promise<void>;
}

export function memoryTools(bank: Mnemo, options?: { limit?: number }): Tools;
export function context(bank: Mnemo, query: string, options?: ContextOptions): Promise<string>;
