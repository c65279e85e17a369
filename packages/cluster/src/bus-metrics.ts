/**
 * The event bus as metrics: reconnects (`mcp_bus_reconnects_total`), events held while NATS
 * is away (`mcp_bus_buffered_events`) and held events lost (`mcp_bus_events_dropped_total`,
 * a full offline buffer or a close while away). Read from the bus's own counters, so nothing
 * is added to the publish path.
 */
import { METRICS } from '@mcp-cluster/observability';
import type { Metrics } from '@mcp-cluster/observability';
import type { EventBus } from './bus/types.js';

/** Starts reporting; returns the function that stops it. Nothing when metrics are off. */
export function busMetrics(
  bus: Pick<EventBus, 'stats' | 'onConnectionChange'>,
  metrics: Metrics,
): () => void {
  if (!metrics.enabled) return () => undefined;
  const reconnects = metrics.counter(METRICS.busReconnects);
  const dropped = metrics.counter(METRICS.busDropped);
  let droppedSeen = bus.stats().bufferDropped;
  // Dropped events are counted at each scrape (as the difference since the last one).
  metrics.gauge(METRICS.busBuffered, (set) => {
    const stats = bus.stats();
    set({}, stats.buffered);
    if (stats.bufferDropped > droppedSeen) dropped.inc({}, stats.bufferDropped - droppedSeen);
    droppedSeen = stats.bufferDropped;
  });
  return bus.onConnectionChange((state) => {
    if (state === 'reconnected') reconnects.inc();
  });
}
