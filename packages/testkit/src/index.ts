// The helpers that need no service live in @mcp-cluster/test-support, the in-process cluster in
// @mcp-cluster/gateway/test-support; both are re-exported here, so a test imports one package.
export * from '@mcp-cluster/test-support';
export type { LogEntry, RunningGateway, RunningWorker } from '@mcp-cluster/gateway/test-support';
export {
  ANONYMOUS,
  DISPATCH_DEADLINE_MS,
  IN_PROCESS_DRAIN_MS,
  IN_PROCESS_HEARTBEAT_MS,
  InProcessCluster,
  InProcessWorkers,
  TEST_DISPATCH_SECRET,
  envelopeHeaders,
  postDispatch,
} from '@mcp-cluster/gateway/test-support';
export type { RecordedMessage, RecordedViolation } from './recording.js';
export { RecordingTransport, recordTransport } from './recording.js';
export type { TestServer } from './embedded.js';
export { CLI_MAIN, REPO_ROOT, cliStdioParams, startTestServer } from './embedded.js';
export type { EnsureServicesOptions, Source, TestServices } from './services.js';
export {
  CONTAINER_IMAGES,
  ServiceUnavailableError,
  dockerDaemonAnswers,
  ensureServices,
} from './services.js';
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
  startCluster,
} from './cluster.js';
export type {
  PrometheusQueryResult,
  PrometheusSample,
  PrometheusScrapeConfig,
  PrometheusSeries,
  PrometheusTarget,
  RunningPrometheus,
  StartPrometheusOptions,
} from './prometheus.js';
export { PrometheusUnavailableError, startPrometheus } from './prometheus.js';
