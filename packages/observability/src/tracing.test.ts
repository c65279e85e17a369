import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
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
  traceLogFields,
  withSpan,
} from './tracing.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;
const HTTP_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const HTTP_SPAN_ID = 'b7ad6b7169203331';
const HTTP_TRACEPARENT = `00-${HTTP_TRACE_ID}-${HTTP_SPAN_ID}-01`;

describe('span names and attributes', () => {
  it('names a span after the method and its tool or prompt', () => {
    expect(mcpSpanName('tools/call', 'get_weather')).toBe('tools/call get_weather');
    expect(mcpSpanName('prompts/get', 'summary')).toBe('prompts/get summary');
    expect(mcpSpanName('initialize')).toBe('initialize');
    expect(mcpSpanName('tools/list', '')).toBe('tools/list');
  });

  it('builds the conventions attributes and omits what is unknown', () => {
    expect(
      mcpServerAttributes({
        method: 'tools/call',
        requestId: 7,
        toolName: 'get_weather',
        protocolVersion: '2025-11-25',
        sessionId: 's-1',
        transport: 'tcp',
        networkProtocolName: 'http',
        networkProtocolVersion: '1.1',
        clientAddress: '127.0.0.1',
        clientPort: 50123,
      }),
    ).toEqual({
      'mcp.method.name': 'tools/call',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'get_weather',
      'jsonrpc.request.id': '7',
      'mcp.protocol.version': '2025-11-25',
      'mcp.session.id': 's-1',
      'network.transport': 'tcp',
      'network.protocol.name': 'http',
      'network.protocol.version': '1.1',
      'client.address': '127.0.0.1',
      'client.port': 50123,
    });
    expect(
      mcpServerAttributes({
        method: 'prompts/get',
        promptName: 'p',
        requestId: null,
        transport: 'pipe',
      }),
    ).toEqual({
      'mcp.method.name': 'prompts/get',
      'gen_ai.prompt.name': 'p',
      'network.transport': 'pipe',
    });
  });
});

// Runs before any provider is registered in this file (vitest runs describes in order).
describe('without an SDK', () => {
  it('is off and every helper is a no-op', async () => {
    expect(isTracing()).toBe(false);
    const base = context.active();
    expect(contextFromMeta({ traceparent: TRACEPARENT }, base)).toBe(base);
    expect(linkFromHeaders({ traceparent: HTTP_TRACEPARENT })).toBeUndefined();
    const carrier = injectTraceContext(
      {},
      trace.setSpanContext(ROOT_CONTEXT, {
        traceId: TRACE_ID,
        spanId: PARENT_ID,
        traceFlags: 1,
      }),
    );
    expect(carrier).toEqual({});

    const span = startMcpSpan({ method: 'tools/call', toolName: 't' });
    expect(span.isRecording()).toBe(false);
    endSpanWithOutcome(span, { code: -32602, message: 'bad' });

    let seen: boolean | undefined;
    const result = await withSpan('tool t', {}, (inner) => {
      seen = inner.isRecording();
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).toBe(false);
    expect(traceLogFields()).toBeUndefined();
    await expect(withSpan('tool t', {}, () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
  });
});

describe('with an in-memory SDK', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const contextManager = new AsyncLocalStorageContextManager();

  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(
      new CompositePropagator({
        propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
      }),
    );
    setTracingActive(true);
  });
  afterEach(() => exporter.reset());
  afterAll(async () => {
    setTracingActive(false);
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  const finished = (): ReadableSpan[] => exporter.getFinishedSpans();
  const only = (): ReadableSpan => {
    const spans = finished();
    expect(spans).toHaveLength(1);
    return spans[0]!;
  };

  it('starts a SERVER span named and attributed per the conventions; ok leaves status unset', () => {
    expect(isTracing()).toBe(true);
    const span = startMcpSpan({ method: 'tools/call', toolName: 'get_weather', requestId: 'a' });
    endSpanWithOutcome(span, 'ok');
    const done = only();
    expect(done.name).toBe('tools/call get_weather');
    expect(done.kind).toBe(SpanKind.SERVER);
    expect(done.attributes['mcp.method.name']).toBe('tools/call');
    expect(done.attributes['gen_ai.tool.name']).toBe('get_weather');
    expect(done.attributes['jsonrpc.request.id']).toBe('a');
    expect(done.attributes['error.type']).toBeUndefined();
    expect(done.status.code).toBe(SpanStatusCode.UNSET);
    expect(done.instrumentationScope.name).toBe('mcp-cluster');
  });

  it('marks a tool result with isError as tool_error', () => {
    endSpanWithOutcome(startMcpSpan({ method: 'tools/call', toolName: 't' }), 'tool_error');
    const done = only();
    expect(done.attributes['error.type']).toBe('tool_error');
    expect(done.attributes['rpc.response.status_code']).toBeUndefined();
    expect(done.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('records a JSON-RPC error as error.type, rpc.response.status_code and status message', () => {
    const span = startMcpSpan({ method: 'resources/read' }, { kind: SpanKind.CLIENT });
    endSpanWithOutcome(span, { code: -32602, message: 'Invalid params' });
    const done = only();
    expect(done.name).toBe('resources/read');
    expect(done.kind).toBe(SpanKind.CLIENT);
    expect(done.attributes['error.type']).toBe('-32602');
    expect(done.attributes['rpc.response.status_code']).toBe('-32602');
    expect(done.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Invalid params' });
  });

  it('parents a span to the traceparent of _meta, with tracestate and baggage', () => {
    const ctx = contextFromMeta(
      { traceparent: TRACEPARENT, tracestate: 'vendor=x', baggage: 'tenant=acme', other: 1 },
      ROOT_CONTEXT,
    );
    expect(propagation.getBaggage(ctx)?.getEntry('tenant')?.value).toBe('acme');
    startMcpSpan({ method: 'tools/list' }, { context: ctx }).end();
    const done = only();
    expect(done.spanContext().traceId).toBe(TRACE_ID);
    expect(done.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(done.parentSpanContext?.isRemote).toBe(true);
    expect(done.spanContext().traceState?.get('vendor')).toBe('x');
  });

  it('ignores malformed or non-string _meta values', () => {
    const cases: Record<string, unknown>[] = [
      { traceparent: 'not-a-traceparent' },
      { traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01` },
      { traceparent: 42 },
      { traceparent: { value: TRACEPARENT } },
      { traceparent: [TRACEPARENT] },
      Object.create({ traceparent: TRACEPARENT }) as Record<string, unknown>,
    ];
    for (const meta of cases) {
      const ctx = contextFromMeta(meta, ROOT_CONTEXT);
      expect(trace.getSpanContext(ctx)).toBeUndefined();
    }
    expect(contextFromMeta(undefined, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
    // A root span is started: the malformed value named no parent.
    startMcpSpan(
      { method: 'ping' },
      { context: contextFromMeta({ traceparent: 'x' }, ROOT_CONTEXT) },
    ).end();
    expect(only().parentSpanContext).toBeUndefined();
  });

  it('turns an HTTP traceparent other than the parent into a link', () => {
    const parent = contextFromMeta({ traceparent: TRACEPARENT }, ROOT_CONTEXT);
    const link = linkFromHeaders({ traceparent: HTTP_TRACEPARENT, host: 'x' }, parent);
    expect(link?.context.traceId).toBe(HTTP_TRACE_ID);
    expect(link?.context.spanId).toBe(HTTP_SPAN_ID);
    startMcpSpan({ method: 'tools/list' }, { context: parent, links: link ? [link] : [] }).end();
    const done = only();
    expect(done.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(done.links.map((l) => l.context.spanId)).toEqual([HTTP_SPAN_ID]);

    expect(linkFromHeaders({ traceparent: TRACEPARENT }, parent)).toBeUndefined();
    expect(linkFromHeaders({ traceparent: 'garbage' }, parent)).toBeUndefined();
    expect(linkFromHeaders({}, parent)).toBeUndefined();
    expect(linkFromHeaders({ traceparent: [HTTP_TRACEPARENT] })?.context.spanId).toBe(HTTP_SPAN_ID);
  });

  it('injects the active span into a record that contextFromMeta reads back', () => {
    const span = mcpTracer().startSpan(
      'outer',
      { kind: SpanKind.SERVER },
      contextFromMeta({ traceparent: TRACEPARENT, tracestate: 'vendor=x' }, ROOT_CONTEXT),
    );
    const carrier = context.with(trace.setSpan(ROOT_CONTEXT, span), () =>
      injectTraceContext<Record<string, string>>({}),
    );
    span.end();
    const { traceId, spanId } = span.spanContext();
    expect(carrier['traceparent']).toBe(`00-${traceId}-${spanId}-01`);
    expect(carrier['tracestate']).toBe('vendor=x');
    const back = trace.getSpanContext(contextFromMeta(carrier, ROOT_CONTEXT));
    expect(back).toMatchObject({ traceId, spanId, traceFlags: 1, isRemote: true });
    expect(injectTraceContext({}, ROOT_CONTEXT)).toEqual({});
  });

  it('withSpan runs fn in an active INTERNAL child span and ends it', async () => {
    const parent = mcpTracer().startSpan('tools/call t', { kind: SpanKind.SERVER });
    const result = await context.with(trace.setSpan(context.active(), parent), () =>
      withSpan('tool t', { attributes: { 'gen_ai.tool.name': 't' } }, async (span) => {
        await Promise.resolve();
        // The span is active across the await.
        expect(trace.getActiveSpan()).toBe(span);
        return 'done';
      }),
    );
    parent.end();
    expect(result).toBe('done');
    const [child, outer] = finished();
    expect(child?.name).toBe('tool t');
    expect(child?.kind).toBe(SpanKind.INTERNAL);
    expect(child?.attributes['gen_ai.tool.name']).toBe('t');
    expect(child?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
  });

  it('gives log lines the active span ids, and nothing outside a span', async () => {
    expect(traceLogFields()).toBeUndefined();
    let inside: Record<string, string> | undefined;
    await withSpan('tool t', {}, (span) => {
      inside = traceLogFields();
      expect(inside).toEqual({
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
      });
    });
    expect(inside?.['trace_id']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('withSpan records a throw and rethrows it', async () => {
    await expect(
      withSpan('tool t', {}, () => {
        throw new TypeError('broken tool');
      }),
    ).rejects.toThrow('broken tool');
    const done = only();
    expect(done.ended).toBe(true);
    expect(done.status).toEqual({ code: SpanStatusCode.ERROR, message: 'broken tool' });
    expect(done.attributes['error.type']).toBe('TypeError');
    expect(done.events.map((e) => e.name)).toEqual(['exception']);
    expect(done.events[0]?.attributes?.['exception.message']).toBe('broken tool');
  });
});
