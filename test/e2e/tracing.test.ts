/**
 * One client `tools/call` through a real cluster (gateway and worker processes, each with
 * OpenTelemetry on through the standard OTEL_* variables) is one trace, exported to an
 * OTLP/HTTP receiver: the gateway's SERVER span (parented to the client's
 * `_meta.traceparent`) -> the dispatch CLIENT span -> the worker's SERVER span -> the tool's
 * span, with the MCP conventions' names and attributes.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findResponse,
  modernRequest,
  postMcp,
  startCluster,
  startOtlpReceiver,
  formatSpanTree,
} from '@mcp-cluster/testkit';
import { DEFAULT_CLIENT_CAPABILITIES, eventually } from '@mcp-cluster/testkit';
import type { OtlpReceiver, ReceivedSpan, TestCluster } from '@mcp-cluster/testkit';
import { E2E_PACK, TASKS_EXTENSION } from './support.js';

const TOOL = 'test_simple_text';

let receiver: OtlpReceiver;
let cluster: TestCluster;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  cluster = await startCluster({
    gateways: 1,
    workers: 1,
    packs: ['builtin:conformance', E2E_PACK],
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      // Export within a fraction of a second instead of the default 5 s batches.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
  await cluster.waitForWorkers(1);
}, 60_000);

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
  await receiver?.close();
});

describe('tracing through the cluster', () => {
  it('one tools/call is one trace: gateway -> dispatch -> worker -> tool, under the client span', async () => {
    const traceId = randomBytes(16).toString('hex');
    const clientSpanId = randomBytes(8).toString('hex');
    const { body, headers } = modernRequest(
      'tools/call',
      { name: TOOL, arguments: {} },
      { meta: { traceparent: `00-${traceId}-${clientSpanId}-01` } },
    );
    const gateway = cluster.gateways[0];
    if (gateway === undefined) throw new Error('no gateway');
    // An ambient HTTP trace context (a proxy's, say) besides the client's _meta one: a link.
    const httpTrace = randomBytes(16).toString('hex');
    const httpSpan = randomBytes(8).toString('hex');
    const r = await postMcp(gateway.url, body, {
      ...headers,
      traceparent: `00-${httpTrace}-${httpSpan}-01`,
    });
    expect(r.status).toBe(200);
    expect(findResponse(r.messages)?.['result']).toBeDefined();

    const ofTrace = (spans: ReceivedSpan[]) => spans.filter((s) => s.traceId === traceId);
    const spans = ofTrace(await receiver.waitForSpans((all) => ofTrace(all).length >= 4, 20_000));
    const tree = formatSpanTree(spans);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: ReceivedSpan | undefined) =>
      s?.parentSpanId === undefined ? undefined : byId.get(s.parentSpanId);

    const gatewaySpan = spans.find((s) => s.kind === 'SERVER' && s.parentSpanId === clientSpanId);
    expect(gatewaySpan, tree).toBeDefined();
    expect(gatewaySpan?.name).toBe(`tools/call ${TOOL}`);
    expect(gatewaySpan?.serviceName).toBe('mcp-cluster-gateway');
    expect(gatewaySpan?.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': TOOL,
      'gen_ai.operation.name': 'execute_tool',
      'jsonrpc.request.id': String(body['id']),
      'mcp.protocol.version': '2026-07-28',
      'network.transport': 'tcp',
    });
    expect(gatewaySpan?.status.code).not.toBe('ERROR');
    expect(gatewaySpan?.links).toEqual([
      expect.objectContaining({ traceId: httpTrace, spanId: httpSpan }),
    ]);

    const dispatch = spans.find((s) => s.kind === 'CLIENT');
    expect(parentOf(dispatch), tree).toBe(gatewaySpan);
    expect(dispatch?.name).toBe(`tools/call ${TOOL}`);
    expect(dispatch?.attributes['mcp_cluster.worker.id']).toBe(cluster.workers[0]?.id);

    const workerSpan = spans.find((s) => s.kind === 'SERVER' && s !== gatewaySpan);
    expect(parentOf(workerSpan), tree).toBe(dispatch);
    expect(workerSpan?.serviceName).toBe('mcp-cluster-worker');
    expect(workerSpan?.name).toBe(`tools/call ${TOOL}`);

    const toolSpan = spans.find((s) => s.kind === 'INTERNAL');
    expect(parentOf(toolSpan), tree).toBe(workerSpan);
    expect(toolSpan?.name).toBe(`execute_tool ${TOOL}`);
    expect(toolSpan?.attributes['gen_ai.tool.name']).toBe(TOOL);
  }, 60_000);

  it('an error answer sets error.type and the status on the spans', async () => {
    const traceId = randomBytes(16).toString('hex');
    const { body, headers } = modernRequest(
      'prompts/get',
      { name: 'no_such_prompt_e2e' },
      { meta: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } },
    );
    const gateway = cluster.gateways[0];
    if (gateway === undefined) throw new Error('no gateway');
    const r = await postMcp(gateway.url, body, headers);
    const error = findResponse(r.messages)?.['error'] as { code: number } | undefined;
    expect(error?.code).toBeTypeOf('number');
    const ofTrace = (spans: ReceivedSpan[]) =>
      spans.filter((s) => s.traceId === traceId && s.kind === 'SERVER');
    const servers = ofTrace(await receiver.waitForSpans((all) => ofTrace(all).length >= 2, 20_000));
    for (const span of servers) {
      expect(span.name).toBe('prompts/get');
      expect(span.attributes['error.type']).toBe(String(error?.code));
      expect(span.attributes['rpc.response.status_code']).toBe(String(error?.code));
      expect(span.status.code).toBe('ERROR');
    }
  }, 60_000);

  it('a durable task runs in a trace of its own, linked to the call that created it', async () => {
    const traceId = randomBytes(16).toString('hex');
    const { body, headers } = modernRequest(
      'tools/call',
      { name: 'e2e_slow_task', arguments: { ms: 0 } },
      {
        meta: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
        capabilities: { ...DEFAULT_CLIENT_CAPABILITIES, extensions: { [TASKS_EXTENSION]: {} } },
      },
    );
    const gateway = cluster.gateways[0];
    if (gateway === undefined) throw new Error('no gateway');
    const r = await postMcp(gateway.url, body, headers);
    const created = findResponse(r.messages)?.['result'] as { taskId?: string } | undefined;
    expect(created?.taskId, JSON.stringify(r.messages)).toBeTypeOf('string');
    const all = await receiver.waitForSpans(
      (spans) => spans.some((s) => s.name === 'tasks/run e2e_slow_task'),
      20_000,
    );
    const run = all.find((s) => s.name === 'tasks/run e2e_slow_task');
    expect(run?.kind).toBe('CONSUMER');
    expect(run?.traceId).not.toBe(traceId);
    expect(run?.attributes['mcp_cluster.task.id']).toBe(created?.taskId);
    // The link names the worker's span of the tools/call that created the task.
    const creator = all.find(
      (s) => s.traceId === traceId && s.kind === 'SERVER' && s.serviceName === 'mcp-cluster-worker',
    );
    expect(creator, formatSpanTree(all)).toBeDefined();
    expect(run?.links).toEqual([expect.objectContaining({ traceId, spanId: creator?.spanId })]);
    // The tool's own span is a child of the run.
    await eventually('the tool span of the run', () =>
      receiver
        .spans()
        .find((s) => s.name === 'execute_tool e2e_slow_task' && s.parentSpanId === run?.spanId),
    );
  }, 60_000);
});
