/**
 * Everything a client can send while Redis is down, on a Redis of this test's own: modern
 * calls keep flowing, a legacy session keeps working from the copy its gateway holds (single
 * requests and batches), and what truly needs Redis (a legacy session this gateway holds no
 * copy of, a durable task) is refused with 503 + Retry-After and -32016 naming each request's
 * id. No answer is ever a 500 or carries `id: null`; all of it works again once Redis is back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RpcError } from '@mcp-cluster/protocol';
import {
  DEFAULT_CLIENT_CAPABILITIES,
  closedPort,
  eventually,
  findResponse,
  modernCall,
  postMcp,
  within,
  workersReady,
} from '@mcp-cluster/test-support';
import type { McpHttpResponse } from '@mcp-cluster/test-support';
import { describe, expect, it } from 'vitest';
import { InProcessCluster } from './in-process.test-support.js';
import { OwnRedis } from './own-servers.test-support.js';

/** The one legacy revision with JSON-RPC batches. */
const BATCH_VERSION = '2025-03-26';
const WITH_TASKS = {
  ...DEFAULT_CLIENT_CAPABILITIES,
  extensions: { 'io.modelcontextprotocol/tasks': {} },
};
const SIMPLE_CALL = { name: 'test_simple_text', arguments: {} };
const TASK_CALL = { name: 'slow_compute', arguments: { seconds: 0 } };
/** Bound on one refused request: a few reconnects or the command timeout, not a hang. */
const REFUSED_WITHIN_MS = 10_000;
/** Bound on the cluster serving again once Redis is back (ioredis reconnect backoff). */
const RECOVERED_WITHIN_MS = 20_000;

type Message = Record<string, unknown> & { id?: unknown; error?: { code: number } };

/** A 2025-03-26 session over Streamable HTTP: batches allowed. */
class BatchSession {
  private constructor(
    readonly url: string,
    readonly id: string,
  ) {}

  static async open(url: string): Promise<BatchSession> {
    const init = await postMcp(url, {
      jsonrpc: '2.0',
      id: 'init',
      method: 'initialize',
      params: {
        protocolVersion: BATCH_VERSION,
        capabilities: {},
        clientInfo: { name: 'degradation', version: '1' },
      },
    });
    const id = init.headers.get('mcp-session-id');
    if (init.status !== 200 || id === null) throw new Error(`initialize: ${init.text}`);
    const session = new BatchSession(url, id);
    const ack = await session.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (ack.status !== 202) throw new Error(`notifications/initialized: ${ack.status}`);
    return session;
  }

  via(url: string): BatchSession {
    return new BatchSession(url, this.id);
  }

  post(body: unknown): Promise<McpHttpResponse> {
    return within(
      REFUSED_WITHIN_MS,
      `POST through ${this.url}`,
      postMcp(this.url, body, {
        'mcp-session-id': this.id,
        'mcp-protocol-version': BATCH_VERSION,
      }),
    );
  }
}

/** Every answer seen by the test: none may be a 500 or carry `id: null`. */
function recorder(): { seen: McpHttpResponse[]; check: () => void } {
  const seen: McpHttpResponse[] = [];
  return {
    seen,
    check() {
      for (const r of seen) {
        expect(r.status, r.text).not.toBe(500);
        for (const m of flatten(r.messages)) {
          if ('error' in m) expect(m.id, r.text).not.toBeNull();
          expect(m.error?.code, r.text).not.toBe(RpcError.InternalError.code);
        }
      }
    },
  };
}

function flatten(messages: readonly unknown[]): Message[] {
  return messages.flatMap((m) => (Array.isArray(m) ? (m as Message[]) : [m as Message]));
}

const call = (id: string): Record<string, unknown> => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: SIMPLE_CALL,
});

/** 503 + Retry-After, and exactly `ids` refused with -32016, each by its own id. */
function expectRefused(r: McpHttpResponse, ids: readonly string[]): void {
  expect(r.status, r.text).toBe(503);
  expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  const errors = flatten(r.messages);
  expect(errors.map((m) => m.id).sort()).toEqual([...ids].sort());
  for (const m of errors) expect(m.error?.code, r.text).toBe(RpcError.Unavailable.code);
}

describe('degradation while Redis is down', () => {
  it('modern, warm legacy sessions and batches keep working; what needs Redis is a 503 with ids', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mcp-degradation-'));
    const redis = new OwnRedis(await closedPort(), dir);
    try {
      await redis.start();
      await using cluster = new InProcessCluster();
      const { gateway } = await cluster.gatewayWithWorker({
        gateway: { redisUrl: redis.url },
        worker: { redisUrl: redis.url },
      });
      const g2 = await cluster.gateway({ redisUrl: redis.url });
      await workersReady(g2.url, 1);
      const url = gateway.url;
      const session = await BatchSession.open(url);
      const warmUp = await session.post([call('w-1'), call('w-2')]);
      expect(warmUp.status, warmUp.text).toBe(200);
      const task = await modernCall(url, 'tools/call', TASK_CALL, { capabilities: WITH_TASKS });
      expect(task.status, task.all.text).toBe(200);
      expect(task.response).toMatchObject({ result: { resultType: 'task' } });
      // In use just before the outage: the gateway's copy is current (a copy made stale by an
      // announced change is never served without the store).
      expect((await session.post(call('w-3'))).status).toBe(200);
      const { seen, check } = recorder();

      await redis.kill();

      // Modern requests need no session store.
      const modern = await modernCall(url, 'tools/call', SIMPLE_CALL, { id: 'm-1' });
      seen.push(modern.all);
      expect(modern.status, modern.all.text).toBe(200);
      expect(modern.response).toMatchObject({ id: 'm-1', result: expect.anything() as unknown });

      // The gateway holding the session serves it, a batch included.
      const single = await session.post(call('l-1'));

      seen.push(single);
      expect(single.status, single.text).toBe(200);
      expect(findResponse(single.messages, 'l-1')).toMatchObject({ result: expect.anything() });
      const batch = await session.post([call('b-1'), call('b-2')]);
      seen.push(batch);
      expect(batch.status, batch.text).toBe(200);
      expect(
        flatten(batch.messages)
          .map((m) => m.id)
          .sort(),
      ).toEqual(['b-1', 'b-2']);

      // What the worker must store (a subscription) cannot be: -32016 in-band (legacy JSON-RPC
      // errors travel in a 200), with its id and a retry hint, never -32603.
      const subscribe = await session.post({
        jsonrpc: '2.0',
        id: 's-1',
        method: 'resources/subscribe',
        params: { uri: 'test://static-text' },
      });
      seen.push(subscribe);
      expect(findResponse(subscribe.messages, 's-1'), subscribe.text).toMatchObject({
        error: { code: RpcError.Unavailable.code, data: { retryAfterMs: expect.any(Number) } },
      });

      // g2 holds no copy: the batch is refused, each request by its own id.
      const refusedBatch = await session
        .via(g2.url)
        .post([call('r-1'), { jsonrpc: '2.0', method: 'notifications/x' }, call('r-2')]);
      seen.push(refusedBatch);
      expectRefused(refusedBatch, ['r-1', 'r-2']);

      // A durable task is stored in Redis: refused, retryable, with its id.
      const refusedTask = await within(
        REFUSED_WITHIN_MS,
        'task creation while Redis is down',
        modernCall(url, 'tools/call', TASK_CALL, { id: 't-1', capabilities: WITH_TASKS }),
      );
      seen.push(refusedTask.all);
      expectRefused(refusedTask.all, ['t-1']);
      check();

      await redis.start();

      await eventually(
        'a batch through g2 succeeds once Redis is back',
        async () =>
          (await session.via(g2.url).post([call('a-1')])).status === 200 ? true : undefined,
        { timeoutMs: RECOVERED_WITHIN_MS, pollMs: 100 },
      );
      const again = await eventually(
        'a durable task is created once Redis is back',
        async () => {
          const r = await modernCall(url, 'tools/call', TASK_CALL, { capabilities: WITH_TASKS });
          return r.status === 200 ? r : undefined;
        },
        { timeoutMs: RECOVERED_WITHIN_MS, pollMs: 100 },
      );
      expect(again.response).toMatchObject({ result: expect.anything() as unknown });
    } finally {
      await redis.kill().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
