/**
 * WebSocket at /ws: one JSON-RPC message per text frame; the connection is a legacy session
 * (modern requests with `_meta` are served statelessly too). Closing the socket ends it.
 */
import type { FastifyInstance } from 'fastify';
import { ProtocolError, RpcError } from '@mcp-cluster/protocol';
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import type { Engine } from '@mcp-cluster/server';
import type { RawData, WebSocket } from 'ws';
import { MessageConnection } from './connection.js';
import type { TransportSettings } from './settings.js';
import { errorResponse } from './wire.js';

export const WEBSOCKET_PATH = '/ws';
const OPEN = 1;

export function registerWebSocket(
  app: FastifyInstance,
  engine: Engine,
  settings: TransportSettings,
  path: string = WEBSOCKET_PATH,
): void {
  app.get(path, { websocket: true }, (socket: WebSocket) => {
    const send = (m: JsonRpcMessage | readonly JsonRpcMessage[]): void => {
      if (socket.readyState === OPEN) socket.send(JSON.stringify(m));
    };
    const conn = new MessageConnection(engine, send, { maxJsonDepth: settings.maxJsonDepth });
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
