/**
 * The README's "Add a tool", verbatim, from a temporary folder outside the repository:
 * `mcp-cluster init` (which builds and packs the packages) → `npm install && npm test` in the
 * new project → `npm start` serves the tool, and the MCP SDK client calls it over HTTP.
 *
 * The commands run with the environment of a user's shell: no pnpm/npm script variables and
 * no repository bin folders on PATH, so the project resolves everything from its own
 * node_modules. Needs the npm registry (the project installs the SDK, TypeScript and tsx).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { EXAMPLE_PACK } from '@mcp-cluster/cli/test-support/init';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The folder name the README uses. */
const README_DIR = '../my-tools';
/** Bound on install + test of the new project (a cold npm cache downloads ~200 packages). */
const INSTALL_TIMEOUT_MS = 300_000;
/** Bound on the server's start. */
const START_TIMEOUT_MS = 60_000;

/** The fenced blocks of the README section headed `heading`, by language. */
function readmeBlocks(heading: string): { sh: string; ts: string } {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README has a "${heading}" section`).toBeGreaterThan(0);
  const next = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, next === -1 ? undefined : next);
  const block = (lang: string): string => {
    const m = new RegExp('```' + lang + '\\n([^]*?)```').exec(section);
    expect(m, `"${heading}" has a ${lang} block`).not.toBeNull();
    return m![1]!;
  };
  return { sh: block('sh'), ts: block('ts') };
}

/** The environment of a user's shell: this test run's package-manager traces removed. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|INIT_CWD$|VITEST|NODE_OPTIONS$)/i.test(key)) continue;
    env[key] = value;
  }
  env['PATH'] = (process.env['PATH'] ?? '')
    .split(path.delimiter)
    .filter((dir) => !dir.startsWith(ROOT) && !dir.includes(`${path.sep}node_modules${path.sep}`))
    .join(path.delimiter);
  return env;
}

interface Ran {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a shell script to its end (bounded); stdout and stderr together. */
function sh(script: string, cwd: string, timeoutMs: number): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-e', '-c', script], { cwd, env: userEnv() });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The URL a starting server announces on stderr (its JSON `listening` line). */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`no listening line within ${START_TIMEOUT_MS} ms:\n${seen}`)),
      START_TIMEOUT_MS,
    );
    const onData = (d: Buffer): void => {
      seen += d.toString();
      for (const line of seen.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'listening' && entry.url !== undefined) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening:\n${seen}`));
    });
  });
}

const temp = mkdtempSync(path.join(tmpdir(), 'mcp-cluster-pack-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe("README 'Add a tool' from a folder outside the repository", () => {
  const { sh: commands, ts } = readmeBlocks('Add a tool');
  const project = path.join(temp, 'my-tools');
  const lines = commands
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '');

  it('shows the pack init writes', () => {
    expect(ts).toBe(EXAMPLE_PACK);
  });

  it(
    'init, npm install && npm test, npm start: the SDK client calls the tool',
    async () => {
      expect(lines.at(-1)).toBe('npm start');
      expect(lines[0]).toMatch(/ init \.\.\/my-tools$/);
      // The README's commands up to `npm start`, with its folder in the temporary one.
      const script = lines
        .slice(0, -1)
        .map((line) => line.replaceAll(README_DIR, JSON.stringify(project)))
        .join('\n');
      const setup = await sh(script, ROOT, INSTALL_TIMEOUT_MS);
      expect(setup.code, setup.output).toBe(0);
      expect(setup.output).toMatch(/^# pass 1$/m);
      expect(setup.output).toMatch(/^# fail 0$/m);
      expect(readFileSync(path.join(project, 'src', 'pack.ts'), 'utf8')).toBe(ts);
      // Nothing in the project points back into the repository.
      expect(readFileSync(path.join(project, 'package.json'), 'utf8')).not.toContain(ROOT);

      // `npm start` on a free port; its own process group, so the server goes with npm.
      const server = spawn('npm', ['start', '--', '--port', '0'], {
        cwd: project,
        env: userEnv(),
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise((resolve) => server.on('exit', resolve));
      try {
        const url = await listeningUrl(server);
        const client = new Client({ name: 'readme-test', version: '1.0.0' });
        await client.connect(new StreamableHTTPClientTransport(new URL(url)));
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toEqual(['greet']);
        expect(await client.callTool({ name: 'greet', arguments: { name: 'Ada' } })).toMatchObject({
          content: [{ type: 'text', text: 'Hello, Ada!' }],
        });
        await client.close();
      } finally {
        process.kill(-server.pid!, 'SIGTERM');
        await exited;
      }
    },
    INSTALL_TIMEOUT_MS + START_TIMEOUT_MS + 30_000,
  );
});
