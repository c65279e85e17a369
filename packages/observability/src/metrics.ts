/**
 * The metrics interface library code records through: counters, gauges and histograms by
 * definition (name, help, label names, buckets). `noopMetrics` records nothing and costs
 * nothing; `PrometheusMetrics` (prometheus.ts) is what a service wires in. Library code never
 * imports prom-client.
 */

/** Label values by label name; a label left out is empty (Prometheus: absent). */
export type Labels<N extends string> = Readonly<Partial<Record<N, string | number>>>;

export interface MetricDef<N extends string = string> {
  /** Prometheus name, unit suffixed (`_seconds`, `_total`, `_bytes`). */
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly N[];
  /** Histograms only: the upper bounds, in the metric's unit. */
  readonly buckets?: readonly number[];
}

export interface Counter<N extends string = string> {
  inc(labels?: Labels<N>, value?: number): void;
}

export interface Gauge<N extends string = string> {
  set(labels: Labels<N>, value: number): void;
  inc(labels?: Labels<N>, value?: number): void;
  dec(labels?: Labels<N>, value?: number): void;
}

export interface Histogram<N extends string = string> {
  observe(labels: Labels<N>, value: number): void;
}

/** Sets a gauge's values when it is scraped (a count read from a store, a queue's depth). */
export type GaugeCollector<N extends string> = (
  set: (labels: Labels<N>, value: number) => void,
) => void | Promise<void>;

export interface Metrics {
  /** False for {@link noopMetrics}: callers may skip work that only feeds metrics. */
  readonly enabled: boolean;
  /** The instrument named `def.name`; asking again for the same name returns the same one. */
  counter<N extends string>(def: MetricDef<N>): Counter<N>;
  /**
   * As {@link counter}. With `collect`, the gauge's values are set by it at every scrape;
   * several collectors of one gauge (one per engine, say) all run.
   */
  gauge<N extends string>(def: MetricDef<N>, collect?: GaugeCollector<N>): Gauge<N>;
  histogram<N extends string>(def: MetricDef<N>): Histogram<N>;
}

const noopInstrument: Counter & Gauge & Histogram = {
  inc: () => undefined,
  dec: () => undefined,
  set: () => undefined,
  observe: () => undefined,
};

/** Records nothing: the default wherever no metrics are wired. */
export const noopMetrics: Metrics = {
  enabled: false,
  counter: () => noopInstrument,
  gauge: () => noopInstrument,
  histogram: () => noopInstrument,
};
