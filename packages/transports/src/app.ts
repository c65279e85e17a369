/**
 * The fastify application every HTTP-serving process starts from (the embedded node, a
 * cluster gateway): the server settings long-lived MCP streams need.
 */
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance } from 'fastify';

/** Seconds an idle keep-alive connection stays open (longer than typical proxies' 60 s). */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;
/** Time a client gets to send a whole request (headers + body). */
export const REQUEST_TIMEOUT_MS = 30_000;

export interface HttpAppOptions {
  readonly logLevel: string;
  readonly bodyLimitBytes: number;
}

export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  return Fastify({
    logger: { level: options.logLevel, stream: process.stderr },
    // Per-request log lines cost more than a trivial call; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    // SSE and WebSocket streams stay open with no traffic between keep-alive comments.
    connectionTimeout: 0,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Long-lived streams must not hold a shutdown hostage.
    forceCloseConnections: true,
    return503OnClosing: true,
  });
}
