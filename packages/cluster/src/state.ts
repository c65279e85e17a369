/**
 * The one wiring point: memory implementations when no Redis URL is configured (embedded
 * mode), Redis ones otherwise. Disposing closes the connection this created.
 */
import { Redis } from 'ioredis';

import { type ClusterKeys, clusterKeys } from './keys.js';
import type { ComponentRegistry } from './registry.js';
import { MemoryComponentRegistry } from './registry-memory.js';
import { RedisComponentRegistry } from './registry-redis.js';
import type { ReplayLog } from './replay.js';
import { MemoryReplayLog } from './replay-memory.js';
import { RedisReplayLog } from './replay-redis.js';
import type { SessionStore } from './sessions.js';
import { MemorySessionStore } from './sessions-memory.js';
import { RedisSessionStore } from './sessions-redis.js';

export interface ClusterStateConfig {
  /** e.g. redis://127.0.0.1:6379; absent = in-memory (single process). */
  redisUrl?: string;
  /** Key prefix (default `mcp`); tests pass a unique one. */
  prefix?: string;
  /**
   * Connection errors after startup (ioredis reconnects on its own). Without a listener
   * ioredis would print them itself; library code stays quiet unless the caller wants them.
   */
  onError?: (err: Error) => void;
}

export interface ClusterState extends AsyncDisposable {
  readonly kind: 'memory' | 'redis';
  readonly keys: ClusterKeys;
  readonly sessions: SessionStore;
  readonly replay: ReplayLog;
  readonly registry: ComponentRegistry;
  close(): Promise<void>;
}

export async function createClusterState(config: ClusterStateConfig = {}): Promise<ClusterState> {
  const keys = clusterKeys(config.prefix);
  if (config.redisUrl === undefined || config.redisUrl === '') {
    const close = (): Promise<void> => Promise.resolve();
    return {
      kind: 'memory',
      keys,
      sessions: new MemorySessionStore(),
      replay: new MemoryReplayLog(),
      registry: new MemoryComponentRegistry(),
      close,
      [Symbol.asyncDispose]: close,
    };
  }
  // lazyConnect + connect(): a bad URL fails here, at startup, not on the first request.
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  const onError = config.onError;
  redis.on('error', (err: Error) => onError?.(err));
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await redis.quit();
  };
  return {
    kind: 'redis',
    keys,
    sessions: new RedisSessionStore(redis, keys),
    replay: new RedisReplayLog(redis, keys),
    registry: new RedisComponentRegistry(redis, keys),
    close,
    [Symbol.asyncDispose]: close,
  };
}
