import { randomUUID } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { describeStoresContract } from './contract.testkit.js';
import { createSecurityStores } from './create.js';
import { keyPart, MAX_VERBATIM_KEY_PART, securityKeys } from './keys.js';
import {
  MemoryLockoutStore,
  MemoryNonceStore,
  MemoryRateLimiter,
  MemoryStreamSlots,
} from './memory.js';
import { SecurityStoreError } from './types.js';

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describeStoresContract('memory', () => {
  const c = clock();
  const slots = new MemoryStreamSlots();
  return Promise.resolve({
    limiter: (options) => new MemoryRateLimiter({ ...options, now: c.now }),
    nonces: new MemoryNonceStore({ now: c.now }),
    lockout: (options) => new MemoryLockoutStore({ ...options, now: c.now }),
    // One process: every holder is the same counter.
    streams: () => slots,
    elapse: async (ms, check) => {
      c.advance(ms);
      if (!(await check())) throw new Error(`condition still false after ${ms} ms`);
    },
    close: () => Promise.resolve(),
  });
});

describe('memory specifics', () => {
  it('refills continuously but never beyond the capacity', async () => {
    const c = clock();
    const l = new MemoryRateLimiter({ capacity: 3, refillPerSecond: 2, now: c.now });
    await l.take('k', 3);
    c.advance(499);
    expect((await l.take('k')).allowed).toBe(false);
    c.advance(1);
    expect(await l.take('k')).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
    c.advance(3_600_000);
    expect((await l.take('k')).remaining).toBe(2);
  });

  it('does not charge a clock that went backwards', async () => {
    const c = clock();
    const l = new MemoryRateLimiter({ capacity: 1, refillPerSecond: 1, now: c.now });
    await l.take('k');
    c.advance(-10_000);
    expect((await l.take('k')).allowed).toBe(false);
  });

  it('counts failures only within the window from the first one', async () => {
    const c = clock();
    const s = new MemoryLockoutStore({ maxFailures: 3, windowMs: 100, lockMs: 1000, now: c.now });
    await s.fail(['u']);
    c.advance(60);
    await s.fail(['u']);
    c.advance(40); // the window of the first failure ends; both are forgotten
    expect((await s.fail(['u'])).locked).toBe(false);
    expect((await s.fail(['u'])).locked).toBe(false);
    expect((await s.fail(['u'])).locked).toBe(true);
    expect((await s.isLocked(['u'])).retryAfterMs).toBe(1000);
  });

  it('rejects invalid limits at construction', () => {
    expect(() => new MemoryRateLimiter({ capacity: 0, refillPerSecond: 1 })).toThrow(
      SecurityStoreError,
    );
    expect(() => new MemoryRateLimiter({ capacity: 1, refillPerSecond: -1 })).toThrow(
      SecurityStoreError,
    );
    expect(() => new MemoryLockoutStore({ maxFailures: 1.5 })).toThrow(SecurityStoreError);
    expect(() => new MemoryLockoutStore({ lockMs: 0 })).toThrow(SecurityStoreError);
  });

  it('createSecurityStores without a Redis URL is memory', async () => {
    await using stores = await createSecurityStores({
      prefix: 'unused',
      rateLimit: { capacity: 1, refillPerSecond: 1 },
    });
    expect(stores.kind).toBe('memory');
    expect((await stores.rateLimiter.take('k')).allowed).toBe(true);
    expect((await stores.rateLimiter.take('k')).allowed).toBe(false);
    expect(
      (await stores.limiter('tool', { capacity: 1, refillPerSecond: 1 }).take('k')).allowed,
    ).toBe(true);
    expect(await stores.nonces.claim('n', 1000)).toBe(true);
    expect((await stores.lockout.fail(['u'])).locked).toBe(false);
  });
});

describe('security keys', () => {
  const keys = securityKeys('p');

  it('names keys under the prefix by kind', () => {
    expect(keys.rateLimit('tool', 'user:alice')).toBe('p:ratelimit:tool:user:alice');
    expect(keys.lockoutFailures('ip:10.0.0.1')).toBe('p:lockout:fails:ip:10.0.0.1');
    expect(keys.lockoutLock('ip:10.0.0.1')).toBe('p:lockout:lock:ip:10.0.0.1');
    expect(keys.lockoutPending('ip:10.0.0.1')).toBe('p:lockout:pending:ip:10.0.0.1');
    expect(keys.nonce('abc')).toMatch(/^p:nonce:[\w-]{43}$/);
  });

  it('hashes long parts and parts that could pose as a hash', () => {
    const long = 'x'.repeat(MAX_VERBATIM_KEY_PART + 1);
    expect(keyPart(long)).toMatch(/^#[\w-]{43}$/);
    expect(keyPart('x'.repeat(MAX_VERBATIM_KEY_PART))).toHaveLength(MAX_VERBATIM_KEY_PART);
    const forged = keyPart(long);
    expect(keyPart(forged)).not.toBe(forged);
    expect(keyPart(randomUUID())).not.toMatch(/^#/);
  });
});
