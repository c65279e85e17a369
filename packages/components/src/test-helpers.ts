/**
 * Unit-test helpers (not exported from the package): a hand-made HandlerContext and a modern
 * in-process client of an engine.
 */
import type {
  ClientCapabilities,
  InputRequest,
  JsonObject,
  JsonRpcResponse,
  LoggingLevel,
} from '@mcp-cluster/protocol';
import type {
  ChangeEvent,
  HandlerContext,
  MessageEngine,
  Principal,
  RequestContext,
} from '@mcp-cluster/server';
import { ANONYMOUS, modernOutbound, modernRequestContext } from '@mcp-cluster/server';

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

export interface ModernClientOptions {
  /** The client's capabilities in `_meta` (default none). */
  readonly capabilities?: ClientCapabilities;
  /** Who calls (default anonymous). */
  readonly principal?: Principal;
  /** Adjusts each request's context before the engine sees it. */
  readonly prepare?: (ctx: RequestContext) => void;
}

/**
 * A modern (2026-07-28) in-process client of `engine`: each call one request with a fresh id
 * and the `_meta` that revision requires.
 */
export function modernClient(engine: MessageEngine, options: ModernClientOptions = {}) {
  const capabilities = options.capabilities ?? {};
  let id = 0;
  return (method: string, params: JsonObject = {}): Promise<JsonRpcResponse> => {
    id += 1;
    const meta = {
      'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
      'io.modelcontextprotocol/clientCapabilities': capabilities,
    };
    const ctx = modernRequestContext(
      { protocolVersion: MODERN_REVISION, clientCapabilities: capabilities },
      id,
      new AbortController().signal,
      modernOutbound(() => undefined),
      { principal: options.principal ?? ANONYMOUS },
    );
    options.prepare?.(ctx);
    return engine.handleRequest(
      { jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } },
      ctx,
    );
  };
}

const MODERN_REVISION = '2026-07-28';
