// Starts the real NodeSDK, which registers process-wide globals: keep this file on its own
// (vitest's 'forks' pool gives each test file its own process).
import { ROOT_CONTEXT, SpanKind, context, metrics, trace } from '@opentelemetry/api';
import { childrenOf, startOtlpReceiver } from '@mcp-cluster/test-support';
import type { OtlpReceiver } from '@mcp-cluster/test-support';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTracingFromEnv, tracingConfigFromEnv } from './otel-sdk.js';
import type { SdkModules } from './otel-sdk.js';
import {
  contextFromMeta,
  endSpanWithOutcome,
  injectTraceContext,
  isTracing,
  mcpTracer,
  startMcpSpan,
  withSpan,
} from './tracing.js';

const identity = {
  serviceName: 'mcp-worker',
  serviceVersion: '1.2.3',
  nodeId: 'w-7',
  role: 'worker',
};

describe('tracingConfigFromEnv', () => {
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
  it('needs an OTLP endpoint', () => {
    expect(tracingConfigFromEnv({}).enabled).toBe(false);
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }).enabled).toBe(false);
    expect(tracingConfigFromEnv(endpoint).enabled).toBe(true);
    expect(
      tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })
        .enabled,
    ).toBe(true);
  });
  it('honours OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER and a gRPC protocol', () => {
    expect(tracingConfigFromEnv({ ...endpoint, OTEL_SDK_DISABLED: 'TRUE' })).toMatchObject({
      enabled: false,
      reason: expect.stringContaining('OTEL_SDK_DISABLED'),
    });
    expect(tracingConfigFromEnv({ ...endpoint, OTEL_SDK_DISABLED: 'false' }).enabled).toBe(true);
    expect(tracingConfigFromEnv({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).enabled).toBe(false);
    expect(tracingConfigFromEnv({ ...endpoint, OTEL_TRACES_EXPORTER: 'console' }).enabled).toBe(
      false,
    );
    expect(tracingConfigFromEnv({ ...endpoint, OTEL_TRACES_EXPORTER: 'otlp' }).enabled).toBe(true);
    expect(tracingConfigFromEnv({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).enabled).toBe(
      false,
    );
    expect(
      tracingConfigFromEnv({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }).enabled,
    ).toBe(true);
  });
});

describe('startTracingFromEnv without configuration', () => {
  // What this shows: the loader seam (the only path to the SDK imports) is not called and
  // tracing stays off. It does not inspect the module cache.
  it('returns undefined and never calls the SDK loader', async () => {
    const load = vi.fn<() => Promise<SdkModules>>();
    for (const env of [
      {},
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_SDK_DISABLED: 'true' },
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_TRACES_EXPORTER: 'none' },
    ]) {
      await expect(startTracingFromEnv(identity, { env, load })).resolves.toBeUndefined();
    }
    expect(load).not.toHaveBeenCalled();
    expect(isTracing()).toBe(false);
  });
});

describe('startTracingFromEnv exporting to an OTLP receiver', () => {
  const VARS = [
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    'OTEL_SERVICE_NAME',
    'OTEL_RESOURCE_ATTRIBUTES',
    'OTEL_SDK_DISABLED',
    'OTEL_TRACES_EXPORTER',
    'OTEL_TRACES_SAMPLER',
    'OTEL_EXPORTER_OTLP_PROTOCOL',
    'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    'OTEL_PROPAGATORS',
  ] as const;
  const saved = new Map<string, string | undefined>();
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });
  beforeEach(() => {
    for (const name of VARS) {
      saved.set(name, process.env[name]);
      delete process.env[name];
    }
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = receiver.url;
  });
  afterEach(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('exports a SERVER span and its child with the resource, then stops on shutdown', async () => {
    // _meta stays W3C whatever the environment asks for.
    process.env['OTEL_PROPAGATORS'] = 'b3';
    const handle = await startTracingFromEnv(identity);
    expect(handle).toBeDefined();
    expect(isTracing()).toBe(true);

    const server = startMcpSpan({
      method: 'tools/call',
      toolName: 'echo',
      requestId: 1,
      transport: 'tcp',
    });
    const meta = await context.with(trace.setSpan(context.active(), server), async () => {
      await withSpan('tool echo', {}, () => Promise.resolve('ok'));
      return injectTraceContext<Record<string, string>>({});
    });
    const { traceId, spanId } = server.spanContext();
    expect(meta).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });
    expect(trace.getSpanContext(contextFromMeta(meta, ROOT_CONTEXT))).toMatchObject({
      traceId,
      spanId,
    });
    endSpanWithOutcome(server, { code: -32603, message: 'Internal error' });
    // Recorded only if NodeSDK registered a meter provider with a reader (it must not).
    metrics.getMeter('probe').createCounter('probe_total').add(1);
    await handle!.shutdown();
    expect(isTracing()).toBe(false);

    const spans = await receiver.waitForSpans((s) => s.length >= 2);
    const root = spans.find((s) => s.name === 'tools/call echo');
    expect(root).toMatchObject({
      kind: 'SERVER',
      serviceName: 'mcp-worker',
      scope: { name: 'mcp-cluster' },
      status: { code: 'ERROR', message: 'Internal error' },
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'echo',
        'gen_ai.operation.name': 'execute_tool',
        'jsonrpc.request.id': '1',
        'network.transport': 'tcp',
        'error.type': '-32603',
        'rpc.response.status_code': '-32603',
      },
      resource: {
        'service.name': 'mcp-worker',
        'service.version': '1.2.3',
        'service.instance.id': 'w-7',
        'mcp.cluster.role': 'worker',
      },
    });
    expect(root?.parentSpanId).toBeUndefined();
    const children = childrenOf(spans, root!);
    expect(children.map((c) => [c.name, c.kind, c.serviceName])).toEqual([
      ['tool echo', 'INTERNAL', 'mcp-worker'],
    ]);

    // Shutdown flushes every provider NodeSDK made: a metric reader would have posted the
    // probe counter to /v1/metrics by now.
    expect(receiver.refused()).toEqual([]);
    // After shutdown the helpers are off again.
    expect(startMcpSpan({ method: 'ping' }).isRecording()).toBe(false);
  });

  it('lets OTEL_SERVICE_NAME win, shares one SDK between callers, honours the sampler', async () => {
    process.env['OTEL_SERVICE_NAME'] = 'from-env';
    const first = await startTracingFromEnv(identity);
    const second = await startTracingFromEnv({ ...identity, role: 'gateway' });
    expect(first && second).toBeDefined();
    mcpTracer().startSpan('span one', { kind: SpanKind.CLIENT }).end();
    await first!.shutdown();
    // The other caller still traces.
    expect(isTracing()).toBe(true);
    mcpTracer().startSpan('span two').end();
    await second!.shutdown();
    expect(isTracing()).toBe(false);

    const spans = await receiver.waitForSpans((s) => s.some((x) => x.name === 'span two'));
    const mine = spans.filter((s) => s.name === 'span one' || s.name === 'span two');
    expect(mine.map((s) => [s.name, s.serviceName, s.resource['mcp.cluster.role']])).toEqual([
      ['span one', 'from-env', 'worker'],
      ['span two', 'from-env', 'worker'],
    ]);
    expect(mine[0]?.kind).toBe('CLIENT');

    // always_off: a span is started but not sampled, so nothing is exported for it.
    process.env['OTEL_TRACES_SAMPLER'] = 'always_off';
    const off = await startTracingFromEnv(identity);
    const span = mcpTracer().startSpan('never exported');
    expect(span.isRecording()).toBe(false);
    span.end();
    mcpTracer().startSpan('also never').end();
    await off!.shutdown();
    expect(receiver.spans().some((s) => s.name === 'never exported')).toBe(false);
  });
});
