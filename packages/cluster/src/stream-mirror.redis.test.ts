import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { clusterKeys } from './keys.js';
import { RedisStreamMirror } from './stream-mirror.js';
import { testRedisUrl as redisUrl, purgePrefix as purge } from '@mcp-cluster/test-support';

describe('RedisStreamMirror.lastAt', () => {
  const keys = clusterKeys(`test:${randomUUID()}`);
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await purge(redis, keys.prefix);
    await redis.quit();
  });

  it('tells when the last event or end marker was recorded; undefined for an unknown stream', async () => {
    const mirror = new RedisStreamMirror(redis, keys);
    expect(await mirror.lastAt('s', 'g1~0')).toBeUndefined();
    const before = Date.now();
    mirror.record('s', 'g1~0', 1, { jsonrpc: '2.0', method: 'x' });
    await redis.ping(); // after the record on the same connection
    const first = await mirror.lastAt('s', 'g1~0');
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThanOrEqual(Date.now());
    mirror.record('s', 'g1~0', 1, undefined);
    await redis.ping();
    expect(await mirror.lastAt('s', 'g1~0')).toBeGreaterThanOrEqual(first!);
    // Entries recorded before the time field existed name no time.
    await redis.xadd(keys.replay('s/old'), '1-1', 'm', '{"jsonrpc":"2.0","method":"x"}');
    expect(await mirror.lastAt('s', 'old')).toBeUndefined();
  });
});
