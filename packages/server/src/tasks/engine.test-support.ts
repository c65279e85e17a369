/**
 * Test support shared by the task tests that go through a real engine, for any task host
 * (in memory here, durable in @mcp-cluster/queue): a tool that asks for input, and the
 * 2025-11-25 round trip that delivers that input on the tasks/result stream.
 */
import { expect } from 'vitest';
import { Extension } from '@mcp-cluster/protocol';
import type { ClientCapabilities, JsonObject } from '@mcp-cluster/protocol';
import { expectValidMessage } from '@mcp-cluster/test-support';
import type { Engine } from '../api.js';
import type { ToolSpec } from '../components.js';
import { LegacyClient, MODERN_CAPS, resultOf, tool } from '../test-harness.js';

/** Modern client capabilities with the tasks extension declared. */
export const WITH_TASKS_EXT: ClientCapabilities = {
  ...MODERN_CAPS,
  extensions: { [Extension.Tasks]: {} },
};

/** `confirm_delete`: elicits a confirmation and returns the answer as text. */
export function confirmDeleteTool(): ToolSpec {
  return tool(
    'confirm_delete',
    async (_a, ctx) => {
      const answer = await ctx.elicit({
        message: 'Delete?',
        requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean' } } },
      });
      return `answer: ${JSON.stringify(answer)}`;
    },
    { taskSupport: 'optional' },
  );
}

/**
 * 2025-11-25 on `engine` (which serves `confirmDeleteTool`): a task-augmented tools/call,
 * tasks/get, then tasks/result carrying the elicitation on its stream; every message is
 * checked against the official schema.
 */
export async function expectLegacyInputOnResultStream(engine: Engine): Promise<void> {
  const client = await LegacyClient.connect(engine);
  client.onRequest = (method) =>
    method === 'elicitation/create' ? { action: 'accept', content: { confirm: true } } : undefined;

  const res = await client.request('tools/call', {
    name: 'confirm_delete',
    arguments: { filename: 'a.txt' },
    task: { ttl: 60_000 },
  });
  expectValidMessage('2025-11-25', res, { method: 'tools/call' });
  const task = resultOf(res).task as JsonObject;
  expect(typeof task.status).toBe('string');
  expect(task.ttl).toBe(60_000);
  const taskId = task.taskId as string;

  const got = await client.request('tasks/get', { taskId });
  expectValidMessage('2025-11-25', got, { method: 'tasks/get' });

  const result = await client.request('tasks/result', { taskId });
  expectValidMessage('2025-11-25', result, { method: 'tasks/result' });
  expect(JSON.stringify(resultOf(result).content)).toContain('confirm');
  const sent = client.stream.filter((m) => 'method' in m && m.method === 'elicitation/create');
  expect(sent).toHaveLength(1);
  for (const m of client.stream) expectValidMessage('2025-11-25', m);
}
