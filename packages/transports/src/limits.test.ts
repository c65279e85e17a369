import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, timeoutCheckIntervalMs } from './app.js';
import type { HttpAppOptions } from './app.js';
import {
  MIN_EARLY_ANSWER_DRAIN_BYTES,
  addressMatcher,
  earlyAnswerDrainBytes,
  normalizeAddress,
} from './limits.js';

/** A bound for waits on the server (its timeouts here are a fraction of a second). */
const BOUND_MS = 5_000;

interface Conn {
  readonly socket: Socket;
  text(): string;
  /** Resolves once `match` matches what arrived; rejects if the connection closes first. */
  waitFor(match: RegExp): Promise<string>;
  /** Resolves with everything received once the server closed the connection. */
  closed(): Promise<string>;
}

function open(port: number, localAddress = '127.0.0.1'): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    let data = '';
    let done = false;
    const waiters = new Set<() => void>();
    const wake = (): void => {
      for (const w of [...waiters]) w();
    };
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      wake();
    });
    for (const e of ['end', 'close', 'error'] as const) {
      socket.on(e, () => {
        done = true;
        wake();
      });
    }
    const wait = (ready: () => boolean, what: string): Promise<string> =>
      new Promise((ok, fail) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`not within ${BOUND_MS} ms: ${what} (got ${JSON.stringify(data)})`));
        }, BOUND_MS);
        const check = (): void => {
          if (ready()) {
            clearTimeout(timer);
            waiters.delete(check);
            ok(data);
          } else if (done && what !== 'close') {
            clearTimeout(timer);
            waiters.delete(check);
            fail(new Error(`closed before ${what}: ${JSON.stringify(data)}`));
          }
        };
        waiters.add(check);
        check();
      });
    socket.once('connect', () =>
      resolve({
        socket,
        text: () => data,
        waitFor: (match) => wait(() => match.test(data), String(match)),
        closed: () => wait(() => done, 'close'),
      }),
    );
    socket.once('error', reject);
  });
}

/** Writes `chunk` every 20 ms until the server answers or the socket closes. */
function trickle(c: Conn, chunk: string): () => void {
  const timer = setInterval(() => {
    if (c.text() !== '' || c.socket.destroyed) clearInterval(timer);
    else c.socket.write(chunk);
  }, 20);
  return () => clearInterval(timer);
}

async function start(
  options: Partial<HttpAppOptions>,
): Promise<{ app: FastifyInstance; port: number; streams: ServerResponse[] }> {
  const app = createHttpApp({ logLevel: 'silent', bodyLimitBytes: 1024, ...options });
  const streams: ServerResponse[] = [];
  app.post('/echo', (req) => ({ length: typeof req.body === 'string' ? req.body.length : -1 }));
  app.get('/ok', () => ({ ok: true }));
  // A long-lived response: headers now, a line whenever the test asks.
  app.get('/stream', (_req, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/plain' });
    reply.raw.write('open\n');
    streams.push(reply.raw);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as AddressInfo).port, streams };
}

const okRequest = 'GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
const fullAnswer = /^HTTP\/1\.1 \d{3}[\s\S]*\r\n\r\n\{[\s\S]*\}$/;

describe('addresses', () => {
  it('normalizes IPv4-mapped IPv6', () => {
    expect(normalizeAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress('::1')).toBe('::1');
    expect(normalizeAddress(undefined)).toBeUndefined();
  });

  it('matches addresses and CIDR ranges of both families', () => {
    const m = addressMatcher([
      '10.0.0.0/8',
      '192.168.1.7',
      '2001:db8::/32',
      '::ffff:172.16.0.0/108',
    ]);
    expect(m('10.200.1.1')).toBe(true);
    expect(m('::ffff:10.0.0.1')).toBe(true);
    expect(m('11.0.0.1')).toBe(false);
    expect(m('192.168.1.7')).toBe(true);
    expect(m('192.168.1.8')).toBe(false);
    expect(m('2001:db8:1::5')).toBe(true);
    expect(m('2001:db9::5')).toBe(false);
    expect(m('172.16.3.4')).toBe(true);
    expect(addressMatcher([])('10.0.0.1')).toBe(false);
  });

  it('derives the timeout check interval and the early-answer drain bound', () => {
    expect(timeoutCheckIntervalMs(10_000, 30_000)).toBe(1_000);
    expect(timeoutCheckIntervalMs(400, 800)).toBe(100);
    expect(earlyAnswerDrainBytes(1024)).toBe(MIN_EARLY_ANSWER_DRAIN_BYTES);
    expect(earlyAnswerDrainBytes(64 * 1024 * 1024)).toBe(256 * 1024 * 1024);
  });
});

describe('createHttpApp: headers and request timeouts', () => {
  let server: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    server = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
  });
  afterAll(() => server.app.close());

  it('answers a body that trickles in with 408 and closes', async () => {
    const c = await open(server.port);
    c.socket.write(
      'POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 500\r\n\r\n',
    );
    const stop = trickle(c, 'x');
    try {
      expect(await c.closed()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    } finally {
      stop();
    }
  });

  it('answers a head that trickles in, or none at all, with 408', async () => {
    const slow = await open(server.port);
    slow.socket.write('GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const stop = trickle(slow, 'a');
    try {
      expect(await slow.closed()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      stop();
    }
    const silent = await open(server.port);
    expect(await silent.closed()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('keeps a long-lived response and an idle keep-alive connection past both timeouts', async () => {
    const stream = await open(server.port);
    stream.socket.write('GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await stream.waitFor(/open\n/);
    const idle = await open(server.port);
    idle.socket.write(okRequest);
    await idle.waitFor(fullAnswer);
    // A request whose body never comes timing out proves both timeouts passed since then.
    const slow = await open(server.port);
    slow.socket.write(
      'POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\n',
    );
    expect(await slow.closed()).toMatch(/^HTTP\/1\.1 408 /);
    server.streams.at(-1)?.write('still here\n');
    await stream.waitFor(/still here\n/);
    idle.socket.write(okRequest);
    await idle.waitFor(/\}HTTP\/1\.1 200 [\s\S]*\r\n\r\n\{[\s\S]*\}$/);
    stream.socket.destroy();
    idle.socket.destroy();
  });

  it('ends a connection whose request was answered before its body, without a second answer', async () => {
    const c = await open(server.port);
    c.socket.write(
      'POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\nx',
    );
    await c.waitFor(/^HTTP\/1\.1 413 /);
    const stop = trickle(c, 'x');
    try {
      expect((await c.closed()).match(/HTTP\/1\.1 /g)).toHaveLength(1);
    } finally {
      stop();
    }
  });
});

describe('createHttpApp: connections per address', () => {
  let server: Awaited<ReturnType<typeof start>>;
  const held: Conn[] = [];
  beforeAll(async () => {
    server = await start({ maxConnectionsPerAddress: 3, trustProxy: ['127.0.0.9'] });
  });
  afterEach(() => {
    for (const c of held.splice(0)) c.socket.destroy();
  });
  afterAll(() => server.app.close());

  async function hold(from: string): Promise<Conn> {
    const c = await open(server.port, from);
    c.socket.write(okRequest);
    await c.waitFor(fullAnswer);
    held.push(c);
    return c;
  }

  async function another(from: string): Promise<string> {
    const c = await open(server.port, from);
    c.socket.write(okRequest);
    try {
      return await c.waitFor(fullAnswer);
    } finally {
      c.socket.destroy();
    }
  }

  it('refuses a connection over the cap with 503 (JSON-RPC -32016, Retry-After) and lets others in', async () => {
    for (let i = 0; i < 3; i++) await hold('127.0.0.2');
    const refused = await another('127.0.0.2');
    expect(refused).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(refused).toMatch(/\r\nRetry-After: 1\r\n/);
    expect(refused).toMatch(/\r\nConnection: close\r\n/);
    const body = JSON.parse(refused.slice(refused.indexOf('\r\n\r\n') + 4)) as {
      error: { code: number; message: string };
    };
    expect(body.error.code).toBe(-32016);
    expect(body.error.message).toMatch(/maxConnectionsPerAddress: 3/);
    expect(await another('127.0.0.3')).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('counts connections, not requests: a closed one frees its place', async () => {
    const first = await hold('127.0.0.4');
    await hold('127.0.0.4');
    await hold('127.0.0.4');
    // Many requests on a held connection are fine.
    first.socket.write(okRequest.repeat(5));
    await first.waitFor(/(?:HTTP\/1\.1 200 [\s\S]*?\{"ok":true\}){6}$/);
    first.socket.destroy();
    let answer = '';
    for (let i = 0; i < 50 && !answer.startsWith('HTTP/1.1 200 '); i++) {
      answer = await another('127.0.0.4');
    }
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('does not cap a trusted proxy (every client comes through it)', async () => {
    for (let i = 0; i < 5; i++) await hold('127.0.0.9');
    expect(await another('127.0.0.9')).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('createHttpApp: a body answered before it arrived', () => {
  let server: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    server = await start({});
  });
  afterAll(() => server.app.close());

  it('reads and drops an oversize body after the 413, so the client reads it and the connection stays usable', async () => {
    const size = 8 * 1024 * 1024;
    for (const declared of [true, false]) {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          const chunk = new Uint8Array(64 * 1024).fill(120);
          for (let sent = 0; sent < size; sent += chunk.length) controller.enqueue(chunk);
          controller.close();
        },
      });
      const res = await fetch(`http://127.0.0.1:${server.port}/echo`, {
        method: 'POST',
        headers: {
          'content-type': 'text/plain',
          ...(declared ? { 'content-length': String(size) } : {}),
        },
        body,
        duplex: 'half',
      });
      expect(res.status).toBe(413);
      expect(res.headers.get('connection')).not.toBe('close');
      await res.arrayBuffer();
    }
    const ok = await fetch(`http://127.0.0.1:${server.port}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(await ok.json()).toEqual({ length: 5 });
  });
});
