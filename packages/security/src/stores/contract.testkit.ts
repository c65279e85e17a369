/**
 * Behaviour both implementations share; run against memory (stores.test.ts, fake clock) and
 * Redis (stores.redis.test.ts, real time). Implementation-specific checks live there.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type {
  LockoutOptions,
  LockoutStore,
  NonceStore,
  RateLimiter,
  RateLimitOptions,
  StreamSlots,
} from './types.js';
import { SecurityStoreError } from './types.js';

export interface StoresHarness {
  /** A limiter on its own fresh buckets. */
  limiter(options: RateLimitOptions): RateLimiter;
  nonces: NonceStore;
  lockout(options: LockoutOptions): LockoutStore;
  /** Stream slots; two calls give two holders (processes) counting in one store. */
  streams(): StreamSlots;
  /**
   * Lets `ms` pass, then resolves once `check` holds. Memory advances its fake clock once and
   * requires `check` at once; Redis polls `check` against real time, bounded.
   */
  elapse(ms: number, check: () => Promise<boolean>): Promise<void>;
  close(): Promise<void>;
}

/** Refill slow enough that no token comes back during a test. */
const NO_REFILL = 0.001;

export function describeStoresContract(name: string, make: () => Promise<StoresHarness>): void {
  describe(`${name}: security stores contract`, () => {
    let h: StoresHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    describe('RateLimiter', () => {
      it('admits a burst up to the capacity, then refuses with a sane retryAfter', async () => {
        const l = h.limiter({ capacity: 5, refillPerSecond: 1 });
        for (let left = 4; left >= 0; left--) {
          expect(await l.take('alice')).toEqual({
            allowed: true,
            remaining: left,
            retryAfterMs: 0,
          });
        }
        const refused = await l.take('alice');
        expect(refused.allowed).toBe(false);
        expect(refused.remaining).toBe(0);
        // One token at 1/s: at most a second, and more than nothing.
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(1000);
        // Buckets are per key.
        expect((await l.take('bob')).allowed).toBe(true);
      });

      it('charges the cost, refuses without charging, and rejects impossible costs', async () => {
        const l = h.limiter({ capacity: 3, refillPerSecond: NO_REFILL });
        expect(await l.take('k', 2)).toMatchObject({ allowed: true, remaining: 1 });
        expect(await l.take('k', 2)).toMatchObject({ allowed: false, remaining: 1 });
        expect(await l.take('k', 1)).toMatchObject({ allowed: true, remaining: 0 });
        await expect(l.take('k', 4)).rejects.toBeInstanceOf(SecurityStoreError);
        await expect(l.take('k', 0)).rejects.toBeInstanceOf(SecurityStoreError);
        await expect(l.take('k', Number.NaN)).rejects.toBeInstanceOf(SecurityStoreError);
      });

      it('refills over time, and retryAfter is when the next take succeeds', async () => {
        const l = h.limiter({ capacity: 2, refillPerSecond: 20 });
        expect((await l.take('k')).allowed).toBe(true);
        expect((await l.take('k')).allowed).toBe(true);
        const refused = await l.take('k');
        expect(refused.allowed).toBe(false);
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(50);
        await h.elapse(refused.retryAfterMs, async () => (await l.take('k')).allowed);
      });

      it('never over-admits concurrent takes on the last tokens', async () => {
        const l = h.limiter({ capacity: 10, refillPerSecond: NO_REFILL });
        expect((await l.take('k', 7)).allowed).toBe(true);
        const results = await Promise.all(Array.from({ length: 25 }, () => l.take('k')));
        expect(results.filter((r) => r.allowed)).toHaveLength(3);
        expect(results.filter((r) => !r.allowed).every((r) => r.retryAfterMs > 0)).toBe(true);
      });
    });

    describe('StreamSlots', () => {
      it('caps the open streams of a principal across holders; releases are idempotent', async () => {
        const [a, b] = [h.streams(), h.streams()];
        const who = `p-${Math.random().toString(36).slice(2)}`;
        const first = await a.acquire(who, 2);
        const second = await b.acquire(who, 2);
        expect(first).toBeTypeOf('function');
        expect(second).toBeTypeOf('function');
        expect(await a.acquire(who, 2)).toBeUndefined();
        expect(await b.acquire(who, 2)).toBeUndefined();
        expect(await a.acquire(`${who}-other`, 2)).toBeTypeOf('function');
        first?.();
        first?.(); // the second release frees nothing more
        await h.elapse(0, async () => {
          const third = await b.acquire(who, 2);
          if (third === undefined) return false;
          expect(await a.acquire(who, 2)).toBeUndefined();
          return true;
        });
        await Promise.all([a.close(), b.close()]);
      });
    });

    describe('NonceStore', () => {
      it('claims a nonce once, refuses the replay, and frees it after the TTL', async () => {
        expect(await h.nonces.claim('n1', 100)).toBe(true);
        expect(await h.nonces.claim('n1', 100)).toBe(false);
        expect(await h.nonces.claim('n2', 100)).toBe(true);
        await h.elapse(100, () => h.nonces.claim('n1', 100));
        expect(await h.nonces.claim('n1', 100)).toBe(false);
      });

      it('lets exactly one of many concurrent claims win', async () => {
        const wins = await Promise.all(
          Array.from({ length: 20 }, () => h.nonces.claim('n', 10_000)),
        );
        expect(wins.filter(Boolean)).toHaveLength(1);
      });

      it('rejects a non-positive TTL', async () => {
        await expect(h.nonces.claim('n', 0)).rejects.toBeInstanceOf(SecurityStoreError);
      });
    });

    describe('LockoutStore', () => {
      const ids = ['user:alice', 'ip:10.0.0.1'] as const;

      it('locks after N failures, per identifier, and unlocks after the duration', async () => {
        const s = h.lockout({ maxFailures: 3, windowMs: 60_000, lockMs: 200 });
        expect(await s.fail(ids)).toEqual({ locked: false, retryAfterMs: 0 });
        expect(await s.fail(ids)).toEqual({ locked: false, retryAfterMs: 0 });
        const locked = await s.fail(ids);
        expect(locked.locked).toBe(true);
        expect(locked.retryAfterMs).toBeGreaterThan(0);
        expect(locked.retryAfterMs).toBeLessThanOrEqual(200);
        expect((await s.isLocked(['user:alice'])).locked).toBe(true);
        expect((await s.isLocked(['ip:10.0.0.1'])).locked).toBe(true);
        // Another user from the locked address is refused; that user alone is not locked.
        expect((await s.isLocked(['user:bob', 'ip:10.0.0.1'])).locked).toBe(true);
        expect(await s.isLocked(['user:bob'])).toEqual({ locked: false, retryAfterMs: 0 });
        await h.elapse(200, async () => !(await s.isLocked(ids)).locked);
        // The count started over: one failure does not lock again.
        expect((await s.fail(ids)).locked).toBe(false);
      });

      it('does not extend a lock with failures made while locked', async () => {
        const s = h.lockout({ maxFailures: 1, windowMs: 60_000, lockMs: 60_000 });
        const first = await s.fail(['user:alice']);
        expect(first.locked).toBe(true);
        const again = await s.fail(['user:alice']);
        expect(again.locked).toBe(true);
        expect(again.retryAfterMs).toBeLessThanOrEqual(first.retryAfterMs);
      });

      it('counts a duplicated identifier once per call', async () => {
        const s = h.lockout({ maxFailures: 2, windowMs: 60_000, lockMs: 60_000 });
        expect((await s.fail(['user:alice', 'user:alice'])).locked).toBe(false);
      });

      it('reset forgets failures and lifts a lock', async () => {
        const s = h.lockout({ maxFailures: 2, windowMs: 60_000, lockMs: 60_000 });
        await s.fail(ids);
        await s.reset(ids);
        expect((await s.fail(ids)).locked).toBe(false);
        expect((await s.fail(ids)).locked).toBe(true);
        await s.reset(['user:alice']);
        expect((await s.isLocked(['user:alice'])).locked).toBe(false);
        expect((await s.isLocked(['ip:10.0.0.1'])).locked).toBe(true);
        await s.reset(['ip:10.0.0.1']);
        expect(await s.isLocked(ids)).toEqual({ locked: false, retryAfterMs: 0 });
      });

      it('reserves attempts atomically: concurrent begins get at most maxFailures', async () => {
        const s = h.lockout({
          maxFailures: 5,
          maxConcurrent: 100,
          windowMs: 60_000,
          lockMs: 60_000,
        });
        const decisions = await Promise.all(Array.from({ length: 40 }, () => s.begin(ids)));
        const granted = decisions.flatMap((d) => (d.granted ? [d.ticket] : []));
        expect(granted).toHaveLength(5);
        expect(new Set(granted).size).toBe(5);
        for (const d of decisions) {
          if (!d.granted) expect(d).toMatchObject({ locked: false, retryAfterMs: 1000 });
        }
        // Every reserved attempt fails: the last one locks, and later ones are refused as locked.
        const states = await Promise.all(granted.map((ticket) => s.finish(ids, ticket, true)));
        expect(states.filter((st) => st.locked).length).toBeGreaterThan(0);
        const after = await s.begin(ids);
        expect(after.granted).toBe(false);
        if (!after.granted) {
          expect(after.locked).toBe(true);
          expect(after.retryAfterMs).toBeGreaterThan(1000);
        }
      });

      it('counts failures and attempts in flight against one budget', async () => {
        const s = h.lockout({ maxFailures: 5, windowMs: 60_000, lockMs: 60_000 });
        for (let i = 0; i < 3; i++) await s.fail(ids);
        const a = await s.begin(ids);
        const b = await s.begin(ids);
        expect(a.granted && b.granted).toBe(true);
        expect(await s.begin(ids)).toMatchObject({ granted: false, locked: false });
        // A success gives its reservation back and counts nothing.
        if (a.granted)
          expect(await s.finish(ids, a.ticket, false)).toEqual({
            locked: false,
            retryAfterMs: 0,
          });
        const c = await s.begin(ids);
        expect(c.granted).toBe(true);
        if (b.granted) expect((await s.finish(ids, b.ticket, true)).locked).toBe(false);
        if (c.granted) expect((await s.finish(ids, c.ticket, true)).locked).toBe(true);
      });

      it('caps attempts in flight per identifier at maxConcurrent', async () => {
        const s = h.lockout({
          maxFailures: 50,
          maxConcurrent: 3,
          windowMs: 60_000,
          lockMs: 60_000,
        });
        const decisions = await Promise.all(Array.from({ length: 10 }, () => s.begin(ids)));
        const granted = decisions.flatMap((d) => (d.granted ? [d.ticket] : []));
        expect(granted).toHaveLength(3);
        // Per identifier: a busy address refuses every user name; a busy user name every address.
        expect((await s.begin(['user:bob', 'ip:10.0.0.1'])).granted).toBe(false);
        expect((await s.begin(['user:alice', 'ip:10.0.0.9'])).granted).toBe(false);
        expect((await s.begin(['user:bob', 'ip:10.0.0.9'])).granted).toBe(true);
        // Given back, the slots serve again; successes never lock, however many.
        for (const ticket of granted) await s.finish(ids, ticket, false);
        for (let i = 0; i < 60; i++) {
          const d = await s.begin(ids);
          expect(d.granted).toBe(true);
          if (d.granted) await s.finish(ids, d.ticket, false);
        }
        expect(await s.isLocked(ids)).toEqual({ locked: false, retryAfterMs: 0 });
      });

      it('lets a reservation that is never finished lapse; its late failure still counts', async () => {
        const s = h.lockout({
          maxFailures: 2,
          maxConcurrent: 1,
          windowMs: 60_000,
          lockMs: 60_000,
          reservationMs: 200,
        });
        const stuck = await s.begin(ids);
        expect(stuck.granted).toBe(true);
        expect((await s.begin(ids)).granted).toBe(false);
        let next: Awaited<ReturnType<typeof s.begin>> | undefined;
        await h.elapse(200, async () => {
          next = await s.begin(ids);
          return next.granted;
        });
        if (stuck.granted) expect((await s.finish(ids, stuck.ticket, true)).locked).toBe(false);
        if (next?.granted === true) {
          expect((await s.finish(ids, next.ticket, true)).locked).toBe(true);
        }
      });

      it('answers empty identifier lists without locking', async () => {
        const s = h.lockout({ maxFailures: 1 });
        expect(await s.fail([])).toEqual({ locked: false, retryAfterMs: 0 });
        expect(await s.isLocked([])).toEqual({ locked: false, retryAfterMs: 0 });
        await s.reset([]);
      });
    });
  });
}
