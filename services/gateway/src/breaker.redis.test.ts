/**
 * Circuit breakers shared between gateways, on real Redis and NATS: two gateways, two
 * workers, one of them behind a proxy the test switches to answer broken. Gateway A's breaker
 * opens; gateway B holds the same worker back within 100 ms of A's transition; once the open
 * time passes, exactly one trial dispatch reaches the worker from the whole cluster; after it
 * succeeds both gateways route to the worker again.
 */
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DISPATCH_PATH } from '@mcp-cluster/cluster';
import type { BreakerTransition } from '@mcp-cluster/resilience';
import { eventually, modernCall, workersReady } from '@mcp-cluster/test-support';
import { describe, expect, it } from 'vitest';
import { startGateway } from './gateway.js';
import type { RunningGateway } from './gateway.js';
import { InProcessCluster } from './in-process.test-support.js';

/** In front of a worker: forwards everything, or answers its dispatches broken. */
interface WorkerProxy {
  readonly url: string;
  target: URL | undefined;
  mode: 'pass' | 'broken';
  /** When each dispatch arrived (epoch ms). */
  readonly arrivals: number[];
  close(): Promise<void>;
}

async function startProxy(): Promise<WorkerProxy> {
  const proxy = {
    url: '',
    target: undefined as URL | undefined,
    mode: 'pass' as 'pass' | 'broken',
    arrivals: [] as number[],
    close: () => Promise.resolve(),
  };
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const target = proxy.target;
    if (target === undefined) {
      res.writeHead(503).end();
      return;
    }
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith(DISPATCH_PATH) !== true) return forward(req, res);
    proxy.arrivals.push(Date.now());
    if (proxy.mode === 'pass') return forward(req, res);
    // Answered, but not as a worker answers: the gateway sees a broken dispatch.
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{bro'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  proxy.url = `http://127.0.0.1:${port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

/** A read without side effects: a broken dispatch of it is retried on the other worker. */
const read = (url: string): ReturnType<typeof modernCall> =>
  modernCall(url, 'resources/read', { uri: 'test://static-text' });

describe('circuit breakers shared between gateways', () => {
  it('open on one gateway holds the worker on all; one trial cluster-wide; both route again', async () => {
    await using cluster = new InProcessCluster();
    const proxy = await startProxy();
    const seen = new Map<string, BreakerTransition[]>([
      ['g-a', []],
      ['g-b', []],
    ]);
    const gateways: RunningGateway[] = [];
    const gateway = async (nodeId: 'g-a' | 'g-b'): Promise<RunningGateway> => {
      const config = cluster.config({ nodeId, breakerMinRequests: 4, breakerResetMs: 2_000 });
      const g = await startGateway(config, cluster.log, {
        onBreakerTransition: (t) => seen.get(nodeId)?.push(t),
      });
      gateways.push(g);
      return g;
    };
    const of = (g: string, to: BreakerTransition['to']): BreakerTransition[] =>
      (seen.get(g) ?? []).filter((t) => t.workerId === 'w-bad' && t.to === to);
    try {
      const a = await gateway('g-a');
      const b = await gateway('g-b');
      await cluster.worker({ nodeId: 'w-good' });
      const bad = await cluster.worker({ nodeId: 'w-bad', advertiseUrl: proxy.url });
      const { port } = bad.app.server.address() as AddressInfo;
      proxy.target = new URL(`http://127.0.0.1:${port}`);
      await workersReady(a.url, 2);
      await workersReady(b.url, 2);

      // The worker answers broken: A's breaker opens (clients still get answers elsewhere).
      proxy.mode = 'broken';
      const aOpen = await eventually('gateway A opens the breaker', async () => {
        const { status, response } = await read(a.url);
        expect(status).toBe(200);
        expect(response?.['result']).toBeDefined();
        return of('g-a', 'open')[0];
      });
      expect(aOpen.origin).toBe('local');
      const bOpen = await eventually('gateway B holds the worker', () => of('g-b', 'open')[0]);
      expect(bOpen).toMatchObject({ origin: 'remote', by: 'g-a' });
      expect(bOpen.at - aOpen.at).toBeLessThan(100);

      // B sends the worker nothing while it is open.
      const before = proxy.arrivals.length;
      for (let i = 0; i < 6; i++) expect((await read(b.url)).status).toBe(200);
      expect(proxy.arrivals.length).toBe(before);

      // The worker recovers. Past the open time, traffic through both gateways: one trial.
      proxy.mode = 'pass';
      const heldSince = Math.max(aOpen.at, bOpen.at);
      await eventually(
        'both gateways close the breaker',
        async () => {
          await Promise.all([read(a.url), read(b.url)]);
          return of('g-a', 'closed').length > 0 && of('g-b', 'closed').length > 0
            ? true
            : undefined;
        },
        { timeoutMs: 20_000 },
      );
      const trials = [...of('g-a', 'half-open'), ...of('g-b', 'half-open')].filter(
        (t) => t.origin === 'local',
      );
      expect(trials).toHaveLength(1);
      const closed = [...of('g-a', 'closed'), ...of('g-b', 'closed')].filter(
        (t) => t.origin === 'local',
      );
      expect(closed).toHaveLength(1);
      const closedAt = closed[0]?.at ?? 0;
      const reached = proxy.arrivals.filter((t) => t > heldSince && t <= closedAt);
      expect(reached).toHaveLength(1);

      // Both route to it again.
      for (const g of [a, b]) {
        const from = proxy.arrivals.length;
        await eventually(`${g.id} routes to the worker again`, async () => {
          await read(g.url);
          return proxy.arrivals.length > from ? true : undefined;
        });
      }
      const status = (await (await fetch(new URL('/status', a.url))).json()) as {
        workers?: { id: string; breaker?: string }[];
      };
      expect(status.workers?.find((w) => w.id === 'w-bad')?.breaker).toBe('closed');
    } finally {
      for (const g of gateways) await g.close().catch(() => undefined);
      await proxy.close();
    }
  });
});
