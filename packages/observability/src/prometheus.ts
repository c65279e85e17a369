/**
 * Metrics kept in a prom-client registry of their own (never the global one, so two nodes
 * in one process, as in tests, do not mix), exposed in the Prometheus text format.
 * prom-client is loaded when the first PrometheusMetrics is made: the library code that
 * imports this package for its interfaces and catalogue (every process, stdio included)
 * does not pay for it.
 */
import { createRequire } from 'node:module';
import type client from 'prom-client';
import type {
  Counter,
  Gauge,
  GaugeCollector,
  Histogram,
  Labels,
  MetricDef,
  Metrics,
} from './metrics.js';

export interface PrometheusMetricsOptions {
  /** Labels on every series of this process, e.g. `{ role: 'gateway' }`. */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  /**
   * Node's own metrics (event-loop lag, GC, heap, CPU, RSS, handles) with prom-client's
   * names (`nodejs_*`, `process_*`). Default true.
   */
  readonly nodeDefaults?: boolean;
}

type PromLabels = Partial<Record<string, string | number>>;

/** A collector-driven gauge: reset before each scrape, then set by every collector. */
interface Collected {
  readonly gauge: client.Gauge;
  readonly collectors: GaugeCollector<string>[];
}

type PromClient = typeof client;
let loaded: PromClient | undefined;
const promClient = (): PromClient =>
  (loaded ??= createRequire(import.meta.url)('prom-client') as PromClient);

export class PrometheusMetrics implements Metrics {
  readonly enabled = true;
  private readonly client = promClient();
  readonly registry = new this.client.Registry();
  private readonly counters = new Map<string, client.Counter>();
  private readonly gauges = new Map<string, client.Gauge>();
  private readonly collected = new Map<string, Collected>();
  private readonly histograms = new Map<string, client.Histogram>();

  constructor(options: PrometheusMetricsOptions = {}) {
    if (options.defaultLabels !== undefined) {
      this.registry.setDefaultLabels({ ...options.defaultLabels });
    }
    if (options.nodeDefaults !== false)
      this.client.collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition's `Content-Type` header value. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every series, in the Prometheus text format (collectors run first). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  counter<N extends string>(def: MetricDef<N>): Counter<N> {
    let counter = this.counters.get(def.name);
    if (counter === undefined) {
      this.claim(def.name);
      counter = new this.client.Counter({
        name: def.name,
        help: def.help,
        labelNames: [...def.labelNames],
        registers: [this.registry],
      });
      this.counters.set(def.name, counter);
    }
    const c = counter;
    return { inc: (labels, value = 1) => c.inc(promLabels(labels), value) };
  }

  gauge<N extends string>(def: MetricDef<N>, collect?: GaugeCollector<N>): Gauge<N> {
    if (collect !== undefined) return this.collectedGauge(def, collect);
    let gauge = this.gauges.get(def.name);
    if (gauge === undefined) {
      this.claim(def.name);
      gauge = new this.client.Gauge({
        name: def.name,
        help: def.help,
        labelNames: [...def.labelNames],
        registers: [this.registry],
      });
      this.gauges.set(def.name, gauge);
    }
    return gaugeOf<N>(gauge);
  }

  histogram<N extends string>(def: MetricDef<N>): Histogram<N> {
    let histogram = this.histograms.get(def.name);
    if (histogram === undefined) {
      this.claim(def.name);
      histogram = new this.client.Histogram({
        name: def.name,
        help: def.help,
        labelNames: [...def.labelNames],
        ...(def.buckets === undefined ? {} : { buckets: [...def.buckets] }),
        registers: [this.registry],
      });
      this.histograms.set(def.name, histogram);
    }
    const h = histogram;
    return { observe: (labels, value) => h.observe(promLabels(labels), value) };
  }

  private collectedGauge<N extends string>(
    def: MetricDef<N>,
    collect: GaugeCollector<N>,
  ): Gauge<N> {
    let entry = this.collected.get(def.name);
    if (entry === undefined) {
      this.claim(def.name);
      const collectors: GaugeCollector<string>[] = [];
      const gauge: client.Gauge = new this.client.Gauge({
        name: def.name,
        help: def.help,
        labelNames: [...def.labelNames],
        registers: [this.registry],
        async collect() {
          gauge.reset();
          const set = (labels: Labels<string>, value: number): void =>
            gauge.set(promLabels(labels), value);
          // One failing collector leaves its series out of this scrape, not the others'.
          await Promise.all(
            collectors.map(async (c) => c(set)).map((p) => p.catch(() => undefined)),
          );
        },
      });
      entry = { gauge, collectors };
      this.collected.set(def.name, entry);
    }
    entry.collectors.push(collect);
    return gaugeOf<N>(entry.gauge);
  }

  /** One kind per name: a counter and a gauge of one name would clash in the registry. */
  private claim(name: string): void {
    if (
      this.counters.has(name) ||
      this.gauges.has(name) ||
      this.collected.has(name) ||
      this.histograms.has(name)
    ) {
      throw new TypeError(`metric ${name} is already defined as another kind`);
    }
  }
}

function gaugeOf<N extends string>(g: client.Gauge): Gauge<N> {
  return {
    set: (labels, value) => g.set(promLabels(labels), value),
    inc: (labels, value = 1) => g.inc(promLabels(labels), value),
    dec: (labels, value = 1) => g.dec(promLabels(labels), value),
  };
}

const EMPTY: PromLabels = {};

function promLabels<N extends string>(labels: Labels<N> | undefined): PromLabels {
  return (labels as PromLabels | undefined) ?? EMPTY;
}
