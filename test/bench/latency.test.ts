import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  medianLatency,
  measureLatencies,
  measureLatency,
  percentile,
  type LatencyFigures,
  type LatencyResult,
} from './latency.js';
import { ECHO_TEXT, looksLikeEcho, modernCall } from './wire.js';

describe('percentile', () => {
  it('is the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 90)).toBe(90);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([1, 2, 3], 50)).toBe(2);
  });

  it('is NaN without samples', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

interface Seen {
  readonly ids: string[];
  readonly sockets: Set<unknown>;
}

/** A loopback server answering the echo result for the request's id, or `answer`'s choice. */
async function echoServer(
  answer: (id: string) => 'right' | 'wrong' | 'status503' = () => 'right',
): Promise<{ url: string; seen: Seen; server: Server }> {
  const seen: Seen = { ids: [], sockets: new Set() };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.sockets.add(req.socket);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const { id } = JSON.parse(body) as { id: string };
      seen.ids.push(id);
      const kind = answer(id);
      const result = { content: [{ type: 'text', text: kind === 'wrong' ? 'nope' : ECHO_TEXT }] };
      res.statusCode = kind === 'status503' ? 503 : 200;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ jsonrpc: '2.0', id, result }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, seen, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

describe('measureLatency', () => {
  it('times every right answer on one keep-alive connection, each with a fresh id', async () => {
    const { url, seen, server } = await echoServer();
    servers.push(server);
    const f = await measureLatency(url, modernCall, looksLikeEcho, {
      requests: 200,
      warmupMs: 50,
      connections: 1,
    });
    expect(f).toMatchObject({ connections: 1, samples: 200, errors: 0, sockets: 1 });
    expect(f.firstError).toBeUndefined();
    expect(f.warmupRequests).toBeGreaterThan(0);
    expect(seen.ids).toHaveLength(f.warmupRequests + 200);
    expect(new Set(seen.ids).size).toBe(seen.ids.length);
    expect(seen.sockets.size).toBe(1);
    expect(f.p50Us).toBeGreaterThan(0);
    expect(f.p50Us).toBeLessThanOrEqual(f.p90Us);
    expect(f.p90Us).toBeLessThanOrEqual(f.p99Us);
  });

  it('keeps to the asked number of connections in a closed loop', async () => {
    const { url, seen, server } = await echoServer();
    servers.push(server);
    const f = await measureLatency(url, modernCall, looksLikeEcho, {
      requests: 400,
      warmupMs: 0,
      connections: 4,
    });
    expect(f).toMatchObject({ connections: 4, samples: 400, errors: 0 });
    expect(f.sockets).toBeLessThanOrEqual(4);
    expect(seen.sockets.size).toBe(f.sockets);
  });

  it('counts wrong bodies and non-200 answers as errors, not samples', async () => {
    // Of the 30 timed requests (ids lat-0..lat-29), lat-3 gets a wrong body and lat-4 a 503.
    const { url, server } = await echoServer((id) =>
      id === 'lat-3' ? 'wrong' : id === 'lat-4' ? 'status503' : 'right',
    );
    servers.push(server);
    const f = await measureLatency(url, modernCall, looksLikeEcho, {
      requests: 30,
      warmupMs: 10,
      connections: 1,
    });
    expect(f).toMatchObject({ samples: 28, errors: 2 });
    expect(f.firstError).toMatch(/^not the echo result/);
  });

  it('does not count errors during the warm-up', async () => {
    const { url, server } = await echoServer((id) =>
      id.startsWith('lat-w') ? 'status503' : 'right',
    );
    servers.push(server);
    const f = await measureLatency(url, modernCall, looksLikeEcho, {
      requests: 20,
      warmupMs: 20,
      connections: 1,
    });
    expect(f).toMatchObject({ samples: 20, errors: 0 });
    expect(f.warmupRequests).toBeGreaterThan(0);
  });

  it('reports a refused connection as errors', async () => {
    const { url, server } = await echoServer();
    await new Promise((resolve) => server.close(resolve));
    const f = await measureLatency(url, modernCall, looksLikeEcho, {
      requests: 3,
      warmupMs: 0,
      connections: 1,
    });
    expect(f).toMatchObject({ samples: 0, errors: 3 });
    expect(f.p50Us).toBeNaN();
    expect(f.firstError).toMatch(/ECONNREFUSED/);
  });
});

describe('measureLatencies', () => {
  it('runs the one-connection step, then the concurrent one only for more than one', async () => {
    const { url, server } = await echoServer();
    servers.push(server);
    const both = await measureLatencies(url, modernCall, looksLikeEcho, {
      requests: 20,
      warmupMs: 0,
      connections: 3,
    });
    expect(both.unloaded.connections).toBe(1);
    expect(both.concurrent?.connections).toBe(3);
    const one = await measureLatencies(url, modernCall, looksLikeEcho, {
      requests: 20,
      warmupMs: 0,
      connections: 1,
    });
    expect(one.concurrent).toBeUndefined();
  });
});

describe('medianLatency (several rounds)', () => {
  const result = (p50Us: number): LatencyResult => {
    const f: LatencyFigures = {
      connections: 1,
      warmupRequests: 1,
      samples: Number.isNaN(p50Us) ? 0 : 1,
      p50Us,
      p90Us: p50Us,
      p99Us: p50Us,
      errors: Number.isNaN(p50Us) ? 1 : 0,
      firstError: undefined,
      sockets: 1,
    };
    return { unloaded: f, concurrent: undefined };
  };

  it('keeps the round with the median one-connection p50, the lower middle of an even count', () => {
    const [r75, r117, r120, r127] = [result(75), result(117), result(120), result(127)];
    expect(medianLatency([r120, r75, r117])).toBe(r117);
    expect(medianLatency([r127, r120, r75, r117])).toBe(r117);
    expect(medianLatency([r120])).toBe(r120);
    expect(medianLatency([])).toBeUndefined();
  });

  it('counts a round without a right answer as the slowest', () => {
    const [none, a, b] = [result(Number.NaN), result(300), result(400)];
    expect(medianLatency([none, a])).toBe(a);
    expect(medianLatency([none, none, b])).toBe(none);
    expect(medianLatency([b, none, a])).toBe(b);
  });
});
