/**
 * Per-message accounting and the batch cap: every message a request or frame carries beyond
 * what its admission paid for spends from the caller's budget (TransportGuard.spend), and a
 * batch longer than maxBatchLength is refused whole before any entry runs.
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolError } from '@mcp-cluster/protocol';
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import type { Caller, Engine } from '@mcp-cluster/server';
import { MessageConnection } from './connection.js';
import { MessageBudget } from './guard.js';
import type { MessageAdmission, TransportGuard } from './guard.js';
import { mcpTransports } from './plugin.js';
import { BASE_HEADERS, LEGACY_INIT, MODERN_META, modernHeaders, testEngine } from './testing.js';

const CALLER: Caller = { principal: { id: 'p1', kind: 'user', roles: [] }, remoteAddress: '::1' };

/** A budget of `tokens` messages; records who spent. */
function budgetGuard(tokens: number): TransportGuard & {
  spend: NonNullable<TransportGuard['spend']>;
  spent: string[];
  admitted: number;
} {
  let left = tokens;
  const guard = {
    spent: [] as string[],
    admitted: 0,
    admit: () => {
      guard.admitted++;
      return Promise.resolve({ ok: true as const, principal: CALLER.principal });
    },
    spend: (caller: Caller): Promise<MessageAdmission> => {
      guard.spent.push(caller.principal.id);
      if (left <= 0) {
        const error = ProtocolError.of('RateLimited', 'Rate limit exceeded', {
          retryAfterMs: 1500,
        });
        return Promise.resolve({ ok: false, error });
      }
      left--;
      return Promise.resolve({ ok: true });
    },
  };
  return guard;
}

/** The engine, counting what reaches it. */
function countingEngine(): { engine: Engine; requests: string[]; notifications: string[] } {
  const inner = testEngine();
  const requests: string[] = [];
  const notifications: string[] = [];
  const engine = Object.create(inner) as Engine;
  engine.handleRequest = (r, ctx) => {
    requests.push(r.method);
    return inner.handleRequest(r, ctx);
  };
  engine.handleNotification = (n, ctx) => {
    notifications.push(n.method);
    return inner.handleNotification(n, ctx);
  };
  engine.close = () => inner.close();
  return { engine, requests, notifications };
}

type Out = JsonRpcMessage | readonly JsonRpcMessage[];

/** A message connection whose output is collected; `next` waits for the following one. */
function connection(
  engine: Engine,
  options: Partial<ConstructorParameters<typeof MessageConnection>[2]> = {},
): { conn: MessageConnection; next: () => Promise<Out> } {
  const out: Out[] = [];
  const waiters: (() => void)[] = [];
  const conn = new MessageConnection(
    engine,
    (m) => {
      out.push(m);
      for (const w of waiters.splice(0)) w();
    },
    { maxJsonDepth: 16, caller: CALLER, ...options },
  );
  let cursor = 0;
  const next = async (): Promise<Out> => {
    while (cursor >= out.length) await new Promise<void>((r) => waiters.push(r));
    return out[cursor++]!;
  };
  return { conn, next };
}

const ping = (id: number | string) => ({ jsonrpc: '2.0', id, method: 'ping' });
const INIT_0326 = {
  ...LEGACY_INIT,
  params: { ...LEGACY_INIT.params, protocolVersion: '2025-03-26' },
};

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('MessageBudget', () => {
  it('lets prepaid messages through at once, then spends in order', async () => {
    const guard = budgetGuard(1);
    const budget = new MessageBudget(guard, CALLER, 1);
    expect(budget.claim()).toBeUndefined();
    const second = budget.claim();
    const third = budget.claim();
    expect(await second).toBeUndefined();
    expect(await third).toMatchObject({ code: -32012, data: { retryAfterMs: 1500 } });
    expect(guard.spent).toEqual(['p1', 'p1']);
  });

  it('a budget that cannot be checked refuses with -32016', async () => {
    const down = { spend: () => Promise.reject(new Error('redis down')) };
    const budget = new MessageBudget(down, CALLER, 0);
    expect(await budget.claim()).toMatchObject({ code: -32016 });
  });
});

describe('message connections (WebSocket, /messages) spend per message', () => {
  it('every frame spends; over the budget a request gets -32012 and a notification is dropped', async () => {
    const { engine, requests, notifications } = countingEngine();
    close = () => engine.close();
    const guard = budgetGuard(3);
    const { conn, next } = connection(engine, { guard });
    conn.receiveValue(INIT_0326);
    expect(await next()).toMatchObject({ id: 1, result: {} });
    conn.receiveValue({ jsonrpc: '2.0', method: 'notifications/initialized' });
    conn.receiveValue(ping(2));
    expect(await next()).toMatchObject({ id: 2, result: {} });
    // Three tokens spent: the next request is refused in-band, the notification dropped.
    conn.receiveValue({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' });
    conn.receiveValue(ping(3));
    expect(await next()).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: { code: -32012, message: 'Rate limit exceeded', data: { retryAfterMs: 1500 } },
    });
    expect(requests).toEqual(['initialize', 'ping']);
    expect(notifications).toEqual(['notifications/initialized']);
    expect(guard.spent).toHaveLength(5);
    conn.close();
  });

  it('batch entries spend one each, in order; the refused ones are answered in the batch', async () => {
    const { engine, requests } = countingEngine();
    close = () => engine.close();
    const guard = budgetGuard(4);
    const { conn, next } = connection(engine, { guard });
    conn.receiveValue(INIT_0326);
    await next();
    // 3 tokens left; `prepaid` 1 (a /messages POST's admission paid for its first message).
    conn.receiveValue(
      [
        ping('a'),
        ping('b'),
        { jsonrpc: '2.0', id: 'r', result: {} },
        ping('c'),
        ping('d'),
        ping('e'),
        { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
      ],
      1,
    );
    const batch = (await next()) as unknown as {
      id: string;
      result?: unknown;
      error?: { code: number };
    }[];
    expect(batch.map((m) => [m.id, m.result === undefined ? m.error?.code : 'ok'])).toEqual([
      ['a', 'ok'],
      ['b', 'ok'],
      ['c', 'ok'],
      ['d', 'ok'],
      ['e', -32012],
    ]);
    // A response spends nothing; the prepaid ping neither: 4 pings + 1 notification spent.
    expect(guard.spent).toHaveLength(1 + 5);
    expect(requests.filter((m) => m === 'ping')).toHaveLength(4);
    conn.close();
  });

  it('a frame that is not valid JSON-RPC costs one token, unless its request paid for it', async () => {
    const { engine } = countingEngine();
    close = () => engine.close();
    const guard = budgetGuard(100);
    const { conn, next } = connection(engine, { guard });
    conn.receiveText('{"jsonrpc":');
    expect(await next()).toMatchObject({ id: null, error: { code: -32700 } });
    conn.receiveValue({ jsonrpc: '1.0', id: 7, method: 'ping' });
    expect(await next()).toMatchObject({ id: 7, error: { code: -32600 } });
    expect(guard.spent).toHaveLength(2);
    // A /messages POST's admission already paid for what it carries.
    conn.receiveValue({ jsonrpc: '1.0', id: 8, method: 'ping' }, 1);
    expect(await next()).toMatchObject({ id: 8, error: { code: -32600 } });
    expect(guard.spent).toHaveLength(2);
    conn.close();
  });

  it('without a guard nothing is counted (stdio, in-memory)', async () => {
    const { engine } = countingEngine();
    close = () => engine.close();
    const { conn, next } = connection(engine);
    conn.receiveValue(INIT_0326);
    await next();
    conn.receiveValue(Array.from({ length: 100 }, (_, i) => ping(i)));
    expect((await next()) as unknown[]).toHaveLength(100);
    conn.close();
  });

  it('a batch over maxBatchLength is refused in-band (id null) before any entry runs', async () => {
    const { engine, requests } = countingEngine();
    close = () => engine.close();
    const guard = budgetGuard(100);
    const { conn, next } = connection(engine, { guard, maxBatchLength: 3 });
    conn.receiveValue(INIT_0326);
    await next();
    const spent = guard.spent.length;
    conn.receiveValue([ping(1), ping(2), ping(3), ping(4)]);
    expect(await next()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32600,
        message: 'batch of 4 messages exceeds the limit of 3 messages per batch',
      },
    });
    expect(requests).toEqual(['initialize']);
    // The frame costs one token, as any frame that carries no valid message does.
    expect(guard.spent).toHaveLength(spent + 1);
    conn.receiveValue([ping(1), ping(2), ping(3)]);
    expect((await next()) as unknown[]).toHaveLength(3);
    conn.close();
  });

  it('the default cap applies when none is given', async () => {
    const { engine } = countingEngine();
    close = () => engine.close();
    const { conn, next } = connection(engine);
    conn.receiveValue(INIT_0326);
    await next();
    conn.receiveValue(Array.from({ length: 101 }, (_, i) => ping(i)));
    expect(await next()).toMatchObject({ id: null, error: { code: -32600 } });
    conn.close();
  });
});

describe('Streamable HTTP spends per message', () => {
  async function app(
    guard: TransportGuard,
    maxBatchLength = 5,
  ): Promise<{ app: FastifyInstance; requests: string[]; notifications: string[] }> {
    const counted = countingEngine();
    const a = Fastify({ logger: false });
    await a.register(mcpTransports, {
      engine: counted.engine,
      settings: { maxBatchLength },
      guard,
    });
    a.addHook('onClose', () => counted.engine.close());
    close = () => a.close();
    return { app: a, requests: counted.requests, notifications: counted.notifications };
  }
  const post = (a: FastifyInstance, payload: unknown, headers: Record<string, string>) =>
    a.inject({ method: 'POST', url: '/mcp', headers, payload: JSON.stringify(payload) });

  async function session(a: FastifyInstance): Promise<Record<string, string>> {
    const res = await post(a, INIT_0326, { ...BASE_HEADERS });
    expect(res.statusCode).toBe(200);
    return { ...BASE_HEADERS, 'mcp-session-id': String(res.headers['mcp-session-id']) };
  }

  it("a single message is paid for by its request's admission: nothing more is spent", async () => {
    const guard = budgetGuard(0);
    const { app: a } = await app(guard);
    const headers = await session(a);
    expect((await post(a, ping(2), headers)).json()).toMatchObject({ id: 2, result: {} });
    const modern = await post(
      a,
      { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: MODERN_META } },
      modernHeaders('tools/list'),
    );
    expect(modern.statusCode).toBe(200);
    expect(guard.spent).toEqual([]);
    expect(guard.admitted).toBe(3);
  });

  it('a batch: the first entry is prepaid, each other one spends; over the budget -32012 in-band', async () => {
    const guard = budgetGuard(2);
    const { app: a, requests, notifications } = await app(guard);
    const headers = await session(a);
    const res = await post(
      a,
      [ping(1), ping(2), ping(3), ping(4), { jsonrpc: '2.0', method: 'notifications/initialized' }],
      headers,
    );
    expect(res.statusCode).toBe(200);
    const body =
      res.json<{ id: number; result?: unknown; error?: { code: number; data: unknown } }[]>();
    expect(body.filter((m) => m.result !== undefined).map((m) => m.id)).toEqual([1, 2, 3]);
    expect(body.filter((m) => m.error !== undefined)).toEqual([
      {
        jsonrpc: '2.0',
        id: 4,
        error: { code: -32012, message: 'Rate limit exceeded', data: { retryAfterMs: 1500 } },
      },
    ]);
    // The notification came after the budget: dropped before the engine.
    expect(notifications).toEqual([]);
    expect(requests.filter((m) => m === 'ping')).toHaveLength(3);
    expect(guard.spent).toHaveLength(4);
  });

  it('a batch over maxBatchLength is 400 / -32600 naming the limit; nothing runs or spends', async () => {
    const guard = budgetGuard(100);
    const { app: a, requests } = await app(guard, 3);
    const headers = await session(a);
    const res = await post(a, [ping(1), ping(2), ping(3), ping(4)], headers);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32600,
        message: 'batch of 4 messages exceeds the limit of 3 messages per batch',
      },
    });
    expect(requests).toEqual(['initialize']);
    expect(guard.spent).toEqual([]);
  });
});
