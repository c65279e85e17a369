/**
 * Sampling usage counters on a real Redis: two connections (two workers) share one budget,
 * a reservation that would pass a limit changes nothing, and every key has a TTL.
 */
import { redisPair } from './redis.testkit.js';
import { describe, expect, it } from 'vitest';
import { RedisUsageStore } from './sampling-usage.js';

const { keys, a, b } = redisPair();

describe('redis sampling usage store', () => {
  it('two workers share one budget; a refused reservation changes nothing', async () => {
    const one = new RedisUsageStore(a, keys);
    const two = new RedisUsageStore(b, keys);
    const limits = { tokens: 100, cost: 1 };
    expect(await one.reserve('7:alice', { tokens: 60, cost: 0.25 }, limits, 60_000)).toEqual({
      ok: true,
      usage: { tokens: 60, cost: 0.25 },
    });
    expect(await two.reserve('7:alice', { tokens: 41, cost: 0 }, limits, 60_000)).toEqual({
      ok: false,
      usage: { tokens: 60, cost: 0.25 },
    });
    expect((await two.reserve('7:alice', { tokens: 1, cost: 0.8 }, limits, 60_000)).ok).toBe(false);
    // Settled to less than reserved: room again, on either worker.
    await one.add('7:alice', { tokens: -30, cost: -0.125 }, 60_000);
    expect(await two.reserve('7:alice', { tokens: 41, cost: 0.5 }, limits, 60_000)).toEqual({
      ok: true,
      usage: { tokens: 71, cost: 0.625 },
    });
    // Another principal (or window) has its own counters; no limit: always admitted.
    expect(await one.reserve('7:bob', { tokens: 1_000, cost: 5 }, {}, 60_000)).toEqual({
      ok: true,
      usage: { tokens: 1_000, cost: 5 },
    });
  });

  it('keys live until the window ends and are named under the prefix', async () => {
    const store = new RedisUsageStore(a, keys);
    await store.reserve('9:carol', { tokens: 1, cost: 0 }, { tokens: 10 }, 5_000);
    const key = keys.samplingUsage('9:carol');
    expect(key.startsWith(`${keys.prefix}:sampling:usage:`)).toBe(true);
    expect(key).not.toContain('carol');
    const ttl = await a.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
    await store.add('9:carol', { tokens: 2, cost: 0 }, 4_000);
    expect(await a.pttl(key)).toBeLessThanOrEqual(4_000);
    expect(await a.hget(key, 't')).toBe('3');
  });
});
