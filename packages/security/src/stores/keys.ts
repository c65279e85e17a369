/**
 * Redis keys and lifetimes of the security stores. Meant to move into the cluster's one key
 * module (packages/cluster/src/keys.ts); kept here until then because packages/security does
 * not depend on packages/cluster.
 */
import { createHash } from 'node:crypto';

/** Longest caller-supplied key part kept verbatim; longer ones are hashed to bound key size. */
export const MAX_VERBATIM_KEY_PART = 200;
/** Extra life of an idle token bucket past the moment it would be full again (clock skew slack). */
export const RATE_LIMIT_IDLE_SLACK_MS = 1_000;
/** Default window in which failed attempts are counted toward a lockout. */
export const LOCKOUT_WINDOW_MS = 15 * 60_000;
/** Default duration of a lockout once the failure limit is reached. */
export const LOCKOUT_DURATION_MS = 15 * 60_000;
/** Default failures within the window that lock an identifier. */
export const LOCKOUT_MAX_FAILURES = 5;

export interface SecurityKeys {
  readonly prefix: string;
  /** Hash `{t: tokens, ts: ms}` of one token bucket; PX TTL = time until full again. */
  rateLimit(limiter: string, key: string): string;
  /** String marking a claimed nonce; PX TTL = the caller's replay window. */
  nonce(nonce: string): string;
  /** Counter of recent failures for one identifier; PX TTL = the counting window. */
  lockoutFailures(id: string): string;
  /** String marking a locked identifier; PX TTL = the lock duration. */
  lockoutLock(id: string): string;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

/**
 * Caller-supplied parts (user names, addresses, nonces) come from attackers too: short ones
 * stay readable, long ones (and anything that could pose as a hash) become `#<sha256>`.
 */
export function keyPart(s: string): string {
  return s.length > MAX_VERBATIM_KEY_PART || s.startsWith('#') ? `#${sha256(s)}` : s;
}

export function securityKeys(prefix: string): SecurityKeys {
  return {
    prefix,
    rateLimit: (limiter, key) => `${prefix}:ratelimit:${keyPart(limiter)}:${keyPart(key)}`,
    // Nonces are always hashed: they are random, unreadable anyway, and arbitrary in length.
    nonce: (nonce) => `${prefix}:nonce:${sha256(nonce)}`,
    lockoutFailures: (id) => `${prefix}:lockout:fails:${keyPart(id)}`,
    lockoutLock: (id) => `${prefix}:lockout:lock:${keyPart(id)}`,
  };
}
