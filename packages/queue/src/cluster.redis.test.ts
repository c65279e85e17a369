/**
 * What only a durable host does: crash takeover, jobs a node cannot run, handing jobs back
 * on close, TTLs in Redis, and the host lifecycle.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@mcp-cluster/protocol';
import type { CallToolResult, JsonObject } from '@mcp-cluster/protocol';
import type { TaskJob, TaskPort } from '@mcp-cluster/server';
import {
  ManualClock,
  deferred,
  fakeCtx,
  rpcError,
  text,
  user,
} from '@mcp-cluster/server/test-support/tasks/fakes';
import { jobFor, nodesPerTest, until } from './durable.test-support.js';
import type { Node } from './durable.test-support.js';

const never = (): Promise<CallToolResult> => new Promise(() => {});

const node = nodesPerTest();

/**
 * A durable job whose first run never ends (its port is handed out, to watch it being
 * aborted); every later run completes with `finish(run number)`.
 */
function parksFirstRun(finish: (run: number) => string): {
  job: TaskJob;
  firstRun: Promise<TaskPort>;
} {
  let calls = 0;
  const firstRun = deferred<TaskPort>();
  const job = jobFor((port) => {
    calls++;
    if (calls === 1) {
      firstRun.resolve(port);
      return never();
    }
    return Promise.resolve(text(finish(calls)));
  });
  return { job, firstRun: firstRun.promise };
}

async function get(n: Node, taskId: string, ctx = fakeCtx()): Promise<JsonObject> {
  return n.host.handle('tasks/get', { taskId }, ctx);
}

describe('crash takeover', () => {
  it('a durable task whose node dies is run again on another node and completes there', async () => {
    const a = await node('A');
    const ctx = fakeCtx({ principal: user('alice') });
    const { job, firstRun } = parksFirstRun((run) => `done on run ${run}`);
    const created = await a.host.start(never, ctx, { job });
    const taskId = created.taskId as string;
    await firstRun;
    expect(a.resolved).toHaveLength(1);

    const b = await node('B');
    await a.host.kill();
    // B's stalled check finds A's lapsed lock, puts the job back, and B runs it.
    await until(async () => (await get(b, taskId, ctx)).status === 'completed', 'completed on B');
    const done = await get(b, taskId, ctx);
    expect(done.result).toEqual(text('done on run 2'));
    expect(b.resolved).toHaveLength(1);
    // The run on B got the creating request's identity back.
    const rebuilt = b.resolved[0]!.ctx;
    expect(rebuilt).toMatchObject({
      era: 'modern',
      protocolVersion: '2026-07-28',
      principal: { id: 'alice', kind: 'user', roles: [] },
      clientCapabilities: ctx.clientCapabilities,
    });
    expect(b.resolved[0]!.job).toEqual(job);
  });

  it('a task parked for input when its node dies asks again with fresh keys on the new node', async () => {
    const a = await node('A');
    const ctx = fakeCtx();
    let calls = 0;
    const job = jobFor(async (port) => {
      calls++;
      const answer = await port.input({ q: { method: 'roots/list' } });
      return text(`run ${calls}: ${JSON.stringify(answer.q)}`);
    });
    const { taskId } = await a.host.start(never, ctx, { job });
    const id = taskId as string;
    await until(async () => (await get(a, id)).status === 'input_required', 'parked on A');
    const [oldKey] = Object.keys((await get(a, id)).inputRequests as JsonObject);

    const b = await node('B');
    await a.host.kill();
    await until(async () => {
      const t = await get(b, id);
      const keys = Object.keys(t.inputRequests ?? {});
      return t.status === 'input_required' && keys.length === 1 && keys[0] !== oldKey;
    }, 'parked again on B with a new key');
    const t = await get(b, id);
    const [newKey] = Object.keys(t.inputRequests as JsonObject);
    // An answer to the dead run's key is ignored; the new key resumes the new run.
    await b.host.handle(
      'tasks/update',
      { taskId, inputResponses: { [oldKey as string]: { roots: ['stale'] } } },
      ctx,
    );
    expect((await get(b, id)).status).toBe('input_required');
    await b.host.handle(
      'tasks/update',
      { taskId, inputResponses: { [newKey as string]: { roots: [] } } },
      ctx,
    );
    await until(async () => (await get(b, id)).status === 'completed', 'completed on B');
    expect((await get(b, id)).result).toEqual(text('run 2: {"roots":[]}'));
  });
});

describe('a run that keeps killing its node', () => {
  it('ends failed once its job stalled more than maxStalledCount times', async () => {
    const over = { maxStalledCount: 1 };
    const a = await node('A', over);
    const ctx = fakeCtx();
    let runs = 0;
    const job = jobFor(() => {
      runs++;
      return never();
    });
    const { taskId } = await a.host.start(never, ctx, { job });
    const id = taskId as string;
    await until(() => runs === 1, 'first run on A');
    const b = await node('B', over);
    await a.host.kill();
    await until(() => runs === 2, 'second run on B', 10_000);
    const c = await node('C', over);
    await b.host.kill();
    await until(async () => (await get(c, id)).status === 'failed', 'failed', 10_000);
    expect((await get(c, id)).error).toEqual({ code: -32603, message: 'Internal error' });
    expect(runs).toBe(2);
  });
});

describe('jobs a node cannot run', () => {
  it('a node lacking the tool declines it and a node that has it runs it', async () => {
    const a = await node('A', { canRun: () => false, unresolvedRetryMs: 50 });
    const b = await node('B', { unresolvedRetryMs: 50 });
    const ctx = fakeCtx();
    const job = jobFor(() => Promise.resolve(text('only B can')));
    const { taskId } = await a.host.start(never, ctx, { job });
    await until(async () => (await get(a, taskId as string)).status === 'completed', 'completed');
    expect((await get(a, taskId as string)).result).toEqual(text('only B can'));
    expect(b.resolved.map((r) => r.job.tool)).toEqual([job.tool]);
  });

  it('a task no node can run ends failed after maxUnresolved offers', async () => {
    const a = await node('A', { canRun: () => false, unresolvedRetryMs: 20, maxUnresolved: 3 });
    const ctx = fakeCtx();
    const job = { tool: 'nobody-has-this', arguments: { x: 1 }, resumable: true };
    const { taskId } = await a.host.start(never, ctx, { job });
    await until(async () => (await get(a, taskId as string)).status === 'failed', 'failed');
    expect((await get(a, taskId as string)).error).toEqual({
      code: -32603,
      message: 'No node can run tool nobody-has-this',
    });
    expect(a.resolved).toHaveLength(3);
  });

  it('a job marked not resumable runs locally on the creating node, readable everywhere', async () => {
    const a = await node('A');
    const b = await node('B');
    const ctx = fakeCtx();
    const done = deferred<CallToolResult>();
    const { taskId } = await a.host.start(() => done.promise, ctx, {
      job: { tool: 'with-prepare', arguments: {}, resumable: false },
    });
    expect(a.host.running).toBe(1);
    expect(a.resolved.length + b.resolved.length).toBe(0);
    done.resolve(text('local'));
    await until(async () => (await get(b, taskId as string)).status === 'completed', 'done');
  });
});

describe('close', () => {
  it('hands an in-flight durable job back to the queue (not failed, not cancelled)', async () => {
    // A long lock: only a hand-back (not a lapsed lock) lets B take the job in time.
    const over = { lockDurationMs: 60_000 };
    const a = await node('A', over);
    const ctx = fakeCtx();
    const { job, firstRun } = parksFirstRun(() => 'finished after hand-back');
    const { taskId } = await a.host.start(never, ctx, { job });
    const port = await firstRun;
    await a.host.close();
    expect(port.signal.aborted).toBe(true);

    const b = await node('B', over);
    expect((await get(b, taskId as string)).status).toBe('working');
    await until(
      async () => (await get(b, taskId as string)).status === 'completed',
      'on B',
      10_000,
    );
    expect((await get(b, taskId as string)).result).toEqual(text('finished after hand-back'));
  });

  it('cancels local runs, refuses new tasks with -32016, and does not hang', async () => {
    const a = await node('A');
    const b = await node('B');
    const ctx = fakeCtx();
    const ports: TaskPort[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { taskId } = await a.host.start(
        (p) => {
          ports.push(p);
          return never();
        },
        ctx,
        {},
      );
      ids.push(taskId as string);
    }
    await a.host.close();
    expect(ports.every((p) => p.signal.aborted)).toBe(true);
    expect(a.host.running).toBe(0);
    for (const id of ids) {
      const t = await get(b, id);
      expect([t.status, t.statusMessage]).toEqual(['cancelled', 'The server is shutting down.']);
    }
    const err = await a.host.start(never, ctx, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(-32016);
  });
});

describe('retention', () => {
  it('a result stays readable for ttlMs after completion, then is gone (-32602)', async () => {
    const clock = new ManualClock();
    const a = await node('A', { now: clock.now });
    const b = await node('B', { now: clock.now });
    const done = deferred<CallToolResult>();
    const created = await a.host.start(() => done.promise, fakeCtx(), { ttlMs: 10_000 });
    const taskId = created.taskId as string;

    clock.advance(8_000);
    done.resolve(text('late'));
    await until(async () => (await get(b, taskId)).status === 'completed', 'completed');
    // Past creation + ttl, but completion restarted the clock.
    clock.advance(9_999);
    const got = await get(b, taskId);
    expect(got.lastUpdatedAt).toBe(new Date(clock.ms - 9_999).toISOString());
    expect(got.createdAt).toBe(new Date(clock.ms - 17_999).toISOString());
    clock.advance(1);
    expect((await rpcError(get(b, taskId))).code).toBe(-32602);
    expect((await rpcError(get(a, taskId))).code).toBe(-32602);
  });

  it('a task still running when its Redis TTL lapses is gone and its run aborted', async () => {
    const a = await node('A', { minTtlMs: 300 });
    const b = await node('B', { minTtlMs: 300 });
    const gotPort = deferred<TaskPort>();
    const created = await a.host.start(
      (p) => {
        gotPort.resolve(p);
        return never();
      },
      fakeCtx(),
      { ttlMs: 300 },
    );
    const kept = await a.host.start(never, fakeCtx(), { ttlMs: 60_000 });
    const port = await gotPort.promise;
    await until(() => port.signal.aborted, 'the run is aborted', 5_000);
    expect((await rpcError(get(b, created.taskId as string))).code).toBe(-32602);
    expect((await get(b, kept.taskId as string)).status).toBe('working');
  });

  it('clamps the requested TTL to [minTtlMs, maxTtlMs] and defaults it', async () => {
    const a = await node('A', { minTtlMs: 1_000, maxTtlMs: 100_000, defaultTtlMs: 50_000 });
    const ctx = fakeCtx();
    expect((await a.host.start(never, ctx, { ttlMs: 10 })).ttlMs).toBe(1_000);
    expect((await a.host.start(never, ctx, { ttlMs: 1e12 })).ttlMs).toBe(100_000);
    expect((await a.host.start(never, ctx, {})).ttlMs).toBe(50_000);
    expect((await a.host.start(never, ctx, { ttlMs: Number.NaN })).ttlMs).toBe(50_000);
    expect((await a.host.start(never, ctx, { ttlMs: 2_500.4 })).ttlMs).toBe(2_500);
  });
});

describe('ids and options', () => {
  it('uses the injected idFactory and retries ids in use (across nodes)', async () => {
    const ids = ['a', 'a', 'b'];
    const idFactory = (): string => ids.shift() ?? 'a';
    const a = await node('A', { idFactory });
    const b = await node('B', { idFactory });
    expect((await a.host.start(never, fakeCtx(), {})).taskId).toBe('a');
    expect((await b.host.start(never, fakeCtx(), {})).taskId).toBe('b');
    const err = await a.host.start(never, fakeCtx(), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ProtocolError);
  });

  it('validates options once, at creation', async () => {
    await expect(node('A', { prefix: 'bad prefix!' })).rejects.toThrow(RangeError);
    await expect(node('A', { lockDurationMs: 0 })).rejects.toThrow(RangeError);
    await expect(node('A', { pollIntervalMs: 1.5 })).rejects.toThrow(RangeError);
  });
});
