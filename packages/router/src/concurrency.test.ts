import { describe, expect, it } from 'vitest';
import { Router } from './router.js';
import { RouterError } from './errors.js';
import { StrategyName } from './strategies.js';
import type { WorkerId } from './types.js';
import { FakeClock, MemoryPins, spec, wid } from './fakes.testkit.js';

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof RouterError) return e.reason;
    throw e;
  }
  return undefined;
}

async function reasonOfAsync(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RouterError) return e.reason;
    throw e;
  }
  return undefined;
}

describe('per-worker concurrency limits', () => {
  it('skips a worker at its published limit and throws saturated when all are full', () => {
    const r = new Router({ clock: new FakeClock() });
    r.pool.upsert(spec('a', { maxConcurrency: 1 }));
    r.pool.upsert(spec('b', { maxConcurrency: 2 }));
    const picked: string[] = [];
    for (let i = 0; i < 3; i++) {
      const w = r.pick({ method: 'tools/list' });
      r.onStart(w.id);
      picked.push(w.id);
    }
    expect(picked.sort()).toEqual(['a', 'b', 'b']);
    expect(reasonOf(() => r.pick({ method: 'tools/list' }))).toBe('saturated');
    r.onFinish(wid('a'), true, 1);
    expect(r.pick({ method: 'tools/list' }).id).toBe('a');
  });

  it('uses the router default for a worker that publishes none; 0 is unlimited', () => {
    const r = new Router({ clock: new FakeClock(), maxConcurrency: 2 });
    r.pool.upsert(spec('a'));
    r.pool.upsert(spec('u', { maxConcurrency: 0 }));
    for (let i = 0; i < 2; i++) r.onStart(wid('a'));
    expect(r.pool.get(wid('a'))?.maxConcurrency).toBe(2);
    for (let i = 0; i < 100; i++) {
      const w = r.pick({ method: 'ping' });
      expect(w.id).toBe('u');
      r.onStart(w.id);
    }
    // A record that starts publishing a limit replaces the default.
    r.pool.upsert(spec('a', { maxConcurrency: 3 }));
    expect(r.pool.get(wid('a'))?.maxConcurrency).toBe(3);
  });

  it('tells no-healthy from saturated', () => {
    const clock = new FakeClock();
    const r = new Router({ clock, maxConcurrency: 1 });
    r.pool.upsert(spec('a'));
    r.pool.upsert(spec('b'));
    r.onStart(wid('a'));
    r.hold(wid('b'), true);
    expect(reasonOf(() => r.pick({ method: 'ping' }))).toBe('saturated');
    r.hold(wid('a'), true);
    expect(reasonOf(() => r.pick({ method: 'ping' }))).toBe('no-healthy');
  });

  it('is saturated among the owners of a name even when other workers are free', () => {
    const r = new Router({ clock: new FakeClock() });
    r.pool.upsert(spec('a', { maxConcurrency: 1, owns: { tools: ['slow'] } }));
    r.pool.upsert(spec('b', { maxConcurrency: 1 }));
    r.onStart(wid('a'));
    expect(reasonOf(() => r.pick({ method: 'tools/call', name: 'slow' }))).toBe('saturated');
    expect(r.pick({ method: 'ping' }).id).toBe('b');
  });

  it('reports a freed slot only for a worker that was full', () => {
    const freed: WorkerId[] = [];
    const r = new Router({ clock: new FakeClock(), onSlotFree: (id) => freed.push(id) });
    r.pool.upsert(spec('a', { maxConcurrency: 2 }));
    r.onStart(wid('a'));
    r.onFinish(wid('a'), true, 1);
    expect(freed).toEqual([]);
    r.onStart(wid('a'));
    r.onStart(wid('a'));
    r.onFinish(wid('a'), false, 1);
    expect(freed).toEqual(['a']);
    r.hold(wid('a'), true);
    r.hold(wid('a'), false);
    expect(freed).toEqual(['a', 'a']);
  });

  it('applies to every strategy', () => {
    for (const strategy of Object.values(StrategyName)) {
      const r = new Router({ clock: new FakeClock(), strategy, maxConcurrency: 1 });
      r.pool.upsert(spec('a'));
      r.pool.upsert(spec('b'));
      for (let i = 0; i < 2; i++) r.onStart(r.pick({ method: 'ping', clientKey: 'k' }).id);
      expect(
        reasonOf(() => r.pick({ method: 'ping', clientKey: 'k' })),
        strategy,
      ).toBe('saturated');
    }
  });

  it('keeps a legacy session on its full worker (saturated) instead of re-pinning it', async () => {
    const pins = new MemoryPins();
    const r = new Router({ clock: new FakeClock(), pins, maxConcurrency: 1 });
    r.pool.upsert(spec('a'));
    r.pool.upsert(spec('b'));
    pins.map.set('s1', wid('a'));
    r.onStart(wid('a'));
    expect(await reasonOfAsync(r.route({ method: 'tools/call', sessionId: 's1' }))).toBe(
      'saturated',
    );
    expect(pins.map.get('s1')).toBe('a');
    r.onFinish(wid('a'), true, 1);
    expect((await r.route({ method: 'tools/call', sessionId: 's1' })).worker.id).toBe('a');
  });

  it('rejects a bad limit', () => {
    expect(() => new Router({ maxConcurrency: -1 })).toThrow(RouterError);
    const r = new Router();
    expect(() => r.pool.upsert(spec('a', { maxConcurrency: 1.5 }))).toThrow(RouterError);
  });
});

describe('one-way messages', () => {
  it('reach a legacy session on its full worker', async () => {
    const pins = new MemoryPins();
    const r = new Router({ clock: new FakeClock(), pins, maxConcurrency: 1 });
    r.pool.upsert(spec('a'));
    pins.map.set('s1', wid('a'));
    r.onStart(wid('a'));
    const d = await r.route({ method: 'notifications/initialized', sessionId: 's1', oneWay: true });
    expect(d.worker.id).toBe('a');
  });
});
