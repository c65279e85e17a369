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
  isCancelledResponse,
  legacyRequestContext,
  modernOutbound,
  modernRequestContext,
} from '@mcp-cluster/server';
import type { Caller, Engine, LegacySession, MessageSink } from '@mcp-cluster/server';
import { errorResponse, modernMetaOf, removedMethodError } from './wire.js';

/** Writes one message (or a batch of responses) to the peer. */
export type Send = (message: JsonRpcMessage | readonly JsonRpcMessage[]) => void;

export interface ConnectionOptions {
  readonly maxJsonDepth: number;
  /** Longest JSON string in a message; unbounded when absent. */
  readonly maxStringLength?: number;
  /** Serve this existing session (legacy HTTP+SSE); otherwise one is made on first use. */
  readonly session?: LegacySession;
  /** Who is on the other end (admitted once, when the connection opened); anonymous if absent. */
  readonly caller?: Caller;
}

/** `requestId` given to the engine for notifications, which have none. */
const NOTIFICATION_ID = '';

export class MessageConnection {
  private session: LegacySession | undefined;
  private detach: (() => void) | undefined;
  private readonly inflight = new Set<AbortController>();
  private closed = false;
  /** Where the engine writes notifications and server->client requests. */
  private readonly sink: MessageSink = (message) => {
    if (this.closed) return false;
    this.send(message);
    return true;
  };

  constructor(
    private readonly engine: Engine,
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
      return;
    }
    this.receiveValue(value);
  }

  receiveValue(value: unknown): void {
    if (this.closed) return;
    let decoded;
    try {
      const version = this.session?.state.protocolVersion;
      decoded = decodeBody(value, { allowBatch: version !== undefined && allowsBatch(version) });
    } catch (err) {
      this.send(errorResponse(err instanceof InvalidMessageError ? err.requestId : null, err));
      return;
    }
    if (!decoded.batch) {
      void this.dispatch(decoded.message).then(this.reply);
      return;
    }
    void Promise.all(
      decoded.entries.map((e) =>
        isInvalidEntry(e) ? Promise.resolve(errorResponse(e.requestId, e)) : this.dispatch(e),
      ),
    ).then((responses) => {
      const out = responses.filter((r): r is JsonRpcResponse => r !== undefined);
      if (out.length > 0 && !this.closed) this.send(out);
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
    if (this.session !== undefined) void this.engine.sessions.delete(this.session.id);
  }

  private readonly reply = (response: JsonRpcResponse | undefined): void => {
    // A request the client cancelled gets no response (the engine marks it -32010).
    if (response !== undefined && !this.closed && !isCancelledResponse(response)) {
      this.send(response);
    }
  };

  private bind(session: LegacySession): LegacySession {
    this.session = session;
    this.detach = session.attach(this.sink);
    return session;
  }

  private async legacy(
    message: JsonRpcRequest | JsonRpcNotification,
  ): Promise<JsonRpcResponse | undefined> {
    const session =
      this.session ?? this.bind(this.engine.sessions.create(this.options.caller?.principal.id));
    session.touch();
    const ac = new AbortController();
    const outbound = session.outbound(this.sink);
    if (!('id' in message)) {
      await this.engine.handleNotification(
        message,
        legacyRequestContext(session, NOTIFICATION_ID, ac.signal, outbound, this.options.caller),
      );
      return undefined;
    }
    this.inflight.add(ac);
    try {
      return await this.engine.handleRequest(
        message,
        legacyRequestContext(session, message.id, ac.signal, outbound, this.options.caller),
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
    const ac = new AbortController();
    const outbound = modernOutbound(this.sink);
    if (!('id' in message)) {
      await this.engine.handleNotification(
        message,
        modernRequestContext(meta, NOTIFICATION_ID, ac.signal, outbound, this.options.caller),
      );
      return undefined;
    }
    this.inflight.add(ac);
    try {
      return await this.engine.handleRequest(
        message,
        modernRequestContext(meta, message.id, ac.signal, outbound, this.options.caller),
      );
    } finally {
      this.inflight.delete(ac);
    }
  }
}
