/**
 * The behaviour checks of packages/server/src/tasks/modern.test.ts against the durable host:
 * tasks start on node A and are read, updated and cancelled through node B, both as local
 * runs and as durable jobs (which either node may take).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Extension, MetaKey, ProtocolError } from '@mcp-cluster/protocol';
import type { CallToolResult, JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext, TaskPort } from '@mcp-cluster/server';
import {
  deferred,
  fakeCtx,
  rpcError,
  text,
  user,
} from '../../server/src/tasks/fakes.test-support.js';
import { purge, startNode, starter, testPrefix, until } from './durable.test-support.js';
import type { Mode, Node } from './durable.test-support.js';

const elicit = (message: string) => ({
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

let prefix: string;
let a: Node;
let b: Node;

beforeEach(async () => {
  prefix = testPrefix();
  [a, b] = await Promise.all([
    startNode(prefix, 'A', { pollIntervalMs: 250 }),
    startNode(prefix, 'B', { pollIntervalMs: 250 }),
  ]);
});

afterEach(async () => {
  await Promise.all([a.host.close(), b.host.close()]);
  await purge(prefix);
});

async function get(taskId: string, ctx: RequestContext): Promise<JsonObject> {
  return b.host.handle('tasks/get', { taskId }, ctx);
}

async function statusBecomes(taskId: string, ctx: RequestContext, status: string) {
  await until(async () => (await get(taskId, ctx)).status === status, `status ${status}`);
  return get(taskId, ctx);
}

describe.each<Mode>(['local', 'job'])('tasks extension over Redis (%s runs)', (mode) => {
  const start = (...args: Parameters<ReturnType<typeof starter>>) => starter(a.host, mode)(...args);

  it('creates a flat CreateTaskResult, readable at once on another node, then completed', async () => {
    const ctx = fakeCtx();
    const done = deferred<CallToolResult>();
    const created = await start(() => done.promise, ctx, { ttlMs: 60_000 });

    expect(created).toMatchObject({ resultType: 'task', status: 'working', ttlMs: 60_000 });
    expect(created.pollIntervalMs).toBe(250);
    expect(created.taskId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(Date.parse(created.createdAt as string)).not.toBeNaN();
    expect(created.lastUpdatedAt).toBe(created.createdAt);
    for (const key of FORBIDDEN_ON_CREATE) expect(created).not.toHaveProperty(key);

    const taskId = created.taskId as string;
    const working = await get(taskId, ctx);
    expect(working).toEqual({
      resultType: 'complete',
      taskId,
      status: 'working',
      createdAt: created.createdAt,
      lastUpdatedAt: created.lastUpdatedAt,
      ttlMs: 60_000,
      pollIntervalMs: 250,
    });

    done.resolve({ ...text('done'), _meta: { [MetaKey.RelatedTask]: { taskId }, keep: 1 } });
    const completed = await statusBecomes(taskId, ctx, 'completed');
    expect(completed).toMatchObject({ resultType: 'complete', taskId, status: 'completed' });
    expect(completed.result).toEqual({ ...text('done'), _meta: { keep: 1 } });
    expect(completed).not.toHaveProperty('error');
    expect(completed).not.toHaveProperty('requestState');
  });

  it('drops an emptied _meta when only the related-task key was there', async () => {
    const ctx = fakeCtx();
    const { taskId } = await start(
      (port) =>
        Promise.resolve({
          ...text('x'),
          _meta: { [MetaKey.RelatedTask]: { taskId: port.taskId } },
        }),
      ctx,
      {},
    );
    const got = await statusBecomes(taskId as string, ctx, 'completed');
    expect(got.result).toEqual(text('x'));
  });

  it('a tool error (isError: true) is completed, not failed', async () => {
    const ctx = fakeCtx();
    const { taskId } = await start(
      () => Promise.resolve({ ...text('boom'), isError: true }),
      ctx,
      {},
    );
    const got = await statusBecomes(taskId as string, ctx, 'completed');
    expect(got.result).toEqual({ ...text('boom'), isError: true });
    expect(got).not.toHaveProperty('error');
  });

  it('a ProtocolError is failed with its code and message (and data) and no result', async () => {
    const ctx = fakeCtx();
    const { taskId } = await start(
      () => Promise.reject(new ProtocolError(-32050, 'upstream refused')),
      ctx,
      {},
    );
    const got = await statusBecomes(taskId as string, ctx, 'failed');
    expect(got.error).toEqual({ code: -32050, message: 'upstream refused' });
    expect(got).not.toHaveProperty('result');

    const withData = await start(
      () => Promise.reject(new ProtocolError(-32602, 'bad', { field: 'x' })),
      ctx,
      {},
    );
    const failed = await statusBecomes(withData.taskId as string, ctx, 'failed');
    expect(failed.error).toEqual({ code: -32602, message: 'bad', data: { field: 'x' } });
  });

  it('any other throw is failed -32603 with a generic message (no internal text)', async () => {
    const ctx = fakeCtx();
    const { taskId } = await start(
      () => {
        throw new Error('secret db password in stack');
      },
      ctx,
      {},
    );
    const got = await statusBecomes(taskId as string, ctx, 'failed');
    expect(got.error).toEqual({ code: -32603, message: 'Internal error' });
    expect(JSON.stringify(got)).not.toContain('secret');
  });

  it('ignores the creating request aborting: the task outlives its request', async () => {
    const ctx = fakeCtx();
    const gotPort = deferred<TaskPort>();
    const done = deferred<CallToolResult>();
    const { taskId } = await start(
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
    await statusBecomes(taskId as string, ctx, 'completed');
  });

  it('cancel through another node: cancelled at once, the run aborts, acks idempotently', async () => {
    const ctx = fakeCtx();
    const gotPort = deferred<TaskPort>();
    // A run that never finishes on its own and ignores its signal.
    const { taskId } = await start(
      (port) => {
        gotPort.resolve(port);
        return new Promise<CallToolResult>(() => {});
      },
      ctx,
      {},
    );
    const port = await gotPort.promise;
    const ack = await b.host.handle('tasks/cancel', { taskId }, ctx);
    expect(ack).toEqual({ resultType: 'complete' });
    const got = await get(taskId as string, ctx);
    expect(got.status).toBe('cancelled');
    expect(got.statusMessage).toBe('The task was cancelled by the client.');
    expect(got).not.toHaveProperty('result');
    expect(got).not.toHaveProperty('error');
    await until(() => port.signal.aborted, 'the run sees its signal abort');
    expect(await b.host.handle('tasks/cancel', { taskId }, ctx)).toEqual({
      resultType: 'complete',
    });
    await until(() => a.host.running + b.host.running === 0, 'no node holds the run');
  });

  it('a run that later resolves or rejects does not overwrite cancelled', async () => {
    const ctx = fakeCtx();
    const rejected = deferred<void>();
    const { taskId } = await start(
      (port) =>
        new Promise<CallToolResult>((_, reject) => {
          port.signal.addEventListener('abort', () => {
            reject(new Error('aborted'));
            rejected.resolve();
          });
        }),
      ctx,
      {},
    );
    await until(() => a.host.running + b.host.running === 1, 'the run started');
    await b.host.handle('tasks/cancel', { taskId }, ctx);
    await rejected.promise;
    await until(() => a.host.running + b.host.running === 0, 'the run ended');
    expect((await get(taskId as string, ctx)).status).toBe('cancelled');
  });

  it('acks a cancel on a completed task and leaves it completed', async () => {
    const ctx = fakeCtx();
    const { taskId } = await start(() => Promise.resolve(text('fast')), ctx, {});
    await statusBecomes(taskId as string, ctx, 'completed');
    expect(await b.host.handle('tasks/cancel', { taskId }, ctx)).toEqual({
      resultType: 'complete',
    });
    expect((await get(taskId as string, ctx)).status).toBe('completed');
  });

  it('a task parked for input is cancelled and its pending input rejects', async () => {
    const ctx = fakeCtx();
    const inputOutcome = deferred<unknown>();
    const { taskId } = await start(
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
    await statusBecomes(taskId as string, ctx, 'input_required');
    await b.host.handle('tasks/cancel', { taskId }, ctx);
    expect(await inputOutcome.promise).toBeInstanceOf(ProtocolError);
    const got = await get(taskId as string, ctx);
    expect(got.status).toBe('cancelled');
    expect(got).not.toHaveProperty('inputRequests');
  });

  it('parks with opaque keys, resumes only when every key is answered', async () => {
    const ctx = fakeCtx();
    const { taskId } = await start(
      async (port) => {
        const answers = await port.input({ first: elicit('one?'), second: elicit('two?') });
        return text(`${JSON.stringify(answers.first)}|${JSON.stringify(answers.second)}`);
      },
      ctx,
      {},
    );
    const id = taskId as string;
    const parked = await statusBecomes(id, ctx, 'input_required');
    const requests = parked.inputRequests as Record<string, JsonObject>;
    const keys = Object.keys(requests);
    expect(keys).toHaveLength(2);
    expect(keys).not.toContain('first');
    expect(keys).not.toContain('second');
    const [k1, k2] = keys as [string, string];
    // In the order the tool asked.
    expect(requests[k1]).toEqual(elicit('one?'));
    expect(requests[k2]).toEqual(elicit('two?'));

    const ack = await b.host.handle(
      'tasks/update',
      { taskId, inputResponses: { [k1]: { action: 'accept', content: { n: 1 } } } },
      ctx,
    );
    expect(ack).toEqual({ resultType: 'complete' });
    const partial = await get(id, ctx);
    expect(partial.status).toBe('input_required');
    expect(Object.keys(partial.inputRequests as JsonObject)).toEqual([k2]);

    // Unknown keys are ignored and still acked.
    expect(
      await b.host.handle(
        'tasks/update',
        { taskId, inputResponses: { 'unknown-key': { ignored: true } } },
        ctx,
      ),
    ).toEqual({ resultType: 'complete' });
    expect((await get(id, ctx)).status).toBe('input_required');

    await b.host.handle(
      'tasks/update',
      { taskId, inputResponses: { [k2]: { action: 'decline' } } },
      ctx,
    );
    const done = await statusBecomes(id, ctx, 'completed');
    expect(done.result).toEqual(text('{"action":"accept","content":{"n":1}}|{"action":"decline"}'));
    expect(done).not.toHaveProperty('inputRequests');
  });

  it('goes back to working between rounds and parks again for a second round', async () => {
    const ctx = fakeCtx();
    const between = deferred<void>();
    const { taskId } = await start(
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
      (await statusBecomes(id, ctx, 'input_required')).inputRequests as JsonObject,
    );
    await b.host.handle('tasks/update', { taskId, inputResponses: { [ka as string]: {} } }, ctx);
    expect((await get(id, ctx)).status).toBe('working');
    between.resolve();
    const second = await statusBecomes(id, ctx, 'input_required');
    const [kb] = Object.keys(second.inputRequests as JsonObject);
    expect(kb).not.toBe(ka);
    await b.host.handle('tasks/update', { taskId, inputResponses: { [kb as string]: {} } }, ctx);
    await statusBecomes(id, ctx, 'completed');
  });

  it('keeps concurrent input calls apart: each resolves with its own answers', async () => {
    const ctx = fakeCtx();
    const { taskId } = await start(
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
    await until(
      async () => Object.keys((await get(id, ctx)).inputRequests ?? {}).length === 2,
      'both input calls parked',
    );
    const requests = (await get(id, ctx)).inputRequests as Record<string, JsonObject>;
    const keyOf = (message: string): string =>
      Object.keys(requests).find(
        (k) => (requests[k]?.params as JsonObject | undefined)?.message === message,
      ) as string;
    await b.host.handle(
      'tasks/update',
      { taskId, inputResponses: { [keyOf('y?')]: { v: 'y' } } },
      ctx,
    );
    expect((await get(id, ctx)).status).toBe('input_required');
    await b.host.handle(
      'tasks/update',
      { taskId, inputResponses: { [keyOf('x?')]: { v: 'x' } } },
      ctx,
    );
    const done = await statusBecomes(id, ctx, 'completed');
    expect(done.result).toEqual(text('{"same":{"v":"x"}} {"same":{"v":"y"}}'));
  });

  it('rejects malformed inputResponses with -32602', async () => {
    const ctx = fakeCtx();
    const { taskId } = await start(
      async (port) => {
        await port.input({ k: elicit('?') });
        return text('ok');
      },
      ctx,
      {},
    );
    const [key] = Object.keys(
      (await statusBecomes(taskId as string, ctx, 'input_required')).inputRequests as JsonObject,
    );
    for (const inputResponses of [null, 12345, ['x'], { [key as string]: 'not an object' }]) {
      const err = await rpcError(b.host.handle('tasks/update', { taskId, inputResponses }, ctx));
      expect(err.code).toBe(-32602);
    }
    expect((await get(taskId as string, ctx)).status).toBe('input_required');
  });

  it('a principal only sees its own tasks', async () => {
    const alice = fakeCtx({ principal: user('alice') });
    const bob = fakeCtx({ principal: user('bob') });
    const { taskId } = await start(() => new Promise(() => {}), alice, {});
    for (const method of ['tasks/get', 'tasks/cancel', 'tasks/update']) {
      const err = await rpcError(b.host.handle(method, { taskId, inputResponses: {} }, bob));
      expect(err.code).toBe(-32602);
    }
    expect((await get(taskId as string, alice)).status).toBe('working');
  });
});

describe('tasks extension over Redis: local-only behaviour, gating, ids', () => {
  it('CreateTaskResult of a local run may already say input_required, without inputRequests', async () => {
    const ctx = fakeCtx();
    const created = await a.host.start(
      async (port) => {
        await port.input({ k: elicit('now?') });
        return text('ok');
      },
      ctx,
      {},
    );
    expect(created.status).toBe('input_required');
    expect(created).not.toHaveProperty('inputRequests');
    const got = await get(created.taskId as string, ctx);
    expect(got.lastUpdatedAt).toBe(created.lastUpdatedAt);
  });

  it('answers -32021 naming the extension when this request lacks it, even for unknown ids', async () => {
    for (const capabilities of [
      {},
      { extensions: {} },
      { extensions: { [Extension.Tasks]: true } },
    ]) {
      const ctx = fakeCtx({ capabilities });
      for (const [method, params] of [
        ['tasks/get', { taskId: 'gate-test' }],
        ['tasks/update', { taskId: 'gate-test', inputResponses: {} }],
        ['tasks/cancel', { taskId: 'gate-test' }],
      ] as const) {
        const err = await rpcError(b.host.handle(method, params, ctx));
        expect(err.code).toBe(-32021);
        expect(err.data).toEqual({
          requiredCapabilities: { extensions: { 'io.modelcontextprotocol/tasks': {} } },
        });
      }
    }
  });

  it('gates per request: a task created with the extension is invisible to a request without it', async () => {
    const { taskId } = await a.host.start(() => new Promise(() => {}), fakeCtx(), {});
    const err = await rpcError(
      b.host.handle('tasks/get', { taskId }, fakeCtx({ capabilities: {} })),
    );
    expect(err.code).toBe(-32021);
    expect((await get(taskId as string, fakeCtx())).status).toBe('working');
  });

  it('answers -32602 for unknown or malformed task ids', async () => {
    const ctx = fakeCtx();
    for (const method of ['tasks/get', 'tasks/cancel', 'tasks/update']) {
      const err = await rpcError(
        b.host.handle(
          method,
          { taskId: 'tasks-conformance-nonexistent-12345', inputResponses: {} },
          ctx,
        ),
      );
      expect(err.code).toBe(-32602);
    }
    expect((await rpcError(b.host.handle('tasks/get', {}, ctx))).code).toBe(-32602);
    expect((await rpcError(b.host.handle('tasks/get', { taskId: 7 }, ctx))).code).toBe(-32602);
  });

  it('serves only get/update/cancel in the modern era', () => {
    const ctx = fakeCtx();
    expect(b.host.handles('tasks/get', ctx)).toBe(true);
    expect(b.host.handles('tasks/update', ctx)).toBe(true);
    expect(b.host.handles('tasks/cancel', ctx)).toBe(true);
    expect(b.host.handles('tasks/result', ctx)).toBe(false);
    expect(b.host.handles('tasks/list', ctx)).toBe(false);
  });
});
