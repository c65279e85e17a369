/**
 * Anthropic Messages (`POST {baseUrl}/v1/messages`, `x-api-key`, `anthropic-version`).
 * The system prompt is the top-level `system`; images are base64 `image` blocks; audio is
 * not an input this API takes.
 */
import type { SampleContent, SampleRequest } from '../request.js';
import type { ProviderAdapter } from './adapter.js';
import { isRecord, joinUrl, usageOf } from './adapter.js';

export const ANTHROPIC_VERSION = '2023-06-01';

/** stop_reason → MCP stopReason; others pass through as the provider's word. */
const STOP_REASONS: Readonly<Record<string, string>> = {
  end_turn: 'endTurn',
  stop_sequence: 'stopSequence',
  max_tokens: 'maxTokens',
};

function block(c: SampleContent): object {
  if (c.type === 'text') return { type: 'text', text: c.text };
  return { type: 'image', source: { type: 'base64', media_type: c.mimeType, data: c.data } };
}

function content(blocks: readonly SampleContent[]): string | object[] {
  if (blocks.length === 1 && blocks[0]?.type === 'text') return blocks[0].text;
  return blocks.map(block);
}

export const anthropicAdapter: ProviderAdapter = {
  type: 'anthropic',
  refuses: new Set(['audio']),
  url: (baseUrl) => joinUrl(baseUrl, '/v1/messages'),
  headers: (key) => ({
    'x-api-key': key,
    'anthropic-version': ANTHROPIC_VERSION,
    'content-type': 'application/json',
  }),
  body(req: SampleRequest, model: string, maxTokens: number): object {
    return {
      model,
      max_tokens: maxTokens,
      messages: req.messages.map((m) => ({ role: m.role, content: content(m.content) })),
      ...(req.systemPrompt !== undefined && { system: req.systemPrompt }),
      ...(req.temperature !== undefined && { temperature: req.temperature }),
      ...(req.stopSequences !== undefined && { stop_sequences: req.stopSequences }),
    };
  },
  answer(body: unknown) {
    if (!isRecord(body) || !Array.isArray(body['content'])) return undefined;
    const text = (body['content'] as unknown[])
      .filter((b): b is Record<string, unknown> => isRecord(b) && b['type'] === 'text')
      .map((b) => (typeof b['text'] === 'string' ? b['text'] : ''))
      .join('');
    const reason = body['stop_reason'];
    const usage = isRecord(body['usage'])
      ? usageOf(body['usage']['input_tokens'], body['usage']['output_tokens'])
      : undefined;
    return {
      text,
      model: typeof body['model'] === 'string' ? body['model'] : '',
      stopReason: typeof reason === 'string' ? (STOP_REASONS[reason] ?? reason) : 'endTurn',
      ...(usage !== undefined && { usage }),
    };
  },
};
