import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { connect } from '@nats-io/transport-node';
import { ServiceUnreachableError } from '../errors.js';
import { filterTypes, invokeHandler } from './deliver.js';
import type { BusEvent } from './subjects.js';
import {
  SESSION_EVENT_TYPES,
  busEventSchemas,
  resolvePrefix,
  subjectFor,
  subjectOf,
} from './subjects.js';
import type {
  BusConnectionListener,
  BusFilter,
  BusHandler,
  BusStats,
  BusSubscription,
  EventBus,
} from './types.js';
import { emptyStats } from './types.js';

/** Reconnect forever, quickly: events are hints and the cluster must ride out NATS restarts. */
export const DEFAULT_NATS_BUS_OPTIONS = {
  maxReconnectAttempts: -1,
  reconnectTimeWait: 250,
  pingInterval: 10_000,
  /** Bound on the first connection (ms): an unreachable server fails startup quickly. */
  connectTimeoutMs: 5_000,
  /** Events kept while disconnected and re-sent on reconnect; the oldest are dropped beyond. */
  offlineBuffer: 1024,
  /** Longest `close()` waits for a drain before closing outright (ms). */
  closeTimeoutMs: 2_000,
} as const;

export interface NatsEventBusOptions {
  readonly url: string;
  /** Subject prefix; `mcp` by default, unique per test. */
  readonly prefix?: string;
  /** Connection name shown by the NATS server (e.g. `gateway-1`). */
  readonly name?: string;
  /** Overrides {@link DEFAULT_NATS_BUS_OPTIONS}.reconnectTimeWait (ms). */
  readonly reconnectTimeWait?: number;
  /** Told when the connection drops and comes back (for logs, metrics and tests). */
  readonly onConnectionChange?: (state: 'disconnected' | 'reconnected') => void;
  /** Overrides {@link DEFAULT_NATS_BUS_OPTIONS}.offlineBuffer (events). */
  readonly offlineBuffer?: number;
}

/**
 * Event bus on core NATS (at-most-once). Payloads are JSON, validated on receipt against
 * the schema of the subject they arrived on; invalid ones are dropped and counted.
 */
export class NatsEventBus implements EventBus {
  readonly kind = 'nats' as const;
  readonly prefix: string;
  readonly #nc: NatsConnection;
  readonly #stats: BusStats = emptyStats();
  readonly #watching: Promise<void>;

  readonly #listeners = new Set<BusConnectionListener>();
  readonly #offlineLimit: number;
  /** Encoded [subject, payload] pairs published while disconnected. */
  #offline: [string, string][] = [];

  private constructor(nc: NatsConnection, prefix: string, options: NatsEventBusOptions) {
    this.#nc = nc;
    this.prefix = prefix;
    if (options.onConnectionChange !== undefined) this.#listeners.add(options.onConnectionChange);
    this.#offlineLimit = options.offlineBuffer ?? DEFAULT_NATS_BUS_OPTIONS.offlineBuffer;
    this.#watching = this.#watchStatus();
  }

  /**
   * Connects; an unreachable server fails with a ServiceUnreachableError naming the URL.
   * Later outages are reconnected.
   */
  static async connect(options: NatsEventBusOptions): Promise<NatsEventBus> {
    const prefix = resolvePrefix(options.prefix);
    const nc = await connect({
      servers: options.url,
      timeout: DEFAULT_NATS_BUS_OPTIONS.connectTimeoutMs,
      maxReconnectAttempts: DEFAULT_NATS_BUS_OPTIONS.maxReconnectAttempts,
      reconnectTimeWait: DEFAULT_NATS_BUS_OPTIONS.reconnectTimeWait,
      pingInterval: DEFAULT_NATS_BUS_OPTIONS.pingInterval,
      ...(options.reconnectTimeWait === undefined
        ? {}
        : { reconnectTimeWait: options.reconnectTimeWait }),
      ...(options.name === undefined ? {} : { name: options.name }),
    }).catch((err: unknown) => {
      throw new ServiceUnreachableError('NATS', options.url, err);
    });
    return new NatsEventBus(nc, prefix, options);
  }

  /** True while the connection is up (not reconnecting, not closed). */
  get connected(): boolean {
    return !this.#nc.isClosed() && !this.#disconnected;
  }
  #disconnected = false;

  async #watchStatus(): Promise<void> {
    for await (const s of this.#nc.status()) {
      if (s.type === 'disconnect') {
        this.#disconnected = true;
        this.#stats.disconnects++;
        this.#tell('disconnected');
      } else if (s.type === 'reconnect') {
        this.#disconnected = false;
        this.#stats.reconnects++;
        this.#replayOffline();
        this.#tell('reconnected');
      }
    }
  }

  onConnectionChange(listener: BusConnectionListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A throwing listener is counted like a throwing handler; the others still run. */
  #tell(state: 'disconnected' | 'reconnected'): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(state);
      } catch {
        this.#stats.handlerErrors++;
      }
    }
  }

  publish(event: BusEvent): void {
    const subject = subjectOf(this.prefix, event);
    const payload = JSON.stringify(event);
    if (this.#disconnected && !this.#nc.isClosed()) {
      // nats.js discards its outbound buffer when it redials, so keep our own (bounded).
      if (this.#offline.length >= this.#offlineLimit) {
        this.#offline.shift();
        this.#stats.publishFailed++;
        this.#stats.bufferDropped++;
      }
      this.#offline.push([subject, payload]);
      return;
    }
    this.#send(subject, payload);
  }

  #send(subject: string, payload: string): void {
    try {
      this.#nc.publish(subject, payload);
      this.#stats.published++;
    } catch {
      // Closed or draining connection: a lost hint, never an application error.
      this.#stats.publishFailed++;
    }
  }

  #replayOffline(): void {
    const pending = this.#offline;
    this.#offline = [];
    for (const [subject, payload] of pending) this.#send(subject, payload);
  }

  async subscribe(filter: BusFilter, handler: BusHandler): Promise<BusSubscription> {
    const subs: Subscription[] = [];
    for (const type of filterTypes(filter)) {
      const sessionId = SESSION_EVENT_TYPES.has(type) ? filter.sessionId : undefined;
      const schema = busEventSchemas[type];
      const stats = this.#stats;
      subs.push(
        this.#nc.subscribe(subjectFor(this.prefix, type, sessionId), {
          callback: (err: Error | null, msg: Msg): void => {
            if (err !== null) return;
            let raw: unknown;
            try {
              raw = msg.json();
            } catch {
              stats.invalid++;
              return;
            }
            const parsed = schema.safeParse(raw);
            if (!parsed.success) {
              stats.invalid++;
              return;
            }
            invokeHandler(handler, parsed.data, stats);
          },
        }),
      );
    }
    // Registered locally either way (and re-sent on reconnect): a blip must not fail this.
    if (!this.#disconnected) await this.#nc.flush().catch(() => undefined);
    let done = false;
    const unsubscribe = async (): Promise<void> => {
      if (done) return;
      done = true;
      for (const s of subs) s.unsubscribe();
      if (!this.#nc.isClosed() && !this.#disconnected) {
        await this.#nc.flush().catch(() => undefined);
      }
    };
    return { unsubscribe, [Symbol.asyncDispose]: unsubscribe };
  }

  async flush(): Promise<void> {
    await this.#nc.flush();
  }

  stats(): Readonly<BusStats> {
    return { ...this.#stats, buffered: this.#offline.length };
  }

  /**
   * Drains (delivers what is in flight, then closes), bounded by
   * {@link DEFAULT_NATS_BUS_OPTIONS}.closeTimeoutMs; while NATS is away it just closes, so
   * shutdown never waits for a server that may not come back. Idempotent.
   */
  async close(): Promise<void> {
    this.#stats.publishFailed += this.#offline.length;
    this.#stats.bufferDropped += this.#offline.length;
    this.#offline = [];
    if (!this.#nc.isClosed()) {
      if (this.#disconnected) {
        await this.#nc.close();
      } else {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, DEFAULT_NATS_BUS_OPTIONS.closeTimeoutMs);
        });
        await Promise.race([this.#nc.drain().catch(() => undefined), timeout]);
        clearTimeout(timer);
        if (!this.#nc.isClosed()) await this.#nc.close();
      }
    }
    await this.#watching.catch(() => undefined);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
