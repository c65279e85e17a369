/**
 * The worker's side of the dispatch wire (packages/cluster/src/dispatch.ts): one POST per
 * client message, the context envelope in headers, the answer as JSON or an NDJSON stream.
 *
 * Legacy sessions live in Redis; the engine keeps a cached copy (sessions.adopt) that is
 * refreshed whenever the gateway names a newer stored version, and every change a request
 * makes (initialize, setLevel, subscribe, initialized) is written back before the response
 * leaves, so the next request — on any worker — sees it.
 */
import { contextFromMeta, isTracing } from '@mcp-cluster/observability';
import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CLOSE_STREAM_LINE,
  DISPATCH_HEADERS,
  EnvelopeError,
  NDJSON_TYPE,
  ackDelayMs,
  decodeEnvelope,
  mutateSession,
  remainingMs,
  storeUnavailable,
} from '@mcp-cluster/cluster';
import type {
  DispatchEnvelope,
  DispatchFailure,
  DispatchRefusal,
  DispatchVerifier,
  SessionPatch,
  SessionStore,
} from '@mcp-cluster/cluster';
import {
  LATEST_LEGACY_VERSION,
  ProtocolError,
  RpcError,
  classifyPost,
  decodeBody,
  httpStatusForCode,
  isResponse,
  paramHeadersOf,
  parseJsonText,
  toWireError,
  validateRoutingHeaders,
} from '@mcp-cluster/protocol';
import type {
  JsonRpcMessage,
  JsonRpcRequest,
  JsonRpcResponse,
  ParamHeader,
  Tool,
} from '@mcp-cluster/protocol';
import {
  RequestAbort,
  legacyRequestContext,
  legacySessionState,
  modernOutbound,
  modernRequestContext,
} from '@mcp-cluster/server';
import type {
  LegacySessionState,
  LocalEngine,
  MemorySession,
  MessageEngine,
  Outbound,
  Principal,
  StoredSessionState,
} from '@mcp-cluster/server';
import { EarlyAcks } from './early-ack.js';
import type { PendingAck } from './early-ack.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const NOTIFICATION_ID = '';

export interface DispatcherOptions {
  readonly workerId: string;
  readonly engine: LocalEngine;
  /**
   * Where requests and notifications go: the engine behind its decorators (metrics, tracing).
   * Default: `engine` itself.
   */
  readonly messages?: Pick<MessageEngine, 'handleRequest' | 'handleNotification'>;
  readonly sessions: SessionStore;
  readonly bodyLimitBytes: number;
  readonly maxJsonDepth: number;
  /**
   * The dispatch gate (dispatch-auth.ts in @mcp-cluster/cluster): a dispatch runs only when
   * one of the cluster's secrets signed it, recently, and no worker ran its nonce before.
   */
  readonly verifier: DispatchVerifier;
  /**
   * Requests run at once (the limit this worker publishes); one more is refused with 503
   * `saturated` before it runs. Gateways route within it, but each counts only its own
   * dispatches. 0 or undefined: no cap.
   */
  readonly maxConcurrency?: number | undefined;
  readonly onError: (err: unknown, what: string) => void;
  /** Acknowledges requests still running after their ack delay (default: one per Dispatcher). */
  readonly acks?: EarlyAcks;
}

/**
 * The answer to one dispatch: JSON until something other than the response is sent, or
 * until the request outlives its ack delay (then NDJSON headers go at once, the response
 * later as the last line).
 */
class DispatchReply implements PendingAck {
  private streaming = false;
  /** When the dispatch arrived (its ack delay counts from here, as the sender's timeout). */
  private readonly arrivedAt = performance.now();
  ackAt = 0;
  private acking = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly acks: EarlyAcks,
  ) {}

  /**
   * The request runs now: acknowledge it unless its answer is ready within `delayMs` of its
   * arrival. Armed only here, once nothing can refuse the dispatch any more (a refusal needs
   * its status code, which an early ack would have spent). Undefined: no ack.
   */
  ackAfter(delayMs: number | undefined): void {
    if (delayMs === undefined || this.streaming) return;
    this.ackAt = this.arrivedAt + delayMs;
    this.acking = true;
    this.acks.watch(this);
  }

  /** PendingAck: the delay passed without an answer. */
  ack(): void {
    this.acking = false;
    if (!this.open || this.streaming) return;
    this.startStream();
    this.res.flushHeaders();
  }

  /** No ack any more: the answer (or its stream) started, or the exchange ended. */
  settle(): void {
    if (!this.acking) return;
    this.acking = false;
    this.acks.settle(this);
  }

  get open(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  /** A message before the response (notification, server->client request). */
  readonly send = (message: JsonRpcMessage): boolean => this.line(JSON.stringify(message));

  readonly closeStream = (): void => {
    this.line(CLOSE_STREAM_LINE);
  };

  finish(response: JsonRpcResponse): void {
    this.settle();
    if (!this.open) return;
    const text = JSON.stringify(response);
    if (this.streaming) {
      this.res.end(`${text}\n`);
      return;
    }
    this.res.writeHead(200, {
      'content-type': JSON_TYPE,
      'content-length': Buffer.byteLength(text),
    });
    this.res.end(text);
  }

  accepted(): void {
    this.settle();
    if (!this.open) return;
    this.res.writeHead(202).end();
  }

  fail(status: number, code: number, message: string, reason?: DispatchRefusal): void {
    this.settle();
    if (!this.open) return;
    if (this.streaming) {
      this.res.destroy();
      return;
    }
    const body: DispatchFailure =
      reason === undefined ? { error: { code, message } } : { error: { code, message }, reason };
    this.res.writeHead(status, { 'content-type': JSON_TYPE }).end(JSON.stringify(body));
  }

  private line(text: string): boolean {
    if (!this.open) return false;
    if (!this.streaming) {
      this.settle();
      this.startStream();
    }
    this.res.write(`${text}\n`);
    return true;
  }

  private startStream(): void {
    this.streaming = true;
    this.res.writeHead(200, { 'content-type': NDJSON_TYPE, 'cache-control': 'no-cache' });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : v?.[0];
}

/**
 * Reads the body up to `limit` bytes; undefined as soon as it is larger (the rest is read and
 * dropped, so the refusal can still be answered on the connection). Events rather than
 * `for await`: the async iterator's machinery costs more per request than a small body.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > limit) return;
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      chunks = [];
      resolve(undefined);
    });
    req.once('end', () => {
      if (size <= limit) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.once('error', reject);
    // A connection that closes before the body ended (the gateway went away).
    req.once('close', () => {
      if (!req.complete) reject(new Error('dispatch request closed before its body ended'));
    });
  });
}

/** The stored shape (what the session store writes: a mutable subscription list). */
type Snapshot = StoredSessionState & { subscriptions: string[] };

function snapshot(session: MemorySession): Snapshot {
  const s = session.state;
  return {
    protocolVersion: s.protocolVersion,
    clientCapabilities: s.clientCapabilities,
    initialized: s.initialized,
    subscriptions: [...s.subscriptions].sort(),
    ...(s.clientInfo === undefined ? {} : { clientInfo: s.clientInfo }),
    ...(s.logLevel === undefined ? {} : { logLevel: s.logLevel }),
  };
}

/** What changed between two snapshots, as a store patch (undefined clears a field). */
function diff(before: Snapshot, after: Snapshot): SessionPatch | undefined {
  const patch: Record<string, unknown> = {};
  let changed = false;
  for (const key of Object.keys({ ...before, ...after }) as (keyof Snapshot)[]) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      patch[key] = after[key];
      changed = true;
    }
  }
  // Sound: every key comes from Snapshot, a subset of SessionPatch's fields.
  return changed ? patch : undefined;
}

export class Dispatcher {
  /** Stored session version each cached session was last refreshed from. */
  private readonly versions = new Map<string, number>();
  private readonly paramHeaderCache = new WeakMap<Tool, readonly ParamHeader[]>();
  private inflight = 0;
  /** Requests (not notifications or answers) running now: what maxConcurrency caps. */
  private running = 0;
  private idleWaiters: (() => void)[] = [];
  draining = false;

  private readonly messages: Pick<MessageEngine, 'handleRequest' | 'handleNotification'>;
  private readonly acks: EarlyAcks;

  constructor(private readonly o: DispatcherOptions) {
    this.messages = o.messages ?? o.engine;
    this.acks = o.acks ?? new EarlyAcks();
  }

  get inFlight(): number {
    return this.inflight;
  }

  /** Resolves when nothing is in flight. */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = new DispatchReply(res, this.acks);
    this.inflight++;
    try {
      await this.handle(req, res, reply);
    } catch (err) {
      this.o.onError(err, 'dispatch failed');
      reply.fail(500, RpcError.InternalError.code, RpcError.InternalError.message);
    } finally {
      reply.settle();
      if (--this.inflight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
    reply: DispatchReply,
  ): Promise<void> {
    const text = await readBody(req, this.o.bodyLimitBytes);
    if (text === undefined) {
      return reply.fail(413, RpcError.PayloadTooLarge.code, RpcError.PayloadTooLarge.message);
    }
    // Only a gateway knows the secret: the envelope's principal is not taken on trust. And a
    // signed dispatch runs once: a captured one sent again (a replay) runs nothing.
    const auth = await this.o.verifier.verify(req.headers, text);
    if (!auth.ok) {
      this.o.onError(new Error(auth.message), 'dispatch refused');
      if (auth.reason === 'replay-check-unavailable') {
        return reply.fail(503, RpcError.Unavailable.code, auth.message, auth.reason);
      }
      // 421 Misdirected Request: signed for the process that was at this address before.
      if (auth.reason === 'audience') {
        return reply.fail(421, RpcError.Unavailable.code, auth.message, auth.reason);
      }
      return reply.fail(401, RpcError.Unauthorized.code, auth.message, auth.reason);
    }
    let envelope: DispatchEnvelope;
    try {
      envelope = decodeEnvelope((name) => header(req, name));
    } catch (err) {
      if (!(err instanceof EnvelopeError)) throw err;
      return reply.fail(400, RpcError.InvalidRequest.code, err.message);
    }
    let message: JsonRpcMessage;
    try {
      const decoded = decodeBody(parseJsonText(text, { maxDepth: this.o.maxJsonDepth }), {
        allowBatch: false,
      });
      if (decoded.batch) throw ProtocolError.of('InvalidRequest', 'one message per dispatch');
      message = decoded.message;
    } catch (err) {
      const e = err instanceof ProtocolError ? err : ProtocolError.of('ParseError');
      return reply.fail(400, e.code, e.message);
    }
    // Draining: no new work, but answers and notifications for work in flight (a client's
    // reply to sampling, a cancellation) still reach it.
    if (this.draining && 'method' in message && 'id' in message) {
      return reply.fail(503, RpcError.Unavailable.code, 'Worker is draining');
    }
    const isRequest = 'method' in message && 'id' in message;
    const cap = this.o.maxConcurrency ?? 0;
    if (isRequest && cap > 0 && this.running >= cap) {
      return reply.fail(503, RpcError.Unavailable.code, 'Worker at capacity', 'saturated');
    }
    if (isRequest) this.running++;
    // The deadline aborts the request; so does a gateway that hangs up on a modern request
    // (closing the client's stream is the cancellation in 2026-07-28).
    const ac = new RequestAbort();
    const timer = setTimeout(() => ac.abort(), remainingMs(envelope));
    timer.unref();
    const run = (): Promise<void> =>
      envelope.era === 'modern'
        ? this.modern(req, message, envelope, ac, reply)
        : this.legacy(req, message, envelope, ac, reply);
    if (envelope.era === 'modern') {
      res.once('close', () => {
        if (!res.writableFinished) ac.abort();
      });
    }
    try {
      // The gateway's dispatch span (signed into the envelope) parents what runs here.
      if (envelope.traceparent === undefined || !isTracing()) return await run();
      const parent = contextFromMeta(
        {
          traceparent: envelope.traceparent,
          ...(envelope.tracestate === undefined ? {} : { tracestate: envelope.tracestate }),
        },
        ROOT_CONTEXT,
      );
      return await context.with(parent, run);
    } finally {
      clearTimeout(timer);
      if (isRequest) this.running--;
    }
  }

  private async modern(
    req: IncomingMessage,
    message: JsonRpcMessage,
    envelope: DispatchEnvelope,
    abort: RequestAbort,
    reply: DispatchReply,
  ): Promise<void> {
    if (isResponse(message)) return reply.accepted();
    let decision;
    try {
      decision = classifyPost({ protocolVersionHeader: envelope.protocolVersion, message });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return reply.fail(httpStatusForCode(err.code), err.code, err.message);
    }
    if (decision.type !== 'modern') {
      return reply.fail(400, RpcError.InvalidRequest.code, 'not a modern request');
    }
    const principal = envelope.principal;
    if (!('id' in message)) {
      await this.messages.handleNotification(
        message,
        modernRequestContext(decision.meta, NOTIFICATION_ID, abort, modernOutbound(reply.send)),
      );
      return reply.accepted();
    }
    if (message.method === 'tools/call' && header(req, DISPATCH_HEADERS.checkParams) === '1') {
      try {
        this.checkParamHeaders(req, message);
      } catch (err) {
        reply.finish({ jsonrpc: '2.0', id: message.id, error: toWireError(err) });
        return;
      }
    }
    const ctx = modernRequestContext(
      decision.meta,
      message.id,
      abort,
      modernOutbound(reply.send, reply.closeStream),
      { principal },
    );
    reply.ackAfter(ackDelayMs(header(req, DISPATCH_HEADERS.firstByteTimeout)));
    reply.finish(await this.messages.handleRequest(message, ctx));
  }

  private async legacy(
    req: IncomingMessage,
    message: JsonRpcMessage,
    envelope: DispatchEnvelope,
    abort: RequestAbort,
    reply: DispatchReply,
  ): Promise<void> {
    const sessionId = envelope.sessionId;
    if (sessionId === undefined) {
      return reply.fail(400, RpcError.InvalidRequest.code, 'legacy dispatch without a session');
    }
    const isNew = header(req, DISPATCH_HEADERS.sessionNew) === '1';
    let session;
    try {
      session = isNew
        ? this.o.engine.sessions.adopt(sessionId, freshState(), false)
        : await this.session(sessionId, Number(header(req, DISPATCH_HEADERS.sessionVersion)));
    } catch (err) {
      return this.storeFailed(message, err, reply);
    }
    if (session === undefined) {
      return reply.fail(404, RpcError.SessionNotFound.code, RpcError.SessionNotFound.message);
    }
    const principal = envelope.principal;
    const before = snapshot(session);
    if (isResponse(message)) {
      session.deliverResponse(message);
      return reply.accepted();
    }
    const outbound: Outbound = { ...session.outbound(reply.send), closeStream: reply.closeStream };
    if (!('id' in message)) {
      await this.messages.handleNotification(
        message,
        legacyRequestContext(session, NOTIFICATION_ID, abort, outbound, { principal }),
      );
      try {
        await this.persist(session, before);
      } catch (err) {
        return this.storeFailed(message, err, reply);
      }
      return reply.accepted();
    }
    const request = message;
    const ctx = legacyRequestContext(session, request.id, abort, outbound, { principal });
    reply.ackAfter(ackDelayMs(header(req, DISPATCH_HEADERS.firstByteTimeout)));
    const response = await this.messages.handleRequest(request, ctx);
    try {
      if (isNew) {
        if ('error' in response) this.o.engine.sessions.delete(sessionId);
        else await this.create(session, principal);
      } else {
        await this.persist(session, before);
      }
    } catch (err) {
      // Not stored: a new session is forgotten here too (the gateway drops it on the error).
      if (isNew) this.o.engine.sessions.delete(sessionId);
      return this.storeFailed(request, err, reply);
    }
    reply.finish(response);
  }

  /**
   * The session store could not answer (Redis down; see outageAsUnavailable): a request is
   * answered -32016 with `retryAfterMs` and its own id — the client retries, as it would
   * a 503 — never -32603. A notification's effect could not be stored: logged and
   * acknowledged (a 503 here would read as "worker draining" to the gateway).
   */
  private storeFailed(message: JsonRpcMessage, err: unknown, reply: DispatchReply): void {
    this.o.onError(err, 'session store unavailable');
    const error = err instanceof ProtocolError ? err : storeUnavailable(err);
    if (!isResponse(message) && 'id' in message) {
      return reply.finish({ jsonrpc: '2.0', id: message.id, error: toWireError(error) });
    }
    reply.accepted();
  }

  /** SEP-2243 Mcp-Param-* headers the gateway forwarded, against this worker's tool schema. */
  private checkParamHeaders(req: IncomingMessage, message: JsonRpcRequest): void {
    const name = message.params?.['name'];
    const tool = typeof name === 'string' ? this.o.engine.toolDescriptor(name) : undefined;
    if (tool === undefined) return;
    let params = this.paramHeaderCache.get(tool);
    if (params === undefined) {
      params = paramHeadersOf(tool.inputSchema);
      this.paramHeaderCache.set(tool, params);
    }
    validateRoutingHeaders(message, (h) => header(req, h), params);
  }

  /** The cached session, refreshed from the store when the gateway saw a newer version. */
  private async session(id: string, version: number): Promise<MemorySession | undefined> {
    const cached = this.o.engine.sessions.get(id);
    if (cached !== undefined && this.versions.get(id) === version) return cached;
    const found = await this.o.sessions.get(id);
    if (found.status !== 'live') {
      if (cached !== undefined) this.o.engine.sessions.delete(id);
      this.versions.delete(id);
      return undefined;
    }
    this.versions.set(id, found.session.version);
    return this.o.engine.sessions.adopt(
      id,
      legacySessionState(found.session),
      true,
      found.session.ownerId,
    );
  }

  private async create(session: MemorySession, principal: Principal): Promise<void> {
    const s = snapshot(session);
    const record = await this.o.sessions.create(session.id, {
      ...s,
      workerId: this.o.workerId,
      // Always the creator's id, anonymous included: gateways refuse every other principal.
      ownerId: principal.id,
    });
    this.versions.set(session.id, record.version);
  }

  /** Writes what this request changed back to the store (retrying lost races). */
  private async persist(session: MemorySession, before: Snapshot): Promise<void> {
    const patch = diff(before, snapshot(session));
    if (patch === undefined) return;
    const res = await mutateSession(this.o.sessions, session.id, () => patch);
    if (res.ok) this.versions.set(session.id, res.session.version);
    else this.versions.delete(session.id);
  }
}

function freshState(): LegacySessionState {
  return {
    protocolVersion: LATEST_LEGACY_VERSION,
    clientCapabilities: {},
    initialized: false,
    subscriptions: new Set(),
  };
}
