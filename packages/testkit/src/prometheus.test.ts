import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPrometheus } from './prometheus.js';
import { PrometheusUnavailableError, startPrometheus } from './prometheus.js';

const EXPOSITION = [
  '# HELP fixture_requests_total Requests served by the fixture.',
  '# TYPE fixture_requests_total counter',
  'fixture_requests_total{route="a"} 42',
  'fixture_requests_total{route="b"} 7',
  '',
].join('\n');

/** A tiny metrics endpoint on a free loopback port, serving a fixed exposition text. */
async function metricsServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(EXPOSITION);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return { server, url: `http://127.0.0.1:${port}/metrics` };
}

describe('startPrometheus', () => {
  let fixture: { server: Server; url: string };
  let prom: RunningPrometheus;
  let rulesDir: string;

  beforeAll(async () => {
    fixture = await metricsServer();
    // A recording rule proves rule files are loaded and evaluated.
    rulesDir = await mkdtemp(path.join(tmpdir(), 'mcp-prometheus-rules-'));
    const ruleFile = path.join(rulesDir, 'rules.yml');
    await writeFile(
      ruleFile,
      JSON.stringify({
        groups: [
          {
            name: 'fixture',
            rules: [
              { record: 'job:fixture_requests:sum', expr: 'sum by (job) (fixture_requests_total)' },
            ],
          },
        ],
      }),
    );
    prom = await startPrometheus({
      targets: [{ job: 'fixture', url: fixture.url }],
      ruleFiles: [ruleFile],
      scrapeIntervalMs: 200,
    });
  }, 40_000);

  afterAll(async () => {
    await prom?.stop();
    await new Promise<void>((resolve) => fixture?.server.close(() => resolve()));
    await rm(rulesDir, { recursive: true, force: true });
  });

  it('scrapes the target and answers queries about it', async () => {
    expect(prom.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await prom.waitForTargetsUp(1);

    const up = await prom.query('up{job="fixture"}');
    expect(up.resultType).toBe('vector');
    if (up.resultType !== 'vector') return;
    expect(up.result.map((s) => s.value[1])).toEqual(['1']);

    const requests = await prom.waitForResult('fixture_requests_total{route="a"}');
    expect(requests.resultType).toBe('vector');
    if (requests.resultType !== 'vector') return;
    expect(requests.result).toHaveLength(1);
    expect(requests.result[0]?.metric).toMatchObject({
      __name__: 'fixture_requests_total',
      job: 'fixture',
      route: 'a',
    });
    expect(requests.result[0]?.value[1]).toBe('42');
  });

  it('returns a matrix for a range selector', async () => {
    const range = await prom.waitForResult('fixture_requests_total{route="b"}[1m]');
    expect(range.resultType).toBe('matrix');
    if (range.resultType !== 'matrix') return;
    expect(range.result[0]?.values.every(([, v]) => v === '7')).toBe(true);
  });

  it('evaluates the given rule files', async () => {
    const recorded = await prom.waitForResult('job:fixture_requests:sum');
    if (recorded.resultType !== 'vector') throw new Error(`got ${recorded.resultType}`);
    expect(recorded.result[0]?.metric).toEqual({
      __name__: 'job:fixture_requests:sum',
      job: 'fixture',
    });
    expect(recorded.result[0]?.value[1]).toBe('49');
  });

  it('reports a bad query as an error', async () => {
    await expect(prom.query('sum(')).rejects.toThrow(/bad_data/);
  });
});

describe('startPrometheus lifecycle', () => {
  it('stop kills Prometheus and removes its directory', async () => {
    const prom = await startPrometheus({ targets: [] });
    expect(existsSync(prom.dir)).toBe(true);
    await prom.stop();
    expect(existsSync(prom.dir)).toBe(false);
    await expect(
      fetch(`${prom.url}/-/ready`, { signal: AbortSignal.timeout(2_000) }),
    ).rejects.toThrow();
    await prom.stop(); // idempotent
  }, 40_000);

  it('names the package to install when the binary is missing', async () => {
    const start = startPrometheus({ targets: [], binary: '/nonexistent/prometheus' });
    await expect(start).rejects.toBeInstanceOf(PrometheusUnavailableError);
    await expect(start).rejects.toThrow(/apt-get install prometheus/);
  });

  it('waitForTargetsUp names the failing target when it times out', async () => {
    const prom = await startPrometheus({
      // Port 1 on loopback refuses connections: the target stays down (Prometheus takes up to
      // 5 s to list a new target, hence the wait).
      targets: [{ job: 'down', url: 'http://127.0.0.1:1/metrics' }],
      scrapeIntervalMs: 200,
    });
    try {
      await expect(prom.waitForTargetsUp(1, 8_000)).rejects.toThrow(/127\.0\.0\.1:1\/metrics/);
    } finally {
      await prom.stop();
    }
  }, 40_000);
});
