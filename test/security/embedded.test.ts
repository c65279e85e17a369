/**
 * The attack suite against the embedded node (`mcp-cluster serve` in-process): memory stores,
 * API keys in a file, the fixture pack. Both entry points are the one node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { FileApiKeyStore } from '@mcp-cluster/security';
import { startTestServer } from '@mcp-cluster/testkit';
import type { TestServer } from '@mcp-cluster/testkit';
import { describeAttackSuite } from './attacks.js';
import { readAudit, readLines, suiteAuthConfig, suiteKeys, suiteLimitsConfig } from './support.js';

const PACK = path.join(import.meta.dirname, 'fixtures', 'pack.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'mcp-attacks-'));
const effects = path.join(dir, 'side-effects.log');
let server: TestServer | undefined;

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describeAttackSuite('embedded node', async () => {
  // The fixture tools run in this process: they read the file name at call time.
  process.env.MCP_SECURITY_SIDE_EFFECTS = effects;
  const keys = await suiteKeys();
  const apiKeysFile = path.join(dir, 'api-keys.json');
  const audit = path.join(dir, 'audit.jsonl');
  const auth = await suiteAuthConfig(keys, { apiKeys: apiKeysFile, audit });
  server = await startTestServer({ packs: [PACK], auth: auth, ...suiteLimitsConfig() });
  const s = server;
  return {
    urls: [s.url, s.url],
    keys,
    sideEffects: () => readLines(effects),
    storedSessions: () => Promise.resolve(s.engine.sessions.size),
    apiKeys: new FileApiKeyStore(apiKeysFile),
    audit: () => readAudit(audit),
  };
});
