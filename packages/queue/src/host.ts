/**
 * The durable TaskHost: task records in Redis (every node reads the same truth), durable
 * runs as BullMQ jobs any node may take, and changes fanned out over Redis pub/sub.
 *
 * Two kinds of task:
 * - `start` with a resumable job: the record is written and a job enqueued (job id = task
 *   id). Whichever node's worker takes it rebuilds the run with `resolveRun(job, ctx)`; the
 *   `run` passed to `start` is not used. If that node dies the job is taken over (see
 *   jobs.ts) and the run starts again: resumable tools must be idempotent. At-least-once
 *   start, exactly-once completion: a run that lost its lease is aborted (its signal fires)
 *   and its result dropped, so a tool may start twice but the task completes once.
 * - `start` without a job, or with `resumable: false` (a tool with a `prepare` step): `run`
 *   runs here, on the creating node. Not durable: if this node dies the task stays
 *   `working` until its TTL lapses. The record is still in Redis, so any node can read,
 *   answer and cancel it.
 */
import { MCP_ATTR, contextFromMeta, startSpan } from '@mcp-cluster/observability';
import { ROOT_CONTEXT, SpanKind, context, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { REDIS_COMMAND_TIMEOUT_MS } from '@mcp-cluster/cluster';
import { Redis } from 'ioredis';
import { ProtocolError, RpcError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';
import type {
  RequestContext,
  TaskBackend,
  TaskHost,
  TaskJob,
  TaskRun,
  TaskStatus,
} from '@mcp-cluster/server';
import {
  createTaskResult,
  effectiveTtl,
  handleTaskMethod,
  isTerminal,
  ownerOf,
  servesTaskMethod,
  taskNotFound,
} from '@mcp-cluster/server';
import { rebuiltContext, storedContext } from './context.js';
import { TaskEvents } from './events.js';
import { Execution } from './execution.js';
import type { ExecutionDeps } from './execution.js';
import { durableBackend } from './handlers.js';
import type { HandlerHost } from './handlers.js';
import { TaskJobs } from './jobs.js';
import type { JobOutcome } from './jobs.js';
import { taskKeys } from './keys.js';
import { TaskMetrics } from './metrics.js';
import { resolveDurableOptions } from './options.js';
import type { DurableTaskHostOptions, ResolvedDurableOptions } from './options.js';
import type { TaskSnapshot } from './record.js';
import { StatusReporters } from './reporters.js';
import { TaskStore } from './store.js';
import { asTaskStoreError, tasksOutageAsUnavailable } from './unavailable.js';

/** A TaskHost plus what tests and operators need. */
export interface DurableTaskHost extends TaskHost {
  readonly nodeId: string;
  /** Runs this node is executing now (local closures and durable jobs). */
  readonly running: number;
  /**
   * Simulates a crash (tests, fault injection): the worker stops renewing its job locks and
   * every connection drops; nothing is completed, failed or cancelled. Durable tasks it was
   * running are taken over by another node once their lock lapses.
   */
  kill(): Promise<void>;
}

const SHUTDOWN_MESSAGE = 'The server is shutting down.';

class DurableHost implements DurableTaskHost, HandlerHost {
  private readonly executions = new Map<string, Execution>();
  private readonly reporters: StatusReporters;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly offReports: () => void;
  private readonly methods: TaskBackend<TaskSnapshot>;
  jobs!: TaskJobs;

  constructor(
    readonly options: ResolvedDurableOptions,
    private readonly redis: Redis,
    readonly store: TaskStore,
    readonly events: TaskEvents,
    /** Undefined when metrics are off: nothing is recorded then. */
    private readonly metrics: TaskMetrics | undefined,
  ) {
    this.methods = durableBackend(this);
    const reporters = new StatusReporters(options.pollIntervalMs);
    this.reporters = reporters;
    this.offReports = events.onAny((e) => reporters.report(e));
    this.sweepTimer = setInterval(() => {
      reporters.sweep(store).catch((err: unknown) => options.onError(err, 'sweeping reporters'));
    }, options.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  get running(): number {
    return this.executions.size;
  }

  handles(method: string, ctx: RequestContext): boolean {
    return servesTaskMethod(method, ctx);
  }

  handle(method: string, params: JsonObject, ctx: RequestContext): Promise<JsonObject> {
    return handleTaskMethod(this.methods, method, params, ctx);
  }

  async start(
    run: TaskRun,
    ctx: RequestContext,
    opts: { readonly ttlMs?: number; readonly job?: TaskJob },
  ): Promise<JsonObject> {
    if (this.closed) throw ProtocolError.of('Unavailable');
    const o = this.options;
    const durable = opts.job?.resumable === true;
    const nowMs = o.now();
    const createdAt = new Date(nowMs).toISOString();
    const ttlMs = effectiveTtl(opts.ttlMs, o);
    const owner = ownerOf(ctx.era, ctx.principal.id, ctx.sessionId);
    const id = await this.create(ctx, {
      owner,
      createdAt,
      ttlMs,
      expiresAt: nowMs + ttlMs,
      job: durable ? opts.job : undefined,
    });
    if (ctx.era === 'legacy' && o.statusNotifications) {
      this.reporters.add(id, { outbound: ctx.outbound, createdAt, ttlMs });
    }
    let view: { status: TaskStatus; updated: string } = { status: 'working', updated: createdAt };
    if (durable) {
      try {
        await this.jobs.add(id);
      } catch (err) {
        // No job, no run: drop the record rather than leave it `working` until its TTL.
        this.reporters.delete(id);
        await this.store.expire(id, createdAt).catch(() => undefined);
        throw asTaskStoreError(err);
      }
    } else {
      const exec = this.track(new Execution(this.deps(), id, owner, ttlMs, ''));
      exec.start(run);
      await exec.flushWrites();
      view = exec.view ?? view;
    }
    const t = {
      id,
      status: view.status,
      createdAt,
      lastUpdatedAt: view.updated,
      ttlMs,
      statusMessage: undefined,
    };
    return createTaskResult(ctx.era, t, o.pollIntervalMs);
  }

  async lookup(taskId: string, ctx: RequestContext): Promise<TaskSnapshot> {
    const t = await this.store.read(taskId);
    if (t === undefined || t.owner !== ownerOf(ctx.era, ctx.principal.id, ctx.sessionId)) {
      throw taskNotFound();
    }
    if (t.expiresAt <= this.options.now()) {
      // Past its TTL by our clock before Redis dropped it: gone now, runner told.
      await this.store.expire(t.id, new Date(this.options.now()).toISOString());
      throw taskNotFound();
    }
    return t;
  }

  async cancel(t: TaskSnapshot, message: string): Promise<boolean> {
    const code = await this.store.settle(t.id, t.owner, t.ttlMs, {
      status: 'cancelled',
      token: '',
      nowMs: this.options.now(),
      message,
    });
    // A run on this node stops now; elsewhere it stops on the published event.
    if (code === 1) this.executions.get(t.id)?.end('cancelled');
    return code === 1;
  }

  /** A durable job this node's worker took: run it here, or decline it. */
  async process(taskId: string, token: string): Promise<JobOutcome> {
    if (this.closed) return { type: 'requeue' };
    const t = await this.store.read(taskId);
    if (t === undefined || isTerminal(t.status) || t.job === undefined) return { type: 'done' };
    const controller = new AbortController();
    const run = this.options.resolveRun(t.job, rebuiltContext(t, controller.signal));
    if (run === undefined) return this.decline(t);
    // Listening before taking the task over, so a cancel right after cannot slip past.
    const exec = new Execution(this.deps(), taskId, t.owner, t.ttlMs, token, controller);
    const nowIso = new Date(this.options.now()).toISOString();
    const begun = await this.store
      .begin(taskId, token, this.nodeId, nowIso)
      .catch((err: unknown) => {
        exec.end('abandoned');
        throw err;
      });
    if (begun < 1) {
      exec.end('cancelled');
      return { type: 'done' };
    }
    if (this.closed) {
      // close() began while we were taking it: hand it straight back.
      exec.end('requeue');
      return { type: 'requeue' };
    }
    // A run of this task began on another node before (it crashed, stalled or handed the
    // job back on close) and this node starts it again.
    if (t.runner !== undefined && t.runner !== this.nodeId) this.metrics?.takeover();
    const span = runSpan(t.job.tool, taskId, t.context.trace);
    this.track(exec);
    context.with(trace.setSpan(ROOT_CONTEXT, span), () => exec.start(run, begun));
    const ended = await exec.done;
    span.setAttribute('mcp_cluster.task.outcome', ended);
    span.end();
    switch (ended) {
      case 'requeue':
        return { type: 'requeue' };
      case 'crashed':
        return { type: 'crash' };
      case 'abandoned':
        throw new Error(`task ${taskId}: the run's writes failed`);
      default:
        return { type: 'done' };
    }
  }

  /** This node's worker lost the lock of the run with `token`: abort that run. */
  lockLost(taskId: string, token: string): void {
    const exec = this.executions.get(taskId);
    if (exec === undefined || exec.token !== token) return;
    exec.leaseLost();
  }

  /** A job no node completed (stalled too often, or its processing threw). */
  jobFailed(taskId: string, err: Error): void {
    void this.store
      .read(taskId)
      .then((t) =>
        t === undefined
          ? undefined
          : this.store.settle(t.id, t.owner, t.ttlMs, {
              status: 'failed',
              token: '',
              nowMs: this.options.now(),
              error: { code: RpcError.InternalError.code, message: RpcError.InternalError.message },
            }),
      )
      .catch((e: unknown) => this.options.onError(e, `failing task ${taskId}`));
    this.options.onError(err, `task job ${taskId} failed`);
  }

  close(): Promise<void> {
    return (this.closing ??= this.shutDown());
  }

  /** Scrape-time gauges; a closed host leaves its series out. */
  collectMetrics(): void {
    this.metrics?.collect({
      running: () => (this.closed ? undefined : this.running),
      depth: (states) => (this.closed ? undefined : this.jobs.counts(states)),
    });
  }

  async kill(): Promise<void> {
    this.closed = true;
    const killing = this.jobs.kill();
    for (const exec of this.executions.values()) exec.end('crashed');
    await killing;
    this.stopTimers();
    this.events.kill();
    this.redis.disconnect();
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    const jobsClosed = this.jobs.close(this.options.closeTimeoutMs);
    const unavailable = ProtocolError.of('Unavailable', SHUTDOWN_MESSAGE);
    const local: Promise<unknown>[] = [];
    for (const exec of this.executions.values()) {
      if (exec.token !== '') {
        // Durable: back to the queue for another node; the record stays as it is.
        exec.end('requeue', unavailable);
        continue;
      }
      // A local run cannot outlive this process: cancel it like the memory host does.
      local.push(
        this.store
          .settle(exec.taskId, exec.owner, exec.ttlMs, {
            status: 'cancelled',
            token: '',
            nowMs: this.options.now(),
            message: SHUTDOWN_MESSAGE,
          })
          .catch((err: unknown) => this.options.onError(err, `cancelling ${exec.taskId}`)),
      );
      exec.end('cancelled');
    }
    await Promise.all([jobsClosed, ...local]);
    this.stopTimers();
    await this.events.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private stopTimers(): void {
    clearInterval(this.sweepTimer);
    this.offReports();
    this.reporters.clear();
  }

  private async create(
    ctx: RequestContext,
    t: {
      owner: string;
      createdAt: string;
      ttlMs: number;
      expiresAt: number;
      job: TaskJob | undefined;
    },
  ): Promise<string> {
    for (let i = 0; i < 4; i++) {
      const id = this.options.idFactory();
      const seq = await this.store.create({
        ...t,
        id,
        era: ctx.era,
        kind: t.job !== undefined ? 'job' : 'local',
        context: storedContext(ctx),
        node: this.nodeId,
      });
      if (seq !== undefined) return id;
    }
    // A broken idFactory is a local fault; the engine maps it to -32603.
    throw new Error('task idFactory keeps returning ids in use');
  }

  private async decline(t: TaskSnapshot): Promise<JobOutcome> {
    const declined = await this.store.countUnresolved(t.id);
    if (declined < 0) return { type: 'done' };
    if (declined < this.options.maxUnresolved) return { type: 'decline' };
    await this.store.settle(t.id, t.owner, t.ttlMs, {
      status: 'failed',
      token: '',
      nowMs: this.options.now(),
      error: {
        code: RpcError.InternalError.code,
        message: `No node can run tool ${t.job?.tool ?? ''}`,
      },
    });
    return { type: 'done' };
  }

  private track(exec: Execution): Execution {
    this.executions.set(exec.taskId, exec);
    void exec.done.then(() => {
      if (this.executions.get(exec.taskId) === exec) this.executions.delete(exec.taskId);
    });
    return exec;
  }

  private deps(): ExecutionDeps {
    const o = this.options;
    return {
      store: this.store,
      events: this.events,
      now: o.now,
      recheckMs: o.recheckMs,
      onError: o.onError,
    };
  }
}

/** Creates the durable task host and connects it (Redis, events, BullMQ worker). */
export async function createDurableTaskHost(
  input: DurableTaskHostOptions,
): Promise<DurableTaskHost> {
  const o = resolveDurableOptions(input);
  const keys = taskKeys(o.prefix);
  // Bounded like the cluster's own connection: while Redis is down a task call fails within
  // a few reconnects or REDIS_COMMAND_TIMEOUT_MS instead of waiting in the offline queue.
  const redis = new Redis(o.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  });
  redis.on('error', (err: unknown) => o.onError(err, 'task store'));
  let events: TaskEvents | undefined;
  try {
    await redis.connect();
    events = await TaskEvents.open(o.redisUrl, keys.events(), o.onError);
    const metrics = TaskMetrics.of(o.metrics);
    const onSettled = metrics === undefined ? undefined : metrics.finished.bind(metrics);
    // Owner indexes outlive any task in them: a task lives at most maxTtl running + maxTtl kept.
    // Redis down: a request's task call is a retryable -32016, not -32603 (see unavailable.ts).
    const store = tasksOutageAsUnavailable(new TaskStore(redis, keys, 2 * o.maxTtlMs, onSettled));
    const host = new DurableHost(o, redis, store, events, metrics);
    host.jobs = await TaskJobs.open(
      o,
      keys,
      (taskId, token) => host.process(taskId, token),
      (taskId, err) => host.jobFailed(taskId, err),
      (taskId, token) => host.lockLost(taskId, token),
    );
    host.collectMetrics();
    return host;
  } catch (err) {
    await events?.close();
    redis.disconnect();
    throw err;
  }
}

/**
 * The span of one run of a durable task: a new trace (the run may start long after, and on
 * another node than, the call that created it), linked to that call's span. Non-recording
 * while tracing is off.
 */
function runSpan(
  tool: string,
  taskId: string,
  created: Readonly<Record<string, string>> | undefined,
): Span {
  const origin = trace.getSpanContext(contextFromMeta(created, ROOT_CONTEXT));
  return startSpan(
    `tasks/run ${tool}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: { [MCP_ATTR.toolName]: tool, 'mcp_cluster.task.id': taskId },
      ...(origin === undefined ? {} : { links: [{ context: origin }] }),
    },
    ROOT_CONTEXT,
  );
}
