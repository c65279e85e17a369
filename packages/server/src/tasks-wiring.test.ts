import { verifies, expectValidMessage } from '@mcp-cluster/test-support';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { ComponentPack } from './components.js';
import { createEngine } from './engine.js';
import { LegacyClient, errorOf, modern, resultOf, tool } from './test-harness.js';
import { ToolError } from './tool-error.js';

const EXT = { extensions: { 'io.modelcontextprotocol/tasks': {} } };
const WITH_EXT = { elicitation: {}, sampling: {}, ...EXT };

const pack: ComponentPack = {
  name: 'tasks',
  components: [
    tool('greet', (a) => `Hello, ${String((a as { name?: string }).name)}!`),
    tool(
      'slow',
      (_a, ctx) =>
        new Promise<string>((resolve) => {
          ctx.signal.addEventListener('abort', () => resolve('stopped'));
        }),
      { taskSupport: 'optional' },
    ),
    tool('quick', () => 'quick done', { taskSupport: 'optional' }),
    tool(
      'failing_job',
      () => {
        throw new ToolError('job failed');
      },
      { taskSupport: 'required' },
    ),
    tool(
      'confirm',
      async (_a, ctx) => {
        const { ok } = await ctx.input({
          ok: {
            method: 'elicitation/create',
            params: { message: 'sure?', requestedSchema: { type: 'object', properties: {} } },
          },
        });
        return `confirmed ${String(ok['action'])}`;
      },
      { taskSupport: 'optional' },
    ),
    tool('with_prepare', (_a, _ctx, prepared) => `task for ${String(prepared)}`, {
      taskSupport: 'required',
      prepare: async (_a, ctx) => {
        const { user_name } = await ctx.input({
          user_name: {
            method: 'elicitation/create',
            params: { message: 'name?', requestedSchema: { type: 'object', properties: {} } },
          },
        });
        return (user_name['content'] as JsonObject)['name'];
      },
    }),
  ],
};

const engineOf = () => createEngine({ serverInfo: { name: 's', version: '1' }, packs: [pack] });

async function pollUntil(
  engine: ReturnType<typeof engineOf>,
  taskId: string,
  done: (r: JsonObject) => boolean,
): Promise<JsonObject> {
  for (let i = 0; i < 200; i++) {
    const r = resultOf(
      (await modern(engine, 'tasks/get', { taskId }, { caps: WITH_EXT })).response,
    );
    if (done(r)) return r;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('task never reached the expected state');
}

describe('tasks wiring (modern)', () => {
  it('lists execution.taskSupport for task-capable tools only', async () => {
    const engine = engineOf();
    const tools = resultOf((await modern(engine, 'tools/list')).response)['tools'] as JsonObject[];
    expect(tools.find((t) => t['name'] === 'greet')).not.toHaveProperty('execution');
    expect(tools.find((t) => t['name'] === 'quick')?.['execution']).toEqual({
      taskSupport: 'optional',
    });
    await engine.close();
  });

  it('optional tool: a task with the extension in this request, inline without it', async () => {
    const engine = engineOf();
    const inline = await modern(engine, 'tools/call', { name: 'quick' }, { caps: {} });
    expect(resultOf(inline.response)).toMatchObject({
      resultType: 'complete',
      content: [{ text: 'quick done' }],
    });
    const created = await modern(engine, 'tools/call', { name: 'quick' }, { caps: EXT });
    expectValidMessage('2026-07-28', created.response, { method: 'tools/call' });
    const c = resultOf(created.response);
    expect(c['resultType']).toBe('task');
    expect(typeof c['taskId']).toBe('string');
    const done = await pollUntil(engine, c['taskId'] as string, (r) => r['status'] === 'completed');
    expect(done['result']).toMatchObject({ content: [{ type: 'text', text: 'quick done' }] });
    await engine.close();
  });

  it(
    verifies(
      'R-TASKS-EXTENSION-REQUIRED',
      'required tool without the extension -> -32021 with requiredCapabilities.extensions',
    ),
    async () => {
      const engine = engineOf();
      const r = await modern(engine, 'tools/call', { name: 'failing_job' }, { caps: {} });
      expectValidMessage('2026-07-28', r.response);
      expect(errorOf(r.response)).toMatchObject({
        code: -32021,
        data: { requiredCapabilities: { extensions: { 'io.modelcontextprotocol/tasks': {} } } },
      });
      await engine.close();
    },
  );

  it('a ToolError inside a task completes with isError', async () => {
    const engine = engineOf();
    const c = resultOf(
      (await modern(engine, 'tools/call', { name: 'failing_job' }, { caps: EXT })).response,
    );
    const done = await pollUntil(engine, c['taskId'] as string, (r) => r['status'] !== 'working');
    expect(done['status']).toBe('completed');
    expect(done['result']).toMatchObject({ isError: true });
    await engine.close();
  });

  it('a legacy task param is ignored on the modern wire', async () => {
    const engine = engineOf();
    const r = await modern(
      engine,
      'tools/call',
      { name: 'greet', arguments: { name: 'x' }, task: { ttl: 60000 } },
      { caps: WITH_EXT },
    );
    expect(resultOf(r.response)).toMatchObject({
      resultType: 'complete',
      content: [{ text: 'Hello, x!' }],
    });
    await engine.close();
  });

  it('input inside a task parks it in input_required until tasks/update answers', async () => {
    const engine = engineOf();
    const c = resultOf(
      (await modern(engine, 'tools/call', { name: 'confirm' }, { caps: WITH_EXT })).response,
    );
    const taskId = c['taskId'] as string;
    const parked = await pollUntil(engine, taskId, (r) => r['status'] === 'input_required');
    const keys = Object.keys(parked['inputRequests'] as object);
    expect(keys.length).toBe(1);
    const ack = await modern(
      engine,
      'tasks/update',
      { taskId, inputResponses: { [keys[0] as string]: { action: 'accept' } } },
      { caps: WITH_EXT },
    );
    expect(resultOf(ack.response)).toEqual({ resultType: 'complete' });
    const done = await pollUntil(engine, taskId, (r) => r['status'] === 'completed');
    expect(done['result']).toMatchObject({ content: [{ text: 'confirmed accept' }] });
    await engine.close();
  });

  it('prepare runs MRTR in the request before the task exists', async () => {
    const engine = engineOf();
    const r1 = resultOf(
      (await modern(engine, 'tools/call', { name: 'with_prepare' }, { caps: WITH_EXT })).response,
    );
    expect(r1['resultType']).toBe('input_required');
    expect(r1).not.toHaveProperty('taskId');
    const r2 = resultOf(
      (
        await modern(
          engine,
          'tools/call',
          {
            name: 'with_prepare',
            inputResponses: { user_name: { action: 'accept', content: { name: 'Alice' } } },
            requestState: r1['requestState'],
          },
          { caps: WITH_EXT },
        )
      ).response,
    );
    expect(r2['resultType']).toBe('task');
    expect(r2).not.toHaveProperty('requestState');
    expect(r2).not.toHaveProperty('inputRequests');
    const done = await pollUntil(
      engine,
      r2['taskId'] as string,
      (r) => r['status'] === 'completed',
    );
    expect(JSON.stringify(done['result'])).toContain('Alice');
    await engine.close();
  });

  it('task methods without the extension -> -32021', async () => {
    const engine = engineOf();
    const r = await modern(engine, 'tasks/get', { taskId: 'gate-test' }, { caps: {} });
    expect(errorOf(r.response).code).toBe(-32021);
    await engine.close();
  });
});

describe('tasks wiring (2025-11-25)', () => {
  it('declares the tasks capability only at 2025-11-25', async () => {
    const engine = engineOf();
    const old = new LegacyClient(engine, engine.sessions.create());
    const o = resultOf(
      await old.request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'x', version: '1' },
      }),
    );
    expect(o['capabilities']).not.toHaveProperty('tasks');
    const fresh = new LegacyClient(engine, engine.sessions.create());
    const r = resultOf(
      await fresh.request('initialize', {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'x', version: '1' },
      }),
    );
    expectValidMessage(
      '2025-11-25',
      { jsonrpc: '2.0', id: 1, result: r },
      { method: 'initialize' },
    );
    expect(r['capabilities']).toMatchObject({
      tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
    });
    await engine.close();
  });

  it('task param -> CreateTaskResult {task}; required without it -> -32601', async () => {
    const engine = engineOf();
    const c = await LegacyClient.connect(engine);
    const created = await c.request('tools/call', { name: 'quick', task: { ttl: 60_000 } });
    expectValidMessage('2025-11-25', created, { method: 'tools/call' });
    const task = resultOf(created)['task'] as JsonObject;
    expect(task['status']).toBe('working');
    const result = await c.request('tasks/result', { taskId: task['taskId'] as string });
    expect(resultOf(result)).toMatchObject({ content: [{ type: 'text', text: 'quick done' }] });
    expect(errorOf(await c.request('tools/call', { name: 'failing_job' })).code).toBe(-32601);
    expect(resultOf(await c.request('tools/call', { name: 'quick' }))).toEqual({
      content: [{ type: 'text', text: 'quick done' }],
    });
    await engine.close();
  });

  it('notifications/cancelled ends a blocking tasks/result', async () => {
    const engine = engineOf();
    const c = await LegacyClient.connect(engine);
    const task = resultOf(await c.request('tools/call', { name: 'slow', task: {} }))[
      'task'
    ] as JsonObject;
    const waiting = c.request('tasks/result', { taskId: task['taskId'] as string }, { id: 'r1' });
    await new Promise((resolve) => setImmediate(resolve));
    await c.notify('notifications/cancelled', { requestId: 'r1' });
    expect(errorOf(await waiting).code).toBe(-32010);
    await engine.close();
  });

  it('older revisions ignore the task param', async () => {
    const engine = engineOf();
    const c = await LegacyClient.connect(engine, {}, '2025-06-18');
    expect(resultOf(await c.request('tools/call', { name: 'quick', task: {} }))).toEqual({
      content: [{ type: 'text', text: 'quick done' }],
    });
    expect(errorOf(await c.request('tasks/get', { taskId: 'x' })).code).toBe(-32601);
    await engine.close();
  });
});
