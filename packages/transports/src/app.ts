/**
 * The fastify application every HTTP-serving process starts from (the embedded node, a
 * cluster gateway): the server settings long-lived MCP streams need.
 */
import { STATUS_CODES } from 'node:http';
import type { ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
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
  /**
   * Proxies (addresses / CIDR ranges) trusted to name the client in `X-Forwarded-For`;
   * `req.ip` is then the client. Empty or absent: `req.ip` is the socket's peer.
   */
  readonly trustProxy?: readonly string[] | undefined;
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
    clientErrorHandler: answerClientError,
    trustProxy:
      options.trustProxy === undefined || options.trustProxy.length === 0
        ? false
        : [...options.trustProxy],
  } as const;
  const maxHeaderSize = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  // Two calls: fastify types an HTTPS instance apart, and callers want one FastifyInstance.
  if (options.https !== undefined) {
    const https = { ...options.https, maxHeaderSize };
    return Fastify({ ...common, https });
  }
  return Fastify({ ...common, http: { maxHeaderSize } });
}

/** How long a refused connection may keep sending before it is cut. */
export const CLIENT_ERROR_LINGER_MS = 2_000;
/** How much of a refused request is read and thrown away before the connection is cut. */
export const CLIENT_ERROR_DRAIN_BYTES = 1024 * 1024;

function clientErrorStatus(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/**
 * Answers a request the HTTP parser refused (malformed head, CR or LF where they may not
 * be, an oversize head) with its status, then closes gracefully: what the client is still
 * sending is read and dropped (bounded in time and bytes) so the kernel does not reset the
 * connection and throw the answer away before the client reads it. fastify's default
 * destroys the socket at once, which a client still writing sees as ECONNRESET.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = clientErrorStatus(error.code);
  const body = JSON.stringify({ error: STATUS_CODES[status], statusCode: status });
  // Stop feeding the failed parser; drain instead.
  socket.removeAllListeners('data');
  let drained = 0;
  socket.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > CLIENT_ERROR_DRAIN_BYTES) socket.destroy();
  });
  socket.setTimeout(CLIENT_ERROR_LINGER_MS, () => socket.destroy());
  socket.resume();
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
