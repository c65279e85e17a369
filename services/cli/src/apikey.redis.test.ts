/** The real `mcp-cluster apikey` against the test Redis: REDIS_URL selects the shared store. */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { deleteRedisKeys } from '@mcp-cluster/test-support';
import { apiKeyProvider, openApiKeyStore } from '@mcp-cluster/security';

const BIN = fileURLToPath(new URL('../bin/mcp-cluster.js', import.meta.url));
/** Each spawn transpiles the CLI through tsx (seconds apiece on a loaded machine). */
const SPAWN_TEST_TIMEOUT_MS = 90_000;

function redisUrl(): string {
  const url = process.env.MCP_TEST_REDIS_URL;
  // Never skip: a missing Redis must fail the run loudly.
  if (url === undefined || url === '') throw new Error('MCP_TEST_REDIS_URL is not set');
  return url;
}

async function cli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, MCP_API_KEYS_FILE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('mcp-cluster apikey (real process, Redis)', () => {
  const prefix = `t${randomUUID().slice(0, 8)}`;
  afterEach(async () => {
    await deleteRedisKeys(redisUrl(), `${prefix}:*`);
  });

  it(
    'with REDIS_URL the keys live in Redis under MCP_CLUSTER_PREFIX, where gateways read them',
    async () => {
      const env = { REDIS_URL: redisUrl(), MCP_CLUSTER_PREFIX: prefix };
      const created = await cli(
        ['apikey', 'create', '--principal', 'svc', '--kind', 'service'],
        env,
      );
      expect(created.code, created.stderr).toBe(0);
      expect(created.stderr).toContain(`in redis ${prefix}`);
      const key = /^key: (\S+)$/m.exec(created.stdout)?.[1] ?? '';
      const id = /^id: (\S+)$/m.exec(created.stdout)?.[1] ?? '';

      await using gateway = await openApiKeyStore({ redisUrl: redisUrl(), prefix });
      const provider = apiKeyProvider({ store: gateway.store, cacheMs: 0 });
      const req = { headers: { 'x-api-key': key } };
      expect(await provider.authenticate(req)).toMatchObject({
        type: 'authenticated',
        principal: { id: 'apikey:svc', kind: 'service', claims: { apiKeyId: id } },
      });

      expect(await cli(['apikey', 'revoke', id], env)).toMatchObject({
        code: 0,
        stdout: `revoked ${id}\n`,
      });
      expect((await provider.authenticate(req)).type).toBe('rejected');
    },
    SPAWN_TEST_TIMEOUT_MS,
  );
});
