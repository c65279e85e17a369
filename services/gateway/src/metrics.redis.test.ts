/**
 * A gateway's and a worker's /metrics after real traffic through an in-process cluster: the
 * operation as the client saw it (gateway) and as the worker ran it, the dispatch hop per
 * worker and outcome, routing decisions, the pool by health state, the worker's in-flight,
 * drain, heartbeat and backend series; and the worker's /readyz.
 */
import { describe, expect, it } from 'vitest';
import { eventually, modernCall, sampleSum } from '@mcp-cluster/test-support';
import { InProcessCluster } from './in-process.test-support.js';

async function metricsOf(origin: string): Promise<string> {
  const res = await fetch(new URL('/metrics', origin));
  expect(res.status).toBe(200);
  return res.text();
}

describe('cluster metrics', () => {
  it('gateway and worker export what they saw of the same calls', async () => {
    await using cluster = new InProcessCluster();
    const { gateway, worker } = await cluster.gatewayWithWorker({
      gateway: { nodeId: 'g-metrics', metricsEnabled: true },
      worker: { nodeId: 'w-metrics', heartbeatMs: 200 },
    });
    for (let i = 0; i < 3; i++) {
      const { status } = await modernCall(gateway.url, 'tools/call', {
        name: 'test_simple_text',
        arguments: {},
      });
      expect(status).toBe(200);
    }
    const unknown = await modernCall(gateway.url, 'tools/call', { name: 'no_such_tool_x9' });
    expect(unknown.response?.['error']).toBeDefined();

    const g = await metricsOf(gateway.url);
    const call = { mcp_method_name: 'tools/call', gen_ai_tool_name: 'test_simple_text' };
    expect(
      sampleSum(g, 'mcp_server_operation_duration_seconds_count', {
        ...call,
        role: 'gateway',
        node: 'g-metrics',
        error_type: '',
      }),
    ).toBe(3);
    expect(
      sampleSum(g, 'mcp_server_operation_duration_seconds_count', {
        mcp_method_name: 'tools/call',
        gen_ai_tool_name: '_other',
      }),
    ).toBe(1);
    expect(g).not.toContain('no_such_tool_x9');
    expect(
      sampleSum(g, 'mcp_gateway_dispatch_duration_seconds_count', {
        worker: 'w-metrics',
        outcome: 'message',
      }),
    ).toBe(4);
    expect(sampleSum(g, 'mcp_gateway_router_decisions_total', { decision: 'owner' })).toBe(3);
    expect(sampleSum(g, 'mcp_gateway_workers', { state: 'healthy' })).toBe(1);
    expect(sampleSum(g, 'mcp_gateway_workers', { state: 'down' })).toBe(0);
    expect(sampleSum(g, 'mcp_server_streams_open', { transport: 'sse' })).toBe(0);
    expect(sampleSum(g, 'mcp_backend_up', { backend: 'redis' })).toBe(1);
    expect(sampleSum(g, 'mcp_backend_up', { backend: 'nats' })).toBe(1);

    const w = await metricsOf(new URL(worker.url).origin);
    expect(
      sampleSum(w, 'mcp_server_operation_duration_seconds_count', {
        ...call,
        role: 'worker',
        node: 'w-metrics',
      }),
    ).toBe(3);
    expect(sampleSum(w, 'mcp_worker_inflight_requests')).toBe(0);
    expect(sampleSum(w, 'mcp_worker_draining')).toBe(0);
    expect(sampleSum(w, 'mcp_tasks_running')).toBe(0);
    expect(sampleSum(w, 'mcp_backend_up', { backend: 'redis' })).toBe(1);
    const origin = new URL(worker.url).origin;
    await eventually('a heartbeat counted', async () =>
      sampleSum(await metricsOf(origin), 'mcp_worker_registry_heartbeats_total', {
        result: 'ok',
      }) > 0
        ? true
        : undefined,
    );
    const gatewayStatus = await fetch(new URL('/status', gateway.url));
    expect(gatewayStatus.status).toBe(200);
    expect(await gatewayStatus.json()).toMatchObject({
      role: 'gateway',
      node: 'g-metrics',
      workers: [{ id: 'w-metrics', health: 'healthy', inFlight: 0 }],
    });
    const workerStatus = await fetch(new URL('/status', worker.url));
    expect(await workerStatus.json()).toMatchObject({
      role: 'worker',
      node: 'w-metrics',
      inFlight: 0,
      draining: false,
    });
    const ready = await fetch(new URL('/readyz', worker.url));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      ready: true,
      reasons: [],
      degraded: [],
      draining: false,
      redis: true,
      nats: true,
      id: 'w-metrics',
    });
  });
});
