import { filterTypes, invokeHandler } from './deliver.js';
import type { BusEvent } from './subjects.js';
import { SESSION_EVENT_TYPES } from './subjects.js';
import type { BusFilter, BusHandler, BusStats, BusSubscription, EventBus } from './types.js';
import { emptyStats } from './types.js';

/**
 * In-process bus for embedded mode and tests. Delivery is asynchronous (a microtask), like
 * NATS, so a publisher never runs subscriber code re-entrantly. Session events are indexed
 * by session id, so per-session delivery does not scan every session's subscription.
 */
export class MemoryEventBus implements EventBus {
  readonly kind = 'memory' as const;
  /** In-process: connected until closed. */
  get connected(): boolean {
    return !this.#closed;
  }
  /** Key: event type, or `type\0sessionId` for session-scoped subscriptions. */
  readonly #handlers = new Map<string, Set<BusHandler>>();
  readonly #stats: BusStats = emptyStats();
  #closed = false;

  publish(event: BusEvent): void {
    if (this.#closed) {
      this.#stats.publishFailed++;
      return;
    }
    this.#stats.published++;
    const all = this.#handlers.get(event.type);
    const one =
      'sessionId' in event ? this.#handlers.get(`${event.type}\0${event.sessionId}`) : undefined;
    if ((all === undefined || all.size === 0) && (one === undefined || one.size === 0)) return;
    // Snapshot: a handler unsubscribing must not change who receives this event.
    const targets = [...(all ?? []), ...(one ?? [])];
    queueMicrotask(() => {
      for (const h of targets) {
        if (this.#closed) return;
        if (all?.has(h) !== true && one?.has(h) !== true) continue;
        invokeHandler(h, event, this.#stats);
      }
    });
  }

  subscribe(filter: BusFilter, handler: BusHandler): Promise<BusSubscription> {
    if (this.#closed) return Promise.reject(new Error('event bus is closed'));
    // A fresh function per subscription: the same handler may be subscribed twice.
    const h: BusHandler = (event) => handler(event);
    const keys = filterTypes(filter).map((t) =>
      filter.sessionId !== undefined && SESSION_EVENT_TYPES.has(t)
        ? `${t}\0${filter.sessionId}`
        : t,
    );
    for (const k of keys) {
      let set = this.#handlers.get(k);
      if (set === undefined) this.#handlers.set(k, (set = new Set()));
      set.add(h);
    }
    const unsubscribe = (): Promise<void> => {
      for (const k of keys) {
        const set = this.#handlers.get(k);
        if (set === undefined) continue;
        set.delete(h);
        if (set.size === 0) this.#handlers.delete(k);
      }
      return Promise.resolve();
    };
    return Promise.resolve({ unsubscribe, [Symbol.asyncDispose]: unsubscribe });
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** In-process: the connection never drops. */
  onConnectionChange(): () => void {
    return () => undefined;
  }

  stats(): Readonly<BusStats> {
    return { ...this.#stats };
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#handlers.clear();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
