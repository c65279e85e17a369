export type { Config, ConfigInput, LogLevel } from './config.js';
export {
  ConfigError,
  ConfigSchema,
  DEFAULT_ALLOWED_HOSTS,
  DEFAULT_CLUSTER_PREFIX,
  DEFAULT_DISPATCH_CLOCK_SKEW_MS,
  DEFAULT_DISPATCH_SIGNATURE_VALIDITY_MS,
  DEFAULT_DISPATCH_TIMEOUT_MS,
  DEFAULT_DRAIN_MS,
  DEFAULT_GATEWAY_DRAIN_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_STRATEGY,
  DEFAULT_TASK_LOCK_MS,
  DEFAULT_DISPATCH_CONNECT_TIMEOUT_MS,
  DEFAULT_DISPATCH_FIRST_BYTE_TIMEOUT_MS,
  DEFAULT_WORKER_PROBE_INTERVAL_MS,
  DEFAULT_MAX_CONCURRENCY,
  DEFAULT_GATEWAY_QUEUE_MAX,
  DEFAULT_GATEWAY_QUEUE_TIMEOUT_MS,
  MIN_DISPATCH_SECRET_LENGTH,
  DEFAULT_ALLOWED_ORIGINS,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MAX_BATCH_LENGTH,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_EVENT_LOG,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_SESSIONS_PER_PRINCIPAL,
  DEFAULT_PATH,
  DEFAULT_PORT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SERVER_NAME,
  DEFAULT_SERVER_VERSION,
  DEFAULT_SESSION_IDLE_MS,
  DEFAULT_SSE_RETRY_MS,
  LOG_LEVELS,
  resolveConfig,
  requireCluster,
} from './config.js';
export type { LoadOptions } from './load.js';
export {
  AUTH_ENV_VARS,
  CONFIG_FILE_ENV,
  ENV_VARS,
  configFromEnv,
  configFromFile,
  loadConfig,
} from './load.js';
export type { NodeLog, ProcessLogger, ProcessLoggerOptions } from './log.js';
export {
  LOG_RANK,
  REDACTED,
  errorFields,
  formatPretty,
  logStream,
  nodeLog,
  processLogger,
  redact,
} from './log.js';
export type { AuthConfig, AuthConfigInput } from './auth/schema.js';
export {
  AuthConfigSchema,
  DEFAULT_MAX_STREAMS_PER_PRINCIPAL,
  DEFAULT_REVALIDATE_STREAMS_MS,
  MAX_REVALIDATE_STREAMS_MS,
  MIN_REVALIDATE_STREAMS_MS,
} from './auth/schema.js';
export type {
  AuthzConfig,
  CidrPolicyConfig,
  PolicyConfig,
  PolicyScope,
  TimePolicyConfig,
} from './auth/authz.js';
export {
  AUTHZ_CONFIG_SHAPE,
  AuthzConfigSchema,
  CidrPolicySchema,
  CidrSchema,
  MAX_ROLE_NAME_LENGTH,
  POLICY_SCOPE_SHAPE,
  PermissionSchema,
  PolicyConfigSchema,
  RatePolicySchema,
  RolesSchema,
  TimePolicySchema,
  checkAnonymousRoles,
} from './auth/authz.js';
export type { CidrRange, IpAddress } from './auth/ip.js';
export { parseCidr, parseIp } from './auth/ip.js';
export type { Day, TimeRange } from './auth/time.js';
export { DAYS, parseTimeRange, parseUtcOffset } from './auth/time.js';
export type {
  ActionKind,
  PermissionRead,
  PermissionSyntax,
  TargetSyntax,
} from './auth/permission-syntax.js';
export {
  ACTION_KINDS,
  MAX_PERMISSION_LENGTH,
  MAX_WILDCARDS,
  isActionKind,
  permissionProblem,
  readPermission,
} from './auth/permission-syntax.js';
export type { PrincipalProvider } from './auth/principal-ids.js';
export {
  ANONYMOUS_PRINCIPAL_ID,
  MTLS_CN_SEGMENT,
  PRINCIPAL_PROVIDERS,
  principalId,
  principalReferenceProblem,
  providerOf,
} from './auth/principal-ids.js';
export type { SigningAlgorithm, SigningConfig, SigningConfigInput } from './auth/signing.js';
export {
  DEFAULT_SIGNATURE_TOLERANCE_MS,
  KEY_ID_PATTERN,
  MAX_SIGNATURE_TOLERANCE_MS,
  MIN_SECRET_LENGTH,
  MIN_SIGNATURE_TOLERANCE_MS,
  SIGNING_ALGORITHMS,
  SigningConfigSchema,
} from './auth/signing.js';
export type { TlsConfig, TlsMinVersion } from './auth/tls.js';
export {
  DEFAULT_TLS_MIN_VERSION,
  TLS_MIN_VERSIONS,
  TlsConfigSchema,
  tlsConfigProblems,
} from './auth/tls.js';
export type { GrantType, TokenServiceConfig, TokenServiceConfigInput } from './auth/tokens.js';
export {
  DEFAULT_ACCESS_TTL_SEC,
  DEFAULT_GRANT_TYPES,
  DEFAULT_REFRESH_TTL_SEC,
  DEFAULT_TOKEN_CLOCK_TOLERANCE_SEC,
  MAX_ACCESS_TTL_SEC,
  MAX_REFRESH_TTL_SEC,
  MAX_TOKEN_CLOCK_TOLERANCE_SEC,
  MIN_HMAC_SECRET_LENGTH,
  TokenServiceConfigSchema,
} from './auth/tokens.js';
export type {
  SamplingConfig,
  SamplingConfigInput,
  SamplingMode,
  SamplingProviderType,
} from './sampling.js';
export {
  DEFAULT_SAMPLING_BASE_URLS,
  DEFAULT_SAMPLING_LIMIT_WINDOW_MS,
  DEFAULT_SAMPLING_MODE,
  DEFAULT_SAMPLING_TIMEOUT_MS,
  SAMPLING_MODES,
  SAMPLING_PROVIDER_TYPES,
  SamplingConfigSchema,
} from './sampling.js';
