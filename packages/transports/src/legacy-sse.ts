/**
 * The deprecated HTTP+SSE transport of 2024-11-05: GET /sse opens the session's stream and
 * announces `/messages?sessionId=<id>` in an `endpoint` event; POSTs there are answered 202
 * and their responses travel on the stream. Same engine sessions as every other transport.
 */
import type { FastifyInstance } from 'fastify';
import { ProtocolError, RpcError, parseJsonText } from '@mcp-cluster/protocol';
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import type { Engine } from '@mcp-cluster/server';
import { MessageConnection } from './connection.js';
import { rejectJson } from './http.js';
import type { TransportSettings } from './settings.js';
import { SseWriter } from './sse.js';
import type { StreamRegistry } from './sse.js';

export const LEGACY_SSE_PATH = '/sse';
export const LEGACY_MESSAGES_PATH = '/messages';

export function registerLegacySse(
  app: FastifyInstance,
  engine: Engine,
  settings: TransportSettings,
  registry: StreamRegistry,
): void {
  const connections = new Map<string, MessageConnection>();

  app.get(LEGACY_SSE_PATH, (_req, reply) => {
    reply.hijack();
    const writer = new SseWriter(reply.raw, registry.open);
    const session = engine.sessions.create();
    const send = (m: JsonRpcMessage | readonly JsonRpcMessage[]): void => {
      writer.write(`event: message\ndata: ${JSON.stringify(m)}\n\n`);
    };
    const conn = new MessageConnection(engine, send, {
      maxJsonDepth: settings.maxJsonDepth,
      session,
    });
    connections.set(session.id, conn);
    writer.write(`event: endpoint\ndata: ${LEGACY_MESSAGES_PATH}?sessionId=${session.id}\n\n`);
    writer.startKeepAlive(settings.keepAliveMs);
    writer.onClose(() => {
      connections.delete(session.id);
      conn.close();
    });
  });

  app.post<{ Querystring: { sessionId?: string } }>(LEGACY_MESSAGES_PATH, (req, reply) => {
    const id = req.query.sessionId;
    const conn = id === undefined ? undefined : connections.get(id);
    if (conn === undefined)
      return rejectJson(reply, 404, null, ProtocolError.of('SessionNotFound'));
    const ct = req.headers['content-type'] ?? '';
    if (!ct.toLowerCase().startsWith('application/json')) {
      return rejectJson(
        reply,
        415,
        null,
        new ProtocolError(RpcError.InvalidRequest.code, 'Content-Type must be application/json'),
      );
    }
    let value: unknown;
    try {
      value = parseJsonText(req.body as string, { maxDepth: settings.maxJsonDepth });
    } catch (err) {
      return rejectJson(reply, 400, null, err);
    }
    void reply.code(202).send();
    conn.receiveValue(value);
  });
}
