/**
 * The task host behind the real engine, for what tasks-wiring.test.ts (the engine's side)
 * does not cover: failed tasks, cancel, removed methods, and 2025-11-25 input delivered on
 * the tasks/result stream. Every emitted message is validated against the official schema.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolError } from '@mcp-cluster/protocol';
import type { ClientCapabilities, JsonObject } from '@mcp-cluster/protocol';
import { expectValidMessage } from '@mcp-cluster/test-support';
import type { Engine } from '../api.js';
import type { ComponentPack } from '../components.js';
import { createEngine } from '../engine.js';
import { MODERN_CAPS, errorOf, modern, resultOf, tool } from '../test-harness.js';
import { createMemoryTaskHost } from './memory.js';
import {
  WITH_TASKS_EXT,
  confirmDeleteTool,
  expectLegacyInputOnResultStream,
} from './engine.test-support.js';
import { flush } from './fakes.test-support.js';

const V = '2026-07-28';

const pack: ComponentPack = {
  name: 'tasks-it',
  components: [
    tool(
      'slow_compute',
      async (_a, ctx) => {
        // Runs until cancelled.
        await new Promise<void>((_, reject) => {
          ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
        });
        return 'computed';
      },
      { taskSupport: 'optional' },
    ),
    tool(
      'protocol_error_job',
      () => {
        throw new ProtocolError(-32603, 'job exploded');
      },
      { taskSupport: 'required' },
    ),
    confirmDeleteTool(),
  ],
};

let engine: Engine;
afterEach(async () => {
  await engine.close();
});

function newEngine(): Engine {
  engine = createEngine({
    serverInfo: { name: 'srv', version: '1' },
    packs: [pack],
    tasks: createMemoryTaskHost(),
  });
  return engine;
}

async function call(method: string, params: JsonObject, caps: ClientCapabilities = WITH_TASKS_EXT) {
  const { response } = await modern(engine, method, params, { caps });
  expectValidMessage(V, response, { method });
  return response;
}

describe('tasks extension through the engine', () => {
  it('protocol error: failed with error{code,message} and no result', async () => {
    newEngine();
    const { taskId } = resultOf(await call('tools/call', { name: 'protocol_error_job' }));
    await flush();
    const got = resultOf(await call('tasks/get', { taskId }));
    expect(got['status']).toBe('failed');
    expect(got['error']).toEqual({ code: -32603, message: 'job exploded' });
    expect(got).not.toHaveProperty('result');
  });

  it('cancel settles a running task; tasks/result and tasks/list are -32601', async () => {
    newEngine();
    const { taskId } = resultOf(await call('tools/call', { name: 'slow_compute', arguments: {} }));
    expect(resultOf(await call('tasks/cancel', { taskId }))).toEqual({ resultType: 'complete' });
    expect(resultOf(await call('tasks/get', { taskId }))['status']).toBe('cancelled');
    for (const method of ['tasks/result', 'tasks/list']) {
      expect(
        errorOf((await modern(engine, method, { taskId }, { caps: WITH_TASKS_EXT })).response).code,
      ).toBe(-32601);
    }
    const gated = errorOf(await call('tasks/get', { taskId: 'gate-test' }, MODERN_CAPS));
    expect(gated.code).toBe(-32021);
  });
});

describe('2025-11-25 tasks through the engine', () => {
  it('task-augmented tools/call, tasks/get, and tasks/result with elicitation on its stream', async () => {
    await expectLegacyInputOnResultStream(newEngine());
  });
});
