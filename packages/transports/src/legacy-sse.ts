/**
 * The deprecated HTTP+SSE transport of 2024-11-05: GET /sse opens the session's stream and
 * announces `/messages?sessionId=<id>` in an `endpoint` event; POSTs there are answered 202
 * and their responses travel on the stream. Same engine sessions as every other transport.
 */
import type { FastifyInstance } from 'fastify';
import { ProtocolError, RpcError, parseJsonText } from '@mcp-cluster/protocol';
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import type { Caller, MessageEngine } from '@mcp-cluster/server';
import { messageText } from '@mcp-cluster/server';
import { MessageConnection } from './connection.js';
import {
  callerOf,
  credentialEndReason,
  credentialOf,
  followCredential,
  securityUnavailable,
} from './guard.js';
import type { CredentialEnd, TransportGuard } from './guard.js';
import { claimStream, openSession, rejectJson } from './http.js';
import { parseLimits } from './settings.js';
import type { TransportSettings } from './settings.js';
import { SseWriter } from './sse.js';
import type { StreamRegistry } from './sse.js';

export const LEGACY_SSE_PATH = '/sse';
export const LEGACY_MESSAGES_PATH = '/messages';

export function registerLegacySse(
  app: FastifyInstance,
  engine: MessageEngine,
  settings: TransportSettings,
  registry: StreamRegistry,
  guard?: TransportGuard,
): void {
  const connections = new Map<
    string,
    { conn: MessageConnection; ownerId: string; caller: Caller; end: () => void }
  >();

  app.get(LEGACY_SSE_PATH, async (req, reply) => {
    const caller = callerOf(req);
    if (!(await claimStream(guard, caller, reply.raw, reply))) return;
    // Within the session limits; a refusal is a plain HTTP answer (429 / 503).
    const session = await openSession(engine, caller, reply, null);
    if (session === undefined) return;
    if (reply.raw.destroyed || req.socket.destroyed) {
      // The client left while the session was being opened.
      await engine.sessions.delete(session.id);
      return;
    }
    reply.hijack();
    const writer = new SseWriter(reply.raw, registry.open);
    const send = (m: JsonRpcMessage | readonly JsonRpcMessage[]): void => {
      writer.write(`event: message\ndata: ${messageText(m)}\n\n`);
    };
    const conn = new MessageConnection(engine, send, {
      maxJsonDepth: settings.maxJsonDepth,
      maxStringLength: settings.maxStringLength,
      maxBatchLength: settings.maxBatchLength,
      session,
      caller,
      guard,
    });
    const end = (): void => writer.end();
    connections.set(session.id, { conn, ownerId: caller.principal.id, caller, end });
    // The stream ends when the credential it was opened with expires or is revoked.
    followCredential(caller, reply.raw, end);
    writer.write(`event: endpoint\ndata: ${LEGACY_MESSAGES_PATH}?sessionId=${session.id}\n\n`);
    writer.startKeepAlive(settings.keepAliveMs);
    // A 2024-11-05 client cannot resume a stream: on drain it gets the answers to what it sent
    // already, then the stream ends and the client connects again (a new session elsewhere).
    writer.drain = () => {
      void conn.settled().then(end);
    };
    writer.onClose(() => {
      connections.delete(session.id);
      conn.close();
    });
  });

  app.post<{ Querystring: { sessionId?: string } }>(LEGACY_MESSAGES_PATH, async (req, reply) => {
    const id = req.query.sessionId;
    const entry = id === undefined ? undefined : connections.get(id);
    // Bound to its creator: another principal is told the session does not exist.
    if (entry === undefined || entry.ownerId !== callerOf(req).principal.id) {
      return rejectJson(reply, 404, null, ProtocolError.of('SessionNotFound'));
    }
    // Every message re-checks the credential the stream was opened with.
    let verdict: 'valid' | CredentialEnd;
    try {
      verdict = await streamCredential(entry.caller);
    } catch (err) {
      req.log.error({ err }, 'credential check failed');
      return rejectJson(reply, 503, null, securityUnavailable());
    }
    if (verdict !== 'valid') {
      entry.end();
      const message = `Unauthorized: ${credentialEndReason(verdict)}`;
      return rejectJson(reply, 401, null, ProtocolError.of('Unauthorized', message));
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
    // This POST's admission paid for its first message; the others spend their own.
    entry.conn.receiveValue(value, 1);
  });
}

/** The verdict on the credential a stream was opened with (valid when it cannot end). */
function streamCredential(caller: Caller): Promise<'valid' | CredentialEnd> {
  const credential = credentialOf(caller);
  if (credential === undefined) return Promise.resolve('valid');
  const known = credential.current();
  return known === undefined ? credential.check() : Promise.resolve(known);
}
