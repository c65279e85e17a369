/**
 * The one way cluster code opens Redis: a bad URL fails at startup (not on the first
 * request), later connection errors go to `onError` (ioredis reconnects by itself; without a
 * listener it would print them), and closing is idempotent. An unreachable server fails
 * connectRedis with a ServiceUnreachableError naming the URL (password redacted).
 */
import { Redis } from 'ioredis';
import { ServiceUnreachableError } from './errors.js';

/** Bound on one Redis command, queued or sent (XREAD BLOCK waits at most 1 s of it). */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

export interface RedisConnection {
  readonly redis: Redis;
  /** QUIT (or a hard disconnect if QUIT fails); a second call awaits the first. */
  readonly close: () => Promise<void>;
}

export async function connectRedis(
  url: string,
  onError?: (err: Error) => void,
): Promise<RedisConnection> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    connectTimeout: 5_000,
    // While Redis is down a command waits in the offline queue for at most 3 reconnects; on a
    // connection that hangs (no RST) it would wait for ever. This bounds both: the request
    // gets -32016 (see outageAsUnavailable) instead of hanging. Longer than any XREAD BLOCK.
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    // Commands issued in one event-loop turn go out in one write: under load a worker claims
    // one dispatch nonce per request, and they share the socket instead of a write each.
    enableAutoPipelining: true,
  });
  // Until connected, errors are the startup failure (reported once, by the throw below).
  let connected = false;
  let first: Error | undefined;
  redis.on('error', (err: Error) => {
    if (connected) onError?.(err);
    else first ??= err;
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new ServiceUnreachableError('Redis', url, first ?? err);
  }
  connected = true;
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
