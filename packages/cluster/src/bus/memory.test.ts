import { describe, expect, it } from 'vitest';
import { createEventBus } from './create.js';
import { MemoryEventBus } from './memory.js';
import type { BusEvent } from './subjects.js';
import { BusEventType } from './subjects.js';
import type { EventBus } from './types.js';

/** Collects events and resolves when one matching `until` arrives (no sleeps). */
function collector(until: (e: BusEvent) => boolean) {
  const events: BusEvent[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const handler = (e: BusEvent): void => {
    events.push(e);
    if (until(e)) resolve();
  };
  return { events, done, handler };
}

const isDown = (e: BusEvent): boolean => e.type === BusEventType.WorkerDown;

describe('MemoryEventBus', () => {
  it('createEventBus without a URL gives the memory bus', async () => {
    await using bus = await createEventBus({});
    expect(bus.kind).toBe('memory');
    await expect(createEventBus({ prefix: 'bad prefix' })).rejects.toThrow(TypeError);
  });

  it('fans out to every matching subscriber, asynchronously', async () => {
    await using bus: EventBus = new MemoryEventBus();
    const a = collector(isDown);
    const b = collector(isDown);
    await using _a = await bus.subscribe({}, a.handler);
    await using _b = await bus.subscribe(
      { types: [BusEventType.WorkerUp, 'worker.down'] },
      b.handler,
    );
    bus.publish({ type: BusEventType.WorkerUp, workerId: 'w1', url: 'http://w1' });
    expect(a.events).toEqual([]); // not re-entrant
    bus.publish({ type: BusEventType.WorkerDown, workerId: 'w1' });
    await Promise.all([a.done, b.done]);
    expect(a.events.map((e) => e.type)).toEqual(['worker.up', 'worker.down']);
    expect(b.events).toEqual(a.events);
    expect(bus.stats()).toMatchObject({ published: 2, delivered: 4 });
  });

  it('filters by type and by session id', async () => {
    await using bus = new MemoryEventBus();
    const s1 = collector(isDown);
    const all = collector(isDown);
    const sentinel = collector(isDown);
    await using _1 = await bus.subscribe(
      {
        types: [BusEventType.SessionDeliver, BusEventType.SessionCancel, 'worker.down'],
        sessionId: 's1',
      },
      s1.handler,
    );
    await using _all = await bus.subscribe(
      { types: [BusEventType.SessionDeliver, 'worker.down'] },
      all.handler,
    );
    await using _s = await bus.subscribe({ types: ['worker.down'] }, sentinel.handler);
    const m1: BusEvent = {
      type: 'session.deliver',
      sessionId: 's1',
      message: { jsonrpc: '2.0', method: 'x' },
    };
    const m2: BusEvent = {
      type: 'session.deliver',
      sessionId: 's2',
      message: { jsonrpc: '2.0', method: 'y' },
    };
    const c1: BusEvent = { type: 'session.cancel', sessionId: 's1', requestId: 7 };
    bus.publish(m1);
    bus.publish(m2);
    bus.publish(c1);
    bus.publish({ type: 'resources.updated', uri: 'file:///a' });
    bus.publish({ type: 'worker.down', workerId: 'w' });
    await Promise.all([s1.done, all.done, sentinel.done]);
    expect(s1.events).toEqual([m1, c1, { type: 'worker.down', workerId: 'w' }]);
    expect(all.events).toEqual([m1, m2, { type: 'worker.down', workerId: 'w' }]);
  });

  it('unsubscribe stops delivery, even for events already published', async () => {
    await using bus = new MemoryEventBus();
    const gone = collector(() => false);
    const sentinel = collector(isDown);
    const sub = await bus.subscribe({}, gone.handler);
    await using _s = await bus.subscribe({}, sentinel.handler);
    bus.publish({ type: 'tools.list_changed' });
    await sub.unsubscribe();
    await sub.unsubscribe(); // idempotent
    bus.publish({ type: 'worker.down', workerId: 'w' });
    await sentinel.done;
    expect(gone.events).toEqual([]);
  });

  it('handler failures are counted and never reach the publisher or other subscribers', async () => {
    await using bus = new MemoryEventBus();
    const ok = collector(isDown);
    await using _t = await bus.subscribe({}, () => {
      throw new Error('boom');
    });
    await using _r = await bus.subscribe({}, () => Promise.reject(new Error('async boom')));
    await using _o = await bus.subscribe({}, ok.handler);
    expect(() => bus.publish({ type: 'worker.down', workerId: 'w' })).not.toThrow();
    await ok.done;
    await Promise.resolve(); // let the rejected handler's catch run
    expect(bus.stats().handlerErrors).toBe(2);
  });

  it('publish after close is a counted no-op; subscribe after close rejects', async () => {
    const bus = new MemoryEventBus();
    await bus.close();
    expect(() => bus.publish({ type: 'tools.list_changed' })).not.toThrow();
    expect(bus.stats().publishFailed).toBe(1);
    await expect(bus.subscribe({}, () => undefined)).rejects.toThrow('closed');
  });
});
