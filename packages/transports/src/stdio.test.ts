import { verifies } from '@mcp-cluster/test-support';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '@mcp-cluster/server';
import { StdioFramer, serveStdio } from './stdio.js';
import { LEGACY_INIT, testEngine } from './testing.js';

let engine: Engine;
afterEach(() => engine.close());

function harness(drainMs?: number) {
  engine = testEngine();
  const input = new PassThrough();
  const output = new PassThrough();
  const lines: string[] = [];
  let buf = '';
  const waiters: (() => void)[] = [];
  output.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  const transport = serveStdio(engine, {
    input,
    output,
    maxMessageBytes: 1024,
    ...(drainMs === undefined ? {} : { drainMs }),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed wire JSON, asserted by shape
  async function read(n: number): Promise<any[]> {
    while (lines.length < n) await new Promise<void>((r) => waiters.push(r));
    return lines.splice(0, n).map((l) => JSON.parse(l));
  }
  return { input, transport, read, lines };
}

const framed = (msg: unknown): string => {
  const body = JSON.stringify(msg);
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
};

describe('stdio', () => {
  it(verifies('R-STDIO-NDJSON', 'speaks newline-delimited JSON'), async () => {
    const { input, read } = harness();
    input.write(`${JSON.stringify(LEGACY_INIT)}\n`);
    const [init] = await read(1);
    expect(init).toMatchObject({ id: 1, result: { protocolVersion: '2025-11-25' } });
    input.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    input.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'é\\nx' } } })}\n`,
    );
    const [res] = await read(1);
    expect(res.result.content[0].text).toBe('é\\nx');
  });

  it('accepts Content-Length framed input (split across chunks), answering in NDJSON', async () => {
    const { input, read } = harness();
    const msg = framed({
      ...LEGACY_INIT,
      params: { ...LEGACY_INIT.params, clientInfo: { name: 'ünï', version: '1' } },
    });
    input.write(msg.slice(0, 10));
    input.write(msg.slice(10, 40));
    input.write(msg.slice(40) + framed({ jsonrpc: '2.0', id: 2, method: 'ping' }));
    const [init, ping] = await read(2);
    expect(init.id).toBe(1);
    expect(ping).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
  });

  it('answers parse errors and oversize lines, then keeps going', async () => {
    const { input, read } = harness();
    input.write('{oops\n');
    input.write(`${'x'.repeat(2000)}\n`);
    input.write(`${JSON.stringify(LEGACY_INIT)}\n`);
    const [parse, big, init] = await read(3);
    expect(parse).toMatchObject({ id: null, error: { code: -32700 } });
    expect(big).toMatchObject({ id: null, error: { code: -32015 } });
    expect(init.id).toBe(1);
  });

  it('ends the session cleanly on EOF', async () => {
    const { input, transport, read } = harness();
    input.write(`${JSON.stringify(LEGACY_INIT)}\n`);
    await read(1);
    expect(engine.sessions.size).toBe(1);
    input.end();
    await transport.closed;
    expect(engine.sessions.size).toBe(0);
  });

  it('on EOF, answers the requests already read before closing', async () => {
    const { input, transport, read, lines } = harness();
    input.write(`${JSON.stringify(LEGACY_INIT)}\n`);
    await read(1);
    input.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    input.end(
      `${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'reconnect' } })}\n`,
    );
    await transport.closed;
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'resumed' }] } },
    ]);
    expect(engine.sessions.size).toBe(0);
  });

  it('on EOF, gives in-flight requests drainMs at most; close() does not wait', async () => {
    const { input, transport, read } = harness(50);
    input.write(`${JSON.stringify(LEGACY_INIT)}\n`);
    await read(1);
    input.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    input.end(
      `${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'wait' } })}\n`,
    );
    const started = Date.now();
    await transport.closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    expect(engine.sessions.size).toBe(0);

    const second = harness();
    second.input.write(`${JSON.stringify(LEGACY_INIT)}\n`);
    await second.read(1);
    second.transport.close();
    await second.transport.closed;
  });
});

describe('StdioFramer', () => {
  it('skips blank lines and CRLF line endings', () => {
    const got: string[] = [];
    const f = new StdioFramer(
      (t) => got.push(t),
      () => got.push('!'),
      100,
    );
    f.push(Buffer.from('\r\n{"a":1}\r\n\n{"b":2}\n'));
    expect(got.map((t) => t.trim())).toEqual(['{"a":1}', '{"b":2}']);
  });
});
