/**
 * The fastify application of an embedded node: the only place transports, engine and
 * configuration are wired together (HOUSE_STYLE 9).
 */
import type { Config } from '@mcp-cluster/config';
import type { Engine } from '@mcp-cluster/server';
import { Fastify, LogController, mcpTransports } from '@mcp-cluster/transports';
import type { FastifyInstance } from '@mcp-cluster/transports';

/** Seconds an idle keep-alive connection stays open (longer than typical proxies' 60 s). */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;
/** Time a client gets to send a whole request (headers + body). */
export const REQUEST_TIMEOUT_MS = 30_000;

export async function buildApp(config: Config, engine: Engine): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: config.logLevel, stream: process.stderr },
    // Per-request log lines cost more than a trivial call; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    // SSE and WebSocket streams stay open with no traffic between keep-alive comments.
    connectionTimeout: 0,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Long-lived streams must not hold a shutdown hostage.
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  await app.register(mcpTransports, { engine, settings: config });
  return app;
}
