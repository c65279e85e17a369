/** Builds the embedded node's engine from the configuration (packs, keys, limits). */
import type { Config } from '@mcp-cluster/config';
import { loadPacks } from '@mcp-cluster/components';
import { createEngine } from '@mcp-cluster/server';
import type { Engine } from '@mcp-cluster/server';

export async function createNodeEngine(config: Config): Promise<Engine> {
  const packs = await loadPacks(config.packs);
  return createEngine({
    serverInfo: { name: config.serverName, version: config.serverVersion },
    packs,
    stateKeys: config.stateKeys,
    sessionIdleMs: config.sessionIdleMs,
    maxSessionsPerPrincipal: config.maxSessionsPerPrincipal,
    maxSessions: config.maxSessions,
  });
}
