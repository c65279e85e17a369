/** Small helpers shared by the fixture modules. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonObject } from '@mcp-cluster/protocol';
import { ProtocolError } from '@mcp-cluster/protocol';

/** Waits `ms`, rejecting as soon as `signal` aborts (cancellation must be prompt). */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal });
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `content.<key>` of an elicitation result, as a string ('' when absent). */
export function elicited(result: JsonObject, key: string): string {
  const content = result['content'];
  const v = isObject(content) ? content[key] : undefined;
  return v === undefined || v === null ? '' : show(v);
}

/** A value as text: strings as they are, anything else as JSON. */
export function show(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
}

/** `content.text` of a sampling result ('' when absent). */
export function sampledText(result: JsonObject): string {
  const content = result['content'];
  return isObject(content) && typeof content['text'] === 'string' ? content['text'] : '';
}

/** Text of a client's error answer. Only ProtocolErrors are the client's; others propagate. */
export function clientErrorText(err: unknown): string {
  if (err instanceof ProtocolError) return err.message;
  throw err;
}

/** An elicitation request asking for one string property. */
export function askString(message: string, property: string): JsonObject {
  return {
    message,
    requestedSchema: {
      type: 'object',
      properties: { [property]: { type: 'string' } },
      required: [property],
    },
  };
}
