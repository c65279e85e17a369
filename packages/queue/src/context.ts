/**
 * The request context of a durable job: what is stored at `start`, and what a node rebuilds
 * from it to call `resolveRun` (no live signal or client stream survives the creating
 * request).
 */
import { injectTraceContext } from '@mcp-cluster/observability';
import { ProtocolError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { Outbound, RequestContext } from '@mcp-cluster/server';
import type { StoredContext, TaskSnapshot } from './record.js';

/** A resumed run has no client stream: notifications are dropped, requests refused. */
const NO_OUTBOUND: Outbound = {
  notify: () => undefined,
  request: () =>
    Promise.reject(ProtocolError.of('InternalError', 'No client stream for a resumed task')),
};

export function storedContext(ctx: RequestContext): StoredContext {
  const p = ctx.principal;
  // The creating call's span (active while the engine handles it), for the runs to link to.
  const trace = injectTraceContext<Record<string, string>>({});
  return {
    era: ctx.era,
    protocolVersion: ctx.protocolVersion,
    principal: { id: p.id, kind: p.kind, roles: [...p.roles] },
    ...(p.claims !== undefined ? { principalClaims: { ...p.claims } } : {}),
    ...(ctx.sessionId !== undefined ? { sessionId: ctx.sessionId } : {}),
    clientCapabilities: ctx.clientCapabilities,
    ...(ctx.clientInfo !== undefined
      ? { clientInfo: ctx.clientInfo as unknown as JsonObject }
      : {}),
    ...(trace['traceparent'] === undefined ? {} : { trace }),
  };
}

/** The context `resolveRun` sees: the creating request's identity, the run's own signal. */
export function rebuiltContext(t: TaskSnapshot, signal: AbortSignal): RequestContext {
  const c = t.context;
  const ctx: RequestContext = {
    era: c.era,
    protocolVersion: c.protocolVersion,
    requestId: `task:${t.id}`,
    clientCapabilities: c.clientCapabilities,
    principal: {
      ...c.principal,
      ...(c.principalClaims !== undefined ? { claims: c.principalClaims } : {}),
    },
    signal,
    outbound: NO_OUTBOUND,
  };
  return {
    ...ctx,
    ...(c.sessionId !== undefined ? { sessionId: c.sessionId } : {}),
    ...(c.clientInfo !== undefined
      ? { clientInfo: c.clientInfo as unknown as NonNullable<RequestContext['clientInfo']> }
      : {}),
  };
}
