import { describe, expect, it } from 'vitest';
import { Router } from './router.js';
import { RouterError } from './errors.js';
import type { WorkerView } from './types.js';
import { FakeClock, MemoryPins, spec, wid } from './fakes.testkit.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof RouterError) return `${e.code}:${e.reason ?? ''}`;
    throw e;
  }
  return undefined;
}

async function codeOfAsync(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RouterError) return `${e.code}:${e.reason ?? ''}`;
    throw e;
  }
  return undefined;
}

/** Matches `prefix{var}` templates only: enough to prove the matcher is used. */
const prefixMatcher = (template: string, uri: string): boolean => {
  const i = template.indexOf('{');
  return i >= 0 && uri.startsWith(template.slice(0, i)) && uri.length > i;
};

function ownershipRouter(): Router {
  const r = new Router({ clock: new FakeClock(), matchTemplate: prefixMatcher });
  r.pool.upsert(
    spec('a', { owns: { tools: ['echo', 'add'], prompts: ['greet'], resources: ['file:///a'] } }),
  );
  r.pool.upsert(spec('b', { owns: { tools: ['echo'], resourceTemplates: ['db://rows/{id}'] } }));
  r.pool.upsert(spec('c', { owns: { resourceTemplates: ['db://rows/{id}', 'mem://{k}'] } }));
  return r;
}

describe('ownership routing', () => {
  it('routes tools/call, prompts/get and resources/* to owners only', () => {
    const r = ownershipRouter();
    const ids = (method: string, name: string): string[] =>
      [...new Set(Array.from({ length: 6 }, () => r.pick({ method, name }).id))].sort();
    expect(ids('tools/call', 'echo')).toEqual(['a', 'b']);
    expect(ids('tools/call', 'add')).toEqual(['a']);
    expect(ids('prompts/get', 'greet')).toEqual(['a']);
    expect(ids('resources/read', 'file:///a')).toEqual(['a']);
    expect(ids('resources/read', 'db://rows/7')).toEqual(['b', 'c']);
    expect(ids('resources/subscribe', 'mem://x')).toEqual(['c']);
  });

  it('matches templates once per uri and rematches after the pool changes', () => {
    let calls = 0;
    const r = new Router({
      clock: new FakeClock(),
      matchTemplate: (t, u) => {
        calls++;
        return prefixMatcher(t, u);
      },
    });
    r.pool.upsert(spec('a', { owns: { resourceTemplates: ['db://rows/{id}'] } }));
    r.pick({ method: 'resources/read', name: 'db://rows/1' });
    r.pick({ method: 'resources/read', name: 'db://rows/1' });
    expect(calls).toBe(1);
    r.pool.upsert(spec('b', { owns: { resourceTemplates: ['db://{x}'] } }));
    const seen = new Set(
      Array.from({ length: 4 }, () => r.pick({ method: 'resources/read', name: 'db://rows/1' }).id),
    );
    expect([...seen].sort()).toEqual(['a', 'b']);
    expect(calls).toBe(3);
  });

  it('sends methods that need no owner to any worker', () => {
    const r = ownershipRouter();
    const seen = new Set(Array.from({ length: 6 }, () => r.pick({ method: 'tools/list' }).id));
    expect([...seen].sort()).toEqual(['a', 'b', 'c']);
    expect(r.pick({ method: 'server/discover', name: 'ignored' }).id).toBeDefined();
  });

  it('reports no owner, no healthy owner and an empty pool as NO_WORKER', () => {
    const r = ownershipRouter();
    expect(codeOf(() => r.pick({ method: 'tools/call', name: 'nope' }))).toBe('NO_WORKER:no-owner');
    for (let i = 0; i < 5; i++) r.onFinish(wid('a'), false, 1);
    expect(codeOf(() => r.pick({ method: 'tools/call', name: 'add' }))).toBe(
      'NO_WORKER:no-healthy',
    );
    expect(r.pick({ method: 'tools/call', name: 'echo' }).id).toBe('b');
    const empty = new Router({ clock: new FakeClock() });
    expect(codeOf(() => empty.pick({ method: 'ping' }))).toBe('NO_WORKER:empty-pool');
  });

  it('reindexes on upsert and remove, keeping health and counters', () => {
    const r = ownershipRouter();
    r.onStart(wid('b'));
    r.pool.upsert(spec('b', { owns: { tools: ['add'] } }));
    expect(r.pool.get(wid('b'))?.inFlight).toBe(1);
    expect(r.pick({ method: 'tools/call', name: 'echo' }).id).toBe('a');
    r.removeWorker(wid('a'));
    expect(r.pick({ method: 'tools/call', name: 'add' }).id).toBe('b');
    expect(codeOf(() => r.pick({ method: 'tools/call', name: 'echo' }))).toBe('NO_WORKER:no-owner');
  });
});

describe('legacy session pins', () => {
  it('pins a new session and keeps routing to the pinned worker', async () => {
    const pins = new MemoryPins();
    const r = new Router({ clock: new FakeClock(), pins });
    for (const id of ['a', 'b', 'c']) r.pool.upsert(spec(id));
    const first = await r.route({ method: 'initialize', sessionId: 's1' });
    expect(first.migratedFrom).toBeUndefined();
    expect(pins.map.get('s1')).toBe(first.worker.id);
    for (let i = 0; i < 5; i++) {
      const d = await r.route({ method: 'tools/call', name: 'x', sessionId: 's1' });
      expect(d.worker.id).toBe(first.worker.id);
    }
    expect(pins.sets).toBe(1);
  });

  it('re-pins when the pinned worker is gone or ejected, reporting the migration', async () => {
    const pins = new MemoryPins();
    const r = new Router({ clock: new FakeClock(), pins });
    for (const id of ['a', 'b', 'c']) r.pool.upsert(spec(id));
    pins.map.set('s1', wid('zombie'));
    const moved = await r.route({ method: 'ping', sessionId: 's1' });
    expect(moved.migratedFrom).toBe('zombie');
    expect(pins.map.get('s1')).toBe(moved.worker.id);

    for (let i = 0; i < 5; i++) r.onFinish(moved.worker.id, false, 1);
    const again = await r.route({ method: 'ping', sessionId: 's1' });
    expect(again.migratedFrom).toBe(moved.worker.id);
    expect(again.worker.id).not.toBe(moved.worker.id);
  });

  it('follows a pin another gateway wrote first (compare-and-set lost)', async () => {
    const pins = new MemoryPins();
    const r = new Router({ clock: new FakeClock(), pins });
    for (const id of ['a', 'b']) r.pool.upsert(spec(id));
    const realSet = pins.set.bind(pins);
    pins.set = (sessionId, workerId, previous) => {
      // Another gateway pins the session to b just before our write.
      pins.map.set(sessionId, wid('b'));
      pins.set = realSet;
      return realSet(sessionId, workerId, previous);
    };
    const d = await r.route({ method: 'initialize', sessionId: 's9' });
    expect(d.worker.id).toBe('b');
    expect(pins.map.get('s9')).toBe('b');
  });

  it('fails with NO_WORKER when no worker can take the session', async () => {
    const r = new Router({ clock: new FakeClock(), pins: new MemoryPins() });
    expect(await codeOfAsync(r.route({ method: 'ping', sessionId: 's' }))).toBe(
      'NO_WORKER:empty-pool',
    );
  });
});

describe('passive ejection', () => {
  it('ejects after N consecutive failures, half-opens after backoff, restores on a good trial', () => {
    const clock = new FakeClock();
    const changes: WorkerView['health'][] = [];
    const r = new Router({ clock, onHealthChange: (w) => changes.push(w.health) });
    r.pool.upsert(spec('a'));
    for (let i = 0; i < 4; i++) r.onFinish(wid('a'), false, 1);
    expect(r.pool.get(wid('a'))?.health).toBe('healthy');
    r.onFinish(wid('a'), true, 1); // success resets the streak
    for (let i = 0; i < 5; i++) r.onFinish(wid('a'), false, 1);
    expect(r.pool.get(wid('a'))?.health).toBe('ejected');
    expect(codeOf(() => r.pick({ method: 'ping' }))).toBe('NO_WORKER:no-healthy');

    clock.advance(4_999);
    expect(codeOf(() => r.pick({ method: 'ping' }))).toBe('NO_WORKER:no-healthy');
    clock.advance(1);
    expect(r.pick({ method: 'ping' }).id).toBe('a');
    expect(r.pool.get(wid('a'))?.health).toBe('half-open');
    r.onStart(wid('a'));
    // Only one trial request at a time.
    expect(codeOf(() => r.pick({ method: 'ping' }))).toBe('NO_WORKER:no-healthy');
    r.onFinish(wid('a'), true, 1);
    expect(r.pool.get(wid('a'))?.health).toBe('healthy');
    expect(changes).toEqual(['ejected', 'healthy']);
  });

  it('doubles the backoff when the trial fails, up to the maximum', () => {
    const clock = new FakeClock();
    const r = new Router({ clock, health: { baseEjectionMs: 1_000, maxEjectionMs: 3_000 } });
    r.pool.upsert(spec('a'));
    for (let i = 0; i < 5; i++) r.onFinish(wid('a'), false, 1);
    const trialFails = (waitMs: number): void => {
      clock.advance(waitMs - 1);
      expect(codeOf(() => r.pick({ method: 'ping' }))).toBe('NO_WORKER:no-healthy');
      clock.advance(1);
      r.pick({ method: 'ping' });
      r.onStart(wid('a'));
      r.onFinish(wid('a'), false, 1);
      expect(r.pool.get(wid('a'))?.health).toBe('ejected');
    };
    trialFails(1_000);
    trialFails(2_000);
    trialFails(3_000);
    trialFails(3_000);
  });

  it('ejects on error rate once the window has enough requests', () => {
    const clock = new FakeClock();
    const r = new Router({
      clock,
      health: {
        consecutiveFailures: 100,
        errorRate: 0.5,
        errorRateMinRequests: 10,
        errorRateWindowMs: 1_000,
      },
    });
    r.pool.upsert(spec('a'));
    for (let i = 0; i < 4; i++) {
      r.onFinish(wid('a'), false, 1);
      r.onFinish(wid('a'), true, 1);
    }
    expect(r.pool.get(wid('a'))?.health).toBe('healthy');
    r.onFinish(wid('a'), false, 1);
    r.onFinish(wid('a'), true, 1); // 10 requests, 5 failures
    expect(r.pool.get(wid('a'))?.health).toBe('ejected');
  });

  it('forgets old failures when the window rolls over', () => {
    const clock = new FakeClock();
    const r = new Router({
      clock,
      health: { consecutiveFailures: 100, errorRateMinRequests: 4, errorRateWindowMs: 1_000 },
    });
    r.pool.upsert(spec('a'));
    for (let i = 0; i < 3; i++) r.onFinish(wid('a'), false, 1);
    clock.advance(1_000);
    for (let i = 0; i < 3; i++) r.onFinish(wid('a'), true, 1);
    r.onFinish(wid('a'), false, 1);
    expect(r.pool.get(wid('a'))?.health).toBe('healthy');
  });

  it('tracks in-flight counts through onStart/onFinish', () => {
    const r = new Router({ clock: new FakeClock() });
    r.pool.upsert(spec('a'));
    r.onStart(wid('a'));
    r.onStart(wid('a'));
    r.onFinish(wid('a'), true, 3);
    expect(r.pool.get(wid('a'))?.inFlight).toBe(1);
    r.onFinish(wid('unknown'), true, 3); // ignored
  });
});

describe('active health checks', () => {
  it('marks a worker down after failed probes and back up after a good one, on the injected timer', async () => {
    const clock = new FakeClock();
    const healthy = new Map([
      ['a', true],
      ['b', true],
    ]);
    let probes = 0;
    const r = new Router({
      clock,
      health: { probeIntervalMs: 1_000, unhealthyThreshold: 2 },
      probe: (w) => {
        probes++;
        if (w.id === 'b' && healthy.get('b') === false) return Promise.reject(new Error('refused'));
        return Promise.resolve(healthy.get(w.id) ?? false);
      },
    });
    r.pool.upsert(spec('a'));
    r.pool.upsert(spec('b'));
    healthy.set('b', false);
    await r.checkNow();
    expect(r.pool.get(wid('b'))?.health).toBe('healthy');
    await r.checkNow();
    expect(r.pool.get(wid('b'))?.health).toBe('down');
    expect(new Set(Array.from({ length: 4 }, () => r.pick({ method: 'ping' }).id))).toEqual(
      new Set(['a']),
    );

    healthy.set('b', true);
    r.start();
    expect(clock.pending).toBe(1);
    probes = 0;
    clock.advance(1_000);
    await r.stop(); // waits for the round in progress
    expect(probes).toBe(2);
    expect(r.pool.get(wid('b'))?.health).toBe('healthy');
    expect(clock.pending).toBe(0);
  });

  it('keeps a passive ejection for its backoff, then a good probe closes it', async () => {
    const clock = new FakeClock();
    const r = new Router({ clock, probe: () => Promise.resolve(true) });
    r.pool.upsert(spec('a'));
    for (let i = 0; i < 5; i++) r.onFinish(wid('a'), false, 1);
    expect(r.pool.get(wid('a'))?.health).toBe('ejected');
    await r.checkNow();
    expect(r.pool.get(wid('a'))?.health).toBe('ejected');
    clock.advance(5_000);
    await r.checkNow();
    expect(r.pool.get(wid('a'))?.health).toBe('healthy');
  });

  it('counts a rejected or throwing probe as a failure and ignores removed workers', async () => {
    const clock = new FakeClock();
    const r = new Router({
      clock,
      health: { unhealthyThreshold: 1 },
      probe: (w) => {
        if (w.id === 'b') r.removeWorker(w.id);
        return w.id === 'a' ? Promise.reject(new Error('boom')) : Promise.resolve(false);
      },
    });
    r.pool.upsert(spec('a'));
    r.pool.upsert(spec('b'));
    await r.checkNow();
    expect(r.pool.get(wid('a'))?.health).toBe('down');
    expect(r.pool.get(wid('b'))).toBeUndefined();
    expect(r.pool.size).toBe(1);
  });
});

describe('options', () => {
  it('rejects invalid health options and weights', () => {
    expect(() => new Router({ health: { ewmaAlpha: 0 } })).toThrow(RouterError);
    expect(() => new Router({ health: { baseEjectionMs: -1 } })).toThrow(RouterError);
    const r = new Router();
    expect(() => r.pool.upsert(spec('a', { weight: 0 }))).toThrow(RouterError);
  });
});

describe('routing decisions (for metrics)', () => {
  it('reports owner, any, pinned, repinned and no_worker, one per routed request', async () => {
    const decisions: string[] = [];
    const pins = new MemoryPins();
    const r = new Router({ clock: new FakeClock(), pins, onDecision: (d) => decisions.push(d) });
    expect(codeOf(() => r.pick({ method: 'ping' }))).toBe('NO_WORKER:empty-pool');
    r.pool.upsert(spec('a', { owns: { tools: ['echo'] } }));
    r.pool.upsert(spec('b'));
    r.pick({ method: 'tools/call', name: 'echo' });
    r.pick({ method: 'tools/list' });
    // A name nobody owns is no decision: the caller asks again without it.
    expect(codeOf(() => r.pick({ method: 'tools/call', name: 'nope' }))).toBe('NO_WORKER:no-owner');
    await r.route({ method: 'initialize', sessionId: 's1' });
    await r.route({ method: 'ping', sessionId: 's1' });
    pins.map.set('s2', wid('gone'));
    await r.route({ method: 'ping', sessionId: 's2' });
    expect(decisions).toEqual(['no_worker', 'owner', 'any', 'any', 'pinned', 'repinned']);
  });
});

describe('workers held back by an outside policy', () => {
  it('routes around a held worker, re-pins its sessions, and routes to it again once released', async () => {
    const pins = new MemoryPins();
    const r = new Router({ clock: new FakeClock(), pins });
    for (const id of ['a', 'b']) r.pool.upsert(spec(id));
    pins.map.set('s1', wid('a'));
    expect(r.hold(wid('a'), true)).toBe(true);
    for (let i = 0; i < 4; i++) expect(r.pick({ method: 'ping' }).id).toBe('b');
    const moved = await r.route({ method: 'ping', sessionId: 's1' });
    expect(moved).toMatchObject({ worker: { id: 'b' }, migratedFrom: 'a' });
    expect(r.workerCounts()).toEqual({ up: 2, held: 1 });
    r.hold(wid('b'), true);
    expect(codeOf(() => r.pick({ method: 'ping' }))).toBe('NO_WORKER:no-healthy');
    expect(r.workerCounts()).toEqual({ up: 2, held: 2 });
    r.hold(wid('a'), false);
    expect(r.pick({ method: 'ping' }).id).toBe('a');
    expect(r.hold(wid('zombie'), true)).toBe(false);
  });
});

describe('a retry avoids the workers its earlier attempts failed on', () => {
  it('picks elsewhere while another candidate can serve, and moves a session off its pin', async () => {
    const pins = new MemoryPins();
    const r = new Router({ clock: new FakeClock(), pins, strategy: 'least-connections' });
    for (const id of ['a', 'b']) r.pool.upsert(spec(id, { owns: { tools: ['t'] } }));
    const avoid = new Set(['a']);
    for (let i = 0; i < 4; i++) {
      expect(r.pick({ method: 'tools/call', name: 't', avoid }).id).toBe('b');
      expect(r.pick({ method: 'ping', avoid }).id).toBe('b');
    }
    // Nowhere else: the same worker rather than none.
    expect(r.pick({ method: 'ping', avoid: new Set(['a', 'b']) }).id).toMatch(/^[ab]$/);
    pins.map.set('s1', wid('a'));
    const moved = await r.route({ method: 'ping', sessionId: 's1', avoid });
    expect(moved).toMatchObject({ worker: { id: 'b' }, migratedFrom: 'a' });
  });
});
