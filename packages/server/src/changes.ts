/**
 * The change feed: where "something changed" events (list_changed, resources/updated) are
 * published and fanned out to legacy sessions and modern `subscriptions/listen` streams.
 * An interface so a cluster can put NATS behind it; the memory feed serves one process.
 */
import type { ChangeEvent } from './context.js';

export type ChangeListener = (event: ChangeEvent) => void;

export interface ChangeFeed {
  /** Announces a change to every subscriber (on every node, for distributed feeds). */
  publish(event: ChangeEvent): void;
  /** Registers a listener; returns the function that removes it. */
  subscribe(listener: ChangeListener): () => void;
  close(): Promise<void>;
}

/** An in-process feed. Listeners run synchronously; one throwing does not stop the others. */
export function createMemoryChangeFeed(): ChangeFeed {
  const listeners = new Set<ChangeListener>();
  return {
    publish(event) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch {
          // A broken subscriber (e.g. a closed stream) must not starve the rest.
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close() {
      listeners.clear();
      return Promise.resolve();
    },
  };
}
