#!/usr/bin/env node
/* global process, console */
/**
 * THE test command (`pnpm test`): format, lint, types, unit + integration tests, the MCP
 * conformance suite, then the deployment checks (scripts/deploy-check.mjs: image, compose,
 * chart, `podman kube play`, e2e on containers). Steps run in order and stop at the first failure. The last line is
 * always `N passed, M failed`: vitest tests plus conformance checks, with each failed step
 * that has no counts of its own (format, lint, types, a crash) counted as one failure.
 *
 * Flags: --skip-conformance, --skip-deploy (each takes minutes; the deploy checks need podman,
 * which they install as root where it is missing). CI never passes these.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readVitestCounts } from './lib/mcp-checks.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TMP = path.join(ROOT, '.tmp');
const BIN = path.join(ROOT, 'node_modules', '.bin');
const VITEST_JSON = path.join(TMP, 'vitest-results.json');
const CONFORMANCE_JSON = path.join(TMP, 'conformance-summary.json');
const DEPLOY_JSON = path.join(TMP, 'deploy-summary.json');

const skipConformance = process.argv.includes('--skip-conformance');
const skipDeploy = process.argv.includes('--skip-deploy');

const bin = (name) => path.join(BIN, name);

/** Each step: a command, and optionally how to read its test counts afterwards. */
const steps = [
  { name: 'format (prettier --check .)', cmd: bin('prettier'), args: ['--check', '.'] },
  { name: 'lint (eslint .)', cmd: bin('eslint'), args: ['.'] },
  { name: 'types (tsc -p tsconfig.json)', cmd: bin('tsc'), args: ['-p', 'tsconfig.json'] },
  {
    name: 'types, protocol without Node (tsc -p packages/protocol/tsconfig.json)',
    cmd: bin('tsc'),
    args: ['-p', 'packages/protocol/tsconfig.json'],
  },
  {
    name: 'unit + integration tests (vitest run)',
    cmd: bin('vitest'),
    args: ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${VITEST_JSON}`],
    output: VITEST_JSON,
    counts: readVitestCounts,
  },
  {
    name: 'MCP conformance (test/conformance/run.ts)',
    cmd: bin('tsx'),
    args: ['test/conformance/run.ts', '--summary', CONFORMANCE_JSON],
    output: CONFORMANCE_JSON,
    counts: readSummaryCounts,
    skip: skipConformance,
  },
  {
    name: 'deployment (scripts/deploy-check.mjs)',
    cmd: process.execPath,
    args: ['scripts/deploy-check.mjs', '--summary', DEPLOY_JSON],
    output: DEPLOY_JSON,
    counts: readSummaryCounts,
    skip: skipDeploy,
  },
];

/** `{ passed, failed }` as the conformance runner and the deploy checks write it. */
function readSummaryCounts(file) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  return { passed: r.passed ?? 0, failed: r.failed ?? 0 };
}

let current;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (current && current.exitCode === null) current.kill(sig);
    process.exit(130);
  });
}

function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: 'inherit' });
    current = child;
    child.on('error', (err) => {
      console.error(`cannot start ${cmd}: ${err.message}`);
      resolve(127);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

const banner = (text) => {
  const line = '='.repeat(Math.max(60, text.length + 6));
  console.log(`\n${line}\n== ${text}\n${line}`);
};

const seconds = (ms) => `${(ms / 1000).toFixed(1)}s`;

async function main() {
  mkdirSync(TMP, { recursive: true });
  const timings = [];
  let passed = 0;
  let failed = 0;
  let failedStep;
  const startAll = Date.now();
  for (const step of steps) {
    if (step.skip) {
      timings.push({ name: step.name, status: 'skipped', ms: 0 });
      continue;
    }
    banner(`step ${timings.length + 1}/${steps.length}: ${step.name}`);
    if (step.output) rmSync(step.output, { force: true });
    const start = Date.now();
    const code = await run(step.cmd, step.args);
    const ms = Date.now() - start;
    let counted = false;
    if (step.counts && step.output && existsSync(step.output)) {
      try {
        const c = step.counts(step.output);
        passed += c.passed;
        failed += c.failed;
        counted = true;
      } catch (err) {
        console.error(`cannot read ${step.output}: ${err.message}`);
      }
    }
    const ok = code === 0;
    timings.push({ name: step.name, status: ok ? 'ok' : `FAILED (exit ${code})`, ms });
    if (!ok) {
      // A failing step with no failing counts still has to show up in the closing line.
      if (!counted || failed === 0) failed += 1;
      failedStep = step.name;
      banner(`FAILED: ${step.name} (exit ${code}, ${seconds(ms)}); later steps not run`);
      break;
    }
    console.log(`-- ${step.name}: ok in ${seconds(ms)}`);
  }
  console.log('\nStep timings');
  for (const t of timings)
    console.log(`  ${t.status.padEnd(18)} ${seconds(t.ms).padStart(7)}  ${t.name}`);
  console.log(`  ${'total'.padEnd(18)} ${seconds(Date.now() - startAll).padStart(7)}`);
  if (failedStep) console.log(`\nFirst failing step: ${failedStep}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failedStep ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
