/**
 * Tracing helpers for library code, after the OpenTelemetry semantic conventions for MCP
 * (status Development). They use `@opentelemetry/api` only, never an SDK: a service starts the
 * SDK at its wiring point (otel-sdk.ts), which registers the W3C trace-context and baggage
 * propagators and turns {@link isTracing} on. While it is off, every helper here is a no-op that
 * builds no attributes, parses no headers and starts no span, so hot paths pay one boolean check.
 */
import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  defaultTextMapSetter,
  propagation,
  trace,
} from '@opentelemetry/api';
import type {
  Attributes,
  Context,
  Link,
  Span,
  SpanOptions,
  TextMapGetter,
  Tracer,
} from '@opentelemetry/api';

/** The instrumentation scope of every span the cluster starts. */
export const TRACER_NAME = 'mcp-cluster';
/** The version of this package (package.json), reported as the instrumentation scope version. */
export const TRACER_VERSION = '0.1.0';

/** Attribute names used on MCP spans. */
export const MCP_ATTR = {
  methodName: 'mcp.method.name',
  errorType: 'error.type',
  toolName: 'gen_ai.tool.name',
  promptName: 'gen_ai.prompt.name',
  operationName: 'gen_ai.operation.name',
  requestId: 'jsonrpc.request.id',
  responseStatusCode: 'rpc.response.status_code',
  protocolVersion: 'mcp.protocol.version',
  sessionId: 'mcp.session.id',
  networkTransport: 'network.transport',
  networkProtocolName: 'network.protocol.name',
  networkProtocolVersion: 'network.protocol.version',
  clientAddress: 'client.address',
  clientPort: 'client.port',
} as const;

/** `error.type` of a tools/call whose CallToolResult has `isError: true`. */
export const TOOL_ERROR = 'tool_error';

let tracingActive = false;
let cachedTracer: Tracer | undefined;

/**
 * True once a tracing SDK is started in this process (startTracingFromEnv) and until it shuts
 * down. Callers may skip building span inputs while it is false.
 */
export function isTracing(): boolean {
  return tracingActive;
}

/**
 * Turns the helpers on or off. startTracingFromEnv calls it; code that registers its own tracer
 * provider (tests with an in-memory exporter) calls it too, after registering the W3C
 * trace-context and baggage propagators (`propagation.setGlobalPropagator`).
 */
export function setTracingActive(active: boolean): void {
  tracingActive = active;
  // A tracer obtained under another registration may hold a stale delegate.
  cachedTracer = undefined;
}

/** The cluster's tracer (`trace.getTracer('mcp-cluster', version)`). */
export function mcpTracer(): Tracer {
  cachedTracer ??= trace.getTracer(TRACER_NAME, TRACER_VERSION);
  return cachedTracer;
}

/** A span that records nothing: what the helpers hand out while tracing is off. */
const NON_RECORDING_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** `{mcp.method.name} {target}`, or just the method when there is no tool or prompt name. */
export function mcpSpanName(method: string, target?: string): string {
  return target ? `${method} ${target}` : method;
}

/** What is known about one MCP request when its span starts. */
export interface McpSpanInfo {
  method: string;
  /** The JSON-RPC id; null or absent (a notification) sets no attribute. */
  requestId?: string | number | null;
  toolName?: string;
  promptName?: string;
  protocolVersion?: string;
  sessionId?: string;
  /** `tcp` for HTTP, `pipe` for stdio. */
  transport?: 'tcp' | 'pipe';
  /** e.g. `http`. */
  networkProtocolName?: string;
  /** e.g. `1.1`, `2`. */
  networkProtocolVersion?: string;
  clientAddress?: string;
  clientPort?: number;
}

/**
 * The attributes of an MCP span (server or client side); fields left undefined are omitted.
 * `mcp.resource.uri` is never set: resource URIs are unbounded and may carry user data.
 */
export function mcpServerAttributes(info: McpSpanInfo): Attributes {
  const attributes: Attributes = { [MCP_ATTR.methodName]: info.method };
  if (info.method === 'tools/call') attributes[MCP_ATTR.operationName] = 'execute_tool';
  if (info.toolName !== undefined) attributes[MCP_ATTR.toolName] = info.toolName;
  if (info.promptName !== undefined) attributes[MCP_ATTR.promptName] = info.promptName;
  if (info.requestId !== undefined && info.requestId !== null) {
    attributes[MCP_ATTR.requestId] = String(info.requestId);
  }
  setDefined(attributes, MCP_ATTR.protocolVersion, info.protocolVersion);
  setDefined(attributes, MCP_ATTR.sessionId, info.sessionId);
  setDefined(attributes, MCP_ATTR.networkTransport, info.transport);
  setDefined(attributes, MCP_ATTR.networkProtocolName, info.networkProtocolName);
  setDefined(attributes, MCP_ATTR.networkProtocolVersion, info.networkProtocolVersion);
  setDefined(attributes, MCP_ATTR.clientAddress, info.clientAddress);
  setDefined(attributes, MCP_ATTR.clientPort, info.clientPort);
  return attributes;
}

function setDefined(attributes: Attributes, key: string, value: string | number | undefined): void {
  if (value !== undefined) attributes[key] = value;
}

export interface StartMcpSpanOptions {
  /** SERVER (the default) where a request is handled, CLIENT for an outgoing call. */
  kind?: SpanKind;
  /** The parent context, e.g. from {@link contextFromMeta}; the active context otherwise. */
  context?: Context;
  links?: Link[];
}

/**
 * Starts (without activating) the span of one MCP request, named and attributed per the
 * conventions. While tracing is off it returns a shared non-recording span and builds nothing.
 */
export function startMcpSpan(info: McpSpanInfo, options: StartMcpSpanOptions = {}): Span {
  if (!tracingActive) return NON_RECORDING_SPAN;
  const spanOptions: SpanOptions = {
    kind: options.kind ?? SpanKind.SERVER,
    attributes: mcpServerAttributes(info),
  };
  if (options.links !== undefined) spanOptions.links = options.links;
  return startSpan(
    mcpSpanName(info.method, info.toolName ?? info.promptName),
    spanOptions,
    options.context,
  );
}

/**
 * Starts (without activating) a span of this package's tracer in `parent` (the active context
 * by default); the shared non-recording span while tracing is off.
 */
export function startSpan(name: string, options: SpanOptions, parent?: Context): Span {
  if (!tracingActive) return NON_RECORDING_SPAN;
  return mcpTracer().startSpan(name, options, parent ?? context.active());
}

/** Reads string values from an MCP `_meta` object; anything else counts as absent. */
const metaGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    if (!Object.hasOwn(carrier, key)) return undefined;
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

type HeaderRecord = Record<string, string | string[] | undefined>;

/** Reads Node's lower-cased request headers; a repeated header counts by its first value. */
const headerGetter: TextMapGetter<HeaderRecord> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  },
};

/**
 * The context a request's span should start in: `base` with the remote parent (and baggage) from
 * the request's `params._meta` (`traceparent`, `tracestate`, `baggage`), read by the registered
 * propagator (startTracingFromEnv registers the W3C ones). Missing, non-string or malformed
 * values leave `base` as it is.
 */
export function contextFromMeta(
  meta: Record<string, unknown> | undefined,
  base: Context = context.active(),
): Context {
  if (!tracingActive || meta === undefined || meta === null || typeof meta !== 'object') {
    return base;
  }
  return propagation.extract(base, meta, metaGetter);
}

/**
 * A link to the span named by an HTTP `traceparent` header, for a request whose parent comes
 * from `_meta` instead. Undefined when there is no valid header, or when it names the same span
 * as `parent` (then it is the parent already).
 */
export function linkFromHeaders(
  headers: HeaderRecord | undefined,
  parent?: Context,
): Link | undefined {
  if (!tracingActive || headers === undefined || headers['traceparent'] === undefined) {
    return undefined;
  }
  const linked = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, headers, headerGetter));
  if (linked === undefined) return undefined;
  const current = parent === undefined ? undefined : trace.getSpanContext(parent);
  if (current?.traceId === linked.traceId && current.spanId === linked.spanId) return undefined;
  return { context: linked };
}

/**
 * Writes `traceparent`/`tracestate` (and `baggage`, when the context has any) of `ctx` into a
 * plain record: the `_meta` of a forwarded request, the gateway-to-worker envelope, a durable
 * task record. Writes nothing while tracing is off or when `ctx` has no valid span.
 */
export function injectTraceContext<C extends Record<string, string>>(
  carrier: C,
  ctx: Context = context.active(),
): C {
  if (tracingActive) propagation.inject(ctx, carrier, defaultTextMapSetter);
  return carrier;
}

/** How an MCP request ended: success, a tool result with `isError`, or a JSON-RPC error. */
export type McpOutcome = 'ok' | typeof TOOL_ERROR | { code: number; message: string };

/**
 * Records the outcome per the conventions and ends the span: `error.type` (the JSON-RPC code as
 * a string, or `tool_error`), `rpc.response.status_code`, and status ERROR with the JSON-RPC
 * message. Success leaves the status unset.
 */
export function endSpanWithOutcome(span: Span, outcome: McpOutcome): void {
  if (!span.isRecording()) {
    span.end();
    return;
  }
  if (outcome === TOOL_ERROR) {
    span.setAttribute(MCP_ATTR.errorType, TOOL_ERROR);
    span.setStatus({ code: SpanStatusCode.ERROR });
  } else if (outcome !== 'ok') {
    const code = String(outcome.code);
    span.setAttribute(MCP_ATTR.errorType, code);
    span.setAttribute(MCP_ATTR.responseStatusCode, code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message });
  }
  span.end();
}

export interface WithSpanOptions extends SpanOptions {
  /** The parent context; the active one otherwise. */
  context?: Context;
}

/**
 * Runs `fn` inside a new active span (kind INTERNAL unless given) and ends it. A throw is
 * recorded (exception event, `error.type`, status ERROR) and rethrown. While tracing is off,
 * `fn` runs directly with a non-recording span.
 */
export async function withSpan<T>(
  name: string,
  options: WithSpanOptions,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  if (!tracingActive) return fn(NON_RECORDING_SPAN);
  const { context: parent, ...spanOptions } = options;
  const span = mcpTracer().startSpan(
    name,
    { kind: SpanKind.INTERNAL, ...spanOptions },
    parent ?? context.active(),
  );
  try {
    const result = await context.with(trace.setSpan(parent ?? context.active(), span), () =>
      fn(span),
    );
    span.end();
    return result;
  } catch (error) {
    recordFailure(span, error);
    span.end();
    throw error;
  }
}

function recordFailure(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setAttribute(MCP_ATTR.errorType, error.name || 'Error');
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.recordException(String(error));
    span.setAttribute(MCP_ATTR.errorType, '_OTHER');
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}

/**
 * The active span's ids as log fields (`trace_id`, `span_id`), so a log line written while a
 * request is handled can be found from its trace; undefined while tracing is off or outside
 * any span.
 */
export function traceLogFields(): Record<string, string> | undefined {
  if (!tracingActive) return undefined;
  const span = trace.getActiveSpan();
  if (span === undefined) return undefined;
  const sc = span.spanContext();
  return isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined;
}
