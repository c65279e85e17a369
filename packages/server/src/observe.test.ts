import { PrometheusMetrics, noopMetrics } from '@mcp-cluster/observability';
import type { JsonObject, JsonRpcRequest } from '@mcp-cluster/protocol';
import { describe, expect, it } from 'vitest';
import type { MessageEngine, SessionManager } from './api.js';
import type { RequestContext } from './context.js';
import { observeEngine } from './observe.js';

const TOOLS = new Set(['echo']);
const PROMPTS = new Set(['greet']);
const knows = { tool: (n: string) => TOOLS.has(n), prompt: (n: string) => PROMPTS.has(n) };

/** An engine whose answer to each request is `answer(request)`. */
function engineAnswering(answer: (r: JsonRpcRequest) => JsonObject | Error) {
  const sessions = { size: 3 } as unknown as SessionManager;
  const engine: MessageEngine = {
    sessions,
    toolDescriptor: () => undefined,
    handleNotification: () => Promise.resolve(),
    handleRequest: (request) => {
      const result = answer(request);
      return Promise.resolve(
        result instanceof Error
          ? { jsonrpc: '2.0', id: request.id, error: { code: -32602, message: result.message } }
          : { jsonrpc: '2.0', id: request.id, result },
      );
    },
  };
  return engine;
}

const ctx = { protocolVersion: '2026-07-28' } as RequestContext;
const call = (method: string, params?: Record<string, unknown>): JsonRpcRequest => ({
  jsonrpc: '2.0',
  id: 1,
  method,
  ...(params === undefined ? {} : { params }),
});

const pairs = (text: string): [string, string][] =>
  [...text.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']);
/** Labels in one canonical order. */
const key = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** The `_count` series of the operation histogram, as `labels -> value`. */
async function counts(metrics: PrometheusMetrics): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await metrics.text()).split('\n')) {
    const m = /^mcp_server_operation_duration_seconds_count\{(.*)\} (\d+)$/.exec(line);
    if (m !== null) out.set(key(Object.fromEntries(pairs(m[1] ?? ''))), Number(m[2]));
  }
  return out;
}

describe('observeEngine', () => {
  it('observes every answered request with the conventions labels, bounded', async () => {
    const metrics = new PrometheusMetrics({
      nodeDefaults: false,
      defaultLabels: { role: 'serve' },
    });
    const engine = observeEngine(
      engineAnswering((r) => {
        if (r.params?.['name'] === 'bad') return new Error('nope');
        if (r.params?.['name'] === 'echo' && r.params['arguments'] === 'fail') {
          return { content: [], isError: true };
        }
        return {};
      }),
      { metrics, networkTransport: 'tcp', knows },
    );
    await engine.handleRequest(call('tools/call', { name: 'echo' }), ctx);
    await engine.handleRequest(call('tools/call', { name: 'echo' }), ctx);
    await engine.handleRequest(call('tools/call', { name: 'echo', arguments: 'fail' }), ctx);
    await engine.handleRequest(call('tools/call', { name: 'not-a-tool-1' }), ctx);
    await engine.handleRequest(call('tools/call', { name: 'not-a-tool-2' }), ctx);
    await engine.handleRequest(call('prompts/get', { name: 'bad' }), ctx);
    await engine.handleRequest(call('prompts/get', { name: 'greet' }), ctx);
    await engine.handleRequest(call('made/up/method'), ctx);
    const series = (labels: Record<string, string>): string =>
      key({
        role: 'serve',
        mcp_protocol_version: '2026-07-28',
        network_transport: 'tcp',
        ...labels,
      });
    const tool = { mcp_method_name: 'tools/call' };
    const prompt = { mcp_method_name: 'prompts/get' };
    expect(Object.fromEntries(await counts(metrics))).toEqual({
      [series({ ...tool, gen_ai_tool_name: 'echo' })]: 2,
      [series({ ...tool, gen_ai_tool_name: 'echo', error_type: 'tool_error' })]: 1,
      [series({ ...tool, gen_ai_tool_name: '_other' })]: 2,
      [series({ ...prompt, gen_ai_prompt_name: '_other', error_type: '-32602' })]: 1,
      [series({ ...prompt, gen_ai_prompt_name: 'greet' })]: 1,
      [series({ mcp_method_name: '_other' })]: 1,
    });
    expect(await metrics.text()).toMatch(/^mcp_server_sessions_active\{role="serve"\} 3$/m);
  });

  it('with metrics off, is the engine itself', () => {
    const inner = engineAnswering(() => ({}));
    expect(observeEngine(inner, { metrics: noopMetrics, networkTransport: 'pipe', knows })).toBe(
      inner,
    );
  });
});
