/**
 * WebSocket at /ws: one JSON-RPC message per text frame; the connection is a legacy session
 * (modern requests with `_meta` are served statelessly too). Closing the socket ends it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProtocolError, RpcError, parseJsonText } from '@mcp-cluster/protocol';
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import type { MessageEngine } from '@mcp-cluster/server';
import { messageText } from '@mcp-cluster/server';
import type { RawData, WebSocket } from 'ws';
import { MessageConnection } from './connection.js';
import { credentialGate } from './credential-gate.js';
import { callerOf, credentialEndReason, credentialOf, securityUnavailable } from './guard.js';
import { claimStream } from './http.js';
import type { TransportGuard } from './guard.js';
import { parseLimits } from './settings.js';
import type { TransportSettings } from './settings.js';
import { errorResponse } from './wire.js';

export const WEBSOCKET_PATH = '/ws';
/**
 * Close code of a connection whose credential expired or was revoked (reason `credential
 * expired` / `credential revoked`): 4000-4999 is the application's range; 4401 echoes HTTP 401.
 */
export const CREDENTIAL_CLOSE_CODE = 4401;
const OPEN = 1;
const CONNECTING = 0;

/** WebSocket close code of a server going down (RFC 6455 7.4.1). */
export const GOING_AWAY = 1001;

/**
 * Registers the endpoint; the returned `drain` closes each connection with 1001 once the
 * requests it carries are answered (the client reconnects, through the load balancer, to
 * another node).
 */
export function registerWebSocket(
  app: FastifyInstance,
  engine: MessageEngine,
  settings: TransportSettings,
  path: string = WEBSOCKET_PATH,
  guard?: TransportGuard,
): { drain(): void } {
  const open = new Map<WebSocket, MessageConnection>();
  // The stream slot is claimed before the upgrade (a refusal is a plain HTTP answer) and
  // lives as long as the connection.
  const preHandler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await claimStream(guard, callerOf(req), req.raw.socket, reply);
  };
  app.get(path, { websocket: true, preHandler }, (socket: WebSocket, req) => {
    const send = (m: JsonRpcMessage | readonly JsonRpcMessage[]): void => {
      if (socket.readyState === OPEN) socket.send(messageText(m));
    };
    const caller = callerOf(req);
    const conn = new MessageConnection(engine, send, {
      maxJsonDepth: settings.maxJsonDepth,
      maxStringLength: settings.maxStringLength,
      maxBatchLength: settings.maxBatchLength,
      caller,
      // The upgrade's token paid for the upgrade: every message spends its own.
      guard,
    });
    // Every frame runs only while the credential is valid; its end closes the connection.
    const gate = credentialGate<[RawData, boolean]>(credentialOf(caller), {
      run: (data, isBinary) => {
        if (isBinary) {
          send(
            errorResponse(
              null,
              new ProtocolError(RpcError.InvalidRequest.code, 'Binary frames are not supported'),
            ),
          );
          return;
        }
        conn.receiveText(textOf(data));
      },
      ended: (why) => {
        conn.close();
        if (socket.readyState === OPEN || socket.readyState === CONNECTING) {
          socket.close(CREDENTIAL_CLOSE_CODE, credentialEndReason(why));
        }
      },
      unavailable: (err, data, isBinary) => {
        req.log.error({ err }, 'credential check failed');
        send(
          errorResponse(
            isBinary ? null : requestIdOf(textOf(data), settings),
            securityUnavailable(),
          ),
        );
      },
    });
    socket.on('message', gate.receive);
    open.set(socket, conn);
    socket.on('close', () => {
      open.delete(socket);
      gate.stop();
      conn.close();
    });
  });
  return {
    drain() {
      for (const [socket, conn] of open) {
        void conn.settled().then(() => {
          if (socket.readyState === OPEN || socket.readyState === CONNECTING) {
            socket.close(GOING_AWAY, 'server draining');
          }
        });
      }
    },
  };
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** The id of a request frame, for an error answer before the frame is handled; else null. */
function requestIdOf(text: string, settings: TransportSettings): string | number | null {
  try {
    const value = parseJsonText(text, parseLimits(settings));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    const id = (value as { id?: unknown }).id;
    return typeof id === 'string' || typeof id === 'number' ? id : null;
  } catch {
    return null;
  }
}
