/**
 * The embedded node's metrics, health and readiness over real sockets: `/metrics` counts each
 * answered request by method, tool and outcome (names the registry does not hold are
 * `_other`), refusals by authentication, authorization and rate limits; `/healthz` and
 * `/readyz` answer; `metricsPort` moves `/metrics` off the MCP port; `metricsEnabled: false`
 * serves none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTool } from '@mcp-cluster/components';
import { resolveConfig } from '@mcp-cluster/config';
import type { ConfigInput } from '@mcp-cluster/config';
import {
  LEGACY_VERSION,
  LegacySession,
  findResponse,
  modernRequest,
  postMcp,
  sampleSum,
} from '@mcp-cluster/testkit';
import { startNode } from '@mcp-cluster/cli';
import type { RunningNode } from '@mcp-cluster/cli';

const TOKEN = 'metrics-test-token-0123456789abcdef';
const OPERATION = 'mcp_server_operation_duration_seconds_count';

const ping = defineTool({ name: 'ping', description: 'pong', handler: () => 'pong' });
const secret = defineTool({ name: 'secret', description: 'not for callers', handler: () => 'x' });

function config(extra: ConfigInput = {}): ConfigInput {
  return {
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    nodeId: 'serve-metrics-test',
    auth: {
      allowAnonymous: false,
      audit: false,
      staticTokens: [
        { token: TOKEN, principal: { id: 'svc', kind: 'service', roles: ['caller'] } },
      ],
      authz: { roles: { caller: ['tools:call:ping'] } },
      rateLimit: { perTool: { capacity: 3, refillPerSecond: 0.001 } },
    },
    ...extra,
  };
}

async function start(extra: ConfigInput = {}): Promise<RunningNode> {
  const node = await startNode(resolveConfig(config(extra)));
  node.engine.registry.add(ping);
  node.engine.registry.add(secret);
  return node;
}

async function call(node: RunningNode, name: string, token: string | null = TOKEN) {
  const { body, headers } = modernRequest('tools/call', { name, arguments: {} });
  const r = await postMcp(node.url, body, {
    ...headers,
    ...(token === null ? {} : { authorization: `Bearer ${token}` }),
  });
  return { status: r.status, response: findResponse(r.messages) };
}

const metricsText = async (url: string): Promise<string> => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};

describe('serve: /metrics, /healthz, /readyz', () => {
  let node: RunningNode;
  beforeAll(async () => {
    node = await start();
  });
  afterAll(async () => {
    await node?.close();
  });

  it('counts answered requests by method, tool and outcome; refusals by reason', async () => {
    expect((await call(node, 'ping')).status).toBe(200);
    expect((await call(node, 'ping')).status).toBe(200);
    expect((await call(node, 'secret')).status).toBe(403);
    expect((await call(node, 'no-such-tool-7f3a')).status).toBe(403);
    expect((await call(node, 'ping', null)).status).toBe(401);
    // perTool capacity 3: the third ping is the last one admitted.
    expect((await call(node, 'ping')).status).toBe(200);
    expect((await call(node, 'ping')).status).toBe(429);

    const text = await metricsText(new URL('/metrics', node.url).href);
    const tool = (name: string, extra: Record<string, string> = {}) =>
      sampleSum(text, OPERATION, {
        mcp_method_name: 'tools/call',
        gen_ai_tool_name: name,
        mcp_protocol_version: '2026-07-28',
        network_transport: 'tcp',
        role: 'serve',
        node: 'serve-metrics-test',
        error_type: '',
        ...extra,
      });
    expect(tool('ping')).toBe(3);
    expect(tool('secret', { error_type: '-32014' })).toBe(1);
    // A name the registry does not hold is never a label value.
    expect(text).not.toContain('no-such-tool-7f3a');
    expect(tool('_other', { error_type: '-32014' })).toBe(1);
    expect(tool('ping', { error_type: '-32012' })).toBe(1);
    expect(sampleSum(text, 'mcp_auth_denials_total', { reason: 'unauthenticated' })).toBe(1);
    expect(sampleSum(text, 'mcp_auth_denials_total', { reason: 'forbidden' })).toBe(2);
    expect(sampleSum(text, 'mcp_rate_limit_denials_total', { limit: 'tool' })).toBe(1);
    expect(sampleSum(text, 'mcp_cluster_build_info', { role: 'serve' })).toBe(1);
    expect(sampleSum(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('serves /status behind the same authentication as /mcp', async () => {
    const url = new URL('/status', node.url);
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const status = (await res.json()) as Record<string, unknown>;
    expect(status).toMatchObject({
      role: 'serve',
      node: 'serve-metrics-test',
      components: { tools: 2, prompts: 0 },
      sessions: 0,
    });
    expect(status['version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(status['uptimeSeconds']).toBeTypeOf('number');
    expect(Date.parse(String(status['startedAt']))).toBeLessThanOrEqual(Date.now());
  });

  it('answers /healthz and /readyz', async () => {
    const health = await fetch(new URL('/healthz', node.url));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(new URL('/readyz', node.url));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [], degraded: [] });
  });
});

describe('serve: where /metrics is served', () => {
  it('metricsPort: on a listener of its own, not beside /mcp', async () => {
    const node = await start({ metricsPort: 0 });
    try {
      expect((await fetch(new URL('/metrics', node.url))).status).toBe(404);
      const url = node.metricsUrl;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(new URL(url ?? '').port).not.toBe(new URL(node.url).port);
      expect(await metricsText(url ?? '')).toContain('mcp_cluster_build_info');
    } finally {
      await node.close();
    }
  });

  it('metricsEnabled false: no /metrics at all', async () => {
    const node = await start({ metricsEnabled: false });
    try {
      expect((await call(node, 'ping')).status).toBe(200);
      expect((await fetch(new URL('/metrics', node.url))).status).toBe(404);
      expect(node.metricsUrl).toBeUndefined();
    } finally {
      await node.close();
    }
  });
});

describe('serve: legacy sessions in the metrics', () => {
  it('counts held sessions, and how long each lasted once it ends', async () => {
    const node = await startNode(
      resolveConfig({ host: '127.0.0.1', port: 0, logLevel: 'silent', nodeId: 'serve-sessions' }),
    );
    try {
      const metricsUrl = new URL('/metrics', node.url).href;
      const session = await LegacySession.open(node.url);
      const during = await metricsText(metricsUrl);
      expect(sampleSum(during, 'mcp_server_sessions_active')).toBe(1);
      expect(sampleSum(during, 'mcp_server_session_duration_seconds_count')).toBe(0);
      expect(await session.end()).toBe(204);
      const after = await metricsText(metricsUrl);
      expect(sampleSum(after, 'mcp_server_sessions_active')).toBe(0);
      expect(
        sampleSum(after, 'mcp_server_session_duration_seconds_count', {
          mcp_protocol_version: LEGACY_VERSION,
          network_transport: 'tcp',
        }),
      ).toBe(1);
    } finally {
      await node.close();
    }
  });
});
