/** A hand-made HandlerContext for unit tests (not exported from the package). */
import type {
  ClientCapabilities,
  InputRequest,
  JsonObject,
  LoggingLevel,
} from '@mcp-cluster/protocol';
import type { ChangeEvent, HandlerContext } from '@mcp-cluster/server';
import { ANONYMOUS } from '@mcp-cluster/server';

export interface StubContext extends HandlerContext {
  readonly logs: { level: LoggingLevel; data: unknown }[];
  readonly progressed: { progress: number; total?: number; message?: string }[];
  readonly changes: ChangeEvent[];
  /** Every `input` call's requests, in order. */
  readonly asked: Record<string, InputRequest>[];
  closedStreams: number;
}

export interface StubOptions {
  readonly era?: 'legacy' | 'modern';
  readonly meta?: JsonObject;
  readonly clientCapabilities?: ClientCapabilities;
  readonly signal?: AbortSignal;
  /** Answers one input request; the default rejects (no client). */
  readonly answer?: (key: string, request: InputRequest) => JsonObject | Promise<JsonObject>;
}

export function stubContext(options: StubOptions = {}): StubContext {
  const answer =
    options.answer ??
    ((): never => {
      throw new Error('no client to answer');
    });
  const ctx: StubContext = {
    era: options.era ?? 'legacy',
    protocolVersion: options.era === 'modern' ? '2026-07-28' : '2025-11-25',
    requestId: 1,
    clientCapabilities: options.clientCapabilities ?? { sampling: {}, elicitation: {}, roots: {} },
    principal: ANONYMOUS,
    signal: options.signal ?? new AbortController().signal,
    meta: options.meta ?? {},
    logs: [],
    progressed: [],
    changes: [],
    asked: [],
    closedStreams: 0,
    progress(progress, total, message) {
      ctx.progressed.push({
        progress,
        ...(total !== undefined && { total }),
        ...(message !== undefined && { message }),
      });
    },
    log(level, data) {
      ctx.logs.push({ level, data });
    },
    async input<K extends string>(requests: Readonly<Record<K, InputRequest>>) {
      ctx.asked.push({ ...requests });
      const out = {} as Record<K, JsonObject>;
      for (const key of Object.keys(requests) as K[]) {
        out[key] = await answer(key, requests[key]);
      }
      return out;
    },
    async elicit(params, key = 'elicitation') {
      return (await ctx.input({ [key]: { method: 'elicitation/create', params } }))[
        key
      ] as JsonObject;
    },
    async sample(params, key = 'sampling') {
      return (await ctx.input({ [key]: { method: 'sampling/createMessage', params } }))[
        key
      ] as JsonObject;
    },
    async listRoots(key = 'roots') {
      return (await ctx.input({ [key]: { method: 'roots/list', params: {} } }))[key] as JsonObject;
    },
    emitChange(event) {
      ctx.changes.push(event);
    },
    closeStream() {
      ctx.closedStreams++;
    },
  };
  return ctx;
}
