/**
 * Scenario 6: a task (modern tasks extension) started on a worker that is then SIGKILLed
 * completes on another worker: durable tasks (packages/queue, BullMQ) are taken over once the
 * dead worker's lock lapses.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CLIENT_CAPABILITIES,
  MODERN_VERSION,
  eventually,
  expectValidMessage,
  textOf,
} from '@mcp-cluster/testkit';
import { taskStartedUri } from './fixtures/e2e-pack.js';
import {
  SCENARIO_TIMEOUT_MS,
  TASKS_EXTENSION,
  listen,
  modern,
  useScenarioCluster,
  workerById,
  type Loose,
} from './support.js';

/** How long the fixture task runs: long enough to kill its worker mid-way. */
const TASK_MS = 2_000;
/** Bound on the task finishing elsewhere (re-queue, stalled-job detection, the run). */
const COMPLETION_TIMEOUT_MS = 40_000;
/** Task lock of the workers: a dead worker's task is taken over once it lapses. */
const TASK_LOCK_MS = 2_000;
const WITH_TASKS = { ...DEFAULT_CLIENT_CAPABILITIES, extensions: { [TASKS_EXTENSION]: {} } };

const isUpdate = (m: Loose): boolean => m?.method === 'notifications/resources/updated';

const scenario = useScenarioCluster({ env: { MCP_TASK_LOCK_MS: String(TASK_LOCK_MS) } });

describe('scenario 6: durable tasks survive their worker', () => {
  it(
    'a task whose worker is SIGKILLed mid-run completes on another worker',
    async () => {
      const { cluster, g1, g2 } = scenario;
      // Each run of the fixture task announces the worker it started on.
      const started = await listen(g2, {
        resourceSubscriptions: cluster.workers.map((w) => taskStartedUri(w.id)),
      });
      try {
        const created = await modern(
          g1,
          'tools/call',
          { name: 'e2e_slow_task', arguments: { ms: TASK_MS } },
          { capabilities: WITH_TASKS },
        );
        expect(created.response.error).toBeUndefined();
        expectValidMessage(MODERN_VERSION, created.response, { method: 'tools/call' });
        const task: Loose = created.response.result;
        expect(task).toMatchObject({ resultType: 'task', status: 'working' });
        const taskId = task.taskId as string;

        const { message } = await started.stream.until(isUpdate);
        const runner = String(message.params.uri).slice(taskStartedUri('').length);
        expect(runner).toMatch(/^w\d$/);
        const first = await modern(g2, 'tasks/get', { taskId }, { capabilities: WITH_TASKS });
        expect(first.response.result).toMatchObject({ taskId, status: 'working' });

        await workerById(cluster, runner).kill('SIGKILL');

        // Another worker takes the run over once the dead one's lock lapses...
        const { message: again } = await started.stream.until(isUpdate, COMPLETION_TIMEOUT_MS);
        expect(again.params.uri).not.toBe(taskStartedUri(runner));
        // ...and the task completes there, readable through either gateway.
        const done: Loose = await eventually(
          `task ${taskId} completed`,
          async () => {
            const r = await modern(g1, 'tasks/get', { taskId }, { capabilities: WITH_TASKS });
            if (r.response.error !== undefined) throw new Error(JSON.stringify(r.response.error));
            const result: Loose = r.response.result;
            if (result?.status === 'working') return undefined;
            expectValidMessage(MODERN_VERSION, r.response, { method: 'tasks/get' });
            return result;
          },
          { timeoutMs: COMPLETION_TIMEOUT_MS, pollMs: 250 },
        );
        expect(done.status).toBe('completed');
        const text = textOf(done.result);
        expect(text).toMatch(/^finished on w\d$/);
        expect(text).not.toBe(`finished on ${runner}`);
      } finally {
        await started.close();
      }
    },
    SCENARIO_TIMEOUT_MS,
  );
});
