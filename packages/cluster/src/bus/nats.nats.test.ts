import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { createServer, connect as netConnect } from 'node:net';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus } from './create.js';
import { NatsEventBus } from './nats.js';
import type { BusEvent } from './subjects.js';
import { subjectFor } from './subjects.js';

const NATS_URL = process.env.MCP_TEST_NATS_URL;
if (NATS_URL === undefined || NATS_URL === '') {
  // Never skip: a missing service is a broken test environment.
  throw new Error(
    'MCP_TEST_NATS_URL is not set: start nats-server and set it (see packages/testkit)',
  );
}
const url: string = NATS_URL;

const uniquePrefix = (): string => `test.${randomBytes(6).toString('hex')}`;

function collector(until: (e: BusEvent) => boolean) {
  const events: BusEvent[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return {
    events,
    done,
    handler: (e: BusEvent): void => {
      events.push(e);
      if (until(e)) resolve();
    },
  };
}
const isDown = (e: BusEvent): boolean => e.type === 'worker.down';

describe('NatsEventBus (real NATS)', () => {
  it('fans out across connections to every subscriber, filtered by type and session', async () => {
    const prefix = uniquePrefix();
    await using pub = await createEventBus({ natsUrl: url, prefix, name: 'test-pub' });
    await using subBus = await NatsEventBus.connect({ url, prefix });
    expect(pub.kind).toBe('nats');
    const a = collector(isDown);
    const b = collector(isDown);
    const s1 = collector(isDown);
    await using _a = await subBus.subscribe({}, a.handler);
    await using _b = await pub.subscribe({ types: ['worker.up', 'worker.down'] }, b.handler);
    await using _s1 = await subBus.subscribe(
      { types: ['session.deliver', 'worker.down'], sessionId: 'sess.1' },
      s1.handler,
    );
    const events: BusEvent[] = [
      { type: 'worker.up', workerId: 'w1', url: 'http://127.0.0.1:1' },
      { type: 'session.deliver', sessionId: 'sess.1', message: { jsonrpc: '2.0', method: 'n' } },
      { type: 'session.deliver', sessionId: 'sess.2', message: { jsonrpc: '2.0', method: 'm' } },
      { type: 'session.cancel', sessionId: 'sess.1', requestId: 'r1' },
      { type: 'resources.updated', uri: 'file:///x' },
      { type: 'worker.down', workerId: 'w1' },
    ];
    for (const e of events) pub.publish(e);
    await Promise.all([a.done, b.done, s1.done]);
    expect(a.events).toEqual(events);
    expect(b.events).toEqual([events[0], events[5]]);
    expect(s1.events).toEqual([events[1], events[5]]);
  });

  it('drops and counts invalid payloads without disturbing the subscriber', async () => {
    const prefix = uniquePrefix();
    await using bus = await NatsEventBus.connect({ url, prefix });
    const got = collector(isDown);
    await using _s = await bus.subscribe({}, got.handler);
    // A foreign publisher on the same subjects, so ordering holds within its connection.
    const raw = await connect({ servers: url });
    try {
      raw.publish(subjectFor(prefix, 'worker.up'), 'not json');
      raw.publish(subjectFor(prefix, 'worker.up'), JSON.stringify({ type: 'worker.up' }));
      raw.publish(
        subjectFor(prefix, 'resources.updated'),
        JSON.stringify({ type: 'worker.down', workerId: 'x' }),
      );
      raw.publish(
        subjectFor(prefix, 'session.deliver', 's'),
        JSON.stringify({ type: 'session.deliver', sessionId: 's', message: { id: 1 } }),
      );
      raw.publish(
        subjectFor(prefix, 'worker.down'),
        JSON.stringify({ type: 'worker.down', workerId: 'w' }),
      );
      await got.done;
    } finally {
      await raw.close();
    }
    expect(got.events).toEqual([{ type: 'worker.down', workerId: 'w' }]);
    expect(bus.stats().invalid).toBe(4);
  });

  it('unsubscribe stops delivery; publish after close is a counted no-op', async () => {
    const prefix = uniquePrefix();
    const bus = await NatsEventBus.connect({ url, prefix });
    const gone = collector(() => false);
    const sentinel = collector(isDown);
    const sub = await bus.subscribe({ types: ['tools.list_changed'] }, gone.handler);
    await using _s = await bus.subscribe({ types: ['worker.down'] }, sentinel.handler);
    await sub.unsubscribe();
    bus.publish({ type: 'tools.list_changed', workerId: 'w' });
    bus.publish({ type: 'worker.down', workerId: 'w' });
    await sentinel.done;
    expect(gone.events).toEqual([]);
    await bus.close();
    await bus.close(); // idempotent
    expect(() => bus.publish({ type: 'tools.list_changed' })).not.toThrow();
    expect(bus.stats().publishFailed).toBe(1);
  });

  describe('when the connection drops', () => {
    // A TCP proxy in front of NATS lets the test cut the connection without touching the
    // shared server.
    const sockets = new Set<Socket>();
    const target = new URL(url);
    const proxy = createServer((client) => {
      const upstream = netConnect(Number(target.port || 4222), target.hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    beforeAll(() => new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r)));
    afterAll(() => {
      for (const s of sockets) s.destroy();
      if (proxy.listening) proxy.close();
    });

    it('publishing while disconnected does not throw, and delivery resumes after reconnect', async () => {
      const address = proxy.address();
      if (address === null || typeof address === 'string') throw new Error('no proxy port');
      const prefix = uniquePrefix();
      let onDisconnect!: () => void;
      const disconnected = new Promise<void>((r) => (onDisconnect = r));
      await using bus = await NatsEventBus.connect({
        url: `nats://127.0.0.1:${address.port}`,
        prefix,
        reconnectTimeWait: 20,
        onConnectionChange: (s) => {
          if (s === 'disconnected') onDisconnect();
        },
      });
      const got = collector(isDown);
      await using _s = await bus.subscribe({}, got.handler);
      for (const s of sockets) s.destroy();
      await disconnected;
      expect(bus.connected).toBe(false);
      expect(() => bus.publish({ type: 'worker.down', workerId: 'while-away' })).not.toThrow();
      await got.done; // buffered, resent after the reconnect, re-subscribed automatically
      expect(got.events).toEqual([{ type: 'worker.down', workerId: 'while-away' }]);
      expect(bus.connected).toBe(true);
      expect(bus.stats()).toMatchObject({ disconnects: 1, reconnects: 1 });
    });

    it('subscribe and close do not hang while NATS stays away', async () => {
      const address = proxy.address();
      if (address === null || typeof address === 'string') throw new Error('no proxy port');
      let onDisconnect!: () => void;
      const disconnected = new Promise<void>((r) => (onDisconnect = r));
      const bus = await NatsEventBus.connect({
        url: `nats://127.0.0.1:${address.port}`,
        prefix: uniquePrefix(),
        reconnectTimeWait: 20,
        onConnectionChange: (s) => {
          if (s === 'disconnected') onDisconnect();
        },
      });
      // Stop accepting, then cut: every reconnect attempt now fails.
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await disconnected;
      const sub = await bus.subscribe({}, () => undefined);
      bus.publish({ type: 'tools.list_changed' });
      await sub.unsubscribe();
      await bus.close();
      expect(bus.connected).toBe(false);
      expect(bus.stats().publishFailed).toBe(1); // the buffered hint, dropped at close
    });
  });
});
