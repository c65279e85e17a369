/**
 * The one wiring point of the security stores: memory when no Redis URL is configured
 * (embedded node), Redis otherwise (every gateway of the cluster shares the state).
 * The caller owns the result and must close it.
 */
import { connectStoreRedis } from './connect.js';
import { type SecurityKeys, securityKeys } from './keys.js';
import {
  MemoryLockoutStore,
  MemoryNonceStore,
  MemoryRateLimiter,
  MemoryStreamSlots,
} from './memory.js';
import {
  DEFAULT_LIMITER_NAME,
  RedisLockoutStore,
  RedisNonceStore,
  RedisRateLimiter,
  RedisStreamSlots,
} from './redis.js';
import type {
  LockoutOptions,
  LockoutStore,
  NonceStore,
  RateLimiter,
  RateLimitOptions,
  StreamSlots,
} from './types.js';

export interface SecurityStoresConfig {
  /** e.g. redis://127.0.0.1:6379; absent or empty = in-memory (single process). */
  redisUrl?: string;
  /** Key prefix shared with the cluster (e.g. `mcp`); tests pass a unique one. */
  prefix: string;
  /** Limits of the `default` limiter (`rateLimiter`); named ones via `limiter()`. */
  rateLimit: RateLimitOptions;
  /** Lockout thresholds (defaults in keys.ts: LOCKOUT_*). */
  lockout?: LockoutOptions;
  /** Connection errors after startup (ioredis reconnects on its own); quiet without it. */
  onError?: (err: Error) => void;
}

export interface SecurityStores extends AsyncDisposable {
  readonly kind: 'memory' | 'redis';
  /** Present for Redis only (memory keeps no keys). */
  readonly keys?: SecurityKeys;
  /** Limiter named DEFAULT_LIMITER_NAME with `config.rateLimit`. */
  readonly rateLimiter: RateLimiter;
  readonly nonces: NonceStore;
  readonly lockout: LockoutStore;
  /** Open long-lived streams per principal (per process, or across every gateway). */
  readonly streams: StreamSlots;
  /**
   * A further limiter with its own limits (e.g. per tool). On Redis, limiters with the same
   * name share buckets across gateways, so give each policy a distinct name.
   */
  limiter(name: string, options: RateLimitOptions): RateLimiter;
  close(): Promise<void>;
}

export async function createSecurityStores(config: SecurityStoresConfig): Promise<SecurityStores> {
  if (config.redisUrl === undefined || config.redisUrl === '') {
    const close = (): Promise<void> => Promise.resolve();
    return {
      kind: 'memory',
      rateLimiter: new MemoryRateLimiter(config.rateLimit),
      nonces: new MemoryNonceStore(),
      lockout: new MemoryLockoutStore(config.lockout),
      streams: new MemoryStreamSlots(),
      limiter: (_name, options) => new MemoryRateLimiter(options),
      close,
      [Symbol.asyncDispose]: close,
    };
  }
  const { redis, close } = await connectStoreRedis(config.redisUrl, config.onError);
  const keys = securityKeys(config.prefix);
  try {
    const lockout = new RedisLockoutStore(redis, keys, config.lockout);
    const rateLimiter = new RedisRateLimiter(redis, keys, {
      ...config.rateLimit,
      name: DEFAULT_LIMITER_NAME,
    });
    const streams = new RedisStreamSlots(
      redis,
      keys,
      config.onError === undefined ? {} : { onError: config.onError },
    );
    const closeAll = async (): Promise<void> => {
      await streams.close();
      await close();
    };
    return {
      kind: 'redis',
      keys,
      rateLimiter,
      nonces: new RedisNonceStore(redis, keys),
      lockout,
      streams,
      limiter: (name, options) => new RedisRateLimiter(redis, keys, { ...options, name }),
      close: closeAll,
      [Symbol.asyncDispose]: closeAll,
    };
  } catch (err) {
    // Invalid limits: do not leak the connection we just opened.
    redis.disconnect();
    throw err;
  }
}
