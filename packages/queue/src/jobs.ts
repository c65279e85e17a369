/**
 * The BullMQ side: one queue per prefix, and this node's Worker taking durable task jobs.
 *
 * A job holds only the task id; the record in Redis holds the rest. A job whose node dies
 * keeps its lock until `lockDurationMs` lapses; BullMQ's stalled check (any node) then moves
 * it back to wait and another node runs the task again from the start. Tools that run as
 * resumable tasks must therefore be idempotent.
 *
 * The lock is the run's lease. A node that stalls (GC, SIGSTOP, overload) past it may resume
 * with its run still going while another node runs the task: BullMQ's failed lock renewal
 * (`lockRenewalFailed`) is passed to `onLockLost`, which aborts that run. Its result is never
 * stored: the settle is fenced on the lock itself (scripts.ts SETTLE).
 */
import { DelayedError, Queue, WaitingError, Worker } from 'bullmq';
import type { Job, JobType } from 'bullmq';
import { z } from 'zod';
import { QUEUE_NAME, jobIdOf } from './keys.js';
import type { TaskKeys } from './keys.js';
import type { ResolvedDurableOptions } from './options.js';

const jobDataSchema = z.object({ taskId: z.string().min(1) });
export type TaskJobData = z.infer<typeof jobDataSchema>;

/** What the host does with a job this node took; see `DurableHost.process`. */
export type JobOutcome =
  /** Done with it (settled, cancelled, gone): the job completes. */
  | { readonly type: 'done' }
  /** This node cannot run it (`resolveRun` undefined): offer it again after a delay. */
  | { readonly type: 'decline' }
  /** This node is closing: the job goes back to wait for another node. */
  | { readonly type: 'requeue' }
  /** A simulated crash: never answer; the lock lapses and another node takes over. */
  | { readonly type: 'crash' };

export type JobProcessor = (
  taskId: string,
  token: string,
  attempt: { readonly stalled: number },
) => Promise<JobOutcome>;

export class TaskJobs {
  private constructor(
    private readonly queue: Queue<TaskJobData>,
    private readonly worker: Worker<TaskJobData>,
  ) {}

  static async open(
    o: ResolvedDurableOptions,
    keys: TaskKeys,
    processor: JobProcessor,
    onFailed: (taskId: string, err: Error) => void,
    /** This worker could not renew the lock of the run with `token`: it lost the job. */
    onLockLost: (taskId: string, token: string) => void = () => undefined,
  ): Promise<TaskJobs> {
    /** Jobs this worker is processing: job id -> task id and lock token. */
    const active = new Map<string, { taskId: string; token: string }>();
    // BullMQ creates and closes these connections itself; workers need unbounded retries.
    const connection = { url: o.redisUrl, maxRetriesPerRequest: null };
    const queue = new Queue<TaskJobData>(QUEUE_NAME, { connection, prefix: keys.queuePrefix });
    queue.on('error', (err) => o.onError(err, 'task queue'));
    const worker = new Worker<TaskJobData>(
      QUEUE_NAME,
      async (job: Job<TaskJobData>, token?: string) => {
        const data = jobDataSchema.safeParse(job.data);
        if (!data.success || token === undefined) return;
        const jobId = job.id ?? '';
        const held = { taskId: data.data.taskId, token };
        active.set(jobId, held);
        let outcome: JobOutcome;
        try {
          outcome = await processor(data.data.taskId, token, { stalled: job.stalledCounter });
        } finally {
          if (active.get(jobId) === held) active.delete(jobId);
        }
        switch (outcome.type) {
          case 'done':
            return;
          case 'decline':
            await job.moveToDelayed(Date.now() + o.unresolvedRetryMs, token);
            throw new DelayedError();
          case 'requeue':
            await job.moveToWait(token);
            throw new WaitingError();
          case 'crash':
            // Hold the job without answering: its lock lapses like a dead process's would.
            await new Promise<never>(() => {});
        }
      },
      {
        connection,
        prefix: keys.queuePrefix,
        name: o.nodeId,
        concurrency: o.concurrency,
        lockDuration: o.lockDurationMs,
        stalledInterval: o.stalledIntervalMs,
        maxStalledCount: o.maxStalledCount,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 0 },
      },
    );
    worker.on('error', (err) => o.onError(err, 'task worker'));
    // The lock is gone or held by another token: the run here must stop now.
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) {
        const held = active.get(jobId);
        if (held !== undefined) onLockLost(held.taskId, held.token);
      }
    });
    worker.on('failed', (job, err) => {
      const data = jobDataSchema.safeParse(job?.data);
      if (data.success) onFailed(data.data.taskId, err);
    });
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    return new TaskJobs(queue, worker);
  }

  /** Jobs in the queue by state (one Redis script call). */
  counts(states: readonly JobType[]): Promise<Record<string, number>> {
    return this.queue.getJobCounts(...states);
  }

  /** Enqueues a task's job; the job id is the task id (so one job per task). */
  async add(taskId: string): Promise<void> {
    await this.queue.add(
      'task',
      { taskId },
      { jobId: jobIdOf(taskId), removeOnComplete: true, removeOnFail: true },
    );
  }

  /**
   * Stops taking jobs and waits (at most `timeoutMs`) for in-flight ones to hand back;
   * the caller makes them hand back (requeue) right after calling this.
   */
  async close(timeoutMs: number): Promise<void> {
    const closing = this.worker.close();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    await Promise.race([closing.catch(() => undefined), late]);
    clearTimeout(timer);
    await this.queue.close().catch(() => undefined);
  }

  /** A crash: the worker stops renewing locks and drops its connections, completing nothing. */
  async kill(): Promise<void> {
    await this.worker.close(true).catch(() => undefined);
    await this.queue.close().catch(() => undefined);
  }
}
