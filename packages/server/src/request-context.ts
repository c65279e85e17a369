/** Builders transports use to describe one incoming request to the engine. */
import { ProtocolError } from '@mcp-cluster/protocol';
import type {
  ClientCapabilities,
  Implementation,
  JsonRpcNotification,
  LoggingLevel,
  RequestId,
} from '@mcp-cluster/protocol';
import type { LegacySession } from './api.js';
import { ANONYMOUS_CALLER } from './context.js';
import type { Caller, Outbound, RequestContext } from './context.js';
import { RequestAbort } from './inflight.js';
import type { AbortSource } from './inflight.js';

/** Each context built over a RequestAbort, and that RequestAbort (see {@link abortSourceOf}). */
const lazyAborts = new WeakMap<RequestContext, RequestAbort>();

/**
 * What aborts `ctx`: the RequestAbort a transport built it over (its `aborted` costs nothing
 * and its signal is made only when read), else `ctx.signal`.
 */
export function abortSourceOf(ctx: RequestContext): AbortSource {
  return lazyAborts.get(ctx) ?? ctx.signal;
}

/** Set after the context is built (a spread would read a lazy signal). */
export interface RequestExtras {
  readonly wire?: RequestContext['wire'] | undefined;
  readonly paramHeaders?: RequestContext['paramHeaders'] | undefined;
  readonly traceparent?: string | undefined;
}

type Mutable = { -readonly [K in keyof RequestContext]: RequestContext[K] };

/**
 * The fields every context has, with its signal: the given AbortSignal, or for a RequestAbort
 * a getter (an own property, so a spread still copies the signal), so that the signal is
 * created only when someone asks for it — creating an AbortSignal costs more than a trivial
 * tool call, and most handlers never look.
 */
function newContext(
  era: RequestContext['era'],
  protocolVersion: string,
  requestId: RequestId,
  clientCapabilities: ClientCapabilities,
  caller: Caller,
  outbound: Outbound,
  abort: AbortSource,
): Mutable {
  const principal = caller.principal;
  if (!(abort instanceof RequestAbort)) {
    return {
      era,
      protocolVersion,
      requestId,
      clientCapabilities,
      principal,
      outbound,
      signal: abort,
    };
  }
  const ctx: Mutable = {
    era,
    protocolVersion,
    requestId,
    clientCapabilities,
    principal,
    outbound,
    get signal() {
      return abort.signal;
    },
  };
  lazyAborts.set(ctx, abort);
  return ctx;
}

function addExtras(ctx: Mutable, extras: RequestExtras | undefined): RequestContext {
  if (extras?.wire !== undefined) ctx.wire = extras.wire;
  if (extras?.paramHeaders !== undefined) ctx.paramHeaders = extras.paramHeaders;
  if (extras?.traceparent !== undefined) ctx.traceparent = extras.traceparent;
  return ctx;
}

/** A legacy request on `session` (its negotiated version and client capabilities). */
export function legacyRequestContext(
  session: LegacySession,
  requestId: RequestId,
  abort: AbortSource,
  outbound: Outbound,
  caller: Caller = ANONYMOUS_CALLER,
  extras?: RequestExtras,
): RequestContext {
  const state = session.state;
  const ctx = newContext(
    'legacy',
    state.protocolVersion,
    requestId,
    state.clientCapabilities,
    caller,
    outbound,
    abort,
  );
  ctx.sessionId = session.id;
  if (caller.remoteAddress !== undefined) ctx.remoteAddress = caller.remoteAddress;
  if (state.clientInfo !== undefined) ctx.clientInfo = state.clientInfo;
  return addExtras(ctx, extras);
}

/** What a modern request declares in its `_meta` (validated by the transport's era ladder). */
export interface ModernRequestMeta {
  readonly protocolVersion: string;
  readonly clientCapabilities: ClientCapabilities;
  readonly clientInfo?: Implementation;
  readonly logLevel?: LoggingLevel;
}

/** A modern (2026-07-28) request; the engine reads the rest of `_meta` from the request. */
export function modernRequestContext(
  meta: ModernRequestMeta,
  requestId: RequestId,
  abort: AbortSource,
  outbound: Outbound,
  caller: Caller = ANONYMOUS_CALLER,
  extras?: RequestExtras,
): RequestContext {
  const ctx = newContext(
    'modern',
    meta.protocolVersion,
    requestId,
    meta.clientCapabilities,
    caller,
    outbound,
    abort,
  );
  if (caller.remoteAddress !== undefined) ctx.remoteAddress = caller.remoteAddress;
  if (meta.clientInfo !== undefined) ctx.clientInfo = meta.clientInfo;
  if (meta.logLevel !== undefined) ctx.logLevel = meta.logLevel;
  return addExtras(ctx, extras);
}

const STATELESS_REQUEST = (): Promise<never> =>
  Promise.reject(
    ProtocolError.of('InvalidRequest', 'Server-to-client requests are not used in 2026-07-28'),
  );

/**
 * The Outbound of a modern request: notifications go to the request's own stream;
 * server->client requests are never sent (MRTR replaces them).
 */
export function modernOutbound(
  sink: (notification: JsonRpcNotification) => void,
  closeStream?: () => void,
): Outbound {
  return closeStream === undefined
    ? { notify: sink, request: STATELESS_REQUEST }
    : { notify: sink, request: STATELESS_REQUEST, closeStream };
}
