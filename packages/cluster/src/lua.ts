import { createHash } from 'node:crypto';

import type { Redis } from 'ioredis';

/**
 * A Lua script run by EVALSHA, loaded on first NOSCRIPT (so the body is not resent each
 * call). The one copy for every Redis-backed store (cluster state, durable task queue,
 * security stores).
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly body: string) {
    this.sha = createHash('sha1').update(body).digest('hex');
  }

  async run(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      // ioredis surfaces the server's reply text only; NOSCRIPT is its documented prefix.
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.body, keys.length, ...keys, ...args);
    }
  }
}
