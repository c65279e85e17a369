import type { Labels, MetricDef, Metrics } from '@mcp-cluster/observability';
import { METRICS } from '@mcp-cluster/observability';
import { describe, expect, it } from 'vitest';
import { busMetrics } from './bus-metrics.js';
import type { BusConnectionListener, BusStats } from './bus/types.js';
import { emptyStats } from './bus/types.js';

/** Records counter increments and runs gauge collectors on `scrape()`. */
function recordingMetrics() {
  const counts = new Map<string, number>();
  const gauges = new Map<string, number>();
  const collectors: (() => void)[] = [];
  const metrics: Metrics = {
    enabled: true,
    counter: (def: MetricDef) => ({
      inc: (_labels?: Labels<string>, value = 1) =>
        counts.set(def.name, (counts.get(def.name) ?? 0) + value),
    }),
    gauge: (def, collect) => {
      if (collect !== undefined) {
        collectors.push(() => void collect((_l, v) => gauges.set(def.name, v)));
      }
      return { set: () => undefined, inc: () => undefined, dec: () => undefined };
    },
    histogram: () => ({ observe: () => undefined }),
  };
  return { metrics, counts, gauges, scrape: () => collectors.forEach((c) => c()) };
}

describe('busMetrics', () => {
  it('counts reconnects, reports held events and counts the dropped ones once', () => {
    const stats: BusStats = emptyStats();
    const listeners: BusConnectionListener[] = [];
    const bus = {
      stats: () => ({ ...stats }),
      onConnectionChange: (l: BusConnectionListener) => {
        listeners.push(l);
        return () => undefined;
      },
    };
    const m = recordingMetrics();
    busMetrics(bus, m.metrics);
    for (const l of listeners) l('disconnected');
    stats.buffered = 3;
    stats.bufferDropped = 2;
    m.scrape();
    expect(m.gauges.get(METRICS.busBuffered.name)).toBe(3);
    expect(m.counts.get(METRICS.busDropped.name)).toBe(2);
    m.scrape();
    expect(m.counts.get(METRICS.busDropped.name)).toBe(2);
    for (const l of listeners) l('reconnected');
    expect(m.counts.get(METRICS.busReconnects.name)).toBe(1);
  });
});
