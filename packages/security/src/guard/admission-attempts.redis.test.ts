import { Redis } from 'ioredis';
import { eventually, purgePrefix, testKeyPrefix, testRedisUrl } from '@mcp-cluster/test-support';
import { securityKeys } from '../stores/keys.js';
import { RedisLockoutStore } from '../stores/redis.js';
import { describeAttemptBudget } from './admission-attempts.testkit.js';

describeAttemptBudget('redis', () => {
  const keys = securityKeys(testKeyPrefix());
  // Each gateway on a connection of its own, all on one key prefix.
  const connections: Redis[] = [];
  return Promise.resolve({
    lockout: (options) => {
      const redis = new Redis(testRedisUrl());
      connections.push(redis);
      return new RedisLockoutStore(redis, keys, options);
    },
    elapse: async (ms, check) => {
      await eventually(
        `condition after ${ms} ms`,
        async () => ((await check()) ? true : undefined),
        {
          timeoutMs: ms + 2_000,
          pollMs: 20,
        },
      );
    },
    close: async () => {
      const [first] = connections;
      if (first !== undefined) await purgePrefix(first, keys.prefix);
      await Promise.all(connections.splice(0).map((c) => c.quit()));
    },
  });
});
