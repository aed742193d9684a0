// Types of mnemo-wasm/mem0: the names and shapes of mem0's OSS Memory.
import type { OpenOptions, Message } from './index.js';

export { MnemoError } from './index.js';

export interface Mem0ProviderConfig {
  provider: 'openai';
  config: { apiKey?: string; model?: string; baseURL?: string; embeddingDims?: number; [k: string]: any };
}

export interface MemoryConfig {
  storage?: OpenOptions['storage'];
  storageOptions?: object;
  llm?: OpenOptions['llm'] | Mem0ProviderConfig;
  embedder?: OpenOptions['embedder'] | Mem0ProviderConfig;
  seed?: number;
  llmOptions?: OpenOptions['llmOptions'];
}

/** One of userId, agentId, runId is required; each is an identifier ("*" is refused). */
export interface Scope {
  userId?: string;
  agentId?: string;
  runId?: string;
}

export interface MemoryItem {
  id: string;
  memory: string;
  hash?: string;
  createdAt?: string;
  updatedAt?: string;
  score?: number;
  metadata?: Record<string, any>;
  userId?: string;
  agentId?: string;
  runId?: string;
}

export interface SearchResult {
  results: MemoryItem[];
}

export interface HistoryItem {
  id: string;
  memory_id: string;
  previous_value: string | null;
  new_value: string | null;
  action: 'ADD' | 'UPDATE' | 'DELETE' | 'INVALIDATE';
  created_at: string;
  updated_at: string;
  is_deleted: number;
}

export class Memory {
  constructor(config?: MemoryConfig);
  add(messages: string | Message[], config: Scope & { metadata?: Record<string, any>; infer?: boolean }): Promise<SearchResult>;
  search(query: string, config: Scope & { limit?: number; filters?: Record<string, any> }): Promise<SearchResult>;
  get(memoryId: string, scope?: Scope): Promise<MemoryItem | null>;
  getAll(config: Scope & { limit?: number; filters?: Record<string, any> }): Promise<SearchResult>;
  update(memoryId: string, data: string, scope?: Scope): Promise<{ message: string }>;
  delete(memoryId: string, scope?: Scope): Promise<{ message: string }>;
  deleteAll(config: Scope): Promise<{ message: string }>;
  history(memoryId: string, scope?: Scope): Promise<HistoryItem[]>;
  reset(): Promise<void>;
  /** Not in mem0: closes the banks (their data stays). */
  close(): Promise<void>;
}
