/**
 * The one way cluster code opens Redis: a bad URL fails at startup (not on the first
 * request), later connection errors go to `onError` (ioredis reconnects by itself; without a
 * listener it would print them), and closing is idempotent.
 */
import { Redis } from 'ioredis';

export interface RedisConnection {
  readonly redis: Redis;
  /** QUIT (or a hard disconnect if QUIT fails); a second call awaits the first. */
  readonly close: () => Promise<void>;
}

export async function connectRedis(
  url: string,
  onError?: (err: Error) => void,
): Promise<RedisConnection> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  redis.on('error', (err: Error) => onError?.(err));
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    redis,
    close: () =>
      (closing ??= redis.quit().then(
        () => undefined,
        () => redis.disconnect(),
      )),
  };
}
