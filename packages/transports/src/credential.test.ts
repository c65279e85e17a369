/**
 * Long-lived connections follow the credential they were admitted with (real sockets): the
 * guard's credential ends -> the WebSocket closes with 4401 and a reason, SSE streams end,
 * `/messages` posts of an ended `/sse` stream are 401; frames wait for a re-check and are
 * refused (-32016) when it cannot be made.
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FakeCredential } from './credential.testkit.js';
import type { Admission, TransportGuard } from './guard.js';
import { mcpTransports } from './plugin.js';
import { LEGACY_INIT, MODERN_META, SseReader, testEngine } from './testing.js';
import { CREDENTIAL_CLOSE_CODE } from './websocket.js';

/** Credentials by the name a request presents in `x-credential`. */
const credentials = new Map<string, FakeCredential>();
const guard: TransportGuard = {
  admit(req): Promise<Admission> {
    const name = req.headers['x-credential'] ?? '';
    const credential = credentials.get(name);
    return Promise.resolve({
      ok: true,
      principal: { id: 'p', kind: 'user', roles: [] },
      ...(credential === undefined ? {} : { credential }),
    });
  },
};

let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  app = Fastify({ logger: false });
  const engine = testEngine();
  await app.register(mcpTransports, { engine, guard, settings: { keepAliveMs: 60_000 } });
  app.addHook('onClose', () => engine.close());
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => app.close());

let n = 0;
function credential(): { name: string; c: FakeCredential } {
  const name = `c${++n}`;
  const c = new FakeCredential();
  credentials.set(name, c);
  return { name, c };
}

function openWs(name: string): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, {
    headers: { 'x-credential': name },
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once('close', (code: number, reason: Buffer) =>
      resolve({ code, reason: reason.toString('utf8') }),
    ),
  );
}

function answer(ws: WebSocket, id: string | number): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (data: Buffer): void => {
      const m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      if (m['id'] !== id) return;
      ws.off('message', on);
      resolve(m);
    };
    ws.on('message', on);
  });
}

const ping = (id: string | number): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' });

describe('WebSocket', () => {
  it('closes with 4401 "credential revoked" when the guard learns of the revocation', async () => {
    const { name, c } = credential();
    const ws = await openWs(name);
    const pong = answer(ws, 1);
    ws.send(ping(1));
    expect((await pong)['result']).toEqual({});
    const close = closed(ws);
    c.end('revoked');
    expect(await close).toEqual({ code: CREDENTIAL_CLOSE_CODE, reason: 'credential revoked' });
    expect(c.watching).toBe(0);
  });

  it('a frame that finds the credential expired closes with "credential expired" and runs nothing', async () => {
    const { name, c } = credential();
    const ws = await openWs(name);
    const answers: unknown[] = [];
    ws.on('message', (d: Buffer) => answers.push(JSON.parse(d.toString('utf8'))));
    const close = closed(ws);
    c.known = 'expired';
    ws.send(ping(2));
    expect(await close).toEqual({ code: CREDENTIAL_CLOSE_CODE, reason: 'credential expired' });
    expect(answers).toEqual([]);
  });

  it('frames wait for a re-check; one that cannot be made is refused -32016 with the id', async () => {
    const { name, c } = credential();
    const ws = await openWs(name);
    c.known = undefined;
    const first = answer(ws, 'a');
    ws.send(ping('a'));
    await expect.poll(() => c.checks).toBe(1);
    c.answer(new Error('store down'));
    expect(await first).toMatchObject({ id: 'a', error: { code: -32016 } });
    const second = answer(ws, 'b');
    ws.send(ping('b'));
    await expect.poll(() => c.checks).toBe(2);
    c.answer('valid');
    expect(await second).toMatchObject({ id: 'b', result: {} });
    ws.close();
  });

  it('a connection without an ending credential is not watched', async () => {
    const ws = await openWs('none');
    const pong = answer(ws, 3);
    ws.send(ping(3));
    expect((await pong)['result']).toEqual({});
    ws.close();
  });
});

describe('SSE streams', () => {
  it('a legacy /sse stream ends; its /messages posts are 401 once the credential ended', async () => {
    const { name, c } = credential();
    const res = await fetch(`${base}/sse`, { headers: { 'x-credential': name } });
    expect(res.status).toBe(200);
    const sse = new SseReader(res.body!);
    const endpoint = await sse.next();
    expect(endpoint?.event).toBe('endpoint');
    const messages = `${base}${endpoint?.data ?? ''}`;
    const post = (id: number) =>
      fetch(messages, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-credential': 'none' },
        body: id === 1 ? JSON.stringify(LEGACY_INIT) : ping(id),
      });
    expect((await post(1)).status).toBe(202);
    expect(await sse.nextMessage()).toMatchObject({ id: 1, result: {} });
    // The post carries a credential of its own that is fine; the stream's has ended.
    c.known = 'revoked';
    const late = await post(2);
    expect(late.status).toBe(401);
    expect(await late.json()).toMatchObject({
      error: { code: -32013, message: 'Unauthorized: credential revoked' },
    });
    expect(await sse.next()).toBeUndefined();
    // The session went with its stream.
    expect((await post(3)).status).toBe(404);
  });

  it('a legacy /sse stream ends when the guard learns the credential expired', async () => {
    const { name, c } = credential();
    const res = await fetch(`${base}/sse`, { headers: { 'x-credential': name } });
    const sse = new SseReader(res.body!);
    expect((await sse.next())?.event).toBe('endpoint');
    c.end('expired');
    expect(await sse.next()).toBeUndefined();
    expect(c.watching).toBe(0);
  });

  it('a Streamable HTTP GET stream ends', async () => {
    const { name, c } = credential();
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'x-credential': name,
    };
    const init = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify(LEGACY_INIT),
    });
    const sid = init.headers.get('mcp-session-id') ?? '';
    await init.text();
    const get = await fetch(`${base}/mcp`, {
      headers: { ...headers, accept: 'text/event-stream', 'mcp-session-id': sid },
    });
    expect(get.status).toBe(200);
    const sse = new SseReader(get.body!);
    await expect.poll(() => c.watching).toBe(1);
    c.end('revoked');
    // Past the priming event (no data), the stream ends.
    expect(await sse.nextMessage()).toBeUndefined();
  });

  it('a subscriptions/listen stream ends (its request is cancelled)', async () => {
    const { name, c } = credential();
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'subscriptions/listen',
        'x-credential': name,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 9,
        method: 'subscriptions/listen',
        params: { notifications: { toolsListChanged: true }, _meta: MODERN_META },
      }),
    });
    expect(res.status).toBe(200);
    const sse = new SseReader(res.body!);
    expect(await sse.nextMessage()).toMatchObject({
      method: 'notifications/subscriptions/acknowledged',
    });
    c.end('revoked');
    expect(await sse.nextMessage()).toBeUndefined();
    expect(c.watching).toBe(0);
  });
});
