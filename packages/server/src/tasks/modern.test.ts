/**
 * The 2026-07-28 tasks extension on the in-memory host: the shared suite
 * (modern-contract.test-support.ts, also run against the durable host) through a harness
 * whose changes settle within one macrotask turn.
 */
import { verifies } from '@mcp-cluster/test-support';
import { afterEach, beforeEach, describe } from 'vitest';
import { flush } from './fakes.test-support.js';
import { settlesInOneTurn, singleNodeHarness } from './host-harness.test-support.js';
import type { TaskHostHarness } from './host-harness.test-support.js';
import { createMemoryTaskHost } from './memory.js';
import type { MemoryTaskHost } from './memory.js';
import { modernLifecycleTests } from './modern-contract.test-support.js';
import { modernGatingTests } from './modern-gating.test-support.js';

let host: MemoryTaskHost;
beforeEach(() => {
  host = createMemoryTaskHost({ pollIntervalMs: 250 });
});
afterEach(async () => {
  await host.close();
});

const harness = (): TaskHostHarness =>
  singleNodeHarness(host, { until: settlesInOneTurn, quiesce: flush });

describe('tasks extension (2026-07-28) in memory: lifecycle, cancel, input', () => {
  modernLifecycleTests(harness, {
    createTitle: verifies(
      'R-TASKS-MODERN-CREATE',
      'creates a flat CreateTaskResult, readable at once, then completed with the result',
    ),
    runsInline: true,
  });
});

describe('tasks extension in memory: gating, ids, methods', () => {
  modernGatingTests(harness);
});
