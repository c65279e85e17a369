import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from './app.js';

/** Writes `head` on a fresh connection and returns everything the server sent until close. */
function exchange(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
    socket.write(head);
  });
}

describe('createHttpApp refuses what the HTTP parser rejects', () => {
  let app: FastifyInstance;
  let port: number;
  let handled = 0;

  beforeAll(async () => {
    app = createHttpApp({ logLevel: 'silent', bodyLimitBytes: 1024 });
    app.all('/mcp', () => {
      handled += 1;
      return 'ran';
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('answers an oversize head with 431 the client can read, never a reset', async () => {
    // A client still writing when the server refuses must get the answer, not ECONNRESET;
    // repeated because the reset was a race.
    for (let i = 0; i < 20; i += 1) {
      const answer = await exchange(
        port,
        `GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(256 * 1024)}\r\n\r\n`,
      );
      expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      expect(answer).toContain('Connection: close');
    }
    expect(handled).toBe(0);
  });

  it('answers a bare CR inside a header with 400 and runs no handler', async () => {
    const answer = await exchange(
      port,
      'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: 1\rX-Injected: 1\r\nContent-Length: 0\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer.endsWith('{"error":"Bad Request","statusCode":400}')).toBe(true);
    expect(handled).toBe(0);
  });

  it('still serves a well-formed request', async () => {
    const answer = await exchange(
      port,
      'GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer.endsWith('ran')).toBe(true);
    expect(handled).toBe(1);
  });
});
