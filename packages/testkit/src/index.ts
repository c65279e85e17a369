export type { SchemaCheck, SchemaRevision, ValidateOptions } from './schema.js';
export {
  SCHEMA_REVISIONS,
  expectValidMessage,
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
} from './cluster.js';
