/**
 * Scenario 6: a task (modern tasks extension) started on a worker that is then SIGKILLed
 * completes on another worker. Needs durable tasks (packages/queue); with tasks held in
 * worker memory the task is lost with its worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerOfTask } from '../../packages/cluster/src/index.js';
import { DEFAULT_CLIENT_CAPABILITIES, startCluster } from '../../packages/testkit/src/index.js';
import type { TestCluster } from '../../packages/testkit/src/index.js';
import {
  PACKS,
  SCENARIO_TIMEOUT_MS,
  TASKS_EXTENSION,
  eventually,
  modern,
  textOf,
  workerById,
  type Loose,
} from './support.js';

/** How long the fixture task runs: long enough to kill its worker mid-way. */
const TASK_MS = 2_000;
/** Bound on the task finishing elsewhere (re-queue, stalled-job detection, the run). */
const COMPLETION_TIMEOUT_MS = 40_000;
const WITH_TASKS = { ...DEFAULT_CLIENT_CAPABILITIES, extensions: { [TASKS_EXTENSION]: {} } };

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster({ packs: PACKS });
  await cluster.waitForWorkers(3);
}, SCENARIO_TIMEOUT_MS);

afterAll(async () => {
  await cluster?.close();
}, SCENARIO_TIMEOUT_MS);

describe('scenario 6: durable tasks survive their worker', () => {
  it(
    'a task whose worker is SIGKILLed mid-run completes on another worker',
    async () => {
      const [g1, g2] = cluster.gateways.map((g) => g.url) as [string, string];
      const created = await modern(
        g1,
        'tools/call',
        { name: 'e2e_slow_task', arguments: { ms: TASK_MS } },
        { capabilities: WITH_TASKS },
      );
      expect(created.response.error).toBeUndefined();
      const task: Loose = created.response.result;
      expect(task).toMatchObject({ resultType: 'task', status: 'working' });
      const taskId = task.taskId as string;

      const first = await modern(g2, 'tasks/get', { taskId }, { capabilities: WITH_TASKS });
      expect(first.response.result).toMatchObject({ taskId, status: 'working' });

      const owner = workerOfTask(taskId);
      expect(owner).toMatch(/^w\d$/);
      await workerById(cluster, owner!).kill('SIGKILL');

      const done: Loose = await eventually(
        COMPLETION_TIMEOUT_MS,
        `task ${taskId} completed`,
        async () => {
          const r = await modern(g2, 'tasks/get', { taskId }, { capabilities: WITH_TASKS });
          const result: Loose = r.response.result;
          if (r.response.error !== undefined) throw new Error(JSON.stringify(r.response.error));
          return result?.status === 'working' ? undefined : result;
        },
        250,
      );
      expect(done.status).toBe('completed');
      const text = textOf(done.result);
      expect(text).toMatch(/^finished on w\d$/);
      expect(text).not.toBe(`finished on ${owner}`);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
