/**
 * The one wiring point: memory implementations when no Redis URL is configured (embedded
 * mode), Redis ones otherwise. Disposing closes the connection this created.
 */
import { randomBytes } from 'node:crypto';
import { MemoryBreakerStateStore, RedisBreakerStateStore } from './breaker-state.js';
import type { BreakerStateStore } from './breaker-state.js';

import type { EventBus } from './bus/types.js';
import type { DispatchNonceStore } from './dispatch-nonces.js';
import { MemoryDispatchNonceStore, RedisDispatchNonceStore } from './dispatch-nonces.js';
import { type ClusterKeys, clusterKeys } from './keys.js';
import { MemoryLeaseStore, RedisLeaseStore } from './leases.js';
import type { LeaseStore } from './leases.js';
import { connectRedis } from './redis.js';
import type { ComponentRegistry } from './registry.js';
import { withinMs } from './within.js';
import { MemoryComponentRegistry } from './registry-memory.js';
import { RedisComponentRegistry } from './registry-redis.js';
import type { SessionStore } from './sessions.js';
import { AnnouncedSessionStore } from './sessions-announced.js';
import { MemorySessionStore } from './sessions-memory.js';
import { RedisSessionStore } from './sessions-redis.js';
import { MemoryUsageStore, RedisUsageStore } from './sampling-usage.js';
import type { UsageStore } from './sampling-usage.js';
import { RedisStreamMirror } from './stream-mirror.js';

export interface ClusterStateConfig {
  /** e.g. redis://127.0.0.1:6379; absent = in-memory (single process). */
  redisUrl?: string;
  /** Key prefix (default `mcp`); tests pass a unique one. */
  prefix?: string;
  /** Idle lifetime of a legacy session (default SESSION_TTL_MS). */
  sessionTtlMs?: number;
  /**
   * Connection errors after startup (ioredis reconnects on its own). Without a listener
   * ioredis would print them itself; library code stays quiet unless the caller wants them.
   */
  onError?: (err: Error) => void;
  /**
   * The node's event bus: every successful write of a session record or pin is then announced
   * on it (`session.changed`), which lets gateways cache sessions (AnnouncedSessionStore).
   */
  bus?: Pick<EventBus, 'publish'>;
}

export interface ClusterState extends AsyncDisposable {
  readonly kind: 'memory' | 'redis';
  readonly keys: ClusterKeys;
  readonly sessions: SessionStore;
  readonly registry: ComponentRegistry;
  /** Resumable SSE streams shared between gateways (absent in memory: one process). */
  readonly mirror?: RedisStreamMirror;
  /**
   * The secret every node signs MRTR requestState with when no keys are configured: created
   * once per cluster (first writer wins), so a retry may land on any worker.
   */
  sharedStateKey(): Promise<{ id: string; secret: string }>;
  /**
   * The secret gateways sign dispatches with and workers check them against when none is
   * configured (dispatch-auth.ts): created once per cluster, first writer wins.
   */
  sharedDispatchSecret(): Promise<string>;
  /** Nonces of signed dispatches already run: shared by every worker (dispatch-auth.ts). */
  readonly dispatchNonces: DispatchNonceStore;
  /** Circuit-breaker records every gateway shares (breaker-state.ts). */
  readonly breakerStates: BreakerStateStore;
  /** Server-side sampling usage per principal and window (sampling-usage.ts). */
  readonly samplingUsage: UsageStore;
  /** Named leases: one holder cluster-wide, e.g. one watcher per directory (leases.ts). */
  readonly leases: LeaseStore;
  /** True when the store answers within `timeoutMs` (readiness checks). */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Id of the generated cluster state key (configured keys have their own ids). */
export const SHARED_STATE_KEY_ID = 'cluster';

const PING_TIMEOUT_MS = 1_000;

const newSecret = (): string => randomBytes(32).toString('base64url');

const announced = (
  store: SessionStore,
  bus: Pick<EventBus, 'publish'> | undefined,
): SessionStore => (bus === undefined ? store : new AnnouncedSessionStore(store, bus));

export async function createClusterState(config: ClusterStateConfig = {}): Promise<ClusterState> {
  const keys = clusterKeys(config.prefix);
  if (config.redisUrl === undefined || config.redisUrl === '') {
    const close = (): Promise<void> => Promise.resolve();
    const secret = newSecret();
    const dispatchSecret = newSecret();
    return {
      kind: 'memory',
      keys,
      sessions: announced(new MemorySessionStore(), config.bus),
      registry: new MemoryComponentRegistry(),
      sharedStateKey: () => Promise.resolve({ id: SHARED_STATE_KEY_ID, secret }),
      sharedDispatchSecret: () => Promise.resolve(dispatchSecret),
      dispatchNonces: new MemoryDispatchNonceStore(),
      breakerStates: new MemoryBreakerStateStore(),
      samplingUsage: new MemoryUsageStore(),
      leases: new MemoryLeaseStore(),
      ping: () => Promise.resolve(true),
      close,
      [Symbol.asyncDispose]: close,
    };
  }
  const onError = config.onError;
  const { redis, close: disconnect } = await connectRedis(config.redisUrl, onError);
  const mirror = new RedisStreamMirror(redis, keys, (err) =>
    onError?.(err instanceof Error ? err : new Error(String(err))),
  );
  const close = (): Promise<void> => {
    mirror.stop();
    return disconnect();
  };
  // SET NX then GET: whoever wrote first, every node reads the same secret.
  const sharedSecret = async (key: string): Promise<string> => {
    await redis.set(key, newSecret(), 'NX');
    const secret = await redis.get(key);
    if (secret === null) throw new Error(`cluster secret ${key} vanished`);
    return secret;
  };
  return {
    kind: 'redis',
    keys,
    sessions: announced(
      new RedisSessionStore(
        redis,
        keys,
        config.sessionTtlMs === undefined ? {} : { ttlMs: config.sessionTtlMs },
      ),
      config.bus,
    ),
    registry: new RedisComponentRegistry(redis, keys),
    mirror,
    async ping(timeoutMs = PING_TIMEOUT_MS) {
      const pong = redis.ping().then(
        (r) => r === 'PONG',
        () => false,
      );
      return (await withinMs(pong, timeoutMs)) ?? false;
    },
    async sharedStateKey() {
      return { id: SHARED_STATE_KEY_ID, secret: await sharedSecret(keys.stateKey()) };
    },
    sharedDispatchSecret: () => sharedSecret(keys.dispatchKey()),
    dispatchNonces: new RedisDispatchNonceStore(redis, keys),
    breakerStates: new RedisBreakerStateStore(redis, keys),
    samplingUsage: new RedisUsageStore(redis, keys),
    leases: new RedisLeaseStore(redis, keys),
    close,
    [Symbol.asyncDispose]: close,
  };
}
