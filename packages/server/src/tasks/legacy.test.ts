/**
 * The 2025-11-25 task methods on the in-memory host: the shared suite
 * (legacy-contract.test-support.ts, also run against the durable host) through a harness
 * whose changes settle within one macrotask turn.
 */
import { verifies } from '@mcp-cluster/test-support';
import { afterEach, describe } from 'vitest';
import { flush } from './fakes.test-support.js';
import { settlesInOneTurn, singleNodeHarness } from './host-harness.test-support.js';
import { legacySessionTests, legacyTaskMethodTests } from './legacy-contract.test-support.js';
import type { LegacyHarnessFactory } from './legacy-contract.test-support.js';
import { createMemoryTaskHost } from './memory.js';
import type { MemoryTaskHost } from './memory.js';

let host: MemoryTaskHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

const make: LegacyHarnessFactory = (over = {}) => {
  const h = createMemoryTaskHost(over);
  host = h;
  return Promise.resolve(singleNodeHarness(h, { until: settlesInOneTurn, quiesce: flush }));
};

describe('2025-11-25 task methods in memory', () => {
  legacyTaskMethodTests(make, {
    shapesTitle: verifies(
      'R-TASKS-LEGACY-SHAPES',
      'returns {task} and Task views that match the official schema',
    ),
  });
});

describe('2025-11-25 task methods in memory: lists, versions, owners', () => {
  legacySessionTests(make);
});
