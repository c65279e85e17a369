/**
 * The attack suite against a real cluster: two `mcp-cluster gateway` processes and one
 * worker (the CLI), the auth configuration in an MCP_CONFIG file, API keys, nonces, lockouts,
 * buckets and sessions in the test Redis under the cluster's own prefix. Every attack that
 * spans entry points goes in at one gateway and comes back at the other.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { RedisApiKeyStore, securityKeys } from '@mcp-cluster/security';
import { startCluster, countKeys } from '@mcp-cluster/testkit';
import type { TestCluster } from '@mcp-cluster/testkit';
import { describeAttackSuite } from './attacks.js';
import { dispatchReplay } from './attacks-replay.js';
import { readAudit, readLines, suiteAuthConfig, suiteKeys, suiteLimitsConfig } from './support.js';

const PACK = path.join(import.meta.dirname, 'fixtures', 'pack.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'mcp-attacks-cluster-'));
const effects = path.join(dir, 'side-effects.log');
let cluster: TestCluster | undefined;
let redis: Redis | undefined;
/** Known to the test, so it can sign dispatches the way the gateways do (attacks-replay.ts). */
const DISPATCH_SECRET = randomBytes(32).toString('base64url');
const DISPATCH_VALIDITY_MS = 20_000;
const DISPATCH_CLOCK_SKEW_MS = 2_000;

afterAll(async () => {
  redis?.disconnect();
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

describeAttackSuite(
  'cluster of two gateways',
  async () => {
    const keys = await suiteKeys();
    const configFile = path.join(dir, 'config.json');
    const audit = path.join(dir, 'audit.jsonl');
    writeFileSync(
      configFile,
      JSON.stringify({ auth: await suiteAuthConfig(keys, { audit }), ...suiteLimitsConfig() }),
    );
    cluster = await startCluster({
      gateways: 2,
      workers: 1,
      packs: [PACK],
      env: {
        MCP_CONFIG: configFile,
        MCP_SECURITY_SIDE_EFFECTS: effects,
        // The launcher opens test clusters; this one must run with the file's settings.
        MCP_AUTH_ALLOW_ANONYMOUS: '',
        MCP_DISPATCH_SECRETS: DISPATCH_SECRET,
        MCP_DISPATCH_SIGNATURE_VALIDITY_MS: String(DISPATCH_VALIDITY_MS),
        MCP_DISPATCH_CLOCK_SKEW_MS: String(DISPATCH_CLOCK_SKEW_MS),
      },
    });
    await cluster.waitForWorkers(1);
    const c = cluster;
    const [g1, g2] = c.gateways;
    const [w1] = c.workers;
    if (g1 === undefined || g2 === undefined) throw new Error('two gateways expected');
    if (w1 === undefined) throw new Error('one worker expected');
    const r = (redis = new Redis(c.redisUrl));
    return {
      urls: [g1.url, g2.url],
      keys,
      sideEffects: () => readLines(effects),
      storedSessions: () => countKeys(r, `${c.prefix}:session:*`),
      apiKeys: new RedisApiKeyStore(r, securityKeys(c.prefix)),
      audit: () => readAudit(audit),
      dispatch: {
        workerUrl: w1.url,
        secret: DISPATCH_SECRET,
        validityMs: DISPATCH_VALIDITY_MS,
        clockSkewMs: DISPATCH_CLOCK_SKEW_MS,
        workerLog: () => w1.stderr,
      },
    };
  },
  { parts: [dispatchReplay] },
);

it('a cluster gateway refuses unauthenticated requests unless explicitly opened', async () => {
  // The suite's gateways run without auth.allowAnonymous: one more, with no auth at all.
  const bare = await startCluster({
    gateways: 1,
    workers: 1,
    packs: [PACK],
    env: { MCP_AUTH_ALLOW_ANONYMOUS: '', MCP_SECURITY_SIDE_EFFECTS: effects },
  });
  try {
    await bare.waitForWorkers(1);
    const url = bare.gateways[0]?.url ?? '';
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32013);
  } finally {
    await bare.close();
  }
});
