/**
 * The fastify application every HTTP-serving process starts from (the embedded node, a
 * cluster gateway): the server settings long-lived MCP streams need.
 */
import type { ServerOptions } from 'node:https';
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance } from 'fastify';

/** Seconds an idle keep-alive connection stays open (longer than typical proxies' 60 s). */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;
/** Time a client gets to send a whole request (headers + body). */
export const REQUEST_TIMEOUT_MS = 30_000;

export interface HttpAppOptions {
  readonly logLevel: string;
  readonly bodyLimitBytes: number;
  /** Serve HTTPS with these options (certificate, key, client-certificate CA). */
  readonly https?: ServerOptions | undefined;
  /** Largest request head (request line + headers) accepted; larger gets 431. */
  readonly maxHeaderBytes?: number | undefined;
}

/** Node's default (16 KiB) made explicit: MCP requests need a few hundred bytes of headers. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const common = {
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
  } as const;
  const maxHeaderSize = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  // Two calls: fastify types an HTTPS instance apart, and callers want one FastifyInstance.
  if (options.https !== undefined) {
    const https = { ...options.https, maxHeaderSize };
    return Fastify({ ...common, https });
  }
  return Fastify({ ...common, http: { maxHeaderSize } });
}
