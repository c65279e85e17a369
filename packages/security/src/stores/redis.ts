/**
 * Redis implementations of the security stores, shared by every gateway of a cluster. Each
 * decision is one Lua script or one command, so it is atomic across processes; time comes
 * from Redis `TIME`, never from a gateway's clock. Scripts run as the cluster's LuaScript
 * (EVALSHA, falling back to EVAL on NOSCRIPT). The caller owns the client.
 */
import { randomBytes } from 'node:crypto';

import { LuaScript } from '@mcp-cluster/cluster/lua';
import type { Redis } from 'ioredis';

import { RATE_LIMIT_IDLE_SLACK_MS, type SecurityKeys } from './keys.js';
import {
  type AttemptDecision,
  checkCost,
  checkTtl,
  LOCKOUT_BUSY_RETRY_MS,
  type LockoutOptions,
  type LockoutStore,
  type LockState,
  type NonceStore,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimitOptions,
  resolveLockoutOptions,
  resolveRateLimitOptions,
  type ResolvedLockoutOptions,
  SecurityStoreError,
  type StreamSlots,
} from './types.js';

/** Name of the limiter when the caller does not give one (key `…:ratelimit:default:…`). */
export const DEFAULT_LIMITER_NAME = 'default';

/**
 * KEYS[1] bucket hash {t, ts}; ARGV capacity, refill/s, cost, idle slack ms.
 * Returns {allowed 0|1, whole tokens remaining, retryAfterMs}. A missing bucket is full;
 * a refused take writes nothing; PX = time until full again, so idle buckets vanish.
 */
const TOKEN_BUCKET = new LuaScript(`
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local slack = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = capacity
if state[1] and state[2] then
  local elapsed = math.max(0, now - tonumber(state[2]))
  tokens = math.min(capacity, tonumber(state[1]) + elapsed * rate / 1000)
end
if tokens < cost then
  return {0, math.floor(tokens), math.ceil((cost - tokens) * 1000 / rate)}
end
local left = tokens - cost
redis.call('HSET', KEYS[1], 't', string.format('%.17g', left), 'ts', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - left) * 1000 / rate) + slack)
return {1, math.floor(left), 0}
`);

/**
 * KEYS pairs (failure counter, lock) per identifier; ARGV maxFailures, windowMs, lockMs.
 * Returns the longest remaining lock in ms (0 = none locked). A locked identifier's failure
 * is not counted and does not extend its lock.
 */
const LOCKOUT_FAIL = new LuaScript(`
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local lockMs = tonumber(ARGV[3])
local retry = 0
for i = 1, #KEYS, 2 do
  local fails = KEYS[i]
  local lock = KEYS[i + 1]
  local ttl = redis.call('PTTL', lock)
  if ttl <= 0 then
    ttl = 0
    local n = redis.call('INCR', fails)
    if n == 1 then redis.call('PEXPIRE', fails, window) end
    if n >= max then
      redis.call('DEL', fails)
      redis.call('SET', lock, '1', 'PX', lockMs)
      ttl = lockMs
    end
  end
  if ttl > retry then retry = ttl end
end
return retry
`);

/**
 * KEYS triples (failure counter, lock, attempts in flight) per identifier; ARGV maxFailures,
 * maxConcurrent, reservationMs, ticket. Returns {granted 0|1, locked 0|1, retryAfterMs}.
 * Lapsed reservations (scored by their expiry, Redis time) are dropped first; a refusal
 * reserves nothing; a grant adds the ticket to every identifier's set.
 */
const LOCKOUT_BEGIN = new LuaScript(`
local max = tonumber(ARGV[1])
local maxConcurrent = tonumber(ARGV[2])
local reservation = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local locked = 0
local busy = false
for i = 1, #KEYS, 3 do
  local ttl = redis.call('PTTL', KEYS[i + 1])
  if ttl > 0 then
    if ttl > locked then locked = ttl end
  else
    redis.call('ZREMRANGEBYSCORE', KEYS[i + 2], '-inf', now)
    local inFlight = redis.call('ZCARD', KEYS[i + 2])
    local fails = tonumber(redis.call('GET', KEYS[i]) or '0')
    if inFlight >= maxConcurrent or fails + inFlight >= max then busy = true end
  end
end
if locked > 0 then return {0, 1, locked} end
if busy then return {0, 0, 0} end
for i = 1, #KEYS, 3 do
  redis.call('ZADD', KEYS[i + 2], now + reservation, ARGV[4])
  redis.call('PEXPIRE', KEYS[i + 2], reservation)
end
return {1, 0, 0}
`);

/**
 * KEYS triples as for begin; ARGV maxFailures, windowMs, lockMs, ticket, failed 0|1. Removes
 * the reservation; a failure then counts exactly as LOCKOUT_FAIL. Returns the longest
 * remaining lock in ms.
 */
const LOCKOUT_FINISH = new LuaScript(`
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local lockMs = tonumber(ARGV[3])
local failed = ARGV[5] == '1'
local retry = 0
for i = 1, #KEYS, 3 do
  redis.call('ZREM', KEYS[i + 2], ARGV[4])
  local ttl = redis.call('PTTL', KEYS[i + 1])
  if ttl <= 0 then
    ttl = 0
    if failed then
      local n = redis.call('INCR', KEYS[i])
      if n == 1 then redis.call('PEXPIRE', KEYS[i], window) end
      if n >= max then
        redis.call('DEL', KEYS[i])
        redis.call('SET', KEYS[i + 1], '1', 'PX', lockMs)
        ttl = lockMs
      end
    end
  end
  if ttl > retry then retry = ttl end
end
return retry
`);

function integer(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new SecurityStoreError('bad_reply', `${what}: expected an integer reply`);
  }
  return value;
}

/** A script's reply of exactly `count` integers (a bad_reply error otherwise). */
function integers(reply: unknown, count: number, what: string): number[] {
  if (!Array.isArray(reply) || reply.length !== count) {
    throw new SecurityStoreError('bad_reply', `${what}: expected a ${count}-element reply`);
  }
  return reply.map((v) => integer(v, what));
}

export interface RedisRateLimiterOptions extends RateLimitOptions {
  /** Namespace of this limiter's buckets (default DEFAULT_LIMITER_NAME), e.g. `principal`, `tool`. */
  name?: string;
}

export class RedisRateLimiter implements RateLimiter {
  private readonly options: Readonly<RateLimitOptions>;
  private readonly name: string;

  constructor(
    private readonly redis: Redis,
    private readonly keys: SecurityKeys,
    options: RedisRateLimiterOptions,
  ) {
    this.options = resolveRateLimitOptions(options);
    this.name = options.name ?? DEFAULT_LIMITER_NAME;
  }

  async take(key: string, cost = 1): Promise<RateLimitDecision> {
    checkCost(cost, this.options);
    const reply = await TOKEN_BUCKET.run(
      this.redis,
      [this.keys.rateLimit(this.name, key)],
      [this.options.capacity, this.options.refillPerSecond, cost, RATE_LIMIT_IDLE_SLACK_MS],
    );
    const [allowed, remaining, retryAfterMs] = integers(reply, 3, 'token bucket');
    return { allowed: allowed === 1, remaining: remaining ?? 0, retryAfterMs: retryAfterMs ?? 0 };
  }
}

export class RedisNonceStore implements NonceStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: SecurityKeys,
  ) {}

  async claim(nonce: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    return (await this.redis.set(this.keys.nonce(nonce), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }
}

export class RedisLockoutStore implements LockoutStore {
  private readonly options: ResolvedLockoutOptions;

  constructor(
    private readonly redis: Redis,
    private readonly keys: SecurityKeys,
    options: LockoutOptions = {},
  ) {
    this.options = resolveLockoutOptions(options);
  }

  async begin(ids: readonly string[]): Promise<AttemptDecision> {
    const keys = this.attemptKeys(ids);
    const ticket = randomBytes(12).toString('base64url');
    if (keys.length === 0) return { granted: true, ticket };
    const { maxFailures, maxConcurrent, reservationMs } = this.options;
    const reply = await LOCKOUT_BEGIN.run(this.redis, keys, [
      maxFailures,
      maxConcurrent,
      reservationMs,
      ticket,
    ]);
    const [granted, locked, retryAfterMs] = integers(reply, 3, 'lockout begin');
    if (granted === 1) return { granted: true, ticket };
    return locked === 1
      ? { granted: false, locked: true, retryAfterMs: retryAfterMs ?? 0 }
      : { granted: false, locked: false, retryAfterMs: LOCKOUT_BUSY_RETRY_MS };
  }

  async finish(ids: readonly string[], ticket: string, failed: boolean): Promise<LockState> {
    const keys = this.attemptKeys(ids);
    if (keys.length === 0) return { locked: false, retryAfterMs: 0 };
    const { maxFailures, windowMs, lockMs } = this.options;
    const retryAfterMs = integer(
      await LOCKOUT_FINISH.run(this.redis, keys, [
        maxFailures,
        windowMs,
        lockMs,
        ticket,
        failed ? 1 : 0,
      ]),
      'lockout finish',
    );
    return { locked: retryAfterMs > 0, retryAfterMs };
  }

  private attemptKeys(ids: readonly string[]): string[] {
    return [...new Set(ids)].flatMap((id) => [
      this.keys.lockoutFailures(id),
      this.keys.lockoutLock(id),
      this.keys.lockoutPending(id),
    ]);
  }

  async fail(ids: readonly string[]): Promise<LockState> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return { locked: false, retryAfterMs: 0 };
    const keys = unique.flatMap((id) => [this.keys.lockoutFailures(id), this.keys.lockoutLock(id)]);
    const { maxFailures, windowMs, lockMs } = this.options;
    const retryAfterMs = integer(
      await LOCKOUT_FAIL.run(this.redis, keys, [maxFailures, windowMs, lockMs]),
      'lockout',
    );
    return { locked: retryAfterMs > 0, retryAfterMs };
  }

  async isLocked(ids: readonly string[]): Promise<LockState> {
    if (ids.length === 0) return { locked: false, retryAfterMs: 0 };
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.pttl(this.keys.lockoutLock(id));
    let retryAfterMs = 0;
    for (const [err, ttl] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      retryAfterMs = Math.max(retryAfterMs, integer(ttl, 'lockout pttl'));
    }
    return { locked: retryAfterMs > 0, retryAfterMs };
  }

  async reset(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.del(
      ...ids.flatMap((id) => [this.keys.lockoutFailures(id), this.keys.lockoutLock(id)]),
    );
  }
}

/** How long a stream slot lives without renewal: a dead gateway's slots free after this. */
export const STREAM_LEASE_MS = 30_000;

/**
 * Takes a slot if fewer than ARGV[1] unexpired ones exist. KEYS[1] = the principal's set;
 * ARGV[2] = member, ARGV[3] = lease ms. Redis's clock: gateways' clocks do not matter.
 */
const STREAM_ACQUIRE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + lease, ARGV[2])
redis.call('PEXPIRE', KEYS[1], lease * 2)
return 1
`);

/** Extends a held slot's lease (re-adding it if an outage let it lapse). */
const STREAM_RENEW = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease * 2)
return 1
`);

export interface RedisStreamSlotsOptions {
  /** Lease of a slot (default STREAM_LEASE_MS); renewed every third of it. */
  readonly leaseMs?: number;
  /** Renewal and release failures (the stream stays open; its slot may lapse). */
  readonly onError?: (err: Error) => void;
}

/** Stream slots shared by every gateway: one sorted set of leases per principal. */
export class RedisStreamSlots implements StreamSlots {
  private readonly leaseMs: number;
  /** Slots this process holds: member -> the principal's key. */
  private readonly held = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly keys: SecurityKeys,
    private readonly options: RedisStreamSlotsOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? STREAM_LEASE_MS;
    checkTtl(this.leaseMs);
    this.timer = setInterval(() => void this.renew(), Math.max(1, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  async acquire(principal: string, max: number): Promise<(() => void) | undefined> {
    const key = this.keys.streams(principal);
    const member = randomBytes(12).toString('base64url');
    const got = integer(
      await STREAM_ACQUIRE.run(this.redis, [key], [max, member, this.leaseMs]),
      'streams',
    );
    if (got !== 1) return undefined;
    this.held.set(member, key);
    return () => {
      if (!this.held.delete(member)) return;
      this.redis.zrem(key, member).catch((err: unknown) => this.report(err));
    };
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    return Promise.resolve();
  }

  /** Every held slot at once: the commands share the connection's pipeline, one wait in all. */
  private async renew(): Promise<void> {
    await Promise.all(
      [...this.held].map(([member, key]) =>
        STREAM_RENEW.run(this.redis, [key], [member, this.leaseMs]).catch((err: unknown) =>
          this.report(err),
        ),
      ),
    );
  }

  private report(err: unknown): void {
    this.options.onError?.(err instanceof Error ? err : new Error(String(err)));
  }
}
