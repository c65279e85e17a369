/**
 * The durable host's task metrics against real Redis and a real Prometheus registry: finished
 * runs by status, runs on this node, the queue's depth, and takeovers (counted on the node
 * that takes a task over, never on the one that stopped).
 */
import { describe, expect, it } from 'vitest';
import { METRICS, PrometheusMetrics } from '@mcp-cluster/observability';
import type { CallToolResult, JsonObject } from '@mcp-cluster/protocol';
import type { TaskJob, TaskPort } from '@mcp-cluster/server';
import { deferred, fakeCtx, text } from '@mcp-cluster/server/test-support/tasks/fakes';
import { sampleSum, samples } from '@mcp-cluster/test-support';
import { jobFor, nodesPerTest, until } from './durable.test-support.js';
import type { Node } from './durable.test-support.js';

const never = (): Promise<CallToolResult> => new Promise(() => {});
const FINISHED = METRICS.tasksFinished.name;
const RUNNING = METRICS.tasksRunning.name;
const DEPTH = METRICS.taskQueueDepth.name;
const TAKEOVERS = METRICS.taskTakeovers.name;

const node = nodesPerTest();

function promMetrics(): PrometheusMetrics {
  return new PrometheusMetrics({ nodeDefaults: false });
}

async function status(n: Node, taskId: string): Promise<unknown> {
  return (await n.host.handle('tasks/get', { taskId }, fakeCtx())).status;
}

/** Waits until a scrape of `m` satisfies `check` (gauges follow the queue asynchronously). */
async function scrapeUntil(
  m: PrometheusMetrics,
  check: (text: string) => boolean,
  what: string,
): Promise<string> {
  let last = '';
  await until(async () => check((last = await m.text())), what, 10_000);
  return last;
}

/** A durable job whose first run never ends (its port is handed out); later runs complete. */
function parksFirstRun(): { job: TaskJob; firstRun: Promise<TaskPort> } {
  let calls = 0;
  const firstRun = deferred<TaskPort>();
  const job = jobFor((port) => {
    calls++;
    if (calls > 1) return Promise.resolve(text(`run ${calls}`));
    firstRun.resolve(port);
    return never();
  });
  return { job, firstRun: firstRun.promise };
}

describe('task metrics on one node', () => {
  it('counts completed, failed and cancelled runs and reads running and queue depth', async () => {
    const metrics = promMetrics();
    // One slot: while the parked task holds it, the next job waits in the queue.
    const a = await node('A', { metrics, concurrency: 1 });
    const ctx = fakeCtx();

    const parked = await a.host.start(never, ctx, {
      job: jobFor(async (port) => {
        await port.input({ q: { method: 'roots/list' } });
        return text('never answered');
      }),
    });
    const parkedId = parked.taskId as string;
    await until(async () => (await status(a, parkedId)) === 'input_required', 'parked');
    const queued = await a.host.start(never, ctx, {
      job: jobFor(() => Promise.resolve(text('ran after the parked one'))),
    });

    const held = await scrapeUntil(
      metrics,
      (t) => sampleSum(t, DEPTH, { state: 'waiting' }) === 1,
      'the second job waits',
    );
    expect(sampleSum(held, DEPTH, { state: 'active' })).toBe(1);
    expect(sampleSum(held, DEPTH, { state: 'delayed' })).toBe(0);
    expect(sampleSum(held, RUNNING)).toBe(1);
    expect(samples(held, FINISHED)).toEqual([]);

    await a.host.handle('tasks/cancel', { taskId: parkedId }, ctx);
    await until(async () => (await status(a, queued.taskId as string)) === 'completed', 'queued');
    const failing = await a.host.start(never, ctx, {
      job: jobFor(() => Promise.reject(new Error('tool broke'))),
    });
    await until(async () => (await status(a, failing.taskId as string)) === 'failed', 'failed');

    const after = await scrapeUntil(
      metrics,
      (t) => sampleSum(t, RUNNING) === 0 && sampleSum(t, DEPTH, { state: 'active' }) === 0,
      'nothing runs or is active',
    );
    expect(sampleSum(after, FINISHED, { status: 'completed' })).toBe(1);
    expect(sampleSum(after, FINISHED, { status: 'failed' })).toBe(1);
    expect(sampleSum(after, FINISHED, { status: 'cancelled' })).toBe(1);
    expect(sampleSum(after, DEPTH, { state: 'waiting' })).toBe(0);
    expect(samples(after, DEPTH).map((s) => s.labels.state)).toEqual([
      'waiting',
      'delayed',
      'active',
      'prioritized',
      'waiting-children',
    ]);
    expect(sampleSum(after, TAKEOVERS)).toBe(0);
  });

  it('counts a local run while it runs and when it ends; a closed host reads nothing', async () => {
    const metrics = promMetrics();
    const a = await node('A', { metrics });
    const done = deferred<CallToolResult>();
    const { taskId } = await a.host.start(() => done.promise, fakeCtx(), {});
    expect(sampleSum(await metrics.text(), RUNNING)).toBe(1);
    done.resolve(text('local'));
    await until(async () => (await status(a, taskId as string)) === 'completed', 'completed');
    const text1 = await scrapeUntil(metrics, (t) => sampleSum(t, RUNNING) === 0, 'ended');
    expect(sampleSum(text1, FINISHED, { status: 'completed' })).toBe(1);

    await a.host.close();
    const closed = await metrics.text();
    // Its collectors set nothing: the unlabelled gauge reads 0, the queue depth has no series.
    expect(samples(closed, RUNNING)).toEqual([{ name: RUNNING, labels: {}, value: 0 }]);
    expect(samples(closed, DEPTH)).toEqual([]);
    expect(sampleSum(closed, FINISHED, { status: 'completed' })).toBe(1);
  });
});

describe('takeover metrics', () => {
  it('counts a crashed node’s task on the node that runs it again, not on the crashed one', async () => {
    const ma = promMetrics();
    const mb = promMetrics();
    const a = await node('A', { metrics: ma });
    const { job, firstRun } = parksFirstRun();
    const { taskId } = await a.host.start(never, fakeCtx(), { job });
    await firstRun;
    expect(sampleSum(await ma.text(), RUNNING)).toBe(1);

    const b = await node('B', { metrics: mb });
    expect(sampleSum(await mb.text(), TAKEOVERS)).toBe(0);
    await a.host.kill();
    // B's stalled check finds A's lapsed lock, puts the job back, and B runs it.
    await until(async () => (await status(b, taskId as string)) === 'completed', 'on B');

    const onB = await mb.text();
    expect(sampleSum(onB, TAKEOVERS)).toBe(1);
    expect(sampleSum(onB, FINISHED, { status: 'completed' })).toBe(1);
    const onA = await ma.text();
    expect(sampleSum(onA, TAKEOVERS)).toBe(0);
    expect(samples(onA, FINISHED)).toEqual([]);
  });

  it('counts a job handed back on close and taken by another node', async () => {
    // A long lock: only the hand-back (not a lapsed lock) lets B take the job in time.
    const over = { lockDurationMs: 60_000 };
    const ma = promMetrics();
    const mb = promMetrics();
    const a = await node('A', { ...over, metrics: ma });
    const { job, firstRun } = parksFirstRun();
    const { taskId } = await a.host.start(never, fakeCtx(), { job });
    await firstRun;
    await a.host.close();
    const b = await node('B', { ...over, metrics: mb });
    await until(async () => (await status(b, taskId as string)) === 'completed', 'on B');
    expect(sampleSum(await mb.text(), TAKEOVERS)).toBe(1);
    expect(sampleSum(await ma.text(), TAKEOVERS)).toBe(0);
  });

  it('does not count the first run of a job on a node other than the one that created it', async () => {
    const ma = promMetrics();
    const mb = promMetrics();
    const a = await node('A', { canRun: () => false, unresolvedRetryMs: 50, metrics: ma });
    const b = await node('B', { unresolvedRetryMs: 50, metrics: mb });
    const created: JsonObject = await a.host.start(never, fakeCtx(), {
      job: jobFor(() => Promise.resolve(text('only B can'))),
    });
    await until(
      async () => (await status(b, created.taskId as string)) === 'completed',
      'completed on B',
    );
    const onB = await mb.text();
    expect(sampleSum(onB, TAKEOVERS)).toBe(0);
    expect(sampleSum(onB, FINISHED, { status: 'completed' })).toBe(1);
    expect(sampleSum(await ma.text(), TAKEOVERS)).toBe(0);
  });
});
