/**
 * Durable runs hold a lease (their BullMQ job lock): a run that loses it is aborted and can
 * never store a result, so a task taken over by another worker completes once, with the new
 * owner's result, even when the old run resumes and finishes.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProtocolError, RpcError } from '@mcp-cluster/protocol';
import type { CallToolResult, JsonObject } from '@mcp-cluster/protocol';
import type { TaskPort } from '@mcp-cluster/server';
import { deferred, fakeCtx, flush, text } from '@mcp-cluster/server/test-support/tasks/fakes';
import { jobFor, purge, redisUrl, startNode, testPrefix, until } from './durable.test-support.js';
import type { Node } from './durable.test-support.js';
import { jobLockKey, taskKeys } from './keys.js';
import { FENCED } from './scripts.js';
import { TaskStore } from './store.js';

/** Each test's prefix, nodes and own Redis connection (to play the other worker). */
let prefix = '';
let redis: Redis;
const started: Node[] = [];
beforeEach(() => {
  prefix = testPrefix();
  redis = new Redis(redisUrl());
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.host.close()));
  await redis.quit();
  await purge(prefix);
});

async function node(id: string, over: Parameters<typeof startNode>[2] = {}): Promise<Node> {
  const n = await startNode(prefix, id, over);
  started.push(n);
  return n;
}

async function get(n: Node, taskId: string, ctx = fakeCtx()): Promise<JsonObject> {
  return n.host.handle('tasks/get', { taskId }, ctx);
}

/** The stored result (modern tasks/get carries it once the task completed). */
async function result(n: Node, taskId: string, ctx = fakeCtx()): Promise<unknown> {
  return (await get(n, taskId, ctx)).result;
}

/**
 * A durable job whose first run waits for `release` and then returns "first run" whatever its
 * signal says (a tool that ignores cancellation); later runs return "run <n>" at once.
 */
function slowFirstRun(): {
  job: ReturnType<typeof jobFor>;
  firstPort: Promise<TaskPort>;
  release: () => void;
  firstReturned: Promise<void>;
} {
  let calls = 0;
  const port = deferred<TaskPort>();
  const gate = deferred<void>();
  const returned = deferred<void>();
  const job = jobFor(async (p): Promise<CallToolResult> => {
    calls++;
    if (calls > 1) return text(`run ${calls}`);
    port.resolve(p);
    await gate.promise;
    returned.resolve();
    return text('first run');
  });
  return {
    job,
    firstPort: port.promise,
    release: () => gate.resolve(),
    firstReturned: returned.promise,
  };
}

function leaseLostError(signal: AbortSignal): void {
  expect(signal.reason).toBeInstanceOf(ProtocolError);
  expect((signal.reason as ProtocolError).code).toBe(RpcError.RequestCancelled.code);
  expect((signal.reason as ProtocolError).message).toMatch(/lost its lease/);
}

describe('a run that lost its lease', () => {
  it('is aborted when its lock lapses, its late result is dropped, and the new owner completes the task', async () => {
    // A runs the first run only: afterwards it declines the job, so the takeover is B's.
    let offeredToA = 0;
    const a = await node('A', { canRun: () => ++offeredToA === 1, unresolvedRetryMs: 100 });
    const ctx = fakeCtx();
    const { job, firstPort, release, firstReturned } = slowFirstRun();
    const created = await a.host.start(() => new Promise(() => {}), ctx, { job });
    const taskId = created.taskId as string;
    const port = await firstPort;
    const b = await node('B');

    // A stalls past its lease: its lock is gone (as if it lapsed while A's process hung).
    await redis.del(jobLockKey(taskKeys(prefix), taskId));

    // A's failed lock renewal aborts its run; B's stalled check frees the job and B runs it.
    await until(() => port.signal.aborted, "the first run's signal aborted");
    leaseLostError(port.signal);
    await until(async () => (await get(b, taskId, ctx)).status === 'completed', 'completed on B');
    expect(await result(b, taskId, ctx)).toEqual(text('run 2'));

    // The first run resumes and returns: nothing of it reaches the record.
    release();
    await firstReturned;
    await flush();
    expect(await result(a, taskId, ctx)).toEqual(text('run 2'));
    expect(b.resolved).toHaveLength(1);
  });

  it('is aborted when another run begins, even while its own lock still renews', async () => {
    const a = await node('A');
    const ctx = fakeCtx();
    const { job, firstPort, release, firstReturned } = slowFirstRun();
    const created = await a.host.start(() => new Promise(() => {}), ctx, { job });
    const taskId = created.taskId as string;
    const port = await firstPort;

    // Another run takes the record (BEGIN with its own token): A hears it and stops.
    const store = new TaskStore(redis, taskKeys(prefix), 60_000);
    // A began as generation 1; this is generation 2.
    expect(await store.begin(taskId, `other-${randomUUID()}`, 'X', new Date().toISOString())).toBe(
      2,
    );
    await until(() => port.signal.aborted, "the first run's signal aborted");
    leaseLostError(port.signal);

    release();
    await firstReturned;
    await flush();
    expect(await get(a, taskId, ctx)).toMatchObject({ status: 'working' });
  });
});

describe('the fenced settle', () => {
  it('stores a result only while the run holds both the record and the job lock', async () => {
    const keys = taskKeys(prefix);
    const store = new TaskStore(redis, keys, 60_000);
    const id = `task-${randomUUID()}`;
    const nowIso = new Date().toISOString();
    await store.create({
      id,
      owner: 'o',
      era: 'modern',
      createdAt: nowIso,
      ttlMs: 60_000,
      expiresAt: Date.now() + 60_000,
      kind: 'job',
      context: fakeContext(),
      job: { tool: 't', arguments: {}, resumable: true },
      node: 'A',
    });
    const lock = jobLockKey(keys, id);
    const settle = (token: string): Promise<number> =>
      store.settle(id, 'o', 60_000, {
        status: 'completed',
        token,
        nowMs: Date.now(),
        result: text(`from ${token}`),
      });
    expect(await store.begin(id, 'old', 'A', nowIso)).toBe(1);

    // The lock lapsed and nobody took the job yet: the old run may not settle.
    expect(await settle('old')).toBe(FENCED);
    // A new worker holds the lock but has not begun (the record still names the old run).
    await redis.set(lock, 'new');
    expect(await settle('old')).toBe(FENCED);
    // The new run began: still fenced for the old one; the new one settles.
    expect(await store.begin(id, 'new', 'B', nowIso)).toBe(2);
    expect(await settle('old')).toBe(FENCED);
    expect(await settle('new')).toBe(1);
    expect((await store.read(id))?.result).toEqual(text('from new'));
  });
});

function fakeContext(): Parameters<TaskStore['create']>[0]['context'] {
  return {
    era: 'modern',
    protocolVersion: '2026-07-28',
    principal: { id: 'u', kind: 'user', roles: [] },
    clientCapabilities: {},
  };
}
