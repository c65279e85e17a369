export type {
  Counter,
  Gauge,
  GaugeCollector,
  Histogram,
  Labels,
  MetricDef,
  Metrics,
} from './metrics.js';
export { noopMetrics } from './metrics.js';
export type { PrometheusMetricsOptions } from './prometheus.js';
export { PrometheusMetrics } from './prometheus.js';
export type { MetricName, OperationLabel } from './catalogue.js';
export { HOP_DURATION_BUCKETS, MCP_DURATION_BUCKETS, METRICS, OTHER } from './catalogue.js';
export type {
  BaseStatus,
  MetricsListener,
  ProcessMetrics,
  ProcessMetricsOptions,
  RouteHost,
} from './serve.js';
export {
  MCP_CLUSTER_VERSION,
  METRICS_PATH,
  STATUS_PATH,
  baseStatus,
  listenMetrics,
  metricsHandler,
  processMetrics,
  serveMetrics,
} from './serve.js';
export type { McpOutcome, McpSpanInfo, StartMcpSpanOptions, WithSpanOptions } from './tracing.js';
export {
  MCP_ATTR,
  TOOL_ERROR,
  TRACER_NAME,
  TRACER_VERSION,
  contextFromMeta,
  endSpanWithOutcome,
  injectTraceContext,
  isTracing,
  linkFromHeaders,
  mcpServerAttributes,
  mcpSpanName,
  mcpTracer,
  setTracingActive,
  startMcpSpan,
  startSpan,
  traceLogFields,
  withSpan,
} from './tracing.js';
export type {
  SdkModules,
  StartTracingDeps,
  TracingConfig,
  TracingHandle,
  TracingIdentity,
} from './otel-sdk.js';
export { CLUSTER_ROLE_ATTRIBUTE, startTracingFromEnv, tracingConfigFromEnv } from './otel-sdk.js';
