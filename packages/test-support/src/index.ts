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
export type { Requirement, RequirementId } from './requirements.js';
export { REQUIREMENTS, verifies } from './requirements.js';
export type { EventuallyOptions } from './wait.js';
export {
  DEFAULT_EVENTUALLY_TIMEOUT_MS,
  DEFAULT_POLL_MS,
  WaitTimeoutError,
  eventually,
  within,
} from './wait.js';
export { closedPort, listenLoopback } from './ports.js';
export type { ScanningRedis } from './redis-keys.js';
export { countKeys, purgePrefix, testKeyPrefix, testRedisUrl } from './redis-keys.js';
export { deleteRedisKeys, testServices } from './test-services.js';
export type { SseEvent } from './sse.js';
export { DEFAULT_SSE_READ_TIMEOUT_MS, SseReader, parseSseEvent } from './sse.js';
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
export { textOf } from './results.js';
export type { Exchange } from './legacy-client.js';
export {
  DEFAULT_LEGACY_CAPABILITIES,
  LEGACY_VERSION,
  LegacySession,
  STEP_TIMEOUT_MS,
  modernCall,
} from './legacy-client.js';
export type { Readiness } from './readiness.js';
export { readyz, workersReady } from './readiness.js';
export type {
  AttributeValue,
  OtlpReceiver,
  ReceivedSpan,
  RefusedRequest,
  SpanKindName,
  SpanNode,
} from './otlp-receiver.js';
export {
  DEFAULT_OTLP_WAIT_TIMEOUT_MS,
  childrenOf,
  formatSpanTree,
  parseOtlpTraceRequest,
  spanTree,
  startOtlpReceiver,
} from './otlp-receiver.js';
export type { Sample } from './metrics-text.js';
export { parseExposition, sampleSum, samples } from './metrics-text.js';
