/**
 * The 2026-07-28 tasks extension checked against any task host: the in-memory host
 * (modern.test.ts) and the durable host (@mcp-cluster/queue modern.redis.test.ts) run these
 * same tests through their harness, so both hosts answer alike by construction.
 */
import { expect, it } from 'vitest';
import { MetaKey, ProtocolError } from '@mcp-cluster/protocol';
import type { CallToolResult, JsonObject } from '@mcp-cluster/protocol';
import type { TaskPort } from './api.js';
import { deferred, fakeCtx, rpcError, text, user } from './fakes.test-support.js';
import { getTask, statusBecomes } from './host-harness.test-support.js';
import type { TaskHostHarness } from './host-harness.test-support.js';

export const elicit = (message: string) => ({
  method: 'elicitation/create' as const,
  params: { message, requestedSchema: { type: 'object', properties: {} } },
});

const FORBIDDEN_ON_CREATE = [
  'task',
  'result',
  'error',
  'inputRequests',
  'requestState',
  'ttl',
  'pollInterval',
];

const never = (): Promise<CallToolResult> => new Promise(() => {});

export interface ModernLifecycleOptions {
  /** The create test's title (a `.test.ts` file claims its requirement with `verifies`). */
  readonly createTitle?: string;
  /** Runs start on the creating request (no job): a CreateTaskResult can already be parked. */
  readonly runsInline: boolean;
}

/**
 * Lifecycle, cancel and input of the tasks extension; `harness()` is read in each test, after
 * the caller's `beforeEach`. The host must use `pollIntervalMs: 250`.
 */
export function modernLifecycleTests(
  harness: () => TaskHostHarness,
  opts: ModernLifecycleOptions,
): void {
  const title =
    opts.createTitle ?? 'creates a flat CreateTaskResult, readable at once, then completed';
  it(title, async () => {
    const h = harness();
    const ctx = fakeCtx();
    const done = deferred<CallToolResult>();
    const created = await h.creator.start(() => done.promise, ctx, { ttlMs: 60_000 });

    expect(created).toMatchObject({ resultType: 'task', status: 'working', ttlMs: 60_000 });
    expect(created.pollIntervalMs).toBe(250);
    expect(created.taskId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(Date.parse(created.createdAt as string)).not.toBeNaN();
    expect(created.lastUpdatedAt).toBe(created.createdAt);
    for (const key of FORBIDDEN_ON_CREATE) expect(created).not.toHaveProperty(key);

    const taskId = created.taskId as string;
    expect(await getTask(h, taskId, ctx)).toEqual({
      resultType: 'complete',
      taskId,
      status: 'working',
      createdAt: created.createdAt,
      lastUpdatedAt: created.lastUpdatedAt,
      ttlMs: 60_000,
      pollIntervalMs: 250,
    });

    done.resolve({ ...text('done'), _meta: { [MetaKey.RelatedTask]: { taskId }, keep: 1 } });
    const completed = await statusBecomes(h, taskId, ctx, 'completed');
    expect(completed).toMatchObject({ resultType: 'complete', taskId, status: 'completed' });
    expect(completed.result).toEqual({ ...text('done'), _meta: { keep: 1 } });
    expect(completed).not.toHaveProperty('error');
    expect(completed).not.toHaveProperty('requestState');
  });

  it('drops an emptied _meta when only the related-task key was there', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const { taskId } = await h.creator.start(
      (port) =>
        Promise.resolve({
          ...text('x'),
          _meta: { [MetaKey.RelatedTask]: { taskId: port.taskId } },
        }),
      ctx,
      {},
    );
    const got = await statusBecomes(h, taskId as string, ctx, 'completed');
    expect(got.result).toEqual(text('x'));
  });

  it('a tool error (isError: true) is completed, not failed', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const { taskId } = await h.creator.start(
      () => Promise.resolve({ ...text('boom'), isError: true }),
      ctx,
      {},
    );
    const got = await statusBecomes(h, taskId as string, ctx, 'completed');
    expect(got.result).toEqual({ ...text('boom'), isError: true });
    expect(got).not.toHaveProperty('error');
  });

  it('a ProtocolError is failed with its code and message (and data) and no result', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const { taskId } = await h.creator.start(
      () => Promise.reject(new ProtocolError(-32050, 'upstream refused')),
      ctx,
      {},
    );
    const got = await statusBecomes(h, taskId as string, ctx, 'failed');
    expect(got.error).toEqual({ code: -32050, message: 'upstream refused' });
    expect(got).not.toHaveProperty('result');

    const withData = await h.creator.start(
      () => Promise.reject(new ProtocolError(-32602, 'bad', { field: 'x' })),
      ctx,
      {},
    );
    const failed = await statusBecomes(h, withData.taskId as string, ctx, 'failed');
    expect(failed.error).toEqual({ code: -32602, message: 'bad', data: { field: 'x' } });
  });

  it('any other throw is failed -32603 with a generic message (no internal text)', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const { taskId } = await h.creator.start(
      () => {
        throw new Error('secret db password in stack');
      },
      ctx,
      {},
    );
    const got = await statusBecomes(h, taskId as string, ctx, 'failed');
    expect(got.error).toEqual({ code: -32603, message: 'Internal error' });
    expect(JSON.stringify(got)).not.toContain('secret');
  });

  it('ignores the creating request aborting: the task outlives its request', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const gotPort = deferred<TaskPort>();
    const done = deferred<CallToolResult>();
    const { taskId } = await h.creator.start(
      (p) => {
        gotPort.resolve(p);
        return done.promise;
      },
      ctx,
      {},
    );
    ctx.abort();
    const port = await gotPort.promise;
    expect(port.signal.aborted).toBe(false);
    done.resolve(text('ok'));
    await statusBecomes(h, taskId as string, ctx, 'completed');
  });

  it('cancel: cancelled at once, the run aborts, acks idempotently', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const gotPort = deferred<TaskPort>();
    // A run that never finishes on its own and ignores its signal.
    const { taskId } = await h.creator.start(
      (port) => {
        gotPort.resolve(port);
        return never();
      },
      ctx,
      {},
    );
    const port = await gotPort.promise;
    expect(await h.handle('tasks/cancel', { taskId }, ctx)).toEqual({ resultType: 'complete' });
    const got = await getTask(h, taskId as string, ctx);
    expect(got.status).toBe('cancelled');
    expect(got.statusMessage).toBe('The task was cancelled by the client.');
    expect(got).not.toHaveProperty('result');
    expect(got).not.toHaveProperty('error');
    await h.until(() => port.signal.aborted, 'the run sees its signal abort');
    expect(await h.handle('tasks/cancel', { taskId }, ctx)).toEqual({ resultType: 'complete' });
    await h.quiesce();
  });

  it('a run that later resolves or rejects does not overwrite cancelled', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const started = deferred<void>();
    const rejected = deferred<void>();
    const { taskId } = await h.creator.start(
      (port) =>
        new Promise<CallToolResult>((_, reject) => {
          started.resolve();
          port.signal.addEventListener('abort', () => {
            reject(new Error('aborted'));
            rejected.resolve();
          });
        }),
      ctx,
      {},
    );
    await started.promise;
    await h.handle('tasks/cancel', { taskId }, ctx);
    await rejected.promise;
    await h.quiesce();
    expect((await getTask(h, taskId as string, ctx)).status).toBe('cancelled');
  });

  it('acks a cancel on a completed task and leaves it completed', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const { taskId } = await h.creator.start(() => Promise.resolve(text('fast')), ctx, {});
    await statusBecomes(h, taskId as string, ctx, 'completed');
    expect(await h.handle('tasks/cancel', { taskId }, ctx)).toEqual({ resultType: 'complete' });
    expect((await getTask(h, taskId as string, ctx)).status).toBe('completed');
  });

  it('a task parked for input is cancelled and its pending input rejects', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const inputOutcome = deferred<unknown>();
    const { taskId } = await h.creator.start(
      async (port) => {
        try {
          await port.input({ ok: elicit('sure?') });
          inputOutcome.resolve('answered');
        } catch (err) {
          inputOutcome.resolve(err);
        }
        return text('unreachable');
      },
      ctx,
      {},
    );
    await statusBecomes(h, taskId as string, ctx, 'input_required');
    await h.handle('tasks/cancel', { taskId }, ctx);
    expect(await inputOutcome.promise).toBeInstanceOf(ProtocolError);
    const got = await getTask(h, taskId as string, ctx);
    expect(got.status).toBe('cancelled');
    expect(got).not.toHaveProperty('inputRequests');
  });

  it('parks with opaque keys, resumes only when every key is answered', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const { taskId } = await h.creator.start(
      async (port) => {
        const answers = await port.input({ first: elicit('one?'), second: elicit('two?') });
        return text(`${JSON.stringify(answers.first)}|${JSON.stringify(answers.second)}`);
      },
      ctx,
      {},
    );
    const id = taskId as string;
    const parked = await statusBecomes(h, id, ctx, 'input_required');
    const requests = parked.inputRequests as Record<string, JsonObject>;
    const keys = Object.keys(requests);
    expect(keys).toHaveLength(2);
    expect(keys).not.toContain('first');
    expect(keys).not.toContain('second');
    const [k1, k2] = keys as [string, string];
    // In the order the tool asked.
    expect(requests[k1]).toEqual(elicit('one?'));
    expect(requests[k2]).toEqual(elicit('two?'));

    const ack = await h.handle(
      'tasks/update',
      { taskId, inputResponses: { [k1]: { action: 'accept', content: { n: 1 } } } },
      ctx,
    );
    expect(ack).toEqual({ resultType: 'complete' });
    const partial = await getTask(h, id, ctx);
    expect(partial.status).toBe('input_required');
    expect(Object.keys(partial.inputRequests as JsonObject)).toEqual([k2]);

    // Unknown keys are ignored and still acked.
    const unknown = { taskId, inputResponses: { 'unknown-key': { ignored: true } } };
    expect(await h.handle('tasks/update', unknown, ctx)).toEqual({ resultType: 'complete' });
    expect((await getTask(h, id, ctx)).status).toBe('input_required');

    await h.handle(
      'tasks/update',
      { taskId, inputResponses: { [k2]: { action: 'decline' } } },
      ctx,
    );
    const done = await statusBecomes(h, id, ctx, 'completed');
    expect(done.result).toEqual(text('{"action":"accept","content":{"n":1}}|{"action":"decline"}'));
    expect(done).not.toHaveProperty('inputRequests');
  });

  it('goes back to working between rounds and parks again for a second round', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const between = deferred<void>();
    const { taskId } = await h.creator.start(
      async (port) => {
        await port.input({ a: elicit('a?') });
        await between.promise;
        await port.input({ b: elicit('b?') });
        return text('two rounds');
      },
      ctx,
      {},
    );
    const id = taskId as string;
    const [ka] = Object.keys(
      (await statusBecomes(h, id, ctx, 'input_required')).inputRequests as JsonObject,
    );
    await h.handle('tasks/update', { taskId, inputResponses: { [ka as string]: {} } }, ctx);
    expect((await getTask(h, id, ctx)).status).toBe('working');
    between.resolve();
    const second = await statusBecomes(h, id, ctx, 'input_required');
    const [kb] = Object.keys(second.inputRequests as JsonObject);
    expect(kb).not.toBe(ka);
    await h.handle('tasks/update', { taskId, inputResponses: { [kb as string]: {} } }, ctx);
    await statusBecomes(h, id, ctx, 'completed');
  });

  it('keeps concurrent input calls apart: each resolves with its own answers', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const { taskId } = await h.creator.start(
      async (port) => {
        const [x, y] = await Promise.all([
          port.input({ same: elicit('x?') }),
          port.input({ same: elicit('y?') }),
        ]);
        return text(`${JSON.stringify(x)} ${JSON.stringify(y)}`);
      },
      ctx,
      {},
    );
    const id = taskId as string;
    await h.until(
      async () => Object.keys((await getTask(h, id, ctx)).inputRequests ?? {}).length === 2,
      'both input calls parked',
    );
    const requests = (await getTask(h, id, ctx)).inputRequests as Record<string, JsonObject>;
    const keyOf = (message: string): string =>
      Object.keys(requests).find(
        (k) => (requests[k]?.params as JsonObject | undefined)?.message === message,
      ) as string;
    await h.handle('tasks/update', { taskId, inputResponses: { [keyOf('y?')]: { v: 'y' } } }, ctx);
    expect((await getTask(h, id, ctx)).status).toBe('input_required');
    await h.handle('tasks/update', { taskId, inputResponses: { [keyOf('x?')]: { v: 'x' } } }, ctx);
    const done = await statusBecomes(h, id, ctx, 'completed');
    expect(done.result).toEqual(text('{"same":{"v":"x"}} {"same":{"v":"y"}}'));
  });

  it('rejects malformed inputResponses with -32602', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const { taskId } = await h.creator.start(
      async (port) => {
        await port.input({ k: elicit('?') });
        return text('ok');
      },
      ctx,
      {},
    );
    const [key] = Object.keys(
      (await statusBecomes(h, taskId as string, ctx, 'input_required')).inputRequests as JsonObject,
    );
    for (const inputResponses of [null, 12345, ['x'], { [key as string]: 'not an object' }]) {
      const err = await rpcError(h.handle('tasks/update', { taskId, inputResponses }, ctx));
      expect(err.code).toBe(-32602);
    }
    expect((await getTask(h, taskId as string, ctx)).status).toBe('input_required');
  });

  it('a principal only sees its own tasks', async () => {
    const h = harness();
    const alice = fakeCtx({ principal: user('alice') });
    const bob = fakeCtx({ principal: user('bob') });
    const { taskId } = await h.creator.start(never, alice, {});
    for (const method of ['tasks/get', 'tasks/cancel', 'tasks/update']) {
      const err = await rpcError(h.handle(method, { taskId, inputResponses: {} }, bob));
      expect(err.code).toBe(-32602);
    }
    expect((await getTask(h, taskId as string, alice)).status).toBe('working');
  });

  if (opts.runsInline) {
    it('CreateTaskResult may already say input_required, still without inputRequests', async () => {
      const h = harness();
      const ctx = fakeCtx();
      const created = await h.creator.start(
        async (port) => {
          await port.input({ k: elicit('now?') });
          return text('ok');
        },
        ctx,
        {},
      );
      expect(created.status).toBe('input_required');
      expect(created).not.toHaveProperty('inputRequests');
      const got = await getTask(h, created.taskId as string, ctx);
      expect(got.lastUpdatedAt).toBe(created.lastUpdatedAt);
    });
  }
}
