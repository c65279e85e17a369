export type { Principal, PrincipalKind } from './principal.js';
export type { PrincipalProvider } from './principal-ids.js';
export {
  ANONYMOUS_PRINCIPAL_ID,
  PRINCIPAL_PROVIDERS,
  principalId,
  principalReferenceProblem,
  providerOf,
} from './principal-ids.js';
export type { AuthProvider, AuthRequest, AuthResult, CredentialInfo } from './authn/types.js';
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
  AttemptDecision,
} from './stores/types.js';
export {
  resolveLockoutOptions,
  resolveRateLimitOptions,
  SecurityStoreError,
} from './stores/types.js';
export type { SecurityKeys } from './stores/keys.js';
export {
  LOCKOUT_DURATION_MS,
  LOCKOUT_MAX_CONCURRENT,
  LOCKOUT_MAX_FAILURES,
  LOCKOUT_RESERVATION_MS,
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
export type { AuthConfig, AuthConfigInput } from './config.js';
export {
  AuthConfigSchema,
  DEFAULT_MAX_STREAMS_PER_PRINCIPAL,
  DEFAULT_REVALIDATE_STREAMS_MS,
  MAX_REVALIDATE_STREAMS_MS,
  MIN_REVALIDATE_STREAMS_MS,
} from './config.js';
export type { Security, SecurityContext } from './build.js';
export { createSecurity } from './build.js';
export type { AdmissionOptions } from './guard/admission.js';
export { createAdmission } from './guard/admission.js';
export type {
  CredentialVerdict,
  RevalidatorOptions,
  RevocationChannel,
} from './guard/revalidation.js';
export { Revalidator } from './guard/revalidation.js';
export type { AuditEvent, AuditEventType, AuditSink } from './guard/audit.js';
export { auditMetrics } from './guard/audit.js';
export { jsonAuditSink } from './guard/audit.js';
export type { EngineGuardOptions, GuardAuthorizer, GuardVerifier } from './guard/engine.js';
export { GuardedEngine, guardEngine } from './guard/engine.js';
export type { ListAuthorizer } from './guard/list-filter.js';
export { installListFilter, listAuthorizer } from './guard/list-filter.js';
export type {
  AuthorizationServerMetadataOptions,
  ResourceMetadataOptions,
} from './http/metadata.js';
export {
  AS_METADATA_PATH,
  METADATA_PATH,
  authorizationServerMetadata,
  resourceMetadata,
  resourceMetadataUrl,
} from './http/metadata.js';
export type { SecurityRoutesOptions } from './http/routes.js';
export { REVOKE_PATH, TOKEN_PATH, registerSecurityRoutes } from './http/routes.js';
export type { TlsPeer } from './authn/types.js';
export type {
  MtlsAttributeMatch,
  MtlsFingerprintMatch,
  MtlsMatch,
  MtlsOptions,
  MtlsSanMatch,
  MtlsSubjectAttribute,
  MtlsSubjectRule,
} from './authn/mtls.js';
export {
  MAX_CN_PRINCIPAL_LENGTH,
  MTLS_CN_PRINCIPAL_PREFIX,
  MTLS_SUBJECT_ATTRIBUTES,
  mtlsProvider,
} from './authn/mtls.js';
export {
  SUBJECT_VALUE_SEPARATOR,
  parseSubjectAltNames,
  splitSubjectValue,
  tlsPeerOf,
} from './tls/peer.js';
export type { TlsConfig, TlsMinVersion } from './tls/options.js';
export {
  DEFAULT_REQUIRE_CLIENT_CERT,
  DEFAULT_TLS_MIN_VERSION,
  TLS_MIN_VERSIONS,
  TlsConfigError,
  TlsConfigSchema,
  tlsServerOptions,
} from './tls/options.js';
export type { SigningErrorKind } from './signing/errors.js';
export { SigningError } from './signing/errors.js';
export type { ResolvedSigningKey, SigningAlgorithm, SigningKey } from './signing/keys.js';
export {
  DEFAULT_SIGNING_ALG,
  KEY_ID_PATTERN,
  MIN_SECRET_LENGTH,
  SIGNING_ALGORITHMS,
} from './signing/keys.js';
export type { RequestSignature, SignatureRead } from './signing/envelope.js';
export { NONCE_PATTERN, readSignature, SIGNATURE_META_KEY } from './signing/envelope.js';
export type { CanonicalFields, CanonicalLimits } from './signing/canonical.js';
export {
  canonicalJson,
  canonicalSigningInput,
  DEFAULT_CANONICAL_MAX_BYTES,
  DEFAULT_CANONICAL_MAX_DEPTH,
  SIGNATURE_VERSION,
  stripSignature,
} from './signing/canonical.js';
export type { SignableRequest, SignOptions } from './signing/sign.js';
export { NONCE_BYTES, signRequest } from './signing/sign.js';
export type {
  RequestVerifier,
  RequestVerifierOptions,
  SigningClient,
  VerifyInput,
  VerifyResult,
} from './signing/verify.js';
export {
  createRequestVerifier,
  DEFAULT_SIGNATURE_TOLERANCE_MS,
  nonceKey,
} from './signing/verify.js';
export type { SigningConfig, SigningConfigInput } from './signing/config.js';
export {
  MAX_SIGNATURE_TOLERANCE_MS,
  MIN_SIGNATURE_TOLERANCE_MS,
  SigningConfigSchema,
} from './signing/config.js';
export type { TokenErrorCode } from './tokens/errors.js';
export { TokenError } from './tokens/errors.js';
export type { TokenSigningAlgorithm, TokenSigningKey } from './tokens/signing.js';
export {
  MIN_HMAC_SECRET_LENGTH,
  MIN_RSA_MODULUS_BITS,
  TOKEN_SIGNING_ALGORITHMS,
} from './tokens/signing.js';
export type {
  ConsumeResult,
  RefreshRecord,
  RevocationIds,
  TokenStore,
  TokenStoreClockOptions,
} from './tokens/store.js';
export { MemoryTokenStore, RedisTokenStore, TOKEN_STORE_SWEEP_EVERY } from './tokens/store.js';
export type {
  GrantType,
  IssueOptions,
  TokenCredential,
  TokenResponse,
  TokenService,
  TokenServiceOptions,
} from './tokens/service.js';
export {
  DEFAULT_ACCESS_TTL_SEC,
  DEFAULT_GRANT_TYPES,
  DEFAULT_REFRESH_TTL_SEC,
  DEFAULT_TOKEN_CLOCK_TOLERANCE_SEC,
  FAMILY_REVOCATION_SLACK_SEC,
  MAX_ACCESS_TTL_SEC,
  MAX_REFRESH_TTL_SEC,
  MAX_TOKEN_CLOCK_TOLERANCE_SEC,
  createTokenService,
} from './tokens/service.js';
export type { AccessClaims, VerifierOptions } from './tokens/verifier.js';
export { ACCESS_TOKEN_TYP, grantRevocationId, tokenRevocationId } from './tokens/verifier.js';
export type { TokenHttpRequest, TokenHttpResponse } from './tokens/endpoint.js';
export {
  MAX_TOKEN_REQUEST_BYTES,
  handleRevokeRequest,
  handleTokenRequest,
} from './tokens/endpoint.js';
export type {
  TokenServiceConfig,
  TokenServiceConfigInput,
  TokenServiceDependencies,
} from './tokens/config.js';
export {
  TokenServiceConfigSchema,
  signingKeyFromConfig,
  tokenServiceOptions,
} from './tokens/config.js';
export type { GeneratedApiKey, ParsedApiKey } from './apikeys/format.js';
export {
  API_KEY_PREFIX,
  generateApiKey,
  hashSecret,
  isApiKeyId,
  looksLikeApiKey,
  parseApiKey,
  secretMatches,
} from './apikeys/format.js';
export type {
  ApiKeyInput,
  ApiKeyKind,
  ApiKeyRecord,
  ApiKeyStore,
  ApiKeyStoreOptions,
  CreatedApiKey,
  StoredApiKey,
} from './apikeys/store.js';
export { MemoryApiKeyStore } from './apikeys/store.js';
export { RedisApiKeyStore } from './apikeys/redis-store.js';
export { API_KEYS_FILE_MODE, FileApiKeyStore } from './apikeys/file-store.js';
export type { ApiKeyProvider, ApiKeyProviderOptions } from './apikeys/provider.js';
export {
  API_KEY_HEADER,
  DEFAULT_API_KEY_CACHE_MS,
  MAX_API_KEY_CACHE_MS,
  apiKeyProvider,
  apiKeyRevocationId,
} from './apikeys/provider.js';
export type { ApiKeyStoreConfig, OpenedApiKeyStore } from './apikeys/create.js';
export { API_KEYS_FILE_ENV, DEFAULT_API_KEYS_FILE, openApiKeyStore } from './apikeys/create.js';
export type { Action, ActionKind, ListShape, TargetSyntax } from './authz/actions.js';
export {
  ACTION_KINDS,
  actionOf,
  LIST_SHAPES,
  permissionOf,
  UNGUARDED_METHODS,
} from './authz/actions.js';
export type { AuthzErrorKind } from './authz/errors.js';
export { AuthzError } from './authz/errors.js';
export type { Permission } from './authz/permissions.js';
export {
  Glob,
  MAX_PERMISSION_LENGTH,
  MAX_TARGET_LENGTH,
  MAX_WILDCARDS,
  parsePermission,
  permissionProblem,
  PermissionSet,
} from './authz/permissions.js';
export type { RolesConfig, RoleTable } from './authz/roles.js';
export { compileRoles, PERMISSIONS_CLAIM } from './authz/roles.js';
export type {
  CompiledPolicy,
  PolicyDenial,
  PolicyInput,
  PolicyPredicate,
} from './authz/policies.js';
export type {
  AuthzConfig,
  CidrPolicyConfig,
  CustomPolicy,
  PolicyConfig,
  PolicyScope,
  TimePolicyConfig,
} from './authz/config.js';
export {
  AuthzConfigSchema,
  AuthzOptionsSchema,
  CidrPolicySchema,
  PermissionSchema,
  PolicyConfigSchema,
  RolesSchema,
  TimePolicySchema,
} from './authz/config.js';
export type {
  AuditEntry,
  Authorizer,
  AuthorizerOptions,
  CheckInput,
  Decision,
  RateCharge,
  RatePolicy,
} from './authz/authorizer.js';
export {
  createAuthorizer,
  DEFAULT_ALLOW_UNKNOWN_METHODS,
  isFilteredList,
  jsonLineAudit,
  MAX_SHOWN_PERMISSION_LENGTH,
} from './authz/authorizer.js';
