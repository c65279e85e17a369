/**
 * Usage counters of server-side sampling (@mcp-cluster/sampling): tokens and cost per
 * principal and window. A request reserves its worst case atomically (refused when the sum
 * would pass a limit) and settles it afterwards. Memory counts for one process; Redis for
 * the cluster (one hash per principal and window, a script for the reservation, a TTL to the
 * window's end), so every worker enforces the same budget.
 */
import type { Redis } from 'ioredis';
import type { ClusterKeys } from './keys.js';
import { LuaScript } from './lua.js';

export interface Usage {
  readonly tokens: number;
  /** USD. */
  readonly cost: number;
}

export interface UsageLimits {
  readonly tokens?: number | undefined;
  readonly cost?: number | undefined;
}

export interface UsageStore {
  /**
   * Adds `delta` to the counters of `key` (a principal's window) unless the sum would pass
   * `limits`; returns whether it did, and the usage after (or the usage that refused it).
   * The counters live `ttlMs` (to the window's end).
   */
  reserve(
    key: string,
    delta: Usage,
    limits: UsageLimits,
    ttlMs: number,
  ): Promise<{ readonly ok: boolean; readonly usage: Usage }>;
  /** Adds `delta` unconditionally (negative: a reservation settled or released). */
  add(key: string, delta: Usage, ttlMs: number): Promise<void>;
}

interface Bucket {
  tokens: number;
  cost: number;
  expiresAt: number;
}

export class MemoryUsageStore implements UsageStore {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  reserve(
    key: string,
    delta: Usage,
    limits: UsageLimits,
    ttlMs: number,
  ): Promise<{ ok: boolean; usage: Usage }> {
    const b = this.bucket(key, ttlMs);
    const tokens = b.tokens + delta.tokens;
    const cost = b.cost + delta.cost;
    if (over(tokens, cost, limits)) {
      return Promise.resolve({ ok: false, usage: { tokens: b.tokens, cost: b.cost } });
    }
    b.tokens = tokens;
    b.cost = cost;
    return Promise.resolve({ ok: true, usage: { tokens, cost } });
  }

  add(key: string, delta: Usage, ttlMs: number): Promise<void> {
    const b = this.bucket(key, ttlMs);
    b.tokens = Math.max(0, b.tokens + delta.tokens);
    b.cost = Math.max(0, b.cost + delta.cost);
    return Promise.resolve();
  }

  private bucket(key: string, ttlMs: number): Bucket {
    const now = this.now();
    let b = this.buckets.get(key);
    if (b === undefined || b.expiresAt <= now) {
      this.prune(now);
      b = { tokens: 0, cost: 0, expiresAt: now + ttlMs };
      this.buckets.set(key, b);
    }
    return b;
  }

  /** Drops ended windows (only when a bucket is made: bounded by the active principals). */
  private prune(now: number): void {
    for (const [k, b] of this.buckets) if (b.expiresAt <= now) this.buckets.delete(k);
  }
}

const over = (tokens: number, cost: number, limits: UsageLimits): boolean =>
  (limits.tokens !== undefined && tokens > limits.tokens) ||
  (limits.cost !== undefined && cost > limits.cost);

/** KEYS: the hash. ARGV: tokens, cost, token limit ('' none), cost limit ('' none), ttl ms. */
const RESERVE = new LuaScript(`
local t = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local c = tonumber(redis.call('HGET', KEYS[1], 'c') or '0')
local dt = tonumber(ARGV[1])
local dc = tonumber(ARGV[2])
if (ARGV[3] ~= '' and t + dt > tonumber(ARGV[3])) or (ARGV[4] ~= '' and c + dc > tonumber(ARGV[4])) then
  return {0, tostring(t), tostring(c)}
end
local nt = redis.call('HINCRBY', KEYS[1], 't', ARGV[1])
local nc = redis.call('HINCRBYFLOAT', KEYS[1], 'c', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, tostring(nt), nc}
`);

/** The cluster's counters, under `keys.samplingUsage`; shared by every worker. */
export class RedisUsageStore implements UsageStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Pick<ClusterKeys, 'samplingUsage'>,
  ) {}

  async reserve(
    key: string,
    delta: Usage,
    limits: UsageLimits,
    ttlMs: number,
  ): Promise<{ ok: boolean; usage: Usage }> {
    const reply = (await RESERVE.run(
      this.redis,
      [this.keys.samplingUsage(key)],
      [
        integer(delta.tokens),
        String(delta.cost),
        limits.tokens === undefined ? '' : String(limits.tokens),
        limits.cost === undefined ? '' : String(limits.cost),
        ttl(ttlMs),
      ],
    )) as [number, string, string];
    return { ok: reply[0] === 1, usage: { tokens: Number(reply[1]), cost: Number(reply[2]) } };
  }

  async add(key: string, delta: Usage, ttlMs: number): Promise<void> {
    const k = this.keys.samplingUsage(key);
    await this.redis
      .multi()
      .hincrby(k, 't', integer(delta.tokens))
      .hincrbyfloat(k, 'c', delta.cost)
      .pexpire(k, ttl(ttlMs))
      .exec();
  }
}

/** Tokens are whole; HINCRBY refuses anything else. */
const integer = (n: number): number => Math.round(n);
const ttl = (ms: number): number => Math.max(1, Math.ceil(ms));
