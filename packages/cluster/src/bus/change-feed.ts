/**
 * A change feed (list_changed, resources/updated) over the cluster event bus: what one worker
 * publishes reaches the listeners of every gateway and worker, including its own (the bus
 * echoes), so listeners run exactly once per event everywhere.
 *
 * The event shape mirrors ChangeEvent of @mcp-cluster/server structurally (this package does
 * not depend on the engine).
 */
import { BusEventType } from './subjects.js';
import type { BusEvent } from './subjects.js';
import type { BusSubscription, EventBus } from './types.js';

export type ClusterChange =
  | { readonly type: 'tools/list_changed' }
  | { readonly type: 'prompts/list_changed' }
  | { readonly type: 'resources/list_changed' }
  | { readonly type: 'resources/updated'; readonly uri: string };

export type ClusterChangeListener = (event: ClusterChange) => void;

export interface BusChangeFeed {
  publish(event: ClusterChange): void;
  subscribe(listener: ClusterChangeListener): () => void;
  close(): Promise<void>;
}

const CHANGE_TYPES = [
  BusEventType.ToolsListChanged,
  BusEventType.PromptsListChanged,
  BusEventType.ResourcesListChanged,
  BusEventType.ResourceUpdated,
] as const;

function toBus(event: ClusterChange, origin: string | undefined): BusEvent {
  const from = origin === undefined ? {} : { workerId: origin };
  switch (event.type) {
    case 'tools/list_changed':
      return { type: BusEventType.ToolsListChanged, ...from };
    case 'prompts/list_changed':
      return { type: BusEventType.PromptsListChanged, ...from };
    case 'resources/list_changed':
      return { type: BusEventType.ResourcesListChanged, ...from };
    case 'resources/updated':
      return { type: BusEventType.ResourceUpdated, uri: event.uri };
  }
}

function fromBus(event: BusEvent): ClusterChange | undefined {
  switch (event.type) {
    case BusEventType.ToolsListChanged:
      return { type: 'tools/list_changed' };
    case BusEventType.PromptsListChanged:
      return { type: 'prompts/list_changed' };
    case BusEventType.ResourcesListChanged:
      return { type: 'resources/list_changed' };
    case BusEventType.ResourceUpdated:
      return { type: 'resources/updated', uri: event.uri };
    default:
      return undefined;
  }
}

/**
 * Subscribes to the change subjects once and fans out to local listeners. `origin` (a worker
 * id) is stamped on list_changed events so a gateway can tell who changed.
 */
export async function createBusChangeFeed(bus: EventBus, origin?: string): Promise<BusChangeFeed> {
  const listeners = new Set<ClusterChangeListener>();
  const subscription: BusSubscription = await bus.subscribe({ types: CHANGE_TYPES }, (e) => {
    const change = fromBus(e);
    if (change === undefined) return;
    for (const listener of listeners) {
      try {
        listener(change);
      } catch {
        // One broken listener (a closed stream) must not starve the rest.
      }
    }
  });
  return {
    publish: (event) => bus.publish(toBus(event, origin)),
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      listeners.clear();
      await subscription.unsubscribe();
    },
  };
}
