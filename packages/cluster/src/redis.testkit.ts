/**
 * Test support (not exported from the package): two Redis connections — the two nodes a test
 * plays — under a fresh key prefix. The prefix's keys are deleted and both connections closed
 * after the file or `describe` block that called it.
 */
import { purgePrefix, testKeyPrefix, testRedisUrl } from '@mcp-cluster/test-support';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { type ClusterKeys, clusterKeys } from './keys.js';

export function redisPair(): { readonly keys: ClusterKeys; readonly a: Redis; readonly b: Redis } {
  const keys = clusterKeys(testKeyPrefix());
  const a = new Redis(testRedisUrl());
  const b = new Redis(testRedisUrl());
  afterAll(async () => {
    await purgePrefix(a, keys.prefix);
    a.disconnect();
    b.disconnect();
  });
  return { keys, a, b };
}
