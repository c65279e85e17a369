// SCRATCH (not committed): a stand-in startEmbedded until services/cli lands.
import Fastify from 'fastify';
import { createEngine } from '../../packages/server/src/index.js';
import { mcpTransports } from '../../packages/transports/src/index.js';
import { loadPacks } from '@mcp-cluster/components';
export async function startEmbedded(config: { packs: string[]; sessionIdleMs: number }) {
  const packs = await loadPacks(config.packs);
  const engine = createEngine({
    serverInfo: { name: 'stub', version: '0' },
    packs,
    sessionIdleMs: config.sessionIdleMs,
  });
  const app = Fastify({ logger: false });
  await app.register(mcpTransports, { engine });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: `${address}/mcp`,
    engine,
    close: async () => {
      await app.close();
      await engine.close();
    },
  };
}
