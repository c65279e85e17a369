/** Options of `createDurableTaskHost`: defaults written once, resolved and frozen at creation. */
import type {
  MemoryTaskHostOptions,
  RequestContext,
  ResolvedTaskHostOptions,
  TaskJob,
  TaskRun,
} from '@mcp-cluster/server';
import { requirePositiveIntegers, resolveTaskHostOptions } from '@mcp-cluster/server';
import type { Metrics } from '@mcp-cluster/observability';

/**
 * The memory host's options (TTLs, poll interval, page size, ids, `now`) plus the cluster's.
 * `now` drives task timestamps and expiry checks; BullMQ delays and input claims use the
 * wall clock.
 */
export interface DurableTaskHostOptions extends Omit<MemoryTaskHostOptions, 'sweepIntervalMs'> {
  /** Redis this host connects to; it creates and owns its connections. */
  readonly redisUrl: string;
  /** Key prefix (`${prefix}:task:…`); the BullMQ queue lives under it too. */
  readonly prefix: string;
  /** This process, for logs and as the recorded runner of a task. */
  readonly nodeId: string;
  /**
   * Rebuilds the run of a durable job on this node (the engine's `taskRun`); undefined when
   * this node cannot run the tool, so another node gets the job.
   */
  readonly resolveRun: (job: TaskJob, ctx: RequestContext) => TaskRun | undefined;
  /** BullMQ job lock: how long a crashed node's task waits before another node takes it. */
  readonly lockDurationMs?: number;
  /** How often stalled jobs (lock lapsed) are looked for; defaults to `lockDurationMs`. */
  readonly stalledIntervalMs?: number;
  /** Lock lapses a job survives before it is failed (a run that keeps crashing its node). */
  readonly maxStalledCount?: number;
  /** Durable tasks this node runs at once (a task parked for input holds its slot). */
  readonly concurrency?: number;
  /** Delay before a job this node cannot run (`resolveRun` undefined) is offered again. */
  readonly unresolvedRetryMs?: number;
  /** Times a job may be declined by `resolveRun` before its task ends `failed`. */
  readonly maxUnresolved?: number;
  /**
   * Fallback re-read of Redis for waiters and parked runs, in case a pub/sub message was
   * lost (reconnect); pub/sub is the fast path.
   */
  readonly recheckMs?: number;
  /**
   * How often this node forgets status reporters of tasks whose record is gone. (Its runs
   * notice a lapsed record on their own, every `recheckMs`.)
   */
  readonly sweepIntervalMs?: number;
  /**
   * Upper bound on close() waiting for in-flight jobs to hand back; after it close() returns
   * and the worker finishes closing in the background.
   */
  readonly closeTimeoutMs?: number;
  /** Where background failures go (Redis errors in event handlers); silent by default. */
  readonly onError?: (err: unknown, what: string) => void;
  /**
   * Where the task metrics go: queue depth by state and runs on this node (read at scrape
   * time), finished runs by status, takeovers. One host per `Metrics`. None by default.
   */
  readonly metrics?: Metrics;
}

export interface ResolvedDurableOptions extends ResolvedTaskHostOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly nodeId: string;
  readonly resolveRun: DurableTaskHostOptions['resolveRun'];
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  readonly concurrency: number;
  readonly unresolvedRetryMs: number;
  readonly maxUnresolved: number;
  readonly recheckMs: number;
  readonly closeTimeoutMs: number;
  readonly onError: (err: unknown, what: string) => void;
  readonly metrics: Metrics | undefined;
}

export const DEFAULT_DURABLE_OPTIONS = Object.freeze({
  lockDurationMs: 10_000,
  maxStalledCount: 3,
  concurrency: 100,
  unresolvedRetryMs: 1_000,
  maxUnresolved: 30,
  recheckMs: 5_000,
  sweepIntervalMs: 10_000,
  closeTimeoutMs: 5_000,
});

/** `prefix` becomes part of Redis keys and the queue name: keep it to a safe alphabet. */
const PREFIX_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export function resolveDurableOptions(input: DurableTaskHostOptions): ResolvedDurableOptions {
  if (input.redisUrl === '') throw new RangeError('durable task host redisUrl is empty');
  if (!PREFIX_PATTERN.test(input.prefix)) {
    throw new RangeError(`durable task host prefix must match ${PREFIX_PATTERN.source}`);
  }
  if (input.nodeId === '') throw new RangeError('durable task host nodeId is empty');
  const d = DEFAULT_DURABLE_OPTIONS;
  const base = resolveTaskHostOptions({
    ...input,
    sweepIntervalMs: input.sweepIntervalMs ?? d.sweepIntervalMs,
  });
  const lockDurationMs = input.lockDurationMs ?? d.lockDurationMs;
  const o: ResolvedDurableOptions = {
    ...base,
    redisUrl: input.redisUrl,
    prefix: input.prefix,
    nodeId: input.nodeId,
    resolveRun: input.resolveRun,
    lockDurationMs,
    stalledIntervalMs: input.stalledIntervalMs ?? lockDurationMs,
    maxStalledCount: input.maxStalledCount ?? d.maxStalledCount,
    concurrency: input.concurrency ?? d.concurrency,
    unresolvedRetryMs: input.unresolvedRetryMs ?? d.unresolvedRetryMs,
    maxUnresolved: input.maxUnresolved ?? d.maxUnresolved,
    recheckMs: input.recheckMs ?? d.recheckMs,
    closeTimeoutMs: input.closeTimeoutMs ?? d.closeTimeoutMs,
    onError: input.onError ?? (() => undefined),
    metrics: input.metrics,
  };
  requirePositiveIntegers('durable task host', o, [
    'lockDurationMs',
    'stalledIntervalMs',
    'maxStalledCount',
    'concurrency',
    'unresolvedRetryMs',
    'maxUnresolved',
    'recheckMs',
    'closeTimeoutMs',
  ]);
  return Object.freeze(o);
}
