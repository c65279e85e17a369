/**
 * Shared-state contracts of the security layer (rate limits, request-signing nonces,
 * brute-force lockout). Each has a memory twin (embedded node) and a Redis implementation
 * (cluster: state shared by every gateway); createSecurityStores picks one.
 */
import { KindedError } from '@mcp-cluster/protocol';

import {
  LOCKOUT_DURATION_MS,
  LOCKOUT_MAX_CONCURRENT,
  LOCKOUT_MAX_FAILURES,
  LOCKOUT_RESERVATION_MS,
  LOCKOUT_WINDOW_MS,
} from './keys.js';

export interface RateLimitDecision {
  allowed: boolean;
  /** Whole tokens left after this take (before it, when refused). */
  remaining: number;
  /** 0 when allowed; otherwise how long until `cost` tokens are available. */
  retryAfterMs: number;
}

export interface RateLimiter {
  /**
   * Takes `cost` (default 1) tokens from bucket `key`; atomic across processes. A refused
   * take takes nothing. Throws SecurityStoreError('invalid_argument') when `cost` is not a
   * positive finite number or exceeds the capacity (it could never be admitted).
   */
  take(key: string, cost?: number): Promise<RateLimitDecision>;
}

export interface NonceStore {
  /** True the first time `nonce` is claimed within `ttlMs`; false on replay. */
  claim(nonce: string, ttlMs: number): Promise<boolean>;
}

export interface LockState {
  /** True when any of the identifiers is locked. */
  locked: boolean;
  /** 0 when unlocked; otherwise until the last of the locked identifiers unlocks. */
  retryAfterMs: number;
}

/** The answer to `LockoutStore.begin`. */
export type AttemptDecision =
  /** The attempt is reserved on every identifier: verify, then `finish` with this ticket. */
  | { readonly granted: true; readonly ticket: string }
  /**
   * Refused before verifying: an identifier is locked (`locked`, until `retryAfterMs`), or its
   * budget is taken by attempts in flight (`locked: false`, retry after LOCKOUT_BUSY_RETRY_MS).
   */
  | { readonly granted: false; readonly locked: boolean; readonly retryAfterMs: number };

/** Retry-After hint for an attempt refused because others are in flight (they end in ms). */
export const LOCKOUT_BUSY_RETRY_MS = 1_000;

export interface LockoutStore {
  /**
   * Reserves one attempt on every identifier before a costly credential check (a password
   * hash), atomically across processes. Refused when an identifier is locked, when its
   * failures in the window plus its attempts in flight reach `maxFailures`, or when its
   * attempts in flight reach `maxConcurrent`: however many attempts arrive at once, at most
   * `maxFailures` checks can fail before the lock. Nothing is reserved on a refusal. A
   * reservation that is never finished (its process died) lapses after `reservationMs`.
   */
  begin(ids: readonly string[]): Promise<AttemptDecision>;
  /**
   * Ends a reservation of `begin`. A failed attempt counts like `fail` (and may lock); any
   * other outcome gives the reservation back. Returns the lock state after it.
   */
  finish(ids: readonly string[], ticket: string, failed: boolean): Promise<LockState>;
  /**
   * Records a failure for each identifier (e.g. `user:alice`, `ip:10.0.0.1`); returns the
   * lock state after it. Failures against an already locked identifier neither count nor
   * extend the lock, so an attacker cannot keep a victim locked past one duration per burst.
   */
  fail(ids: readonly string[]): Promise<LockState>;
  isLocked(ids: readonly string[]): Promise<LockState>;
  /** Forgets failures and locks of these identifiers (e.g. after a successful login). */
  reset(ids: readonly string[]): Promise<void>;
}

export interface RateLimitOptions {
  /** Bucket size: the largest burst. */
  capacity: number;
  /** Tokens added per second, continuously. */
  refillPerSecond: number;
}

export interface LockoutOptions {
  /** Failures within `windowMs` that lock an identifier (default LOCKOUT_MAX_FAILURES). */
  maxFailures?: number;
  /** Window in which failures are counted, from the first one (default LOCKOUT_WINDOW_MS). */
  windowMs?: number;
  /** How long a lock lasts (default LOCKOUT_DURATION_MS). */
  lockMs?: number;
  /** Attempts in flight at once per identifier (default LOCKOUT_MAX_CONCURRENT). */
  maxConcurrent?: number;
  /** Life of a reservation that is never finished (default LOCKOUT_RESERVATION_MS). */
  reservationMs?: number;
}

export type ResolvedLockoutOptions = Readonly<Required<LockoutOptions>>;

export type SecurityStoreErrorKind =
  /** Options or arguments out of range; a programming or configuration error. */
  | 'invalid_argument'
  /** Redis answered something the store did not write; not the caller's fault. */
  | 'bad_reply';

/** Local error of the security stores; never crosses the wire. */
export class SecurityStoreError extends KindedError<SecurityStoreErrorKind> {
  override readonly name = 'SecurityStoreError';
}

const isPositive = (n: number): boolean => Number.isFinite(n) && n > 0;

export function resolveRateLimitOptions(input: RateLimitOptions): Readonly<RateLimitOptions> {
  if (!isPositive(input.capacity) || !isPositive(input.refillPerSecond)) {
    throw new SecurityStoreError(
      'invalid_argument',
      `rate limit: capacity and refillPerSecond must be positive (got ${input.capacity}, ${input.refillPerSecond})`,
    );
  }
  return Object.freeze({ capacity: input.capacity, refillPerSecond: input.refillPerSecond });
}

export function resolveLockoutOptions(input: LockoutOptions = {}): ResolvedLockoutOptions {
  const resolved = {
    maxFailures: input.maxFailures ?? LOCKOUT_MAX_FAILURES,
    windowMs: input.windowMs ?? LOCKOUT_WINDOW_MS,
    lockMs: input.lockMs ?? LOCKOUT_DURATION_MS,
    maxConcurrent: input.maxConcurrent ?? LOCKOUT_MAX_CONCURRENT,
    reservationMs: input.reservationMs ?? LOCKOUT_RESERVATION_MS,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new SecurityStoreError(
        'invalid_argument',
        `lockout: ${name} must be a positive integer (got ${value})`,
      );
    }
  }
  return Object.freeze(resolved);
}

/** Validates a take's cost against the bucket; shared so both implementations refuse alike. */
export function checkCost(cost: number, options: Readonly<RateLimitOptions>): void {
  if (!isPositive(cost) || cost > options.capacity) {
    throw new SecurityStoreError(
      'invalid_argument',
      `rate limit: cost must be positive and at most the capacity ${options.capacity} (got ${cost})`,
    );
  }
}

export function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new SecurityStoreError(
      'invalid_argument',
      `nonce: ttlMs must be a positive integer (got ${ttlMs})`,
    );
  }
}

/**
 * Long-lived streams (SSE, WebSocket) a principal holds open, counted across every gateway
 * sharing the store. A slot is a lease: the holder's process renews it while the stream is
 * open, so the slots of a process that died free themselves.
 */
export interface StreamSlots {
  /** One more stream for `principal` if fewer than `max` are open: its release; else undefined. */
  acquire(principal: string, max: number): Promise<(() => void) | undefined>;
  close(): Promise<void>;
}
