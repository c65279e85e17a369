import type { BusEvent, BusEventType } from './subjects.js';

/** Which events a subscription receives. Omitted `types` means every type. */
export interface BusFilter {
  readonly types?: readonly BusEventType[];
  /** Only events addressed to this session (session events); broadcasts are not filtered by it. */
  readonly sessionId?: string;
}

/** Called once per matching event. Throwing or rejecting is counted, never propagated. */
export type BusHandler = (event: BusEvent) => void | Promise<void>;

export interface BusSubscription extends AsyncDisposable {
  /** Stops delivery; idempotent. */
  unsubscribe(): Promise<void>;
}

/** Counters since the bus was created. */
export interface BusStats {
  published: number;
  delivered: number;
  /** Received payloads that were not JSON or failed their subject's schema; dropped. */
  invalid: number;
  /** Publishes that could not be handed to the connection (closed); events are hints. */
  publishFailed: number;
  handlerErrors: number;
  disconnects: number;
  reconnects: number;
  /** Events held while disconnected, re-sent on reconnect (a gauge, not a counter). */
  buffered: number;
  /** Events dropped from a full offline buffer (oldest first) or discarded at close. */
  bufferDropped: number;
}

/** A change of the connection: events may have been missed between the two. */
export type BusConnectionState = 'disconnected' | 'reconnected';
export type BusConnectionListener = (state: BusConnectionState) => void;

/**
 * Cluster event bus: fire-and-forget hints between gateways and workers. Redis holds the
 * truth; an event lost while NATS is away only delays a notification.
 */
export interface EventBus extends AsyncDisposable {
  readonly kind: 'memory' | 'nats';
  /** False while the connection is down (events published meanwhile are buffered or lost). */
  readonly connected: boolean;
  /** Best effort: never throws, even while disconnected or after close. */
  publish(event: BusEvent): void;
  /** Resolves once the subscription is active on the server. */
  subscribe(filter: BusFilter, handler: BusHandler): Promise<BusSubscription>;
  /** Resolves when everything published so far has reached the server (memory: at once). */
  flush(): Promise<void>;
  stats(): Readonly<BusStats>;
  /**
   * Told when the connection drops and comes back. Core NATS delivers at most once: whatever
   * other nodes published in between is gone, so listeners reconcile from Redis on
   * `reconnected`. Returns the function that removes the listener.
   */
  onConnectionChange(listener: BusConnectionListener): () => void;
  close(): Promise<void>;
}

export function emptyStats(): BusStats {
  return {
    published: 0,
    delivered: 0,
    invalid: 0,
    publishFailed: 0,
    handlerErrors: 0,
    disconnects: 0,
    reconnects: 0,
    buffered: 0,
    bufferDropped: 0,
  };
}
