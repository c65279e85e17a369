/**
 * Helpers of the `*.redis.test.ts` tier: the test Redis URL (never skipped), a unique key
 * prefix per test, and deleting or counting what a prefix holds.
 */
import { randomUUID } from 'node:crypto';

/** What these helpers need of an ioredis client (kept structural: no ioredis dependency). */
export interface ScanningRedis {
  scan(
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    n: number,
  ): Promise<[string, string[]]>;
  del(...keys: string[]): Promise<number>;
}

/** MCP_TEST_REDIS_URL from the vitest global setup; a missing one fails the run loudly. */
export function testRedisUrl(): string {
  const url = process.env.MCP_TEST_REDIS_URL;
  // Never skip: a missing Redis must fail the run loudly.
  if (url === undefined || url === '') throw new Error('MCP_TEST_REDIS_URL is not set');
  return url;
}

/** A key prefix no other test uses (`t` + 8 hex digits). */
export const testKeyPrefix = (): string => `t${randomUUID().slice(0, 8)}`;

/** Calls `each` with every batch of keys matching `pattern` (SCAN, never KEYS). */
async function scanAll(
  redis: ScanningRedis,
  pattern: string,
  each: (keys: string[]) => Promise<unknown>,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await each(keys);
  } while (cursor !== '0');
}

/** Deletes every key under a test prefix. */
export function purgePrefix(redis: ScanningRedis, prefix: string): Promise<void> {
  return scanAll(redis, `${prefix}:*`, (keys) => redis.del(...keys));
}

/** How many keys match `pattern`. */
export async function countKeys(redis: ScanningRedis, pattern: string): Promise<number> {
  let n = 0;
  await scanAll(redis, pattern, (keys) => Promise.resolve((n += keys.length)));
  return n;
}
