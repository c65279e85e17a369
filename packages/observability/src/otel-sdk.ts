/**
 * Starts the OpenTelemetry Node SDK for traces when the standard OTEL_* variables ask for it.
 * The SDK packages are imported only then, so a process without tracing loads none of them.
 * Only traces are exported (OTLP, JSON over HTTP): no metric reader (metrics are Prometheus,
 * see prometheus.ts), no log exporter, no auto-instrumentation.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import type {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { setTracingActive } from './tracing.js';

/** Who is tracing: becomes the resource of every span this process exports. */
export interface TracingIdentity {
  /** service.name, unless OTEL_SERVICE_NAME is set. */
  serviceName: string;
  serviceVersion?: string;
  /** service.instance.id: the node id of this process. */
  nodeId: string;
  /** mcp.cluster.role, e.g. `gateway`, `worker`, `embedded`. */
  role: string;
}

export interface TracingHandle {
  /** Exports the spans still buffered, then stops tracing in this process. */
  shutdown(): Promise<void>;
}

export type TracingConfig = { enabled: true } | { enabled: false; reason: string };

/** The SDK modules startTracingFromEnv imports (a seam for tests). */
export interface SdkModules {
  NodeSDK: typeof NodeSDK;
  OTLPTraceExporter: typeof OTLPTraceExporter;
  defaultResource: typeof defaultResource;
  resourceFromAttributes: typeof resourceFromAttributes;
  CompositePropagator: typeof CompositePropagator;
  W3CTraceContextPropagator: typeof W3CTraceContextPropagator;
  W3CBaggagePropagator: typeof W3CBaggagePropagator;
}

export interface StartTracingDeps {
  /**
   * The environment that decides whether to start; process.env otherwise. The SDK and the
   * exporter always read their settings from process.env.
   */
  env?: NodeJS.ProcessEnv;
  /** Imports the SDK; called only when tracing is configured. */
  load?: () => Promise<SdkModules>;
}

/** Resource attribute naming the process's part in the cluster. */
export const CLUSTER_ROLE_ATTRIBUTE = 'mcp.cluster.role';

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function listFromEnv(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '');
}

/** Whether the environment asks for traces this process can export, and if not, why. */
export function tracingConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TracingConfig {
  const endpoint =
    nonEmpty(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) ??
    nonEmpty(env['OTEL_EXPORTER_OTLP_ENDPOINT']);
  if (endpoint === undefined) {
    return {
      enabled: false,
      reason: 'neither OTEL_EXPORTER_OTLP_ENDPOINT nor OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set',
    };
  }
  if (nonEmpty(env['OTEL_SDK_DISABLED'])?.toLowerCase() === 'true') {
    return { enabled: false, reason: 'OTEL_SDK_DISABLED is true' };
  }
  const exporters = listFromEnv(env['OTEL_TRACES_EXPORTER']);
  if (exporters.length > 0 && !exporters.includes('otlp')) {
    return {
      enabled: false,
      reason: `OTEL_TRACES_EXPORTER is "${exporters.join(',')}" (only otlp is supported)`,
    };
  }
  const protocol =
    nonEmpty(env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL']) ??
    nonEmpty(env['OTEL_EXPORTER_OTLP_PROTOCOL']);
  if (protocol === 'grpc') {
    // An OTLP/HTTP request to a gRPC port (4317) would fail on every export.
    return { enabled: false, reason: 'OTLP over gRPC is not supported: use http/json' };
  }
  return { enabled: true };
}

async function loadSdkModules(): Promise<SdkModules> {
  const [sdk, exporter, resources, core] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
  ]);
  return {
    NodeSDK: sdk.NodeSDK,
    OTLPTraceExporter: exporter.OTLPTraceExporter,
    defaultResource: resources.defaultResource,
    resourceFromAttributes: resources.resourceFromAttributes,
    CompositePropagator: core.CompositePropagator,
    W3CTraceContextPropagator: core.W3CTraceContextPropagator,
    W3CBaggagePropagator: core.W3CBaggagePropagator,
  };
}

function createSdk(modules: SdkModules, identity: TracingIdentity): NodeSDK {
  const attributes: Record<string, string> = {
    'service.name': identity.serviceName,
    'service.instance.id': identity.nodeId,
    [CLUSTER_ROLE_ATTRIBUTE]: identity.role,
  };
  if (identity.serviceVersion !== undefined)
    attributes['service.version'] = identity.serviceVersion;
  return new modules.NodeSDK({
    // The detected resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, host, process) is
    // merged over this one, so the environment wins. `serviceName` is not passed: it would win
    // over OTEL_SERVICE_NAME.
    resource: modules.defaultResource().merge(modules.resourceFromAttributes(attributes)),
    // The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT/HEADERS/TIMEOUT/COMPRESSION; the
    // batch processor NodeSDK wraps it in reads OTEL_BSP_*.
    traceExporter: new modules.OTLPTraceExporter(),
    // Empty lists, not undefined: NodeSDK would otherwise start OTLP metric and log exporters
    // from the environment (their default exporter is otlp).
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    // W3C trace context and baggage whatever OTEL_PROPAGATORS says: the MCP conventions name
    // these `_meta` keys, and tracing.ts reads and writes them through the global propagator.
    textMapPropagator: new modules.CompositePropagator({
      propagators: [new modules.W3CTraceContextPropagator(), new modules.W3CBaggagePropagator()],
    }),
    // contextManager left undefined: NodeSDK registers an AsyncLocalStorageContextManager.
    // sampler left undefined: OTEL_TRACES_SAMPLER/_ARG, else parentbased_always_on.
  });
}

interface Running {
  sdk: Promise<NodeSDK>;
  users: number;
}

/** One SDK per process: an embedded process may ask from several roles. */
let running: Running | undefined;

async function stopSdk(sdk: NodeSDK): Promise<void> {
  setTracingActive(false);
  try {
    await sdk.shutdown();
  } finally {
    // Unregister the globals so that a later start in this process can register again.
    trace.disable();
    propagation.disable();
    context.disable();
  }
}

function handleFor(current: Running): TracingHandle {
  let closed = false;
  return {
    async shutdown() {
      if (closed) return;
      closed = true;
      current.users -= 1;
      if (current.users > 0) return;
      if (running === current) running = undefined;
      await stopSdk(await current.sdk);
    },
  };
}

/**
 * Starts tracing when the environment configures it (see README "Tracing") and returns its
 * handle; otherwise returns undefined without importing any SDK package. A second call while
 * tracing runs shares the running SDK (the first identity stays); the SDK stops when every
 * handle has shut down.
 */
export async function startTracingFromEnv(
  identity: TracingIdentity,
  deps: StartTracingDeps = {},
): Promise<TracingHandle | undefined> {
  if (!tracingConfigFromEnv(deps.env ?? process.env).enabled) return undefined;
  if (running !== undefined) {
    running.users += 1;
    await running.sdk;
    return handleFor(running);
  }
  const load = deps.load ?? loadSdkModules;
  const current: Running = {
    sdk: load().then((modules) => {
      const sdk = createSdk(modules, identity);
      sdk.start();
      setTracingActive(true);
      return sdk;
    }),
    users: 1,
  };
  running = current;
  try {
    await current.sdk;
  } catch (error) {
    running = undefined;
    throw error;
  }
  return handleFor(current);
}
