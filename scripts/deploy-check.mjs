#!/usr/bin/env node
/* global process, console */
/**
 * `node scripts/deploy-check.mjs`: the deployment checks of the test command, in order,
 * stopping at the first that fails:
 *
 *   1. containers   scripts/containers.sh standins: podman, and local stand-ins of the base and
 *                   third-party images (no image registry is needed);
 *   2. chart        scripts/chart-check.mjs: helm lint, template, offline schema validation,
 *                   template assertions, k8s/ in step with the chart;
 *   3. image        scripts/image-check.mjs: the Dockerfile builds; as `serve` it passes the
 *                   conformance suites;
 *   4. compose      scripts/compose-check.mjs: docker-compose.yml up (with the observability
 *                   profile's Prometheus: Grafana, the collector and Jaeger have no image that
 *                   builds here); conformance and a killed worker through its one URL;
 *   5. kube         scripts/kube-check.mjs: `podman kube play` of the chart's workloads;
 *   6. containers e2e  the cluster e2e tests with Redis and NATS in containers started by
 *                   testcontainers through podman's Docker-compatible API.
 *
 * Prints `N passed, M failed` (the checks of each step) and, with --summary <file>, writes
 * `{ passed, failed }` there for scripts/test.mjs. Needs root on a machine without podman (it
 * installs it with apt-get).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CHECK_IMAGE, ROOT, readVitestCounts } from './lib/mcp-checks.mjs';

const TMP = path.join(ROOT, '.tmp');
const CHECKS = path.join(TMP, 'deploy-checks.jsonl');
const E2E_JSON = path.join(TMP, 'deploy-e2e-results.json');
/** The cluster e2e files whose Redis and NATS come from the vitest global setup. */
const CONTAINER_E2E = [
  'test/e2e/legacy-sessions.test.ts',
  'test/e2e/worker-failover.test.ts',
  'test/e2e/gateway-restart.test.ts',
  'test/e2e/notifications.test.ts',
  'test/e2e/tasks.test.ts',
];

const summaryArg = process.argv.indexOf('--summary');
const summaryFile = summaryArg === -1 ? undefined : process.argv[summaryArg + 1];

function run(cmd, args, { env = process.env, capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env,
      stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.on('error', (err) => resolve({ code: 127, out: err.message }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out }));
  });
}

const node = (script, ...args) => ({ cmd: process.execPath, args: [script, ...args] });

/** The env `containers.sh docker-api` prints (`export A=1 B=2`), merged into ours. */
function dockerEnv(printed) {
  const env = { ...process.env, MCP_TEST_SERVICES: 'containers' };
  const line = printed.split('\n').find((l) => l.startsWith('export '));
  if (!line) throw new Error(`containers.sh docker-api printed no env: ${printed}`);
  for (const pair of line.slice('export '.length).trim().split(/\s+/)) {
    const eq = pair.indexOf('=');
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

async function main() {
  mkdirSync(TMP, { recursive: true });
  rmSync(CHECKS, { force: true });
  rmSync(E2E_JSON, { force: true });
  const env = { ...process.env, MCP_CHECK_SUMMARY: CHECKS };
  const steps = [
    { name: 'containers', cmd: 'bash', args: ['scripts/containers.sh', 'standins'] },
    { name: 'chart', ...node('scripts/chart-check.mjs') },
    { name: 'image', ...node('scripts/image-check.mjs', '--tag', CHECK_IMAGE) },
    {
      name: 'compose',
      ...node('scripts/compose-check.mjs', '--image', CHECK_IMAGE, '--observability'),
    },
    { name: 'kube', ...node('scripts/kube-check.mjs', '--image', CHECK_IMAGE) },
    { name: 'containers e2e', e2e: true },
  ];
  let passed = 0;
  let failed = 0;
  const timings = [];
  for (const step of steps) {
    console.log(`\n### deploy check: ${step.name}`);
    const started = Date.now();
    let result;
    if (step.e2e) {
      const api = await run('bash', ['scripts/containers.sh', 'docker-api'], { capture: true });
      result =
        api.code === 0
          ? await run(
              path.join(ROOT, 'node_modules', '.bin', 'vitest'),
              [
                'run',
                ...CONTAINER_E2E,
                '--reporter=default',
                '--reporter=json',
                `--outputFile.json=${E2E_JSON}`,
              ],
              { env: dockerEnv(api.out) },
            )
          : api;
      const c = existsSync(E2E_JSON) ? readVitestCounts(E2E_JSON) : undefined;
      passed += c?.passed ?? 0;
      failed += c?.failed ?? 0;
      if (result.code !== 0 && !c?.failed) failed++;
    } else {
      const before = existsSync(CHECKS) ? readFileSync(CHECKS, 'utf8') : '';
      result = await run(step.cmd, step.args, { env });
      const lines = (existsSync(CHECKS) ? readFileSync(CHECKS, 'utf8') : '')
        .slice(before.length)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      for (const l of lines) {
        passed += l.passed;
        failed += l.failed;
      }
      // containers.sh has no checks of its own: it passed or it did not; a check script that
      // failed without a failing check (it crashed) is one failure too.
      if (result.code === 0 && lines.length === 0) passed++;
      if (result.code !== 0 && !lines.some((l) => l.failed > 0)) failed++;
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    timings.push(
      `  ${result.code === 0 ? 'ok    ' : 'FAILED'} ${seconds.padStart(5)} s  ${step.name}`,
    );
    if (result.code !== 0) {
      console.log(
        `\n### deploy check: ${step.name} FAILED (exit ${result.code}); later steps not run`,
      );
      break;
    }
  }
  console.log(`\nDeploy checks\n${timings.join('\n')}`);
  console.log(`${passed} passed, ${failed} failed`);
  if (summaryFile) writeFileSync(summaryFile, JSON.stringify({ passed, failed }));
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    if (summaryFile) writeFileSync(summaryFile, JSON.stringify({ passed: 0, failed: 1 }));
    process.exitCode = 1;
  },
);
