/**
 * The durable host behind two real engines ("nodes" on one Redis prefix), wired as a worker
 * wires it: `resolveRun` is the engine's `taskRun`. Every emitted message is validated
 * against the official schema.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonObject } from '@mcp-cluster/protocol';
import { createEngine } from '@mcp-cluster/server';
import type { ComponentPack, Engine } from '@mcp-cluster/server';
import { expectValidMessage } from '@mcp-cluster/test-support';
import {
  WITH_TASKS_EXT,
  confirmDeleteTool,
  expectLegacyInputOnResultStream,
} from '@mcp-cluster/server/test-support/tasks/engine';
import { modern, resultOf } from '@mcp-cluster/server/test-support/harness';
import { createDurableTaskHost } from './host.js';
import { purge, redisUrl, testPrefix, until } from './durable.test-support.js';

const V = '2026-07-28';
const pack: ComponentPack = { name: 'durable-it', components: [confirmDeleteTool()] };

let prefix = testPrefix();
const engines: Engine[] = [];

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  await purge(prefix);
  prefix = testPrefix();
});

async function newEngine(nodeId: string): Promise<Engine> {
  // The host exists before its engine: resolve runs through a late-bound reference.
  const late: { engine?: Engine } = {};
  const tasks = await createDurableTaskHost({
    redisUrl: redisUrl(),
    prefix,
    nodeId,
    lockDurationMs: 1_000,
    resolveRun: (job, ctx) => late.engine?.taskRun(job, ctx),
  });
  const engine = createEngine({ serverInfo: { name: 'srv', version: '1' }, packs: [pack], tasks });
  late.engine = engine;
  engines.push(engine);
  return engine;
}

async function call(engine: Engine, method: string, params: JsonObject) {
  const { response } = await modern(engine, method, params, { caps: WITH_TASKS_EXT });
  expectValidMessage(V, response, { method });
  return resultOf(response);
}

describe('durable tasks through two engines', () => {
  it('modern: tools/call as a task on A; input, update and result through B', async () => {
    const a = await newEngine('A');
    const b = await newEngine('B');
    const created = await call(a, 'tools/call', { name: 'confirm_delete', arguments: {} });
    expect(created).toMatchObject({ resultType: 'task', status: 'working' });
    const taskId = created.taskId as string;

    await until(
      async () => (await call(b, 'tasks/get', { taskId })).status === 'input_required',
      'parked for input',
    );
    const parked = await call(b, 'tasks/get', { taskId });
    const [key] = Object.keys(parked.inputRequests as JsonObject);
    await expect(
      call(b, 'tasks/update', {
        taskId,
        inputResponses: { [key as string]: { action: 'accept', content: { confirm: true } } },
      }),
    ).resolves.toEqual({ resultType: 'complete' });
    await until(
      async () => (await call(a, 'tasks/get', { taskId })).status === 'completed',
      'completed',
    );
    const done = await call(a, 'tasks/get', { taskId });
    expect(JSON.stringify(done.result)).toContain('confirm');
  });

  it('2025-11-25: task-augmented tools/call and tasks/result with elicitation on its stream', async () => {
    await expectLegacyInputOnResultStream(await newEngine('A'));
  });
});
