/**
 * OpenAI-compatible Chat Completions (`POST {baseUrl}/chat/completions`, Bearer key): OpenAI
 * itself and the servers that speak its API (vLLM, Ollama, LiteLLM, ...). `max_tokens` is
 * sent, the field every compatible server reads.
 */
import type { SampleContent, SampleRequest } from '../request.js';
import type { ProviderAdapter } from './adapter.js';
import { isRecord, joinUrl, usageOf } from './adapter.js';

/** finish_reason → MCP stopReason; others pass through as the provider's word. */
const STOP_REASONS: Readonly<Record<string, string>> = {
  stop: 'endTurn',
  length: 'maxTokens',
};

function part(c: Exclude<SampleContent, { type: 'text' }>): object {
  return { type: 'image_url', image_url: { url: `data:${c.mimeType};base64,${c.data}` } };
}

function content(blocks: readonly SampleContent[]): string | object[] {
  if (blocks.length === 1 && blocks[0]?.type === 'text') return blocks[0].text;
  return blocks.map((c) => (c.type === 'text' ? { type: 'text', text: c.text } : part(c)));
}

export const openAiAdapter: ProviderAdapter = {
  type: 'openai',
  // Audio input needs audio-specific models and formats; images work on vision models.
  refuses: new Set(['audio']),
  url: (baseUrl) => joinUrl(baseUrl, '/chat/completions'),
  headers: (key) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' }),
  body(req: SampleRequest, model: string, maxTokens: number): object {
    const messages: object[] = [];
    if (req.systemPrompt !== undefined)
      messages.push({ role: 'system', content: req.systemPrompt });
    for (const m of req.messages) messages.push({ role: m.role, content: content(m.content) });
    return {
      model,
      messages,
      max_tokens: maxTokens,
      ...(req.temperature !== undefined && { temperature: req.temperature }),
      ...(req.stopSequences !== undefined && { stop: req.stopSequences }),
    };
  },
  answer(body: unknown) {
    if (!isRecord(body) || !Array.isArray(body['choices'])) return undefined;
    const choice: unknown = body['choices'][0];
    if (!isRecord(choice) || !isRecord(choice['message'])) return undefined;
    const text = choice['message']['content'];
    if (text !== null && typeof text !== 'string') return undefined;
    const reason = choice['finish_reason'];
    const usage = isRecord(body['usage'])
      ? usageOf(body['usage']['prompt_tokens'], body['usage']['completion_tokens'])
      : undefined;
    return {
      text: text ?? '',
      model: typeof body['model'] === 'string' ? body['model'] : '',
      stopReason: typeof reason === 'string' ? (STOP_REASONS[reason] ?? reason) : 'endTurn',
      ...(usage !== undefined && { usage }),
    };
  },
};
