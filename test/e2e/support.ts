/**
 * Shared pieces of the e2e scenarios: the packs, raw legacy sessions over fetch (to choose the
 * gateway of every request), an SSE reader that keeps event ids, an SDK fetch that alternates
 * gateways, and bounded waits.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createClusterState } from '../../packages/cluster/src/index.js';
import type { ClusterState } from '../../packages/cluster/src/index.js';
import { findResponse, modernRequest } from '../../packages/testkit/src/index.js';
import type {
  ClusterNode,
  ModernRequestOptions,
  TestCluster,
} from '../../packages/testkit/src/index.js';

// Scenarios read messages of arbitrary shape and assert on them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const E2E_PACK = path.join(HERE, 'fixtures', 'e2e-pack.ts');
export const LATE_PACK = path.join(HERE, 'fixtures', 'late-pack.ts');
/** What every initial worker of the scenarios loads. */
export const PACKS: readonly string[] = ['builtin:conformance', E2E_PACK];

/** Legacy revision with SSE event ids and priming events (resumable streams). */
export const LEGACY_VERSION = '2025-11-25';
/** Bound of one scenario. */
export const SCENARIO_TIMEOUT_MS = 60_000;
/** Bound on one wait for a message or a condition inside a scenario. */
export const STEP_TIMEOUT_MS = 15_000;
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** Rejects with `what` when `promise` has not settled within `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Retries `probe` until it returns a value (not undefined), bounded by `ms`. */
export async function eventually<T>(
  ms: number,
  what: string,
  probe: () => Promise<T | undefined>,
  pauseMs = 100,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`not reached within ${ms} ms: ${what}`, { cause: last });
    }
    // Polling across processes: there is no event to wait on.
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] } | undefined)?.content;
  return (content ?? []).map((c) => (c.type === 'text' ? (c.text ?? '') : '')).join('');
}

export interface SseEvent {
  readonly id?: string;
  readonly retry?: number;
  readonly data: string;
}

/** Reads SSE events one at a time, keeping ids (for Last-Event-ID); every read is bounded. */
export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private done = false;

  constructor(response: Response) {
    if (!response.body) throw new Error(`no body (status ${response.status})`);
    this.reader = response.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  }

  /** The next event, or undefined once the stream ended. */
  async next(timeoutMs = STEP_TIMEOUT_MS): Promise<SseEvent | undefined> {
    for (;;) {
      const event = this.take();
      if (event !== undefined) return event;
      if (this.done) return undefined;
      const { done, value } = await within(timeoutMs, 'next SSE event', this.reader.read());
      if (done) this.done = true;
      else this.buffer += this.decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
    }
  }

  /** The next JSON-RPC message (skips priming events and comments); undefined at the end. */
  async nextMessage(timeoutMs = STEP_TIMEOUT_MS): Promise<Loose> {
    for (;;) {
      const event = await this.next(timeoutMs);
      if (event === undefined) return undefined;
      if (event.data !== '') return JSON.parse(event.data);
    }
  }

  /** Reads messages until one satisfies `match`; returns it with its event id. */
  async until(
    match: (m: Loose) => boolean,
    timeoutMs = STEP_TIMEOUT_MS,
  ): Promise<{ message: Loose; id: string | undefined }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = await this.next(Math.max(1, deadline - Date.now()));
      if (event === undefined) throw new Error('stream ended before the expected message');
      if (event.data === '') continue;
      const message = JSON.parse(event.data);
      if (match(message)) return { message, id: event.id };
    }
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }

  private take(): SseEvent | undefined {
    const end = this.buffer.indexOf('\n\n');
    if (end < 0) return undefined;
    const block = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end + 2);
    let id: string | undefined;
    let retry: number | undefined;
    const data: string[] = [];
    let fields = 0;
    for (const line of block.split('\n')) {
      if (line.startsWith(':') || line === '') continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      fields++;
      if (field === 'id') id = value;
      else if (field === 'retry') retry = Number(value);
      else if (field === 'data') data.push(value);
    }
    // A block of comments only (keep-alive) is not an event.
    if (fields === 0) return this.take();
    return {
      ...(id === undefined ? {} : { id }),
      ...(retry === undefined ? {} : { retry }),
      data: data.join('\n'),
    };
  }
}

/**
 * Every JSON-RPC message of a response: the JSON body, or each SSE event with data. (The
 * testkit's readMcpResponse cannot parse the empty `data:` of priming events.)
 */
export async function readAll(res: Response): Promise<Loose[]> {
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream')) {
    const text = await res.text();
    return text.trim() === '' ? [] : [JSON.parse(text)];
  }
  const reader = new SseReader(res);
  const messages: Loose[] = [];
  for (let i = 0; i < 10_000; i++) {
    const m: Loose = await reader.nextMessage();
    if (m === undefined) return messages;
    messages.push(m);
  }
  throw new Error('more than 10000 messages in one response');
}

let nextId = 1;

/**
 * A legacy Streamable HTTP session driven with plain fetch, so each request names the gateway
 * it goes to. `url` arguments are gateway endpoints (.../mcp).
 */
export class LegacySession {
  private constructor(
    readonly id: string,
    readonly protocolVersion: string,
  ) {}

  static async open(
    url: string,
    capabilities: Record<string, unknown> = { sampling: {}, elicitation: {} },
  ): Promise<LegacySession> {
    const init = await within(
      STEP_TIMEOUT_MS,
      `initialize through ${url}`,
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: nextId++,
          method: 'initialize',
          params: {
            protocolVersion: LEGACY_VERSION,
            capabilities,
            clientInfo: { name: 'e2e', version: '1.0.0' },
          },
        }),
      }),
    );
    const id = init.headers.get('mcp-session-id');
    const messages = await readAll(init);
    if (init.status !== 200 || id === null) {
      throw new Error(
        `initialize failed (${init.status}): ${JSON.stringify(messages).slice(0, 500)}`,
      );
    }
    const version = (findResponse(messages) as Loose)?.result?.protocolVersion as string;
    const session = new LegacySession(id, version);
    const ack = await session.post(url, { jsonrpc: '2.0', method: 'notifications/initialized' });
    await ack.text();
    if (ack.status !== 202) throw new Error(`notifications/initialized: ${ack.status}`);
    return session;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': this.id,
      'mcp-protocol-version': this.protocolVersion,
      ...extra,
    };
  }

  /** POSTs one message; the caller reads (or streams) the response. */
  post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify(body),
      ...(signal === undefined ? {} : { signal }),
    });
  }

  /** A request through `url`; resolves with its JSON-RPC response and every message around it. */
  async request(
    url: string,
    method: string,
    params: Record<string, unknown> = {},
  ): Promise<{ response: Loose; all: { status: number; messages: Loose[] } }> {
    const id = nextId++;
    const res = await within(
      STEP_TIMEOUT_MS,
      `${method} through ${url}`,
      this.post(url, { jsonrpc: '2.0', id, method, params }),
    );
    const messages = await readAll(res);
    const response = findResponse(messages, id);
    if (response === undefined) {
      throw new Error(
        `${method} through ${url}: no response (${res.status}) ${JSON.stringify(messages).slice(0, 500)}`,
      );
    }
    return { response, all: { status: res.status, messages } };
  }

  /** A request that must succeed; its result. */
  async call(url: string, method: string, params: Record<string, unknown> = {}): Promise<Loose> {
    const { response } = await this.request(url, method, params);
    if (response.error !== undefined) {
      throw new Error(`${method} through ${url}: ${JSON.stringify(response.error)}`);
    }
    return response.result;
  }

  /** Opens the session's standalone GET stream on `url`. */
  async openGetStream(url: string, extra: Record<string, string> = {}): Promise<SseReader> {
    const res = await fetch(url, {
      headers: { ...this.headers(), accept: 'text/event-stream', ...extra },
    });
    if (res.status !== 200) {
      throw new Error(`GET stream on ${url}: ${res.status} ${await res.text()}`);
    }
    return new SseReader(res);
  }

  async close(url: string): Promise<void> {
    await fetch(url, { method: 'DELETE', headers: this.headers() })
      .then((r) => r.text())
      .catch(() => undefined);
  }
}

/** Where each request of an alternating SDK client went. */
export interface RoutedRequest {
  readonly gateway: number;
  readonly httpMethod: string;
  /** JSON-RPC method of a POSTed request or notification; 'response' for a client answer. */
  readonly rpc: string;
}

/**
 * A fetch for the SDK transport that sends request n to gateway n mod k (rewriting the
 * origin), and records where each went.
 */
export function alternatingFetch(gateways: readonly ClusterNode[]): {
  fetch: (input: string | URL, init?: RequestInit) => Promise<Response>;
  routed: RoutedRequest[];
} {
  const routed: RoutedRequest[] = [];
  let n = 0;
  const fetchVia = (input: string | URL, init?: RequestInit): Promise<Response> => {
    const index = n++ % gateways.length;
    const target = new URL(String(input));
    const gateway = new URL(gateways[index]!.url);
    target.host = gateway.host;
    let rpc = '';
    if (typeof init?.body === 'string') {
      const body = JSON.parse(init.body);
      rpc = typeof body.method === 'string' ? body.method : 'response';
    }
    routed.push({ gateway: index, httpMethod: init?.method ?? 'GET', rpc });
    return fetch(target, init);
  };
  return { fetch: fetchVia, routed };
}

/** An SDK client whose requests alternate between the cluster's gateways. */
export async function alternatingClient(
  cluster: TestCluster,
  setup: (client: Client) => void = () => undefined,
): Promise<{ client: Client; routed: RoutedRequest[]; transport: StreamableHTTPClientTransport }> {
  const { fetch: fetchVia, routed } = alternatingFetch(cluster.gateways);
  const client = new Client(
    { name: 'e2e-sdk', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: {} } },
  );
  setup(client);
  const transport = new StreamableHTTPClientTransport(new URL(cluster.gateways[0]!.url), {
    fetch: fetchVia,
  });
  await client.connect(transport);
  return { client, routed, transport };
}

/** A modern (2026-07-28) request through `url`; its JSON-RPC response and the whole answer. */
export async function modern(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  options: ModernRequestOptions = {},
): Promise<{ response: Loose; all: { status: number; messages: Loose[] } }> {
  const { body, headers } = modernRequest(method, params, options);
  const res = await within(
    STEP_TIMEOUT_MS,
    `${method} through ${url}`,
    fetch(url, { method: 'POST', headers, body: JSON.stringify(body) }),
  );
  const messages = await readAll(res);
  const response = findResponse(messages, body.id as string | number);
  if (response === undefined) {
    throw new Error(
      `${method} through ${url}: no response (${res.status}) ${JSON.stringify(messages).slice(0, 500)}`,
    );
  }
  return { response, all: { status: res.status, messages } };
}

/** Opens `subscriptions/listen` on `url` and waits for its acknowledgement. */
export async function listen(
  url: string,
  notifications: Record<string, unknown>,
): Promise<{ stream: SseReader; close: () => Promise<void> }> {
  const { body, headers } = modernRequest('subscriptions/listen', { notifications });
  const controller = new AbortController();
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  if (res.status !== 200) throw new Error(`subscriptions/listen on ${url}: ${res.status}`);
  const stream = new SseReader(res);
  await stream.until((m: Loose) => m?.method === 'notifications/subscriptions/acknowledged');
  return {
    stream,
    close: async () => {
      controller.abort();
      await stream.cancel();
    },
  };
}

/** The cluster's Redis state (sessions, pins, registry) under its prefix; close it after use. */
export function clusterState(cluster: TestCluster): Promise<ClusterState> {
  return createClusterState({ redisUrl: cluster.redisUrl, prefix: cluster.prefix });
}

/** The worker a legacy session is pinned to, read from Redis. */
export async function pinOf(state: ClusterState, sessionId: string): Promise<string | undefined> {
  return state.sessions.getPin(sessionId);
}

export function workerById(cluster: TestCluster, id: string): ClusterNode {
  const w = cluster.workers.find((n) => n.id === id);
  if (w === undefined)
    throw new Error(`no worker ${id} (have ${cluster.workers.map((n) => n.id).join(', ')})`);
  return w;
}
