/**
 * What an operator sees on stderr: a throwing tool with its stack, tool name and request id;
 * one debug line per request; no credentials; and stdio answering the requests it already
 * read when stdin closes.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REDACTED, formatPretty, logStream, processLogger } from '@mcp-cluster/config';
import { INITIALIZE } from './test-fixtures/messages.js';

const BIN = fileURLToPath(new URL('../bin/mcp-cluster.js', import.meta.url));
const HELLO = fileURLToPath(new URL('../../../examples/hello/pack.ts', import.meta.url));
const THROWING = fileURLToPath(new URL('./test-fixtures/throwing-pack.ts', import.meta.url));

/** Runs `mcp-cluster stdio`, writes `messages`, ends stdin; resolves once the process exits. */
async function stdioSession(packs: string[], messages: object[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'stdio', ...packs.flatMap((p) => ['--pack', p])], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const stdout: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => stdout.push(line));
  // Wait until the engine is up (the 'stdio ready' line, at info), so stdin ends mid-request.
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', () => {
      if (stderr.includes('stdio ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  child.stdin.end(messages.map((m) => `${JSON.stringify(m)}\n`).join(''));
  const [code] = (await once(child, 'exit')) as [number | null];
  const responses = stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
  const logs = stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, responses, logs, stderr };
}

describe('operator logs', () => {
  it('a tool that throws is logged with its stack, tool name and request id; debug logs each request', async () => {
    const { code, responses, logs, stderr } = await stdioSession(
      [THROWING],
      [
        INITIALIZE,
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        {
          jsonrpc: '2.0',
          id: 'call-7',
          method: 'tools/call',
          params: { name: 'explode', arguments: { apiKey: 'sk-live-123' } },
        },
        { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'refuse', arguments: {} } },
      ],
      { MCP_LOG_LEVEL: 'debug' },
    );
    expect(code).toBe(0);
    // The client learns nothing but "Internal error".
    expect(responses.find((r) => r.id === 'call-7')).toMatchObject({
      error: { code: -32603, message: 'Internal error' },
    });
    const failures = logs.filter((l) => l.msg === 'handler failed');
    expect(failures).toHaveLength(1);
    const failure = failures[0]!;
    expect(failure).toMatchObject({
      level: 50,
      method: 'tools/call',
      tool: 'explode',
      id: 'call-7',
      err: { name: 'Error', message: 'inventory file is missing' },
    });
    const stack = (failure.err as { stack: string }).stack;
    expect(stack).toContain('readInventory');
    expect(stack).toContain('throwing-pack.ts');

    // One debug line per request; the ToolError is an outcome, not a failure.
    const requests = logs.filter((l) => l.msg === 'request');
    expect(requests.map((l) => [l.method, l.id, l.outcome])).toEqual([
      ['initialize', 1, 'ok'],
      ['tools/call', 'call-7', -32603],
      ['tools/call', 8, 'tool_error'],
    ]);
    for (const line of requests) {
      expect(line).toMatchObject({ level: 20, era: 'legacy', principal: 'anonymous' });
      expect(typeof line.durationMs).toBe('number');
    }
    // Arguments (and the credential in them) never reach the log.
    expect(stderr).not.toContain('sk-live-123');
  });

  it('stdio answers the requests it already read when stdin closes, then exits', async () => {
    const started = Date.now();
    const { code, responses } = await stdioSession(
      [HELLO],
      [
        INITIALIZE,
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        {
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'countdown', arguments: { from: 3 } },
        },
      ],
      { MCP_LOG_LEVEL: 'info' },
    );
    expect(code).toBe(0);
    expect(responses.find((r) => r.id === 2)).toMatchObject({
      result: { content: [{ type: 'text', text: 'Liftoff!' }] },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});

describe('process logger', () => {
  it('never writes credentials: headers, tokens, passwords, bearer subprotocols, URL passwords', () => {
    const out: string[] = [];
    const log = processLogger('debug', (l) => out.push(l), { pretty: false });
    log.error('upstream failed', {
      req: {
        headers: {
          authorization: 'Bearer abc.def.ghi',
          cookie: 'sid=s3cr3t',
          'x-api-key': 'mcp_k_123',
          'sec-websocket-protocol': 'mcp, mcp.bearer.eyJhbGciOi',
          accept: 'application/json',
        },
      },
      options: { password: 'pw1', apiKey: 'k2', token: 't3', clientSecret: 'c4' },
      err: {
        message:
          'connect redis://:hunter2@cache:6379 failed; sent mcp.bearer.tok9 and Bearer zz.yy',
      },
    });
    const text = out.join('');
    for (const secret of [
      'abc.def.ghi',
      's3cr3t',
      'mcp_k_123',
      'eyJhbGciOi',
      'pw1',
      'k2',
      't3',
      'c4',
      'hunter2',
      'tok9',
      'zz.yy',
    ]) {
      expect(text, secret).not.toContain(secret);
    }
    const line = JSON.parse(text) as { req: { headers: Record<string, string> } };
    expect(line.req.headers.authorization).toBe(REDACTED);
    expect(line.req.headers.accept).toBe('application/json');
    expect(text).toContain('redis://:[redacted]@cache:6379');
  });

  it('JSON by default; readable lines with the stack indented when pretty', () => {
    const json: string[] = [];
    processLogger('info', (l) => json.push(l), { pretty: false }).debug('hidden');
    processLogger('info', (l) => json.push(l), { pretty: false }).info('shown', { a: 1 });
    expect(json).toHaveLength(1);
    expect(JSON.parse(json[0]!)).toMatchObject({ level: 30, msg: 'shown', a: 1 });

    const err = new Error('boom');
    const line = formatPretty('error', Date.UTC(2026, 0, 1, 12, 0, 0), 'handler failed', {
      tool: 'explode',
      id: 7,
      err: { message: err.message, stack: err.stack },
    });
    const [first, second] = line.split('\n');
    expect(first).toBe('12:00:00.000 ERROR handler failed tool=explode id=7');
    expect(second).toBe('    Error: boom');
    // The HTTP app's pino lines: readable on a terminal, passed through otherwise.
    const through: string[] = [];
    logStream(false, (l) => through.push(l)).write('{"level":30,"msg":"x"}\n');
    expect(through).toEqual(['{"level":30,"msg":"x"}\n']);
    const readable: string[] = [];
    logStream(true, (l) => readable.push(l)).write(
      `${JSON.stringify({ level: 50, time: Date.UTC(2026, 0, 1), pid: 1, hostname: 'h', msg: 'bad', reqId: 'r1', err: { type: 'Error', message: 'x', stack: 'Error: x\n    at f' } })}\n`,
    );
    expect(readable).toEqual(['00:00:00.000 ERROR bad reqId=r1\n    Error: x\n        at f\n']);
    const pretty: string[] = [];
    processLogger('info', (l) => pretty.push(l), { pretty: true }).warn('careful', { port: 1 });
    expect(pretty[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}careful port=1\n$/);
  });
});
