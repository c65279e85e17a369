/**
 * Connection and session limits (issue 9, item 6):
 *
 * - legacy sessions are capped per principal (and per deployment): an `initialize` beyond the
 *   cap is refused (429, -32012, Retry-After) on every transport and stores nothing; another
 *   principal still gets one, and ending a session frees its slot;
 * - a request whose head or body trickles in is answered 408 once the suite's short headers /
 *   request timeouts pass (long-lived streams opened before are not touched), and one address
 *   holding more connections than the per-address cap has the extra ones refused with 503
 *   while another address still gets through;
 * - an oversize body is answered 413 with the JSON-RPC error, read by a fetch() client (no
 *   connection reset), at every entry point.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { expect, it } from 'vitest';
import { eventually, modernRequest, within } from '@mcp-cluster/testkit';
import {
  CONNECTION_CAP,
  SESSION_CAP,
  STATIC_TOKENS,
  bearer,
  bearerSubprotocol,
  freshAddress,
  initialize,
  mintJwt,
  openWebSocket,
  rpcError,
  send,
  wsRequest,
} from './support.js';
import { RATE_LIMITED, UNAUTHORIZED, expectRefused, withoutSideEffects } from './target.js';
import type { AttackPart, AttackTarget } from './target.js';

/** A bound, not a timing assertion: the suite's timeouts are a few seconds. */
const TIMEOUT_BOUND_MS = 15_000;
const UNAVAILABLE = -32016;
const PAYLOAD_TOO_LARGE = -32015;
/** An oversize body: 8 × the 4 MiB limit. */
const OVERSIZE_BYTES = 32 * 1024 * 1024;
const OVERSIZE_ATTEMPTS = 5;

/** `bytes` as a stream of 64 KiB chunks (a body without Content-Length). */
function chunks(bytes: Buffer): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 64 * 1024) {
        controller.enqueue(bytes.subarray(i, i + 64 * 1024));
      }
      controller.close();
    },
  });
}

/** A principal of its own (a JWT with a fresh subject): no other case holds its sessions. */
async function freshPrincipal(t: AttackTarget): Promise<Record<string, string>> {
  return bearer(await mintJwt(t.keys, { sub: `limits-${randomBytes(4).toString('hex')}` }));
}

/** `n` sessions of `auth`, alternating entry points; their ids. */
async function fillSessions(
  t: AttackTarget,
  auth: Record<string, string>,
  n: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { response, sessionId } = await initialize(t.urls[i % 2] ?? t.urls[0], auth);
    expect(response.status).toBe(200);
    if (sessionId === undefined) throw new Error('no session id');
    ids.push(sessionId);
  }
  return ids;
}

function expectSessionCapRefusal(r: Awaited<ReturnType<typeof send>>): void {
  expectRefused(r, 429, RATE_LIMITED);
  expect(rpcError(r)?.message).toMatch(/maxSessionsPerPrincipal/);
  expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
  expect(r.headers['mcp-session-id']).toBeUndefined();
}

/** A raw TCP connection to the server behind `url`, from `from`. */
interface RawConnection {
  readonly socket: Socket;
  /** Everything received so far (latin1). */
  text(): string;
  /** Resolves once the received text matches `match`; rejects after `timeoutMs`. */
  waitFor(match: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with everything received once the server closed; rejects after `timeoutMs`. */
  closed(timeoutMs?: number): Promise<string>;
  destroy(): void;
}

function rawConnect(url: string, from: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress: from });
    let data = '';
    let done = false;
    const waiters = new Set<() => void>();
    const wake = (): void => {
      for (const w of [...waiters]) w();
    };
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      wake();
    });
    const finish = (): void => {
      done = true;
      wake();
    };
    socket.on('end', finish);
    socket.on('close', finish);
    // A write after the server closed fails; what it answered before still counts.
    socket.on('error', finish);
    const wait = (ready: () => boolean, timeoutMs: number, what: string): Promise<string> =>
      within(
        timeoutMs,
        `${what} (got ${JSON.stringify(data.slice(0, 200))})`,
        new Promise<string>((ok, fail) => {
          const check = (): void => {
            if (ready()) {
              waiters.delete(check);
              ok(data);
            } else if (done) {
              waiters.delete(check);
              fail(new Error(`connection closed before ${what}: ${JSON.stringify(data)}`));
            }
          };
          waiters.add(check);
          check();
        }),
      );
    socket.once('connect', () =>
      resolve({
        socket,
        text: () => data,
        waitFor: (match, timeoutMs = TIMEOUT_BOUND_MS) =>
          wait(() => match.test(data), timeoutMs, `${String(match)}`),
        closed: (timeoutMs = TIMEOUT_BOUND_MS) =>
          within(
            timeoutMs,
            `the server to close (got ${JSON.stringify(data.slice(0, 200))})`,
            new Promise<string>((ok) => {
              const check = (): void => {
                if (!done) return;
                waiters.delete(check);
                ok(data);
              };
              waiters.add(check);
              check();
            }),
          ),
        destroy: () => socket.destroy(),
      }),
    );
    socket.once('error', reject);
  });
}

/** Writes `chunk` every `everyMs` until the server answers or closes; returns the stop. */
function trickle(c: RawConnection, chunk: string, everyMs = 100): () => void {
  const timer = setInterval(() => {
    if (c.text() !== '' || c.socket.destroyed) {
      clearInterval(timer);
      return;
    }
    c.socket.write(chunk);
  }, everyMs);
  return () => clearInterval(timer);
}

const hostOf = (url: string): string => new URL(url).host;

/** A POST head with a valid credential and a body that has yet to come. */
function postHead(url: string, contentLength: number): string {
  return (
    `POST ${new URL(url).pathname} HTTP/1.1\r\nHost: ${hostOf(url)}\r\n` +
    `Authorization: Bearer ${STATIC_TOKENS.admin}\r\nContent-Type: application/json\r\n` +
    `Accept: application/json, text/event-stream\r\nContent-Length: ${contentLength}\r\n\r\n`
  );
}

/** A body trickled in one byte at a time is answered 408 and the connection closed. */
async function trickledBody(url: string, from = freshAddress()): Promise<string> {
  const c = await rawConnect(url, from);
  c.socket.write(postHead(url, 4096));
  const stop = trickle(c, ' ');
  try {
    return await c.closed();
  } finally {
    stop();
    c.destroy();
  }
}

/** A small request that keeps the connection (the resource metadata: no credential needed). */
function metadataRequest(url: string): string {
  return (
    `GET /.well-known/oauth-protected-resource HTTP/1.1\r\nHost: ${hostOf(url)}\r\n` +
    `Connection: keep-alive\r\n\r\n`
  );
}

/** A connection that got one full answer to a request and stays open (keep-alive). */
async function heldConnection(url: string, from: string): Promise<RawConnection> {
  const c = await rawConnect(url, from);
  c.socket.write(metadataRequest(url));
  await c.waitFor(/^HTTP\/1\.1 200[\s\S]*\r\n\r\n\{[\s\S]*\}$/);
  return c;
}

/** One more connection's fate: the status line it got, after the server closed or answered. */
async function oneMore(url: string, from: string): Promise<string> {
  const c = await rawConnect(url, from);
  try {
    c.socket.write(metadataRequest(url));
    return await c.waitFor(/^HTTP\/1\.1 \d{3}[\s\S]*\r\n\r\n\{[\s\S]*\}$/);
  } finally {
    c.destroy();
  }
}

export const limitAttacks: AttackPart = (target) => {
  // ---- (c) legacy sessions per principal ----

  it('initialize beyond the per-principal session cap is refused on both entry points; nothing is stored', async () => {
    const t = target();
    const auth = await freshPrincipal(t);
    await fillSessions(t, auth, SESSION_CAP);
    await withoutSideEffects(t, async () => {
      for (const url of t.urls) {
        expectSessionCapRefusal((await initialize(url, auth, freshAddress())).response);
      }
    });
    // Another principal is not affected.
    const other = await initialize(t.urls[1], await freshPrincipal(t));
    expect(other.response.status).toBe(200);
    expect(other.sessionId).toBeDefined();
  });

  it('ending a session frees its slot (DELETE at the other entry point)', async () => {
    const t = target();
    const auth = await freshPrincipal(t);
    const ids = await fillSessions(t, auth, SESSION_CAP);
    expectSessionCapRefusal((await initialize(t.urls[0], auth)).response);
    const gone = await fetch(t.urls[1], {
      method: 'DELETE',
      headers: { ...auth, 'mcp-session-id': ids[0] ?? '', 'mcp-protocol-version': '2025-06-18' },
    });
    expect(gone.status).toBe(204);
    const again = await initialize(t.urls[0], auth);
    expect(again.response.status).toBe(200);
    // Full again: the slot was taken by the new session.
    expectSessionCapRefusal((await initialize(t.urls[1], auth)).response);
  });

  it('a burst of concurrent initializes across both entry points gets exactly the cap', async () => {
    const t = target();
    const auth = await freshPrincipal(t);
    const burst = SESSION_CAP + 6;
    const before = await t.storedSessions();
    const answers = await Promise.all(
      Array.from({ length: burst }, (_, i) => initialize(t.urls[i % 2] ?? t.urls[0], auth)),
    );
    const admitted = answers.filter((a) => a.response.status === 200);
    const refused = answers.filter((a) => a.response.status === 429);
    expect(admitted.length).toBe(SESSION_CAP);
    expect(refused.length).toBe(burst - SESSION_CAP);
    for (const r of refused) expectSessionCapRefusal(r.response);
    expect(await t.storedSessions()).toBe(before + SESSION_CAP);
  });

  it('a principal at its session cap gets no session over WebSocket or legacy /sse either', async () => {
    const t = target();
    const token = (await freshPrincipal(t))['authorization']?.slice('Bearer '.length) ?? '';
    const auth = bearer(token);
    await fillSessions(t, auth, SESSION_CAP);
    await withoutSideEffects(t, async () => {
      for (const url of t.urls) {
        const ws = await openWebSocket(url, ['mcp', bearerSubprotocol(token)], freshAddress());
        if (!ws.open) throw new Error(`upgrade refused: ${ws.status}`);
        try {
          const answer = await wsRequest(ws.socket, {
            id: 'init',
            method: 'initialize',
            params: {
              protocolVersion: '2025-06-18',
              capabilities: {},
              clientInfo: { name: 'attack-suite', version: '1' },
            },
          });
          const error = answer['error'] as { code: number; message: string } | undefined;
          expect(error?.code).toBe(RATE_LIMITED);
          expect(error?.message).toMatch(/maxSessionsPerPrincipal/);
        } finally {
          ws.socket.close();
        }
        const sse = await send(`${new URL(url).origin}/sse`, {
          method: 'GET',
          headers: { ...auth, accept: 'text/event-stream' },
          from: freshAddress(),
          timeoutMs: 5_000,
        });
        expectRefused(sse, 429, RATE_LIMITED);
      }
    });
  });

  // ---- (d) slow requests and connections per address ----

  it('a request body trickled in is answered 408 within the request timeout, at both entry points', async () => {
    const t = target();
    await withoutSideEffects(t, async () => {
      const answers = await Promise.all(t.urls.map((url) => trickledBody(url)));
      for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    });
  });

  it('a request head trickled in, or never sent, is answered 408 within the headers timeout', async () => {
    const t = target();
    const slowHead = async (url: string): Promise<string> => {
      const slow = await rawConnect(url, freshAddress());
      slow.socket.write(
        `POST ${new URL(url).pathname} HTTP/1.1\r\nHost: ${hostOf(url)}\r\nX-Slow: `,
      );
      const stop = trickle(slow, 'a');
      try {
        return await slow.closed();
      } finally {
        stop();
        slow.destroy();
      }
    };
    const silent = async (url: string): Promise<string> => {
      const c = await rawConnect(url, freshAddress());
      try {
        return await c.closed();
      } finally {
        c.destroy();
      }
    };
    const answers = await Promise.all(t.urls.flatMap((url) => [slowHead(url), silent(url)]));
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a refused request whose body trickles in does not keep its connection', async () => {
    const t = target();
    const c = await rawConnect(t.urls[1], freshAddress());
    // No credential: 401 at once; the body never comes in full.
    c.socket.write(
      `POST ${new URL(t.urls[1]).pathname} HTTP/1.1\r\nHost: ${hostOf(t.urls[1])}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n{`,
    );
    try {
      await c.waitFor(/^HTTP\/1\.1 401 /);
      const stop = trickle(c, ' ');
      try {
        const text = await c.closed();
        // Nothing after the 401 (no second status line glued to it).
        expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
      } finally {
        stop();
      }
    } finally {
      c.destroy();
    }
  });

  it('long-lived streams (WebSocket, /sse) outlive the request timeout', async () => {
    const t = target();
    const token = (await freshPrincipal(t))['authorization']?.slice('Bearer '.length) ?? '';
    const from = freshAddress();
    const url = t.urls[0];
    const ws = await openWebSocket(url, ['mcp', bearerSubprotocol(token)], from);
    if (!ws.open) throw new Error(`upgrade refused: ${ws.status}`);
    const sse = await rawConnect(url, from);
    try {
      sse.socket.write(
        `GET /sse HTTP/1.1\r\nHost: ${hostOf(url)}\r\nAuthorization: Bearer ${token}\r\n` +
          `Accept: text/event-stream\r\n\r\n`,
      );
      const opened = await sse.waitFor(/event: endpoint\r?\ndata: (\S+)\r?\n/);
      const path = /event: endpoint\r?\ndata: (\S+)\r?\n/.exec(opened)?.[1] ?? '';
      // Another request timing out proves the request timeout has passed since both opened.
      expect(await trickledBody(url)).toMatch(/^HTTP\/1\.1 408 /);
      const pong = await wsRequest(ws.socket, { id: 'after', method: 'ping' });
      expect(pong['result']).toEqual({});
      const posted = await send(`${new URL(url).origin}${path}`, {
        headers: { 'content-type': 'application/json', ...bearer(token) },
        body: JSON.stringify({ jsonrpc: '2.0', id: 'sse-after', method: 'ping' }),
        from,
      });
      expect(posted.status).toBe(202);
      await sse.waitFor(/"id":"sse-after","result":\{\}/);
    } finally {
      ws.socket.close();
      sse.destroy();
    }
  });

  it('connections beyond the per-address cap are refused (503); other addresses still get in', async () => {
    const t = target();
    for (const url of t.urls) {
      const crowded = freshAddress();
      const held: RawConnection[] = [];
      try {
        for (let i = 0; i < CONNECTION_CAP; i++) held.push(await heldConnection(url, crowded));
        const refused = await oneMore(url, crowded);
        expect(refused).toMatch(/^HTTP\/1\.1 503 /);
        expect(refused).toMatch(/\r\nretry-after: \d+\r\n/i);
        const body = JSON.parse(refused.slice(refused.indexOf('\r\n\r\n') + 4)) as {
          error?: { code: number; message: string };
        };
        expect(body.error?.code).toBe(UNAVAILABLE);
        expect(body.error?.message).toMatch(/maxConnectionsPerAddress/);
        // Another address is not affected.
        expect(await oneMore(url, freshAddress())).toMatch(/^HTTP\/1\.1 200 /);
        // A closed connection frees its place.
        held.pop()?.destroy();
        await eventually('a freed connection slot', async () => {
          const status = await oneMore(url, crowded);
          return status.startsWith('HTTP/1.1 200 ') ? status : undefined;
        });
      } finally {
        for (const c of held) c.destroy();
      }
    }
  });

  // ---- (e) oversize bodies reach fetch() clients as 413 ----

  it('an oversize body is answered 413 with the JSON-RPC error to fetch(), at both entry points', async () => {
    const t = target();
    // Far over the 4 MiB limit, so the client is still sending when the answer comes (the
    // reset it used to get instead was a race: several attempts each).
    const big = Buffer.from(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'ping',
        params: { pad: 'x'.repeat(OVERSIZE_BYTES) },
      }),
    );
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...bearer(STATIC_TOKENS.admin),
    };
    const refusedWith413 = async (r: Response): Promise<void> => {
      expect(r.status).toBe(413);
      const body = (await r.json()) as { error?: { code: number } };
      expect(body.error?.code).toBe(PAYLOAD_TOO_LARGE);
    };
    await withoutSideEffects(t, async () => {
      for (const url of t.urls) {
        for (let i = 0; i < OVERSIZE_ATTEMPTS; i++) {
          // With Content-Length: answered before a byte of the body is read.
          await refusedWith413(await fetch(url, { method: 'POST', headers, body: big }));
          // Chunked: answered once the limit is crossed, mid-body.
          await refusedWith413(
            await fetch(url, {
              method: 'POST',
              headers,
              body: chunks(big),
              duplex: 'half',
            }),
          );
        }
        // Unauthenticated: refused at admission, before the body, and read the same way.
        const anon = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: big,
        });
        expect(anon.status).toBe(401);
        expect(((await anon.json()) as { error?: { code: number } }).error?.code).toBe(
          UNAUTHORIZED,
        );
        // The connections kept by fetch still serve requests afterwards.
        const control = modernRequest('tools/list');
        const ok = await fetch(url, {
          method: 'POST',
          headers: { ...control.headers, ...bearer(STATIC_TOKENS.admin) },
          body: JSON.stringify(control.body),
        });
        expect(ok.status).toBe(200);
        await ok.arrayBuffer();
      }
    });
  });
};
