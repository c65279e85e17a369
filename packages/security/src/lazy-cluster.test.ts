/**
 * An embedded node (no Redis) must not load the Redis or NATS clients: importing this
 * package and creating its security must leave ioredis and @nats-io unloaded. Checked in a
 * fresh Node process whose module resolve hook prints every URL it resolves; a run with a
 * Redis URL shows the same hook does see ioredis when it is loaded.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const indexUrl = pathToFileURL(join(packageDir, 'src/index.ts')).href;
const dir = mkdtempSync(join(tmpdir(), 'mcp-security-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs in the resolve hooks' thread: one `resolved <url>` line per resolution, unbuffered. */
const HOOKS = `import { writeSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  writeSync(1, 'resolved ' + result.url + '\\n');
  return result;
}`;

/** Every provider an embedded node can have without Redis: stores, API key file, tokens. */
const AUTH = {
  staticTokens: [{ token: 'static-token-0123456789', principal: { id: 'ops' } }],
  apiKeys: { file: join(dir, 'api-keys.json') },
  tokenService: {
    issuer: 'https://mcp.example.test',
    audience: 'https://mcp.example.test/mcp',
    signingKey: { alg: 'HS256', secret: 's'.repeat(32), kid: 'k1' },
  },
  rateLimit: {
    perPrincipal: { capacity: 10, refillPerSecond: 1 },
    perTool: { capacity: 5, refillPerSecond: 1 },
  },
  lockout: {},
};

/** The URLs a fresh process resolves while it creates security with `redisUrl`. */
async function resolvedWhileCreating(redisUrl: string | undefined): Promise<string[]> {
  const script = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}));
    const { AuthConfigSchema, createSecurity } = await import(${JSON.stringify(indexUrl)});
    const auth = AuthConfigSchema.parse(${JSON.stringify(AUTH)});
    const context = { mode: 'embedded', prefix: 'lazy', path: '/mcp', writeAudit: () => {} };
    try {
      const security = await createSecurity(auth, { ...context, redisUrl: ${JSON.stringify(redisUrl)} });
      await security.close();
      console.log('outcome created');
    } catch {
      console.log('outcome refused');
    }`;
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: packageDir, timeout: 20_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout.split('\n');
}

const clients = (lines: readonly string[]): string[] =>
  lines.filter((line) => /\/ioredis\/|\/@nats-io\//.test(line));

describe('the embedded node loads no cluster clients', () => {
  it('creates security without Redis and never resolves ioredis or @nats-io', async () => {
    const lines = await resolvedWhileCreating(undefined);
    expect(lines).toContain('outcome created');
    // The hook saw the package itself, so an empty list below means something.
    expect(lines.some((l) => l.startsWith('resolved ') && l.endsWith('/src/build.ts'))).toBe(true);
    expect(clients(lines)).toEqual([]);
  });

  it('loads ioredis once a Redis URL is configured (the hook sees it)', async () => {
    // Port 1: nothing listens, so the connection is refused after the client is loaded.
    const lines = await resolvedWhileCreating('redis://127.0.0.1:1');
    expect(lines).toContain('outcome refused');
    expect(clients(lines).some((l) => l.includes('/ioredis/'))).toBe(true);
  });
});
