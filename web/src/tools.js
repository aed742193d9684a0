/*
 * tools.js: memory as tools for function-calling models, and a prompt block.
 *
 *   const tools = memoryTools(bank);
 *   openai.chat.completions.create({ ..., tools: tools.definitions });
 *   for (const call of message.tool_calls) messages.push(await tools.handle(call));
 *
 *   const block = await context(bank, userQuestion, { maxTokens: 800 });
 *   // "## What you remember about the user\n- ...": put it in the system prompt.
 *
 * Definitions use OpenAI's "tools" shape ({type: "function", function:
 * {name, description, parameters}}); most providers accept it as is.
 */
import { MnemoError } from './errors.js';

const DEFS = [
  {
    type: 'function',
    function: {
      name: 'search_memory',
      description: 'Search long-term memory about the user (facts, preferences, past events). Use before answering questions that may depend on what the user said in earlier conversations.',
      parameters: {
        type: 'object',
        properties: {
          query: { type: 'string', description: 'What to look for, in natural language' },
          limit: { type: 'integer', minimum: 1, maximum: 50, description: 'How many memories at most (default 5)' },
        },
        required: ['query'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'save_memory',
      description: 'Save a fact about the user to long-term memory (a preference, a plan, something about their life) so it can be recalled in later conversations.',
      parameters: {
        type: 'object',
        properties: {
          text: { type: 'string', description: 'The fact, as one self-contained sentence' },
          topics: { type: 'array', items: { type: 'string' }, description: 'Optional topics' },
        },
        required: ['text'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'forget_memory',
      description: 'Delete memories the user asked to forget: by id (from search_memory), or the best matches of a query.',
      parameters: {
        type: 'object',
        properties: {
          id: { type: 'string', description: 'The id of the memory to delete' },
          query: { type: 'string', description: 'Forget the memories that best match this (used when no id is given)' },
          limit: { type: 'integer', minimum: 1, maximum: 10, description: 'With query: how many to delete at most (default 1)' },
        },
        additionalProperties: false,
      },
    },
  },
];

function parseArgs(args) {
  if (typeof args === 'string') {
    try {
      return args.trim() ? JSON.parse(args) : {};
    } catch (e) {
      throw new MnemoError('MNEMO_EJSON', `tool arguments are not valid JSON: ${e.message}`);
    }
  }
  if (args == null) return {};
  if (typeof args !== 'object') throw new MnemoError('MNEMO_EINVAL', 'tool arguments must be an object or its JSON text');
  return args;
}

function needString(a, k, tool) {
  if (typeof a[k] !== 'string' || !a[k].trim()) throw new MnemoError('MNEMO_EINVAL', `${tool}: "${k}" must be a non-empty string`);
  return a[k];
}

/*
 * The three tools bound to one bank: {definitions, handlers, handle(call)}.
 * handlers[name](args) resolve to JSON-able results; handle() takes a tool
 * call as the model sent it ({id, function: {name, arguments}}) and returns
 * the tool message to append ({role: 'tool', tool_call_id, content}), with
 * errors reported to the model as {error} instead of thrown.
 */
export function memoryTools(bank, options = {}) {
  if (!bank || typeof bank.recall !== 'function') throw new MnemoError('MNEMO_EINVAL', 'memoryTools takes an open bank');
  const defaultLimit = options.limit ?? 5;
  const handlers = {
    async search_memory(args) {
      const a = parseArgs(args);
      const r = await bank.recall(needString(a, 'query', 'search_memory'), { limit: a.limit ?? defaultLimit });
      return { memories: r.results.map((m) => ({ id: m.id, text: m.text, when: m.occurred_at || m.created_at })) };
    },
    async save_memory(args) {
      const a = parseArgs(args);
      const r = await bank.retain(needString(a, 'text', 'save_memory'), { topics: a.topics, source: 'assistant' });
      return { saved: r.added.map((m) => ({ id: m.id, text: m.text })) };
    },
    async forget_memory(args) {
      const a = parseArgs(args);
      if (a.id !== undefined) {
        needString(a, 'id', 'forget_memory');
        await bank.delete(a.id);
        return { forgotten: [a.id] };
      }
      const q = needString(a, 'query', 'forget_memory');
      const r = await bank.recall(q, { limit: a.limit ?? 1 });
      const ids = [];
      for (const m of r.results) {
        await bank.delete(m.id);
        ids.push(m.id);
      }
      return { forgotten: ids };
    },
  };
  async function handle(call) {
    const fn = call && (call.function || call);
    const name = fn && fn.name;
    let content;
    try {
      if (!Object.hasOwn(handlers, name)) throw new MnemoError('MNEMO_EINVAL', `unknown tool "${name}"`);
      content = await handlers[name](fn.arguments);
    } catch (e) {
      content = { error: { code: e.code || 'MNEMO_EINTERNAL', message: e.message } };
    }
    return { role: 'tool', tool_call_id: call && call.id, content: JSON.stringify(content) };
  }
  return { definitions: structuredClone(DEFS), handlers, handle };
}

/*
 * A ready prompt block with the memories relevant to `query`, packed into
 * maxTokens (default 800) by the core's recall. Empty string when nothing
 * is relevant. Options: maxTokens, limit, filter, now, title.
 */
export async function context(bank, query, options = {}) {
  if (!bank || typeof bank.recall !== 'function') throw new MnemoError('MNEMO_EINVAL', 'context takes an open bank');
  const r = await bank.recall(query, {
    limit: options.limit ?? 20, maxTokens: options.maxTokens ?? 800, filter: options.filter, now: options.now,
  });
  if (!r.results.length) return '';
  const title = options.title ?? 'What you remember about the user (from earlier conversations)';
  const lines = r.results.map((m) => {
    const when = m.occurred_at || m.created_at;
    return `- ${m.text.replace(/\s+/g, ' ').trim()}${when ? ` (${when.slice(0, 10)})` : ''}`;
  });
  return `## ${title}\n${lines.join('\n')}\n`;
}
