import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  eventually,
  testRedisUrl as redisUrl,
  testKeyPrefix as testPrefix,
  purgePrefix as purge,
} from '@mcp-cluster/test-support';
import { describeStoresContract } from './contract.testkit.js';
import { createSecurityStores, type SecurityStores } from './create.js';
import { RATE_LIMIT_IDLE_SLACK_MS, type SecurityKeys, securityKeys } from './keys.js';
import { RedisLockoutStore, RedisNonceStore, RedisRateLimiter, RedisStreamSlots } from './redis.js';

/** Real-time slack on top of the refill/TTL math: round trips and Redis's TIME granularity. */
const ELAPSE_SLACK_MS = 2_000;
const POLL_MS = 10;

describeStoresContract('redis', () => {
  const redis = new Redis(redisUrl());
  const keys = securityKeys(testPrefix());
  const connections: Redis[] = [];
  return Promise.resolve({
    limiter: (options) => new RedisRateLimiter(redis, keys, { ...options, name: randomUUID() }),
    nonces: new RedisNonceStore(redis, keys),
    lockout: (options) => new RedisLockoutStore(redis, keys, options),
    // Each holder on its own connection, like two gateways.
    streams: () => {
      const connection = new Redis(redisUrl());
      connections.push(connection);
      return new RedisStreamSlots(connection, keys);
    },
    elapse: async (ms, check) => {
      await eventually(
        `condition after ${ms} ms`,
        async () => ((await check()) ? true : undefined),
        { timeoutMs: ms + ELAPSE_SLACK_MS, pollMs: POLL_MS },
      );
    },
    close: async () => {
      await purge(redis, keys.prefix);
      await Promise.all([redis, ...connections.splice(0)].map((c) => c.quit()));
    },
  });
});

describe('redis specifics', () => {
  let keys: SecurityKeys;
  let a: Redis;
  let b: Redis;
  beforeAll(() => {
    a = new Redis(redisUrl());
    b = new Redis(redisUrl());
  });
  beforeEach(() => {
    keys = securityKeys(testPrefix());
  });
  afterEach(async () => {
    await purge(a, keys.prefix);
  });
  afterAll(async () => {
    await a.quit();
    await b.quit();
  });

  it('two limiters on two connections share one bucket (the limit holds across gateways)', async () => {
    const options = { name: 'principal', capacity: 4, refillPerSecond: 0.001 };
    const g1 = new RedisRateLimiter(a, keys, options);
    const g2 = new RedisRateLimiter(b, keys, options);
    expect((await g1.take('alice', 2)).allowed).toBe(true);
    expect(await g2.take('alice', 2)).toMatchObject({ allowed: true, remaining: 0 });
    expect((await g1.take('alice')).allowed).toBe(false);
    expect((await g2.take('alice')).allowed).toBe(false);
    // A limiter with another name has its own buckets.
    const other = new RedisRateLimiter(b, keys, { ...options, name: 'tool' });
    expect((await other.take('alice')).allowed).toBe(true);
  });

  it('never over-admits concurrent takes from two connections', async () => {
    const options = { name: 'principal', capacity: 10, refillPerSecond: 0.001 };
    const g1 = new RedisRateLimiter(a, keys, options);
    const g2 = new RedisRateLimiter(b, keys, options);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? g1 : g2).take('alice')),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
  });

  it('buckets carry a TTL of their refill time, so idle ones vanish', async () => {
    const l = new RedisRateLimiter(a, keys, { name: 'n', capacity: 10, refillPerSecond: 100 });
    await l.take('alice', 5);
    const key = keys.rateLimit('n', 'alice');
    const ttl = await a.pttl(key);
    // 5 tokens at 100/s = 50 ms, plus the slack.
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(50 + RATE_LIMIT_IDLE_SLACK_MS);
    await eventually(
      'idle bucket expired',
      async () => ((await a.exists(key)) === 0 ? true : undefined),
      {
        timeoutMs: 50 + RATE_LIMIT_IDLE_SLACK_MS + ELAPSE_SLACK_MS,
        pollMs: 50,
      },
    );
  });

  it('nonces are SET NX with the TTL under a hashed key; a claim on another connection is a replay', async () => {
    expect(await new RedisNonceStore(a, keys).claim('n1', 60_000)).toBe(true);
    expect(await new RedisNonceStore(b, keys).claim('n1', 60_000)).toBe(false);
    const ttl = await a.pttl(keys.nonce('n1'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('lockout is shared across connections and its keys expire', async () => {
    const options = { maxFailures: 2, windowMs: 30_000, lockMs: 60_000 };
    const g1 = new RedisLockoutStore(a, keys, options);
    const g2 = new RedisLockoutStore(b, keys, options);
    expect((await g1.fail(['user:alice'])).locked).toBe(false);
    const failTtl = await a.pttl(keys.lockoutFailures('user:alice'));
    expect(failTtl).toBeGreaterThan(0);
    expect(failTtl).toBeLessThanOrEqual(30_000);
    expect((await g2.fail(['user:alice'])).locked).toBe(true);
    expect((await g1.isLocked(['user:alice'])).locked).toBe(true);
    expect(await a.exists(keys.lockoutFailures('user:alice'))).toBe(0);
    const lockTtl = await a.pttl(keys.lockoutLock('user:alice'));
    expect(lockTtl).toBeGreaterThan(0);
    expect(lockTtl).toBeLessThanOrEqual(60_000);
    await g2.reset(['user:alice']);
    expect((await g1.isLocked(['user:alice'])).locked).toBe(false);
  });

  it('attempt reservations are shared across connections, expire, and are given back', async () => {
    const options = { maxFailures: 5, maxConcurrent: 5, windowMs: 30_000, lockMs: 60_000 };
    const g1 = new RedisLockoutStore(a, keys, options);
    const g2 = new RedisLockoutStore(b, keys, options);
    const ids = ['ip:10.0.0.1', 'user:alice'];
    // Two gateways, 30 attempts each at once: five reservations in all.
    const decisions = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? g1 : g2).begin(ids)),
    );
    const tickets = decisions.flatMap((d) => (d.granted ? [d.ticket] : []));
    expect(tickets).toHaveLength(5);
    const pendingTtl = await a.pttl(keys.lockoutPending('user:alice'));
    expect(pendingTtl).toBeGreaterThan(0);
    expect(pendingTtl).toBeLessThanOrEqual(30_000);
    expect(await a.zcard(keys.lockoutPending('ip:10.0.0.1'))).toBe(5);
    // Given back at the other gateway: the sets empty, nothing counted.
    for (const ticket of tickets) await g2.finish(ids, ticket, false);
    expect(
      await a.exists(keys.lockoutPending('user:alice'), keys.lockoutFailures('user:alice')),
    ).toBe(0);
    expect((await g1.begin(ids)).granted).toBe(true);
  });

  it('createSecurityStores with a Redis URL is Redis, and close() closes its connection', async () => {
    const stores: SecurityStores = await createSecurityStores({
      redisUrl: redisUrl(),
      prefix: keys.prefix,
      rateLimit: { capacity: 1, refillPerSecond: 0.001 },
      lockout: { maxFailures: 1 },
    });
    try {
      expect(stores.kind).toBe('redis');
      expect((await stores.rateLimiter.take('k')).allowed).toBe(true);
      expect((await stores.rateLimiter.take('k')).allowed).toBe(false);
      expect(await a.exists(keys.rateLimit('default', 'k'))).toBe(1);
      const tool = stores.limiter('tool', { capacity: 1, refillPerSecond: 0.001 });
      expect((await tool.take('k')).allowed).toBe(true);
      expect(await stores.nonces.claim('n', 1000)).toBe(true);
      expect((await stores.lockout.fail(['u'])).locked).toBe(true);
    } finally {
      await stores.close();
    }
    await stores.close(); // idempotent
  });

  it('createSecurityStores fails at startup on an unreachable Redis', async () => {
    await expect(
      createSecurityStores({
        redisUrl: 'redis://127.0.0.1:1',
        prefix: keys.prefix,
        rateLimit: { capacity: 1, refillPerSecond: 1 },
      }),
    ).rejects.toThrow();
  });

  it("a dead holder's stream slots free themselves after the lease; a live one renews past it", async () => {
    const LEASE_MS = 600;
    const dead = new RedisStreamSlots(a, keys, { leaseMs: LEASE_MS });
    const live = new RedisStreamSlots(b, keys, { leaseMs: LEASE_MS });
    expect(await dead.acquire('p', 2)).toBeTypeOf('function');
    expect(await live.acquire('p', 2)).toBeTypeOf('function');
    expect(await live.acquire('p', 2)).toBeUndefined();
    // The dead gateway stops renewing (its process is gone); its stream was never released.
    await dead.close();
    const started = Date.now();
    await eventually(
      "the dead holder's slot lapses",
      async () => ((await live.acquire('p', 2)) === undefined ? undefined : true),
      { timeoutMs: LEASE_MS + ELAPSE_SLACK_MS, pollMs: POLL_MS },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(LEASE_MS / 2);
    // The live holder's first slot outlived its first lease: renewed, still counted.
    expect(await live.acquire('p', 2)).toBeUndefined();
    expect(await a.zcard(keys.streams('p'))).toBe(2);
    await live.close();
  });
});
