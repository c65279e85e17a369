/**
 * Leases on a real Redis, across two connections (two workers): one holder at a time, renew
 * and release only by the holding token, a TTL on the key; and the election around them —
 * one leader among candidates, takeover when the leader stops (at once) or dies (after the
 * TTL), and a leader that loses its lease stepping down.
 */
import { redisPair } from './redis.testkit.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryLeaseStore, RedisLeaseStore, leaderElection } from './leases.js';
import type { LeaseStore } from './leases.js';
import { eventually } from '@mcp-cluster/test-support';

const { keys, a, b } = redisPair();
let storeA: RedisLeaseStore;
let storeB: RedisLeaseStore;

beforeAll(() => {
  storeA = new RedisLeaseStore(a, keys);
  storeB = new RedisLeaseStore(b, keys);
});

/** Waits until `check` stops throwing (bounded). */
const until = (what: string, check: () => unknown, timeoutMs?: number): Promise<true> =>
  eventually(
    what,
    async () => {
      await check();
      return true as const;
    },
    timeoutMs === undefined ? {} : { timeoutMs },
  );

/** Short timings so takeovers show within a test. */
const FAST = { ttlMs: 500, renewMs: 150, retryMs: 50 } as const;

describe('redis lease store', () => {
  it('has one holder; only its token renews or releases it; the key has a TTL', async () => {
    expect(await storeA.acquire('dir-1', 'tok-a', 5_000)).toBe(true);
    expect(await storeB.acquire('dir-1', 'tok-b', 5_000)).toBe(false);
    // Re-taking with the holding token extends it (a retried acquire whose reply was lost).
    expect(await storeA.acquire('dir-1', 'tok-a', 5_000)).toBe(true);
    expect(await storeB.holder('dir-1')).toBe('tok-a');
    const ttl = await a.pttl(keys.lease('dir-1'));
    expect(ttl).toBeGreaterThan(4_000);
    expect(ttl).toBeLessThanOrEqual(5_000);

    expect(await storeB.renew('dir-1', 'tok-b', 5_000)).toBe(false);
    await storeB.release('dir-1', 'tok-b');
    expect(await storeA.holder('dir-1')).toBe('tok-a');
    expect(await storeA.renew('dir-1', 'tok-a', 5_000)).toBe(true);
    await storeA.release('dir-1', 'tok-a');
    expect(await storeA.holder('dir-1')).toBeUndefined();
    expect(await storeB.acquire('dir-1', 'tok-b', 5_000)).toBe(true);
  });

  it('hashes the name into the key and lets an expired lease be taken', async () => {
    const name = 'files:/srv/a dir/with:colons';
    expect(keys.lease(name)).toMatch(new RegExp(`^${keys.prefix}:lease:[A-Za-z0-9_-]{43}$`));
    expect(await storeA.acquire(name, 'tok-a', 50)).toBe(true);
    await until('expired lease taken', async () =>
      expect(await storeB.acquire(name, 'tok-b', 5_000)).toBe(true),
    );
    expect(await storeA.renew(name, 'tok-a', 5_000)).toBe(false);
  });

  it('refuses a TTL that is not a positive integer', async () => {
    await expect(storeA.acquire('dir-bad', 'x', 0)).rejects.toThrow(RangeError);
    await expect(storeA.renew('dir-bad', 'x', 1.5)).rejects.toThrow(RangeError);
  });
});

interface Run {
  readonly who: string;
  readonly started: number;
  stopped?: number;
}

/** Two candidates (w1 on storeA, w2 on storeB) competing for one lease; runs are recorded. */
function compete(name: string, stores: readonly [LeaseStore, LeaseStore] = [storeA, storeB]) {
  const runs: Run[] = [];
  const leading = new Set<string>();
  const errors: string[] = [];
  /** Leaders that started while another still led (must stay empty). */
  const overlaps: string[] = [];
  const stops = (['w1', 'w2'] as const).map((who, i) =>
    leaderElection(stores[i]!, {
      holder: who,
      ...FAST,
      onError: (_e, what) => errors.push(what),
    }).lead(name, () => {
      // At most one leader at any time: the other must have stepped down first.
      if (leading.size > 0) overlaps.push(`${who} while ${[...leading].join()}`);
      leading.add(who);
      const run: Run = { who, started: Date.now() };
      runs.push(run);
      return () => {
        leading.delete(who);
        run.stopped = Date.now();
      };
    }),
  );
  return { runs, leading, stops, errors, overlaps };
}

describe('leader election', () => {
  it('elects one leader; a stopping leader hands over at once', async () => {
    const { runs, leading, stops, overlaps } = compete('elect-stop');
    await until('one leader', () => expect(leading.size).toBe(1));
    const first = runs[0]!.who;
    const [firstStop, otherStop] = first === 'w1' ? stops : [stops[1], stops[0]];
    await firstStop!();
    expect(runs[0]!.stopped).toBeDefined();
    // Released: the other takes over on its next try, well before the TTL.
    const other = first === 'w1' ? 'w2' : 'w1';
    await until('handover', () => expect([...leading]).toEqual([other]), FAST.ttlMs);
    await otherStop!();
    expect(overlaps).toEqual([]);
    expect(leading.size).toBe(0);
    expect(await storeA.holder('elect-stop')).toBeUndefined();
  });

  it('takes over when the leader dies (its lease expires); a lapsed leader steps down', async () => {
    // A dead process's store stops answering: its renewals fail, its lease runs out.
    const dead = new Set<LeaseStore>();
    const dying = (store: LeaseStore): LeaseStore => {
      const gone = (): Promise<never> => Promise.reject(new Error('gone'));
      const self: LeaseStore = {
        acquire: (n, t, ttl) => (dead.has(self) ? gone() : store.acquire(n, t, ttl)),
        renew: (n, t, ttl) => (dead.has(self) ? gone() : store.renew(n, t, ttl)),
        release: (n, t) => (dead.has(self) ? gone() : store.release(n, t)),
        holder: (n) => store.holder(n),
      };
      return self;
    };
    const stores = [dying(storeA), dying(storeB)] as const;
    const { runs, leading, stops, errors, overlaps } = compete('elect-die', stores);
    await until('one leader', () => expect(leading.size).toBe(1));
    const first = runs[0]!;
    const survivor = first.who === 'w1' ? 'w2' : 'w1';
    const diedAt = Date.now();
    dead.add(stores[first.who === 'w1' ? 0 : 1]);
    // It cannot renew, so it steps down before its lease could lapse; the other takes over
    // once the lease expired, never while it still led.
    await until('takeover', () => expect([...leading]).toEqual([survivor]), 3 * FAST.ttlMs);
    const next = runs.findLast((r) => r.who === survivor)!;
    expect(first.stopped).toBeLessThanOrEqual(next.started);
    expect(next.started - diedAt).toBeGreaterThanOrEqual(FAST.ttlMs - FAST.renewMs - 20);
    expect(errors.some((e) => e.startsWith('lease renew failed'))).toBe(true);
    expect(overlaps).toEqual([]);
    dead.clear();
    await Promise.all(stops.map((s) => s()));
  });

  it('keeps the lease renewed while the leader work is still starting', async () => {
    let release: () => void = () => undefined;
    const slowStart = new Promise<void>((resolve) => (release = resolve));
    const led: string[] = [];
    const w1 = leaderElection(storeA, { holder: 'w1', ...FAST }).lead('slow', async () => {
      led.push('w1');
      await slowStart;
    });
    await until('w1 leads', () => expect(led).toEqual(['w1']));
    const w2 = leaderElection(storeB, { holder: 'w2', ...FAST }).lead('slow', () => {
      led.push('w2');
    });
    // Three lease lifetimes into the start: w1 renewed all along, so w2 never led.
    await new Promise((resolve) => setTimeout(resolve, 3 * FAST.ttlMs));
    expect(await storeB.holder('slow')).toMatch(/^w1:/);
    release();
    await w1();
    await until('w2 leads', () => expect(led).toEqual(['w1', 'w2']));
    await w2();
  });

  it('steps down before its lease lapses when renewals never answer', async () => {
    const memory = new MemoryLeaseStore();
    let hung = false;
    const store: LeaseStore = {
      acquire: (n, t, ttl) => memory.acquire(n, t, ttl),
      renew: (n, t, ttl) =>
        hung ? new Promise<boolean>(() => undefined) : memory.renew(n, t, ttl),
      release: (n, t) => memory.release(n, t),
      holder: (n) => memory.holder(n),
    };
    let leading = false;
    let hungAt = 0;
    let steppedDownAt = 0;
    const stop = leaderElection(store, { holder: 'w1', ...FAST }).lead('hung', () => {
      leading = true;
      hung = true;
      hungAt = Date.now();
      return () => {
        leading = false;
        steppedDownAt = Date.now();
      };
    });
    await until('led', () => expect(hungAt).toBeGreaterThan(0));
    await until('stepped down', () => expect(leading).toBe(false), 3 * FAST.ttlMs);
    expect(steppedDownAt - hungAt).toBeLessThan(FAST.ttlMs);
    await stop();
  });

  it('gives the lease back when the leader work cannot start, and tries again', async () => {
    const store = new MemoryLeaseStore();
    let attempts = 0;
    const errors: string[] = [];
    const stop = leaderElection(store, {
      holder: 'w1',
      ...FAST,
      onError: (_e, what) => errors.push(what),
    }).lead('broken', () => {
      attempts += 1;
      if (attempts < 3) throw new Error('no such directory');
    });
    await until('third attempt', () => expect(attempts).toBe(3));
    expect(errors.filter((e) => e.startsWith('leader work failed to start'))).toHaveLength(2);
    expect(await store.holder('broken')).toMatch(/^w1:/);
    await stop();
    expect(await store.holder('broken')).toBeUndefined();
  });

  it('refuses timings where renewal is not under the TTL', () => {
    const store = new MemoryLeaseStore();
    expect(() => leaderElection(store, { holder: 'w', ttlMs: 100, renewMs: 100 })).toThrow(
      RangeError,
    );
  });
});
