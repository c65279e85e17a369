/**
 * `sampling/createMessage` params as providers need them: read once, checked with precise
 * -32602 errors (the tool's own params reach providers, so they are untrusted input), and
 * the provider's answer turned back into a CreateMessageResult.
 */
import { ProtocolError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';

export type SampleContent =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'image' | 'audio'; readonly data: string; readonly mimeType: string };

export interface SampleMessage {
  readonly role: 'user' | 'assistant';
  readonly content: readonly SampleContent[];
}

/** MCP `modelPreferences`: hints in order, priorities in [0, 1]. */
export interface ModelPreferences {
  readonly hints: readonly string[];
  readonly costPriority?: number;
  readonly speedPriority?: number;
  readonly intelligencePriority?: number;
}

export interface SampleRequest {
  readonly messages: readonly SampleMessage[];
  readonly systemPrompt?: string;
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly stopSequences?: readonly string[];
  readonly preferences: ModelPreferences;
}

/** What a provider answered, in our words. */
export interface SampleAnswer {
  readonly text: string;
  readonly model: string;
  /** MCP stop reason: endTurn, stopSequence, maxTokens, or the provider's own word. */
  readonly stopReason: string;
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number };
}

const invalid = (message: string): ProtocolError =>
  ProtocolError.of('InvalidParams', `sampling/createMessage: ${message}`);

const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads `params`; throws -32602 naming the first field that is wrong. */
export function parseSampleParams(params: JsonObject): SampleRequest {
  if (params['tools'] !== undefined || params['toolChoice'] !== undefined) {
    throw invalid('tool use is not supported by server-side sampling providers');
  }
  const rawMessages = params['messages'];
  if (!Array.isArray(rawMessages) || rawMessages.length === 0) {
    throw invalid('params.messages must be a non-empty array');
  }
  const messages = rawMessages.map((m, i) => readMessage(m, i));
  const maxTokens = params['maxTokens'];
  if (typeof maxTokens !== 'number' || !Number.isSafeInteger(maxTokens) || maxTokens < 1) {
    throw invalid('params.maxTokens must be a positive integer');
  }
  const out: {
    -readonly [K in keyof SampleRequest]: SampleRequest[K];
  } = { messages, maxTokens, preferences: readPreferences(params['modelPreferences']) };
  const system = params['systemPrompt'];
  if (system !== undefined) {
    if (typeof system !== 'string') throw invalid('params.systemPrompt must be a string');
    if (system !== '') out.systemPrompt = system;
  }
  const temperature = params['temperature'];
  if (temperature !== undefined) {
    if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
      throw invalid('params.temperature must be a number >= 0');
    }
    out.temperature = temperature;
  }
  const stop = params['stopSequences'];
  if (stop !== undefined) {
    if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string')) {
      throw invalid('params.stopSequences must be an array of strings');
    }
    if (stop.length > 0) out.stopSequences = stop;
  }
  return out;
}

function readMessage(m: unknown, i: number): SampleMessage {
  const at = `params.messages[${i}]`;
  if (!isObject(m)) throw invalid(`${at} must be an object`);
  const role = m['role'];
  if (role !== 'user' && role !== 'assistant') {
    throw invalid(`${at}.role must be "user" or "assistant"`);
  }
  const raw = m['content'];
  // 2025-11-25 allows an array of blocks; earlier revisions one block.
  const blocks = Array.isArray(raw) ? raw : [raw];
  if (blocks.length === 0) throw invalid(`${at}.content must not be empty`);
  const content = blocks.map((b, j) =>
    readContent(b, Array.isArray(raw) ? `${at}.content[${j}]` : `${at}.content`),
  );
  return { role, content };
}

function readContent(b: unknown, at: string): SampleContent {
  if (!isObject(b)) throw invalid(`${at} must be an object`);
  const type = b['type'];
  if (type === 'text') {
    if (typeof b['text'] !== 'string') throw invalid(`${at}.text must be a string`);
    return { type, text: b['text'] };
  }
  if (type === 'image' || type === 'audio') {
    const data = b['data'];
    const mimeType = b['mimeType'];
    if (typeof data !== 'string' || typeof mimeType !== 'string') {
      throw invalid(`${at}: ${type} content needs data (base64) and mimeType strings`);
    }
    return { type, data, mimeType };
  }
  throw invalid(
    `${at}.type ${JSON.stringify(type)} is not supported by server-side sampling (text, image, audio)`,
  );
}

function readPreferences(p: unknown): ModelPreferences {
  if (p === undefined) return { hints: [] };
  if (!isObject(p)) throw invalid('params.modelPreferences must be an object');
  const hints: string[] = [];
  const raw = p['hints'];
  if (raw !== undefined) {
    if (!Array.isArray(raw)) throw invalid('params.modelPreferences.hints must be an array');
    raw.forEach((h, i) => {
      if (!isObject(h) || (h['name'] !== undefined && typeof h['name'] !== 'string')) {
        throw invalid(`params.modelPreferences.hints[${i}] must be { name?: string }`);
      }
      const name = h['name'];
      if (typeof name === 'string' && name !== '') hints.push(name);
    });
  }
  const out: { -readonly [K in keyof ModelPreferences]: ModelPreferences[K] } = { hints };
  for (const key of ['costPriority', 'speedPriority', 'intelligencePriority'] as const) {
    const v = p[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw invalid(`params.modelPreferences.${key} must be a number in [0, 1]`);
    }
    out[key] = v;
  }
  return out;
}

/** The CreateMessageResult a tool receives. */
export function createMessageResult(answer: SampleAnswer): JsonObject {
  return {
    role: 'assistant',
    content: { type: 'text', text: answer.text },
    model: answer.model,
    stopReason: answer.stopReason,
  };
}

/** Rough input size in tokens (4 characters a token; media counted by its base64 length). */
export function estimateInputTokens(req: SampleRequest): number {
  let chars = req.systemPrompt?.length ?? 0;
  for (const m of req.messages) {
    for (const c of m.content) chars += c.type === 'text' ? c.text.length : c.data.length;
  }
  return Math.ceil(chars / 4);
}
