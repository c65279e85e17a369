/**
 * The real `mcp-cluster gateway` / `worker` processes against the test Redis and NATS: the
 * listening line (url, id, role), and a clean exit 0 on SIGTERM (the worker drains).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteRedisKeys, testServices } from '@mcp-cluster/test-support';

const BIN = fileURLToPath(new URL('../bin/mcp-cluster.js', import.meta.url));
/** Bound on a node's start (tsx transpiles the sources on first load). */
const START_TIMEOUT_MS = 20_000;

/** The test Redis and NATS, as the CLI reads them. */
function services(): { REDIS_URL: string; NATS_URL: string } {
  const { redisUrl, natsUrl } = testServices();
  return { REDIS_URL: redisUrl, NATS_URL: natsUrl };
}

interface Listening {
  msg: string;
  url: string;
  id: string;
  role: string;
  pid: number;
  endpoints: Record<string, string>;
}

function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...services(), MCP_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const listening = new Promise<Listening>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no listening line: ${stderr}`)),
      START_TIMEOUT_MS,
    );
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      for (const line of stderr.split('\n')) {
        if (!line.includes('"msg":"listening"')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line) as Listening);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${stderr}`));
    });
  });
  return { child, listening };
}

const prefixes: string[] = [];
const newPrefix = (): string => {
  const prefix = `t${randomUUID().slice(0, 8)}`;
  prefixes.push(prefix);
  return prefix;
};

afterAll(async () => {
  for (const p of prefixes) await deleteRedisKeys(services().REDIS_URL, `${p}:*`);
});

describe('mcp-cluster gateway / worker processes', () => {
  it('worker: listening line with url, id and role; SIGTERM drains and exits 0', async () => {
    const prefix = newPrefix();
    const { child, listening } = start(['worker', '--port', '0', '--pack', 'builtin:conformance'], {
      MCP_CLUSTER_PREFIX: prefix,
      MCP_NODE_ID: 'w-cli-test',
      MCP_DRAIN_MS: '1000',
    });
    try {
      const line = await listening;
      expect(line).toMatchObject({
        msg: 'listening',
        id: 'w-cli-test',
        role: 'worker',
        pid: child.pid,
      });
      expect(line.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(line.url).not.toMatch(/:0$/);
      // The banner's facts: its URLs, its packs, what they hold.
      expect(line.endpoints).toEqual({
        dispatch: `${line.url}/dispatch`,
        health: `${line.url}/healthz`,
        ready: `${line.url}/readyz`,
        metrics: `${line.url}/metrics`,
      });
      expect(line).toMatchObject({ packs: ['builtin:conformance'] });
      expect((line as unknown as { tools: number }).tools).toBeGreaterThan(0);
      const health = await fetch(line.endpoints.health!);
      expect(health.status).toBeLessThan(500);
    } finally {
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    }
  });

  it('gateway: listening line with the /mcp url, id and role; SIGTERM exits 0', async () => {
    const prefix = newPrefix();
    const { child, listening } = start(['gateway', '--port', '0'], {
      MCP_CLUSTER_PREFIX: prefix,
      MCP_NODE_ID: 'g-cli-test',
    });
    try {
      const line = await listening;
      expect(line).toMatchObject({ msg: 'listening', id: 'g-cli-test', role: 'gateway' });
      expect(line.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const origin = new URL(line.url).origin;
      expect(line.endpoints).toMatchObject({
        mcp: line.url,
        ws: `${origin.replace('http:', 'ws:')}/ws`,
        sse: `${origin}/sse`,
        health: `${origin}/healthz`,
        ready: `${origin}/readyz`,
        metrics: `${origin}/metrics`,
      });
      expect((await fetch(line.endpoints.health!)).status).toBe(200);
      expect([200, 503]).toContain((await fetch(line.endpoints.ready!)).status);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null && child.signalCode === null) {
        const [code] = (await once(child, 'exit')) as [number | null];
        expect(code).toBe(0);
      }
    }
  });
});
