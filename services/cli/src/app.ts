/**
 * The fastify application of an embedded node: the only place transports, engine and
 * configuration are wired together (HOUSE_STYLE 9).
 */
import type { Config } from '@mcp-cluster/config';
import type { Engine } from '@mcp-cluster/server';
import { createHttpApp, mcpTransports } from '@mcp-cluster/transports';
import type { FastifyInstance } from '@mcp-cluster/transports';

export async function buildApp(config: Config, engine: Engine): Promise<FastifyInstance> {
  const app = createHttpApp(config);
  await app.register(mcpTransports, { engine, settings: config });
  return app;
}
