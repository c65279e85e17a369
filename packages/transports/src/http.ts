/**
 * Streamable HTTP at one endpoint, both eras (conformance-fixtures 2.4): POST carries
 * messages, GET opens / resumes a legacy session's SSE stream, DELETE ends a session.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  Header,
  InvalidMessageError,
  ProtocolError,
  RpcError,
  allowsBatch,
  classifyPost,
  decodeBody,
  httpStatusForCode,
  isInvalidEntry,
  isLegacyVersion,
  isModernVersion,
  isRemovedInModern,
  isResponse,
  paramHeadersOf,
  replyIdOf,
  parseJsonText,
  retryAfterSeconds,
  sessionRequiredError,
  validateRoutingHeaders,
} from '@mcp-cluster/protocol';
import type {
  JsonRpcMessage,
  JsonRpcRequest,
  JsonRpcResponse,
  ModernMeta,
  ParamHeader,
  Tool,
} from '@mcp-cluster/protocol';
import {
  RequestAbort,
  legacyRequestContext,
  modernOutbound,
  modernRequestContext,
} from '@mcp-cluster/server';
import type {
  Caller,
  LegacySession,
  MessageEngine,
  Outbound,
  RequestContext,
} from '@mcp-cluster/server';
import { PostExchange } from './exchange.js';
import { callerOf, followCredential, messageBudget, ownsSession, streamRefusal } from './guard.js';
import type { StreamHolder, TransportGuard } from './guard.js';
import { parseLimits } from './settings.js';
import type { TransportSettings } from './settings.js';
import type {
  EventStream,
  ResumeOutcome,
  SessionStreams,
  SharedStreams,
  StreamRegistry,
} from './sse.js';
import { SseWriter, eventFrame, isStandaloneStreamId, parseEventId } from './sse.js';
import { errorResponse, removedMethodError, statusOf } from './wire.js';

const JSON_TYPE = 'application/json; charset=utf-8';
/** Sessions at or after this revision get the SSE priming event and `retry:`. */
const PRIMING_SINCE = '2025-11-25';
const NOTIFICATION_ID = '';
/** How long a GET follows a POST stream another gateway is still serving. */
const MAX_FOLLOW_MS = 10 * 60_000;
/**
 * How long a node taking over another node's standalone stream follows that node's mirror
 * before serving the session itself (see StreamableHttp.takeOver): long enough for events the
 * origin recorded a moment ago to land, short enough that live delivery resumes promptly.
 */
const TAKEOVER_FOLLOW_MS = 1_000;
/** Bound on messages held back while a stream is being taken over (oldest dropped). */
const MAX_HELD = 1_000;

type Headers = FastifyRequest['headers'];

function header(h: Headers, name: string): string | undefined {
  const v = h[name];
  return typeof v === 'string' ? v : v?.[0];
}

function isJsonType(ct: string | undefined): boolean {
  if (ct === undefined) return false;
  const semi = ct.indexOf(';');
  return (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase() === 'application/json';
}

/** What the client accepts; a missing Accept accepts everything. */
function acceptOf(accept: string | undefined): { json: boolean; sse: boolean } {
  if (accept === undefined || accept.includes('*/*')) return { json: true, sse: true };
  const a = accept.toLowerCase();
  return {
    json: a.includes('application/json') || a.includes('application/*'),
    sse: a.includes('text/event-stream') || a.includes('text/*'),
  };
}

/** Ends the request with a JSON-RPC error body. */
export function rejectJson(
  reply: FastifyReply,
  status: number,
  id: JsonRpcRequest['id'] | null,
  err: unknown,
): void {
  void reply
    .code(status)
    .header('content-type', JSON_TYPE)
    .send(JSON.stringify(errorResponse(id, err)));
}

/**
 * Claims a long-lived stream slot for `caller`, freed when `holder` closes (an SSE response,
 * a WebSocket's connection); false when refused, with the refusal sent on `reply` (429 over
 * the limit, 503 when the slots cannot be counted, which is logged).
 */
export async function claimStream(
  guard: TransportGuard | undefined,
  caller: Caller,
  holder: StreamHolder,
  reply: FastifyReply,
): Promise<boolean> {
  const refusal = await streamRefusal(guard, caller, holder);
  if (refusal === undefined) return true;
  if (refusal.cause !== undefined) reply.log.error({ err: refusal.cause }, 'stream not counted');
  rejectJson(reply, refusal.status, null, refusal.error);
  return false;
}

const sessionNotFound = (): ProtocolError => ProtocolError.of('SessionNotFound');

/**
 * A new legacy session for `caller`, within the session limits (SessionManager.open);
 * undefined when refused, with the refusal sent on `reply` as the answer to request `id`:
 * 429 (-32012, over `maxSessionsPerPrincipal`) or 503 (-32016, over `maxSessions`, or the
 * count could not be had), with Retry-After. Nothing was stored then.
 */
export async function openSession(
  engine: MessageEngine,
  caller: Caller,
  reply: FastifyReply,
  id: JsonRpcRequest['id'] | null,
): Promise<LegacySession | undefined> {
  try {
    return await engine.sessions.open(caller.principal.id);
  } catch (err) {
    if (!(err instanceof ProtocolError)) {
      reply.log.error({ err }, 'session not opened');
      rejectJson(reply, 503, id, ProtocolError.of('Unavailable'));
      return undefined;
    }
    reply.headers(errorHeaders(err) ?? {});
    rejectJson(reply, err.httpStatus, id, err);
    return undefined;
  }
}

/** Registers POST/GET/DELETE on `settings.path`. */
export function registerStreamableHttp(
  app: FastifyInstance,
  engine: MessageEngine,
  settings: TransportSettings,
  registry: StreamRegistry,
  guard?: TransportGuard,
): void {
  const http = new StreamableHttp(engine, settings, registry, guard);
  app.post(settings.path, (req, reply) => {
    http.post(req, reply).catch((err: unknown) => http.fail(req, reply, err));
  });
  app.get(settings.path, (req, reply) => {
    http.get(req, reply).catch((err: unknown) => http.fail(req, reply, err));
  });
  app.delete(settings.path, (req, reply) => {
    http.delete(req, reply).catch((err: unknown) => http.fail(req, reply, err));
  });
}

class StreamableHttp {
  private readonly paramHeaderCache = new WeakMap<Tool, readonly ParamHeader[]>();

  constructor(
    private readonly engine: MessageEngine,
    private readonly settings: TransportSettings,
    private readonly registry: StreamRegistry,
    private readonly guard: TransportGuard | undefined,
  ) {}

  /** The caller's session, or undefined when it does not exist or belongs to someone else. */
  private async sessionFor(id: string, caller: Caller): Promise<LegacySession | undefined> {
    const session = await this.engine.sessions.load(id);
    return session !== undefined && ownsSession(session, caller) ? session : undefined;
  }

  /**
   * The answer to a request that failed outside the engine: a ProtocolError (e.g. -32016 when
   * the session store is down) with its own status and Retry-After, anything else 500; both
   * with the request's `id` when it is known.
   */
  fail(
    req: FastifyRequest,
    reply: FastifyReply,
    err: unknown,
    id: JsonRpcRequest['id'] | null = null,
  ): void {
    if (err instanceof ProtocolError) req.log.warn({ err }, 'mcp request refused');
    else req.log.error({ err }, 'mcp request failed');
    if (reply.sent || reply.raw.headersSent) return void reply.raw.end();
    if (!(err instanceof ProtocolError)) return rejectJson(reply, 500, id, err);
    reply.headers(errorHeaders(err) ?? {});
    rejectJson(reply, err.httpStatus, id, err);
  }

  /**
   * A batch refused as a whole before any of it ran (e.g. -32016, the session store down):
   * the refusal's status and Retry-After, and one error per request of the batch, each with
   * its id. A batch of notifications and responses only gets the single error (id null).
   */
  private failBatch(
    req: FastifyRequest,
    reply: FastifyReply,
    err: unknown,
    batch: readonly unknown[],
  ): void {
    const ids = batch
      .filter((m) => typeof m === 'object' && m !== null && 'method' in m)
      .map(requestIdIn)
      .filter((id) => id !== null);
    if (!(err instanceof ProtocolError) || ids.length === 0 || reply.sent) {
      return this.fail(req, reply, err);
    }
    req.log.warn({ err }, 'mcp batch refused');
    void reply
      .code(err.httpStatus)
      .headers(errorHeaders(err) ?? {})
      .header('content-type', JSON_TYPE)
      .send(JSON.stringify(ids.map((id) => errorResponse(id, err))));
  }

  async post(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const h = req.headers;
    if (!isJsonType(h['content-type'])) {
      return rejectJson(reply, 415, null, invalid('Content-Type must be application/json'));
    }
    const accept = acceptOf(h.accept);
    if (!accept.json && !accept.sse) {
      return rejectJson(
        reply,
        406,
        null,
        invalid('Accept must include application/json or text/event-stream'),
      );
    }
    const text = req.body as string;
    let value: unknown;
    try {
      value = parseJsonText(text, parseLimits(this.settings));
    } catch (err) {
      return rejectJson(reply, 400, null, err);
    }
    const caller = callerOf(req);
    const sessionId = header(h, Header.SessionId);
    if (sessionId !== undefined) {
      // A failure here (the session store down) still answers the request by its id; each
      // request of a batch by its own.
      return this.postToSession(sessionId, value, text, req, reply, accept, caller).catch(
        (err: unknown) =>
          Array.isArray(value)
            ? this.failBatch(req, reply, err, value)
            : this.fail(req, reply, err, requestIdIn(value)),
      );
    }

    let message: JsonRpcMessage;
    try {
      const decoded = decodeBody(value, { allowBatch: false });
      if (decoded.batch) throw sessionRequiredError();
      message = decoded.message;
    } catch (err) {
      return rejectJson(reply, 400, err instanceof InvalidMessageError ? err.requestId : null, err);
    }
    const id = replyIdOf(message);
    let decision;
    try {
      decision = classifyPost({
        protocolVersionHeader: header(h, Header.ProtocolVersion),
        message,
      });
    } catch (err) {
      return rejectJson(reply, statusOf(err), id, err);
    }
    if (decision.type === 'legacy-new') {
      if (id === null || !('method' in message) || message.method !== 'initialize') {
        return rejectJson(reply, 400, id, sessionRequiredError());
      }
      return this.initialize(message as JsonRpcRequest, reply, accept, caller);
    }
    if (decision.type === 'modern') {
      return this.modern(message, text, decision.meta, req, reply, accept, caller);
    }
    // classifyPost only answers legacy-session when a session id was given (handled above).
    return rejectJson(reply, 400, id, sessionRequiredError());
  }

  /** Legacy `initialize` without a session: a new session, kept only if initialize succeeds. */
  private async initialize(
    message: JsonRpcRequest,
    reply: FastifyReply,
    accept: { json: boolean; sse: boolean },
    caller: Caller,
  ): Promise<void> {
    const session = await openSession(this.engine, caller, reply, message.id);
    if (session === undefined) return;
    const headers: Record<string, string> = { [Header.SessionId]: session.id };
    const ex = new PostExchange(reply, {
      sse: accept.sse,
      json: accept.json,
      headers,
      open: this.registry.open,
    });
    const ctx = legacyRequestContext(
      session,
      message.id,
      new RequestAbort(),
      session.outbound(ex.send),
      caller,
    );
    const response = await this.engine.handleRequest(message, ctx);
    if ('error' in response) {
      await this.engine.sessions.delete(session.id);
      delete headers[Header.SessionId];
    }
    ex.finish(response);
  }

  private async postToSession(
    sessionId: string,
    value: unknown,
    text: string,
    req: FastifyRequest,
    reply: FastifyReply,
    accept: { json: boolean; sse: boolean },
    caller: Caller,
  ): Promise<void> {
    const session = await this.sessionFor(sessionId, caller);
    if (session === undefined) return rejectJson(reply, 404, null, sessionNotFound());
    let decoded;
    try {
      decoded = decodeBody(value, {
        allowBatch: allowsBatch(session.state.protocolVersion),
        maxBatchLength: this.settings.maxBatchLength,
      });
    } catch (err) {
      return rejectJson(reply, 400, err instanceof InvalidMessageError ? err.requestId : null, err);
    }
    const version = header(req.headers, Header.ProtocolVersion);
    if (version !== undefined && !isLegacyVersion(version) && !isModernVersion(version)) {
      const id = decoded.batch ? null : replyIdOf(decoded.message);
      return rejectJson(reply, 400, id, invalid(`Unsupported MCP-Protocol-Version: ${version}`));
    }
    session.touch();

    if (!decoded.batch) {
      const message = decoded.message;
      if (isResponse(message)) {
        session.deliverResponse(message);
        return void reply.code(202).send();
      }
      if (!('id' in message)) {
        await this.engine.handleNotification(
          message,
          legacyRequestContext(
            session,
            NOTIFICATION_ID,
            new RequestAbort(),
            session.outbound(this.standaloneSink(session)),
            caller,
          ),
        );
        return void reply.code(202).send();
      }
    }

    const ex = new PostExchange(reply, {
      sse: accept.sse,
      json: accept.json,
      open: this.registry.open,
      streams: accept.sse ? this.registry.of(session) : undefined,
      primeRetryMs:
        session.state.protocolVersion >= PRIMING_SINCE ? this.settings.sseRetryMs : undefined,
      fallback: this.standaloneSink(session),
    });
    const base = session.outbound(ex.send);
    const outbound: Outbound = accept.sse ? { ...base, closeStream: ex.closeStream } : base;

    if (!decoded.batch) {
      const message = decoded.message as JsonRpcRequest;
      const response = await this.legacyRequest(
        session,
        message,
        accept.sse
          ? { ...outbound, answerResumably: () => void ex.resumable(message.id) }
          : outbound,
        caller,
        { message, text },
        traceparentOf(req),
      );
      ex.finish(response);
      return;
    }
    // The request's admission paid for its first message; every other entry spends its own
    // token (claimed in order, before anything runs): over the budget a request is answered
    // -32012 in-band and a notification is dropped.
    const budget = messageBudget(this.guard, caller, 1);
    const responses = await Promise.all(
      decoded.entries.map(async (e): Promise<JsonRpcResponse | undefined> => {
        if (isInvalidEntry(e)) return errorResponse(e.requestId, e);
        if (isResponse(e)) {
          session.deliverResponse(e);
          return undefined;
        }
        const claim = budget?.claim();
        const refusal = claim === undefined ? undefined : await claim;
        if (refusal !== undefined) return 'id' in e ? errorResponse(e.id, refusal) : undefined;
        if (!('id' in e)) {
          await this.engine.handleNotification(
            e,
            legacyRequestContext(session, NOTIFICATION_ID, new RequestAbort(), outbound, caller),
          );
          return undefined;
        }
        return this.legacyRequest(session, e, outbound, caller);
      }),
    );
    const out = responses.filter((r): r is JsonRpcResponse => r !== undefined);
    ex.finish(out.length > 0 ? out : undefined);
  }

  private legacyRequest(
    session: LegacySession,
    message: JsonRpcRequest,
    outbound: Outbound,
    caller: Caller,
    wire?: RequestContext['wire'],
    traceparent?: string,
  ): Promise<JsonRpcResponse> {
    // A dropped POST is not a cancellation in the legacy era (the client may resume).
    const ctx = legacyRequestContext(session, message.id, new RequestAbort(), outbound, caller, {
      wire,
      traceparent,
    });
    return this.engine.handleRequest(message, ctx);
  }

  /** Messages of a JSON-only request go to the session's standalone stream, if open. */
  private standaloneSink(session: LegacySession): (message: JsonRpcMessage) => boolean {
    return (message) => {
      const s = this.registry.peek(session)?.peekStandalone();
      return s?.live !== undefined ? s.push(message) : (session.relay?.(message) ?? false);
    };
  }

  private async modern(
    message: JsonRpcMessage,
    text: string,
    meta: ModernMeta,
    req: FastifyRequest,
    reply: FastifyReply,
    accept: { json: boolean; sse: boolean },
    caller: Caller,
  ): Promise<void> {
    if (isResponse(message)) return void reply.code(202).send();
    const id = replyIdOf(message);
    try {
      validateRoutingHeaders(
        message,
        (name) => header(req.headers, name),
        message.method === 'tools/call' ? this.paramHeaders(message.params?.name) : undefined,
      );
      if (isRemovedInModern(message.method)) throw removedMethodError(message.method);
    } catch (err) {
      return rejectJson(reply, statusOf(err), id, err);
    }
    const ac = new RequestAbort();
    if (!('id' in message)) {
      await this.engine.handleNotification(
        message,
        modernRequestContext(meta, NOTIFICATION_ID, ac, modernOutbound(noop), caller),
      );
      return void reply.code(202).send();
    }
    const ex = new PostExchange(reply, {
      sse: accept.sse,
      json: accept.json,
      open: this.registry.open,
    });
    // 2026-07-28: closing the response stream is the cancellation.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) ac.abort();
    });
    if (message.method === 'subscriptions/listen') {
      // A listen stream is nothing but notifications: without SSE it could never say anything.
      if (!accept.sse) {
        return rejectJson(reply, 406, message.id, invalid('subscriptions/listen needs SSE'));
      }
      if (!(await claimStream(this.guard, caller, reply.raw, reply))) return;
      const writer = ex.openSse();
      writer?.startKeepAlive(this.settings.keepAliveMs);
      // Only notifications: a drain ends it at once, the client listens again elsewhere.
      if (writer !== undefined) writer.drain = 'reconnect';
      // The stream ends when the credential it was opened with expires or is revoked.
      followCredential(caller, reply.raw, () => {
        ac.abort();
        writer?.end();
      });
    }
    const unchecked =
      message.method === 'tools/call' && this.paramHeaders(message.params?.name) === undefined
        ? (paramHeadersIn(req.headers) ?? {})
        : undefined;
    const ctx = modernRequestContext(meta, message.id, ac, modernOutbound(ex.send), caller, {
      wire: { message, text },
      paramHeaders: unchecked,
      traceparent: traceparentOf(req),
    });
    const response = await this.engine.handleRequest(message, ctx);
    if (!('error' in response)) return ex.finish(response, 200);
    ex.finish(response, httpStatusForCode(response.error.code), errorHeaders(response.error));
  }

  private paramHeaders(name: unknown): readonly ParamHeader[] | undefined {
    if (typeof name !== 'string') return undefined;
    const tool = this.engine.toolDescriptor(name);
    if (tool === undefined) return undefined;
    let ph = this.paramHeaderCache.get(tool);
    if (ph === undefined) {
      ph = paramHeadersOf(tool.inputSchema);
      this.paramHeaderCache.set(tool, ph);
    }
    return ph;
  }

  /** GET: the session's standalone SSE stream, or a resumed stream (Last-Event-ID). */
  async get(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const h = req.headers;
    const sessionId = header(h, Header.SessionId);
    if (sessionId === undefined) {
      reply.header('allow', 'POST');
      return rejectJson(reply, 405, null, invalid('Method Not Allowed: GET needs a session'));
    }
    const caller = callerOf(req);
    const session = await this.sessionFor(sessionId, caller);
    if (session === undefined) return rejectJson(reply, 404, null, sessionNotFound());
    if (!acceptOf(h.accept).sse) {
      return rejectJson(reply, 406, null, invalid('Accept must include text/event-stream'));
    }
    if (!(await claimStream(this.guard, caller, reply.raw, reply))) return;
    session.touch();
    const streams = this.registry.of(session);
    // Ended elsewhere (another gateway served DELETE): close what this process holds.
    if (session.onEnd !== undefined && this.registry.firstWatch(session)) {
      session.onEnd(() => this.registry.peek(session)?.endAll());
    }
    const alive = (): boolean => this.engine.sessions.get(session.id) === session;
    const last = parseEventId(header(h, Header.LastEventId));
    const resumed = last === undefined ? undefined : streams.get(last.stream);
    const shared = this.registry.shared;
    // A POST stream the client has read to its end: 204 tells it to stop reconnecting (as
    // for EventSource). Clients resume a stream whose last message was an error response.
    if (last !== undefined && !isStandaloneStreamId(last.stream)) {
      const finished =
        resumed !== undefined
          ? resumed.finishedBy(last.seq)
          : shared !== undefined &&
            // Unknown while the store is down: the stream is served (and followed) as before.
            (await shared.mirror.finished(session.id, last.stream, last.seq).catch(() => false));
      if (finished) return void reply.code(204).send();
    }

    reply.hijack();
    const writer = new SseWriter(reply.raw, this.registry.open);
    // The stream ends when the credential it was opened with expires or is revoked.
    followCredential(caller, reply.raw, () => writer.end());
    if (last !== undefined && resumed === undefined && shared !== undefined) {
      // A stream another gateway held (or this one before it restarted).
      // What it follows runs on another node: a drain here sends the client on at once.
      writer.drain = 'reconnect';
      writer.startKeepAlive(this.settings.keepAliveMs, alive);
      if (isStandaloneStreamId(last.stream)) {
        return this.takeOver(session, streams, last, shared, writer, alive);
      }
      // A POST's response stream: replayed and followed until its request answers.
      let seq = last.seq;
      let outcome: ResumeOutcome;
      try {
        outcome = await followMirror(shared, session.id, last, writer, MAX_FOLLOW_MS, (n) => {
          seq = n;
        });
      } catch {
        // The store failed mid-follow: the client comes back after `retry:` with the id of
        // the last event it read here.
        writer.lastEventId = () => `${last.stream}:${seq}`;
        return writer.farewell(this.settings.sseRetryMs);
      }
      if (typeof outcome === 'object') {
        // The node serving the request died before answering: nobody ever will.
        const answer = errorResponse(outcome.orphaned, originLost());
        writer.write(eventFrame(last.stream, seq + 1, answer));
        shared.mirror.record(session.id, last.stream, seq + 1, answer);
        shared.mirror.record(session.id, last.stream, seq + 1, undefined);
        return writer.end();
      }
      if (outcome !== 'unknown') return writer.end();
      if (!writer.isOpen) return;
    }
    if (resumed !== undefined && last !== undefined && resumed !== streams.peekStandalone()) {
      resumed.replayAfter(last.seq, writer);
      if (resumed.done) return writer.end();
      // A request running here: a drain leaves it open until the request answers.
      writer.drain = 'finish';
      resumed.attach(writer);
      writer.startKeepAlive(this.settings.keepAliveMs, alive);
      return;
    }
    const standalone = streams.standalone();
    if (last !== undefined && resumed === standalone) standalone.replayAfter(last.seq, writer);
    else if (session.state.protocolVersion >= PRIMING_SINCE) {
      standalone.prime(writer, this.settings.sseRetryMs);
    }
    standalone.attach(writer);
    this.serveStandalone(
      standalone,
      writer,
      session.attach((m) => standalone.push(m)),
    );
    writer.startKeepAlive(this.settings.keepAliveMs, alive);
  }

  /**
   * The standalone stream on `writer` from here on, `detach` ending the session's attachment.
   * Nothing is in flight on it: a drain ends it with `retry:`, resumed on another node. The
   * session stays attached here meanwhile, so what it is sent before the client is back is
   * logged and mirrored for that resume.
   */
  private serveStandalone(standalone: EventStream, writer: SseWriter, detach: () => void): void {
    let lingering = false;
    writer.drain = () => {
      lingering = true;
      this.registry.linger(standalone);
      writer.farewell(this.settings.sseRetryMs);
    };
    writer.onClose(() => {
      if (!lingering) detach();
    });
  }

  /**
   * Takes over a standalone stream another node held (its event id names that node's stream):
   * the client's resume means that node no longer serves it (it drained, died, or the
   * connection to it broke), so this node serves the session from now on.
   *
   * 1. The session is attached here first: what it is sent from now on is held back, so
   *    nothing raised while the rest runs is lost.
   * 2. The origin's mirror is replayed after the client's last event and followed briefly
   *    (TAKEOVER_FOLLOW_MS, or until its end marker): a node that is draining keeps its copy
   *    attached and mirrored until it closes, and events it recorded just now land here too.
   *    It is never followed longer: a node SIGKILLed (or whose drain was cut short) writes no
   *    end marker, and waiting for one would leave the stream without live events.
   * 3. The gap: events raised after the origin's last mirrored one and before step 1 reached
   *    the session nowhere (no node had its stream attached). `SharedStreams.gap` names them,
   *    from what this node heard in that window (no Redis write per event: the gateway keeps
   *    its recent changes in memory, see RecentChanges in @mcp-cluster/gateway).
   * 4. The standalone stream of this node carries the gap, then what was held back, then the
   *    live events. An event the origin recorded and this node also heard after step 1 (its
   *    clock skew margin) may arrive twice: a duplicate notification only makes the client read
   *    again, a lost one leaves it stale.
   */
  private async takeOver(
    session: LegacySession,
    streams: SessionStreams,
    last: { stream: string; seq: number },
    shared: SharedStreams,
    writer: SseWriter,
    alive: () => boolean,
  ): Promise<void> {
    const standalone = streams.standalone();
    // Held back until the stream is served here; undefined from then on.
    let held: JsonRpcMessage[] | undefined = [];
    const detach = session.attach((m) => {
      if (held === undefined) return standalone.push(m);
      if (held.length >= MAX_HELD) held.shift();
      held.push(m);
      return true;
    });
    let served = false;
    writer.onClose(() => {
      if (!served) detach();
    });
    const attachedAt = Date.now();
    const outcome = await followMirror(shared, session.id, last, writer, TAKEOVER_FOLLOW_MS);
    const since =
      outcome === 'unknown' ? undefined : await shared.mirror.lastAt(session.id, last.stream);
    const missed = shared.gap === undefined ? [] : await shared.gap(session, since, attachedAt);
    if (!writer.isOpen || !alive()) return writer.end();
    standalone.attach(writer);
    served = true;
    this.serveStandalone(standalone, writer, detach);
    for (const m of missed) standalone.push(m);
    for (const m of held) standalone.push(m);
    held = undefined;
  }

  /** DELETE: ends a legacy session. */
  async delete(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const sessionId = header(req.headers, Header.SessionId);
    if (sessionId === undefined) {
      reply.header('allow', 'POST');
      return rejectJson(reply, 405, null, invalid('Method Not Allowed: DELETE needs a session'));
    }
    const session = await this.sessionFor(sessionId, callerOf(req));
    if (session === undefined) return rejectJson(reply, 404, null, sessionNotFound());
    this.registry.peek(session)?.endAll();
    await this.engine.sessions.delete(sessionId);
    void reply.code(204).send();
  }
}

/** The id of a single request in a parsed body; null for anything else (a batch, a notification). */
function requestIdIn(value: unknown): JsonRpcRequest['id'] | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

const PARAM_HEADER_PREFIX = 'mcp-param-';

/** The request's Mcp-Param-* headers; undefined when there are none. */
/** The request's W3C traceparent header (one value; a repeated one is not read). */
function traceparentOf(req: FastifyRequest): string | undefined {
  const value = req.headers.traceparent;
  return typeof value === 'string' ? value : undefined;
}

function paramHeadersIn(h: Headers): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const [name, value] of Object.entries(h)) {
    if (!name.startsWith(PARAM_HEADER_PREFIX) || value === undefined) continue;
    (out ??= {})[name] = typeof value === 'string' ? value : value.join(', ');
  }
  return out;
}

/**
 * Headers an error answer carries over HTTP: Retry-After for rate limits and capacity
 * refusals (-32016 with a `retryAfterMs`), and the RFC 6750 step-up challenge when a bearer
 * token lacks the scope an action needs.
 */
export function errorHeaders(error: {
  readonly code: number;
  readonly data?: unknown;
}): Record<string, string> | undefined {
  const data = error.data as { retryAfterMs?: unknown; wwwAuthenticate?: unknown } | undefined;
  if (data === undefined || data === null || typeof data !== 'object') return undefined;
  const out: Record<string, string> = {};
  const retryable =
    error.code === RpcError.RateLimited.code || error.code === RpcError.Unavailable.code;
  if (retryable && typeof data.retryAfterMs === 'number') {
    out['retry-after'] = retryAfterSeconds(data.retryAfterMs);
  }
  if (error.code === RpcError.Forbidden.code && typeof data.wwwAuthenticate === 'string') {
    out['www-authenticate'] = data.wwwAuthenticate;
  }
  return out;
}

function invalid(message: string): ProtocolError {
  return new ProtocolError(RpcError.InvalidRequest.code, message);
}

const noop = (): void => {};

/**
 * Replays what another node's stream `last.stream` held after `last.seq` from the shared
 * mirror onto `writer`, then follows it for up to `followMs` (until the writer closes). Its
 * outcome: whether the mirror knew the stream, and how following it ended.
 */
function followMirror(
  shared: SharedStreams,
  sessionId: string,
  last: { readonly stream: string; readonly seq: number },
  writer: SseWriter,
  followMs: number,
  wrote: (seq: number) => void = noop,
): Promise<ResumeOutcome> {
  const ac = new AbortController();
  writer.onClose(() => ac.abort());
  return shared.mirror.resume(
    sessionId,
    last.stream,
    last.seq,
    (seq, message) => {
      wrote(seq);
      return writer.write(eventFrame(last.stream, seq, message));
    },
    ac.signal,
    followMs,
  );
}

/** How long a client told its call may have run waits before trying again. */
const ORIGIN_LOST_RETRY_AFTER_MS = 1_000;

/** The answer to a request whose resumable stream lost the node serving it. */
function originLost(): ProtocolError {
  return ProtocolError.of(
    'Unavailable',
    'The gateway serving the request stopped before it answered; the call may have run',
    { retryAfterMs: ORIGIN_LOST_RETRY_AFTER_MS },
  );
}
