import { verifies } from '../../../testkit/src/requirements.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Extension, MetaKey, ProtocolError } from '@mcp-cluster/protocol';
import type { CallToolResult, JsonObject } from '@mcp-cluster/protocol';
import type { TaskPort } from './api.js';
import { createMemoryTaskHost } from './memory.js';
import type { MemoryTaskHost } from './memory.js';
import { deferred, fakeCtx, flush, rpcError, text, user } from './fakes.test-support.js';

const elicit = (message: string) => ({
  method: 'elicitation/create' as const,
  params: { message, requestedSchema: { type: 'object', properties: {} } },
});

let host: MemoryTaskHost;
afterEach(async () => {
  await host.close();
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

describe('tasks extension (2026-07-28): lifecycle', () => {
  it(
    verifies(
      'R-TASKS-MODERN-CREATE',
      'creates a flat CreateTaskResult, readable at once, then completed with the result',
    ),
    async () => {
      host = createMemoryTaskHost({ pollIntervalMs: 250 });
      const ctx = fakeCtx();
      const done = deferred<CallToolResult>();
      const created = await host.start(() => done.promise, ctx, { ttlMs: 60_000 });

      expect(created).toMatchObject({ resultType: 'task', status: 'working', ttlMs: 60_000 });
      expect(created.pollIntervalMs).toBe(250);
      expect(typeof created.taskId).toBe('string');
      expect(created.taskId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      expect(Date.parse(created.createdAt as string)).not.toBeNaN();
      expect(created.lastUpdatedAt).toBe(created.createdAt);
      for (const key of FORBIDDEN_ON_CREATE) expect(created).not.toHaveProperty(key);

      const taskId = created.taskId as string;
      const working = await host.handle('tasks/get', { taskId }, ctx);
      expect(working).toMatchObject({ resultType: 'complete', taskId, status: 'working' });
      expect(working).not.toHaveProperty('result');
      expect(working).not.toHaveProperty('error');
      expect(working).not.toHaveProperty('requestState');

      done.resolve({
        ...text('done'),
        _meta: { [MetaKey.RelatedTask]: { taskId }, keep: 1 },
      });
      await flush();
      const completed = await host.handle('tasks/get', { taskId }, ctx);
      expect(completed).toMatchObject({ resultType: 'complete', taskId, status: 'completed' });
      expect(completed.result).toEqual({ ...text('done'), _meta: { keep: 1 } });
      expect(completed).not.toHaveProperty('error');
      expect(completed).not.toHaveProperty('requestState');
    },
  );

  it('drops an emptied _meta when only the related-task key was there', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    const { taskId } = await host.start(
      (port) =>
        Promise.resolve({
          ...text('x'),
          _meta: { [MetaKey.RelatedTask]: { taskId: port.taskId } },
        }),
      ctx,
      {},
    );
    await flush();
    const got = await host.handle('tasks/get', { taskId }, ctx);
    expect(got.result).toEqual(text('x'));
  });

  it('a tool error (isError: true) is completed, not failed', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    const { taskId } = await host.start(
      () => Promise.resolve({ ...text('boom'), isError: true }),
      ctx,
      {},
    );
    await flush();
    const got = await host.handle('tasks/get', { taskId }, ctx);
    expect(got.status).toBe('completed');
    expect(got.result).toEqual({ ...text('boom'), isError: true });
    expect(got).not.toHaveProperty('error');
  });

  it('a ProtocolError is failed with its code and message and no result', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    const { taskId } = await host.start(
      () => Promise.reject(new ProtocolError(-32050, 'upstream refused')),
      ctx,
      {},
    );
    await flush();
    const got = await host.handle('tasks/get', { taskId }, ctx);
    expect(got.status).toBe('failed');
    expect(got.error).toEqual({ code: -32050, message: 'upstream refused' });
    expect(got).not.toHaveProperty('result');
  });

  it('any other throw is failed -32603 with a generic message (no internal text)', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    const { taskId } = await host.start(
      () => {
        throw new Error('secret db password in stack');
      },
      ctx,
      {},
    );
    await flush();
    const got = await host.handle('tasks/get', { taskId }, ctx);
    expect(got.status).toBe('failed');
    expect(got.error).toEqual({ code: -32603, message: 'Internal error' });
    expect(JSON.stringify(got)).not.toContain('secret');
  });

  it('ignores the creating request aborting: the task outlives its request', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    let port: TaskPort | undefined;
    const done = deferred<CallToolResult>();
    const { taskId } = await host.start(
      (p) => {
        port = p;
        return done.promise;
      },
      ctx,
      {},
    );
    ctx.abort();
    expect(port?.signal.aborted).toBe(false);
    done.resolve(text('ok'));
    await flush();
    expect((await host.handle('tasks/get', { taskId }, ctx)).status).toBe('completed');
  });
});

describe('tasks extension: cancel', () => {
  it('settles to cancelled at once, aborts the run, and acks idempotently', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    let signal: AbortSignal | undefined;
    // A run that never finishes on its own and ignores its signal.
    const { taskId } = await host.start(
      (port) => {
        signal = port.signal;
        return new Promise<CallToolResult>(() => {});
      },
      ctx,
      {},
    );
    const ack = await host.handle('tasks/cancel', { taskId }, ctx);
    expect(ack).toEqual({ resultType: 'complete' });
    expect(signal?.aborted).toBe(true);
    const got = await host.handle('tasks/get', { taskId }, ctx);
    expect(got.status).toBe('cancelled');
    expect(got).not.toHaveProperty('result');
    expect(got).not.toHaveProperty('error');
    expect(await host.handle('tasks/cancel', { taskId }, ctx)).toEqual({ resultType: 'complete' });
  });

  it('a run that later resolves or rejects does not overwrite cancelled', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    const { taskId } = await host.start(
      (port) =>
        new Promise<CallToolResult>((_, reject) => {
          port.signal.addEventListener('abort', () => reject(new Error('aborted')));
        }),
      ctx,
      {},
    );
    await host.handle('tasks/cancel', { taskId }, ctx);
    await flush();
    expect((await host.handle('tasks/get', { taskId }, ctx)).status).toBe('cancelled');
  });

  it('acks a cancel on a completed task and leaves it completed', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    const { taskId } = await host.start(() => Promise.resolve(text('fast')), ctx, {});
    await flush();
    expect(await host.handle('tasks/cancel', { taskId }, ctx)).toEqual({ resultType: 'complete' });
    expect((await host.handle('tasks/get', { taskId }, ctx)).status).toBe('completed');
  });

  it('a task parked for input is cancelled and its pending input rejects', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    const inputOutcome = deferred<unknown>();
    const { taskId } = await host.start(
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
    expect((await host.handle('tasks/get', { taskId }, ctx)).status).toBe('input_required');
    await host.handle('tasks/cancel', { taskId }, ctx);
    expect(await inputOutcome.promise).toBeInstanceOf(ProtocolError);
    const got = await host.handle('tasks/get', { taskId }, ctx);
    expect(got.status).toBe('cancelled');
    expect(got).not.toHaveProperty('inputRequests');
  });
});

describe('tasks extension: input_required and tasks/update', () => {
  it('parks with opaque keys, resumes only when every key is answered', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    const { taskId } = await host.start(
      async (port) => {
        const a = await port.input({ first: elicit('one?'), second: elicit('two?') });
        return text(`${JSON.stringify(a.first)}|${JSON.stringify(a.second)}`);
      },
      ctx,
      {},
    );
    const parked = await host.handle('tasks/get', { taskId }, ctx);
    expect(parked.status).toBe('input_required');
    const requests = parked.inputRequests as Record<string, JsonObject>;
    const keys = Object.keys(requests);
    expect(keys).toHaveLength(2);
    expect(keys).not.toContain('first');
    expect(keys).not.toContain('second');
    const [k1, k2] = keys as [string, string];
    expect(requests[k1]).toEqual(elicit('one?'));
    expect(requests[k2]).toEqual(elicit('two?'));

    const ack = await host.handle(
      'tasks/update',
      { taskId, inputResponses: { [k1]: { action: 'accept', content: { n: 1 } } } },
      ctx,
    );
    expect(ack).toEqual({ resultType: 'complete' });
    await flush();
    const partial = await host.handle('tasks/get', { taskId }, ctx);
    expect(partial.status).toBe('input_required');
    expect(Object.keys(partial.inputRequests as JsonObject)).toEqual([k2]);

    // Unknown keys are ignored and still acked.
    expect(
      await host.handle(
        'tasks/update',
        { taskId, inputResponses: { 'unknown-key': { ignored: true } } },
        ctx,
      ),
    ).toEqual({ resultType: 'complete' });
    expect((await host.handle('tasks/get', { taskId }, ctx)).status).toBe('input_required');

    await host.handle(
      'tasks/update',
      { taskId, inputResponses: { [k2]: { action: 'decline' } } },
      ctx,
    );
    await flush();
    const done = await host.handle('tasks/get', { taskId }, ctx);
    expect(done.status).toBe('completed');
    expect(done.result).toEqual(text('{"action":"accept","content":{"n":1}}|{"action":"decline"}'));
    expect(done).not.toHaveProperty('inputRequests');
  });

  it('goes back to working between rounds and parks again for a second round', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    const between = deferred<void>();
    const { taskId } = await host.start(
      async (port) => {
        await port.input({ a: elicit('a?') });
        await between.promise;
        await port.input({ b: elicit('b?') });
        return text('two rounds');
      },
      ctx,
      {},
    );
    const [ka] = Object.keys(
      (await host.handle('tasks/get', { taskId }, ctx)).inputRequests as JsonObject,
    );
    await host.handle('tasks/update', { taskId, inputResponses: { [ka as string]: {} } }, ctx);
    await flush();
    expect((await host.handle('tasks/get', { taskId }, ctx)).status).toBe('working');
    between.resolve();
    await flush();
    const second = await host.handle('tasks/get', { taskId }, ctx);
    expect(second.status).toBe('input_required');
    const [kb] = Object.keys(second.inputRequests as JsonObject);
    expect(kb).not.toBe(ka);
    await host.handle('tasks/update', { taskId, inputResponses: { [kb as string]: {} } }, ctx);
    await flush();
    expect((await host.handle('tasks/get', { taskId }, ctx)).status).toBe('completed');
  });

  it('keeps concurrent input calls apart: each resolves with its own answers', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    const { taskId } = await host.start(
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
    const requests = (await host.handle('tasks/get', { taskId }, ctx)).inputRequests as Record<
      string,
      JsonObject
    >;
    const keyOf = (message: string): string =>
      Object.keys(requests).find(
        (k) => (requests[k]?.params as JsonObject | undefined)?.message === message,
      ) as string;
    await host.handle(
      'tasks/update',
      { taskId, inputResponses: { [keyOf('y?')]: { v: 'y' } } },
      ctx,
    );
    await flush();
    expect((await host.handle('tasks/get', { taskId }, ctx)).status).toBe('input_required');
    await host.handle(
      'tasks/update',
      { taskId, inputResponses: { [keyOf('x?')]: { v: 'x' } } },
      ctx,
    );
    await flush();
    const done = await host.handle('tasks/get', { taskId }, ctx);
    expect(done.result).toEqual(text('{"same":{"v":"x"}} {"same":{"v":"y"}}'));
  });

  it('CreateTaskResult may already say input_required, still without inputRequests', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    const created = await host.start(
      async (port) => {
        await port.input({ k: elicit('now?') });
        return text('ok');
      },
      ctx,
      {},
    );
    expect(created.status).toBe('input_required');
    expect(created).not.toHaveProperty('inputRequests');
  });

  it('rejects malformed inputResponses with -32602', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    const { taskId } = await host.start(
      async (port) => {
        await port.input({ k: elicit('?') });
        return text('ok');
      },
      ctx,
      {},
    );
    const [key] = Object.keys(
      (await host.handle('tasks/get', { taskId }, ctx)).inputRequests as JsonObject,
    );
    for (const inputResponses of [null, 12345, ['x'], { [key as string]: 'not an object' }]) {
      const err = await rpcError(host.handle('tasks/update', { taskId, inputResponses }, ctx));
      expect(err.code).toBe(-32602);
    }
    expect((await host.handle('tasks/get', { taskId }, ctx)).status).toBe('input_required');
  });
});

describe('tasks extension: gating, ids, methods', () => {
  it('answers -32021 naming the extension when this request lacks it, even for unknown ids', async () => {
    host = createMemoryTaskHost();
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
        const err = await rpcError(host.handle(method, params, ctx));
        expect(err.code).toBe(-32021);
        expect(err.data).toEqual({
          requiredCapabilities: { extensions: { 'io.modelcontextprotocol/tasks': {} } },
        });
      }
    }
  });

  it('gates per request: a task created with the extension is invisible to a request without it', async () => {
    host = createMemoryTaskHost();
    const { taskId } = await host.start(() => new Promise(() => {}), fakeCtx(), {});
    const err = await rpcError(host.handle('tasks/get', { taskId }, fakeCtx({ capabilities: {} })));
    expect(err.code).toBe(-32021);
    // Another sessionless request of the same principal, with the extension, sees it.
    expect((await host.handle('tasks/get', { taskId }, fakeCtx())).status).toBe('working');
  });

  it('answers -32602 for unknown or malformed task ids', async () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    for (const method of ['tasks/get', 'tasks/cancel', 'tasks/update']) {
      const err = await rpcError(
        host.handle(
          method,
          { taskId: 'tasks-conformance-nonexistent-12345', inputResponses: {} },
          ctx,
        ),
      );
      expect(err.code).toBe(-32602);
    }
    expect((await rpcError(host.handle('tasks/get', {}, ctx))).code).toBe(-32602);
    expect((await rpcError(host.handle('tasks/get', { taskId: 7 }, ctx))).code).toBe(-32602);
  });

  it('serves only get/update/cancel in the modern era', () => {
    host = createMemoryTaskHost();
    const ctx = fakeCtx();
    expect(host.handles('tasks/get', ctx)).toBe(true);
    expect(host.handles('tasks/update', ctx)).toBe(true);
    expect(host.handles('tasks/cancel', ctx)).toBe(true);
    expect(host.handles('tasks/result', ctx)).toBe(false);
    expect(host.handles('tasks/list', ctx)).toBe(false);
  });

  it('a principal only sees its own tasks', async () => {
    host = createMemoryTaskHost();
    const alice = fakeCtx({ principal: user('alice') });
    const bob = fakeCtx({ principal: user('bob') });
    const { taskId } = await host.start(() => new Promise(() => {}), alice, {});
    for (const method of ['tasks/get', 'tasks/cancel']) {
      expect((await rpcError(host.handle(method, { taskId }, bob))).code).toBe(-32602);
    }
    expect((await host.handle('tasks/get', { taskId }, alice)).status).toBe('working');
  });
});
