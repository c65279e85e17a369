/**
 * Load shedding over the in-memory dispatch wire with a real router: a worker at its
 * concurrency limit takes no new dispatch, the request waits (bounded) in the capacity queue
 * for a slot, and is refused with -32016 "at capacity" + retryAfterMs when it may not wait.
 */
import { MemoryDispatch } from '@mcp-cluster/cluster';
import type { DispatchCall, DispatchOutcome } from '@mcp-cluster/cluster';
import { ProtocolError, RpcError } from '@mcp-cluster/protocol';
import { Router, asWorkerId } from '@mcp-cluster/router';
import { describe, expect, it } from 'vitest';
import { CAPACITY_RETRY_AFTER_MS, CapacityQueue } from './capacity.js';
import type { ShedReason } from './capacity.js';
import { dispatchWithRetry, verdictOf, withRouterFeedback } from './dispatch.js';
import type { DispatchDeps, DispatchPlan, DispatchResult } from './dispatch.js';

const SECRET = 'x'.repeat(32);

/** A worker whose calls end when the test says so (a slow tool). */
class SlowWorker {
  readonly pending: ((o: DispatchOutcome) => void)[] = [];
  readonly answer = (_call: DispatchCall): Promise<DispatchOutcome> =>
    new Promise((resolve) => this.pending.push(resolve));
  /** Ends the oldest running call with a response. */
  finishOne(): void {
    const resolve = this.pending.shift();
    if (resolve === undefined) throw new Error('nothing running');
    resolve({ kind: 'message', message: { jsonrpc: '2.0', id: 1, result: {} } });
  }
}

interface Setup {
  readonly router: Router;
  readonly queue: CapacityQueue;
  readonly deps: DispatchDeps;
  readonly worker: SlowWorker;
  readonly shed: ShedReason[];
  readonly dead: string[];
}

function setup(opts: { limit: number; max: number; timeoutMs: number }): Setup {
  const shed: ShedReason[] = [];
  const dead: string[] = [];
  const queue = new CapacityQueue({
    max: opts.max,
    timeoutMs: opts.timeoutMs,
    onShed: (r) => shed.push(r),
  });
  const router = new Router({ onSlotFree: () => queue.release() });
  router.pool.upsert({ id: asWorkerId('a'), url: 'http://a.invalid', maxConcurrency: opts.limit });
  const worker = new SlowWorker();
  const port = withRouterFeedback(new MemoryDispatch().worker('a', worker.answer), router);
  const deps: DispatchDeps = {
    port,
    secret: SECRET,
    markDead: (id) => dead.push(id),
    onError: () => undefined,
    capacity: queue,
  };
  return { router, queue, deps, worker, shed, dead };
}

function plan(router: Router, extra: Partial<DispatchPlan<unknown>> = {}): DispatchPlan<unknown> {
  return {
    method: 'tools/call',
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/call"}',
    headers: { 'x-mcp-cluster-era': 'modern' },
    attempts: 4,
    pick: () => router.pick({ method: 'tools/call' }),
    settle: (answer) => (answer.kind === 'message' ? answer.message : 'accepted'),
    ...extra,
  };
}

/** Polls `cond` on the event loop until it holds, or fails after a bounded deadline. */
async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

function expectAtCapacity(result: DispatchResult<unknown>): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error.code).toBe(RpcError.Unavailable.code);
  expect(result.error.message).toBe('The cluster is at capacity');
  expect(result.error.data).toEqual({ retryAfterMs: CAPACITY_RETRY_AFTER_MS });
}

describe('load shedding at the gateway', () => {
  it('a request beyond the limit waits and runs when a slot frees', async () => {
    const s = setup({ limit: 2, max: 10, timeoutMs: 10_000 });
    const results = [0, 1, 2].map(() => dispatchWithRetry(s.deps, plan(s.router)));
    await until(
      () => s.worker.pending.length === 2 && s.queue.depth === 1,
      'two running, one queued',
    );
    expect(s.router.pool.get(asWorkerId('a'))?.inFlight).toBe(2);
    s.worker.finishOne();
    await until(() => s.worker.pending.length === 2 && s.queue.depth === 0, 'the third running');
    s.worker.finishOne();
    s.worker.finishOne();
    for (const r of await Promise.all(results)) expect(r.ok).toBe(true);
    expect(s.shed).toEqual([]);
    expect(s.router.pool.get(asWorkerId('a'))?.inFlight).toBe(0);
  });

  it('serves waiting requests first come, first served', async () => {
    const s = setup({ limit: 1, max: 10, timeoutMs: 10_000 });
    const order: number[] = [];
    const first = dispatchWithRetry(s.deps, plan(s.router));
    await until(() => s.worker.pending.length === 1, 'one running');
    const waiting = [1, 2, 3].map((i) =>
      dispatchWithRetry(s.deps, plan(s.router, { settle: () => (order.push(i), i) })),
    );
    await until(() => s.queue.depth === 3, 'three queued');
    for (let i = 0; i < 4; i++) {
      await until(() => s.worker.pending.length === 1, `call ${i} running`);
      s.worker.finishOne();
    }
    expect((await first).ok).toBe(true);
    await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3]);
  });

  it('refuses at once when the queue is full', async () => {
    const s = setup({ limit: 1, max: 1, timeoutMs: 10_000 });
    const running = dispatchWithRetry(s.deps, plan(s.router));
    await until(() => s.worker.pending.length === 1, 'one running');
    const queued = dispatchWithRetry(s.deps, plan(s.router));
    await until(() => s.queue.depth === 1, 'one queued');
    const started = performance.now();
    expectAtCapacity(await dispatchWithRetry(s.deps, plan(s.router)));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(s.shed).toEqual(['queue_full']);
    s.worker.finishOne();
    await until(() => s.worker.pending.length === 1, 'the queued one running');
    s.worker.finishOne();
    expect((await running).ok).toBe(true);
    expect((await queued).ok).toBe(true);
    expect(s.dead).toEqual([]);
  });

  it('refuses a queued request whose wait times out', async () => {
    const s = setup({ limit: 1, max: 10, timeoutMs: 50 });
    const running = dispatchWithRetry(s.deps, plan(s.router));
    await until(() => s.worker.pending.length === 1, 'one running');
    expectAtCapacity(await dispatchWithRetry(s.deps, plan(s.router)));
    expect(s.shed).toEqual(['timeout']);
    expect(s.queue.depth).toBe(0);
    s.worker.finishOne();
    expect((await running).ok).toBe(true);
  });

  it('waits no longer than the request deadline, and not at all past it', async () => {
    const s = setup({ limit: 1, max: 10, timeoutMs: 60_000 });
    const running = dispatchWithRetry(s.deps, plan(s.router));
    await until(() => s.worker.pending.length === 1, 'one running');
    const started = performance.now();
    expectAtCapacity(
      await dispatchWithRetry(s.deps, plan(s.router, { deadlineAt: Date.now() + 50 })),
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    expectAtCapacity(
      await dispatchWithRetry(s.deps, plan(s.router, { deadlineAt: Date.now() - 1 })),
    );
    expect(s.shed).toEqual(['timeout', 'timeout']);
    s.worker.finishOne();
    await running;
  });

  it('leaves the queue when the client goes away', async () => {
    const s = setup({ limit: 1, max: 10, timeoutMs: 60_000 });
    const running = dispatchWithRetry(s.deps, plan(s.router));
    await until(() => s.worker.pending.length === 1, 'one running');
    const ac = new AbortController();
    const waiting = dispatchWithRetry(s.deps, plan(s.router, { signal: ac.signal }));
    await until(() => s.queue.depth === 1, 'one queued');
    ac.abort();
    const result = await waiting;
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(ProtocolError.of('RequestCancelled').code);
    expect(s.queue.depth).toBe(0);
    expect(s.shed).toEqual([]);
    s.worker.finishOne();
    await running;
  });

  it('without a queue (max 0) a saturated pick is refused at once', async () => {
    const s = setup({ limit: 1, max: 0, timeoutMs: 2_000 });
    const running = dispatchWithRetry(s.deps, plan(s.router));
    await until(() => s.worker.pending.length === 1, 'one running');
    expectAtCapacity(await dispatchWithRetry(s.deps, plan(s.router)));
    expectAtCapacity(await dispatchWithRetry({ ...s.deps, capacity: undefined }, plan(s.router)));
    s.worker.finishOne();
    await running;
  });

  it('a wake-up the head cannot use passes to the next waiter', async () => {
    // Two workers, each limit 1; waiter 1 needs `b` (its owner), waiter 2 can use either.
    const queue = new CapacityQueue({ max: 10, timeoutMs: 10_000 });
    const router = new Router({ onSlotFree: () => queue.release() });
    router.pool.upsert({ id: asWorkerId('a'), url: 'http://a', maxConcurrency: 1 });
    router.pool.upsert({
      id: asWorkerId('b'),
      url: 'http://b',
      maxConcurrency: 1,
      owns: { tools: ['only-b'] },
    });
    const a = new SlowWorker();
    const b = new SlowWorker();
    const port = withRouterFeedback(
      new MemoryDispatch().worker('a', a.answer).worker('b', b.answer),
      router,
    );
    const deps: DispatchDeps = {
      port,
      secret: SECRET,
      markDead: () => undefined,
      onError: () => undefined,
      capacity: queue,
    };
    const onlyB = plan(router, {
      pick: () => router.pick({ method: 'tools/call', name: 'only-b' }),
    });
    const any = plan(router, { pick: () => router.pick({ method: 'ping' }) });
    const held = [dispatchWithRetry(deps, any), dispatchWithRetry(deps, any)];
    await until(() => a.pending.length === 1 && b.pending.length === 1, 'both busy');
    const w1 = dispatchWithRetry(deps, onlyB);
    const w2 = dispatchWithRetry(deps, any);
    await until(() => queue.depth === 2, 'two queued');
    a.finishOne();
    // Waiter 1 cannot use `a`: it keeps its place, waiter 2 takes the slot.
    await until(() => a.pending.length === 1 && queue.depth === 1, 'waiter 2 on a');
    b.finishOne();
    await until(() => b.pending.length === 1 && queue.depth === 0, 'waiter 1 on b');
    a.finishOne();
    b.finishOne();
    for (const r of await Promise.all([...held, w1, w2])) expect(r.ok).toBe(true);
  });
});

describe("a worker's own refusal at capacity", () => {
  const saturated: DispatchOutcome = {
    kind: 'refused',
    status: 503,
    failure: { error: { code: -32016, message: 'Worker at capacity' }, reason: 'saturated' },
  };

  it('is retried elsewhere without taking the worker out', () => {
    expect(verdictOf(saturated, 'tools/call', false)).toEqual({
      next: 'retry',
      reason: 'Worker at capacity',
      workerGone: false,
    });
  });

  it('ends at capacity (with Retry-After) when every attempt is refused so', async () => {
    const dead: string[] = [];
    const port = new MemoryDispatch().worker('a', () => Promise.resolve(saturated));
    const router = new Router();
    router.pool.upsert({ id: asWorkerId('a'), url: 'http://a' });
    const result = await dispatchWithRetry(
      {
        port,
        secret: SECRET,
        markDead: (id) => dead.push(id),
        onError: () => undefined,
        sleep: () => Promise.resolve(),
      },
      plan(router),
    );
    expectAtCapacity(result);
    expect(dead).toEqual([]);
  });
});
