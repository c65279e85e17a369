/**
 * In-process twins of the security stores, for the embedded node and for tests. Time comes
 * from an injected clock; expired entries are swept every SWEEP_EVERY writes so memory stays
 * bounded by the live entries, like Redis PX TTLs.
 */
import { RATE_LIMIT_IDLE_SLACK_MS } from './keys.js';
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
  type StreamSlots,
} from './types.js';

/** Writes between two sweeps of expired entries (amortised O(1) per write). */
export const SWEEP_EVERY = 1_000;

export interface MemoryClockOptions {
  /** Milliseconds clock (default Date.now); tests inject a fake one. */
  now?: () => number;
}

/** Runs `decide` as an async call: a throw becomes a rejection, as it would on Redis. */
const settle = <T>(decide: () => T): Promise<T> => new Promise<T>((resolve) => resolve(decide()));

/** Map whose entries vanish at their expiry time. */
class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private writes = 0;

  constructor(private readonly now: () => number) {}

  get(key: string): { value: V; expiresAt: number } | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    if (++this.writes >= SWEEP_EVERY) this.sweep();
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  private sweep(): void {
    this.writes = 0;
    const now = this.now();
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
  }
}

/** Token buckets; a missing bucket is a full one. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly options: Readonly<RateLimitOptions>;
  private readonly now: () => number;
  private readonly buckets: ExpiringMap<{ tokens: number; ts: number }>;

  constructor(options: RateLimitOptions & MemoryClockOptions) {
    this.options = resolveRateLimitOptions(options);
    this.now = options.now ?? Date.now;
    this.buckets = new ExpiringMap(this.now);
  }

  take(key: string, cost = 1): Promise<RateLimitDecision> {
    return settle(() => this.decide(key, cost));
  }

  private decide(key: string, cost: number): RateLimitDecision {
    checkCost(cost, this.options);
    const { capacity, refillPerSecond } = this.options;
    const now = this.now();
    const prev = this.buckets.get(key)?.value;
    const elapsed = prev === undefined ? 0 : Math.max(0, now - prev.ts);
    const tokens =
      prev === undefined
        ? capacity
        : Math.min(capacity, prev.tokens + (elapsed * refillPerSecond) / 1000);
    if (tokens < cost) {
      const retryAfterMs = Math.ceil(((cost - tokens) * 1000) / refillPerSecond);
      return { allowed: false, remaining: Math.floor(tokens), retryAfterMs };
    }
    const left = tokens - cost;
    const untilFull = Math.ceil(((capacity - left) * 1000) / refillPerSecond);
    this.buckets.set(key, { tokens: left, ts: now }, untilFull + RATE_LIMIT_IDLE_SLACK_MS);
    return { allowed: true, remaining: Math.floor(left), retryAfterMs: 0 };
  }
}

export class MemoryNonceStore implements NonceStore {
  private readonly seen: ExpiringMap<true>;

  constructor(options: MemoryClockOptions = {}) {
    this.seen = new ExpiringMap(options.now ?? Date.now);
  }

  claim(nonce: string, ttlMs: number): Promise<boolean> {
    return settle(() => this.decide(nonce, ttlMs));
  }

  private decide(nonce: string, ttlMs: number): boolean {
    checkTtl(ttlMs);
    if (this.seen.get(nonce) !== undefined) return false;
    this.seen.set(nonce, true, ttlMs);
    return true;
  }
}

export class MemoryLockoutStore implements LockoutStore {
  private readonly options: ResolvedLockoutOptions;
  private readonly now: () => number;
  private readonly failures: ExpiringMap<number>;
  private readonly locks: ExpiringMap<true>;
  /** Attempts in flight: identifier -> ticket -> expiry. */
  private readonly pending = new Map<string, Map<string, number>>();
  private tickets = 0;

  constructor(options: LockoutOptions & MemoryClockOptions = {}) {
    this.options = resolveLockoutOptions(options);
    this.now = options.now ?? Date.now;
    this.failures = new ExpiringMap(this.now);
    this.locks = new ExpiringMap(this.now);
  }

  begin(ids: readonly string[]): Promise<AttemptDecision> {
    return settle(() => this.reserve([...new Set(ids)]));
  }

  async finish(ids: readonly string[], ticket: string, failed: boolean): Promise<LockState> {
    for (const id of new Set(ids)) {
      const inFlight = this.pending.get(id);
      inFlight?.delete(ticket);
      if (inFlight?.size === 0) this.pending.delete(id);
    }
    return failed ? this.fail(ids) : this.isLocked(ids);
  }

  private reserve(ids: readonly string[]): AttemptDecision {
    const { maxFailures, maxConcurrent, reservationMs } = this.options;
    const now = this.now();
    let lockedFor = 0;
    let busy = false;
    for (const id of ids) {
      const lock = this.locks.get(id);
      if (lock !== undefined) {
        lockedFor = Math.max(lockedFor, lock.expiresAt - now);
        continue;
      }
      const inFlight = this.inFlight(id, now);
      const failures = this.failures.get(id)?.value ?? 0;
      if (inFlight >= maxConcurrent || failures + inFlight >= maxFailures) busy = true;
    }
    if (lockedFor > 0) return { granted: false, locked: true, retryAfterMs: lockedFor };
    if (busy) return { granted: false, locked: false, retryAfterMs: LOCKOUT_BUSY_RETRY_MS };
    const ticket = String(++this.tickets);
    for (const id of ids) {
      let inFlight = this.pending.get(id);
      if (inFlight === undefined) this.pending.set(id, (inFlight = new Map<string, number>()));
      inFlight.set(ticket, now + reservationMs);
    }
    if (this.tickets % SWEEP_EVERY === 0) {
      for (const id of [...this.pending.keys()]) this.inFlight(id, now);
    }
    return { granted: true, ticket };
  }

  /** Live reservations of `id`, dropping the lapsed ones. */
  private inFlight(id: string, now: number): number {
    const inFlight = this.pending.get(id);
    if (inFlight === undefined) return 0;
    for (const [ticket, expiresAt] of inFlight) if (expiresAt <= now) inFlight.delete(ticket);
    if (inFlight.size === 0) this.pending.delete(id);
    return inFlight.size;
  }

  async fail(ids: readonly string[]): Promise<LockState> {
    const { maxFailures, windowMs, lockMs } = this.options;
    for (const id of new Set(ids)) {
      if (this.locks.get(id) !== undefined) continue;
      const prev = this.failures.get(id);
      const count = (prev?.value ?? 0) + 1;
      if (count >= maxFailures) {
        this.failures.delete(id);
        this.locks.set(id, true, lockMs);
      } else {
        // The window runs from the first failure; later ones keep its expiry.
        this.failures.set(id, count, prev === undefined ? windowMs : prev.expiresAt - this.now());
      }
    }
    return this.isLocked(ids);
  }

  isLocked(ids: readonly string[]): Promise<LockState> {
    const now = this.now();
    let retryAfterMs = 0;
    for (const id of ids) {
      const lock = this.locks.get(id);
      if (lock !== undefined) retryAfterMs = Math.max(retryAfterMs, lock.expiresAt - now);
    }
    return Promise.resolve({ locked: retryAfterMs > 0, retryAfterMs });
  }

  reset(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      this.failures.delete(id);
      this.locks.delete(id);
    }
    return Promise.resolve();
  }
}

/** One process's open streams per principal (the embedded node). */
export class MemoryStreamSlots implements StreamSlots {
  private readonly open = new Map<string, number>();

  acquire(principal: string, max: number): Promise<(() => void) | undefined> {
    const count = this.open.get(principal) ?? 0;
    if (count >= max) return Promise.resolve(undefined);
    this.open.set(principal, count + 1);
    let released = false;
    return Promise.resolve(() => {
      if (released) return;
      released = true;
      const left = (this.open.get(principal) ?? 1) - 1;
      if (left <= 0) this.open.delete(principal);
      else this.open.set(principal, left);
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
