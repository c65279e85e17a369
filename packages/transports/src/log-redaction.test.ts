import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHttpApp } from './app.js';

afterEach(() => vi.restoreAllMocks());

describe('the HTTP app logger', () => {
  it('censors credentials in request headers and credential fields', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return true;
    });
    const app = createHttpApp({ logLevel: 'info', bodyLimitBytes: 1024 });
    app.log.error(
      {
        // (fastify's req serializer keeps no headers at all; a handler may log them raw)
        headers: {
          authorization: 'Bearer abc.def',
          cookie: 'sid=s3cr3t',
          'x-api-key': 'mcp_k_123',
          'sec-websocket-protocol': 'mcp, mcp.bearer.eyJ',
          accept: 'application/json',
        },
        options: { password: 'pw1', token: 't3', apiKey: 'k2' },
      },
      'request failed',
    );
    await app.close();
    const text = written.join('');
    expect(text).toContain('request failed');
    expect(text).toContain('application/json');
    for (const secret of ['abc.def', 's3cr3t', 'mcp_k_123', 'mcp.bearer.eyJ', 'pw1', 't3', 'k2']) {
      expect(text, secret).not.toContain(secret);
    }
  });
});
