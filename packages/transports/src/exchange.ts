/**
 * The answer to one POST: JSON when only the response is written, SSE as soon as anything
 * else (progress, logging, a server->client request) comes first, or when the engine asks for
 * a resumable answer before the request runs (`resumable`: a cluster gateway's calls that must
 * never be sent twice). Plain calls therefore pay for one JSON write and nothing else.
 */
import type { FastifyReply } from 'fastify';
import type { JsonRpcMessage, JsonRpcResponse } from '@mcp-cluster/protocol';
import { isCancelledResponse, messageText } from '@mcp-cluster/server';
import type { EventStream, SessionStreams } from './sse.js';
import { SseWriter } from './sse.js';

export interface ExchangeOptions {
  /** The client accepts text/event-stream. */
  readonly sse: boolean;
  /** The client accepts application/json (default true); false forces SSE for the response. */
  readonly json?: boolean;
  /** Legacy: the session's resumable streams; modern POSTs have none. */
  readonly streams?: SessionStreams | undefined;
  /** Send the priming event + `retry:` when the stream opens (sessions >= 2025-11-25). */
  readonly primeRetryMs?: number | undefined;
  /** Extra headers on the response, whatever its form (e.g. Mcp-Session-Id). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Open SSE writers of the plugin (shutdown ends them). */
  readonly open: Set<SseWriter>;
  /** Where messages go when SSE is not possible (legacy: the session's standalone stream). */
  readonly fallback?: ((message: JsonRpcMessage) => boolean) | undefined;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export class PostExchange {
  private writer: SseWriter | undefined;
  private stream: EventStream | undefined;
  /** True once the HTTP response has been handed to SSE or sent as JSON. */
  private committed = false;
  private finished = false;

  constructor(
    private readonly reply: FastifyReply,
    private readonly options: ExchangeOptions,
  ) {}

  /** True while the HTTP response is still being written as SSE. */
  get streaming(): boolean {
    return this.writer?.isOpen ?? false;
  }

  /** Sends a message tied to this request (never the response itself). */
  readonly send = (message: JsonRpcMessage): boolean => {
    if (this.finished) return false;
    if (!this.options.sse) return this.options.fallback?.(message) ?? false;
    this.openSse();
    if (this.stream !== undefined) return this.stream.push(message);
    return this.writer?.send(message) ?? false;
  };

  /** Switches to SSE now (e.g. a long-lived subscriptions/listen stream). */
  openSse(): SseWriter | undefined {
    if (!this.committed) {
      this.committed = true;
      this.reply.hijack();
      this.writer = new SseWriter(this.reply.raw, this.options.open, this.options.headers);
      const streams = this.options.streams;
      if (streams !== undefined) {
        this.stream = streams.open();
        this.stream.attach(this.writer);
        if (this.options.primeRetryMs !== undefined) {
          this.stream.prime(this.writer, this.options.primeRetryMs);
        }
      }
    }
    return this.writer;
  }

  /**
   * Answers on a primed, resumable stream from now on (before the request runs): a client
   * whose connection breaks before the answer resumes with GET + Last-Event-ID, on any node
   * sharing the stream. Only where the stream is resumable (legacy, SSE accepted, primed);
   * false elsewhere.
   */
  resumable(requestId: string | number): boolean {
    if (this.committed || !this.options.sse || this.options.primeRetryMs === undefined)
      return false;
    if (this.options.streams === undefined) return false;
    this.openSse();
    this.stream?.pending(requestId);
    return true;
  }

  /**
   * SEP-1699: ends the HTTP response now; the rest of this request's messages stay in the
   * stream's replay log for GET + Last-Event-ID. JSON-only exchanges cannot do this.
   */
  readonly closeStream = (): void => {
    if (this.finished || !this.options.sse || this.options.streams === undefined) return;
    const writer = this.openSse();
    if (this.stream !== undefined && this.stream.live === writer) this.stream.live = undefined;
    writer?.end();
  };

  /** Writes the final response (or batch) and ends the exchange. */
  finish(
    body: JsonRpcResponse | readonly JsonRpcResponse[] | undefined,
    status = 200,
    headers?: Readonly<Record<string, string>>,
  ): void {
    if (this.finished) return;
    // A cancelled request gets no response; an open stream just ends (JSON must answer).
    if (body !== undefined && !isBatch(body) && this.committed && isCancelledResponse(body)) {
      body = undefined;
    }
    this.finished = true;
    if (!this.committed && this.options.json === false && body !== undefined) this.openSse();
    if (!this.committed) {
      this.committed = true;
      if (this.options.headers !== undefined) this.reply.headers(this.options.headers);
      if (headers !== undefined) this.reply.headers(headers);
      if (body === undefined) {
        void this.reply.code(202).send();
        return;
      }
      void this.reply.code(status).header('content-type', JSON_TYPE).send(messageText(body));
      return;
    }
    const list: readonly JsonRpcResponse[] =
      body === undefined ? [] : isBatch(body) ? body : [body];
    if (this.stream !== undefined) {
      for (const r of list) this.stream.push(r);
      this.options.streams?.finished(this.stream);
      // The response was written (or logged for a resume); end the live connection if any.
      this.stream.live?.end();
    } else {
      for (const r of list) this.writer?.send(r);
      this.writer?.end();
    }
  }
}

function isBatch(
  body: JsonRpcResponse | readonly JsonRpcResponse[],
): body is readonly JsonRpcResponse[] {
  return Array.isArray(body);
}
