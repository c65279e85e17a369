export type {
  LockoutOptions,
  LockoutStore,
  LockState,
  NonceStore,
  RateLimitDecision,
  RateLimiter,
  RateLimitOptions,
  ResolvedLockoutOptions,
  SecurityStoreErrorKind,
} from './types.js';
export { resolveLockoutOptions, resolveRateLimitOptions, SecurityStoreError } from './types.js';
export type { SecurityKeys } from './keys.js';
export {
  LOCKOUT_DURATION_MS,
  LOCKOUT_MAX_FAILURES,
  LOCKOUT_WINDOW_MS,
  MAX_VERBATIM_KEY_PART,
  RATE_LIMIT_IDLE_SLACK_MS,
  securityKeys,
} from './keys.js';
export type { MemoryClockOptions } from './memory.js';
export { MemoryLockoutStore, MemoryNonceStore, MemoryRateLimiter } from './memory.js';
export type { RedisRateLimiterOptions } from './redis.js';
export {
  DEFAULT_LIMITER_NAME,
  RedisLockoutStore,
  RedisNonceStore,
  RedisRateLimiter,
} from './redis.js';
export type { SecurityStores, SecurityStoresConfig } from './create.js';
export { createSecurityStores } from './create.js';
