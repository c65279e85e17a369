/**
 * The transports' door: every HTTP request of the MCP routes (POST/GET/DELETE on the
 * endpoint, the WebSocket upgrade, legacy /sse and /messages) is admitted or refused here
 * before anything else reads it. The transports know nothing about credentials: a guard
 * (built by @mcp-cluster/security from the configuration) decides; without one every
 * request is the anonymous caller (the embedded node's laptop default).
 */
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProtocolError } from '@mcp-cluster/protocol';
import { ANONYMOUS_CALLER } from '@mcp-cluster/server';
import type { Caller, LegacySession, Principal } from '@mcp-cluster/server';
import { subprotocolAuthorization } from './subprotocol.js';

/** What a guard may look at: headers and the connection, never the body. */
export interface GuardRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly remoteAddress: string | undefined;
  /** The connection (a TLSSocket when the app terminates TLS: client certificates). */
  readonly socket: Socket;
}

export type Admission =
  | { readonly ok: true; readonly principal: Principal }
  | {
      readonly ok: false;
      readonly status: number;
      /** e.g. WWW-Authenticate, Retry-After. */
      readonly headers?: Readonly<Record<string, string>>;
      /** The JSON-RPC error of the body; its message is safe to show the client. */
      readonly error: { readonly code: number; readonly message: string };
    };

export interface TransportGuard {
  admit(request: GuardRequest): Promise<Admission>;
  /**
   * Claims one long-lived stream (GET SSE, WebSocket, /sse, subscriptions/listen) for a
   * principal: a release function, or undefined when the principal has too many open. It
   * rejects when the count cannot be had (its store is down): the stream is refused.
   */
  openStream?(principal: Principal): Promise<(() => void) | undefined>;
}

/** What a stream slot lives as long as: an SSE response, or a WebSocket's connection. */
export interface StreamHolder {
  once(event: 'close', listener: () => void): unknown;
  readonly destroyed: boolean;
}

/** A check the guard needs could not be made (its store is down): refused, retryably. */
export function securityUnavailable(): ProtocolError {
  return ProtocolError.of('Unavailable', 'Security checks unavailable');
}

/** Why a stream was not opened: the HTTP status, the JSON-RPC error, and any fault. */
export interface StreamRefusal {
  readonly status: number;
  readonly error: ProtocolError;
  /** The guard's failure (a store down), for the operator's log; never shown to the client. */
  readonly cause?: unknown;
}

/**
 * Claims a long-lived stream slot for `caller`, freed when `holder` closes (at once if it
 * closed while the claim was pending). Undefined when claimed; otherwise 429 (too many open
 * streams) or 503 (the guard cannot count them: refused, never admitted uncounted).
 */
export async function streamRefusal(
  guard: TransportGuard | undefined,
  caller: Caller,
  holder: StreamHolder,
): Promise<StreamRefusal | undefined> {
  if (guard?.openStream === undefined) return undefined;
  let release: (() => void) | undefined;
  try {
    release = await guard.openStream(caller.principal);
  } catch (cause) {
    return { status: 503, error: securityUnavailable(), cause };
  }
  if (release === undefined) {
    return { status: 429, error: ProtocolError.of('RateLimited', 'Too many open streams') };
  }
  holder.once('close', release);
  if (holder.destroyed) release();
  return undefined;
}

const callers = new WeakMap<FastifyRequest, Caller>();

/** The caller admitted for this request (anonymous when no guard is configured). */
export function callerOf(req: FastifyRequest): Caller {
  return callers.get(req) ?? ANONYMOUS_CALLER;
}

/** Sessions are bound to their creator: anyone else is told the session does not exist. */
export function ownsSession(session: LegacySession, caller: Caller): boolean {
  return (session.ownerId ?? ANONYMOUS_CALLER.principal.id) === caller.principal.id;
}

function plainHeaders(req: FastifyRequest): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  // A browser's WebSocket carries its bearer token as a subprotocol (websocket.ts).
  const fromSubprotocol = subprotocolAuthorization(out);
  if (fromSubprotocol !== undefined) out['authorization'] = fromSubprotocol;
  return out;
}

/** The onRequest hook: admits the request (remembering its caller) or answers the refusal. */
export function guardHook(
  guard: TransportGuard | undefined,
  fail: (req: FastifyRequest, reply: FastifyReply, err: unknown) => void,
): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (req, reply) => {
    // The socket's peer, or the client a trusted proxy names (createHttpApp's trustProxy).
    const remoteAddress: string | undefined = req.ip;
    if (guard === undefined) {
      if (remoteAddress !== undefined) callers.set(req, { ...ANONYMOUS_CALLER, remoteAddress });
      return;
    }
    let admission: Admission;
    try {
      admission = await guard.admit({
        method: req.method,
        url: req.url,
        headers: plainHeaders(req),
        remoteAddress,
        socket: req.socket,
      });
    } catch (err) {
      fail(req, reply, err);
      return reply;
    }
    if (admission.ok) {
      callers.set(req, { principal: admission.principal, remoteAddress });
      return;
    }
    void reply
      .code(admission.status)
      .headers(admission.headers ?? {})
      .header('content-type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ jsonrpc: '2.0', id: null, error: admission.error }));
    return reply;
  };
}
