export type { Principal, PrincipalKind } from './principal.js';
export type { AuthProvider, AuthRequest, AuthResult } from './authn/types.js';
export { authorizationCredentials, headerValue } from './authn/types.js';
export type { AuthnErrorKind } from './authn/errors.js';
export { AuthnError } from './authn/errors.js';
export { chainProviders } from './authn/chain.js';
export type { JwtOptions, StaticJwtKey } from './authn/jwt.js';
export {
  DEFAULT_JWT_CLOCK_TOLERANCE_SEC,
  SUPPORTED_JWS_ALGORITHMS,
  jwtProvider,
} from './authn/jwt.js';
export type { StaticTokenEntry, StaticTokenOptions } from './authn/static-token.js';
export { staticTokenProvider } from './authn/static-token.js';
export type { BasicOptions, BasicUser } from './authn/basic.js';
export { DEFAULT_BASIC_REALM, basicProvider } from './authn/basic.js';
export type { ScryptParams } from './authn/password.js';
export {
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  parseScryptHash,
  verifyPassword,
} from './authn/password.js';
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
} from './stores/types.js';
export {
  resolveLockoutOptions,
  resolveRateLimitOptions,
  SecurityStoreError,
} from './stores/types.js';
export type { SecurityKeys } from './stores/keys.js';
export {
  LOCKOUT_DURATION_MS,
  LOCKOUT_MAX_FAILURES,
  LOCKOUT_WINDOW_MS,
  MAX_VERBATIM_KEY_PART,
  RATE_LIMIT_IDLE_SLACK_MS,
  securityKeys,
} from './stores/keys.js';
export type { MemoryClockOptions } from './stores/memory.js';
export { MemoryLockoutStore, MemoryNonceStore, MemoryRateLimiter } from './stores/memory.js';
export type { RedisRateLimiterOptions } from './stores/redis.js';
export {
  DEFAULT_LIMITER_NAME,
  RedisLockoutStore,
  RedisNonceStore,
  RedisRateLimiter,
} from './stores/redis.js';
export type { SecurityStores, SecurityStoresConfig } from './stores/create.js';
export { createSecurityStores } from './stores/create.js';
