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

function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`nonce ttl must be a positive integer of milliseconds, got ${ttlMs}`);
  }
}

/**
 * One process's nonces: the dispatches addressed to this worker process, or every dispatch
 * of an in-memory cluster state (tests). Memory stays bounded by the nonces still live: each
 * claim first drops the expired ones at the front (insertion order is expiry order when the
 * ttl is the same, as a verifier's is; a longer-lived entry in front only delays the drop).
 * It holds about `rate × ttl` entries (~100 bytes each): 400,000 at 10,000 dispatches/s with
 * the default 40 s.
 */
export class MemoryDispatchNonceStore implements DispatchNonceStore {
  private readonly expiries = new Map<string, number>();
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Nonces held, expired ones not dropped yet included (what the memory holds). */
  get size(): number {
    return this.expiries.size;
  }

  claim(nonce: string, ttlMs: number): Promise<boolean> {
    // A throw becomes a rejection, as it would on Redis.
    return new Promise<boolean>((resolve) => resolve(this.claimNow(nonce, ttlMs)));
  }

  /** {@link claim} without the promise: true the first time `nonce` is claimed within `ttlMs`. */
  claimNow(nonce: string, ttlMs: number): boolean {
    checkTtl(ttlMs);
    const now = this.now();
    for (const [held, expiresAt] of this.expiries) {
      if (expiresAt > now) break;
      this.expiries.delete(held);
    }
    const expiresAt = this.expiries.get(nonce);
    if (expiresAt !== undefined && expiresAt > now) return false;
    // Deleted first so that a re-claimed nonce moves to the back, in expiry order.
    this.expiries.delete(nonce);
    this.expiries.set(nonce, now + ttlMs);
    return true;
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
