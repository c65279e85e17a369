/**
 * Graceful drain of a gateway (real sockets, two gateways, one worker): /readyz turns 503 at
 * once while requests are still served for the drain delay; then the standalone GET stream
 * ends with `retry:` and its primed id, a notification published before the client is back is
 * replayed when it resumes on the other gateway with Last-Event-ID, a request in flight on a
 * POST stream still gets its result, and a late request is refused (503 + Retry-After, or a
 * refused connection), never a 500.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import {
  LegacySession,
  SseReader,
  eventually,
  textOf,
  workersReady,
} from '@mcp-cluster/test-support';
import { InProcessCluster } from './in-process.test-support.js';

const RETRY_MS = 300;
const DELAY_MS = 1_500;
const DRAIN_TIMEOUT_MS = 15_000;
const STEP_MS = 15_000;

// Streams carry messages of any shape; the test asserts on them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
const isRequest = (method: string) => (m: Loose) => m?.method === method && m?.id !== undefined;
const isResponse = (id: number) => (m: Loose) =>
  m?.id === id && (m?.result !== undefined || m?.error !== undefined);
const isToolsChanged = (m: Loose): boolean => m?.method === 'notifications/tools/list_changed';

describe('gateway drain', () => {
  it('moves SSE clients to another gateway without losing an event or a result', async () => {
    await using cluster = new InProcessCluster();
    const g1 = await cluster.gateway({
      gatewayDrainDelayMs: DELAY_MS,
      gatewayDrainTimeoutMs: DRAIN_TIMEOUT_MS,
      sseRetryMs: RETRY_MS,
    });
    const g2 = await cluster.gateway({ sseRetryMs: RETRY_MS });
    await cluster.worker();
    await Promise.all([workersReady(g1.url, 1), workersReady(g2.url, 1)]);

    const session = await LegacySession.open(g1.url);
    const stream = await session.openGetStream();
    const priming = await stream.next();
    expect(priming?.id).toBeTruthy();
    // A slow call: in flight until its sampling request is answered.
    const res = await session.post({
      jsonrpc: '2.0',
      id: 501,
      method: 'tools/call',
      params: { name: 'test_sampling', arguments: { prompt: 'drain' } },
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const post = new SseReader(res);
    const { message: sampling } = await post.until<Loose>(isRequest('sampling/createMessage'));

    const closed = g1.close();
    const readyz = await fetch(`${new URL(g1.url).origin}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toMatchObject({ ready: false, draining: true });
    // Still served during the delay.
    const ping = await session.request('ping');
    expect(ping.status).toBe(200);
    expect(ping.response).toMatchObject({ result: {} });

    // After the delay: the GET stream ends the SEP-1699 way.
    const farewell = await stream.next(DELAY_MS + STEP_MS);
    expect(farewell).toMatchObject({ id: priming!.id, retry: RETRY_MS, data: '' });
    expect(await stream.next(STEP_MS)).toBeUndefined();

    // A late request: refused, never a 500.
    const late = await fetch(g1.url, {
      method: 'POST',
      headers: session.headers({
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 502, method: 'ping' }),
    }).catch((err: unknown) => err);
    if (late instanceof Response) {
      expect(late.status).toBe(503);
      expect(late.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await late.json()).toMatchObject({ id: null, error: { code: -32016 } });
    } else {
      expect(String((late as Error).cause ?? late)).toMatch(/ECONNREFUSED|other side closed/);
    }

    // Published while the client is away from any stream.
    await session
      .via(g2.url)
      .call('tools/call', { name: 'test_trigger_tool_change', arguments: {} });
    const resumed = await session.via(g2.url).openGetStream({ 'last-event-id': farewell!.id! });
    await resumed.until<Loose>(isToolsChanged, STEP_MS);

    // The slow call finishes; its result arrives on the stream it was asked on.
    const answer = await session.via(g2.url).post({
      jsonrpc: '2.0',
      id: sampling.id,
      result: {
        role: 'assistant',
        model: 'drain-model',
        content: { type: 'text', text: 'after drain' },
      },
    });
    await answer.text();
    expect(answer.status).toBe(202);
    const { message: result } = await post.until<Loose>(isResponse(501), STEP_MS);
    expect(result.result.content[0].text).toBe('LLM response: after drain');
    await closed;
    // Everything on g1 finished before its drain deadline.
    expect(cluster.logs.filter((e) => e.msg.startsWith('drain deadline passed'))).toEqual([]);

    // g1 is gone: the resumed stream goes on from g2 itself.
    await session
      .via(g2.url)
      .call('tools/call', { name: 'test_trigger_tool_change', arguments: {} });
    await resumed.until<Loose>(isToolsChanged, STEP_MS);
    await resumed.cancel();
    await session.via(g2.url).close();
  });

  it('SDK client behind a load balancer: its GET stream resumes on g2 with Last-Event-ID', async () => {
    // Long enough that the gap between the farewell and the reconnect is certain.
    const sdkRetryMs = 1_500;
    await using cluster = new InProcessCluster();
    const g1 = await cluster.gateway({
      gatewayDrainDelayMs: DELAY_MS,
      gatewayDrainTimeoutMs: DRAIN_TIMEOUT_MS,
      sseRetryMs: sdkRetryMs,
    });
    const g2 = await cluster.gateway({ sseRetryMs: sdkRetryMs });
    await cluster.worker();
    await Promise.all([workersReady(g1.url, 1), workersReady(g2.url, 1)]);

    // The load balancer: every request to the gateway it currently routes to.
    let target = g1.url;
    const gets: { url: string; lastEventId: string | null }[] = [];
    const viaBalancer = (_url: string | URL, init?: RequestInit): Promise<Response> => {
      const url = target;
      if ((init?.method ?? 'GET') === 'GET') {
        gets.push({ url, lastEventId: new Headers(init?.headers).get('last-event-id') });
      }
      return fetch(url, init);
    };
    const client = new Client(
      { name: 'drain-test', version: '1.0.0' },
      { capabilities: { sampling: {} } },
    );
    let toolsChanged = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      toolsChanged++;
    });
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let samplingAsked = false;
    client.setRequestHandler(CreateMessageRequestSchema, async () => {
      samplingAsked = true;
      await released;
      return {
        role: 'assistant',
        model: 'drain-model',
        content: { type: 'text', text: 'sdk after drain' },
      };
    });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(g1.url), {
        fetch: viaBalancer,
        reconnectionOptions: {
          initialReconnectionDelay: 100,
          maxReconnectionDelay: 1_000,
          reconnectionDelayGrowFactor: 1.5,
          maxRetries: 20,
        },
      }),
    );
    // Another session triggers list_changed, seen by every session with a stream.
    const trigger = await LegacySession.open(g2.url);
    const changed = async (): Promise<void> => {
      const before = toolsChanged;
      await trigger.call('tools/call', { name: 'test_trigger_tool_change', arguments: {} });
      await eventually('tools/list_changed on the SDK client', () =>
        toolsChanged > before ? true : undefined,
      );
    };
    try {
      await changed(); // the SDK's GET stream is open on g1
      // A slow call: in flight on g1 until the sampling handler is released.
      const call = client.callTool({ name: 'test_sampling', arguments: { prompt: 'sdk' } });
      await eventually('the sampling request reached the client', () => samplingAsked || undefined);

      const closed = g1.close();
      const readyz = await fetch(`${new URL(g1.url).origin}/readyz`);
      expect(readyz.status).toBe(503);
      target = g2.url; // the balancer follows readiness
      // The delay is over once g1 refuses: its GET stream has just been ended with `retry:`.
      await eventually(
        'g1 refuses new requests',
        async () => {
          const res = await fetch(g1.url, { method: 'POST' }).catch(() => undefined);
          if (res === undefined) return true;
          await res.body?.cancel();
          return res.status === 503 ? true : undefined;
        },
        { timeoutMs: DELAY_MS + STEP_MS },
      );
      const before = toolsChanged;
      await trigger.call('tools/call', { name: 'test_trigger_tool_change', arguments: {} });
      // Published in the gap: the client was not back yet.
      expect(gets.filter((g) => g.url === g2.url)).toEqual([]);
      await eventually(
        'the gap notification after the reconnect',
        () => (toolsChanged > before ? true : undefined),
        { timeoutMs: STEP_MS },
      );
      const resume = gets.find((g) => g.url === g2.url);
      expect(resume?.lastEventId).toMatch(/:\d+$/);

      release();
      expect(textOf(await call)).toBe('LLM response: sdk after drain');
      await closed;
      expect(cluster.logs.filter((e) => e.msg.startsWith('drain deadline passed'))).toEqual([]);
      await changed(); // and on from g2 once g1 is gone
    } finally {
      release();
      await trigger.close();
      await client.close();
    }
  });
});
