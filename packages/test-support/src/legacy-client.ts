/**
 * A legacy (2025-11-25) Streamable HTTP session driven with plain fetch, for tests that need
 * the session id, statuses, every message of an answer, or to choose the gateway of each
 * request (`via`). Whole answers are read with `readMcpResponse`; streams with `SseReader`.
 */
import { DEFAULT_CLIENT_INFO, findResponse, modernRequest, postMcp } from './http.js';
import type { McpHttpResponse, ModernRequestOptions } from './http.js';
import { SseReader } from './sse.js';
import { within } from './wait.js';

/** The legacy revision the session asks for: SSE event ids and priming events. */
export const LEGACY_VERSION = '2025-11-25';
/** Bound on one HTTP exchange with a gateway. */
export const STEP_TIMEOUT_MS = 15_000;
/** What a session declares unless told otherwise: it answers sampling and elicitation. */
export const DEFAULT_LEGACY_CAPABILITIES: Readonly<Record<string, unknown>> = Object.freeze({
  sampling: {},
  elicitation: {},
});
/** Characters of an unexpected answer quoted in an error. */
const QUOTE_CHARS = 500;

/** One request and its answer. */
export interface Exchange {
  readonly status: number;
  /** The JSON-RPC response to the request; undefined when the answer holds none. */
  readonly response: Record<string, unknown> | undefined;
  /** Everything the answer held (progress, logs, server->client requests, the response). */
  readonly all: McpHttpResponse;
}

let nextId = 1;

export class LegacySession implements AsyncDisposable {
  private constructor(
    /** The gateway endpoint (.../mcp) this view of the session talks to. */
    readonly url: string,
    readonly id: string,
    /** The negotiated revision, sent as `mcp-protocol-version`. */
    readonly protocolVersion: string,
  ) {}

  /** initialize + notifications/initialized through `url`; throws with the answer on failure. */
  static async open(
    url: string,
    capabilities: Readonly<Record<string, unknown>> = DEFAULT_LEGACY_CAPABILITIES,
  ): Promise<LegacySession> {
    const initId = nextId++;
    const init = await within(
      STEP_TIMEOUT_MS,
      `initialize through ${url}`,
      postMcp(url, {
        jsonrpc: '2.0',
        id: initId,
        method: 'initialize',
        params: { protocolVersion: LEGACY_VERSION, capabilities, clientInfo: DEFAULT_CLIENT_INFO },
      }),
    );
    const id = init.headers.get('mcp-session-id');
    const result = findResponse(init.messages, initId)?.['result'] as
      { protocolVersion?: unknown } | undefined;
    if (init.status !== 200 || id === null || typeof result?.protocolVersion !== 'string') {
      throw new Error(`initialize failed (${init.status}): ${init.text.slice(0, QUOTE_CHARS)}`);
    }
    const session = new LegacySession(url, id, result.protocolVersion);
    const ack = await session.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (ack.status !== 202) throw new Error(`notifications/initialized: ${ack.status}`);
    return session;
  }

  /** The same session through another gateway. */
  via(url: string): LegacySession {
    return new LegacySession(url, this.id, this.protocolVersion);
  }

  /** The session headers (id, revision), then `extra`. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'mcp-session-id': this.id, 'mcp-protocol-version': this.protocolVersion, ...extra };
  }

  /** POSTs one message; the caller reads (or streams) the response. */
  post(body: unknown, signal?: AbortSignal): Promise<Response> {
    return fetch(this.url, {
      method: 'POST',
      headers: this.headers({
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      }),
      body: JSON.stringify(body),
      ...(signal === undefined ? {} : { signal }),
    });
  }

  /** POSTs one message and reads the whole answer, within {@link STEP_TIMEOUT_MS}. */
  send(body: unknown): Promise<McpHttpResponse> {
    return within(
      STEP_TIMEOUT_MS,
      `legacy POST through ${this.url}`,
      postMcp(this.url, body, this.headers()),
    );
  }

  async request(method: string, params: Record<string, unknown> = {}): Promise<Exchange> {
    const id = nextId++;
    const all = await this.send({ jsonrpc: '2.0', id, method, params });
    return { status: all.status, response: findResponse(all.messages, id), all };
  }

  /**
   * A request that must succeed: its result, typed as the caller's `T` (unchecked: tests
   * assert on it). Throws with the answer on an error or no response.
   */
  async call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const { status, response, all } = await this.request(method, params);
    if (response === undefined || 'error' in response) {
      throw new Error(`${method} through ${this.url}: ${status} ${all.text.slice(0, QUOTE_CHARS)}`);
    }
    return response['result'] as T;
  }

  /** Opens the session's standalone GET stream; `extra` headers (e.g. last-event-id) win. */
  async openGetStream(extra: Record<string, string> = {}): Promise<SseReader> {
    const res = await within(
      STEP_TIMEOUT_MS,
      `GET stream on ${this.url}`,
      fetch(this.url, { headers: this.headers({ accept: 'text/event-stream', ...extra }) }),
    );
    if (res.status !== 200) {
      throw new Error(`GET stream on ${this.url}: ${res.status} ${await res.text()}`);
    }
    return new SseReader(res);
  }

  /** DELETE: ends the session; the status. */
  async end(): Promise<number> {
    const res = await fetch(this.url, {
      method: 'DELETE',
      headers: this.headers(),
      signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
    });
    await res.body?.cancel();
    return res.status;
  }

  /** Best-effort {@link end} for cleanup: never throws (the gateway may be gone). */
  async close(): Promise<void> {
    await this.end().catch(() => undefined);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A modern (2026-07-28) request through `url`: status, response and the whole answer. */
export async function modernCall(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  options: ModernRequestOptions = {},
): Promise<Exchange> {
  const { body, headers } = modernRequest(method, params, options);
  const all = await within(
    STEP_TIMEOUT_MS,
    `modern ${method} through ${url}`,
    postMcp(url, body, headers),
  );
  return {
    status: all.status,
    response: findResponse(all.messages, body['id'] as string | number),
    all,
  };
}
