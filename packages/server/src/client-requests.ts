/**
 * Server -> client requests of one legacy session (sampling, elicitation, roots): ids
 * "<prefix><n>" ("s-<n>" by default), written to the originating request's stream, settled by the client's response.
 */
import { ProtocolError } from '@mcp-cluster/protocol';
import type { JsonObject, JsonRpcResponse, RequestId } from '@mcp-cluster/protocol';
import type { MessageSink } from './api.js';

interface Pending {
  readonly resolve: (result: JsonObject) => void;
  readonly reject: (err: unknown) => void;
  readonly cleanup: () => void;
}

export const DEFAULT_CLIENT_REQUEST_TIMEOUT_MS = 60_000;

export class ClientRequests {
  private seq = 0;
  private readonly pending = new Map<RequestId, Pending>();
  private ended = false;

  /**
   * @param idPrefix prefix of the request ids; a cluster worker puts its id here so the
   * client's answer can be routed back to it by whichever gateway receives it.
   */
  constructor(
    private readonly timeoutMs: number = DEFAULT_CLIENT_REQUEST_TIMEOUT_MS,
    private readonly idPrefix = 's-',
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Sends one request on `sink`; rejects on abort (telling the client), timeout or session end. */
  send(
    sink: MessageSink,
    method: string,
    params: JsonObject | undefined,
    signal: AbortSignal,
  ): Promise<JsonObject> {
    if (this.ended) return Promise.reject(ProtocolError.of('SessionNotFound'));
    if (signal.aborted) return Promise.reject(ProtocolError.of('RequestCancelled'));
    const id = `${this.idPrefix}${++this.seq}`;
    return new Promise<JsonObject>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.pending.delete(id)) return;
        cleanup();
        sink({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } });
        reject(ProtocolError.of('RequestCancelled'));
      };
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        cleanup();
        sink({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: 'timeout' },
        });
        reject(ProtocolError.of('RequestTimeout'));
      }, this.timeoutMs);
      timer.unref();
      const cleanup = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { resolve, reject, cleanup });
      const message =
        params === undefined
          ? { jsonrpc: '2.0' as const, id, method }
          : { jsonrpc: '2.0' as const, id, method, params };
      let written: boolean | void;
      try {
        written = sink(message);
      } catch {
        written = false;
      }
      if (written === false) {
        this.pending.delete(id);
        cleanup();
        reject(ProtocolError.of('Unavailable', 'Client stream is closed'));
      }
    });
  }

  /** Settles the request a client response answers; false when nothing waits for it. */
  deliver(response: JsonRpcResponse): boolean {
    if (response.id === null) return false;
    const entry = this.pending.get(response.id);
    if (entry === undefined) return false;
    this.pending.delete(response.id);
    entry.cleanup();
    if ('error' in response) {
      const { code, message, data } = response.error;
      entry.reject(new ProtocolError(code, message, data));
    } else {
      entry.resolve(response.result);
    }
    return true;
  }

  /** Rejects everything pending; later sends reject at once. */
  end(): void {
    this.ended = true;
    for (const entry of this.pending.values()) {
      entry.cleanup();
      entry.reject(ProtocolError.of('SessionNotFound', 'Session ended'));
    }
    this.pending.clear();
  }
}
