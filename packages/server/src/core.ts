/**
 * What method handlers share: the registry, sessions, change feed, state signer, task host
 * and resolved options; plus the helpers every handler uses (envelope, input rounds).
 */
import { ProtocolError } from '@mcp-cluster/protocol';
import type { Implementation, JsonObject, JsonRpcRequest } from '@mcp-cluster/protocol';
import type { ChangeFeed } from './changes.js';
import type { RequestContext } from './context.js';
import { paginate } from './cursor.js';
import { EngineHandlerContext } from './handler-context.js';
import type { InputSource } from './handler-context.js';
import type { SignalSource } from './inflight.js';
import { InputRequiredSignal, MrtrRound, readInputResponses } from './mrtr.js';
import type { StateBinding, StateSigner } from './mrtr.js';
import type { MemoryRegistry } from './registry.js';
import type { Sampler } from './sampler.js';
import type { MemorySession, MemorySessionManager } from './sessions.js';
import type { TaskHost } from './tasks/api.js';

export interface EngineCore {
  readonly registry: MemoryRegistry;
  readonly sessions: MemorySessionManager;
  readonly changes: ChangeFeed;
  readonly signer: StateSigner;
  readonly tasks: TaskHost | undefined;
  readonly serverInfo: Implementation;
  readonly pageSize: number;
  readonly listTtlMs: number;
  readonly readTtlMs: number;
  /** Answers `ctx.sample` on the server's side (EngineOptions.sampler). */
  readonly sampler: Sampler | undefined;
  /** Reports an unexpected failure outside a request's answer (a task's tool run). */
  readonly reportError: (err: unknown, request: JsonRpcRequest, ctx: RequestContext) => void;
}

/** One method: params (never undefined), the request context and where its signal comes from. */
export type MethodHandler = (
  core: EngineCore,
  params: JsonObject,
  ctx: RequestContext,
  abort: SignalSource,
  request: JsonRpcRequest,
) => Promise<JsonObject> | JsonObject;

export const EMPTY_PARAMS: JsonObject = Object.freeze({});

export function sessionOf(core: EngineCore, ctx: RequestContext): MemorySession | undefined {
  return ctx.sessionId === undefined ? undefined : core.sessions.get(ctx.sessionId);
}

export function metaOf(params: JsonObject): JsonObject | undefined {
  const meta = params['_meta'];
  return typeof meta === 'object' && meta !== null && !Array.isArray(meta)
    ? (meta as JsonObject)
    : undefined;
}

/** Modern results carry `resultType`; a result that has one keeps it. Copies, never mutates. */
export function complete(result: JsonObject, ctx: RequestContext): JsonObject {
  if (ctx.era !== 'modern' || 'resultType' in result) return result;
  return { ...result, resultType: 'complete' };
}

/**
 * One page of a list method (`tools/list`, `prompts/list`, ...) under `key`, with the modern
 * envelope and public caching hints on the 2026-07-28 wire.
 */
export function listPage(
  core: EngineCore,
  key: string,
  items: readonly unknown[],
  params: JsonObject,
  ctx: RequestContext,
): JsonObject {
  const { page, nextCursor } = paginate(items, params['cursor'], core.pageSize);
  const result: JsonObject = { [key]: page };
  if (nextCursor !== undefined) result['nextCursor'] = nextCursor;
  if (ctx.era === 'modern') {
    result['resultType'] = 'complete';
    result['ttlMs'] = core.listTtlMs;
    result['cacheScope'] = 'public';
  }
  return result;
}

export function requireString(params: JsonObject, key: string, method: string): string {
  const v = params[key];
  if (typeof v !== 'string') {
    throw ProtocolError.of('InvalidParams', `${method}: params.${key} must be a string`);
  }
  return v;
}

export function optionalObject(params: JsonObject, key: string, method: string): JsonObject {
  const v = params[key];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw ProtocolError.of('InvalidParams', `${method}: params.${key} must be an object`);
  }
  return v as JsonObject;
}

/** A HandlerContext for a request that cannot ask for input (lists, completion, methods). */
export function plainContext(
  core: EngineCore,
  params: JsonObject,
  ctx: RequestContext,
  abort: SignalSource,
): EngineHandlerContext {
  return new EngineHandlerContext({
    request: ctx,
    meta: metaOf(params),
    abort,
    outbound: ctx.outbound,
    session: ctx.era === 'legacy' ? sessionOf(core, ctx) : undefined,
    input: ctx.era === 'legacy' ? { type: 'client', outbound: ctx.outbound } : undefined,
    changes: core.changes,
    sampler: core.sampler,
  });
}

/** Thrown by a run that notices pending input itself (e.g. after `prepare`). */
export const INPUT_PENDING = new InputRequiredSignal({});

/**
 * Runs a handler that may ask for input. Legacy: input is real requests on the client's
 * stream. Modern: one MRTR round; missing answers turn into an input_required result
 * carrying a signed requestState (and whatever the handler returned is discarded).
 */
export async function withInput(
  core: EngineCore,
  params: JsonObject,
  ctx: RequestContext,
  abort: SignalSource,
  binding: StateBinding,
  run: (hctx: EngineHandlerContext) => Promise<JsonObject>,
): Promise<JsonObject> {
  if (ctx.era !== 'modern') return run(plainContext(core, params, ctx, abort));
  const responses = readInputResponses(params);
  const state = params['requestState'];
  const answers =
    state === undefined ? responses : { ...core.signer.verify(state, binding), ...responses };
  const round = new MrtrRound(answers);
  const source: InputSource = { type: 'mrtr', round };
  const hctx = new EngineHandlerContext({
    request: ctx,
    meta: metaOf(params),
    abort,
    outbound: ctx.outbound,
    session: undefined,
    input: source,
    changes: core.changes,
    sampler: core.sampler,
  });
  try {
    const result = await run(hctx);
    return round.missing === undefined ? result : inputRequired(core, round, binding);
  } catch (err) {
    if (round.missing !== undefined) return inputRequired(core, round, binding);
    throw err;
  }
}

function inputRequired(core: EngineCore, round: MrtrRound, binding: StateBinding): JsonObject {
  return {
    resultType: 'input_required',
    inputRequests: round.missing,
    requestState: core.signer.sign(binding, round.consumed),
  };
}
