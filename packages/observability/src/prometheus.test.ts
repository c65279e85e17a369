import { describe, expect, it } from 'vitest';
import { METRICS } from './catalogue.js';
import { PrometheusMetrics } from './prometheus.js';
import { listenMetrics, MCP_CLUSTER_VERSION, processMetrics, serveMetrics } from './serve.js';
import type { RouteHost } from './serve.js';

const quiet = (): PrometheusMetrics => new PrometheusMetrics({ nodeDefaults: false });

describe('PrometheusMetrics', () => {
  it('exposes counters, gauges and histograms with the default labels', async () => {
    const m = new PrometheusMetrics({ nodeDefaults: false, defaultLabels: { role: 'gateway' } });
    m.counter(METRICS.routerDecisions).inc({ decision: 'owner' });
    m.counter(METRICS.routerDecisions).inc({ decision: 'owner' }, 2);
    m.gauge(METRICS.inflight).set({}, 4);
    m.histogram(METRICS.dispatchDuration).observe({ worker: 'w1', outcome: 'message' }, 0.003);
    const text = await m.text();
    expect(text).toContain('mcp_gateway_router_decisions_total{decision="owner",role="gateway"} 3');
    expect(text).toContain('mcp_worker_inflight_requests{role="gateway"} 4');
    expect(text).toContain(
      'mcp_gateway_dispatch_duration_seconds_bucket{le="0.0025",role="gateway",worker="w1",outcome="message"} 0',
    );
    expect(text).toContain(
      'mcp_gateway_dispatch_duration_seconds_bucket{le="0.005",role="gateway",worker="w1",outcome="message"} 1',
    );
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('gauges set by collectors at each scrape: every collector, stale series gone', async () => {
    const m = quiet();
    let depth: Record<string, number> = { waiting: 3, active: 1 };
    m.gauge(METRICS.taskQueueDepth, (set) => {
      for (const [state, n] of Object.entries(depth)) set({ state }, n);
    });
    m.gauge(METRICS.sessionsActive, (set) => set({}, 2));
    m.gauge(METRICS.sessionsActive, () => Promise.reject(new Error('store down')));
    const first = await m.text();
    expect(first).toContain('mcp_tasks_queue_depth{state="waiting"} 3');
    expect(first).toContain('mcp_tasks_queue_depth{state="active"} 1');
    // A failing collector leaves the others' series in.
    expect(first).toContain('mcp_server_sessions_active 2');
    depth = { waiting: 0 };
    const second = await m.text();
    expect(second).toContain('mcp_tasks_queue_depth{state="waiting"} 0');
    expect(second).not.toContain('state="active"');
  });

  it('one instrument per name; a name of another kind is refused', () => {
    const m = quiet();
    m.counter(METRICS.heartbeats).inc({ result: 'ok' });
    expect(() => m.counter(METRICS.heartbeats)).not.toThrow();
    expect(() => m.gauge({ ...METRICS.heartbeats, labelNames: ['result'] })).toThrow(
      /already defined as another kind/,
    );
  });

  it('collects Node defaults into its own registry only', async () => {
    const a = new PrometheusMetrics();
    const b = quiet();
    expect(await a.text()).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(await b.text()).not.toContain('nodejs_');
  });
});

describe('processMetrics and /metrics', () => {
  it('off: no-op metrics and nothing to serve', () => {
    const p = processMetrics({ enabled: false, role: 'worker', nodeId: 'w1' });
    expect(p.metrics.enabled).toBe(false);
    expect(p.exposition).toBeUndefined();
  });

  it('on: role, node and build info on every series, served on a port of its own', async () => {
    const { metrics, exposition } = processMetrics({ enabled: true, role: 'worker', nodeId: 'w1' });
    metrics.counter(METRICS.taskTakeovers).inc();
    if (exposition === undefined) throw new Error('no exposition');
    const listener = await listenMetrics(exposition, '127.0.0.1', 0);
    try {
      const res = await fetch(listener.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(exposition.contentType);
      const text = await res.text();
      expect(text).toContain(
        `mcp_cluster_build_info{version="${MCP_CLUSTER_VERSION}",role="worker",node="w1"} 1`,
      );
      expect(text).toContain('mcp_tasks_takeovers_total{role="worker",node="w1"} 1');
      expect((await fetch(new URL('/other', listener.url))).status).toBe(404);
      expect((await fetch(listener.url, { method: 'POST' })).status).toBe(405);
    } finally {
      await listener.close();
    }
  });

  it('beside the app routes when no port is given (hijacking the reply)', async () => {
    const routes = new Map<string, Parameters<RouteHost['get']>[1]>();
    const app: RouteHost = { get: (path, handler) => routes.set(path, handler) };
    expect(await serveMetrics(app, undefined, { host: '127.0.0.1' })).toBeUndefined();
    expect(routes.size).toBe(0);
    expect(await serveMetrics(app, quiet(), { host: '127.0.0.1' })).toBeUndefined();
    expect([...routes.keys()]).toEqual(['/metrics']);
  });
});
