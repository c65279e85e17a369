/** The real `mcp-cluster` process: listening line, port 0, config errors, stdio. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './main-args.js';
import { startEmbedded } from './index.js';
import { INITIALIZE } from './test-fixtures/messages.js';

const BIN = fileURLToPath(new URL('../bin/mcp-cluster.js', import.meta.url));

function run(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Resolves with the parsed `listening` line from a child's stderr. */
function listening(child: ReturnType<typeof run>): Promise<{ url: string }> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stderr.on('data', (c: Buffer) => {
      buf += c.toString();
      for (const line of buf.split('\n')) {
        if (line.includes('"msg":"listening"')) resolve(JSON.parse(line) as { url: string });
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${buf}`)));
  });
}

describe('mcp-cluster CLI', () => {
  it('serve --port 0 logs one listening line with the real URL and answers MCP', async () => {
    const child = run(['serve', '--port', '0'], { MCP_LOG_LEVEL: 'warn' });
    try {
      const { url } = await listening(child);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      expect(url).not.toMatch(/:0\//);
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(INITIALIZE),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('mcp-session-id')).toBeTruthy();
    } finally {
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    }
  });

  it('exits 2 with a clear message on bad configuration', async () => {
    const child = run(['serve'], { MCP_PORT: 'not-a-port' });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(err).toMatch(/MCP_PORT/);
  });

  it('exits 3 when a pack cannot be loaded', async () => {
    const child = run(['serve', '--port', '0', '--pack', './no-such-pack.ts']);
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(3);
    expect(err).toMatch(/no-such-pack/);
  });

  it('stdio: protocol on stdout only, clean exit on EOF', async () => {
    const child = run(['stdio'], { MCP_LOG_LEVEL: 'info' });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stdin.end(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })}\n`);
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
  });
});

describe('parseCommandLine', () => {
  it('collects repeated --pack and numeric --port', () => {
    expect(parseCommandLine(['serve', '--pack', 'a', '--pack', 'b', '--port', '0'])).toMatchObject({
      command: 'serve',
      overrides: { packs: ['a', 'b'], port: 0 },
    });
    expect(() => parseCommandLine(['bogus'])).toThrow(/unknown command/);
    expect(() => parseCommandLine(['stdio', '--port', '1'])).toThrow(/serve, gateway and worker/);
  });

  it('parses gateway and worker with their options', () => {
    expect(parseCommandLine(['gateway', '--host', '0.0.0.0', '--port', '8080'])).toEqual({
      command: 'gateway',
      file: undefined,
      overrides: { host: '0.0.0.0', port: 8080, packs: undefined },
    });
    expect(
      parseCommandLine([
        'worker',
        '--pack',
        'builtin:conformance',
        '--pack',
        './p.ts',
        '--config',
        'c.json',
      ]),
    ).toEqual({
      command: 'worker',
      file: 'c.json',
      overrides: { host: undefined, port: undefined, packs: ['builtin:conformance', './p.ts'] },
    });
    expect(() => parseCommandLine(['gateway', '--pack', 'x'])).toThrow(/workers load the packs/);
    expect(() => parseCommandLine(['worker', 'extra'])).toThrow(/unexpected argument extra/);
  });
});

describe('cluster commands without Redis/NATS', () => {
  for (const command of ['gateway', 'worker'] as const) {
    it(`${command} exits 2 naming REDIS_URL and NATS_URL`, async () => {
      const child = run([command, '--port', '0'], { REDIS_URL: '', NATS_URL: '' });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(2);
      expect(err).toMatch(/REDIS_URL/);
      expect(err).toMatch(/NATS_URL/);
    });
  }

  it('worker exits 2 naming the one URL that is missing', async () => {
    const child = run(['worker'], { REDIS_URL: 'redis://127.0.0.1:1', NATS_URL: '' });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(err).toMatch(/NATS_URL/);
    expect(err).not.toMatch(/REDIS_URL/);
  });
});

describe('startEmbedded', () => {
  it('listens on an OS port and disposes', async () => {
    await using node = await startEmbedded();
    expect(node.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const res = await fetch(node.url, { method: 'GET' });
    expect(res.status).toBe(405);
  });
});
