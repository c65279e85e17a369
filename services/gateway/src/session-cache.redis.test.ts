/**
 * The gateway's cached copy of a legacy session (real Redis + NATS): requests on a session
 * served here read nothing from the session store while the copy is fresh, and what another
 * node changed (a level set, a DELETE, a re-pin) is announced on the bus and seen by the next
 * request here.
 */
import type { SessionStore } from '@mcp-cluster/cluster';
import { RpcError } from '@mcp-cluster/protocol';
import { describe, expect, it } from 'vitest';
import { LegacySession, eventually, textOf, workersReady } from '@mcp-cluster/test-support';
import { InProcessCluster } from './in-process.test-support.js';
import { startGateway } from './gateway.js';
import { SESSION_CACHE_MS } from './sessions.js';
import { announcingState } from './test-fixtures/announcing-state.js';

/** Requests sent on a warm session; at most one store read per cache age is allowed. */
const REQUESTS = 20;

const SIMPLE_CALL = { name: 'test_simple_text', arguments: {} };

/** The store, counting reads of a session record or pin (the reads a request may cost). */
function countingReads(store: SessionStore): { store: SessionStore; reads: () => number } {
  let reads = 0;
  const counted = new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        if (prop === 'get' || prop === 'getPin') reads++;
        return method.apply(target, args);
      };
    },
  });
  return { store: counted, reads: () => reads };
}

const logMessages = (messages: readonly unknown[]): unknown[] =>
  messages.filter((m) => (m as { method?: unknown }).method === 'notifications/message');

describe('gateway session cache', () => {
  it('requests on a warm legacy session read nothing from the session store', async () => {
    await using cluster = new InProcessCluster();
    let counter: ReturnType<typeof countingReads> | undefined;
    const gateway = await startGateway(cluster.config(), cluster.log, {
      wrapSessionStore: (store) => (counter = countingReads(store)).store,
    });
    try {
      await cluster.worker();
      await workersReady(gateway.url, 1);
      if (counter === undefined) throw new Error('the gateway did not use the wrapped store');
      const reads = counter.reads;
      const session = await LegacySession.open(gateway.url);
      // Warm: the writes of initialize are announced; once seen, a request reads nothing.
      await eventually('a request served from the cached session', async () => {
        const before = reads();
        await session.call('tools/call', SIMPLE_CALL);
        return reads() === before ? true : undefined;
      });

      const before = reads();
      const started = Date.now();
      for (let i = 0; i < REQUESTS; i++) {
        expect(textOf(await session.call('tools/call', SIMPLE_CALL))).toBeDefined();
      }
      const elapsed = Date.now() - started;
      // The cache age bounds a copy's life: at most one re-read per SESSION_CACHE_MS, plus
      // one for the copy the loop started with (it may have been almost that old already).
      // Without the cache every one of the REQUESTS would read.
      expect(reads() - before).toBeLessThanOrEqual(Math.floor(elapsed / SESSION_CACHE_MS) + 1);
      expect(reads() - before).toBeLessThan(REQUESTS);
      await session.close();
    } finally {
      await gateway.close();
    }
  });

  it('a level set and a DELETE through g2 are seen by g1 on its next request', async () => {
    await using cluster = new InProcessCluster();
    const g1 = await cluster.gateway();
    const g2 = await cluster.gateway();
    await cluster.worker();
    await Promise.all([workersReady(g1.url, 1), workersReady(g2.url, 1)]);

    const session = await LegacySession.open(g1.url);
    const logging = { name: 'test_tool_with_logging', arguments: {} };
    const before = await session.request('tools/call', logging);
    expect(logMessages(before.all.messages)).not.toEqual([]);

    await session.via(g2.url).call('logging/setLevel', { level: 'error' });
    const after = await session.request('tools/call', logging);
    expect(textOf(after.response?.['result'])).toMatch(/executed successfully/);
    // The tool logs at info: below the level set through g2.
    expect(logMessages(after.all.messages)).toEqual([]);

    expect(await session.via(g2.url).end()).toBe(204);
    const reused = await session.request('tools/list');
    expect(reused.status).toBe(404);
    expect(reused.all.messages).toEqual([
      expect.objectContaining({
        error: expect.objectContaining({ code: RpcError.SessionNotFound.code }),
      }),
    ]);
  });

  it('a re-pin made by another node is followed by g1, though its old worker is healthy', async () => {
    await using cluster = new InProcessCluster();
    const g1 = await cluster.gateway();
    const workers = [
      await cluster.worker({ nodeId: 'w-1' }),
      await cluster.worker({ nodeId: 'w-2' }),
    ];
    await workersReady(g1.url, 2);
    await using state = await announcingState(cluster);

    const session = await LegacySession.open(g1.url);
    await session.call('tools/call', SIMPLE_CALL);
    const pin = await state.sessions.getPin(session.id);
    const next = workers.find((w) => w.id !== pin);
    if (next === undefined) throw new Error(`no worker besides the pinned ${String(pin)}`);
    expect(next.engine.sessions.get(session.id)).toBeUndefined();

    // What a gateway does when it finds the pinned worker gone: compare-and-set the pin.
    expect(await state.sessions.setPin(session.id, next.id, pin)).toBe(true);
    await session.call('tools/call', SIMPLE_CALL);
    expect(next.engine.sessions.get(session.id)).toBeDefined();
    expect(await state.sessions.getPin(session.id)).toBe(next.id);
  });
});
