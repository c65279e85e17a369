/**
 * The 2026-07-28 tasks extension on the durable host: the shared suite of the in-memory host
 * (packages/server/src/tasks/modern-contract.test-support.ts), with tasks started on node A
 * and read, updated and cancelled through node B, both as local runs and as durable jobs
 * (which either node may take).
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type { TaskHostHarness } from '@mcp-cluster/server/test-support/tasks/host-harness';
import { modernLifecycleTests } from '@mcp-cluster/server/test-support/tasks/modern-contract';
import { modernGatingTests } from '@mcp-cluster/server/test-support/tasks/modern-gating';
import { purge, startNode, testPrefix, twoNodeHarness } from './durable.test-support.js';
import type { Mode, Node } from './durable.test-support.js';

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

function harness(mode: Mode): () => TaskHostHarness {
  return () => twoNodeHarness(a, b, mode);
}

describe.each<Mode>(['local', 'job'])('tasks extension over Redis (%s runs)', (mode) => {
  modernLifecycleTests(harness(mode), { runsInline: mode === 'local' });
});

describe('tasks extension over Redis: gating, ids, methods', () => {
  modernGatingTests(harness('local'));
});
