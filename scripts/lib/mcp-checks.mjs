/* global process, console, setTimeout */
/**
 * What the container checks share (scripts/image-check.mjs, scripts/compose-check.mjs): the
 * MCP conformance suites run against a URL, a bounded wait, and reading one JSON-RPC result
 * from a Streamable HTTP answer.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONFORMANCE = path.join(ROOT, 'test', 'conformance');
const RESULTS = path.join(ROOT, '.conformance-results');

/** The three conformance runs of the test command. */
export const RUNS = [
  { name: 'stable', suite: 'conformance-stable', extraArgs: [] },
  { name: 'alpha', suite: 'conformance-alpha', extraArgs: [] },
  { name: 'alpha-2026', suite: 'conformance-alpha', extraArgs: ['--spec-version', '2026-07-28'] },
];

/** Polls until `probe` resolves true, or throws after `ms`. */
export async function waitFor(what, probe, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** One JSON-RPC message from a Streamable HTTP response: JSON, or the first SSE `data:` event. */
export async function rpcResult(res) {
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
  const json = (res.headers.get('content-type') ?? '').includes('text/event-stream')
    ? text
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())[0]
    : text;
  const msg = JSON.parse(json ?? 'null');
  if (msg?.error) throw new Error(`JSON-RPC error ${JSON.stringify(msg.error)}`);
  return msg?.result;
}

function hasExpectedFailures(file) {
  if (!existsSync(file)) return false;
  return readFileSync(file, 'utf8')
    .split('\n')
    .some((line) => /^\s*-\s*[^\s#]/.test(line) || /^\s*server:\s*\[\s*[^\]\s#]/.test(line));
}

/** The suite needs Node >= 22: the node22 package test/conformance installs, else this Node. */
function node22() {
  const pkg = path.join(CONFORMANCE, 'node_modules', 'node22', 'bin', 'node');
  if (existsSync(pkg)) return pkg;
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  throw new Error(`missing ${path.relative(ROOT, pkg)}: run \`pnpm install\` first`);
}

/** One conformance run against `url`; resolves with its exit code and closing totals. */
export async function conformance(run, url, label) {
  const suite = path.join(CONFORMANCE, 'node_modules', run.suite, 'dist', 'index.js');
  if (!existsSync(suite)) throw new Error(`missing ${suite}: run \`pnpm install\` first`);
  const outDir = path.join(RESULTS, `${label}-${run.name}`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const args = [suite, 'server', '--url', url, '--suite', 'all', ...run.extraArgs, '-o', outDir];
  const expected = path.join(CONFORMANCE, `expected-failures-${run.name}.yaml`);
  if (hasExpectedFailures(expected)) args.push('--expected-failures', expected);
  console.log(`\n=== conformance ${run.name} against ${url}`);
  const started = Date.now();
  const child = spawn(node22(), args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
    process.stdout.write(chunk);
  });
  const code = await new Promise((resolve) => {
    child.on('close', resolve);
    child.on('error', () => resolve(null));
  });
  const total = [...output.matchAll(/Total:\s*(\d+)\s+passed,\s*(\d+)\s+failed/g)].at(-1);
  return {
    name: run.name,
    code,
    passed: total ? Number(total[1]) : null,
    failed: total ? Number(total[2]) : null,
    seconds: (Date.now() - started) / 1000,
  };
}
