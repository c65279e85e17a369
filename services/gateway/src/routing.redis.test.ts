/**
 * Routing through a real gateway to in-process workers (real Redis + NATS): calls go to the
 * worker that owns the component, an unknown component gets the worker's precise error, and
 * a legacy session survives its pinned worker going away (drained, or refusing connections).
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { DISPATCH_NONCE_HEADER } from '@mcp-cluster/cluster';
import type { ClusterState, DispatchFailure, WorkerInfo } from '@mcp-cluster/cluster';
import { RpcError } from '@mcp-cluster/protocol';
import { describe, expect, it } from 'vitest';
import { ALPHA_TOOL } from './test-fixtures/alpha-pack.js';
import { BETA_TOOL } from './test-fixtures/beta-pack.js';
import {
  LegacySession,
  eventually,
  listenLoopback,
  modernCall,
  textOf,
  workersReady,
} from '@mcp-cluster/test-support';
import { InProcessCluster } from './in-process.test-support.js';
import type { Exchange } from '@mcp-cluster/test-support';
import type { RunningWorker } from './in-process.test-support.js';
import type { RunningGateway } from './gateway.js';
import { announcingState } from './test-fixtures/announcing-state.js';
import { ALPHA_PACK, BETA_PACK } from './test-fixtures/packs.js';

/** Enough calls that round robin over two workers would hit both. */
const CALLS_PER_CHECK = 6;

/** A URL nothing listens on: the OS hands out a port, which is closed again at once. */
async function refusingUrl(): Promise<string> {
  const server = createServer();
  const url = await listenLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

/**
 * A "worker" that is registered but draining: every dispatch gets the worker's 503 answer
 * (nothing runs), /healthz is 503. Counts the dispatches it refused.
 */
async function drainingWorker(): Promise<
  AsyncDisposable & { readonly url: string; dispatches(): number }
> {
  let dispatches = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    req.once('end', () => {
      if (req.method === 'POST') dispatches++;
      const body = JSON.stringify({
        error: { code: RpcError.Unavailable.code, message: 'Worker is draining' },
      });
      res.writeHead(503, { 'content-type': 'application/json' }).end(body);
    });
  });
  const url = await listenLoopback(server);
  return {
    url,
    dispatches: () => dispatches,
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A worker's in-flight dispatch count, from its /healthz. */
async function inFlight(workerUrl: string): Promise<number> {
  const res = await fetch(`${workerUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
  return ((await res.json()) as { inFlight: number }).inFlight;
}

/**
 * A gateway and two workers (w-1, w-2, with `drainMs`), and a slow_compute call with `args`
 * sent through the gateway; resolves once one worker runs it.
 */
async function slowCallOnOneOfTwo(
  cluster: InProcessCluster,
  drainMs: number,
  args: Record<string, unknown>,
): Promise<{ call: Promise<Exchange>; busy: RunningWorker; idle: RunningWorker }> {
  const gateway = await cluster.gateway();
  const workers = [
    await cluster.worker({ nodeId: 'w-1', drainMs }),
    await cluster.worker({ nodeId: 'w-2', drainMs }),
  ];
  await workersReady(gateway.url, 2);
  const call = modernCall(gateway.url, 'tools/call', { name: 'slow_compute', arguments: args });
  const busy = await eventually('one worker runs the call', async () => {
    for (const w of workers) if ((await inFlight(w.url)) === 1) return w;
    return undefined;
  });
  const idle = workers.find((w) => w !== busy);
  if (idle === undefined) throw new Error('both workers are the busy one');
  return { call, busy, idle };
}

/**
 * A gateway and one real worker (w-real), then `impostorId` registered at `impostorUrl` with
 * the real worker's components, so the gateway routes to it as to an owner.
 */
async function realAndImpostor(
  cluster: InProcessCluster,
  impostorId: string,
  impostorUrl: string,
  gatewayConfig: Parameters<InProcessCluster['gateway']>[0] = {},
): Promise<{
  gateway: RunningGateway;
  real: RunningWorker;
  state: ClusterState;
  info: WorkerInfo;
}> {
  const gateway = await cluster.gateway(gatewayConfig);
  const real = await cluster.worker({ nodeId: 'w-real' });
  await workersReady(gateway.url, 1);
  const state = await cluster.state();
  const [info] = await state.registry.list();
  if (info === undefined) throw new Error('w-real is not registered');
  await state.registry.register(impostorId, { url: impostorUrl, components: info.components });
  await workersReady(gateway.url, 2);
  return { gateway, real, state, info };
}

const logMessages = (messages: readonly unknown[]): unknown[] =>
  messages.filter((m) => (m as { method?: unknown }).method === 'notifications/message');

describe('gateway routing by ownership', () => {
  it('modern calls go to the owner; an unknown tool is the worker error, not 503', async () => {
    await using cluster = new InProcessCluster();
    const gateway = await cluster.gateway();
    await cluster.worker({ nodeId: 'w-alpha', packs: ['builtin:conformance', ALPHA_PACK] });
    await cluster.worker({ nodeId: 'w-beta', packs: ['builtin:conformance', BETA_PACK] });
    await workersReady(gateway.url, 2);

    for (let i = 0; i < CALLS_PER_CHECK; i++) {
      for (const [tool, answer] of [
        [ALPHA_TOOL, 'alpha'],
        [BETA_TOOL, 'beta'],
      ] as const) {
        const { status, response } = await modernCall(gateway.url, 'tools/call', {
          name: tool,
          arguments: {},
        });
        expect(status).toBe(200);
        expect(textOf(response?.['result'])).toBe(answer);
      }
    }

    const unknown = await modernCall(gateway.url, 'tools/call', {
      name: 'no_such_tool',
      arguments: {},
    });
    expect(unknown.status).not.toBe(503);
    expect(unknown.response?.['error']).toMatchObject({ code: RpcError.InvalidParams.code });
    expect(JSON.stringify(unknown.response?.['error'])).toContain('no_such_tool');
  });

  it('a legacy session pinned to one worker reaches a tool only another owns', async () => {
    await using cluster = new InProcessCluster();
    const gateway = await cluster.gateway();
    // Only w-alpha runs first, so the session is pinned to it.
    await cluster.worker({ nodeId: 'w-alpha', packs: ['builtin:conformance', ALPHA_PACK] });
    await workersReady(gateway.url, 1);
    const session = await LegacySession.open(gateway.url);
    const state = await cluster.state();
    expect(await state.sessions.getPin(session.id)).toBe('w-alpha');

    await cluster.worker({ nodeId: 'w-beta', packs: ['builtin:conformance', BETA_PACK] });
    await workersReady(gateway.url, 2);
    for (let i = 0; i < CALLS_PER_CHECK; i++) {
      const beta = await session.call('tools/call', { name: BETA_TOOL, arguments: {} });
      expect(textOf(beta)).toBe('beta');
      const alpha = await session.call('tools/call', { name: ALPHA_TOOL, arguments: {} });
      expect(textOf(alpha)).toBe('alpha');
    }
    // Borrowing another worker for one call does not move the session.
    expect(await state.sessions.getPin(session.id)).toBe('w-alpha');
  });
});

describe('gateway: workers going away', () => {
  it('the pinned worker drains away: the next request re-pins, session state intact', async () => {
    await using cluster = new InProcessCluster();
    const gateway = await cluster.gateway();
    const w1 = await cluster.worker({ nodeId: 'w-1' });
    await workersReady(gateway.url, 1);
    const session = await LegacySession.open(gateway.url);
    const state = await cluster.state();
    expect(await state.sessions.getPin(session.id)).toBe('w-1');
    await session.call('logging/setLevel', { level: 'error' });
    await cluster.worker({ nodeId: 'w-2' });
    await workersReady(gateway.url, 2);

    await w1.close();
    const after = await session.request('tools/call', {
      name: 'test_tool_with_logging',
      arguments: {},
    });
    expect(after.response?.['error']).toBeUndefined();
    expect(textOf(after.response?.['result'])).toBe('Tool with logging executed successfully');
    // logging/setLevel travelled with the session: the info-level logs stay filtered.
    expect(logMessages(after.all.messages)).toEqual([]);
    expect(await state.sessions.getPin(session.id)).toBe('w-2');
    const found = await state.sessions.get(session.id);
    expect(found).toMatchObject({
      status: 'live',
      session: {
        logLevel: 'error',
        initialized: true,
        migrations: expect.arrayContaining([expect.objectContaining({ from: 'w-1', to: 'w-2' })]),
      },
    });
  });

  it('a worker that dies mid-call fails the call retryably; it is not re-run elsewhere', async () => {
    await using cluster = new InProcessCluster();
    // A short drain: close() cuts the running call off, as a crash would.
    const { call, busy, idle } = await slowCallOnOneOfTwo(cluster, 200, { seconds: 30 });
    await busy.close();
    const { response } = await call;
    expect(response?.['error']).toMatchObject({
      code: RpcError.Unavailable.code,
      message: 'The worker failed while serving the request; it may have run',
    });
    // Nothing was silently retried on the other worker.
    expect(await inFlight(idle.url)).toBe(0);
  });

  it('in-flight calls on a draining worker finish through the gateway', async () => {
    await using cluster = new InProcessCluster();
    const { call, busy } = await slowCallOnOneOfTwo(cluster, 5_000, { seconds: 1, label: 'held' });
    const closing = busy.close();
    const { response } = await call;
    await closing;
    expect(response?.['error']).toBeUndefined();
    expect(textOf(response?.['result'])).toBe('Computed held in 1s');
  });

  it('a registered worker answering 503 (draining) is skipped by modern calls', async () => {
    await using cluster = new InProcessCluster();
    await using draining = await drainingWorker();
    const { gateway } = await realAndImpostor(cluster, 'w-draining', draining.url);
    for (let i = 0; i < CALLS_PER_CHECK; i++) {
      const { response } = await modernCall(gateway.url, 'tools/call', {
        name: 'test_simple_text',
        arguments: {},
      });
      expect(response?.['error']).toBeUndefined();
    }
    expect(draining.dispatches()).toBeGreaterThan(0); // it was tried, and nothing failed
  });

  it('a legacy session pinned to a worker answering 503 moves to another worker', async () => {
    await using cluster = new InProcessCluster();
    await using draining = await drainingWorker();
    const { gateway, real, state } = await realAndImpostor(cluster, 'w-draining', draining.url);
    const session = await LegacySession.open(gateway.url);
    const pin = await state.sessions.getPin(session.id);
    // Announced, as every node's writes are: the gateway's cached session follows at once.
    await using announcing = await announcingState(cluster);
    expect(await announcing.sessions.setPin(session.id, 'w-draining', pin)).toBe(true);

    const { response } = await session.request('tools/call', {
      name: 'test_simple_text',
      arguments: {},
    });
    expect(draining.dispatches()).toBeGreaterThan(0);
    expect(response?.['error']).toBeUndefined();
    expect(await state.sessions.getPin(session.id)).toBe(real.id);
  });

  it('a registered worker that refuses connections is marked dead; calls fail over', async () => {
    await using cluster = new InProcessCluster();
    // A worker that registered, then stopped listening (its record has not lapsed yet).
    const { gateway, real, state, info } = await realAndImpostor(
      cluster,
      'w-ghost',
      await refusingUrl(),
    );

    // A legacy session pinned to the ghost, and modern calls round-robined onto it.
    const session = await LegacySession.open(gateway.url);
    await session.call('logging/setLevel', { level: 'error' });
    const pin = await state.sessions.getPin(session.id);
    await using announcing = await announcingState(cluster);
    expect(await announcing.sessions.setPin(session.id, 'w-ghost', pin)).toBe(true);

    const legacy = await session.request('tools/call', {
      name: 'test_tool_with_logging',
      arguments: {},
    });
    expect(textOf(legacy.response?.['result'])).toBe('Tool with logging executed successfully');
    expect(logMessages(legacy.all.messages)).toEqual([]);
    expect(await state.sessions.getPin(session.id)).toBe(real.id);
    for (let i = 0; i < CALLS_PER_CHECK; i++) {
      const { response } = await modernCall(gateway.url, 'tools/call', {
        name: 'test_simple_text',
        arguments: {},
      });
      expect(response?.['error']).toBeUndefined();
    }

    // Out of the pool at once, and kept out by later registry syncs while its record lives:
    // a third worker showing up proves a sync ran after the ghost was marked dead.
    expect((await workersReady(gateway.url, 1)).workers).toBe(1);
    await cluster.worker({ nodeId: 'w-late' });
    await workersReady(gateway.url, 2);
    expect((await state.registry.list()).map((w) => w.workerId).sort()).toEqual([
      'w-ghost',
      'w-late',
      'w-real',
    ]);
    // Registering again (a restarted worker) brings it back.
    await state.registry.register('w-ghost', { url: info.url, components: info.components });
    await workersReady(gateway.url, 3);
  });
});

/**
 * A registered "worker" that refuses every dispatch (nothing runs): `answer` gets the
 * dispatch's nonce and picks the status and failure body. Keeps the nonces it was sent.
 */
async function refusingWorker(
  answer: (nonce: string | undefined) => Promise<{ status: number; failure: DispatchFailure }>,
): Promise<AsyncDisposable & { readonly url: string; nonces(): string[] }> {
  const nonces: string[] = [];
  const server = createHttpServer((req, res) => {
    req.resume();
    req.once('end', () => {
      const nonce = req.headers[DISPATCH_NONCE_HEADER];
      if (typeof nonce === 'string') nonces.push(nonce);
      void answer(typeof nonce === 'string' ? nonce : undefined).then(({ status, failure }) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(failure));
      });
    });
  });
  const url = await listenLoopback(server);
  return {
    url,
    nonces: () => [...nonces],
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Modern calls through `gateway` until `worker` was sent `n` dispatches; their answers. */
async function callsUntil(
  gateway: RunningGateway,
  worker: { nonces(): string[] },
  n: number,
): Promise<Record<string, unknown>[]> {
  const responses: Record<string, unknown>[] = [];
  for (let i = 0; i < CALLS_PER_CHECK * n && worker.nonces().length < n; i++) {
    const { response } = await modernCall(gateway.url, 'tools/call', {
      name: 'test_simple_text',
      arguments: {},
    });
    responses.push(response ?? {});
  }
  expect(worker.nonces().length).toBeGreaterThanOrEqual(n);
  return responses;
}

describe('gateway retries under dispatch replay protection', () => {
  it('a retry is signed afresh: a worker that used the first nonce does not block it', async () => {
    await using cluster = new InProcessCluster();
    const shared = await cluster.state();
    // A real worker claims the nonce (in the store every worker shares) before it refuses as
    // draining: the gateway's retry on the other worker must carry a nonce of its own.
    await using draining = await refusingWorker(async (nonce) => {
      if (nonce !== undefined) await shared.dispatchNonces.claim(nonce, 60_000);
      return {
        status: 503,
        failure: { error: { code: RpcError.Unavailable.code, message: 'Worker is draining' } },
      };
    });
    const { gateway } = await realAndImpostor(cluster, 'w-draining', draining.url);
    const responses = await callsUntil(gateway, draining, 1);
    for (const r of responses) expect(r['error']).toBeUndefined();
    expect(textOf(responses.at(-1)?.['result'])).toBe(
      'This is a simple text response for testing.',
    );
  });

  it('a worker process replaced at its address refuses what was addressed to the old one (421); the call moves on', async () => {
    await using cluster = new InProcessCluster();
    // A record naming the real worker's address with another boot id: what a gateway holds
    // while a restarted worker's new record has not reached it yet.
    const gateway = await cluster.gateway();
    const real = await cluster.worker({ nodeId: 'w-real' });
    await workersReady(gateway.url, 1);
    const state = await cluster.state();
    const [info] = await state.registry.list();
    expect(info?.instance).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await state.registry.register('w-before-restart', {
      url: real.url,
      components: info?.components ?? {
        tools: [],
        prompts: [],
        resources: [],
        resourceTemplates: [],
      },
      instance: 'an-earlier-boot-id',
    });
    await workersReady(gateway.url, 2);
    const misdirected = () =>
      cluster.logs.filter(
        (l) =>
          l.msg === 'dispatch refused' &&
          (l.err as { message?: unknown } | undefined)?.message ===
            'Dispatch addressed to another worker process',
      ).length;
    for (let i = 0; i < CALLS_PER_CHECK && misdirected() === 0; i++) {
      const { response } = await modernCall(gateway.url, 'tools/call', {
        name: 'test_simple_text',
        arguments: {},
      });
      expect(response?.['error']).toBeUndefined();
      expect(textOf(response?.['result'])).toBe('This is a simple text response for testing.');
    }
    expect(misdirected()).toBe(1);
    // Out until it registers again: later calls all reach the real worker, addressed to it.
    for (let i = 0; i < CALLS_PER_CHECK; i++) {
      const { response } = await modernCall(gateway.url, 'tools/call', {
        name: 'test_simple_text',
        arguments: {},
      });
      expect(response?.['error']).toBeUndefined();
    }
    expect(misdirected()).toBe(1);
  });

  it('a signature that expired on its way (401 expired) is retried, signed afresh', async () => {
    await using cluster = new InProcessCluster();
    await using late = await refusingWorker(() =>
      Promise.resolve({
        status: 401,
        failure: {
          error: { code: RpcError.Unauthorized.code, message: 'Dispatch signature expired' },
          reason: 'expired',
        },
      }),
    );
    const { gateway } = await realAndImpostor(cluster, 'w-late', late.url);
    const responses = await callsUntil(gateway, late, 2);
    for (const r of responses) expect(r['error']).toBeUndefined();
    // Still routable: an expired signature says nothing about the worker.
    expect((await workersReady(gateway.url, 2)).workers).toBe(2);
    expect(new Set(late.nonces()).size).toBe(late.nonces().length);
  });

  it('a worker whose replay check is down: retryable -32016, and it is not ejected', async () => {
    await using cluster = new InProcessCluster();
    await using unchecked = await refusingWorker(() =>
      Promise.resolve({
        status: 503,
        failure: {
          error: { code: RpcError.Unavailable.code, message: 'Dispatch replay check unavailable' },
          reason: 'replay-check-unavailable',
        },
      }),
    );
    const { gateway } = await realAndImpostor(cluster, 'w-unchecked', unchecked.url);
    const responses = await callsUntil(gateway, unchecked, 2);
    expect(responses.map((r) => r['error']).filter((e) => e !== undefined)).toEqual([
      {
        code: RpcError.Unavailable.code,
        message: 'The worker could not check the dispatch for replay',
        data: { retryAfterMs: 1_000 },
      },
      {
        code: RpcError.Unavailable.code,
        message: 'The worker could not check the dispatch for replay',
        data: { retryAfterMs: 1_000 },
      },
    ]);
    expect((await workersReady(gateway.url, 2)).workers).toBe(2);
    expect(cluster.logs.map((l) => l.msg)).toContain('worker refused dispatch');
  });
});

/** A worker that accepts connections and requests, and never answers (a hung process). */
async function hangingWorker(): Promise<
  AsyncDisposable & { readonly url: string; held(): number }
> {
  let held = 0;
  const server = createHttpServer((req) => {
    held++;
    req.resume();
  });
  const url = await listenLoopback(server);
  return {
    url,
    held: () => held,
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('a worker that hangs', () => {
  it('is found by its unanswered probes; calls it holds end: repeatable ones re-run elsewhere, others say they may have run', async () => {
    await using cluster = new InProcessCluster();
    await using hung = await hangingWorker();
    const { gateway } = await realAndImpostor(cluster, 'w-hung', hung.url, {
      workerProbeIntervalMs: 200,
    });
    const started = performance.now();
    const [calls, prompts] = await Promise.all([
      Promise.all(
        Array.from({ length: CALLS_PER_CHECK }, () =>
          modernCall(gateway.url, 'tools/call', { name: 'test_simple_text', arguments: {} }),
        ),
      ),
      Promise.all(
        Array.from({ length: CALLS_PER_CHECK }, () =>
          modernCall(gateway.url, 'prompts/get', { name: 'test_simple_prompt' }),
        ),
      ),
    ]);
    // Found within two probe periods and two probe timeouts (2 s each), not the 300 s deadline.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(hung.held()).toBeGreaterThan(2); // its probes, and calls it held
    const failed = calls.filter((c) => c.response?.['error'] !== undefined);
    expect(failed.length).toBeGreaterThan(0);
    for (const c of failed) {
      expect(c.response?.['error']).toMatchObject({
        code: RpcError.Unavailable.code,
        message: 'The worker failed while serving the request; it may have run',
      });
    }
    for (const c of calls.filter((x) => x.response?.['error'] === undefined)) {
      expect(textOf(c.response?.['result'])).toBe('This is a simple text response for testing.');
    }
    // prompts/get is harmless to run twice: every one is answered.
    for (const p of prompts) expect(p.response?.['error']).toBeUndefined();
  }, 30_000);
});
