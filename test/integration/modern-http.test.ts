/**
 * The modern era (2026-07-28) over raw HTTP: discovery, caching hints, progress over SSE,
 * MRTR round trips, subscriptions/listen, and the header rules with their HTTP statuses.
 * Every message the server sends is validated against the 2026-07-28 schema.
 */
import {
  verifies,
  expectValidMessage,
  findResponse,
  modernRequest,
  postMcp,
  readMcpResponse,
  startTestServer,
  type McpHttpResponse,
  type ModernRequestOptions,
  type TestServer,
} from '@mcp-cluster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REV = '2026-07-28';

// Tests read arbitrary result shapes and assert on them; the schema check types them for real.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
const SUB_ID = 'io.modelcontextprotocol/subscriptionId';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
});

/** Sends one modern request; validates every message of the answer; returns the answer. */
async function call(
  method: string,
  params: Record<string, unknown> = {},
  options: ModernRequestOptions = {},
): Promise<McpHttpResponse & { response: Record<string, unknown> }> {
  const { body, headers } = modernRequest(method, params, options);
  const res = await postMcp(server.url, body, headers);
  for (const m of res.messages) expectValidMessage(REV, m, { method });
  const response = findResponse(res.messages, body.id as string | number);
  if (!response) throw new Error(`no response to ${method}: ${res.status} ${res.text}`);
  return { ...res, response };
}

function result(r: { response: Record<string, unknown> }): Record<string, Loose> {
  expect(r.response.error).toBeUndefined();
  return r.response.result as Record<string, Loose>;
}

function error(r: { response: Record<string, unknown> }): { code: number; data?: Loose } {
  expect(r.response.error).toBeDefined();
  return r.response.error as { code: number; data?: Loose };
}

describe('modern era over raw HTTP', () => {
  it('server/discover declares versions, capabilities and caching hints', async () => {
    const r = await call('server/discover');
    expect(r.status).toBe(200);
    const res = result(r);
    expect(res.supportedVersions).toContain(REV);
    expect(res.capabilities).toMatchObject({ tools: {}, resources: {}, prompts: {} });
    expect(res).toMatchObject({ resultType: 'complete', cacheScope: expect.any(String) });
    expect(Number.isInteger(res.ttlMs) && res.ttlMs >= 0).toBe(true);
    expect(res._meta?.['io.modelcontextprotocol/serverInfo']).toMatchObject({
      name: expect.any(String),
      version: expect.any(String),
    });
  });

  it('tools/list carries ttlMs, cacheScope and resultType, in a stable order', async () => {
    const a = result(await call('tools/list'));
    const b = result(await call('tools/list'));
    expect(a).toMatchObject({ resultType: 'complete', ttlMs: expect.any(Number) });
    expect(['public', 'private']).toContain(a.cacheScope);
    expect(a.tools[0].name).toBe('test_simple_text');
    expect(b.tools.map((t: { name: string }) => t.name)).toEqual(
      a.tools.map((t: { name: string }) => t.name),
    );
  });

  it('tools/call answers with resultType complete', async () => {
    const r = await call('tools/call', { name: 'test_simple_text', arguments: {} });
    expect(r.status).toBe(200);
    expect(result(r)).toMatchObject({
      resultType: 'complete',
      content: [{ type: 'text', text: 'This is a simple text response for testing.' }],
    });
  });

  it(
    verifies('R-PROGRESS-BEFORE-RESULT', 'streams progress over SSE before the result'),
    async () => {
      const r = await call(
        'tools/call',
        { name: 'test_tool_with_progress', arguments: {} },
        { meta: { progressToken: 'p-1' } },
      );
      expect(r.contentType).toContain('text/event-stream');
      const progress = r.messages.filter(
        (m): m is { params: { progressToken: unknown; progress: number } } =>
          (m as { method?: string }).method === 'notifications/progress',
      );
      expect(progress.map((p) => p.params.progress)).toEqual([0, 50, 100]);
      expect(progress.every((p) => p.params.progressToken === 'p-1')).toBe(true);
      // The result is the last message on the stream.
      expect(r.messages.at(-1)).toBe(r.response);
      expect(result(r).content[0].text).toBe('p-1');
      // No logging without a requested level.
      expect(
        r.messages.some((m) => (m as { method?: string }).method === 'notifications/message'),
      ).toBe(false);
    },
  );

  it('MRTR: input_required, then complete when the client answers', async () => {
    const name = 'test_input_required_result_elicitation';
    const r1 = result(await call('tools/call', { name, arguments: {} }));
    expect(r1.resultType).toBe('input_required');
    expect(r1.inputRequests.user_name.method).toBe('elicitation/create');
    const r2 = result(
      await call('tools/call', {
        name,
        arguments: {},
        inputResponses: { user_name: { action: 'accept', content: { name: 'Alice' } } },
        ...(r1.requestState === undefined ? {} : { requestState: r1.requestState }),
      }),
    );
    expect(r2).toMatchObject({
      resultType: 'complete',
      content: [{ type: 'text', text: 'Hello, Alice!' }],
    });
  });

  it('MRTR: multi-round state changes per round; a tampered state is an error', async () => {
    const name = 'test_input_required_result_multi_round';
    const r1 = result(await call('tools/call', { name, arguments: {} }));
    expect(typeof r1.requestState).toBe('string');
    const r2 = result(
      await call('tools/call', {
        name,
        arguments: {},
        inputResponses: { step1: { action: 'accept', content: { name: 'Alice' } } },
        requestState: r1.requestState,
      }),
    );
    expect(r2.resultType).toBe('input_required');
    expect(r2.requestState).not.toBe(r1.requestState);
    const r3 = result(
      await call('tools/call', {
        name,
        arguments: {},
        inputResponses: { step2: { action: 'accept', content: { color: 'blue' } } },
        requestState: r2.requestState,
      }),
    );
    expect(r3.content[0].text).toBe('Multi-round complete for Alice who likes blue');

    const tampered = 'test_input_required_result_tampered_state';
    const t1 = result(await call('tools/call', { name: tampered, arguments: {} }));
    const t2 = await call('tools/call', {
      name: tampered,
      arguments: {},
      inputResponses: { confirm: { action: 'accept', content: { ok: true } } },
      requestState: `${t1.requestState}-TAMPERED`,
    });
    expect(error(t2).code).toBe(-32602);
  });

  it('subscriptions/listen acknowledges, tags and delivers list_changed', async () => {
    const id = 4242;
    const { body, headers } = modernRequest(
      'subscriptions/listen',
      { notifications: { toolsListChanged: true } },
      { id },
    );
    const controller = new AbortController();
    const response = await fetch(server.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    let triggered = false;
    const read = await readMcpResponse(response, {
      onMessage: (m) => {
        // Trigger the change only after the ack arrived (the harness does the same).
        if (
          !triggered &&
          (m as { method?: string }).method === 'notifications/subscriptions/acknowledged'
        ) {
          triggered = true;
          void call('tools/call', { name: 'test_trigger_tool_change', arguments: {} });
        }
      },
      until: (m) => (m as { method?: string }).method === 'notifications/tools/list_changed',
    });
    controller.abort();
    const [ack, changed] = read.messages as { method: string; params: Record<string, Loose> }[];
    expect(ack?.method).toBe('notifications/subscriptions/acknowledged');
    expect(ack?.params.notifications).toMatchObject({ toolsListChanged: true });
    expect(changed?.method).toBe('notifications/tools/list_changed');
    for (const m of [ack, changed]) {
      expect(m?.params._meta[SUB_ID]).toBe(id);
      expectValidMessage(REV, m);
    }
  });
});

describe('modern header rules', () => {
  it(verifies('R-HDR-METHOD-MISSING', 'missing Mcp-Method -> 400 / -32020'), async () => {
    const r = await call('tools/list', {}, { headers: { 'mcp-method': null } });
    expect(r.status).toBe(400);
    expect(error(r).code).toBe(-32020);
  });

  it(
    verifies('R-HDR-NAME-MISMATCH', 'Mcp-Name that does not match the body -> 400 / -32020'),
    async () => {
      const r = await call(
        'tools/call',
        { name: 'test_simple_text', arguments: {} },
        { headers: { 'mcp-name': 'wrong_tool_name' } },
      );
      expect(r.status).toBe(400);
      expect(error(r).code).toBe(-32020);
    },
  );

  it(
    verifies(
      'R-HDR-VERSION-MISMATCH',
      'header version != _meta version -> 400 / -32020, checked before support',
    ),
    async () => {
      const r = await call(
        'server/discover',
        {},
        { meta: { 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' } },
      );
      expect(r.status).toBe(400);
      expect(error(r).code).toBe(-32020);
    },
  );

  it(
    verifies(
      'R-HDR-UNSUPPORTED-VERSION',
      'unsupported version -> 400 / -32022 with supported and requested',
    ),
    async () => {
      const r = await call(
        'server/discover',
        {},
        {
          meta: { 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' },
          headers: { 'mcp-protocol-version': 'v999.0.0' },
        },
      );
      expect(r.status).toBe(400);
      const e = error(r);
      expect(e.code).toBe(-32022);
      expect(e.data).toEqual({ supported: expect.arrayContaining([REV]), requested: 'v999.0.0' });
    },
  );

  it(
    verifies(
      'R-HDR-MISSING-CAPABILITY',
      'a tool needing an undeclared capability -> 400 / -32021 with requiredCapabilities',
    ),
    async () => {
      const r = await call(
        'tools/call',
        { name: 'test_missing_capability', arguments: {} },
        { capabilities: {} },
      );
      expect(r.status).toBe(400);
      const e = error(r);
      expect(e.code).toBe(-32021);
      expect(e.data.requiredCapabilities.sampling).toEqual({});
    },
  );

  it(
    verifies('R-HDR-META-INCOMPLETE', 'missing _meta fields -> 400 / -32602, echoing the id'),
    async () => {
      const { body, headers } = modernRequest('server/discover', {}, { id: 101 });
      (body.params as { _meta: Record<string, unknown> })._meta = {
        'io.modelcontextprotocol/protocolVersion': REV,
      };
      const res = await postMcp(server.url, body, headers);
      expect(res.status).toBe(400);
      const response = findResponse(res.messages, 101);
      expect((response?.error as { code?: number } | undefined)?.code).toBe(-32602);
      expectValidMessage(REV, response);
    },
  );

  it(
    verifies('R-MODERN-REMOVED-METHODS', 'unknown and removed methods -> 404 / -32601'),
    async () => {
      for (const method of ['unknown/method', 'ping', 'initialize', 'logging/setLevel']) {
        const r = await call(method);
        expect(r.status, method).toBe(404);
        expect(error(r).code, method).toBe(-32601);
      }
    },
  );
});
