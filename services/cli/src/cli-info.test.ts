/**
 * The real `mcp-cluster` process explains itself: help and version on stdout, usage mistakes
 * on stderr, the startup banner and shutdown lines, and a stdout that carries only protocol
 * under `stdio` (the README's Claude Desktop invocation).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { envVarsOf, version } from './help.js';
import { INITIALIZE } from './test-fixtures/messages.js';

const BIN = fileURLToPath(new URL('../bin/mcp-cluster.js', import.meta.url));
const HELLO = fileURLToPath(new URL('../../../examples/hello/pack.ts', import.meta.url));
const NOISY = fileURLToPath(new URL('./test-fixtures/noisy-pack.ts', import.meta.url));

function run(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs to the end; resolves with the exit code and both outputs. */
async function complete(args: string[]) {
  const child = run(args);
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('mcp-cluster help and version', () => {
  for (const args of [[], ['--help'], ['-h']]) {
    it(`\`mcp-cluster ${args.join(' ')}\` prints the usage on stdout and exits 0`, async () => {
      const { code, stdout, stderr } = await complete(args);
      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect(stdout).toMatch(/^Usage: mcp-cluster <command> \[options\]$/m);
      for (const command of ['serve', 'stdio', 'gateway', 'worker', 'apikey']) {
        expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
      }
    });
  }

  it('`<command> --help` lists its flags and every variable it reads, on stdout', async () => {
    const { code, stdout, stderr } = await complete(['worker', '--help']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    for (const flag of ['--host', '--port', '--pack', '--config']) expect(stdout).toContain(flag);
    for (const name of envVarsOf('worker')) expect(stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(stdout).toMatch(/^ {2}MCP_DRAIN_MS .*default: 8000$/m);
  });

  it('--version prints the package version', async () => {
    const { code, stdout } = await complete(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${version()}\n`);
  });

  it('an unknown command is one line and a hint on stderr, exit 2', async () => {
    const { code, stdout, stderr } = await complete(['bogus']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      "mcp-cluster: unknown command bogus\nRun 'mcp-cluster --help' for usage.\n",
    );
  });

  it("a bad flag points at the command's help", async () => {
    const { code, stderr } = await complete(['stdio', '--port', '1']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([
      'mcp-cluster: --host and --port apply to serve, gateway and worker only',
      "Run 'mcp-cluster stdio --help' for usage.",
    ]);
  });
});

describe('serve banner', () => {
  it('the listening line names every URL, the packs and the component counts; a signal logs the shutdown', async () => {
    const child = run(['serve', '--port', '0', '--pack', HELLO], { MCP_LOG_LEVEL: 'info' });
    const lines: Record<string, unknown>[] = [];
    const rl = createInterface({ input: child.stderr });
    const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
      rl.on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry.msg === 'listening') resolve(entry);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const entry = await listening;
    const url = entry.url as string;
    const origin = new URL(url).origin;
    expect(entry).toMatchObject({
      version: version(),
      endpoints: {
        mcp: url,
        ws: `${origin.replace('http:', 'ws:')}/ws`,
        sse: `${origin}/sse`,
      },
      packs: [HELLO],
      tools: 3,
      resources: 1,
      resourceTemplates: 2,
      prompts: 1,
    });
    // The URLs it names answer.
    const sse = await fetch((entry.endpoints as { sse: string }).sse, {
      headers: { accept: 'text/event-stream' },
    });
    expect(sse.status).toBe(200);
    await sse.body?.cancel();
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
    expect(lines.find((l) => l.msg === 'shutting down')).toMatchObject({ signal: 'SIGINT' });
  });
});

describe('stdio', () => {
  it('writes nothing but JSON-RPC messages to stdout, even when a pack uses console.log', async () => {
    const child = run(['stdio', '--pack', HELLO, '--pack', NOISY], { MCP_LOG_LEVEL: 'debug' });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const lines: string[] = [];
    const rl = createInterface({ input: child.stdout });
    const answered = new Promise<void>((resolve) => {
      rl.on('line', (line) => {
        lines.push(line);
        if (line.includes('"id":3')) resolve();
      });
    });
    const send = (m: object): boolean => child.stdin.write(`${JSON.stringify(m)}\n`);
    send(INITIALIZE);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    send({
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'shout', arguments: { text: 'hi' } },
    });
    await answered;
    child.stdin.end();
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    const messages = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const m of messages) {
      expect(m.jsonrpc).toBe('2.0');
      expect('result' in m || 'error' in m || 'method' in m, JSON.stringify(m)).toBe(true);
    }
    const byId = new Map(messages.map((m) => [m.id, m]));
    expect(byId.get(1)).toMatchObject({ result: { protocolVersion: '2025-06-18' } });
    const tools = (byId.get(2) as { result: { tools: { name: string }[] } }).result.tools;
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['greet', 'shout']));
    expect(byId.get(3)).toMatchObject({ result: { content: [{ type: 'text', text: 'HI' }] } });
    // The pack's console output went to stderr.
    expect(stderr).toContain('noisy pack: loading');
    expect(stderr).toContain('noisy pack: shouting hi');
  });
});
