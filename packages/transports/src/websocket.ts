/**
 * WebSocket at /ws: one JSON-RPC message per text frame; the connection is a legacy session
 * (modern requests with `_meta` are served statelessly too). Closing the socket ends it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProtocolError, RpcError } from '@mcp-cluster/protocol';
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import type { Engine } from '@mcp-cluster/server';
import type { RawData, WebSocket } from 'ws';
import { MessageConnection } from './connection.js';
import { callerOf } from './guard.js';
import { claimStream } from './http.js';
import type { TransportGuard } from './guard.js';
import type { TransportSettings } from './settings.js';
import { errorResponse } from './wire.js';

export const WEBSOCKET_PATH = '/ws';
const OPEN = 1;

export function registerWebSocket(
  app: FastifyInstance,
  engine: Engine,
  settings: TransportSettings,
  path: string = WEBSOCKET_PATH,
  guard?: TransportGuard,
): void {
  // The stream slot is claimed before the upgrade (a refusal is a plain HTTP answer) and
  // lives as long as the connection.
  const preHandler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await claimStream(guard, callerOf(req), req.raw.socket, reply);
  };
  app.get(path, { websocket: true, preHandler }, (socket: WebSocket, req) => {
    const send = (m: JsonRpcMessage | readonly JsonRpcMessage[]): void => {
      if (socket.readyState === OPEN) socket.send(JSON.stringify(m));
    };
    const caller = callerOf(req);
    const conn = new MessageConnection(engine, send, {
      maxJsonDepth: settings.maxJsonDepth,
      maxStringLength: settings.maxStringLength,
      caller,
    });
    socket.on('message', (data: RawData, isBinary: boolean) => {
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
    });
    socket.on('close', () => conn.close());
  });
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
