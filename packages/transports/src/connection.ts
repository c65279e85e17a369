/**
 * A message-oriented connection (WebSocket, stdio, legacy HTTP+SSE, in-memory): one JSON-RPC
 * message in, messages out, the connection itself is the legacy session. Modern requests
 * (with `_meta` protocolVersion) are served statelessly on the same connection.
 */
import {
  InvalidMessageError,
  allowsBatch,
  decodeBody,
  isInvalidEntry,
  isRemovedInModern,
  isResponse,
  parseJsonText,
  replyIdOf,
} from '@mcp-cluster/protocol';
import type {
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
  ModernMeta,
} from '@mcp-cluster/protocol';
import {
  ANONYMOUS_CALLER,
  RequestAbort,
  isCancelledResponse,
  legacyRequestContext,
  modernOutbound,
  modernRequestContext,
} from '@mcp-cluster/server';
import type { Caller, LegacySession, MessageEngine, MessageSink } from '@mcp-cluster/server';
import { messageBudget } from './guard.js';
import type { MessageBudget, TransportGuard } from './guard.js';
import { DEFAULT_TRANSPORT_SETTINGS } from './settings.js';
import { errorResponse, modernMetaOf, removedMethodError } from './wire.js';

/** Writes one message (or a batch of responses) to the peer. */
export type Send = (message: JsonRpcMessage | readonly JsonRpcMessage[]) => void;

export interface ConnectionOptions {
  readonly maxJsonDepth: number;
  /** Longest JSON string in a message; unbounded when absent. */
  readonly maxStringLength?: number;
  /** Most messages in one batch (default DEFAULT_TRANSPORT_SETTINGS.maxBatchLength). */
  readonly maxBatchLength?: number;
  /**
   * Counts messages against the caller's budget (TransportGuard.spend): every request and
   * notification takes one token first. Absent: not counted (stdio, in-memory).
   */
  readonly guard?: TransportGuard | undefined;
  /** Serve this existing session (legacy HTTP+SSE); otherwise one is made on first use. */
  readonly session?: LegacySession;
  /** Who is on the other end (admitted once, when the connection opened); anonymous if absent. */
  readonly caller?: Caller;
}

/** `requestId` given to the engine for notifications, which have none. */
const NOTIFICATION_ID = '';

export class MessageConnection {
  private session: LegacySession | undefined;
  private opening: Promise<LegacySession> | undefined;
  private detach: (() => void) | undefined;
  private readonly inflight = new Set<RequestAbort>();
  /** Received requests not yet answered (for a graceful end: `settled`). */
  private readonly pending = new Set<Promise<void>>();
  private closed = false;
  /** Where the engine writes notifications and server->client requests. */
  private readonly sink: MessageSink = (message) => {
    if (this.closed) return false;
    this.send(message);
    return true;
  };

  constructor(
    private readonly engine: MessageEngine,
    private readonly send: Send,
    private readonly options: ConnectionOptions,
  ) {
    if (options.session !== undefined) this.bind(options.session);
  }

  /** The legacy session, once there is one. */
  get sessionId(): string | undefined {
    return this.session?.id;
  }

  /** Parses one frame/line and answers it. Errors go back as JSON-RPC error messages. */
  receiveText(text: string): void {
    let value: unknown;
    try {
      value = parseJsonText(text, {
        maxDepth: this.options.maxJsonDepth,
        ...(this.options.maxStringLength === undefined
          ? {}
          : { maxStringLength: this.options.maxStringLength }),
      });
    } catch (err) {
      this.send(errorResponse(null, err));
      this.spendUnreadable(0);
      return;
    }
    this.receiveValue(value);
  }

  /**
   * Answers one parsed frame or body. `prepaid`: how many of its messages the transport
   * already paid for (a `/messages` POST's admission pays for its first); with a guard, each
   * other request or notification spends one token of the caller's budget before it runs.
   */
  receiveValue(value: unknown, prepaid = 0): void {
    if (this.closed) return;
    let decoded;
    try {
      const version = this.session?.state.protocolVersion;
      decoded = decodeBody(value, {
        allowBatch: version !== undefined && allowsBatch(version),
        maxBatchLength: this.options.maxBatchLength ?? DEFAULT_TRANSPORT_SETTINGS.maxBatchLength,
      });
    } catch (err) {
      this.send(errorResponse(err instanceof InvalidMessageError ? err.requestId : null, err));
      this.spendUnreadable(prepaid);
      return;
    }
    const budget = this.budget(prepaid);
    if (!decoded.batch) {
      this.track(this.admit(decoded.message, budget).then(this.reply));
      return;
    }
    const answered = Promise.all(
      decoded.entries.map((e) =>
        isInvalidEntry(e) ? Promise.resolve(errorResponse(e.requestId, e)) : this.admit(e, budget),
      ),
    ).then((responses) => {
      const out = responses.filter((r): r is JsonRpcResponse => r !== undefined);
      if (out.length > 0 && !this.closed) this.send(out);
    });
    this.track(answered);
  }

  private track(answered: Promise<void>): void {
    const done = answered.finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  /** Resolves once every message received so far is answered (new ones are waited for too). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private budget(prepaid: number): MessageBudget | undefined {
    return messageBudget(this.options.guard, this.options.caller ?? ANONYMOUS_CALLER, prepaid);
  }

  /**
   * A frame that is not valid JSON-RPC (or a batch over the cap) costs one token too, unless
   * its request already paid: answering garbage is not free of the caller's budget.
   */
  private spendUnreadable(prepaid: number): void {
    void this.budget(prepaid)?.claim();
  }

  /**
   * Dispatches `message` once it has spent from `budget` (in arrival order: claims are taken
   * synchronously). Over the budget a request is answered with the refusal (-32012 with
   * `retryAfterMs`) and a notification is dropped (the guard audits both). Never rejects.
   */
  private admit(
    message: JsonRpcMessage,
    budget: MessageBudget | undefined,
  ): Promise<JsonRpcResponse | undefined> {
    const claim = budget === undefined || isResponse(message) ? undefined : budget.claim();
    if (claim === undefined) return this.dispatch(message);
    return claim.then((refusal) => {
      if (this.closed) return undefined;
      if (refusal === undefined) return this.dispatch(message);
      return 'id' in message ? errorResponse(message.id, refusal) : undefined;
    });
  }

  /** Answers one decoded message; resolves with its response, if any. Never rejects. */
  async dispatch(message: JsonRpcMessage): Promise<JsonRpcResponse | undefined> {
    try {
      if (isResponse(message)) {
        this.session?.deliverResponse(message);
        return undefined;
      }
      const meta = modernMetaOf(message);
      if (meta !== undefined) return await this.modern(message, meta);
      return await this.legacy(message);
    } catch (err) {
      const id = replyIdOf(message);
      return id === null ? undefined : errorResponse(id, err);
    }
  }

  /** Ends the connection: aborts in-flight requests and ends the session. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const ac of this.inflight) ac.abort();
    this.inflight.clear();
    this.detach?.();
    if (this.session !== undefined) this.end(this.session.id);
  }

  /**
   * Ends the connection's session without waiting. A store that cannot end it now rejects
   * (the manager logged it); the record then expires with its TTL.
   */
  private end(sessionId: string): void {
    // Started now (a slot it frees may be claimed by the very next message), awaited by nobody.
    Promise.resolve(this.engine.sessions.delete(sessionId)).catch(() => undefined);
  }

  private readonly reply = (response: JsonRpcResponse | undefined): void => {
    // A request the client cancelled gets no response (the engine marks it -32010).
    if (response !== undefined && !this.closed && !isCancelledResponse(response)) {
      this.send(response);
    }
  };

  /**
   * The connection's session, opened on first use within the session limits (one open shared
   * by messages that arrive together). A refusal (-32012 / -32016) answers the message that
   * asked; a later message asks again.
   */
  private opened(): Promise<LegacySession> {
    this.opening ??= this.engine.sessions.open(this.options.caller?.principal.id).then(
      (session) => {
        if (!this.closed) return this.bind(session);
        // Closed while it was being opened: nobody will use or end it.
        this.end(session.id);
        throw new Error('connection closed');
      },
      (err: unknown) => {
        this.opening = undefined;
        throw err;
      },
    );
    return this.opening;
  }

  private bind(session: LegacySession): LegacySession {
    this.session = session;
    this.detach = session.attach(this.sink);
    return session;
  }

  private async legacy(
    message: JsonRpcRequest | JsonRpcNotification,
  ): Promise<JsonRpcResponse | undefined> {
    const session = this.session ?? (await this.opened());
    session.touch();
    const ac = new RequestAbort();
    const outbound = session.outbound(this.sink);
    if (!('id' in message)) {
      await this.engine.handleNotification(
        message,
        legacyRequestContext(session, NOTIFICATION_ID, ac, outbound, this.options.caller),
      );
      return undefined;
    }
    this.inflight.add(ac);
    try {
      return await this.engine.handleRequest(
        message,
        legacyRequestContext(session, message.id, ac, outbound, this.options.caller),
      );
    } finally {
      this.inflight.delete(ac);
    }
  }

  private async modern(
    message: JsonRpcRequest | JsonRpcNotification,
    meta: ModernMeta,
  ): Promise<JsonRpcResponse | undefined> {
    if (isRemovedInModern(message.method)) throw removedMethodError(message.method);
    const ac = new RequestAbort();
    const outbound = modernOutbound(this.sink);
    if (!('id' in message)) {
      await this.engine.handleNotification(
        message,
        modernRequestContext(meta, NOTIFICATION_ID, ac, outbound, this.options.caller),
      );
      return undefined;
    }
    this.inflight.add(ac);
    try {
      return await this.engine.handleRequest(
        message,
        modernRequestContext(meta, message.id, ac, outbound, this.options.caller),
      );
    } finally {
      this.inflight.delete(ac);
    }
  }
}
