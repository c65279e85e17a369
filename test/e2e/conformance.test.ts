/**
 * Scenario 7: the official conformance suites (stable, alpha, alpha-2026) through each gateway
 * of a 2-gateway, 3-worker cluster with `builtin:conformance`, expected to pass like the
 * embedded server (same expected-failures files). Runner: ./conformance.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster } from '../../packages/testkit/src/index.js';
import type { TestCluster } from '../../packages/testkit/src/index.js';
import { SUITES, runSuite, succeeded, suitesInstalled } from './conformance.js';
import { SCENARIO_TIMEOUT_MS } from './support.js';

/** Bound on one suite run through one gateway (alpha takes ~15 s on an idle machine). */
const SUITE_TIMEOUT_MS = 5 * 60_000;

let cluster: TestCluster;

beforeAll(async () => {
  if (!suitesInstalled()) {
    throw new Error('conformance suites missing (test/conformance devDependencies): pnpm install');
  }
  cluster = await startCluster({ packs: ['builtin:conformance'] });
  await cluster.waitForWorkers(3);
}, SCENARIO_TIMEOUT_MS);

afterAll(async () => {
  await cluster?.close();
}, SCENARIO_TIMEOUT_MS);

describe('scenario 7: conformance through each gateway', () => {
  for (const gateway of [0, 1]) {
    for (const spec of SUITES) {
      it(
        `${spec.name} through g${gateway + 1}`,
        async () => {
          const g = cluster.gateways[gateway]!;
          const result = await runSuite(spec, g.id, g.url, { timeoutMs: SUITE_TIMEOUT_MS });
          const summary =
            `${spec.name} via ${g.id}: exit ${result.exitCode}, passed ${result.passed}, ` +
            `failed ${result.failed}, failing: ${result.failingScenarios.join(' ') || '-'}\n` +
            result.output.slice(-3_000);
          expect(succeeded(result), summary).toBe(true);
          expect(result.failed, summary).toBe(0);
        },
        SUITE_TIMEOUT_MS + 10_000,
      );
    }
  }
});
