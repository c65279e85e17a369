import { verifies } from '@mcp-cluster/test-support';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BASE_HEADERS,
  LEGACY_INIT,
  MODERN_META,
  modernHeaders,
  parseSse,
  testApp,
} from './testing.js';

let app: FastifyInstance;

beforeEach(async () => {
  ({ app } = await testApp({ bodyLimitBytes: 2048, maxJsonDepth: 8 }));
});
afterEach(() => app.close());

const post = (payload: unknown, headers: Record<string, string> = { ...BASE_HEADERS }) =>
  app.inject({
    method: 'POST',
    url: '/mcp',
    headers,
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

async function initSession(version = '2025-11-25'): Promise<string> {
  const res = await post({
    ...LEGACY_INIT,
    params: { ...LEGACY_INIT.params, protocolVersion: version },
  });
  expect(res.statusCode).toBe(200);
  const sid = res.headers['mcp-session-id'];
  expect(typeof sid).toBe('string');
  const ack = await post(
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { ...BASE_HEADERS, 'mcp-session-id': sid as string },
  );
  expect(ack.statusCode).toBe(202);
  return sid as string;
}

describe('Host and Origin validation (DNS rebinding)', () => {
  it('rejects a foreign Host with 403 and a JSON-RPC body', async () => {
    const res = await post(LEGACY_INIT, { ...BASE_HEADERS, host: 'evil.example.com' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32014 } });
  });

  it('rejects a foreign Origin with 403', async () => {
    const res = await post(LEGACY_INIT, { ...BASE_HEADERS, origin: 'http://evil.example.com' });
    expect(res.statusCode).toBe(403);
  });

  it('accepts loopback hosts on any port, with or without Origin', async () => {
    for (const host of ['localhost:3000', '127.0.0.1:9', '[::1]:80', 'localhost']) {
      const res = await post(LEGACY_INIT, { ...BASE_HEADERS, host, origin: `http://${host}` });
      expect(res.statusCode, host).toBe(200);
    }
  });

  it('guards GET and DELETE too', async () => {
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await app.inject({ method, url: '/mcp', headers: { host: 'evil.example.com' } });
      expect(res.statusCode).toBe(403);
    }
  });
});

describe('POST limits and malformed input', () => {
  it('415 for a non-JSON content type', async () => {
    const res = await post('{}', { ...BASE_HEADERS, 'content-type': 'text/plain' });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe(-32600);
  });

  it('406 when the client accepts neither JSON nor SSE', async () => {
    const res = await post(LEGACY_INIT, { ...BASE_HEADERS, accept: 'text/html' });
    expect(res.statusCode).toBe(406);
  });

  it('413 with a JSON-RPC body for oversize bodies', async () => {
    const big = { ...LEGACY_INIT, params: { ...LEGACY_INIT.params, pad: 'x'.repeat(4096) } };
    const res = await post(big);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32015 } });
  });

  it('400 / -32700 with id null for malformed JSON', async () => {
    const res = await post('{"jsonrpc":"2.0",');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'Parse error' },
    });
  });

  it('400 / -32600 for nesting deeper than the limit', async () => {
    const res = await post(`{"a":${'['.repeat(20)}${']'.repeat(20)}}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe(-32600);
  });

  it('400 / -32600 for an invalid JSON-RPC message, echoing a readable id', async () => {
    const res = await post({ jsonrpc: '1.0', id: 7, method: 'initialize' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ id: 7, error: { code: -32600 } });
  });
});

describe('legacy sessions', () => {
  it('issues a visible-ASCII Mcp-Session-Id and accepts initialized with 202', async () => {
    const sid = await initSession();
    expect(sid).toMatch(/^[\x21-\x7e]+$/);
  });

  it('does not create a session when initialize fails', async () => {
    const res = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
    expect(res.json().error.code).toBe(-32602);
    expect(res.headers['mcp-session-id']).toBeUndefined();
  });

  it('400 for a non-initialize request without a session', async () => {
    const res = await post({ jsonrpc: '2.0', id: 5, method: 'tools/list' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ id: 5, error: { code: -32600 } });
  });

  it('404 with the reference body for unknown sessions', async () => {
    const res = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { ...BASE_HEADERS, 'mcp-session-id': 'nope' },
    );
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32001, message: 'Session not found' },
      id: null,
    });
  });

  it(
    verifies('R-SESSION-DELETE', 'DELETE ends the session (204), later requests get 404'),
    async () => {
      const sid = await initSession();
      const del = await app.inject({
        method: 'DELETE',
        url: '/mcp',
        headers: { host: 'localhost', 'mcp-session-id': sid },
      });
      expect(del.statusCode).toBe(204);
      const res = await post(
        { jsonrpc: '2.0', id: 2, method: 'tools/list' },
        { ...BASE_HEADERS, 'mcp-session-id': sid },
      );
      expect(res.statusCode).toBe(404);
    },
  );

  it('accepts any supported MCP-Protocol-Version inside a session, 400 for others', async () => {
    const sid = await initSession();
    const ok = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { ...BASE_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-03-26' },
    );
    expect(ok.statusCode).toBe(200);
    expect(ok.json().result.tools.length).toBeGreaterThan(0);
    const bad = await post(
      { jsonrpc: '2.0', id: 3, method: 'tools/list' },
      { ...BASE_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '1999-01-01' },
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.json().id).toBe(3);
  });

  it('answers plain requests as JSON and notification-bearing ones as SSE', async () => {
    const sid = await initSession();
    const h = { ...BASE_HEADERS, 'mcp-session-id': sid };
    const plain = await post(
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'hi' } },
      },
      h,
    );
    expect(plain.headers['content-type']).toMatch(/application\/json/);
    expect(plain.json().result.content[0].text).toBe('hi');

    const streamed = await post(
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'progress', arguments: {}, _meta: { progressToken: 'tok' } },
      },
      h,
    );
    expect(streamed.headers['content-type']).toBe('text/event-stream');
    expect(streamed.headers['x-accel-buffering']).toBe('no');
    const events = parseSse(streamed.body);
    // Priming event first (2025-11-25 session): an id, empty data and retry.
    expect(events[0]).toMatchObject({ data: '', retry: 5000 });
    expect(events[0]?.id).toMatch(/^\d+:0$/);
    const messages = events.filter((e) => e.data !== '').map((e) => JSON.parse(e.data));
    expect(messages.map((m) => m.method ?? 'result')).toEqual([
      'notifications/progress',
      'notifications/progress',
      'notifications/progress',
      'result',
    ]);
    expect(messages[3].id).toBe(3);
  });

  it('sends no priming event on sessions before 2025-11-25', async () => {
    const sid = await initSession('2025-06-18');
    const res = await post(
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'progress', arguments: {}, _meta: { progressToken: 1 } },
      },
      { ...BASE_HEADERS, 'mcp-session-id': sid },
    );
    expect(parseSse(res.body).every((e) => e.data !== '')).toBe(true);
  });

  it('answers JSON-only clients with JSON even when the tool reports progress', async () => {
    const sid = await initSession();
    const res = await post(
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'progress', arguments: {}, _meta: { progressToken: 'tok' } },
      },
      { ...BASE_HEADERS, accept: 'application/json', 'mcp-session-id': sid },
    );
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.json().result.content[0].text).toBe('progressed');
  });

  it('answers SSE-only clients with SSE', async () => {
    const sid = await initSession();
    const res = await post(
      { jsonrpc: '2.0', id: 4, method: 'ping' },
      { ...BASE_HEADERS, accept: 'text/event-stream', 'mcp-session-id': sid },
    );
    expect(res.headers['content-type']).toBe('text/event-stream');
    const messages = parseSse(res.body).filter((e) => e.data !== '');
    expect(JSON.parse(messages[0]!.data)).toEqual({ jsonrpc: '2.0', id: 4, result: {} });
  });

  it('serves batches only in 2025-03-26 sessions', async () => {
    const batch = [
      { jsonrpc: '2.0', id: 10, method: 'ping' },
      { jsonrpc: '2.0', id: 11, method: 'tools/list' },
      { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
    ];
    const old = await initSession('2025-03-26');
    const res = await post(batch, { ...BASE_HEADERS, 'mcp-session-id': old });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ id: number }[]>();
    expect(body.map((r) => r.id).sort()).toEqual([10, 11]);

    const modern = await initSession('2025-06-18');
    const rejected = await post(batch, { ...BASE_HEADERS, 'mcp-session-id': modern });
    expect(rejected.statusCode).toBe(400);
    expect(rejected.json().error.code).toBe(-32600);
  });

  it('GET without a session is 405; unknown session 404; DELETE without session 405', async () => {
    const get = await app.inject({
      method: 'GET',
      url: '/mcp',
      headers: { host: 'localhost', accept: 'text/event-stream' },
    });
    expect(get.statusCode).toBe(405);
    const unknown = await app.inject({
      method: 'GET',
      url: '/mcp',
      headers: { host: 'localhost', accept: 'text/event-stream', 'mcp-session-id': 'x' },
    });
    expect(unknown.statusCode).toBe(404);
    const del = await app.inject({ method: 'DELETE', url: '/mcp', headers: { host: 'localhost' } });
    expect(del.statusCode).toBe(405);
  });

  it('an idle-expired session answers 404', async () => {
    const { app: short, engine } = await testApp();
    try {
      const res = await short.inject({
        method: 'POST',
        url: '/mcp',
        headers: BASE_HEADERS,
        payload: JSON.stringify(LEGACY_INIT),
      });
      const sid = res.headers['mcp-session-id'] as string;
      // Expire it the way the idle sweep does.
      await engine.sessions.delete(sid);
      const after = await short.inject({
        method: 'POST',
        url: '/mcp',
        headers: { ...BASE_HEADERS, 'mcp-session-id': sid },
        payload: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
      });
      expect(after.statusCode).toBe(404);
    } finally {
      await short.close();
    }
  });
});

describe('modern wire (2026-07-28) ladder', () => {
  const discover = (id: number, meta: unknown = MODERN_META) => ({
    jsonrpc: '2.0',
    id,
    method: 'server/discover',
    params: meta === null ? {} : { _meta: meta },
  });

  it('serves server/discover with resultType', async () => {
    const res = await post(discover(201), modernHeaders('server/discover'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: 201, result: { resultType: 'complete' } });
  });

  it('400 / -32020 when MCP-Protocol-Version is missing', async () => {
    const h = modernHeaders('server/discover');
    delete h['mcp-protocol-version'];
    const res = await post(discover(1), h);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ id: 1, error: { code: -32020 } });
  });

  it('400 / -32602 when _meta or its required keys are missing', async () => {
    for (const [id, meta] of [
      [101, null],
      [102, { 'io.modelcontextprotocol/clientCapabilities': {} }],
      [104, { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' }],
    ] as const) {
      const res = await post(discover(id, meta), modernHeaders('server/discover'));
      expect(res.statusCode, String(id)).toBe(400);
      expect(res.json()).toMatchObject({ id, error: { code: -32602 } });
    }
  });

  it('400 / -32020 on header vs _meta mismatch, -32022 on unsupported versions', async () => {
    const mismatch = await post(
      discover(302, { ...MODERN_META, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' }),
      modernHeaders('server/discover'),
    );
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json()).toMatchObject({ id: 302, error: { code: -32020 } });

    const unsupported = await post(
      discover(301, { ...MODERN_META, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' }),
      { ...modernHeaders('server/discover'), 'mcp-protocol-version': 'v999.0.0' },
    );
    expect(unsupported.statusCode).toBe(400);
    expect(unsupported.json()).toMatchObject({
      id: 301,
      error: { code: -32022, data: { supported: ['2026-07-28'], requested: 'v999.0.0' } },
    });
  });

  it('400 / -32020 for missing or mismatched routing headers; names trimmed', async () => {
    const list = { jsonrpc: '2.0', id: 5, method: 'tools/list', params: { _meta: MODERN_META } };
    expect((await post(list, modernHeaders('prompts/list'))).json().error.code).toBe(-32020);
    const noMethod = modernHeaders('tools/list');
    delete noMethod['mcp-method'];
    const r = await post(list, noMethod);
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe(-32020);
    expect((await post(list, modernHeaders('TOOLS/LIST'))).statusCode).toBe(400);
    expect((await post(list, { ...modernHeaders('tools/list') })).statusCode).toBe(200);

    const call = {
      jsonrpc: '2.0',
      id: 6,
      method: 'tools/call',
      params: { name: 'echo', arguments: {}, _meta: MODERN_META },
    };
    expect((await post(call, modernHeaders('tools/call'))).statusCode).toBe(400);
    expect((await post(call, modernHeaders('tools/call', 'other'))).statusCode).toBe(400);
    expect((await post(call, modernHeaders('tools/call', '  echo  '))).statusCode).toBe(200);
  });

  it(
    verifies('R-HDR-PARAM-HEADERS', 'validates Mcp-Param-* headers against x-mcp-header arguments'),
    async () => {
      const call = (region: unknown) => ({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'region', arguments: { region }, _meta: MODERN_META },
      });
      const h = modernHeaders('tools/call', 'region');
      const ok = await post(call('Hello'), { ...h, 'mcp-param-region': '=?base64?SGVsbG8=?=' });
      expect(ok.json().result.content[0].text).toBe('region=Hello');
      const bad = await post(call('Hello'), { ...h, 'mcp-param-region': '=?base64?SGVsbG8?=' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe(-32020);
      const missing = await post(call('test-value'), h);
      expect(missing.statusCode).toBe(400);
    },
  );

  it('404 / -32601 for removed and unknown methods, echoing the id', async () => {
    for (const method of [
      'initialize',
      'ping',
      'logging/setLevel',
      'resources/subscribe',
      'resources/unsubscribe',
      'unknown/method',
    ]) {
      const res = await post(
        { jsonrpc: '2.0', id: 500, method, params: { _meta: MODERN_META } },
        modernHeaders(method),
      );
      expect(res.statusCode, method).toBe(404);
      expect(res.json(), method).toMatchObject({ id: 500, error: { code: -32601 } });
    }
  });

  it('streams progress as SSE (id-less events) before the result', async () => {
    const res = await post(
      {
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/call',
        params: {
          name: 'progress',
          arguments: {},
          _meta: { ...MODERN_META, progressToken: 'progress-test-1' },
        },
      },
      modernHeaders('tools/call', 'progress'),
    );
    expect(res.headers['content-type']).toBe('text/event-stream');
    const events = parseSse(res.body);
    expect(events.every((e) => e.id === undefined)).toBe(true);
    const messages = events.map((e) => JSON.parse(e.data));
    expect(messages).toHaveLength(4);
    expect(messages[3]).toMatchObject({ id: 9, result: { resultType: 'complete' } });
  });

  it('406 for subscriptions/listen without SSE in Accept', async () => {
    const res = await post(
      {
        jsonrpc: '2.0',
        id: 12,
        method: 'subscriptions/listen',
        params: { notifications: { toolsListChanged: true }, _meta: MODERN_META },
      },
      { ...modernHeaders('subscriptions/listen'), accept: 'application/json' },
    );
    expect(res.statusCode).toBe(406);
    expect(res.json()).toMatchObject({ id: 12, error: { code: -32600 } });
  });

  it('ignores Mcp-Session-Id-less GET/DELETE (405)', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/mcp',
      headers: {
        host: 'localhost',
        accept: 'text/event-stream',
        'mcp-protocol-version': '2026-07-28',
      },
    });
    expect(res.statusCode).toBe(405);
  });
});
