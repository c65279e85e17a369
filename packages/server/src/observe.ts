/**
 * Metrics and tracing as a decorator of a MessageEngine: every answered request is one
 * observation of `mcp_server_operation_duration_seconds` and, while tracing is on, one SERVER
 * span (the OpenTelemetry MCP conventions' operation duration and span). It wraps whatever the
 * transports are given — a LocalEngine, a gateway's engine, the security guard's wrapper — so
 * a request refused by a policy is counted like any other. Label values stay bounded: unknown
 * methods and names the registry does not hold are `_other`; uris and ids are never labels.
 */
import { KNOWN_METHODS } from '@mcp-cluster/protocol';
import type { JsonRpcRequest, JsonRpcResponse } from '@mcp-cluster/protocol';
import {
  METRICS,
  OTHER,
  TOOL_ERROR,
  contextFromMeta,
  endSpanWithOutcome,
  isTracing,
  linkFromHeaders,
  mcpSpanName,
  startMcpSpan,
} from '@mcp-cluster/observability';
import type { Labels, McpOutcome, Metrics, OperationLabel } from '@mcp-cluster/observability';
import { context, trace } from '@opentelemetry/api';
import type { Context, Link } from '@opentelemetry/api';
import type { MessageEngine } from './api.js';
import type { RequestContext } from './context.js';
import type { ComponentRegistry } from './registry.js';
import { outcomeOf } from './request-log.js';

export interface ObserveOptions {
  /**
   * Observe how long legacy sessions last (`mcp_server_session_duration_seconds`): only
   * where this engine's sessions are the sessions themselves (an embedded node), not a
   * worker's or gateway's copies of sessions kept in Redis.
   */
  readonly sessionDurations?: boolean;
  readonly metrics: Metrics;
  /** `tcp` for HTTP and WebSocket, `pipe` for stdio (the conventions' network.transport). */
  readonly networkTransport: 'tcp' | 'pipe';
  /** Whether the registry holds a tool or prompt of this name (others are `_other`). */
  readonly knows: {
    tool(name: string): boolean;
    prompt(name: string): boolean;
  };
  /**
   * Where a request's span finds its parent: the trace context the client sent in the
   * request's `_meta` (serve, gateway: the default), or the active context (a worker, whose
   * dispatcher activates the context the gateway signed into the envelope).
   */
  readonly traceParent?: 'meta' | 'active';
}

/** `knows` for an engine's own registry: the names it holds. */
export function registryKnows(
  registry: Pick<ComponentRegistry, 'tool' | 'prompt'>,
): ObserveOptions['knows'] {
  return {
    tool: (name) => registry.tool(name) !== undefined,
    prompt: (name) => registry.prompt(name) !== undefined,
  };
}

/**
 * The engine, reporting each request's duration and outcome to `o.metrics` and, while tracing
 * is on, in a span. Tracing must have started before this is called (the CLI starts it first):
 * with metrics off and no tracing, the engine is returned as it is.
 */
export function observeEngine(engine: MessageEngine, o: ObserveOptions): MessageEngine {
  if (!o.metrics.enabled && !isTracing()) return engine;
  const operations = o.metrics.histogram(METRICS.operationDuration);
  o.metrics.gauge(METRICS.sessionsActive, (set) => set({}, engine.sessions.size));
  const sessionDurations =
    o.sessionDurations === true && o.metrics.enabled
      ? o.metrics.histogram(METRICS.sessionDuration)
      : undefined;
  /** From a successful initialize until the session ends. */
  const timeSession = (sessionId: string): void => {
    const session = engine.sessions.get(sessionId);
    if (session?.onEnd === undefined || sessionDurations === undefined) return;
    const started = performance.now();
    session.onEnd(() =>
      sessionDurations.observe(
        {
          mcp_protocol_version: session.state.protocolVersion,
          network_transport: o.networkTransport,
        },
        (performance.now() - started) / 1000,
      ),
    );
  };
  const traced = async (
    request: JsonRpcRequest,
    ctx: RequestContext,
    labels: Labels<OperationLabel>,
  ): Promise<JsonRpcResponse> => {
    const parent = o.traceParent === 'active' ? context.active() : contextFromMeta(metaOf(request));
    const name = request.params?.['name'];
    const span = startMcpSpan(
      {
        method: request.method,
        requestId: request.id,
        ...(typeof name === 'string' && request.method === 'tools/call' ? { toolName: name } : {}),
        ...(typeof name === 'string' && request.method === 'prompts/get'
          ? { promptName: name }
          : {}),
        protocolVersion: ctx.protocolVersion,
        ...(ctx.sessionId === undefined ? {} : { sessionId: ctx.sessionId }),
        transport: o.networkTransport,
        ...(ctx.remoteAddress === undefined ? {} : { clientAddress: ctx.remoteAddress }),
      },
      {
        context: parent,
        ...linksOf(ctx.traceparent, parent),
      },
    );
    // The span's name carries a target only when it is a name the registry holds.
    if ((labels.gen_ai_tool_name ?? labels.gen_ai_prompt_name) === OTHER) {
      span.updateName(mcpSpanName(request.method));
    }
    const response = await context.with(trace.setSpan(parent, span), () =>
      engine.handleRequest(request, ctx),
    );
    endSpanWithOutcome(span, spanOutcome(response, outcomeOf(response)));
    return response;
  };
  return {
    sessions: engine.sessions,
    toolDescriptor: (name) => engine.toolDescriptor(name),
    handleNotification: (notification, ctx) => engine.handleNotification(notification, ctx),
    async handleRequest(request, ctx) {
      const started = performance.now();
      const labels = operationLabels(request, ctx, o);
      const response = isTracing()
        ? await traced(request, ctx, labels)
        : await engine.handleRequest(request, ctx);
      const outcome = outcomeOf(response);
      operations.observe(
        outcome === 'ok' ? labels : { ...labels, error_type: String(outcome) },
        (performance.now() - started) / 1000,
      );
      if (request.method === 'initialize' && ctx.sessionId !== undefined && 'result' in response) {
        timeSession(ctx.sessionId);
      }
      return response;
    },
  };
}

/** The HTTP request's own traceparent as a link, when it is not the parent already. */
function linksOf(traceparent: string | undefined, parent: Context): { links?: Link[] } {
  if (traceparent === undefined) return {};
  const link = linkFromHeaders({ traceparent }, parent);
  return link === undefined ? {} : { links: [link] };
}

function metaOf(request: JsonRpcRequest): Record<string, unknown> | undefined {
  const meta = request.params?.['_meta'];
  return typeof meta === 'object' && meta !== null && !Array.isArray(meta)
    ? (meta as Record<string, unknown>)
    : undefined;
}

function spanOutcome(response: JsonRpcResponse, outcome: ReturnType<typeof outcomeOf>): McpOutcome {
  if ('error' in response && response.error !== undefined) {
    return { code: response.error.code, message: response.error.message };
  }
  return outcome === 'tool_error' ? TOOL_ERROR : 'ok';
}

/**
 * The operation histogram's labels for one request, but its outcome (`error_type`, added
 * once it is answered).
 */
export function operationLabels(
  request: JsonRpcRequest,
  ctx: Pick<RequestContext, 'protocolVersion'>,
  o: Pick<ObserveOptions, 'networkTransport' | 'knows'>,
): Labels<OperationLabel> {
  const method = KNOWN_METHODS.has(request.method) ? request.method : OTHER;
  const labels: Partial<Record<OperationLabel, string>> = {
    mcp_method_name: method,
    mcp_protocol_version: ctx.protocolVersion,
    network_transport: o.networkTransport,
  };
  const name = request.params?.['name'];
  if (typeof name === 'string') {
    if (method === 'tools/call') labels.gen_ai_tool_name = o.knows.tool(name) ? name : OTHER;
    else if (method === 'prompts/get') {
      labels.gen_ai_prompt_name = o.knows.prompt(name) ? name : OTHER;
    }
  }
  return labels;
}
