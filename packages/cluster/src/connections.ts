/**
 * What every cluster process (gateway, worker) opens first — the Redis state, then the NATS
 * bus, on which the state's session writes are announced — and one place to register what
 * must close, in reverse order of opening.
 */
import type { Metrics } from '@mcp-cluster/observability';
import { probeBackends } from './backend-probe.js';
import { busMetrics } from './bus-metrics.js';
import { createEventBus } from './bus/create.js';
import type { EventBus } from './bus/types.js';
import { createClusterState } from './state.js';
import type { ClusterState } from './state.js';

export interface ClusterConnectionsOptions {
  readonly redisUrl: string;
  readonly natsUrl: string;
  /** Redis key prefix and NATS subject prefix. */
  readonly prefix: string;
  /** Idle lifetime of a legacy session in Redis. */
  readonly sessionTtlMs?: number;
  /** Connection name (NATS monitoring). */
  readonly name: string;
  /** Redis connection errors after startup (ioredis reconnects by itself). */
  readonly onError: (err: Error) => void;
  /** Where Redis and NATS are reported (`mcp_backend_up`, probe round trips). */
  readonly metrics?: Metrics;
}

export interface ClusterConnections {
  readonly state: ClusterState;
  readonly bus: EventBus;
  /** Registers a closer; close() runs them last-registered first, before the connections. */
  defer(closer: () => Promise<void>): void;
  /** Idempotent; a failing closer does not stop the others. */
  close(): Promise<void>;
}

export async function openClusterConnections(
  o: ClusterConnectionsOptions,
): Promise<ClusterConnections> {
  // Redis first, so a node that can reach neither reports Redis (exit codes 5, then 6).
  // Session writes are announced (`session.changed`) once the bus is open; none happen before.
  const announce: { bus?: EventBus } = {};
  const state = await createClusterState({
    redisUrl: o.redisUrl,
    prefix: o.prefix,
    onError: o.onError,
    bus: { publish: (event) => announce.bus?.publish(event) },
    ...(o.sessionTtlMs === undefined ? {} : { sessionTtlMs: o.sessionTtlMs }),
  });
  let bus: EventBus;
  try {
    bus = await createEventBus({ natsUrl: o.natsUrl, prefix: o.prefix, name: o.name });
  } catch (err) {
    await state.close();
    throw err;
  }
  announce.bus = bus;
  const stopProbe = o.metrics === undefined ? undefined : probeBackends({ state, bus }, o.metrics);
  const stopBusMetrics = o.metrics === undefined ? undefined : busMetrics(bus, o.metrics);
  const closers: (() => Promise<void>)[] = [
    () => state.close(),
    () => bus.close(),
    () => Promise.resolve(stopProbe?.()),
    () => Promise.resolve(stopBusMetrics?.()),
  ];
  let closing: Promise<void> | undefined;
  return {
    state,
    bus,
    defer: (closer) => {
      closers.push(closer);
    },
    close: () =>
      (closing ??= (async () => {
        for (const closer of closers.reverse()) await closer().catch(() => undefined);
      })()),
  };
}
