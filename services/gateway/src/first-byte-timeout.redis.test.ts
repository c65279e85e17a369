/**
 * The dispatch first-byte timeout (dispatchFirstByteTimeoutMs): a worker that accepts a
 * dispatch and then says nothing (hung: stopped, or its event loop blocked) holds a request
 * for that long, not for the dispatch deadline. The dispatch then counts as broken (it may
 * have run): a repeatable request is sent again elsewhere, any other fails with the
 * retryable -32016. A healthy worker acknowledges a request still running long before the
 * timeout, so a tool slower than it completes, on every path a client may take.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { DISPATCH_PATH, HEALTH_PATH } from '@mcp-cluster/cluster';
import { RpcError } from '@mcp-cluster/protocol';
import {
  LegacySession,
  STEP_TIMEOUT_MS,
  modernCall,
  textOf,
  within,
  workersReady,
} from '@mcp-cluster/test-support';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { InProcessCluster } from './in-process.test-support.js';
import type { RunningGateway } from './in-process.test-support.js';

// The SDK's WebSocket client expects the browser global (Node 20 has none).
(globalThis as unknown as { WebSocket: unknown }).WebSocket = WebSocket;

/** The gateway's first-byte timeout in these tests (workers ack after a quarter of it). */
const FIRST_BYTE_TIMEOUT_MS = 1_000;
/**
 * undici checks the timeout on a coarse clock (ticks of about half a second): it fires from
 * about half a second early to about a second late.
 */
const UNDICI_TIMER_EARLY_MS = 500;
const UNDICI_TIMER_LAG_MS = 1_000;
/** undici's lag, a dispatch to a healthy worker, the gateway's own work and the client. */
const SLACK_MS = UNDICI_TIMER_LAG_MS + 500;
/** A tool this slow would be cut at the first-byte timeout if its worker did not ack. */
const SLOW_SECONDS = (FIRST_BYTE_TIMEOUT_MS + UNDICI_TIMER_LAG_MS + 500) / 1000;

/**
 * Probe period of the first suite: a silent dispatch takes the silent worker out of routing
 * (overdue for its ack), and its next good probe brings it back before the next test.
 */
const PROBE_INTERVAL_MS = 200;

/** A tool and a prompt only the silent worker claims; a prompt both claim. */
const HUNG_TOOL = 'hung_tool';
const SHARED_PROMPT = 'test_simple_prompt';

/**
 * A "worker" that accepts dispatches and never answers them (nor acks), while its health
 * endpoint stays fine: what a gateway sees of a worker whose dispatch handling hangs before
 * its probes notice.
 */
class SilentWorker {
  readonly held: ServerResponse[] = [];
  dispatches = 0;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<SilentWorker> {
    const server = createServer();
    const worker = new SilentWorker(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.url === HEALTH_PATH) return void res.end('{"status":"ok"}');
      if (req.url === DISPATCH_PATH) {
        worker.dispatches++;
        worker.held.push(res);
        req.resume();
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return worker;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Runs `fn`, returning its result and how long it took (ms). */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

describe('dispatch first-byte timeout: a hung worker', () => {
  let cluster: InProcessCluster;
  let gateway: RunningGateway;
  let silent: SilentWorker;

  beforeAll(async () => {
    cluster = new InProcessCluster();
    gateway = await cluster.gateway({
      dispatchFirstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS,
      workerProbeIntervalMs: PROBE_INTERVAL_MS,
      strategy: 'round-robin',
    });
    await cluster.worker({ nodeId: 'w-real' });
    await workersReady(gateway.url, 1);
    silent = await SilentWorker.start();
    const state = await cluster.state();
    await state.registry.register('w-silent', {
      url: silent.url,
      components: {
        tools: [HUNG_TOOL],
        prompts: [SHARED_PROMPT],
        resources: [],
        resourceTemplates: [],
        repeatableTools: [],
      },
    });
    await workersReady(gateway.url, 2);
  });

  afterAll(async () => {
    await cluster?.[Symbol.asyncDispose]();
    await silent?.close();
  });

  // A silent dispatch takes the silent worker out (hung-workers.ts); its probes bring it back.
  beforeEach(() => workersReady(gateway.url, 2));

  it('a call that may not run twice fails -32016 "may have run" after the first-byte timeout', async () => {
    const before = silent.dispatches;
    const { value, ms } = await timed(() =>
      modernCall(gateway.url, 'tools/call', { name: HUNG_TOOL, arguments: {} }),
    );
    expect(silent.dispatches).toBe(before + 1);
    expect(value.status).toBe(503);
    expect(value.response?.['error']).toMatchObject({
      code: RpcError.Unavailable.code,
      data: { retryAfterMs: 1_000 },
    });
    expect(JSON.stringify(value.response?.['error'])).toContain('may have run');
    expect(ms).toBeGreaterThanOrEqual(FIRST_BYTE_TIMEOUT_MS - UNDICI_TIMER_EARLY_MS);
    expect(ms).toBeLessThan(FIRST_BYTE_TIMEOUT_MS + SLACK_MS);
  });

  it('a repeatable request is sent again to a healthy worker, within one retry', async () => {
    const before = silent.dispatches;
    // Round-robin over the prompt's two owners: of two calls in a row, at least one meets the
    // silent worker first (each is then retried on the real one).
    for (let i = 0; i < 2; i++) {
      await workersReady(gateway.url, 2);
      const { value, ms } = await timed(() =>
        modernCall(gateway.url, 'prompts/get', { name: SHARED_PROMPT }),
      );
      expect(value.response?.['result']).toBeDefined();
      // The timeout on the hung worker plus one retry's budget (which itself would be cut at
      // the first-byte timeout had it met a hung worker too).
      expect(ms).toBeLessThan(2 * FIRST_BYTE_TIMEOUT_MS + SLACK_MS);
    }
    expect(silent.dispatches).toBeGreaterThan(before);
  });

  it('a merged list leaves the hung worker out after the first-byte timeout', async () => {
    const before = silent.dispatches;
    const { value, ms } = await timed(() => modernCall(gateway.url, 'tools/list'));
    expect(silent.dispatches).toBe(before + 1);
    const tools = (value.response?.['result'] as { tools: { name: string }[] }).tools;
    expect(tools.map((t) => t.name)).toContain('slow_compute');
    expect(ms).toBeLessThan(FIRST_BYTE_TIMEOUT_MS + SLACK_MS);
  });

  it('a tool slower than the first-byte timeout completes: its worker acknowledged it', async () => {
    const { value, ms } = await timed(() =>
      modernCall(gateway.url, 'tools/call', {
        name: 'slow_compute',
        arguments: { seconds: SLOW_SECONDS },
      }),
    );
    expect(textOf(value.response?.['result'])).toContain(`in ${SLOW_SECONDS}s`);
    expect(ms).toBeGreaterThanOrEqual(SLOW_SECONDS * 1000 - 5);
  });
});

/** Runs `fn` with an SDK client connected through `transport`; closes it afterwards. */
async function withClient<T>(transport: Transport, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ name: 'first-byte-test', version: '1.0.0' });
  await within(STEP_TIMEOUT_MS, 'connect', client.connect(transport));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

describe('dispatch first-byte timeout: an acknowledged answer on every client path', () => {
  let cluster: InProcessCluster;
  let gateway: RunningGateway;
  const slow = { name: 'slow_compute', arguments: { seconds: SLOW_SECONDS } };
  const expected = `in ${SLOW_SECONDS}s`;

  beforeAll(async () => {
    cluster = new InProcessCluster();
    ({ gateway } = await cluster.gatewayWithWorker({
      gateway: { dispatchFirstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS },
    }));
  });

  afterAll(async () => {
    await cluster?.[Symbol.asyncDispose]();
  });

  it('modern POST (JSON reply)', async () => {
    const { status, response, all } = await modernCall(gateway.url, 'tools/call', slow);
    expect(status).toBe(200);
    expect(all.contentType).toContain('application/json');
    expect(textOf(response?.['result'])).toContain(expected);
  });

  it('legacy Streamable HTTP session', async () => {
    await using session = await LegacySession.open(gateway.url);
    const result = await session.call('tools/call', slow);
    expect(textOf(result)).toContain(expected);
  });

  it('legacy batch over WebSocket (2025-03-26)', async () => {
    const url = gateway.url.replace(/^http/, 'ws').replace(/\/mcp$/, '/ws');
    const socket = new WebSocket(url, ['mcp']);
    const answers: unknown[] = [];
    const waiters: (() => void)[] = [];
    socket.on('message', (data: Buffer) => {
      answers.push(JSON.parse(data.toString('utf8')));
      waiters.shift()?.();
    });
    const next = async (): Promise<unknown> => {
      if (answers.length === 0) {
        await within(
          STEP_TIMEOUT_MS,
          'WebSocket answer',
          new Promise<void>((r) => waiters.push(r)),
        );
      }
      return answers.shift();
    };
    await within(
      STEP_TIMEOUT_MS,
      'WebSocket open',
      new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      }),
    );
    try {
      socket.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 'init',
          method: 'initialize',
          params: {
            protocolVersion: '2025-03-26',
            capabilities: {},
            clientInfo: { name: 'b', version: '1' },
          },
        }),
      );
      expect(await next()).toMatchObject({ id: 'init', result: {} });
      socket.send(
        JSON.stringify([
          { jsonrpc: '2.0', method: 'notifications/initialized' },
          { jsonrpc: '2.0', id: 'slow', method: 'tools/call', params: slow },
          { jsonrpc: '2.0', id: 'ping', method: 'ping' },
        ]),
      );
      const batch = (await next()) as { id: string; result: unknown }[];
      expect(Array.isArray(batch)).toBe(true);
      const slowAnswer = batch.find((m) => m.id === 'slow');
      expect(textOf(slowAnswer?.result)).toContain(expected);
      expect(batch.find((m) => m.id === 'ping')?.result).toEqual({});
    } finally {
      socket.close();
    }
  });

  it.each([
    [
      'WebSocket',
      (u: string): Transport =>
        new WebSocketClientTransport(new URL(u.replace(/^http/, 'ws').replace(/\/mcp$/, '/ws'))),
    ],
    [
      'HTTP+SSE (2024-11-05)',
      (u: string): Transport => new SSEClientTransport(new URL(u.replace(/\/mcp$/, '/sse'))),
    ],
  ])('%s (SDK client)', async (_name, makeTransport) => {
    const result = await withClient(makeTransport(gateway.url), (client) =>
      within(STEP_TIMEOUT_MS, 'slow call', client.callTool(slow)),
    );
    expect(textOf(result)).toContain(expected);
  });
});
