/**
 * The fastify plugin serving every HTTP-based MCP transport of a node: Streamable HTTP
 * (both eras), legacy HTTP+SSE and WebSocket, behind Host/Origin validation and body limits.
 */
import { METRICS, STATUS_PATH } from '@mcp-cluster/observability';
import type { Metrics } from '@mcp-cluster/observability';
import type { FastifyError, FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { ProtocolError } from '@mcp-cluster/protocol';
import type { MessageEngine } from '@mcp-cluster/server';
import { drainingError } from './drain.js';
import type { TransportDrain } from './drain.js';
import { errorHeaders, registerStreamableHttp, rejectJson } from './http.js';
import { LEGACY_MESSAGES_PATH, registerLegacySse } from './legacy-sse.js';
import { guardHook, securityUnavailable } from './guard.js';
import type { TransportGuard } from './guard.js';
import { FORBIDDEN_STATUS, checkHostAndOrigin, forbiddenBody } from './security.js';
import { DEFAULT_TRANSPORT_SETTINGS } from './settings.js';
import type { TransportSettings } from './settings.js';
import { StreamRegistry } from './sse.js';
import type { SharedStreams } from './sse.js';
import { selectSubprotocol } from './subprotocol.js';
import { GOING_AWAY, WEBSOCKET_PATH, registerWebSocket } from './websocket.js';

/** Throws on malformed UTF-8 instead of substituting U+FFFD. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

class InvalidUtf8Error extends Error {
  override readonly name = 'InvalidUtf8Error';
  readonly statusCode = 400;
  constructor() {
    super('Body is not valid UTF-8');
  }
}

export interface McpTransportsOptions {
  readonly engine: MessageEngine;
  readonly settings?: Partial<TransportSettings>;
  /** WebSocket path; false disables it. Default `/ws`. */
  readonly websocketPath?: string | false;
  /** Serve the 2024-11-05 HTTP+SSE transport at /sse + /messages. Default true. */
  readonly legacySse?: boolean;
  /** Cluster gateways: resumable streams shared with the other gateways. */
  readonly sharedStreams?: SharedStreams;
  /** Admits each request (authentication, lockout, rate limits); anonymous when absent. */
  readonly guard?: TransportGuard;
  /** Where the open streams are counted (`mcp_server_streams_open`, read at each scrape). */
  readonly metrics?: Metrics;
  /**
   * The node's status document, served as GET /status behind the same admission as the MCP
   * endpoint (Host/Origin checks, authentication).
   */
  readonly status?: () =>
    Promise<Readonly<Record<string, unknown>>> | Readonly<Record<string, unknown>>;
  /** The node's drain control (see TransportDrain); without it, shutdown ends streams at once. */
  readonly drain?: TransportDrain;
}

export { GOING_AWAY };

/** Registers the transports in an encapsulated context (its parsers and hooks stay inside). */
export async function mcpTransports(
  app: FastifyInstance,
  options: McpTransportsOptions,
): Promise<void> {
  const settings: TransportSettings = { ...DEFAULT_TRANSPORT_SETTINGS, ...options.settings };
  const { engine } = options;

  // Bodies arrive as bytes that must be valid UTF-8 (a lenient decode would turn malformed
  // input into U+FFFD and run it); we parse with a depth limit and answer errors ourselves.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: settings.bodyLimitBytes },
    (_req, body, done) => {
      try {
        done(null, utf8.decode(body as Buffer));
      } catch {
        done(new InvalidUtf8Error(), undefined);
      }
    },
  );

  // Registered before the Host/Origin hook so a refused upgrade's socket is still destroyed
  // by the plugin's onResponse hook.
  if (options.websocketPath !== false) {
    await app.register(websocket, {
      options: { maxPayload: settings.bodyLimitBytes, handleProtocols: selectSubprotocol },
      // On shutdown, 1001 "going away" (RFC 6455): the client reconnects, to another node.
      preClose(done) {
        for (const client of this.websocketServer.clients) {
          client.close(GOING_AWAY, 'server shutting down');
        }
        this.websocketServer.close();
        done();
      },
    });
  }

  const { drain } = options;
  // In flight: HTTP exchanges (SSE responses included) until their response closes. A
  // WebSocket upgrade is counted as the socket it becomes.
  let exchanges = 0;
  if (drain !== undefined) {
    app.addHook('onRequest', (req, reply, done) => {
      // A legacy /messages POST belongs to a stream this node holds: no other node can take it.
      if (drain.draining && !req.url.startsWith(LEGACY_MESSAGES_PATH)) {
        const err = drainingError(settings.sseRetryMs);
        // Connection: close, so a kept-alive connection (a load balancer's pool) is not reused.
        void reply.header('connection', 'close').headers(errorHeaders(err) ?? {});
        return rejectJson(reply, 503, null, err);
      }
      if (req.headers.upgrade === undefined) {
        exchanges++;
        reply.raw.once('close', () => {
          exchanges--;
          drain.changed();
        });
      }
      done();
    });
  }

  app.addHook('onRequest', (req, reply, done) => {
    const reason = checkHostAndOrigin(settings, req.headers.host, req.headers.origin);
    if (reason === undefined) return done();
    req.log.warn({ host: req.headers.host, origin: req.headers.origin }, reason);
    void reply
      .code(FORBIDDEN_STATUS)
      .header('content-type', 'application/json; charset=utf-8')
      .send(JSON.stringify(forbiddenBody(reason)));
  });

  // After Host/Origin: a request from a refused origin never reaches the credential checks.
  app.addHook(
    'onRequest',
    guardHook(options.guard, (req, reply, err) => {
      // A store the checks need is down (Redis): refused, retryably, never admitted.
      req.log.error({ err }, 'admission failed');
      rejectJson(reply, 503, null, securityUnavailable());
    }),
  );

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof InvalidUtf8Error) {
      return rejectJson(
        reply,
        400,
        null,
        ProtocolError.of('ParseError', 'Body is not valid UTF-8'),
      );
    }
    const status = err.statusCode ?? 500;
    if (status === 413) return rejectJson(reply, 413, null, ProtocolError.of('PayloadTooLarge'));
    if (status >= 400 && status < 500) {
      return rejectJson(reply, status, null, ProtocolError.of('InvalidRequest'));
    }
    req.log.error({ err }, 'request failed');
    return rejectJson(reply, 500, null, err);
  });

  const registry = new StreamRegistry(settings.maxEventLog, options.sharedStreams);
  // Open SSE responses would hold server.close() forever: end them first, resumable ones
  // with `retry:` (SEP-1699) so their clients reconnect with Last-Event-ID.
  app.addHook('preClose', (done) => {
    registry.endAll(settings.sseRetryMs);
    done();
  });
  const { guard } = options;
  registerStreamableHttp(app, engine, settings, registry, guard);
  if (options.legacySse !== false) registerLegacySse(app, engine, settings, registry, guard);
  const withWebSocket = options.websocketPath !== false;
  const sockets = withWebSocket
    ? registerWebSocket(app, engine, settings, options.websocketPath ?? WEBSOCKET_PATH, guard)
    : undefined;
  if (drain !== undefined) {
    if (withWebSocket) {
      app.websocketServer.on('connection', (ws) => ws.once('close', () => drain.changed()));
    }
    // Streams ended by the drain stay logged for two retry intervals (unless the deadline
    // comes first): long enough for their clients to be back on another node.
    // A flag the timer clears, not a time comparison: a timer may fire a millisecond before
    // Date.now() reaches its due time, and no later event would wake the drain.
    let lingering = false;
    drain.register({
      start: () => {
        registry.drain(settings.sseRetryMs);
        sockets?.drain();
        if (registry.lingeringCount > 0) {
          lingering = true;
          setTimeout(() => {
            lingering = false;
            drain.changed();
          }, 2 * settings.sseRetryMs).unref();
        }
      },
      finish: () => {
        registry.endAll(settings.sseRetryMs);
        if (withWebSocket) {
          for (const ws of app.websocketServer.clients) ws.close(GOING_AWAY, 'server draining');
        }
      },
      pending: () =>
        exchanges +
        (withWebSocket ? app.websocketServer.clients.size : 0) +
        (lingering ? registry.lingeringCount : 0),
    });
  }
  const { status } = options;
  if (status !== undefined) {
    app.get(STATUS_PATH, async (_req, reply) =>
      reply.header('cache-control', 'no-store').send(await status()),
    );
  }
  options.metrics?.gauge(METRICS.streamsOpen, (set) => {
    set({ transport: 'sse' }, registry.open.size);
    if (withWebSocket) set({ transport: 'websocket' }, app.websocketServer.clients.size);
  });
}
