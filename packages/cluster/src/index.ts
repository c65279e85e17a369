export type { ClusterKeys, SecurityKeys, TaskKeys } from './keys.js';
export {
  BREAKER_RECORD_TTL_MS,
  DEFAULT_KEY_PREFIX,
  REPLAY_MAX_LEN,
  REPLAY_TTL_MS,
  SESSION_CLAIM_TTL_MS,
  SESSION_TOMBSTONE_TTL_MS,
  SESSION_TTL_MS,
  LOCKOUT_DURATION_MS,
  LOCKOUT_MAX_CONCURRENT,
  LOCKOUT_MAX_FAILURES,
  LOCKOUT_RESERVATION_MS,
  LOCKOUT_WINDOW_MS,
  MAX_VERBATIM_KEY_PART,
  QUEUE_NAME,
  RATE_LIMIT_IDLE_SLACK_MS,
  WORKER_HEARTBEAT_TTL_MS,
  clusterKeys,
  keyPart,
  securityKeys,
  taskKeys,
} from './keys.js';
export { LuaScript } from './lua.js';
export type { LeaderElection, LeaderOptions, LeadStop, LeaseStore } from './leases.js';
export {
  DEFAULT_LEADER_OPTIONS,
  MemoryLeaseStore,
  RedisLeaseStore,
  leaderElection,
} from './leases.js';
export type { Usage, UsageLimits, UsageStore } from './sampling-usage.js';
export { MemoryUsageStore, RedisUsageStore } from './sampling-usage.js';
export type { ClusterStateErrorKind, OutageOptions } from './errors.js';
export {
  ClusterStateError,
  STORE_RETRY_AFTER_MS,
  ServiceUnreachableError,
  outageAsUnavailable,
  STORE_RIDE_THROUGH_MS,
  redactUrl,
  storeUnavailable,
} from './errors.js';
export type {
  NewSession,
  PinStore,
  SessionLookup,
  SessionMigration,
  SessionPatch,
  SessionRecord,
  SessionState,
  SessionStore,
  SlotClaim,
  SlotLimits,
  UpdateResult,
} from './sessions.js';
export { MAX_MIGRATIONS, UNOWNED_SESSION_OWNER, mutateSession } from './sessions.js';
export type { MemoryStoreOptions } from './sessions-memory.js';
export { MemorySessionStore } from './sessions-memory.js';
export type { RedisSessionStoreOptions } from './sessions-redis.js';
export { RedisSessionStore } from './sessions-redis.js';
export { AnnouncedSessionStore } from './sessions-announced.js';
export type {
  ComponentRegistry,
  RegistryChange,
  RegistryListener,
  WorkerComponents,
  WorkerInfo,
  WorkerRegistration,
} from './registry.js';
export type { MemoryRegistryOptions } from './registry-memory.js';
export { MemoryComponentRegistry } from './registry-memory.js';
export type { RedisRegistryOptions } from './registry-redis.js';
export { RedisComponentRegistry } from './registry-redis.js';
export type { ClusterState, ClusterStateConfig } from './state.js';
export { SHARED_STATE_KEY_ID, createClusterState } from './state.js';
export type {
  BusEvent,
  BusEventOf,
  BusFilter,
  BusHandler,
  BusConnectionListener,
  BusConnectionState,
  BusStats,
  BusSubscription,
  EventBus,
  EventBusOptions,
  NatsEventBusOptions,
} from './bus/index.js';
export type { BusChangeFeed, ClusterChange, ClusterChangeListener } from './bus/index.js';
export {
  createBusChangeFeed,
  BUS_EVENT_TYPES,
  BusEventType,
  DEFAULT_NATS_BUS_OPTIONS,
  DEFAULT_SUBJECT_PREFIX,
  MemoryEventBus,
  NatsEventBus,
  MAX_REVOKED_IDS,
  busEventSchemas,
  createEventBus,
  subjectFor,
  subjectOf,
  subjectToken,
} from './bus/index.js';
export {
  type DispatchEnvelope,
  type EnvelopeEra,
  type EnvelopeField,
  type EnvelopePrincipal,
  ENVELOPE_HEADER_PREFIX,
  ENVELOPE_HEADERS,
  ENVELOPE_LIMITS,
  EnvelopeError,
  decodeEnvelope,
  encodeEnvelope,
  remainingMs,
  traceparentProblem,
} from './envelope.js';
export type { DispatchFailure, DispatchRefusal } from './dispatch.js';
export type {
  AbortListener,
  DispatchAbort,
  DispatchCall,
  DispatchOutcome,
  DispatchOutcomeKind,
  DispatchTarget,
  HungEvidence,
  MemoryWorker,
  UndiciDispatchOptions,
  WorkerDispatch,
} from './worker-dispatch.js';
export {
  MemoryDispatch,
  UndiciDispatch,
  WorkerAbandonedError,
  isFirstByteTimeout,
  unreachableForNow,
  probeTimeoutMs,
  workerAnswered,
} from './worker-dispatch.js';
export type { OverdueDispatchesOptions, OverdueWatch } from './overdue-dispatches.js';
export {
  MIN_ACK_MARGIN_MS,
  OVERDUE_SWEEP_MS,
  OverdueDispatches,
  overdueAfterMs,
} from './overdue-dispatches.js';
export {
  CLOSE_STREAM_LINE,
  DISPATCH_HEADERS,
  DISPATCH_PATH,
  HEALTH_PATH,
  MIN_ACK_DELAY_MS,
  READY_PATH,
  NDJSON_TYPE,
  ackDelayMs,
  clientRequestIdPrefix,
  taskIdFor,
  workerOfClientRequest,
  workerOfTask,
} from './dispatch.js';
export type {
  DispatchCheck,
  DispatchFreshness,
  DispatchSignOptions,
  DispatchVerifierOptions,
} from './dispatch-auth.js';
export {
  DISPATCH_AUDIENCE_HEADER,
  DISPATCH_ISSUED_AT_HEADER,
  DISPATCH_NONCE_HEADER,
  DISPATCH_SIGNATURE_HEADER,
  DispatchVerifier,
  dispatchNonceTtlMs,
  dispatchSignature,
  signDispatch,
  verifyDispatch,
} from './dispatch-auth.js';
export type {
  BreakerRecord,
  BreakerState,
  BreakerStateStore,
  BreakerSwap,
  BreakerWrite,
} from './breaker-state.js';
export {
  BREAKER_STATES,
  MemoryBreakerStateStore,
  RedisBreakerStateStore,
} from './breaker-state.js';
export type { DispatchNonceStore } from './dispatch-nonces.js';
export { MemoryDispatchNonceStore, RedisDispatchNonceStore } from './dispatch-nonces.js';
export { PRESENCE_REFRESH_MS, PRESENCE_TTL_MS, RedisStreamMirror } from './stream-mirror.js';
export type { ResumeOutcome } from './stream-mirror.js';
export { withinMs } from './within.js';
export type { ClusterConnections, ClusterConnectionsOptions } from './connections.js';
export { openClusterConnections } from './connections.js';
export type { RedisConnection } from './redis.js';
export { REDIS_COMMAND_TIMEOUT_MS, connectRedis } from './redis.js';
export type { Readiness, ReadinessInput } from './readiness.js';
export { READINESS_REASONS, readiness } from './readiness.js';
