/**
 * The behaviour checks of packages/server/src/tasks/legacy.test.ts (2025-11-25 task methods)
 * against the durable host: tasks start on node A, the methods are served by node B.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetaKey, ProtocolError } from '@mcp-cluster/protocol';
import type { CallToolResult, JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext } from '@mcp-cluster/server';
import {
  deferred,
  fakeCtx,
  rpcError,
  schemaDef,
  text,
  user,
} from '../../server/src/tasks/fakes.test-support.js';
import type { Deferred } from '../../server/src/tasks/fakes.test-support.js';
import { purge, startNode, starter, testPrefix, until } from './durable.test-support.js';
import type { Mode, Node } from './durable.test-support.js';
import type { DurableTaskHostOptions } from './options.js';

const never = (): Promise<CallToolResult> => new Promise(() => {});

function expectSchema(def: string, value: unknown): void {
  const validate = schemaDef('2025-11-25', def);
  expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
}

let prefix: string;
let a: Node | undefined;
let b: Node | undefined;

async function nodes(over: Partial<DurableTaskHostOptions> = {}): Promise<[Node, Node]> {
  prefix = testPrefix();
  const pair = await Promise.all([startNode(prefix, 'A', over), startNode(prefix, 'B', over)]);
  [a, b] = pair;
  return pair;
}

beforeEach(() => {
  a = b = undefined;
});

afterEach(async () => {
  await Promise.all([a?.host.close(), b?.host.close()]);
  await purge(prefix);
});

const legacy = (sessionId = 's1', over: Parameters<typeof fakeCtx>[0] = {}) =>
  fakeCtx({ era: 'legacy', sessionId, ...over });

async function statusOf(n: Node, taskId: string, ctx: RequestContext): Promise<unknown> {
  return (await n.host.handle('tasks/get', { taskId }, ctx)).status;
}

describe.each<Mode>(['local', 'job'])('2025-11-25 task methods over Redis (%s runs)', (mode) => {
  it('returns {task} and Task views that match the official schema', async () => {
    const [na, nb] = await nodes({ pollIntervalMs: 300 });
    const ctx = legacy();
    const done = deferred<CallToolResult>();
    const created = await starter(na.host, mode)(() => done.promise, ctx, { ttlMs: 30_000 });
    expectSchema('CreateTaskResult', created);
    const task = created.task as JsonObject;
    expect(task).toMatchObject({ status: 'working', ttl: 30_000, pollInterval: 300 });
    expect(created).not.toHaveProperty('resultType');

    const taskId = task.taskId as string;
    const got = await nb.host.handle('tasks/get', { taskId }, ctx);
    expectSchema('GetTaskResult', got);
    expect(got).toEqual(task);

    done.resolve(text('legacy done'));
    await until(async () => (await statusOf(nb, taskId, ctx)) === 'completed', 'completed');
    const completed = await nb.host.handle('tasks/get', { taskId }, ctx);
    expectSchema('GetTaskResult', completed);
    expect(completed).not.toHaveProperty('result');
  });

  it('tasks/result on another node blocks until terminal, then returns the result with related-task', async () => {
    const [na, nb] = await nodes();
    const ctx = legacy();
    const done = deferred<CallToolResult>();
    const { task } = await starter(na.host, mode)(() => done.promise, ctx, {});
    const taskId = (task as JsonObject).taskId as string;

    let settled = false;
    const pending = nb.host.handle('tasks/result', { taskId }, legacy());
    void pending.finally(() => {
      settled = true;
    });
    // Still waiting once the run is certainly under way.
    await until(() => na.host.running + nb.host.running === 1, 'the run started');
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
    const [na, nb] = await nodes();
    const ctx = legacy();
    const failed = await starter(na.host, mode)(
      () => Promise.reject(new ProtocolError(-32602, 'bad arguments', { field: 'x' })),
      ctx,
      {},
    );
    const failedId = (failed.task as JsonObject).taskId as string;
    const err = await rpcError(nb.host.handle('tasks/result', { taskId: failedId }, ctx));
    expect([err.code, err.message, err.data]).toEqual([-32602, 'bad arguments', { field: 'x' }]);

    const running = await starter(na.host, mode)(never, ctx, {});
    const runningId = (running.task as JsonObject).taskId as string;
    const waiting = rpcError(nb.host.handle('tasks/result', { taskId: runningId }, ctx));
    await na.host.handle('tasks/cancel', { taskId: runningId }, ctx);
    expect((await waiting).code).toBe(-32010);
  });

  it('tasks/cancel returns the cancelled task; a terminal task is -32602', async () => {
    const [na, nb] = await nodes();
    const ctx = legacy();
    const { task } = await starter(na.host, mode)(never, ctx, {});
    const taskId = (task as JsonObject).taskId as string;
    const cancelled = await nb.host.handle('tasks/cancel', { taskId }, ctx);
    expectSchema('CancelTaskResult', cancelled);
    expect(cancelled).toMatchObject({ taskId, status: 'cancelled' });
    expect(typeof cancelled.statusMessage).toBe('string');
    const again = await rpcError(nb.host.handle('tasks/cancel', { taskId }, ctx));
    expect([again.code, again.message]).toEqual([
      -32602,
      'Cannot cancel a task in terminal status cancelled',
    ]);
  });

  it('tasks/result sends pending input as server->client requests; answers resume the task', async () => {
    const [na, nb] = await nodes();
    const ctx = legacy();
    const { task } = await starter(na.host, mode)(
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
    const taskId = (task as JsonObject).taskId as string;
    await until(async () => (await statusOf(nb, taskId, ctx)) === 'input_required', 'parked');

    const sent: { method: string; params: JsonObject | undefined }[] = [];
    const answers = [{ action: 'accept', content: { name: 'Ada' } }, { roots: [] }];
    const caller = legacy('s1', {
      request: (method, params) => {
        sent.push({ method, params });
        return Promise.resolve(answers[sent.length - 1] as JsonObject);
      },
    });
    const result = await nb.host.handle('tasks/result', { taskId }, caller);
    expect(sent.map((r) => r.method)).toEqual(['elicitation/create', 'roots/list']);
    for (const r of sent) expect(r.params?._meta).toEqual({ [MetaKey.RelatedTask]: { taskId } });
    expect(sent[0]?.params?.message).toBe('Name?');
    expect(result.content).toEqual(
      text('{"action":"accept","content":{"name":"Ada"}} {"roots":[]}').content,
    );
    // Status notifications go to the creating request's outbound, on the creating node.
    await until(() => ctx.notifications.length === 3, 'three status notifications');
    expect(ctx.notifications.map((n) => (n.params as JsonObject).status)).toEqual([
      'input_required',
      'working',
      'completed',
    ]);
    for (const n of ctx.notifications) expectSchema('TaskStatusNotification', n);
  });

  it('an input asked while already parked is sent on the waiting tasks/result stream too', async () => {
    const [na, nb] = await nodes();
    const ctx = legacy();
    const later = deferred<void>();
    const { task } = await starter(na.host, mode)(
      async (port) => {
        const first = port.input({ a: { method: 'roots/list' } });
        await later.promise;
        const second = await port.input({ b: { method: 'roots/list' } });
        return text(`${JSON.stringify(await first)} ${JSON.stringify(second)}`);
      },
      ctx,
      {},
    );
    const taskId = (task as JsonObject).taskId as string;
    const replies: Deferred<JsonObject>[] = [];
    const caller = legacy('s1', {
      request: () => {
        const d = deferred<JsonObject>();
        replies.push(d);
        return d.promise;
      },
    });
    const result = nb.host.handle('tasks/result', { taskId }, caller);
    await until(() => replies.length === 1, 'first input sent');
    later.resolve();
    await until(() => replies.length === 2, 'second input sent');
    replies[1]?.resolve({ roots: [{ uri: 'file:///b' }] });
    replies[0]?.resolve({ roots: [] });
    expect((await result).content).toEqual(
      text('{"a":{"roots":[]}} {"b":{"roots":[{"uri":"file:///b"}]}}').content,
    );
    expect(replies).toHaveLength(2);
  });

  it('a client error answer rejects the input call; a lost stream resends on the next tasks/result', async () => {
    const [na, nb] = await nodes();
    const ctx = legacy();
    const { task } = await starter(na.host, mode)(
      async (port) => {
        await port.input({ k: { method: 'sampling/createMessage', params: { messages: [] } } });
        return text('unreachable');
      },
      ctx,
      {},
    );
    const taskId = (task as JsonObject).taskId as string;
    await until(async () => (await statusOf(nb, taskId, ctx)) === 'input_required', 'parked');

    // First caller: the stream drops (not a protocol answer) and the call goes away.
    let lostCalls = 0;
    const lost = legacy('s1', {
      request: () => {
        lostCalls++;
        return Promise.reject(new Error('stream closed'));
      },
    });
    const first = rpcError(nb.host.handle('tasks/result', { taskId }, lost));
    await until(() => lostCalls === 1, 'sent on the first stream');
    lost.abort();
    expect((await first).code).toBe(-32010);
    expect(await statusOf(nb, taskId, ctx)).toBe('input_required');

    // Second caller (on the other node): the client refuses; the tool does not catch it.
    let calls = 0;
    const refusing = legacy('s1', {
      request: () => {
        calls++;
        return Promise.reject(new ProtocolError(-32600, 'sampling refused'));
      },
    });
    const err = await rpcError(na.host.handle('tasks/result', { taskId }, refusing));
    expect(calls).toBe(1);
    expect([err.code, err.message]).toEqual([-32600, 'sampling refused']);
    expect(await statusOf(nb, taskId, ctx)).toBe('failed');
  });

  it('reports status changes as notifications/tasks/status on the creating outbound', async () => {
    const [na] = await nodes();
    const ctx = legacy();
    const done = deferred<CallToolResult>();
    const { task } = await starter(na.host, mode)(() => done.promise, ctx, {});
    done.resolve(text('ok'));
    await until(() => ctx.notifications.length === 1, 'one notification');
    const n = ctx.notifications[0];
    expectSchema('TaskStatusNotification', n);
    expect(n?.params).toMatchObject({ taskId: (task as JsonObject).taskId, status: 'completed' });
  });
});

describe('2025-11-25 task methods over Redis: lists, versions, owners', () => {
  it('tasks/result honours the request signal', async () => {
    const [na, nb] = await nodes();
    const { task } = await na.host.start(never, legacy(), {});
    const caller = legacy();
    const waiting = rpcError(
      nb.host.handle('tasks/result', { taskId: (task as JsonObject).taskId }, caller),
    );
    caller.abort();
    expect((await waiting).code).toBe(-32010);
  });

  it('an input sent on the stream of a node that died is sent again by the next tasks/result', async () => {
    const [na, nb] = await nodes();
    const ctx = legacy();
    const { task } = await na.host.start(
      async (port) => {
        const answers = await port.input({ r: { method: 'roots/list' } });
        return text(JSON.stringify(answers.r));
      },
      ctx,
      {},
    );
    const taskId = (task as JsonObject).taskId as string;
    let sentOnB = 0;
    const onB = legacy('s1', {
      request: () => {
        sentOnB++;
        return new Promise<JsonObject>(() => {});
      },
    });
    void nb.host.handle('tasks/result', { taskId }, onB).catch(() => undefined);
    await until(() => sentOnB === 1, 'sent on B');
    await nb.host.kill();
    b = undefined;

    let sentOnA = 0;
    const onA = legacy('s1', {
      request: () => {
        sentOnA++;
        return Promise.resolve({ roots: [{ uri: 'file:///a' }] });
      },
    });
    // B's claim lapses (it no longer refreshes it); A's call then sends the request itself.
    const result = await na.host.handle('tasks/result', { taskId }, onA);
    expect(result.content).toEqual(text('{"roots":[{"uri":"file:///a"}]}').content);
    expect([sentOnB, sentOnA]).toEqual([1, 1]);
  });

  it('tasks/list pages over the caller session tasks with an opaque cursor, from any node', async () => {
    const [na, nb] = await nodes({ pageSize: 2 });
    const mine = legacy('mine');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const host = i % 2 === 0 ? na.host : nb.host;
      const { task } = await host.start(never, mine, {});
      ids.push((task as JsonObject).taskId as string);
    }
    await na.host.start(never, legacy('other'), {});

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await nb.host.handle('tasks/list', cursor === undefined ? {} : { cursor }, mine);
      expectSchema('ListTasksResult', page);
      pages++;
      for (const t of page.tasks as JsonObject[]) seen.push(t.taskId as string);
      cursor = page.nextCursor as string | undefined;
      if (cursor !== undefined) expect(ids).not.toContain(cursor);
    } while (cursor !== undefined && pages < 10);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);

    for (const bad of ['nope', 42]) {
      expect((await rpcError(nb.host.handle('tasks/list', { cursor: bad }, mine))).code).toBe(
        -32602,
      );
    }
  });

  it('only 2025-11-25 has task methods; tasks/update is modern only', async () => {
    const [na] = await nodes();
    const v1125 = fakeCtx({ era: 'legacy' });
    for (const m of ['tasks/get', 'tasks/result', 'tasks/list', 'tasks/cancel']) {
      expect(na.host.handles(m, v1125)).toBe(true);
    }
    expect(na.host.handles('tasks/update', v1125)).toBe(false);
    expect(
      na.host.handles('tasks/get', fakeCtx({ era: 'legacy', protocolVersion: '2025-06-18' })),
    ).toBe(false);
  });

  it('tasks belong to the principal and session that created them', async () => {
    const [na, nb] = await nodes();
    const owner = legacy('s1', { principal: user('alice') });
    const { task } = await na.host.start(never, owner, {});
    const taskId = (task as JsonObject).taskId as string;
    const strangers = [
      legacy('s2', { principal: user('alice') }),
      legacy('s1', { principal: user('bob') }),
      fakeCtx({ principal: user('alice') }),
    ];
    for (const ctx of strangers) {
      expect((await rpcError(nb.host.handle('tasks/get', { taskId }, ctx))).code).toBe(-32602);
    }
    const list = await nb.host.handle('tasks/list', {}, strangers[0]!);
    expect(list.tasks).toEqual([]);
  });

  it('sends no status notifications when turned off, nor ever in the modern era', async () => {
    const [na, nb] = await nodes({ statusNotifications: false });
    const legacyCtx = legacy();
    const modern = fakeCtx();
    const l = await na.host.start(() => Promise.resolve(text('a')), legacyCtx, {});
    const m = await na.host.start(() => Promise.resolve(text('b')), modern, {});
    const lid = (l.task as JsonObject).taskId as string;
    await until(async () => (await statusOf(nb, lid, legacyCtx)) === 'completed', 'legacy done');
    await until(
      async () => (await statusOf(nb, m.taskId as string, modern)) === 'completed',
      'modern done',
    );
    expect(legacyCtx.notifications).toEqual([]);
    expect(modern.notifications).toEqual([]);
  });
});
