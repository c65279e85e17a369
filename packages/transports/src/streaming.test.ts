/** Real-socket tests: where streaming order, disconnects and resumption matter. */
import { verifies } from '@mcp-cluster/test-support';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Engine } from '@mcp-cluster/server';
import WebSocket from 'ws';
import {
  BASE_HEADERS,
  LEGACY_INIT,
  MODERN_META,
  SseReader,
  modernHeaders,
  observed,
  testApp,
} from './testing.js';

let app: FastifyInstance;
let engine: Engine;
let base: string;

beforeAll(async () => {
  ({ app, engine } = await testApp({ keepAliveMs: 200 }));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  base = address;
});
afterAll(() => app.close());

// fetch sets Host from the URL (127.0.0.1:<port>), which the default policy allows.
const { host: _host, ...HEADERS } = BASE_HEADERS;

function post(body: unknown, headers: Record<string, string>, signal?: AbortSignal) {
  return fetch(`${base}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

async function session(): Promise<Record<string, string>> {
  const res = await post(LEGACY_INIT, HEADERS);
  const sid = res.headers.get('mcp-session-id');
  expect(sid).toBeTruthy();
  await res.text();
  const h = { ...HEADERS, 'mcp-session-id': sid as string };
  await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, h)).text();
  return h;
}

const call = (id: number, name: string, extra: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: {}, ...extra },
});

describe('legacy Streamable HTTP over a socket', () => {
  it('sends server->client requests on the POST stream and resumes after the answer', async () => {
    const h = await session();
    const res = await post(call(2, 'ask'), h);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const sse = new SseReader(res.body!);
    const request = await sse.nextMessage();
    expect(request).toMatchObject({ method: 'sampling/createMessage' });
    const answer = await post(
      {
        jsonrpc: '2.0',
        id: request!.id,
        result: { role: 'assistant', content: { type: 'text', text: 'yo' }, model: 'm' },
      },
      h,
    );
    expect(answer.status).toBe(202);
    const result = await sse.nextMessage();
    expect(result).toMatchObject({ id: 2, result: { content: [{ text: 'sampled: yo' }] } });
    expect(await sse.next()).toBeUndefined();
  });

  it(
    verifies(
      'R-SSE-RESUME',
      'closeStream ends the POST stream; GET + Last-Event-ID replays the rest',
    ),
    async () => {
      const h = await session();
      const res = await post(call(3, 'reconnect', { _meta: { progressToken: 'r' } }), h);
      const sse = new SseReader(res.body!);
      const priming = await sse.next();
      expect(priming?.data).toBe('');
      expect(priming?.retry).toBe(5000);
      const first = await sse.next();
      expect(JSON.parse(first!.data)).toMatchObject({ params: { progress: 1 } });
      expect(await sse.next()).toBeUndefined(); // closed before the result

      const get = await fetch(`${base}/mcp`, {
        headers: { ...h, accept: 'text/event-stream', 'last-event-id': first!.id! },
      });
      expect(get.status).toBe(200);
      const resumed = new SseReader(get.body!);
      expect(await resumed.nextMessage()).toMatchObject({ params: { progress: 2 } });
      expect(await resumed.nextMessage()).toMatchObject({
        id: 3,
        result: { content: [{ text: 'resumed' }] },
      });
      expect(await resumed.next()).toBeUndefined();
    },
  );

  it('a client that dropped the POST stream resumes it and answers a pending request', async () => {
    const h = await session();
    const res = await post(call(5, 'ask'), h);
    const sse = new SseReader(res.body!);
    const priming = await sse.next();
    expect(priming?.data).toBe('');
    await sse.cancel(); // the connection drops before the client reads on

    const get = await fetch(`${base}/mcp`, {
      headers: { ...h, accept: 'text/event-stream', 'last-event-id': priming!.id! },
    });
    const resumed = new SseReader(get.body!);
    const request = await resumed.nextMessage();
    expect(request).toMatchObject({ method: 'sampling/createMessage' });
    const answer = await post(
      {
        jsonrpc: '2.0',
        id: request!.id,
        result: { role: 'assistant', content: { type: 'text', text: 'late' }, model: 'm' },
      },
      h,
    );
    expect(answer.status).toBe(202);
    expect(await resumed.nextMessage()).toMatchObject({
      id: 5,
      result: { content: [{ text: 'sampled: late' }] },
    });
  });

  it('delivers list_changed on the standalone GET stream', async () => {
    const h = await session();
    const get = await fetch(`${base}/mcp`, { headers: { ...h, accept: 'text/event-stream' } });
    expect(get.status).toBe(200);
    const sse = new SseReader(get.body!);
    expect((await sse.next())?.data).toBe(''); // priming
    const res = await post(call(4, 'change'), h);
    expect(
      ((await res.json()) as { result: { content: { text: string }[] } }).result.content[0]?.text,
    ).toBe('changed');
    expect(await sse.nextMessage()).toMatchObject({ method: 'notifications/tools/list_changed' });
    await sse.cancel();
  });

  it('serves concurrent POSTs on one session', async () => {
    const h = await session();
    const responses = await Promise.all(
      [1000, 1001, 1002].map((id) =>
        post(
          { jsonrpc: '2.0', id, method: 'tools/list' },
          { ...h, accept: 'text/event-stream, application/json' },
        ),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const bodies = await Promise.all(responses.map((r) => r.json()));
    expect(bodies.map((b) => (b as { id: number }).id)).toEqual([1000, 1001, 1002]);
  });
});

describe('modern Streamable HTTP over a socket', () => {
  it('closing the response aborts the request signal', async () => {
    const ac = new AbortController();
    const abortedSeen = new Promise<void>((r) => observed.abortWaiters.push(r));
    const pending = post(
      call(7, 'wait', { arguments: { tag: 'modern' }, _meta: MODERN_META }),
      modernHeaders('tools/call', 'wait'),
      ac.signal,
    ).catch(() => undefined);
    // The handler is running once the request is in; abort the client side.
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await abortedSeen;
    await pending;
    expect(observed.aborts).toContain('modern');
  });

  it('subscriptions/listen acknowledges first, then delivers matching changes', async () => {
    const ac = new AbortController();
    const listen = await post(
      {
        jsonrpc: '2.0',
        id: 77,
        method: 'subscriptions/listen',
        params: { notifications: { toolsListChanged: true }, _meta: MODERN_META },
      },
      modernHeaders('subscriptions/listen'),
      ac.signal,
    );
    expect(listen.headers.get('content-type')).toBe('text/event-stream');
    const sse = new SseReader(listen.body!);
    const ack = await sse.nextMessage();
    expect(ack).toMatchObject({
      method: 'notifications/subscriptions/acknowledged',
      params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 77 } },
    });
    const trigger = await post(
      call(8, 'change', { _meta: MODERN_META }),
      modernHeaders('tools/call', 'change'),
    );
    expect(trigger.status).toBe(200);
    await trigger.text();
    expect(await sse.nextMessage()).toMatchObject({
      method: 'notifications/tools/list_changed',
      params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 77 } },
    });
    // Keep-alive comments flow while idle (keepAliveMs is 200 here); the reader skips them.
    ac.abort();
  });
});

describe('legacy HTTP+SSE (2024-11-05)', () => {
  it('announces the endpoint and answers POSTed requests on the stream', async () => {
    const ac = new AbortController();
    const res = await fetch(`${base}/sse`, {
      headers: { accept: 'text/event-stream' },
      signal: ac.signal,
    });
    const sse = new SseReader(res.body!);
    const endpoint = await sse.next();
    expect(endpoint?.event).toBe('endpoint');
    expect(endpoint?.data).toMatch(/^\/messages\?sessionId=/);
    const url = `${base}${endpoint!.data}`;
    const init = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ...LEGACY_INIT,
        params: { ...LEGACY_INIT.params, protocolVersion: '2024-11-05' },
      }),
    });
    expect(init.status).toBe(202);
    const reply = await sse.next();
    expect(reply?.event).toBe('message');
    expect(JSON.parse(reply!.data)).toMatchObject({
      id: 1,
      result: { protocolVersion: '2024-11-05' },
    });
    const unknown = await fetch(`${base}/messages?sessionId=nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(unknown.status).toBe(404);
    ac.abort();
  });
});

describe('WebSocket', () => {
  function open(headers: Record<string, string> = {}): Promise<WebSocket> {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
      ws.once('unexpected-response', (req, res) => {
        req.destroy();
        reject(new Error(`HTTP ${res.statusCode}`));
      });
    });
  }

  function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
    return new Promise((resolve) =>
      ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()))),
    );
  }

  it('runs a legacy session: one message per text frame', async () => {
    const ws = await open();
    try {
      ws.send(JSON.stringify(LEGACY_INIT));
      expect(await nextMessage(ws)).toMatchObject({
        id: 1,
        result: { protocolVersion: '2025-11-25' },
      });
      ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      ws.send(JSON.stringify(call(2, 'echo', { arguments: { text: 'over ws' } })));
      expect(await nextMessage(ws)).toMatchObject({
        id: 2,
        result: { content: [{ text: 'over ws' }] },
      });
      ws.send('{not json');
      expect(await nextMessage(ws)).toMatchObject({ id: null, error: { code: -32700 } });
      ws.send(Buffer.from('{}'), { binary: true });
      expect(await nextMessage(ws)).toMatchObject({ id: null, error: { code: -32600 } });
    } finally {
      ws.close();
    }
  });

  it('closing the socket ends its session', async () => {
    const ws = await open();
    ws.send(JSON.stringify(LEGACY_INIT));
    await nextMessage(ws);
    const before = engine.sessions.size;
    ws.close();
    await vi.waitFor(() => expect(engine.sessions.size).toBe(before - 1));
  });

  it('serves modern requests statelessly on the same socket', async () => {
    const ws = await open();
    try {
      ws.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'server/discover',
          params: { _meta: MODERN_META },
        }),
      );
      expect(await nextMessage(ws)).toMatchObject({ id: 1, result: { resultType: 'complete' } });
      ws.send(
        JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping', params: { _meta: MODERN_META } }),
      );
      expect(await nextMessage(ws)).toMatchObject({ id: 2, error: { code: -32601 } });
    } finally {
      ws.close();
    }
  });

  it('rejects an upgrade from a foreign Origin', async () => {
    await expect(open({ origin: 'http://evil.example.com' })).rejects.toThrow(/403/);
  });
});

describe('WebSocket on shutdown', () => {
  it('is closed with 1001 (going away), so the client reconnects elsewhere', async () => {
    const own = await testApp();
    const url = await own.app.listen({ host: '127.0.0.1', port: 0 });
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise<[number, string]>((resolve) =>
      ws.once('close', (code, reason) => resolve([code, reason.toString()])),
    );
    await own.app.close();
    expect(await closed).toEqual([1001, 'server shutting down']);
  });
});
