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

/** A legacy request on `session` (its negotiated version and client capabilities). */
export function legacyRequestContext(
  session: LegacySession,
  requestId: RequestId,
  signal: AbortSignal,
  outbound: Outbound,
  caller: Caller = ANONYMOUS_CALLER,
): RequestContext {
  const state = session.state;
  const ctx: {
    -readonly [K in keyof RequestContext]: RequestContext[K];
  } = {
    era: 'legacy',
    protocolVersion: state.protocolVersion,
    requestId,
    clientCapabilities: state.clientCapabilities,
    sessionId: session.id,
    principal: caller.principal,
    signal,
    outbound,
  };
  if (caller.remoteAddress !== undefined) ctx.remoteAddress = caller.remoteAddress;
  if (state.clientInfo !== undefined) ctx.clientInfo = state.clientInfo;
  return ctx;
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
  signal: AbortSignal,
  outbound: Outbound,
  caller: Caller = ANONYMOUS_CALLER,
): RequestContext {
  const ctx: {
    -readonly [K in keyof RequestContext]: RequestContext[K];
  } = {
    era: 'modern',
    protocolVersion: meta.protocolVersion,
    requestId,
    clientCapabilities: meta.clientCapabilities,
    principal: caller.principal,
    signal,
    outbound,
  };
  if (caller.remoteAddress !== undefined) ctx.remoteAddress = caller.remoteAddress;
  if (meta.clientInfo !== undefined) ctx.clientInfo = meta.clientInfo;
  if (meta.logLevel !== undefined) ctx.logLevel = meta.logLevel;
  return ctx;
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
