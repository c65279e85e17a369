/**
 * A worker that stops answering (SIGSTOP, a blocked event loop: connections are accepted,
 * nothing is answered, not even its probes) is out of routing within its ack delay, the
 * margin and one sweep of its first silent dispatch (hung-workers.ts), well before its
 * probes or its first-byte timeout would say so; the other worker serves on; once it answers
 * its probes again it is routed to again. Calls it held fail retryably, with Retry-After.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as pace } from 'node:timers/promises';
import {
  DISPATCH_PATH,
  HEALTH_PATH,
  OVERDUE_SWEEP_MS,
  ackDelayMs,
  overdueAfterMs,
} from '@mcp-cluster/cluster';
import { RpcError } from '@mcp-cluster/protocol';
import { eventually, modernCall, readyz, textOf, workersReady } from '@mcp-cluster/test-support';
import type { Exchange } from '@mcp-cluster/test-support';
import { describe, expect, it } from 'vitest';
import { InProcessCluster } from './in-process.test-support.js';

/** As in the chaos run: acks after 375 ms, overdue after 562 ms. */
const FIRST_BYTE_TIMEOUT_MS = 1_500;
const PROBE_INTERVAL_MS = 500;
const OVERDUE_MS = overdueAfterMs(ackDelayMs(String(FIRST_BYTE_TIMEOUT_MS)) ?? 0);
/** Out of routing this long after its first silent dispatch, at most. */
const DETECTION_BOUND_MS = 1_000;
/** Calls are sent this often while the worker is stopped (a steady load, not a wait). */
const CALL_EVERY_MS = 10;
const TOOL = 'test_simple_text';
const REAL_TEXT = 'This is a simple text response for testing.';
const FAKE_TEXT = 'from the stoppable worker';

/**
 * A "worker" that answers dispatches (a fixed text) and probes until stopped; stopped, it
 * accepts connections and requests and answers nothing, as a SIGSTOPped process does.
 */
class StoppableWorker {
  stopped = false;
  dispatches = 0;
  /** When each dispatch was received while stopped (performance.now()). */
  readonly silentAt: number[] = [];
  private readonly held: ServerResponse[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<StoppableWorker> {
    const server = createServer();
    const worker = new StoppableWorker(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => worker.serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return worker;
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (this.stopped) {
        if (req.url === DISPATCH_PATH) this.silentAt.push(performance.now());
        this.held.push(res);
        return;
      }
      if (req.url === HEALTH_PATH) return void res.end('{"status":"ok"}');
      if (req.url !== DISPATCH_PATH) return void res.writeHead(404).end();
      this.dispatches++;
      const { id } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: unknown };
      const result = { content: [{ type: 'text', text: FAKE_TEXT }] };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id, result }));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Answers again (what it held is dropped: the gateway gave up on it). */
  resume(): void {
    this.stopped = false;
    for (const res of this.held.splice(0)) res.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('a worker that stops answering', () => {
  it('is out of routing within ack delay + margin + sweep; the other serves on; it comes back', async ({
    annotate,
  }) => {
    await using cluster = new InProcessCluster();
    await using fake = await StoppableWorker.start();
    const gateway = await cluster.gateway({
      dispatchFirstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS,
      workerProbeIntervalMs: PROBE_INTERVAL_MS,
      strategy: 'round-robin',
      // Its circuit breaker (shared state, its own reset time) would hold it back after the
      // calls it failed; here the hung-worker check and the probes alone decide.
      breakerEnabled: false,
    });
    await cluster.worker({ nodeId: 'w-real' });
    await workersReady(gateway.url, 1);
    const state = await cluster.state();
    await state.registry.register('w-stoppable', {
      url: fake.url,
      components: {
        tools: [TOOL],
        prompts: [],
        resources: [],
        resourceTemplates: [],
        repeatableTools: [],
      },
    });
    await workersReady(gateway.url, 2);
    // Both serve.
    for (let i = 0; i < 4; i++) {
      const { response } = await modernCall(gateway.url, 'tools/call', { name: TOOL });
      expect(response?.['error']).toBeUndefined();
    }
    expect(fake.dispatches).toBeGreaterThan(0);

    fake.stopped = true;
    // A steady load while it is stopped; readyz polled alongside.
    const calls: Promise<Exchange & { sentAt: number }>[] = [];
    const out = eventually('the stopped worker is out of routing', async () => {
      const r = await readyz(gateway.url);
      return r.body.workers === 1 ? performance.now() : undefined;
    });
    const loadUntil = performance.now() + FIRST_BYTE_TIMEOUT_MS;
    while (performance.now() < loadUntil) {
      const sentAt = performance.now();
      calls.push(
        modernCall(gateway.url, 'tools/call', { name: TOOL }).then((x) => ({ ...x, sentAt })),
      );
      await pace(CALL_EVERY_MS);
    }
    const detectedAt = await out;
    const answers = await Promise.all(calls);

    const firstSilent = fake.silentAt[0] ?? Infinity;
    const lastSilent = fake.silentAt[fake.silentAt.length - 1] ?? Infinity;
    await annotate(
      `${fake.silentAt.length} dispatches to it while stopped, over ` +
        `${Math.round(lastSilent - firstSilent)} ms; out of routing (readyz) ` +
        `${Math.round(detectedAt - firstSilent)} ms after the first`,
    );
    // Routed to while stopped only until found: within the bound of its first silent dispatch.
    expect(fake.silentAt.length).toBeGreaterThan(0);
    expect(lastSilent - firstSilent).toBeLessThan(DETECTION_BOUND_MS);
    expect(detectedAt - firstSilent).toBeGreaterThanOrEqual(OVERDUE_MS - OVERDUE_SWEEP_MS);
    expect(detectedAt - firstSilent).toBeLessThan(DETECTION_BOUND_MS);
    // Every call is answered by the real worker, or fails retryably with Retry-After (the
    // ones the stopped worker held: they may have run).
    let served = 0;
    for (const a of answers) {
      const error = a.response?.['error'];
      if (error === undefined) {
        expect(textOf(a.response?.['result'])).toBe(REAL_TEXT);
        served++;
        continue;
      }
      expect(a.status).toBe(503);
      expect(a.all.headers.get('retry-after')).toBe('1');
      expect(error).toMatchObject({
        code: RpcError.Unavailable.code,
        message: 'The worker failed while serving the request; it may have run',
        data: { retryAfterMs: 1_000 },
      });
    }
    expect(answers.length - served).toBe(fake.silentAt.length);
    // Once it was out, every call went to the real worker.
    const late = answers.filter((a) => a.sentAt > detectedAt);
    expect(late.length).toBeGreaterThan(0);
    for (const a of late) expect(a.response?.['error']).toBeUndefined();

    fake.resume();
    await workersReady(gateway.url, 2);
    const before = fake.dispatches;
    const after = await Promise.all(
      Array.from({ length: 4 }, () => modernCall(gateway.url, 'tools/call', { name: TOOL })),
    );
    for (const a of after) expect(a.response?.['error']).toBeUndefined();
    expect(fake.dispatches).toBeGreaterThan(before);
  }, 30_000);
});
