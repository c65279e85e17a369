export type { SchemaCheck, SchemaRevision, ValidateOptions } from './schema.js';
export {
  SCHEMA_REVISIONS,
  VENDORED_SCHEMA_DIR,
  expectValidMessage,
  readSchemaFile,
  schemaDir,
  schemaRevisionFor,
  validateAgainstSchema,
} from './schema.js';
export type { RecordedMessage, RecordedViolation } from './recording.js';
export { RecordingTransport, recordTransport } from './recording.js';
export type { McpHttpResponse, ModernRequestOptions, ReadOptions } from './http.js';
export {
  DEFAULT_CLIENT_CAPABILITIES,
  DEFAULT_CLIENT_INFO,
  MODERN_VERSION,
  findResponse,
  modernRequest,
  postMcp,
  readMcpResponse,
} from './http.js';
export type { TestServer } from './embedded.js';
export { CLI_MAIN, REPO_ROOT, cliStdioParams, startTestServer } from './embedded.js';
export type { EnsureServicesOptions, Source, TestServices } from './services.js';
export {
  CONTAINER_IMAGES,
  ServiceUnavailableError,
  dockerDaemonAnswers,
  ensureServices,
} from './services.js';
export type { Requirement, RequirementId } from './requirements.js';
export { REQUIREMENTS, verifies } from './requirements.js';
export type { ClusterNode, ClusterOptions, TestCluster } from './cluster.js';
export {
  CLUSTER_HEARTBEAT_MS,
  ClusterNodeError,
  DEFAULT_CLUSTER_GATEWAYS,
  DEFAULT_CLUSTER_PACKS,
  DEFAULT_CLUSTER_WORKERS,
  DEFAULT_WAIT_FOR_WORKERS_MS,
  NODE_START_TIMEOUT_MS,
  NODE_STOP_GRACE_MS,
  STDERR_TAIL_CHARS,
  deleteRedisKeys,
  startCluster,
  testServices,
} from './cluster.js';
export type { EventuallyOptions } from './wait.js';
export {
  DEFAULT_EVENTUALLY_TIMEOUT_MS,
  DEFAULT_POLL_MS,
  WaitTimeoutError,
  eventually,
  within,
} from './wait.js';
export type { SseEvent } from './sse.js';
export { DEFAULT_SSE_READ_TIMEOUT_MS, SseReader, parseSseEvent } from './sse.js';
export { textOf } from './results.js';
export type { Exchange } from './legacy-client.js';
export {
  DEFAULT_LEGACY_CAPABILITIES,
  LEGACY_VERSION,
  LegacySession,
  STEP_TIMEOUT_MS,
  modernCall,
} from './legacy-client.js';
export type { LogEntry, Readiness, RunningGateway, RunningWorker } from './in-process.js';
export {
  ANONYMOUS,
  DISPATCH_DEADLINE_MS,
  IN_PROCESS_DRAIN_MS,
  IN_PROCESS_HEARTBEAT_MS,
  InProcessCluster,
  TEST_DISPATCH_SECRET,
  envelopeHeaders,
  postDispatch,
  readyz,
  workersReady,
} from './in-process.js';
export { closedPort } from './ports.js';
