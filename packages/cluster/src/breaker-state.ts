/**
 * The circuit-breaker state every gateway shares, one record per worker: whether gateways may
 * send it requests (`closed`), must hold it back (`open`, until a trial may go), or one gateway
 * holds its one trial (`half-open`). Writes are compare-and-set on a generation, so two
 * gateways that trip at once agree on one record; the trial is a lock only one gateway gets.
 *
 * Redis for a cluster (Lua: the generation check, the write and the lock are one step; every
 * key has a TTL), memory for one process and tests. Gateways call the store only on a
 * transition or a poll, never per dispatch; a rejecting store leaves each gateway with its
 * own breaker (see @mcp-cluster/resilience).
 */
import type { Redis } from 'ioredis';
import type { ClusterKeys } from './keys.js';
import { BREAKER_RECORD_TTL_MS } from './keys.js';
import { LuaScript } from './lua.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half-open'];

/** One worker's shared breaker. Times are epoch ms of the store's clock (Redis TIME). */
export interface BreakerRecord {
  readonly workerId: string;
  readonly state: BreakerState;
  /**
   * Bumped by every write, never reused (max(previous + 1, now ms), so a record that expired
   * and was written again still outranks every copy a gateway holds): a gateway applies a
   * record only when its generation is above the one it knows.
   */
  readonly generation: number;
  /** When it opened (0 while closed). */
  readonly openedAt: number;
  /** open: when a trial may go; half-open: when the trial lock lapses; closed: 0. */
  readonly until: number;
  /** The gateway that wrote it. */
  readonly updatedBy: string;
  readonly updatedAt: number;
}

/** A transition one gateway writes. */
export interface BreakerWrite {
  readonly state: 'closed' | 'open';
  /** open: how long until a trial may go (ms from the write). */
  readonly untilInMs: number;
  readonly updatedBy: string;
}

/** What a compare-and-set (or a trial attempt) found: `record` is the stored one after it. */
export interface BreakerSwap {
  readonly ok: boolean;
  readonly record: BreakerRecord | undefined;
}

export interface BreakerStateStore {
  /** The stored records of these workers (workers without one are closed). */
  get(workerIds: readonly string[]): Promise<BreakerRecord[]>;
  /**
   * Writes `write` when the stored generation is `expectedGeneration` (0: none stored); a
   * write that ends a trial (open or closed) also frees the trial lock.
   */
  compareAndSet(
    workerId: string,
    expectedGeneration: number,
    write: BreakerWrite,
  ): Promise<BreakerSwap>;
  /**
   * The one trial: when the stored generation is `expectedGeneration` and nobody holds the
   * trial lock, takes it for `lockMs` and writes `half-open` (until = when the lock lapses).
   */
  tryTrial(
    workerId: string,
    expectedGeneration: number,
    holder: string,
    lockMs: number,
  ): Promise<BreakerSwap>;
  /** Extends the trial lock while `holder` still holds it (its trial is still running). */
  renewTrial(workerId: string, holder: string, lockMs: number): Promise<boolean>;
}

/** One process's breaker records (tests, and a memory cluster state). */
export class MemoryBreakerStateStore implements BreakerStateStore {
  private readonly records = new Map<string, { record: BreakerRecord; expiresAt: number }>();
  private readonly locks = new Map<string, { holder: string; expiresAt: number }>();
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(options: { now?: () => number; ttlMs?: number } = {}) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? BREAKER_RECORD_TTL_MS;
  }

  get(workerIds: readonly string[]): Promise<BreakerRecord[]> {
    return Promise.resolve(
      workerIds.flatMap((id) => {
        const r = this.read(id);
        return r === undefined ? [] : [r];
      }),
    );
  }

  compareAndSet(workerId: string, expected: number, write: BreakerWrite): Promise<BreakerSwap> {
    const current = this.read(workerId);
    if ((current?.generation ?? 0) !== expected) {
      return Promise.resolve({ ok: false, record: current });
    }
    const now = this.now();
    const record: BreakerRecord = {
      workerId,
      state: write.state,
      generation: Math.max(expected + 1, now),
      openedAt: write.state === 'open' ? now : 0,
      until: write.state === 'open' ? now + write.untilInMs : 0,
      updatedBy: write.updatedBy,
      updatedAt: now,
    };
    this.records.set(workerId, { record, expiresAt: now + this.ttlMs });
    this.locks.delete(workerId);
    return Promise.resolve({ ok: true, record });
  }

  tryTrial(
    workerId: string,
    expected: number,
    holder: string,
    lockMs: number,
  ): Promise<BreakerSwap> {
    const current = this.read(workerId);
    const now = this.now();
    const lock = this.locks.get(workerId);
    const locked = lock !== undefined && lock.expiresAt > now;
    if ((current?.generation ?? 0) !== expected || locked) {
      return Promise.resolve({ ok: false, record: current });
    }
    this.locks.set(workerId, { holder, expiresAt: now + lockMs });
    const record: BreakerRecord = {
      workerId,
      state: 'half-open',
      generation: Math.max(expected + 1, now),
      openedAt: current?.openedAt ?? now,
      until: now + lockMs,
      updatedBy: holder,
      updatedAt: now,
    };
    this.records.set(workerId, { record, expiresAt: now + this.ttlMs });
    return Promise.resolve({ ok: true, record });
  }

  renewTrial(workerId: string, holder: string, lockMs: number): Promise<boolean> {
    const lock = this.locks.get(workerId);
    const now = this.now();
    if (lock === undefined || lock.holder !== holder || lock.expiresAt <= now) {
      return Promise.resolve(false);
    }
    lock.expiresAt = now + lockMs;
    return Promise.resolve(true);
  }

  private read(workerId: string): BreakerRecord | undefined {
    const entry = this.records.get(workerId);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.records.delete(workerId);
      return undefined;
    }
    return entry.record;
  }
}

/** Server time in ms and the next generation; shared head of the write scripts. */
const LUA_PRELUDE = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'generation') or '0')
if cur ~= tonumber(ARGV[1]) then return {0, redis.call('HGETALL', KEYS[1])} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gen = math.max(cur + 1, now)
`;

/** KEYS: record, trial lock. ARGV: expected generation, state, untilInMs, updatedBy, ttl. */
const COMPARE_AND_SET = new LuaScript(`${LUA_PRELUDE}
local open = ARGV[2] == 'open'
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'generation', string.format('%d', gen),
  'openedAt', string.format('%d', open and now or 0),
  'until', string.format('%d', open and (now + tonumber(ARGV[3])) or 0),
  'updatedBy', ARGV[4], 'updatedAt', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('DEL', KEYS[2])
return {1, redis.call('HGETALL', KEYS[1])}
`);

/** KEYS: record, trial lock. ARGV: expected generation, holder, lockMs, ttl. */
const TRY_TRIAL = new LuaScript(`${LUA_PRELUDE}
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  return {0, redis.call('HGETALL', KEYS[1])}
end
local opened = redis.call('HGET', KEYS[1], 'openedAt') or string.format('%d', now)
redis.call('HSET', KEYS[1], 'state', 'half-open', 'generation', string.format('%d', gen),
  'openedAt', opened, 'until', string.format('%d', now + tonumber(ARGV[3])),
  'updatedBy', ARGV[2], 'updatedAt', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, redis.call('HGETALL', KEYS[1])}
`);

/** KEYS: trial lock. ARGV: holder, lockMs. */
const RENEW_TRIAL = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

function isState(s: string | undefined): s is BreakerState {
  return s === 'closed' || s === 'open' || s === 'half-open';
}

/** A record from HGETALL's flat [field, value, ...] list; undefined when empty or malformed. */
function parseRecord(workerId: string, flat: unknown): BreakerRecord | undefined {
  if (!Array.isArray(flat) || flat.length === 0) return undefined;
  const h = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) h.set(String(flat[i]), String(flat[i + 1]));
  return recordOf(workerId, (f) => h.get(f));
}

function recordOf(
  workerId: string,
  field: (name: string) => string | undefined,
): BreakerRecord | undefined {
  const state = field('state');
  const generation = Number(field('generation'));
  if (!isState(state) || !Number.isSafeInteger(generation)) return undefined;
  return {
    workerId,
    state,
    generation,
    openedAt: Number(field('openedAt') ?? 0),
    until: Number(field('until') ?? 0),
    updatedBy: field('updatedBy') ?? '',
    updatedAt: Number(field('updatedAt') ?? 0),
  };
}

function swapOf(workerId: string, reply: unknown): BreakerSwap {
  const [ok, flat] = Array.isArray(reply) ? (reply as [unknown, unknown]) : [0, []];
  return { ok: ok === 1, record: parseRecord(workerId, flat) };
}

function checkMs(name: string, ms: number): void {
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new RangeError(`${name} must be a positive integer of milliseconds, got ${ms}`);
  }
}

/** The cluster's breaker records, under `keys.breaker` / `keys.breakerTrial`. */
export class RedisBreakerStateStore implements BreakerStateStore {
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Pick<ClusterKeys, 'breaker' | 'breakerTrial'>,
    options: { ttlMs?: number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? BREAKER_RECORD_TTL_MS;
    checkMs('breaker record ttl', this.ttlMs);
  }

  async get(workerIds: readonly string[]): Promise<BreakerRecord[]> {
    if (workerIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of workerIds) pipeline.hgetall(this.keys.breaker(id));
    const replies = (await pipeline.exec()) ?? [];
    const out: BreakerRecord[] = [];
    replies.forEach(([err, hash], i) => {
      if (err !== null) throw err;
      const id = workerIds[i];
      if (id === undefined || typeof hash !== 'object' || hash === null) return;
      const h = hash as Record<string, string>;
      const r = recordOf(id, (f) => h[f]);
      if (r !== undefined) out.push(r);
    });
    return out;
  }

  async compareAndSet(
    workerId: string,
    expectedGeneration: number,
    write: BreakerWrite,
  ): Promise<BreakerSwap> {
    if (write.state === 'open') checkMs('breaker open time', write.untilInMs);
    const reply = await COMPARE_AND_SET.run(
      this.redis,
      [this.keys.breaker(workerId), this.keys.breakerTrial(workerId)],
      [expectedGeneration, write.state, write.untilInMs, write.updatedBy, this.ttlMs],
    );
    return swapOf(workerId, reply);
  }

  async tryTrial(
    workerId: string,
    expectedGeneration: number,
    holder: string,
    lockMs: number,
  ): Promise<BreakerSwap> {
    checkMs('trial lock', lockMs);
    const reply = await TRY_TRIAL.run(
      this.redis,
      [this.keys.breaker(workerId), this.keys.breakerTrial(workerId)],
      [expectedGeneration, holder, lockMs, this.ttlMs],
    );
    return swapOf(workerId, reply);
  }

  async renewTrial(workerId: string, holder: string, lockMs: number): Promise<boolean> {
    checkMs('trial lock', lockMs);
    const reply = await RENEW_TRIAL.run(
      this.redis,
      [this.keys.breakerTrial(workerId)],
      [holder, lockMs],
    );
    return reply === 1;
  }
}
