/**
 * The 2025-11-25 task methods checked against any task host: the in-memory host
 * (legacy.test.ts) and the durable host (@mcp-cluster/queue legacy.redis.test.ts) run these
 * same tests through their harness. Every view is validated against the official schema.
 */
import { expect, it } from 'vitest';
import { MetaKey, ProtocolError } from '@mcp-cluster/protocol';
import type { CallToolResult, JsonObject } from '@mcp-cluster/protocol';
import { deferred, fakeCtx, flush, rpcError, schemaDef, text, user } from './fakes.test-support.js';
import type { Deferred } from './fakes.test-support.js';
import { statusBecomes } from './host-harness.test-support.js';
import type { TaskHostHarness } from './host-harness.test-support.js';

/** The host options these tests vary; everything else is the host's default. */
export interface LegacyHostOptions {
  readonly pollIntervalMs?: number;
  readonly pageSize?: number;
  readonly statusNotifications?: boolean;
}

/** Creates the host(s) of one test with `over`; the caller's `afterEach` closes them. */
export type LegacyHarnessFactory = (over?: LegacyHostOptions) => Promise<TaskHostHarness>;

const never = (): Promise<CallToolResult> => new Promise(() => {});

const legacy = (sessionId = 's1', over: Parameters<typeof fakeCtx>[0] = {}) =>
  fakeCtx({ era: 'legacy', sessionId, ...over });

function expectSchema(def: string, value: unknown): void {
  const validate = schemaDef('2025-11-25', def);
  expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
}

const taskIdOf = (created: JsonObject): string => (created.task as JsonObject).taskId as string;

/**
 * The methods on a task as it runs: shapes, tasks/result (outcomes, input on its stream),
 * tasks/cancel and status notifications. Tasks are created on the harness's `creator`.
 */
export function legacyTaskMethodTests(
  make: LegacyHarnessFactory,
  opts: { readonly shapesTitle?: string } = {},
): void {
  const shapes = opts.shapesTitle ?? 'returns {task} and Task views that match the official schema';
  it(shapes, async () => {
    const h = await make({ pollIntervalMs: 300 });
    const ctx = legacy();
    const done = deferred<CallToolResult>();
    const created = await h.creator.start(() => done.promise, ctx, { ttlMs: 30_000 });
    expectSchema('CreateTaskResult', created);
    const task = created.task as JsonObject;
    expect(task).toMatchObject({ status: 'working', ttl: 30_000, pollInterval: 300 });
    expect(created).not.toHaveProperty('resultType');

    const taskId = task.taskId as string;
    const got = await h.handle('tasks/get', { taskId }, ctx);
    expectSchema('GetTaskResult', got);
    expect(got).toEqual(task);

    done.resolve(text('legacy done'));
    const completed = await statusBecomes(h, taskId, ctx, 'completed');
    expectSchema('GetTaskResult', completed);
    expect(completed).not.toHaveProperty('result');
  });

  it('tasks/result blocks until the task is terminal, then returns the result with related-task', async () => {
    const h = await make();
    const ctx = legacy();
    const started = deferred<void>();
    const done = deferred<CallToolResult>();
    const created = await h.creator.start(
      () => {
        started.resolve();
        return done.promise;
      },
      ctx,
      {},
    );
    const taskId = taskIdOf(created);

    let settled = false;
    const pending = h.handle('tasks/result', { taskId }, legacy());
    void pending.finally(() => {
      settled = true;
    });
    // Still waiting once the run is certainly under way.
    await started.promise;
    await flush();
    expect(settled).toBe(false);

    done.resolve({ ...text('payload'), isError: true, _meta: { other: 'x' } });
    const result = await pending;
    expectSchema('CallToolResult', result);
    expect(result).toEqual({
      ...text('payload'),
      isError: true,
      _meta: { other: 'x', [MetaKey.RelatedTask]: { taskId } },
    });
  });

  it('tasks/result of a failed task is its error; of a cancelled task an error too', async () => {
    const h = await make();
    const ctx = legacy();
    const failed = await h.creator.start(
      () => Promise.reject(new ProtocolError(-32602, 'bad arguments', { field: 'x' })),
      ctx,
      {},
    );
    const err = await rpcError(h.handle('tasks/result', { taskId: taskIdOf(failed) }, ctx));
    expect([err.code, err.message, err.data]).toEqual([-32602, 'bad arguments', { field: 'x' }]);

    const runningId = taskIdOf(await h.creator.start(never, ctx, {}));
    const waiting = rpcError(h.handle('tasks/result', { taskId: runningId }, ctx));
    await h.creator.handle('tasks/cancel', { taskId: runningId }, ctx);
    expect((await waiting).code).toBe(-32010);
  });

  it('tasks/cancel returns the cancelled task; a terminal task is -32602', async () => {
    const h = await make();
    const ctx = legacy();
    const taskId = taskIdOf(await h.creator.start(never, ctx, {}));
    const cancelled = await h.handle('tasks/cancel', { taskId }, ctx);
    expectSchema('CancelTaskResult', cancelled);
    expect(cancelled).toMatchObject({ taskId, status: 'cancelled' });
    expect(typeof cancelled.statusMessage).toBe('string');
    const again = await rpcError(h.handle('tasks/cancel', { taskId }, ctx));
    expect([again.code, again.message]).toEqual([
      -32602,
      'Cannot cancel a task in terminal status cancelled',
    ]);
  });

  it('tasks/result sends pending input as server->client requests; answers resume the task', async () => {
    const h = await make();
    const ctx = legacy();
    const created = await h.creator.start(
      async (port) => {
        const answers = await port.input({
          name: { method: 'elicitation/create', params: { message: 'Name?', requestedSchema: {} } },
          roots: { method: 'roots/list' },
        });
        return text(`${JSON.stringify(answers.name)} ${JSON.stringify(answers.roots)}`);
      },
      ctx,
      {},
    );
    const taskId = taskIdOf(created);
    await statusBecomes(h, taskId, ctx, 'input_required');

    const sent: { method: string; params: JsonObject | undefined }[] = [];
    const answers = [{ action: 'accept', content: { name: 'Ada' } }, { roots: [] }];
    const caller = legacy('s1', {
      request: (method, params) => {
        sent.push({ method, params });
        return Promise.resolve(answers[sent.length - 1] as JsonObject);
      },
    });
    const result = await h.handle('tasks/result', { taskId }, caller);
    expect(sent.map((r) => r.method)).toEqual(['elicitation/create', 'roots/list']);
    for (const r of sent) expect(r.params?._meta).toEqual({ [MetaKey.RelatedTask]: { taskId } });
    expect(sent[0]?.params?.message).toBe('Name?');
    expect(result.content).toEqual(
      text('{"action":"accept","content":{"name":"Ada"}} {"roots":[]}').content,
    );
    // Status notifications go to the creating request's outbound, on the creating node.
    await h.until(() => ctx.notifications.length === 3, 'three status notifications');
    expect(ctx.notifications.map((n) => (n.params as JsonObject).status)).toEqual([
      'input_required',
      'working',
      'completed',
    ]);
    for (const n of ctx.notifications) expectSchema('TaskStatusNotification', n);
  });

  it('an input asked while already parked is sent on the waiting tasks/result stream too', async () => {
    const h = await make();
    const ctx = legacy();
    const later = deferred<void>();
    const created = await h.creator.start(
      async (port) => {
        const first = port.input({ a: { method: 'roots/list' } });
        await later.promise;
        const second = await port.input({ b: { method: 'roots/list' } });
        return text(`${JSON.stringify(await first)} ${JSON.stringify(second)}`);
      },
      ctx,
      {},
    );
    const replies: Deferred<JsonObject>[] = [];
    const caller = legacy('s1', {
      request: () => {
        const d = deferred<JsonObject>();
        replies.push(d);
        return d.promise;
      },
    });
    const result = h.handle('tasks/result', { taskId: taskIdOf(created) }, caller);
    await h.until(() => replies.length === 1, 'first input sent');
    later.resolve();
    await h.until(() => replies.length === 2, 'second input sent');
    replies[1]?.resolve({ roots: [{ uri: 'file:///b' }] });
    replies[0]?.resolve({ roots: [] });
    expect((await result).content).toEqual(
      text('{"a":{"roots":[]}} {"b":{"roots":[{"uri":"file:///b"}]}}').content,
    );
    expect(replies).toHaveLength(2);
  });

  it('a client error answer rejects the input call; a lost stream resends on the next tasks/result', async () => {
    const h = await make();
    const ctx = legacy();
    const created = await h.creator.start(
      async (port) => {
        await port.input({ k: { method: 'sampling/createMessage', params: { messages: [] } } });
        return text('unreachable');
      },
      ctx,
      {},
    );
    const taskId = taskIdOf(created);
    await statusBecomes(h, taskId, ctx, 'input_required');

    // First caller: the stream drops (not a protocol answer) and the call goes away.
    let lostCalls = 0;
    const lost = legacy('s1', {
      request: () => {
        lostCalls++;
        return Promise.reject(new Error('stream closed'));
      },
    });
    const first = rpcError(h.handle('tasks/result', { taskId }, lost));
    await h.until(() => lostCalls === 1, 'sent on the first stream');
    lost.abort();
    expect((await first).code).toBe(-32010);
    expect((await h.handle('tasks/get', { taskId }, ctx)).status).toBe('input_required');

    // Second caller (on the creating node): the client refuses; the tool does not catch it.
    let calls = 0;
    const refusing = legacy('s1', {
      request: () => {
        calls++;
        return Promise.reject(new ProtocolError(-32600, 'sampling refused'));
      },
    });
    const err = await rpcError(h.creator.handle('tasks/result', { taskId }, refusing));
    expect(calls).toBe(1);
    expect([err.code, err.message]).toEqual([-32600, 'sampling refused']);
    expect((await h.handle('tasks/get', { taskId }, ctx)).status).toBe('failed');
  });

  it('reports status changes as notifications/tasks/status on the creating outbound', async () => {
    const h = await make();
    const ctx = legacy();
    const done = deferred<CallToolResult>();
    const created = await h.creator.start(() => done.promise, ctx, {});
    done.resolve(text('ok'));
    await h.until(() => ctx.notifications.length === 1, 'one notification');
    const n = ctx.notifications[0];
    expectSchema('TaskStatusNotification', n);
    expect(n?.params).toMatchObject({ taskId: taskIdOf(created), status: 'completed' });
  });
}

/** Lists, versions, owners and the request signal: independent of how runs run. */
export function legacySessionTests(make: LegacyHarnessFactory): void {
  it('tasks/result honours the request signal', async () => {
    const h = await make();
    const created = await h.creator.start(never, legacy(), {});
    const caller = legacy();
    const waiting = rpcError(h.handle('tasks/result', { taskId: taskIdOf(created) }, caller));
    caller.abort();
    expect((await waiting).code).toBe(-32010);
  });

  it('tasks/list pages over the caller session tasks with an opaque cursor, from any node', async () => {
    const h = await make({ pageSize: 2 });
    const mine = legacy('mine');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const node = i % 2 === 0 ? h.creator : h;
      ids.push(taskIdOf(await node.start(never, mine, {})));
    }
    await h.creator.start(never, legacy('other'), {});

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await h.handle('tasks/list', cursor === undefined ? {} : { cursor }, mine);
      expectSchema('ListTasksResult', page);
      pages++;
      for (const t of page.tasks as JsonObject[]) seen.push(t.taskId as string);
      cursor = page.nextCursor as string | undefined;
      if (cursor !== undefined) expect(ids).not.toContain(cursor);
    } while (cursor !== undefined && pages < 10);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);

    for (const bad of ['nope', 42]) {
      expect((await rpcError(h.handle('tasks/list', { cursor: bad }, mine))).code).toBe(-32602);
    }
  });

  it('only 2025-11-25 has task methods; tasks/update is modern only', async () => {
    const h = await make();
    const v1125 = fakeCtx({ era: 'legacy' });
    for (const m of ['tasks/get', 'tasks/result', 'tasks/list', 'tasks/cancel']) {
      expect(h.handles(m, v1125)).toBe(true);
    }
    expect(h.handles('tasks/update', v1125)).toBe(false);
    const older = fakeCtx({ era: 'legacy', protocolVersion: '2025-06-18' });
    expect(h.handles('tasks/get', older)).toBe(false);
  });

  it('tasks belong to the principal and session that created them', async () => {
    const h = await make();
    const owner = legacy('s1', { principal: user('alice') });
    const taskId = taskIdOf(await h.creator.start(never, owner, {}));
    const strangers = [
      legacy('s2', { principal: user('alice') }),
      legacy('s1', { principal: user('bob') }),
      fakeCtx({ principal: user('alice') }),
    ];
    for (const ctx of strangers) {
      expect((await rpcError(h.handle('tasks/get', { taskId }, ctx))).code).toBe(-32602);
    }
    const list = await h.handle('tasks/list', {}, strangers[0]!);
    expect(list.tasks).toEqual([]);
  });

  it('sends no status notifications when turned off, nor ever in the modern era', async () => {
    const h = await make({ statusNotifications: false });
    const legacyCtx = legacy();
    const modern = fakeCtx();
    const l = await h.creator.start(() => Promise.resolve(text('a')), legacyCtx, {});
    const m = await h.creator.start(() => Promise.resolve(text('b')), modern, {});
    await statusBecomes(h, taskIdOf(l), legacyCtx, 'completed');
    await statusBecomes(h, m.taskId as string, modern, 'completed');
    expect(legacyCtx.notifications).toEqual([]);
    expect(modern.notifications).toEqual([]);
  });
}
