/**
 * The transports' door: every HTTP request of the MCP routes (POST/GET/DELETE on the
 * endpoint, the WebSocket upgrade, legacy /sse and /messages) is admitted or refused here
 * before anything else reads it. The transports know nothing about credentials: a guard
 * (built by @mcp-cluster/security from the configuration) decides; without one every
 * request is the anonymous caller (the embedded node's laptop default).
 */
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProtocolError, securityUnavailable } from '@mcp-cluster/protocol';
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

/** Why an admitted credential stopped being valid. */
export type CredentialEnd = 'expired' | 'revoked';

/**
 * What the guard knows about an admitted credential that can end while a connection opened
 * with it is still open (a token's `exp`, a revocation). Long-lived connections follow it:
 * they re-check it per message and close when it ends. Credentials that cannot end (a static
 * token, a Basic user) come without one.
 */
export interface AdmittedCredential {
  /**
   * The verdict when it is known without waiting (a re-check younger than the guard's
   * re-check period): `'valid'` or why not. Undefined: ask `check()`.
   */
  current(): 'valid' | CredentialEnd | undefined;
  /** Re-checks the credential (sharing a recent verdict); rejects when it cannot be told. */
  check(): Promise<'valid' | CredentialEnd>;
  /**
   * Calls `onEnd` once, when the credential expires or is revoked (it may already have).
   * Returns the unsubscribe; call it when the connection closes.
   */
  watch(onEnd: (why: CredentialEnd) => void): () => void;
}

export type Admission =
  | {
      readonly ok: true;
      readonly principal: Principal;
      /** Present when the credential can expire or be revoked. */
      readonly credential?: AdmittedCredential | undefined;
    }
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
  /**
   * Takes one token of the caller's budget for one JSON-RPC message the request's admission
   * did not pay for: batch entries after the first, every WebSocket frame's messages. Absent:
   * messages are not counted. Faults (a store down) come back as a refusal, never a rejection.
   */
  spend?(caller: Caller): Promise<MessageAdmission>;
}

/** A message's claim on its caller's budget: granted, or the error that answers it. */
export type MessageAdmission =
  { readonly ok: true } | { readonly ok: false; readonly error: ProtocolError };

/** What a stream slot lives as long as: an SSE response, or a WebSocket's connection. */
export interface StreamHolder {
  once(event: 'close', listener: () => void): unknown;
  readonly destroyed: boolean;
}

/** A check the guard needs could not be made (its store is down): refused, retryably. */
export { securityUnavailable };

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

/**
 * The budget of the messages one HTTP request or WebSocket frame carries. A POST's admission
 * took one token, which pays for its first message (`prepaid`); every further request or
 * notification spends one of the caller's own (TransportGuard.spend).
 */
export class MessageBudget {
  private prepaid: number;

  constructor(
    private readonly guard: Pick<TransportGuard, 'spend'>,
    private readonly caller: Caller,
    prepaid: number,
  ) {
    this.prepaid = prepaid;
  }

  /**
   * Claims one message; call in arrival order. Undefined when it may run at once (prepaid),
   * else a promise of undefined (spent) or of the refusal that answers it (-32012 over the
   * budget, -32016 when the budget cannot be checked).
   */
  claim(): Promise<ProtocolError | undefined> | undefined {
    if (this.prepaid > 0) {
      this.prepaid--;
      return undefined;
    }
    const spent = this.guard.spend?.(this.caller);
    return spent?.then(
      (r) => (r.ok ? undefined : r.error),
      () => securityUnavailable(),
    );
  }
}

/** The budget of one request's or frame's messages; undefined when the guard counts none. */
export function messageBudget(
  guard: TransportGuard | undefined,
  caller: Caller,
  prepaid: number,
): MessageBudget | undefined {
  return guard?.spend === undefined ? undefined : new MessageBudget(guard, caller, prepaid);
}

const callers = new WeakMap<FastifyRequest, Caller>();
const credentials = new WeakMap<Caller, AdmittedCredential>();

/** The credential the caller was admitted with, when it can end (see AdmittedCredential). */
export function credentialOf(caller: Caller): AdmittedCredential | undefined {
  return credentials.get(caller);
}

/** The text a connection closed for its credential says (WebSocket close reason, logs). */
export function credentialEndReason(why: CredentialEnd): string {
  return why === 'expired' ? 'credential expired' : 'credential revoked';
}

/**
 * Ends a long-lived stream (`end`) when the credential it was opened with expires or is
 * revoked; nothing when the credential cannot end. The watch stops when `holder` closes.
 */
export function followCredential(
  caller: Caller,
  holder: StreamHolder,
  end: (why: CredentialEnd) => void,
): void {
  const credential = credentials.get(caller);
  if (credential === undefined || holder.destroyed) return;
  const stop = credential.watch(end);
  holder.once('close', stop);
}

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
      const caller: Caller = { principal: admission.principal, remoteAddress };
      callers.set(req, caller);
      if (admission.credential !== undefined) credentials.set(caller, admission.credential);
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
