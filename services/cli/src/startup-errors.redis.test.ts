/**
 * Startup failures and warnings of the cluster processes that need the test Redis (and NATS):
 * NATS unreachable (exit 6), a gateway with no auth configured, a worker with no packs.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteRedisKeys, testServices, closedPort } from '@mcp-cluster/test-support';
import { EXIT } from './startup-errors.js';

const BIN = fileURLToPath(new URL('../bin/mcp-cluster.js', import.meta.url));
/** Bound on a start or a failing start (tsx transpiles the sources on first load). */
const START_TIMEOUT_MS = 20_000;

/** The test Redis and NATS, as the CLI reads them. */
function services(): { REDIS_URL: string; NATS_URL: string } {
  const { redisUrl, natsUrl } = testServices();
  return { REDIS_URL: redisUrl, NATS_URL: natsUrl };
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

function spawnCli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: {
      ...process.env,
      ...services(),
      MCP_LOG_LEVEL: 'warn',
      MCP_CLUSTER_PREFIX: newPrefix(),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return { child, stderr: () => stderr };
}

/** Runs until the `listening` line; returns the warning lines written before it. */
async function warningsUntilListening(args: string[], env: Record<string, string> = {}) {
  const { child, stderr } = spawnCli(args, env);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no listening line: ${stderr()}`)),
        START_TIMEOUT_MS,
      );
      child.stderr.on('data', () => {
        if (!stderr().includes('"msg":"listening"')) return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr()}`)));
    });
    expect(child.exitCode).toBeNull();
    return stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level === 40);
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
}

describe('cluster startup failures and warnings', () => {
  it('NATS unreachable: one line naming the URL, exit 6', async () => {
    const port = await closedPort();
    for (const command of ['gateway', 'worker']) {
      const { child, stderr } = spawnCli([command, '--port', '0'], {
        NATS_URL: `nats://127.0.0.1:${port}`,
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
      const [code] = (await once(child, 'exit')) as [number | null];
      clearTimeout(timer);
      expect(code, stderr()).toBe(EXIT.nats);
      const lines = stderr()
        .split('\n')
        .filter((l) => l !== '');
      expect(lines, stderr()).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(`^mcp-cluster: NATS at nats://127\\.0\\.0\\.1:${port} unreachable`),
      );
    }
  });

  it('gateway with no auth configured: one warning that it refuses every request', async () => {
    const warnings = await warningsUntilListening(['gateway', '--port', '0']);
    const noAuth = warnings.filter((w) => w.msg.startsWith('no auth configured'));
    expect(noAuth).toHaveLength(1);
    expect(noAuth[0]!.msg).toMatch(/refuses every request.*MCP_AUTH_ALLOW_ANONYMOUS=true/);
  });

  it('gateway opened with MCP_AUTH_ALLOW_ANONYMOUS=true: no "no auth" warning', async () => {
    const warnings = await warningsUntilListening(['gateway', '--port', '0'], {
      MCP_AUTH_ALLOW_ANONYMOUS: 'true',
    });
    expect(warnings.filter((w) => w.msg.startsWith('no auth configured'))).toHaveLength(0);
  });

  it('worker without packs: one warning line, and it keeps running', async () => {
    const warnings = await warningsUntilListening(['worker', '--port', '0'], { MCP_PACKS: '' });
    const noPacks = warnings.filter((w) => w.msg.startsWith('no packs loaded'));
    expect(noPacks).toHaveLength(1);
    expect(noPacks[0]!.msg).toMatch(/this worker offers no tools.*--pack/);
  });
});
