/**
 * Hostile input over Streamable HTTP (issue 2, "Done when"): each case gets the exact HTTP
 * status and JSON-RPC code, the error is schema-valid, and the server keeps answering.
 */
import {
  verifies,
  expectValidMessage,
  findResponse,
  modernRequest,
  postMcp,
  startTestServer,
  type McpHttpResponse,
  type TestServer,
} from '@mcp-cluster/testkit';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BODY_LIMIT = 64 * 1024;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ bodyLimitBytes: BODY_LIMIT, maxJsonDepth: 64 });
});

afterAll(async () => {
  await server?.close();
});

/**
 * The one JSON-RPC error of a response, validated against `revision`'s schema. The schemas
 * type `id` as string | integer, but JSON-RPC 2.0 requires `id: null` when the request id
 * could not be read (parse errors, transport rejections), so a null id is checked as absent.
 */
function rpcError(
  res: McpHttpResponse,
  revision = '2025-11-25',
): { code: number; message: string; id: unknown } {
  const response = findResponse(res.messages);
  if (!response) throw new Error(`no JSON-RPC response: ${res.status} ${res.text}`);
  const { id, ...rest } = response;
  expectValidMessage(revision, id === null ? rest : response);
  const err = response.error as { code: number; message: string };
  expect(err, `expected an error, got ${res.text}`).toBeDefined();
  return { ...err, id };
}

/** initialize + notifications/initialized; returns the session id. */
async function openSession(protocolVersion: string): Promise<string> {
  const init = await postMcp(server.url, {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion,
      capabilities: {},
      clientInfo: { name: 'hostile-tests', version: '1.0.0' },
    },
  });
  expect(init.status).toBe(200);
  const response = findResponse(init.messages, 0);
  expectValidMessage(protocolVersion, response, { method: 'initialize' });
  expect((response?.result as { protocolVersion?: string }).protocolVersion).toBe(protocolVersion);
  const sessionId = init.headers.get('mcp-session-id');
  expect(sessionId).toMatch(/^[\x21-\x7e]+$/);
  const initialized = await postMcp(
    server.url,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { 'mcp-session-id': sessionId!, 'mcp-protocol-version': protocolVersion },
  );
  expect(initialized.status).toBe(202);
  return sessionId!;
}

/** A raw request with a forged Host header (fetch does not let us set it). */
function rawPost(
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': Buffer.byteLength(body),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const initializeBody = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'dns-test', version: '1.0.0' },
  },
});

describe('hostile input matrix (Streamable HTTP)', () => {
  it('malformed JSON -> 400 / -32700, id null', async () => {
    const res = await postMcp(server.url, '{"jsonrpc":"2.0","id":1,"method":');
    expect(res.status).toBe(400);
    expect(rpcError(res)).toMatchObject({ code: -32700, id: null });
  });

  it('wrong member types -> 400 / -32600', async () => {
    const res = await postMcp(server.url, { jsonrpc: '2.0', id: 1, method: 42 });
    expect(res.status).toBe(400);
    expect(rpcError(res).code).toBe(-32600);
    const notObject = await postMcp(server.url, '"just a string"');
    expect(notObject.status).toBe(400);
    expect(rpcError(notObject).code).toBe(-32600);
  });

  it('wrong param types (modern) -> 400 / -32602 with the request id', async () => {
    // Methods without an Mcp-Name header, so the routing-header check cannot answer first.
    const cases: [string, Record<string, unknown>][] = [
      ['tools/list', { cursor: 42 }],
      ['completion/complete', { ref: 'not-an-object', argument: { name: 'a', value: 'b' } }],
    ];
    for (const [method, params] of cases) {
      const { body, headers } = modernRequest(method, params, { id: 7 });
      const res = await postMcp(server.url, body, headers);
      expect(res.status, method).toBe(400);
      expect(rpcError(res, '2026-07-28'), method).toMatchObject({ code: -32602, id: 7 });
    }
  });

  it('wrong param types inside a legacy session -> in-band -32602', async () => {
    const sid = await openSession('2025-11-25');
    const res = await postMcp(
      server.url,
      { jsonrpc: '2.0', id: 8, method: 'resources/read', params: { uri: 42 } },
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    );
    expect(res.status).toBe(200);
    expect(rpcError(res)).toMatchObject({ code: -32602, id: 8 });
  });

  it('unknown method: modern 404 / -32601, legacy in-band -32601', async () => {
    const { body, headers } = modernRequest('no/such/method', {}, { id: 9 });
    const modern = await postMcp(server.url, body, headers);
    expect(modern.status).toBe(404);
    expect(rpcError(modern, '2026-07-28')).toMatchObject({ code: -32601, id: 9 });
    const sid = await openSession('2025-11-25');
    const legacy = await postMcp(
      server.url,
      { jsonrpc: '2.0', id: 10, method: 'no/such/method', params: {} },
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    );
    expect(legacy.status).toBe(200);
    expect(rpcError(legacy)).toMatchObject({ code: -32601, id: 10 });
  });

  it(verifies('R-BODY-SIZE-LIMIT', 'oversize body -> 413 / -32015'), async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 11,
      method: 'ping',
      params: { pad: 'x'.repeat(BODY_LIMIT * 2) },
    });
    const res = await postMcp(server.url, big);
    expect(res.status).toBe(413);
    expect(rpcError(res).code).toBe(-32015);
  });

  it(verifies('R-JSON-DEPTH-LIMIT', 'deep nesting beyond the limit -> 400 / -32600'), async () => {
    const deep = `{"jsonrpc":"2.0","id":12,"method":"ping","params":{"x":${'['.repeat(1000)}${']'.repeat(1000)}}}`;
    const res = await postMcp(server.url, deep);
    expect(res.status).toBe(400);
    expect(rpcError(res).code).toBe(-32600);
  });

  it(verifies('R-ORIGIN-VALIDATION', 'bad Origin -> 403 / -32014'), async () => {
    const res = await postMcp(server.url, initializeBody, { origin: 'http://evil.example.com' });
    expect(res.status).toBe(403);
    expect(rpcError(res).code).toBe(-32014);
  });

  it(
    verifies(
      'R-HOST-VALIDATION',
      'bad Host (DNS rebinding) -> 403 / -32014; a localhost Host is fine',
    ),
    async () => {
      const port = new URL(server.url).port;
      const evil = await rawPost(
        { host: 'evil.example.com', origin: 'http://evil.example.com' },
        initializeBody,
      );
      expect(evil.status).toBe(403);
      expect((JSON.parse(evil.text) as { error: { code: number } }).error.code).toBe(-32014);
      const good = await rawPost(
        { host: `localhost:${port}`, origin: `http://localhost:${port}` },
        initializeBody,
      );
      expect(good.status).toBe(200);
    },
  );

  it(verifies('R-SESSION-UNKNOWN-404', 'unknown session id -> 404 / -32001'), async () => {
    const res = await postMcp(
      server.url,
      { jsonrpc: '2.0', id: 13, method: 'tools/list', params: {} },
      { 'mcp-session-id': 'no-such-session', 'mcp-protocol-version': '2025-11-25' },
    );
    expect(res.status).toBe(404);
    expect(rpcError(res).code).toBe(-32001);
  });

  it(verifies('R-SESSION-ENDED-404', 'a deleted session -> 404 / -32001'), async () => {
    const sid = await openSession('2025-11-25');
    const del = await fetch(server.url, {
      method: 'DELETE',
      headers: { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(del.status).toBeGreaterThanOrEqual(200);
    expect(del.status).toBeLessThan(300);
    const res = await postMcp(
      server.url,
      { jsonrpc: '2.0', id: 14, method: 'tools/list', params: {} },
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    );
    expect(res.status).toBe(404);
    expect(rpcError(res).code).toBe(-32001);
  });

  it('bad MCP-Protocol-Version header in a session -> 400', async () => {
    const sid = await openSession('2025-11-25');
    const res = await postMcp(
      server.url,
      { jsonrpc: '2.0', id: 15, method: 'tools/list', params: {} },
      { 'mcp-session-id': sid, 'mcp-protocol-version': '1999-01-01' },
    );
    expect(res.status).toBe(400);
    expect(rpcError(res).code).toBe(-32600);
  });

  it(verifies('R-BATCH-REJECTED-LATER', 'batch on 2025-06-18 -> 400 / -32600'), async () => {
    const sid = await openSession('2025-06-18');
    const res = await postMcp(
      server.url,
      [
        { jsonrpc: '2.0', id: 16, method: 'ping' },
        { jsonrpc: '2.0', id: 17, method: 'tools/list', params: {} },
      ],
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' },
    );
    expect(res.status).toBe(400);
    expect(rpcError(res).code).toBe(-32600);
  });

  it(
    verifies('R-BATCH-2025-03-26', 'batch on 2025-03-26 -> accepted, one response per request'),
    async () => {
      const sid = await openSession('2025-03-26');
      const res = await postMcp(
        server.url,
        [
          { jsonrpc: '2.0', id: 18, method: 'ping' },
          { jsonrpc: '2.0', id: 19, method: 'tools/list', params: {} },
          { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
        ],
        { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-03-26' },
      );
      expect(res.status).toBe(200);
      const responses = res.messages.flatMap((m) => (Array.isArray(m) ? m : [m])) as {
        id: number;
      }[];
      expect(responses.map((r) => r.id).sort()).toEqual([18, 19]);
      expectValidMessage('2025-03-26', findResponse(responses, 18), { method: 'ping' });
      expectValidMessage('2025-03-26', findResponse(responses, 19), { method: 'tools/list' });
    },
  );

  it('still answers normal requests afterwards', async () => {
    const { body, headers } = modernRequest('tools/list', {}, { id: 20 });
    const res = await postMcp(server.url, body, headers);
    expect(res.status).toBe(200);
    const response = findResponse(res.messages, 20);
    expectValidMessage('2026-07-28', response, { method: 'tools/list' });
    const sid = await openSession('2025-11-25');
    expect(sid).toBeTruthy();
  });
});
