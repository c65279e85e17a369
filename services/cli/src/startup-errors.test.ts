/**
 * Startup failures of the real `mcp-cluster` process: one line on stderr naming the thing,
 * a distinct exit code per kind, no stack; and the warning of a `serve` without packs.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from './startup-errors.js';
import { closedPort } from '@mcp-cluster/test-support';

const BIN = fileURLToPath(new URL('../bin/mcp-cluster.js', import.meta.url));
const HELLO = fileURLToPath(new URL('../../../examples/hello/pack.ts', import.meta.url));
/** Bound on a failing start: tsx transpiles first, then the failure must come at once. */
const FAIL_WITHIN_MS = 15_000;

/** Runs to its exit (killed after FAIL_WITHIN_MS); resolves with the code and stderr. */
async function failure(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, MCP_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), FAIL_WITHIN_MS);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stderr };
}

/** Asserts exactly one line on stderr, prefixed `mcp-cluster: `, matching `pattern`. */
function expectOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^mcp-cluster: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

let dir: string;

beforeAll(async () => {
  // Outside the repository: no workspace package resolves from here.
  dir = await mkdtemp(join(tmpdir(), 'mcp-cluster-startup-'));
  await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
  await writeFile(join(dir, 'syntax.ts'), 'export default {\n  name: "x",,\n};\n');
  await writeFile(join(dir, 'broken.mjs'), 'export default {\n  name: "x",,\n};\n');
  await writeFile(join(dir, 'no-default.ts'), 'export const tools = [];\n');
  await writeFile(join(dir, 'not-a-pack.ts'), 'export default 42;\n');
  // A folder whose package.json does not make .ts files ES modules.
  await mkdir(join(dir, 'commonjs'));
  await writeFile(join(dir, 'commonjs', 'package.json'), '{"name":"commonjs-folder"}\n');
  await writeFile(join(dir, 'commonjs', 'pack.ts'), 'export default 42;\n');
  await writeFile(
    join(dir, 'missing-package.ts'),
    "import pad from 'left-pad-not-installed';\nexport default pad;\n",
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('startup failures: one line, one exit code per kind', () => {
  it('Redis unreachable: names the URL (password redacted), exit 5', async () => {
    const port = await closedPort();
    const url = `redis://user:s3cret@127.0.0.1:${port}`;
    for (const command of ['gateway', 'worker']) {
      const { code, stderr } = await failure([command, '--port', '0'], {
        REDIS_URL: url,
        NATS_URL: `nats://127.0.0.1:${port}`,
      });
      expect(code).toBe(EXIT.redis);
      expectOneLine(
        stderr,
        new RegExp(
          `^mcp-cluster: Redis at redis://user:\\*\\*\\*@127\\.0\\.0\\.1:${port} unreachable`,
        ),
      );
      expect(stderr).not.toContain('s3cret');
    }
    const apikey = await failure(['apikey', 'list'], { REDIS_URL: url });
    expect(apikey.code).toBe(EXIT.redis);
    expectOneLine(apikey.stderr, /cannot open the api key store: Redis at redis:\/\/user:\*\*\*@/);
  });

  describe('port in use', () => {
    let occupied: Server;
    let port: number;

    beforeAll(async () => {
      occupied = createServer();
      occupied.listen(0, '127.0.0.1');
      await once(occupied, 'listening');
      port = (occupied.address() as AddressInfo).port;
    });

    afterAll(async () => {
      occupied.close();
      await once(occupied, 'close');
    });

    it('names host:port, exit 4', async () => {
      const { code, stderr } = await failure(['serve', '--port', String(port), '--pack', HELLO]);
      expect(code).toBe(EXIT.listen);
      expectOneLine(
        stderr,
        new RegExp(`^mcp-cluster: 127\\.0\\.0\\.1:${port} is already in use \\(EADDRINUSE\\)`),
      );
    });
  });

  it('pack not found: names the path, exit 3', async () => {
    const missing = join(dir, 'nowhere.ts');
    const { code, stderr } = await failure(['serve', '--port', '0', '--pack', missing]);
    expect(code).toBe(EXIT.pack);
    expectOneLine(stderr, /^mcp-cluster: pack module \S*nowhere\.ts not found \(looked at /);
  });

  it('pack syntax error in a .ts pack: file:line:column, exit 3', async () => {
    const file = join(dir, 'syntax.ts');
    const { code, stderr } = await failure(['serve', '--port', '0', '--pack', file]);
    expect(code).toBe(EXIT.pack);
    expectOneLine(stderr, /has a syntax error at \S*syntax\.ts:2:\d+: /);
  });

  it('pack syntax error in a JavaScript pack: file:line, exit 3', async () => {
    const file = join(dir, 'broken.mjs');
    const { code, stderr } = await failure(['serve', '--port', '0', '--pack', file]);
    expect(code).toBe(EXIT.pack);
    expectOneLine(stderr, /has a syntax error at \S*broken\.mjs:2: Unexpected token/);
  });

  it('pack without a default export, or not a pack: exit 3', async () => {
    const noDefault = await failure(['serve', '--port', '0', '--pack', join(dir, 'no-default.ts')]);
    expect(noDefault.code).toBe(EXIT.pack);
    expectOneLine(noDefault.stderr, /no-default\.ts has no default export \(expected definePack/);

    const notPack = await failure(['serve', '--port', '0', '--pack', join(dir, 'not-a-pack.ts')]);
    expect(notPack.code).toBe(EXIT.pack);
    expectOneLine(notPack.stderr, /not-a-pack\.ts: the default export must be a pack/);
  });

  it('pack importing a package its folder lacks: names it and says where to install it, exit 3', async () => {
    const file = join(dir, 'missing-package.ts');
    const { code, stderr } = await failure(['serve', '--port', '0', '--pack', file]);
    expect(code).toBe(EXIT.pack);
    expectOneLine(
      stderr,
      /imports package 'left-pad-not-installed', which is not installed .*install it in the pack's folder .*npm install left-pad-not-installed$/,
    );
    expect(stderr).toContain(dir);
  });

  it('.ts pack in a folder that is not "type": "module": says what to add, exit 3', async () => {
    const file = join(dir, 'commonjs', 'pack.ts');
    const { code, stderr } = await failure(['serve', '--port', '0', '--pack', file]);
    expect(code).toBe(EXIT.pack);
    expectOneLine(stderr, /add a package\.json with "type": "module" to the pack's folder/);
  });

  it('configuration error: one line, exit 2', async () => {
    const { code, stderr } = await failure(['serve'], { MCP_PORT: 'not-a-port' });
    expect(code).toBe(EXIT.usage);
    expectOneLine(stderr, /^mcp-cluster: invalid configuration: .*MCP_PORT/);
  });
});

describe('startup warnings', () => {
  it('serve without packs: one warning line, and it keeps running', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
      env: { ...process.env, MCP_LOG_LEVEL: 'warn', MCP_PACKS: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line: ${stderr}`)), 20_000);
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
          if (stderr.includes('"msg":"listening"')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
      const warnings = stderr
        .split('\n')
        .filter((l) => l.includes('no packs loaded'))
        .map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ level: 40 });
      expect(warnings[0]!.msg).toMatch(/^no packs loaded: this serve offers no tools.*--pack/);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
  });
});
