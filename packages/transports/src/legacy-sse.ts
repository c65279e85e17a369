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
import { callerOf } from './guard.js';
import type { TransportGuard } from './guard.js';
import { claimStream, rejectJson } from './http.js';
import { parseLimits } from './settings.js';
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
  guard?: TransportGuard,
): void {
  const connections = new Map<string, { conn: MessageConnection; ownerId: string }>();

  app.get(LEGACY_SSE_PATH, async (req, reply) => {
    const caller = callerOf(req);
    if (!(await claimStream(guard, caller, reply.raw, reply))) return;
    reply.hijack();
    const writer = new SseWriter(reply.raw, registry.open);
    const session = engine.sessions.create(caller.principal.id);
    const send = (m: JsonRpcMessage | readonly JsonRpcMessage[]): void => {
      writer.write(`event: message\ndata: ${JSON.stringify(m)}\n\n`);
    };
    const conn = new MessageConnection(engine, send, {
      maxJsonDepth: settings.maxJsonDepth,
      maxStringLength: settings.maxStringLength,
      session,
      caller,
    });
    connections.set(session.id, { conn, ownerId: caller.principal.id });
    writer.write(`event: endpoint\ndata: ${LEGACY_MESSAGES_PATH}?sessionId=${session.id}\n\n`);
    writer.startKeepAlive(settings.keepAliveMs);
    writer.onClose(() => {
      connections.delete(session.id);
      conn.close();
    });
  });

  app.post<{ Querystring: { sessionId?: string } }>(LEGACY_MESSAGES_PATH, (req, reply) => {
    const id = req.query.sessionId;
    const entry = id === undefined ? undefined : connections.get(id);
    // Bound to its creator: another principal is told the session does not exist.
    if (entry === undefined || entry.ownerId !== callerOf(req).principal.id) {
      return rejectJson(reply, 404, null, ProtocolError.of('SessionNotFound'));
    }
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
      value = parseJsonText(req.body as string, parseLimits(settings));
    } catch (err) {
      return rejectJson(reply, 400, null, err);
    }
    void reply.code(202).send();
    entry.conn.receiveValue(value);
  });
}
