/**
 * Long-lived connections follow their credential (issue 9, item 3): a WebSocket, a legacy
 * `/sse` stream, a Streamable HTTP GET stream and a `subscriptions/listen` stream opened with
 * a credential end once that credential is revoked (token service, API key) or expires (JWT,
 * API key), on the entry point that holds them even when the revocation went in at the other
 * one; a frame already on its way runs nothing once the revocation is known, and `/messages`
 * posts of the ended `/sse` session are refused.
 */
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { modernRequest } from '@mcp-cluster/testkit';
import {
  PASSWORDS,
  basic,
  bearer,
  bearerSubprotocol,
  freshAddress,
  initialize,
  mintJwt,
  modern,
  openWebSocket,
  rpcResult,
  send,
  tokenRequest,
  wsRequest,
} from './support.js';
import { UNAUTHORIZED, expectRefused } from './target.js';
import type { AttackPart, AttackTarget } from './target.js';

/** The close code of a connection whose credential ended, and its reasons. */
const CREDENTIAL_CLOSE = 4401;
const REVOKED = 'credential revoked';
const EXPIRED = 'credential expired';
/**
 * How long a test waits for a stream to end: a timeout for a bound of about a second
 * (revocation events are immediate; the periodic re-check catches the rest), never a
 * timing assertion.
 */
const END_TIMEOUT_MS = 6_000;

/** Resolves with the close code and reason; rejects when the socket stays open too long. */
function closeOf(
  socket: WebSocket,
  timeoutMs = END_TIMEOUT_MS,
): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the socket stayed open')), timeoutMs);
    socket.once('close', (code: number, reason: Buffer) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString('utf8') });
    });
  });
}

async function openWs(url: string, credential: string, from: string): Promise<WebSocket> {
  const ws = await openWebSocket(url, ['mcp', bearerSubprotocol(credential)], from);
  if (!ws.open) throw new Error(`upgrade refused: ${ws.status}`);
  return ws.socket;
}

let ids = 0;
/**
 * A legacy session on the socket, and one request that works (the control): an echo call when
 * `text` is given (tool calls are rationed per principal), else a ping.
 */
async function initialized(socket: WebSocket, text?: string): Promise<void> {
  const init = await wsRequest(socket, {
    id: `init-${++ids}`,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'attack-suite', version: '1' },
    },
  });
  expect(init['result']).toBeDefined();
  socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  if (text === undefined) {
    const pong = await wsRequest(socket, { id: `ping-${++ids}`, method: 'ping' });
    expect(pong['result']).toEqual({});
    return;
  }
  const call = await wsRequest(socket, {
    id: `call-${++ids}`,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text } },
  });
  expect(call['result']).toMatchObject({ content: [{ type: 'text', text }] });
}

/** A tools/call frame sent without waiting for anything. */
function echoFrame(socket: WebSocket, text: string): void {
  socket.send(
    JSON.stringify({
      jsonrpc: '2.0',
      id: `late-${++ids}`,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text } },
    }),
  );
}

interface HttpStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Everything received so far. */
  text(): string;
  /** Resolves once the received text satisfies `match` (rejects when the stream ends first). */
  waitFor(match: RegExp): Promise<RegExpExecArray>;
  /** Resolves when the server ended the response; rejects after `timeoutMs`. */
  ended(timeoutMs?: number): Promise<void>;
  close(): void;
}

/** An HTTP response read as it arrives (an SSE stream), from a chosen source address. */
function openHttpStream(
  url: string,
  o: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; from: string },
): Promise<HttpStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: o.method, headers: o.headers, localAddress: o.from },
      (res) => {
        let text = '';
        let done = false;
        const waiters = new Set<() => void>();
        const wake = (): void => {
          for (const w of [...waiters]) w();
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          wake();
        });
        const finish = (): void => {
          done = true;
          wake();
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
        const wait = <T>(ready: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
          new Promise<T>((ok, fail) => {
            const check = (): void => {
              const value = ready();
              if (value !== undefined) {
                cleanup();
                ok(value);
              } else if (done) {
                cleanup();
                fail(new Error(`the stream ended before ${what}: ${text}`));
              }
            };
            const timer = setTimeout(() => {
              cleanup();
              fail(new Error(`not within ${timeoutMs} ms: ${what}`));
            }, timeoutMs);
            const cleanup = (): void => {
              clearTimeout(timer);
              waiters.delete(check);
            };
            waiters.add(check);
            check();
          });
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: () => text,
          waitFor: (match) => wait(() => match.exec(text) ?? undefined, 10_000, String(match)),
          ended: (timeoutMs = END_TIMEOUT_MS) =>
            new Promise<void>((ok, fail) => {
              const timer = setTimeout(() => {
                waiters.delete(check);
                fail(new Error('the stream stayed open'));
              }, timeoutMs);
              const check = (): void => {
                if (!done) return;
                clearTimeout(timer);
                waiters.delete(check);
                ok();
              };
              waiters.add(check);
              check();
            }),
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

/** A token-service access token (and its refresh token) for bob. */
async function bobTokens(url: string, from: string): Promise<{ access: string; refresh: string }> {
  const issued = await tokenRequest(
    url,
    '/oauth/token',
    { grant_type: 'client_credentials' },
    basic('bob', PASSWORDS.bob),
    from,
  );
  expect(issued.status).toBe(200);
  return {
    access: String(issued.body['access_token']),
    refresh: String(issued.body['refresh_token']),
  };
}

/** An API key for a principal of its own (streams per principal are capped). */
async function apiKey(
  t: AttackTarget,
  principal: string,
  expiresAt?: number,
): Promise<{ id: string; key: string }> {
  const created = await t.apiKeys.create({
    principal: `${principal}-${Math.random().toString(36).slice(2, 8)}`,
    roles: ['reader'],
    ...(expiresAt === undefined ? {} : { expiresAt }),
  });
  return { id: created.record.id, key: created.key };
}

/** A token-service access token of an API key's principal (client_credentials with the key). */
async function tokenFor(url: string, key: string, from: string): Promise<string> {
  const issued = await tokenRequest(
    url,
    '/oauth/token',
    { grant_type: 'client_credentials', client_id: 'api-key', client_secret: key },
    {},
    from,
  );
  expect(issued.status).toBe(200);
  return String(issued.body['access_token']);
}

const revoke = async (url: string, token: string, from: string): Promise<void> => {
  expect((await tokenRequest(url, '/oauth/revoke', { token }, {}, from)).status).toBe(200);
};

const sseHeaders = (credential: string): Record<string, string> => ({
  ...bearer(credential),
  accept: 'text/event-stream',
});

/** GET /sse: the legacy stream, and the `/messages` url its endpoint event names. */
async function legacySse(
  url: string,
  credential: string,
  from: string,
): Promise<{ stream: HttpStream; messages: string }> {
  const origin = new URL(url).origin;
  const stream = await openHttpStream(`${origin}/sse`, {
    method: 'GET',
    headers: sseHeaders(credential),
    from,
  });
  expect(stream.status).toBe(200);
  const [, path] = await stream.waitFor(/event: endpoint\ndata: (\S+)\n/);
  return { stream, messages: `${origin}${path ?? ''}` };
}

function postMessage(
  messagesUrl: string,
  credential: string,
  from: string,
  message: Record<string, unknown>,
): ReturnType<typeof send> {
  return send(messagesUrl, {
    headers: { 'content-type': 'application/json', ...bearer(credential) },
    body: JSON.stringify({ jsonrpc: '2.0', ...message }),
    from,
  });
}

export const streamRevalidation: AttackPart = (target) => {
  it('a WebSocket closes when its token is revoked at the other entry point; late frames run nothing', async () => {
    const t = target();
    const from = freshAddress();
    const { access } = await bobTokens(t.urls[1], from);
    // Two connections with the same token at the first entry point.
    const first = await openWs(t.urls[0], access, from);
    const second = await openWs(t.urls[0], access, from);
    try {
      await initialized(first, 'ws-token-before');
      await initialized(second);
      const closing = closeOf(first);
      const secondClosing = closeOf(second);
      // The instant the first close arrives, the revocation is known where both sockets live:
      // a frame the second one sends then must not run.
      void closing.then(
        () => echoFrame(second, 'ws-token-late'),
        () => undefined,
      );
      await revoke(t.urls[1], access, from);
      expect(await closing).toEqual({ code: CREDENTIAL_CLOSE, reason: REVOKED });
      expect(await secondClosing).toEqual({ code: CREDENTIAL_CLOSE, reason: REVOKED });
      // A request sent after the close reaches the same entry point and runs (a barrier): had
      // the late frame run, its effect would be there before this one's.
      const { key } = await apiKey(t, 'barrier');
      const barrier = await modern(
        t.urls[0],
        'tools/call',
        { name: 'echo', arguments: { text: 'ws-token-barrier' } },
        bearer(key),
        { from },
      );
      expect(rpcResult(barrier)?.['content']).toEqual([{ type: 'text', text: 'ws-token-barrier' }]);
      expect(t.sideEffects()).toContain('echo:basic:bob:ws-token-before');
      expect(t.sideEffects().some((e) => e.endsWith(':ws-token-barrier'))).toBe(true);
      expect(t.sideEffects()).not.toContain('echo:basic:bob:ws-token-late');
    } finally {
      first.terminate();
      second.terminate();
    }
  });

  it('a WebSocket closes when the grant of its token is revoked through the refresh token', async () => {
    const t = target();
    const from = freshAddress();
    const { access, refresh } = await bobTokens(t.urls[0], from);
    const socket = await openWs(t.urls[1], access, from);
    try {
      await initialized(socket);
      const closing = closeOf(socket);
      await revoke(t.urls[0], refresh, from);
      expect(await closing).toEqual({ code: CREDENTIAL_CLOSE, reason: REVOKED });
    } finally {
      socket.terminate();
    }
  });

  it('a WebSocket closes when its API key is revoked in the store (no event: the re-check)', async () => {
    const t = target();
    const from = freshAddress();
    const { id, key } = await apiKey(t, 'ws-key');
    const sockets = [await openWs(t.urls[0], key, from), await openWs(t.urls[1], key, from)];
    try {
      for (const s of sockets) await initialized(s, 'ws-key-before');
      const closing = sockets.map((s) => closeOf(s));
      expect(await t.apiKeys.revoke(id)).toBe(true);
      for (const c of closing) expect(await c).toEqual({ code: CREDENTIAL_CLOSE, reason: REVOKED });
    } finally {
      for (const s of sockets) s.terminate();
    }
  });

  it('a WebSocket closes when its JWT expires, and when its API key expires', async () => {
    const t = target();
    const from = freshAddress();
    const exp = Math.floor(Date.now() / 1000) + 3;
    const jwt = await mintJwt(t.keys, { sub: `short-lived-${from}`, expSec: exp });
    const { key } = await apiKey(t, 'ws-expiring', Date.now() + 3_000);
    const sockets = [await openWs(t.urls[0], jwt, from), await openWs(t.urls[1], key, from)];
    try {
      const closing = sockets.map((s) => closeOf(s, END_TIMEOUT_MS + 3_000));
      for (const c of closing) expect(await c).toEqual({ code: CREDENTIAL_CLOSE, reason: EXPIRED });
    } finally {
      for (const s of sockets) s.terminate();
    }
  });

  it('a legacy /sse stream ends when its token is revoked; /messages posts are then refused 401', async () => {
    const t = target();
    const from = freshAddress();
    const { access } = await bobTokens(t.urls[0], from);
    const { stream, messages } = await legacySse(t.urls[0], access, from);
    try {
      const init = await postMessage(messages, access, from, {
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2024-11-05',
          capabilities: {},
          clientInfo: { name: 'attack-suite', version: '1' },
        },
      });
      expect(init.status).toBe(202);
      await stream.waitFor(/"id":1,"result"/);
      await revoke(t.urls[1], access, from);
      const effects = t.sideEffects().length;
      const late = await postMessage(messages, access, from, {
        id: 2,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'sse-late' } },
      });
      expectRefused(late, 401, UNAUTHORIZED);
      await stream.ended();
      expect(t.sideEffects().length).toBe(effects);
    } finally {
      stream.close();
    }
  });

  it('a legacy /sse stream ends when its API key is revoked; its /messages posts get 401', async () => {
    const t = target();
    const from = freshAddress();
    const { id, key } = await apiKey(t, 'sse-key');
    const { stream, messages } = await legacySse(t.urls[1], key, from);
    try {
      expect(await t.apiKeys.revoke(id)).toBe(true);
      await stream.ended();
      const effects = t.sideEffects().length;
      const late = await postMessage(messages, key, from, {
        id: 3,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'sse-key-late' } },
      });
      expectRefused(late, 401, UNAUTHORIZED);
      expect(t.sideEffects().length).toBe(effects);
    } finally {
      stream.close();
    }
  });

  it('a Streamable HTTP GET stream ends when its token is revoked at the other entry point', async () => {
    const t = target();
    const from = freshAddress();
    const { key } = await apiKey(t, 'get-stream');
    const token = await tokenFor(t.urls[0], key, from);
    const { sessionId } = await initialize(t.urls[0], bearer(token), from);
    if (sessionId === undefined) throw new Error('no session');
    const stream = await openHttpStream(t.urls[0], {
      method: 'GET',
      headers: {
        ...sseHeaders(token),
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-06-18',
      },
      from,
    });
    try {
      expect(stream.status).toBe(200);
      await revoke(t.urls[1], token, from);
      await stream.ended();
    } finally {
      stream.close();
    }
  });

  it('a subscriptions/listen stream ends when its API key is revoked, and when its JWT expires', async () => {
    const t = target();
    const from = freshAddress();
    const { id, key } = await apiKey(t, 'listen');
    const jwt = await mintJwt(t.keys, {
      sub: `listen-${from}`,
      expSec: Math.floor(Date.now() / 1000) + 3,
    });
    const streams: HttpStream[] = [];
    try {
      for (const [url, credential] of [
        [t.urls[0], key],
        [t.urls[1], jwt],
      ] as const) {
        const { body, headers } = modernRequest('subscriptions/listen', {
          notifications: { toolsListChanged: true },
        });
        const stream = await openHttpStream(url, {
          method: 'POST',
          headers: { ...headers, ...bearer(credential) },
          body: JSON.stringify(body),
          from,
        });
        expect(stream.status).toBe(200);
        await stream.waitFor(/notifications\/subscriptions\/acknowledged/);
        streams.push(stream);
      }
      expect(await t.apiKeys.revoke(id)).toBe(true);
      for (const s of streams) await s.ended(END_TIMEOUT_MS + 3_000);
    } finally {
      for (const s of streams) s.close();
    }
  });

  it('a WebSocket with a valid credential keeps working (control)', async () => {
    const t = target();
    const from = freshAddress();
    const { key } = await apiKey(t, 'ws-control');
    const socket = await openWs(t.urls[1], key, from);
    try {
      await initialized(socket, 'ws-control-1');
      for (let i = 0; i < 3; i++) {
        const r = await wsRequest(socket, { id: `ping-${++ids}`, method: 'ping' });
        expect(r['result']).toEqual({});
      }
      const call = await modernCallOverHttp(t, key, from);
      expect(call).toEqual([{ type: 'text', text: 'hi' }]);
      expect(socket.readyState).toBe(socket.OPEN);
    } finally {
      socket.close();
    }
  });
};

async function modernCallOverHttp(t: AttackTarget, key: string, from: string): Promise<unknown> {
  const { body, headers } = modernRequest('tools/call', {
    name: 'echo',
    arguments: { text: 'hi' },
  });
  const r = await send(t.urls[0], {
    headers: { ...headers, ...bearer(key) },
    body: JSON.stringify(body),
    from,
  });
  return rpcResult(r)?.['content'];
}
