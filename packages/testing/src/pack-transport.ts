/**
 * packTransport: the client end of an in-memory connection to an engine serving the given
 * packs. It has the shape of the MCP SDK's `Transport`, so a pack's tests use the SDK client
 * they already know:
 *
 *   const client = new Client({ name: 'test', version: '1.0.0' });
 *   await client.connect(packTransport(pack));
 *   await client.callTool({ name: 'greet', arguments: { name: 'Ada' } });
 *
 * Messages pass through the same connection code as stdio and WebSocket (one legacy session
 * per transport), so what a test sees is what a client of `mcp-cluster serve` sees.
 */
import { inspect } from 'node:util';
import type { JsonRpcRequest } from '@mcp-cluster/protocol';
import { componentOf, createEngine } from '@mcp-cluster/server';
import type { ComponentPack, Engine, EngineOptions } from '@mcp-cluster/server';
import { MessageConnection } from '@mcp-cluster/transports';

export interface PackTransportOptions {
  /** The server's name and version in `initialize`; default `{ name: 'test', version: '0.0.0' }`. */
  readonly serverInfo?: EngineOptions['serverInfo'];
  /**
   * Called when a handler throws something other than a ToolError (the client gets an
   * internal error without the details). Default: the error is written to stderr, so the
   * stack of a failing handler shows up in the test output.
   */
  readonly onError?: (err: unknown, request: JsonRpcRequest) => void;
}

/** The client end of an in-memory connection; `close()` also closes the engine. */
export interface PackTransport {
  start(): Promise<void>;
  /** Sends one client message (or a batch) to the engine. */
  send(message: unknown): Promise<void>;
  close(): Promise<void>;
  /** Receives each server message (a JSON-RPC request, notification or response object). */
  onmessage?: (<T extends object>(message: T) => void) | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  readonly sessionId?: string | undefined;
  /** The engine behind the transport (its registry, for assertions). */
  readonly engine: Engine;
}

const DEFAULT_SERVER_INFO = { name: 'test', version: '0.0.0' } as const;
/** Deepest JSON accepted, as the network transports' default. */
const MAX_JSON_DEPTH = 64;

export function packTransport(
  packs: ComponentPack | readonly ComponentPack[],
  options: PackTransportOptions = {},
): PackTransport {
  const onError = options.onError ?? reportHandlerError;
  const engine = createEngine({
    serverInfo: options.serverInfo ?? DEFAULT_SERVER_INFO,
    packs: isPackList(packs) ? packs : [packs],
    onError: (err, request) => onError(err, request),
  });
  let started = false;
  let closed = false;
  const transport: PackTransport = {
    engine,
    start() {
      if (started) return Promise.reject(new Error('packTransport: already started'));
      started = true;
      return Promise.resolve();
    },
    send(message) {
      if (closed) return Promise.reject(new Error('packTransport: closed'));
      connection.receiveValue(structuredClone(message));
      return Promise.resolve();
    },
    async close() {
      if (closed) return;
      closed = true;
      connection.close();
      await engine.close();
      transport.onclose?.();
    },
    get sessionId() {
      return connection.sessionId;
    },
  };
  // Messages are copied both ways, as a wire would: neither side sees the other's objects.
  const connection = new MessageConnection(
    engine,
    (message) => {
      const deliver = transport.onmessage;
      if (closed || deliver === undefined) return;
      const list = Array.isArray(message) ? message : [message];
      queueMicrotask(() => {
        for (const m of list) deliver(structuredClone(m));
      });
    },
    { maxJsonDepth: MAX_JSON_DEPTH },
  );
  return transport;
}

function isPackList(p: ComponentPack | readonly ComponentPack[]): p is readonly ComponentPack[] {
  return Array.isArray(p);
}

function reportHandlerError(err: unknown, request: JsonRpcRequest): void {
  const component = Object.values(componentOf(request)).join(' ');
  const what = component === '' ? request.method : `${request.method} ${component}`;
  process.stderr.write(
    `handler failed (${what}, request id ${String(request.id)}): ${inspect(err)}\n`,
  );
}
