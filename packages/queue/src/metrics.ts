/**
 * The durable host's metrics (catalogue entries in @mcp-cluster/observability): the task
 * queue's depth and the runs on this node, read at scrape time; finished runs and takeovers,
 * counted as they happen. Built only when metrics are enabled, so a host without them records
 * nothing and pays for nothing.
 */
import { withinMs } from '@mcp-cluster/cluster';
import { METRICS } from '@mcp-cluster/observability';
import type { Counter, Labels, Metrics } from '@mcp-cluster/observability';

/**
 * BullMQ states reported by `mcp_tasks_queue_depth`. No `paused`: BullMQ 6 pauses a queue with
 * a flag and keeps its jobs in `waiting` (its job states have no paused one).
 */
export const QUEUE_DEPTH_STATES = [
  'waiting',
  'delayed',
  'active',
  'prioritized',
  'waiting-children',
] as const;
export type QueueDepthState = (typeof QUEUE_DEPTH_STATES)[number];

/** How long a scrape waits for the queue's counts: a slow Redis must not hang `/metrics`. */
export const QUEUE_DEPTH_TIMEOUT_MS = 1_000;

export type FinishedStatus = 'completed' | 'failed' | 'cancelled';

/** What the gauges read; `undefined` (a closed host) leaves the series out of the scrape. */
export interface TaskMetricSources {
  /** Runs this host is executing now. */
  readonly running: () => number | undefined;
  /** Jobs in the queue by state, straight from Redis. */
  readonly depth: (
    states: readonly QueueDepthState[],
  ) => Promise<Readonly<Record<string, number>>> | undefined;
}

export class TaskMetrics {
  private readonly finishedTotal: Counter<'status'>;
  private readonly takeoverTotal: Counter<never>;
  /** The counts a slow Redis still owes us: later scrapes wait on it instead of piling up. */
  private depthInFlight: Promise<Readonly<Record<string, number>>> | undefined;

  private constructor(private readonly metrics: Metrics) {
    this.finishedTotal = metrics.counter(METRICS.tasksFinished);
    this.takeoverTotal = metrics.counter(METRICS.taskTakeovers);
  }

  /** Undefined when `metrics` is absent or records nothing: callers skip every call. */
  static of(metrics: Metrics | undefined): TaskMetrics | undefined {
    return metrics?.enabled === true ? new TaskMetrics(metrics) : undefined;
  }

  /** A task's final status was written here (once per task, by whoever wrote it). */
  finished(status: FinishedStatus): void {
    this.finishedTotal.inc({ status });
  }

  /** This node began a run of a task whose previous run was on another node. */
  takeover(): void {
    this.takeoverTotal.inc();
  }

  /** Registers the scrape-time gauges. */
  collect(sources: TaskMetricSources, timeoutMs = QUEUE_DEPTH_TIMEOUT_MS): void {
    this.metrics.gauge(METRICS.tasksRunning, (set) => {
      const n = sources.running();
      if (n !== undefined) set({}, n);
    });
    this.metrics.gauge(METRICS.taskQueueDepth, async (set) => {
      const counts = await this.depth(sources, timeoutMs);
      if (counts === undefined) return;
      for (const state of QUEUE_DEPTH_STATES) {
        const labels: Labels<'state'> = { state };
        set(labels, counts[state] ?? 0);
      }
    });
  }

  private depth(
    sources: TaskMetricSources,
    timeoutMs: number,
  ): Promise<Readonly<Record<string, number>> | undefined> {
    if (this.depthInFlight === undefined) {
      const counting = sources.depth(QUEUE_DEPTH_STATES);
      if (counting === undefined) return Promise.resolve(undefined);
      const settled = counting.finally(() => {
        if (this.depthInFlight === settled) this.depthInFlight = undefined;
      });
      // A rejection is the scrape's to see (its series left out), never unhandled here.
      settled.catch(() => undefined);
      this.depthInFlight = settled;
    }
    // Not in time: the series is left out of this scrape, the count goes on for the next.
    return withinMs(this.depthInFlight, timeoutMs);
  }
}
