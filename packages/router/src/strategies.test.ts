import { describe, expect, it } from 'vitest';
import { Router } from './router.js';
import { createStrategy, StrategyName } from './strategies.js';
import { RouterError } from './errors.js';
import { FakeClock, spec, wid } from './fakes.testkit.js';

function counts(router: Router, n: number, key?: (i: number) => string): Map<string, number> {
  const c = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const w = router.pick({ method: 'tools/list', clientKey: key?.(i) });
    c.set(w.id, (c.get(w.id) ?? 0) + 1);
  }
  return c;
}

function make(strategy: string, ids = ['a', 'b', 'c'], weights: number[] = []): Router {
  const r = new Router({ strategy, clock: new FakeClock() });
  ids.forEach((id, i) => r.pool.upsert(spec(id, { weight: weights[i] ?? 1 })));
  return r;
}

describe('createStrategy', () => {
  it('accepts every configured name and rejects others with a local error', () => {
    for (const name of Object.values(StrategyName)) expect(createStrategy(name).name).toBe(name);
    expect(() => createStrategy('random')).toThrow(RouterError);
    try {
      createStrategy('random');
    } catch (e) {
      expect((e as RouterError).code).toBe('UNKNOWN_STRATEGY');
    }
  });
});

describe('round robin', () => {
  it('cycles through workers in order, evenly', () => {
    const r = make('round-robin');
    const seq = Array.from({ length: 6 }, () => r.pick({ method: 'ping' }).id);
    expect(seq).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect([...counts(r, 300).values()]).toEqual([100, 100, 100]);
  });

  it('skips an ejected worker', () => {
    const r = make('round-robin');
    for (let i = 0; i < 5; i++) r.onFinish(wid('b'), false, 1);
    const c = counts(r, 100);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(50);
  });
});

describe('weighted round robin', () => {
  it('distributes exactly by weight and interleaves (smooth)', () => {
    const r = make('weighted-round-robin', ['a', 'b', 'c'], [5, 1, 1]);
    const seq = Array.from({ length: 7 }, () => r.pick({ method: 'ping' }).id);
    expect(seq.filter((x) => x === 'a')).toHaveLength(5);
    expect(seq).not.toEqual(['a', 'a', 'a', 'a', 'a', 'b', 'c']);
    const c = counts(r, 700);
    expect(c.get('a')).toBe(500);
    expect(c.get('b')).toBe(100);
    expect(c.get('c')).toBe(100);
  });
});

describe('least connections', () => {
  it('prefers the worker with fewest in-flight requests', () => {
    const r = make('least-connections');
    r.onStart(wid('a'));
    r.onStart(wid('a'));
    r.onStart(wid('b'));
    expect(r.pick({ method: 'ping' }).id).toBe('c');
    r.onStart(wid('c'));
    r.onStart(wid('c'));
    expect(r.pick({ method: 'ping' }).id).toBe('b');
    r.onFinish(wid('a'), true, 1);
    r.onFinish(wid('a'), true, 1);
    expect(r.pick({ method: 'ping' }).id).toBe('a');
  });

  it('spreads ties across equal workers and accounts for weight', () => {
    expect([...counts(make('least-connections'), 300).values()]).toEqual([100, 100, 100]);
    const r = make('least-connections', ['a', 'b'], [4, 1]);
    for (let i = 0; i < 3; i++) r.onStart(wid('a'));
    // a: 3/4 per unit of weight, b: 0 -> b; after b has 1: a 0.75 < b 1 -> a.
    expect(r.pick({ method: 'ping' }).id).toBe('b');
    r.onStart(wid('b'));
    expect(r.pick({ method: 'ping' }).id).toBe('a');
  });
});

describe('least response time', () => {
  it('tries unmeasured workers first, then prefers the fastest', () => {
    const r = make('least-response-time');
    r.onFinish(wid('a'), true, 50);
    r.onFinish(wid('b'), true, 5);
    expect(r.pick({ method: 'ping' }).id).toBe('c');
    r.onFinish(wid('c'), true, 20);
    const c = counts(r, 50);
    expect(c.get('b')).toBe(50);
  });

  it('smooths latency with an EWMA and weighs in-flight load', () => {
    const r = make('least-response-time', ['a', 'b']);
    r.onFinish(wid('a'), true, 10);
    r.onFinish(wid('b'), true, 30);
    expect(r.pool.get(wid('a'))?.latencyEwma).toBe(10);
    r.onFinish(wid('a'), true, 110); // 10 + 0.3 * 100
    expect(r.pool.get(wid('a'))?.latencyEwma).toBeCloseTo(40);
    expect(r.pick({ method: 'ping' }).id).toBe('b');
    r.onStart(wid('b')); // b: 30 * 2 = 60 > a: 40
    expect(r.pick({ method: 'ping' }).id).toBe('a');
  });
});

describe('consistent hash', () => {
  it('is deterministic per key, across router instances', () => {
    const r1 = make('consistent-hash');
    const r2 = make('consistent-hash', ['c', 'a', 'b']);
    for (let i = 0; i < 100; i++) {
      const key = `client-${i}`;
      const id = r1.pick({ method: 'ping', clientKey: key }).id;
      expect(r1.pick({ method: 'ping', clientKey: key }).id).toBe(id);
      expect(r2.pick({ method: 'ping', clientKey: key }).id).toBe(id);
    }
  });

  it('spreads keys roughly evenly and moves only the removed worker keys', () => {
    const r = make('consistent-hash', ['a', 'b', 'c', 'd']);
    const before = new Map<string, string>();
    for (let i = 0; i < 4000; i++)
      before.set(`k${i}`, r.pick({ method: 'ping', clientKey: `k${i}` }).id);
    const per = new Map<string, number>();
    for (const id of before.values()) per.set(id, (per.get(id) ?? 0) + 1);
    for (const n of per.values()) {
      expect(n).toBeGreaterThan(800);
      expect(n).toBeLessThan(1200);
    }
    r.removeWorker(wid('d'));
    for (const [k, id] of before) {
      const now = r.pick({ method: 'ping', clientKey: k }).id;
      if (id !== 'd') expect(now).toBe(id);
      else expect(now).not.toBe('d');
    }
  });

  it('honours weights and falls back to round robin without a key', () => {
    const r = make('consistent-hash', ['a', 'b'], [3, 1]);
    const c = counts(r, 4000, (i) => `user-${i}`);
    const share = (c.get('a') ?? 0) / 4000;
    expect(share).toBeGreaterThan(0.7);
    expect(share).toBeLessThan(0.8);
    const seq = Array.from({ length: 4 }, () => r.pick({ method: 'ping' }).id);
    expect(seq).toEqual(['a', 'b', 'a', 'b']);
  });
});

describe('client affinity', () => {
  it('sticks to the first worker chosen for a key and falls back when it is ejected', () => {
    const r = make('client-affinity');
    const first = r.pick({ method: 'ping', clientKey: 'alice' }).id;
    for (let i = 0; i < 10; i++) {
      r.onStart(first); // load would steer least-connections away; affinity must hold
      expect(r.pick({ method: 'ping', clientKey: 'alice' }).id).toBe(first);
    }
    for (let i = 0; i < 5; i++) r.onFinish(first, false, 1);
    const moved = r.pick({ method: 'ping', clientKey: 'alice' }).id;
    expect(moved).not.toBe(first);
    expect(r.pick({ method: 'ping', clientKey: 'alice' }).id).toBe(moved);
  });

  it('forgets affinity to a removed worker', () => {
    const r = make('client-affinity', ['a', 'b']);
    const first = r.pick({ method: 'ping', clientKey: 'bob' }).id;
    r.removeWorker(first);
    expect(r.pick({ method: 'ping', clientKey: 'bob' }).id).not.toBe(first);
  });
});
