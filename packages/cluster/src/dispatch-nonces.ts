/**
 * The used-once check of signed dispatches (dispatch-auth.ts): a nonce is claimed by the
 * first worker that runs its dispatch, and every later claim — by any worker sharing the
 * store — fails until the record expires, after the signature itself has. Redis for a
 * cluster (`SET key 1 NX PX ttl`: atomic, every worker sees it), memory for one process.
 */
import type { Redis } from 'ioredis';
import type { ClusterKeys } from './keys.js';

export interface DispatchNonceStore {
  /**
   * True the first time `nonce` is claimed within `ttlMs`; false when it was claimed before
   * (a replay). Rejects when the store cannot answer: the caller must then refuse.
   */
  claim(nonce: string, ttlMs: number): Promise<boolean>;
}

/** Claims between two sweeps of expired nonces (amortised O(1) per claim). */
export const NONCE_SWEEP_EVERY = 1_000;

function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`nonce ttl must be a positive integer of milliseconds, got ${ttlMs}`);
  }
}

/**
 * One process's nonces (an in-memory cluster state, tests). Memory stays bounded by the
 * nonces still live: expired ones are swept every {@link NONCE_SWEEP_EVERY} claims.
 */
export class MemoryDispatchNonceStore implements DispatchNonceStore {
  private readonly expiries = new Map<string, number>();
  private claims = 0;
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Nonces held, expired ones not swept yet included (what the memory holds). */
  get size(): number {
    return this.expiries.size;
  }

  claim(nonce: string, ttlMs: number): Promise<boolean> {
    // A throw becomes a rejection, as it would on Redis.
    return new Promise<boolean>((resolve) => resolve(this.decide(nonce, ttlMs)));
  }

  private decide(nonce: string, ttlMs: number): boolean {
    checkTtl(ttlMs);
    const now = this.now();
    if (++this.claims >= NONCE_SWEEP_EVERY) this.sweep(now);
    const expiresAt = this.expiries.get(nonce);
    if (expiresAt !== undefined && expiresAt > now) return false;
    this.expiries.set(nonce, now + ttlMs);
    return true;
  }

  private sweep(now: number): void {
    this.claims = 0;
    for (const [nonce, expiresAt] of this.expiries) {
      if (expiresAt <= now) this.expiries.delete(nonce);
    }
  }
}

/** The cluster's nonces, under `keys.dispatchNonce`; shared by every worker. */
export class RedisDispatchNonceStore implements DispatchNonceStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Pick<ClusterKeys, 'dispatchNonce'>,
  ) {}

  async claim(nonce: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    return (await this.redis.set(this.keys.dispatchNonce(nonce), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }
}
