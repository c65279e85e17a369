import { verifies } from '../../../testkit/src/requirements.js';
import { afterEach, describe, expect, it } from 'vitest';
import { MetaKey, ProtocolError } from '@mcp-cluster/protocol';
import type { CallToolResult, JsonObject } from '@mcp-cluster/protocol';
import { createMemoryTaskHost } from './memory.js';
import type { MemoryTaskHost } from './memory.js';
import { deferred, fakeCtx, flush, rpcError, schemaDef, text, user } from './fakes.test-support.js';
import type { Deferred } from './fakes.test-support.js';

const never = (): Promise<CallToolResult> => new Promise(() => {});

let host: MemoryTaskHost;
afterEach(async () => {
  await host.close();
});

function expectSchema(def: string, value: unknown): void {
  const validate = schemaDef('2025-11-25', def);
  expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
}

describe('2025-11-25 task methods', () => {
  it(
    verifies(
      'R-TASKS-LEGACY-SHAPES',
      'returns {task} and Task views that match the official schema',
    ),
    async () => {
      host = createMemoryTaskHost({ pollIntervalMs: 300 });
      const ctx = fakeCtx({ era: 'legacy', sessionId: 's1' });
      const done = deferred<CallToolResult>();
      const created = await host.start(() => done.promise, ctx, { ttlMs: 30_000 });
      expectSchema('CreateTaskResult', created);
      const task = created.task as JsonObject;
      expect(task).toMatchObject({ status: 'working', ttl: 30_000, pollInterval: 300 });
      expect(created).not.toHaveProperty('resultType');

      const taskId = task.taskId as string;
      const got = await host.handle('tasks/get', { taskId }, ctx);
      expectSchema('GetTaskResult', got);
      expect(got).toEqual(task);

      done.resolve(text('legacy done'));
      await flush();
      const completed = await host.handle('tasks/get', { taskId }, ctx);
      expectSchema('GetTaskResult', completed);
      expect(completed.status).toBe('completed');
      expect(completed).not.toHaveProperty('result');
    },
  );

  it('tasks/result blocks until the task is terminal, then returns the result with related-task', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx({ era: 'legacy', sessionId: 's1' });
    const done = deferred<CallToolResult>();
    const { task } = await host.start(() => done.promise, ctx, {});
    const taskId = (task as JsonObject).taskId as string;

    let settled = false;
    const pending = host.handle(
      'tasks/result',
      { taskId },
      fakeCtx({ era: 'legacy', sessionId: 's1' }),
    );
    void pending.finally(() => {
      settled = true;
    });
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
    host = createMemoryTaskHost();
    const ctx = fakeCtx({ era: 'legacy', sessionId: 's1' });
    const failed = await host.start(
      () => Promise.reject(new ProtocolError(-32602, 'bad arguments', { field: 'x' })),
      ctx,
      {},
    );
    const failedId = (failed.task as JsonObject).taskId as string;
    const err = await rpcError(host.handle('tasks/result', { taskId: failedId }, ctx));
    expect([err.code, err.message, err.data]).toEqual([-32602, 'bad arguments', { field: 'x' }]);

    const running = await host.start(never, ctx, {});
    const runningId = (running.task as JsonObject).taskId as string;
    const waiting = rpcError(host.handle('tasks/result', { taskId: runningId }, ctx));
    await host.handle('tasks/cancel', { taskId: runningId }, ctx);
    expect((await waiting).code).toBe(-32010);
  });

  it('tasks/result honours the request signal', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx({ era: 'legacy', sessionId: 's1' });
    const { task } = await host.start(never, ctx, {});
    const caller = fakeCtx({ era: 'legacy', sessionId: 's1' });
    const waiting = rpcError(
      host.handle('tasks/result', { taskId: (task as JsonObject).taskId }, caller),
    );
    caller.abort();
    expect((await waiting).code).toBe(-32010);
  });

  it('tasks/cancel returns the cancelled task; a terminal task is -32602', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx({ era: 'legacy', sessionId: 's1' });
    const { task } = await host.start(never, ctx, {});
    const taskId = (task as JsonObject).taskId as string;
    const cancelled = await host.handle('tasks/cancel', { taskId }, ctx);
    expectSchema('CancelTaskResult', cancelled);
    expect(cancelled).toMatchObject({ taskId, status: 'cancelled' });
    expect(typeof cancelled.statusMessage).toBe('string');
    expect((await rpcError(host.handle('tasks/cancel', { taskId }, ctx))).code).toBe(-32602);
  });

  it('tasks/list pages over the caller session tasks with an opaque cursor', async () => {
    host = createMemoryTaskHost({ pageSize: 2 });
    const mine = fakeCtx({ era: 'legacy', sessionId: 'mine' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { task } = await host.start(never, mine, {});
      ids.push((task as JsonObject).taskId as string);
    }
    await host.start(never, fakeCtx({ era: 'legacy', sessionId: 'other' }), {});

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await host.handle('tasks/list', cursor === undefined ? {} : { cursor }, mine);
      expectSchema('ListTasksResult', page);
      pages++;
      for (const t of page.tasks as JsonObject[]) seen.push(t.taskId as string);
      cursor = page.nextCursor as string | undefined;
      if (cursor !== undefined) expect(ids).not.toContain(cursor);
    } while (cursor !== undefined);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);

    for (const bad of ['nope', 42]) {
      expect((await rpcError(host.handle('tasks/list', { cursor: bad }, mine))).code).toBe(-32602);
    }
  });

  it('only 2025-11-25 has task methods; tasks/update is modern only', () => {
    host = createMemoryTaskHost();
    const v1125 = fakeCtx({ era: 'legacy' });
    for (const m of ['tasks/get', 'tasks/result', 'tasks/list', 'tasks/cancel']) {
      expect(host.handles(m, v1125)).toBe(true);
    }
    expect(host.handles('tasks/update', v1125)).toBe(false);
    expect(
      host.handles('tasks/get', fakeCtx({ era: 'legacy', protocolVersion: '2025-06-18' })),
    ).toBe(false);
  });

  it('tasks belong to the principal and session that created them', async () => {
    host = createMemoryTaskHost();
    const owner = fakeCtx({ era: 'legacy', sessionId: 's1', principal: user('alice') });
    const { task } = await host.start(never, owner, {});
    const taskId = (task as JsonObject).taskId as string;
    const strangers = [
      fakeCtx({ era: 'legacy', sessionId: 's2', principal: user('alice') }),
      fakeCtx({ era: 'legacy', sessionId: 's1', principal: user('bob') }),
      fakeCtx({ principal: user('alice') }),
    ];
    for (const ctx of strangers) {
      expect((await rpcError(host.handle('tasks/get', { taskId }, ctx))).code).toBe(-32602);
    }
    const list = await host.handle('tasks/list', {}, strangers[0]!);
    expect(list.tasks).toEqual([]);
  });

  it('tasks/result sends pending input as server->client requests; answers resume the task', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx({ era: 'legacy', sessionId: 's1' });
    const { task } = await host.start(
      async (port) => {
        const a = await port.input({
          name: { method: 'elicitation/create', params: { message: 'Name?', requestedSchema: {} } },
          roots: { method: 'roots/list' },
        });
        return text(`${JSON.stringify(a.name)} ${JSON.stringify(a.roots)}`);
      },
      ctx,
      {},
    );
    const taskId = (task as JsonObject).taskId as string;
    expect((await host.handle('tasks/get', { taskId }, ctx)).status).toBe('input_required');

    const sent: { method: string; params: JsonObject | undefined }[] = [];
    const answers = [{ action: 'accept', content: { name: 'Ada' } }, { roots: [] }];
    const caller = fakeCtx({
      era: 'legacy',
      sessionId: 's1',
      request: (method, params) => {
        sent.push({ method, params });
        return Promise.resolve(answers[sent.length - 1] as JsonObject);
      },
    });
    const result = await host.handle('tasks/result', { taskId }, caller);
    expect(sent.map((r) => r.method)).toEqual(['elicitation/create', 'roots/list']);
    for (const r of sent) expect(r.params?._meta).toEqual({ [MetaKey.RelatedTask]: { taskId } });
    expect(sent[0]?.params?.message).toBe('Name?');
    expect(result.content).toEqual(
      text('{"action":"accept","content":{"name":"Ada"}} {"roots":[]}').content,
    );
    expect(ctx.notifications.map((n) => (n.params as JsonObject).status)).toEqual([
      'input_required',
      'working',
      'completed',
    ]);
  });

  it('an input asked while already parked is sent on the waiting tasks/result stream too', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx({ era: 'legacy', sessionId: 's1' });
    const later = deferred<void>();
    const { task } = await host.start(
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
    const caller = fakeCtx({
      era: 'legacy',
      sessionId: 's1',
      request: () => {
        const d = deferred<JsonObject>();
        replies.push(d);
        return d.promise;
      },
    });
    const result = host.handle('tasks/result', { taskId }, caller);
    await flush();
    expect(replies).toHaveLength(1);
    later.resolve();
    await flush();
    expect(replies).toHaveLength(2);
    replies[1]?.resolve({ roots: [{ uri: 'file:///b' }] });
    replies[0]?.resolve({ roots: [] });
    expect((await result).content).toEqual(
      text('{"a":{"roots":[]}} {"b":{"roots":[{"uri":"file:///b"}]}}').content,
    );
  });

  it('a client error answer rejects the input call; a lost stream resends on the next tasks/result', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx({ era: 'legacy', sessionId: 's1' });
    const { task } = await host.start(
      async (port) => {
        await port.input({ k: { method: 'sampling/createMessage', params: { messages: [] } } });
        return text('unreachable');
      },
      ctx,
      {},
    );
    const taskId = (task as JsonObject).taskId as string;

    // First caller: the stream drops (not a protocol answer) and the call goes away.
    const lost = fakeCtx({
      era: 'legacy',
      sessionId: 's1',
      request: () => Promise.reject(new Error('stream closed')),
    });
    const first = rpcError(host.handle('tasks/result', { taskId }, lost));
    await flush();
    lost.abort();
    expect((await first).code).toBe(-32010);
    expect((await host.handle('tasks/get', { taskId }, ctx)).status).toBe('input_required');

    // Second caller: the client refuses; the tool does not catch it, so the task fails.
    let calls = 0;
    const refusing = fakeCtx({
      era: 'legacy',
      sessionId: 's1',
      request: () => {
        calls++;
        return Promise.reject(new ProtocolError(-32600, 'sampling refused'));
      },
    });
    const err = await rpcError(host.handle('tasks/result', { taskId }, refusing));
    expect(calls).toBe(1);
    expect([err.code, err.message]).toEqual([-32600, 'sampling refused']);
    expect((await host.handle('tasks/get', { taskId }, ctx)).status).toBe('failed');
  });

  it('reports status changes as notifications/tasks/status on the creating outbound', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx({ era: 'legacy', sessionId: 's1' });
    const done = deferred<CallToolResult>();
    const { task } = await host.start(() => done.promise, ctx, {});
    done.resolve(text('ok'));
    await flush();
    expect(ctx.notifications).toHaveLength(1);
    const n = ctx.notifications[0];
    expectSchema('TaskStatusNotification', n);
    expect(n?.params).toMatchObject({ taskId: (task as JsonObject).taskId, status: 'completed' });
  });

  it('sends no status notifications when turned off, nor ever in the modern era', async () => {
    host = createMemoryTaskHost({ statusNotifications: false });
    const legacy = fakeCtx({ era: 'legacy', sessionId: 's1' });
    const modern = fakeCtx();
    await host.start(() => Promise.resolve(text('a')), legacy, {});
    await host.start(() => Promise.resolve(text('b')), modern, {});
    await flush();
    expect(legacy.notifications).toEqual([]);
    expect(modern.notifications).toEqual([]);
  });
});
