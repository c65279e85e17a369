/** Builds the embedded node's engine from the configuration (packs, keys, limits). */
import { processLogger } from '@mcp-cluster/config';
import type { Config, ProcessLogger } from '@mcp-cluster/config';
import { loadPacks } from '@mcp-cluster/components';
import { createEngine, engineLogHooks } from '@mcp-cluster/server';
import type { Engine } from '@mcp-cluster/server';

/**
 * The engine logs to `log`: a handler that throws (anything but a ToolError) at error level
 * with its stack, component, method and request id; each request as one debug line.
 */
export async function createNodeEngine(
  config: Config,
  log: ProcessLogger = processLogger(config.logLevel),
): Promise<Engine> {
  const packs = await loadPacks(config.packs);
  return createEngine({
    serverInfo: { name: config.serverName, version: config.serverVersion },
    packs,
    stateKeys: config.stateKeys,
    sessionIdleMs: config.sessionIdleMs,
    maxSessionsPerPrincipal: config.maxSessionsPerPrincipal,
    maxSessions: config.maxSessions,
    ...engineLogHooks(log),
  });
}
