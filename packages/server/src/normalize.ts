/** Turns what handlers return into wire results (ToolReturn, ResourceReturn, PromptReturn). */
import type {
  CallToolResult,
  ContentBlock,
  GetPromptResult,
  PromptMessage,
  ResourceContents,
} from '@mcp-cluster/protocol';
import type { PromptReturn, ResourceReturn, ToolReturn } from './components.js';

export function normalizeToolReturn(value: ToolReturn): CallToolResult {
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
  if (Array.isArray(value)) return { content: value };
  if ('content' in value && Array.isArray(value.content)) return value;
  return { content: [value as ContentBlock] };
}

export function normalizeResourceReturn(
  value: ResourceReturn,
  uri: string,
  mimeType: string | undefined,
): ResourceContents[] {
  if (typeof value === 'string') {
    return [mimeType === undefined ? { uri, text: value } : { uri, mimeType, text: value }];
  }
  if (value instanceof Uint8Array) {
    const blob = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    return [mimeType === undefined ? { uri, blob } : { uri, mimeType, blob }];
  }
  if (Array.isArray(value)) return value;
  return [value];
}

export function normalizePromptReturn(
  value: PromptReturn,
  description: string | undefined,
): GetPromptResult {
  if (typeof value === 'string') {
    const messages: PromptMessage[] = [{ role: 'user', content: { type: 'text', text: value } }];
    return description === undefined ? { messages } : { description, messages };
  }
  if (Array.isArray(value)) {
    return description === undefined ? { messages: value } : { description, messages: value };
  }
  return value;
}
