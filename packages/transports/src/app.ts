/**
 * The fastify application every HTTP-serving process starts from (the embedded node, a
 * cluster gateway): the server settings long-lived MCP streams need.
 */
import { STATUS_CODES } from 'node:http';
import type { ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance } from 'fastify';
import { lazyChildLogger } from './lazy-logger.js';
import {
  addressMatcher,
  answerAndClose,
  capConnectionsPerAddress,
  drainRequest,
  earlyAnswerDrainBytes,
} from './limits.js';

/** Seconds an idle keep-alive connection stays open (longer than typical proxies' 60 s). */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;
/** Default time a client gets to send a whole request (head + body); 408 after. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Default time a client gets to send a request's head; 408 after. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Default number of connections one client address may hold open at once; more get 503. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;
/** Longest pause between two checks of the headers / request timeouts. */
export const MAX_TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export interface HttpAppOptions {
  readonly logLevel: string;
  readonly bodyLimitBytes: number;
  /** Serve HTTPS with these options (certificate, key, client-certificate CA). */
  readonly https?: ServerOptions | undefined;
  /** Largest request head (request line + headers) accepted; larger gets 431. */
  readonly maxHeaderBytes?: number | undefined;
  /**
   * Proxies (addresses / CIDR ranges) trusted to name the client in `X-Forwarded-For`;
   * `req.ip` is then the client. Empty or absent: `req.ip` is the socket's peer. Their
   * connections are not counted against `maxConnectionsPerAddress`.
   */
  readonly trustProxy?: readonly string[] | undefined;
  /** Time to receive a request's head; 408 after. Default DEFAULT_HEADERS_TIMEOUT_MS. */
  readonly headersTimeoutMs?: number | undefined;
  /**
   * Time to receive a whole request, head and body; 408 after. Default
   * DEFAULT_REQUEST_TIMEOUT_MS. It ends once the request has arrived: a long-lived response
   * (SSE) or a WebSocket after its upgrade is not bound by it.
   */
  readonly requestTimeoutMs?: number | undefined;
  /** Connections one client address may hold open at once; more are answered 503 and closed. */
  readonly maxConnectionsPerAddress?: number | undefined;
  /** Where the app's log lines (JSON, one per write) go; stderr when absent. */
  readonly logStream?: { write(line: string): void } | undefined;
  /** Fields added to every log line when it is written (e.g. the active trace's ids). */
  readonly logMixin?: (() => Record<string, unknown> | undefined) | undefined;
}

/** Node's default (16 KiB) made explicit: MCP requests need a few hundred bytes of headers. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

/** How often the timeouts are checked: a quarter of the shorter one, at most every second. */
export function timeoutCheckIntervalMs(headersTimeoutMs: number, requestTimeoutMs: number): number {
  const shorter = Math.min(headersTimeoutMs, requestTimeoutMs);
  return Math.max(10, Math.min(MAX_TIMEOUT_CHECK_INTERVAL_MS, Math.floor(shorter / 4)));
}

/**
 * Sockets whose current request was answered before its body arrived: a timeout on them
 * ends the connection without writing a second answer after the first.
 */
const answeredEarly = new WeakSet<Socket>();

/** Where a request's or error's credentials would sit in a log line: censored by pino. */
export const CREDENTIAL_LOG_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["sec-websocket-protocol"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["sec-websocket-protocol"]',
  '*.password',
  '*.token',
  '*.apiKey',
];

const LOG_REDACTION: { paths: string[]; censor: string } = {
  paths: [...CREDENTIAL_LOG_PATHS],
  censor: '[redacted]',
};

function mixinOf(fields: () => Record<string, unknown> | undefined): () => Record<string, unknown> {
  return () => fields() ?? {};
}

export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const common = {
    logger: {
      level: options.logLevel,
      stream: options.logStream ?? process.stderr,
      redact: LOG_REDACTION,
      ...(options.logMixin === undefined ? {} : { mixin: mixinOf(options.logMixin) }),
    },
    // Per-request log lines cost more than a trivial call; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // A request's child logger is created on its first log line, not for every request.
    childLoggerFactory: lazyChildLogger,
    bodyLimit: options.bodyLimitBytes,
    // SSE and WebSocket streams stay open with no traffic between keep-alive comments.
    connectionTimeout: 0,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout,
    // Long-lived streams must not hold a shutdown hostage.
    forceCloseConnections: true,
    return503OnClosing: true,
    clientErrorHandler: answerClientError,
    trustProxy:
      options.trustProxy === undefined || options.trustProxy.length === 0
        ? false
        : [...options.trustProxy],
  } as const;
  const server = {
    maxHeaderSize: options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
    headersTimeout,
    requestTimeout,
    // Node checks both timeouts every 30 s by default: a trickled request would outlive them.
    connectionsCheckingInterval: timeoutCheckIntervalMs(headersTimeout, requestTimeout),
  };
  // Two calls: fastify types an HTTPS instance apart, and callers want one FastifyInstance.
  const app: FastifyInstance =
    options.https !== undefined
      ? Fastify({ ...common, https: { ...options.https, ...server } })
      : Fastify({ ...common, http: server });
  const exempt = addressMatcher(options.trustProxy ?? []);
  const max = options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
  capConnectionsPerAddress(
    app.server,
    options.https !== undefined ? 'secureConnection' : 'connection',
    {
      max,
      exempt,
      onRefused: refusalLog((fields) =>
        app.log.warn({ ...fields, max }, 'connections refused: too many from one address'),
      ),
    },
  );
  // An answer sent before the request's body arrived (413 on its declared length, a refusal
  // at admission): the rest of the body is read and dropped, bounded, so the client reads the
  // answer instead of a reset; the connection stays usable (fastify's `Connection: close`
  // would end it with the body unread, which the kernel answers with a reset).
  const drainBytes = earlyAnswerDrainBytes(options.bodyLimitBytes);
  app.addHook('onSend', (request, reply, payload, done) => {
    const raw = request.raw;
    if (!raw.complete && !raw.destroyed) {
      if (reply.getHeader('connection') === 'close') reply.removeHeader('connection');
      const socket = raw.socket;
      answeredEarly.add(socket);
      raw.once('end', () => answeredEarly.delete(socket));
      drainRequest(raw, drainBytes);
    }
    done(null, payload);
  });
  return app;
}

/** At most one log line a second about refused connections (a flood must not flood the log). */
export const REFUSAL_LOG_INTERVAL_MS = 1_000;

/** Counts refusals and reports them (the last address, how many since) at most once a second. */
function refusalLog(
  write: (fields: { address: string; refused: number }) => void,
): (address: string) => void {
  let refused = 0;
  let last = 0;
  return (address) => {
    refused += 1;
    const now = Date.now();
    if (now - last < REFUSAL_LOG_INTERVAL_MS) return;
    write({ address, refused });
    refused = 0;
    last = now;
  };
}

function clientErrorStatus(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/**
 * Answers a request the HTTP parser refused (malformed head, CR or LF where they may not
 * be, an oversize head) or that timed out (its head or body did not arrive within the
 * headers / request timeout: 408) with its status, then closes gracefully (answerAndClose).
 * fastify's default destroys the socket at once, which a client still writing sees as
 * ECONNRESET. A request already answered (a refusal before its body arrived) gets no second
 * answer: its connection just ends.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (answeredEarly.has(socket)) {
    socket.destroy();
    return;
  }
  const status = clientErrorStatus(error.code);
  answerAndClose(
    socket,
    status,
    JSON.stringify({ error: STATUS_CODES[status], statusCode: status }),
  );
}
