/** One model API as the service calls it: where, with which headers, which body, which answer. */
import type { SamplingProviderType } from '@mcp-cluster/config';
import type { SampleAnswer, SampleContent, SampleRequest } from '../request.js';

export interface ProviderAdapter {
  readonly type: SamplingProviderType;
  /** Content kinds this API cannot take: refused with -32602 before any call. */
  readonly refuses: ReadonlySet<SampleContent['type']>;
  url(baseUrl: string): string;
  /** Request headers; the only place a key is put, never in a message or a log line. */
  headers(key: string): Record<string, string>;
  body(req: SampleRequest, model: string, maxTokens: number): object;
  /** The answer in a 2xx body; undefined when it is not the documented shape. */
  answer(body: unknown): SampleAnswer | undefined;
}

/** `base` + `path` with exactly one slash between them. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Non-negative integer token counts, or undefined when the provider sent none. */
export function usageOf(input: unknown, output: unknown): SampleAnswer['usage'] {
  const ok = (n: unknown): n is number =>
    typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  return ok(input) && ok(output) ? { inputTokens: input, outputTokens: output } : undefined;
}
