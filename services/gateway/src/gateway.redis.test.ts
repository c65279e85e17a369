/**
 * The gateway process in-process against real Redis + NATS and in-process workers: readiness
 * follows the registry, the official SDK client works end to end (sampling routed back to
 * the worker that asked), and hostile session use gets 404s.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { RpcError } from '@mcp-cluster/protocol';
import { describe, expect, it } from 'vitest';
import {
  LegacySession,
  STEP_TIMEOUT_MS,
  modernCall,
  readyz,
  textOf,
  within,
  workersReady,
} from '@mcp-cluster/test-support';
import { InProcessCluster } from './in-process.test-support.js';

describe('gateway readiness', () => {
  it('asked to stop, it is not ready at once and keeps serving through its drain delay', async () => {
    await using cluster = new InProcessCluster();
    const { gateway } = await cluster.gatewayWithWorker({
      gateway: { nodeId: 'g-drain', gatewayDrainDelayMs: 1_000 },
    });
    expect((await readyz(gateway.url)).body).toMatchObject({ ready: true, draining: false });
    const closed = gateway.close();
    expect(await readyz(gateway.url)).toMatchObject({
      status: 503,
      body: { ready: false, draining: true, id: 'g-drain' },
    });
    // A load balancer has not stopped sending yet: those requests are still answered.
    const during = await modernCall(gateway.url, 'tools/call', {
      name: 'test_simple_text',
      arguments: {},
    });
    expect(textOf(during.response?.['result'])).toBe('This is a simple text response for testing.');
    await closed;
    await expect(fetch(new URL('/readyz', gateway.url))).rejects.toThrow();
  });

  it('/readyz is 503 without workers, 200 once one registered, 503 again after it left', async () => {
    await using cluster = new InProcessCluster();
    const gateway = await cluster.gateway({ nodeId: 'g-ready' });
    expect(await readyz(gateway.url)).toMatchObject({
      status: 503,
      body: { ready: false, workers: 0, id: 'g-ready' },
    });
    // Without workers a request is a retryable "unavailable", not a hang or a 500.
    const early = await modernCall(gateway.url, 'tools/call', {
      name: 'test_simple_text',
      arguments: {},
    });
    expect(early.response?.['error']).toMatchObject({ code: RpcError.Unavailable.code });

    const worker = await cluster.worker();
    expect(await workersReady(gateway.url, 1)).toMatchObject({
      ready: true,
      workers: 1,
      redis: true,
      nats: true,
      id: 'g-ready',
    });
    expect((await readyz(gateway.url)).status).toBe(200);
    const healthz = await fetch(new URL('/healthz', gateway.url));
    expect(await healthz.json()).toMatchObject({ status: 'ok', id: 'g-ready' });

    await worker.close();
    await workersReady(gateway.url, 0);
    expect((await readyz(gateway.url)).status).toBe(503);
  });
});

describe('gateway with the official SDK client', () => {
  it('initialize, tools/list, tools/call and a sampling round trip', async () => {
    await using cluster = new InProcessCluster();
    const { gateway } = await cluster.gatewayWithWorker();

    const client = new Client(
      { name: 'gateway-sdk-test', version: '1.0.0' },
      { capabilities: { sampling: {} } },
    );
    const prompts: string[] = [];
    client.setRequestHandler(CreateMessageRequestSchema, (req) => {
      const content = req.params.messages[0]?.content as { text?: string } | undefined;
      prompts.push(content?.text ?? '');
      return {
        role: 'assistant',
        model: 'gateway-test-model',
        content: { type: 'text', text: `sampled(${content?.text ?? ''})` },
      };
    });
    const transport = new StreamableHTTPClientTransport(new URL(gateway.url));
    try {
      await within(STEP_TIMEOUT_MS, 'SDK connect', client.connect(transport));
      expect(transport.sessionId).toBeTruthy();
      expect(client.getServerVersion()).toMatchObject({ name: 'mcp-cluster' });
      expect(client.getServerCapabilities()?.tools).toBeDefined();

      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(['test_simple_text', 'test_sampling']),
      );
      const simple = await client.callTool({ name: 'test_simple_text', arguments: {} });
      expect(textOf(simple)).toMatch(/simple text/i);

      const sampled = await client.callTool({
        name: 'test_sampling',
        arguments: { prompt: 'hello gateway' },
      });
      expect(textOf(sampled)).toBe('LLM response: sampled(hello gateway)');
      expect(prompts).toEqual(['hello gateway']);

      // The session lives in Redis, pinned to the worker that ran initialize.
      const state = await cluster.state();
      const found = await state.sessions.get(transport.sessionId ?? '');
      expect(found).toMatchObject({
        status: 'live',
        session: { initialized: true, clientInfo: { name: 'gateway-sdk-test' } },
      });
    } finally {
      await client.close();
    }
    expect(cluster.errors()).toEqual([]);
  });
});

describe('gateway: hostile session use', () => {
  it.each([
    ['very long', 'x'.repeat(5_000)],
    ['with a space', 'a b'],
    ['path-like', '../../etc/passwd'],
    ['a Redis key pattern', '*'],
  ])('a session id %s is 404 Session not found', async (_, sessionId) => {
    await using cluster = new InProcessCluster();
    const gateway = await cluster.gateway();
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: RpcError.SessionNotFound.code, message: RpcError.SessionNotFound.message },
    });
    expect(cluster.errors()).toEqual([]);
  });

  it('an unknown session id is 404; a DELETEd session is 404 when reused', async () => {
    await using cluster = new InProcessCluster();
    const { gateway } = await cluster.gatewayWithWorker();

    const unknown = await fetch(gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': 'no-such-session',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      error: { code: RpcError.SessionNotFound.code },
    });

    const session = await LegacySession.open(gateway.url);
    expect(await session.call('tools/list')).toBeDefined();
    expect(await session.end()).toBeLessThan(300);
    const state = await cluster.state();
    expect((await state.sessions.get(session.id)).status).toBe('ended');

    const reused = await session.request('tools/list');
    expect(reused.status).toBe(404);
    // JSON-RPC id null: the gateway answers before it reads which request this was.
    expect(reused.all.messages).toEqual([
      expect.objectContaining({
        id: null,
        error: expect.objectContaining({ code: RpcError.SessionNotFound.code }),
      }),
    ]);
    expect(await session.end()).toBe(404); // a second DELETE too
  });
});

describe('gateway to worker authentication', () => {
  it('a worker with another dispatch secret runs nothing; the client gets a retryable -32016', async () => {
    await using cluster = new InProcessCluster();
    const gateway = await cluster.gateway({ dispatchSecrets: [`gateway-${randomUUID()}`] });
    await cluster.worker({ dispatchSecrets: [`worker-${randomUUID()}`] });
    await workersReady(gateway.url, 1);
    const answer = await modernCall(gateway.url, 'tools/call', {
      name: 'test_simple_text',
      arguments: {},
    });
    expect(answer.response?.['error']).toEqual({
      code: RpcError.Unavailable.code,
      message: 'The worker refused the dispatch',
    });
    // Both sides say why, for the operator; the client learns nothing about the secret.
    expect(cluster.logs.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['worker refused dispatch', 'dispatch refused']),
    );
  });
});
