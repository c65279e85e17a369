/**
 * The gateway while Redis is down, on a Redis of this test's own (the shared one is never
 * stopped): a request that needs the session store is refused with 503, Retry-After and
 * -32016 carrying its id (never 500 / `id: null`); modern requests, which need no session,
 * keep flowing; once Redis is back (same port, same data) everything works again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RpcError } from '@mcp-cluster/protocol';
import {
  LEGACY_VERSION,
  LegacySession,
  closedPort,
  eventually,
  findResponse,
  modernCall,
  postMcp,
  textOf,
  within,
  workersReady,
} from '@mcp-cluster/test-support';
import type { McpHttpResponse } from '@mcp-cluster/test-support';
import { describe, expect, it } from 'vitest';
import { InProcessCluster } from './in-process.test-support.js';
import { OwnRedis } from './own-servers.test-support.js';
import { SESSION_CACHE_MS } from './sessions.js';

const SIMPLE_CALL = { name: 'test_simple_text', arguments: {} };
/** Bound on one refused request: a few reconnects or the command timeout, not a hang. */
const REFUSED_WITHIN_MS = 10_000;
/** Bound on the cluster serving again once Redis is back (ioredis reconnect backoff). */
const RECOVERED_WITHIN_MS = 20_000;
/** Pause between calls on the warm session (not a wait for anything). */
const PACE_MS = 100;

/** The answer must be a retryable refusal of request `id`: 503, Retry-After, -32016. */
function expectUnavailable(all: McpHttpResponse, id: string | number | null): void {
  expect(all.status, all.text).toBe(503);
  expect(Number(all.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(all.messages).toEqual([
    {
      jsonrpc: '2.0',
      id,
      error: expect.objectContaining({
        code: RpcError.Unavailable.code,
        message: 'Session store unavailable',
      }) as unknown,
    },
  ]);
}

/** A raw request with the session's headers (DELETE, GET), read whole. */
async function sessionRequest(
  session: LegacySession,
  method: 'DELETE' | 'GET',
): Promise<McpHttpResponse> {
  const res = await fetch(session.url, {
    method,
    headers: session.headers(method === 'GET' ? { accept: 'text/event-stream' } : {}),
    signal: AbortSignal.timeout(REFUSED_WITHIN_MS),
  });
  const text = await res.text();
  const messages: unknown[] = text === '' ? [] : [JSON.parse(text) as unknown];
  return { status: res.status, headers: res.headers, contentType: '', messages, text };
}

async function legacyInitialize(url: string, id: number): Promise<McpHttpResponse> {
  return postMcp(url, {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion: LEGACY_VERSION,
      capabilities: {},
      clientInfo: { name: 't', version: '1' },
    },
  });
}

describe('gateway while Redis is down', () => {
  it('refuses what needs Redis with 503 + Retry-After + id, serves modern calls, recovers', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mcp-redis-down-'));
    const redis = new OwnRedis(await closedPort(), dir);
    try {
      await redis.start();
      await using cluster = new InProcessCluster();
      const { gateway } = await cluster.gatewayWithWorker({
        gateway: { redisUrl: redis.url },
        worker: { redisUrl: redis.url },
      });
      // A second gateway that holds no copy of the sessions: it must read the store.
      const g2 = await cluster.gateway({ redisUrl: redis.url });
      await workersReady(g2.url, 1);
      const url = gateway.url;
      const session = await LegacySession.open(url);
      const ending = await LegacySession.open(url);
      expect(textOf(await session.call('tools/call', SIMPLE_CALL))).toBeDefined();

      await redis.kill();

      // Modern requests carry everything in themselves: no session store on their way.
      for (let i = 0; i < 3; i++) {
        const modern = await modernCall(url, 'tools/call', SIMPLE_CALL, { id: `m-${i}` });
        expect(modern.status, modern.all.text).toBe(200);
        expect(modern.response).toMatchObject({
          id: `m-${i}`,
          result: expect.anything() as unknown,
        });
      }

      // The session used through g1 is served from g1's copy: while it is fresh
      // (SESSION_CACHE_MS) as always, and after that because the store cannot answer.
      const started = Date.now();
      for (let i = 0; Date.now() - started < 2 * SESSION_CACHE_MS; i++) {
        const id = `warm-${i}`;
        const warm = await within(
          REFUSED_WITHIN_MS,
          'legacy call on the warm session',
          session.send({ jsonrpc: '2.0', id, method: 'tools/call', params: SIMPLE_CALL }),
        );
        expect(warm.status, warm.text).toBe(200);
        expect(findResponse(warm.messages, id)).toMatchObject({ result: expect.anything() });
        // Paces the calls across the cache age (a few per SESSION_CACHE_MS are enough).
        await new Promise((resolve) => setTimeout(resolve, PACE_MS));
      }

      // Through g2, which holds no copy of the session, the call needs the store.
      const call = await within(
        REFUSED_WITHIN_MS,
        'legacy call through g2',
        session.via(g2.url).send({
          jsonrpc: '2.0',
          id: 'legacy-1',
          method: 'tools/call',
          params: SIMPLE_CALL,
        }),
      );
      expectUnavailable(call, 'legacy-1');
      const init = await within(REFUSED_WITHIN_MS, 'initialize', legacyInitialize(url, 77));
      expectUnavailable(init, 77);
      expect(init.headers.get('mcp-session-id')).toBeNull();
      // DELETE and GET carry no JSON-RPC id: null is their only id.
      expectUnavailable(await sessionRequest(ending, 'DELETE'), null);
      expectUnavailable(await sessionRequest(session.via(g2.url), 'GET'), null);

      await redis.start();

      // ioredis reconnects by itself: the session, still stored, serves again.
      await eventually(
        'a legacy call succeeds once Redis is back',
        async () =>
          (await session.request('tools/call', SIMPLE_CALL)).status === 200 ? true : undefined,
        { timeoutMs: RECOVERED_WITHIN_MS, pollMs: 100 },
      );
      expect(textOf(await session.call('tools/call', SIMPLE_CALL))).toBeDefined();
      // The DELETE refused above was not taken as done: the session ends now.
      expect(await ending.end()).toBe(204);
      expect(textOf(await session.via(g2.url).call('tools/call', SIMPLE_CALL))).toBeDefined();
      const fresh = await LegacySession.open(url);
      expect(textOf(await fresh.call('tools/call', SIMPLE_CALL))).toBeDefined();
      expect(await fresh.end()).toBe(204);
      expect((await modernCall(url, 'tools/call', SIMPLE_CALL)).status).toBe(200);
      await session.close();
    } finally {
      await redis.kill().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
