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
