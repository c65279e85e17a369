/**
 * The in-memory twin of the message transports: the same MessageConnection the WebSocket and
 * stdio use, with messages handed over as objects. For tests.
 */
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import type { MessageEngine } from '@mcp-cluster/server';
import { MessageConnection } from './connection.js';

export interface MemoryClient extends Disposable {
  /** Sends one message (or a batch) as the client. */
  send(message: unknown): void;
  /** Everything the server sent so far, in order (batches as arrays). */
  readonly received: readonly (JsonRpcMessage | readonly JsonRpcMessage[])[];
  /** Resolves with the next server message that satisfies `match`. */
  next(
    match?: (m: JsonRpcMessage | readonly JsonRpcMessage[]) => boolean,
  ): Promise<JsonRpcMessage | readonly JsonRpcMessage[]>;
  close(): void;
  readonly sessionId: string | undefined;
}

export function connectInMemory(engine: MessageEngine, maxJsonDepth = 64): MemoryClient {
  const received: (JsonRpcMessage | readonly JsonRpcMessage[])[] = [];
  let cursor = 0;
  const waiters: (() => void)[] = [];
  const conn = new MessageConnection(
    engine,
    (m) => {
      received.push(m);
      for (const w of waiters.splice(0)) w();
    },
    { maxJsonDepth },
  );
  return {
    send: (message) => conn.receiveValue(message),
    received,
    async next(match = () => true) {
      for (;;) {
        while (cursor < received.length) {
          const m = received[cursor++]!;
          if (match(m)) return m;
        }
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    close: () => conn.close(),
    [Symbol.dispose]: () => conn.close(),
    get sessionId() {
      return conn.sessionId;
    },
  };
}
