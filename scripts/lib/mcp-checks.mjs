/* global process, console, setTimeout, fetch, AbortSignal */
/**
 * What the deploy checks share (scripts/image-check.mjs, compose-check.mjs, kube-check.mjs):
 * running a command, a free port, an MCP session over Streamable HTTP, the MCP conformance
 * suites run against a URL, a bounded wait, and the report of checks each one prints (and,
 * with MCP_CHECK_SUMMARY set, appends to that file as one JSON line for scripts/deploy-check.mjs).
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONFORMANCE = path.join(ROOT, 'test', 'conformance');
const RESULTS = path.join(ROOT, '.conformance-results');

/** The image the checks build (image-check) and run (compose-check, kube-check). */
export const CHECK_IMAGE = 'localhost/mcp-cluster:check';

/**
 * A check script's flags: `spec` maps each flag to `[option, how]`, where `how` is a function
 * of the flag's value (`--tag <name>`) or the constant a flag without a value sets (`--keep`).
 * An unknown flag or a missing value throws.
 */
export function parseFlags(argv, defaults, spec) {
  const opts = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (!Object.hasOwn(spec, flag)) throw new Error(`unknown argument ${flag}`);
    const [key, how] = spec[flag];
    if (typeof how !== 'function') {
      opts[key] = how;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    opts[key] = how(value);
  }
  return opts;
}

/** Flag value helpers for parseFlags: the text as given, or a comma-separated set. */
export const asText = (v) => v;
export const asSet = (v) => new Set(v.split(','));

/**
 * `{ passed, failed }` of a vitest JSON report; a test file that failed to load has no tests
 * and counts as one failure, so a broken file is never silent.
 */
export function readVitestCounts(file) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const brokenFiles = (r.testResults ?? []).filter(
    (f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0,
  ).length;
  return { passed: r.numPassedTests ?? 0, failed: (r.numFailedTests ?? 0) + brokenFiles };
}

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

/**
 * The JSON-RPC response in a Streamable HTTP answer: the JSON body, or the `data:` event of an
 * SSE stream that answers (notifications the server sends first are skipped).
 */
export async function rpcResult(res) {
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
  const messages = (res.headers.get('content-type') ?? '').includes('text/event-stream')
    ? text
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
        .filter(Boolean)
        .map((d) => JSON.parse(d))
    : [JSON.parse(text || 'null')];
  const msg = messages.find((m) => m && ('result' in m || 'error' in m));
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

/** podman without systemd logs an error about healthcheck timers on run/stop/rm: not ours. */
export const quiet = (text) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.includes('/run/systemd/private'))
    .join('\n');

/** Runs a command in the repository, returns trimmed stdout; throws with stderr on failure. */
export function run(cmd, args, { env, inherit = false } = {}) {
  const r = spawnSync(cmd, args, {
    cwd: ROOT,
    env: env ?? process.env,
    encoding: 'utf8',
    stdio: ['ignore', inherit ? 'inherit' : 'pipe', inherit ? 'inherit' : 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}: ${quiet(r.stderr ?? '')}`);
  }
  return (r.stdout ?? '').trim();
}

/** A TCP port that was free a moment ago (the OS chose it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * An MCP session over Streamable HTTP, as any client starts one: initialize + initialized;
 * then `request(method, params)` and `close()` (DELETE: the cluster caps the sessions a
 * principal may hold open).
 */
export async function mcpSession(url, clientName = 'deploy-check') {
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  let session;
  let id = 0;
  const post = (body) =>
    fetch(url, {
      method: 'POST',
      headers: session ? { ...headers, 'mcp-session-id': session } : headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  const init = await post({
    jsonrpc: '2.0',
    id: ++id,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: clientName, version: '1' },
    },
  });
  session = init.headers.get('mcp-session-id') ?? undefined;
  const info = await rpcResult(init);
  await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).text();
  const request = async (method, params = {}) =>
    rpcResult(await post({ jsonrpc: '2.0', id: ++id, method, params }));
  const close = async () => {
    if (session === undefined) return;
    const res = await fetch(url, {
      method: 'DELETE',
      headers: { 'mcp-session-id': session },
      signal: AbortSignal.timeout(15_000),
    });
    await res.text();
  };
  return { info, request, close };
}

/**
 * The checks of one script: `check(label, pass, detail)` prints a line at once and keeps it for
 * the closing summary (`detail` optional); `note(line)` keeps a line that is no check. `finish()` prints the
 * summary, appends `{ title, passed, failed }` to MCP_CHECK_SUMMARY when set, and returns the
 * exit code.
 */
export function createReport(title) {
  const lines = [];
  let passed = 0;
  let failed = 0;
  return {
    check(label, pass, detail) {
      if (pass) passed++;
      else failed++;
      const line = `${pass ? 'ok  ' : 'FAIL'}  ${label}${detail === undefined ? '' : `: ${detail}`}`;
      lines.push(line);
      console.log(line);
    },
    note(line) {
      lines.push(`      ${line}`);
    },
    get ok() {
      return failed === 0;
    },
    finish() {
      // A script that ends before any check ran did not pass.
      if (passed + failed === 0) failed++;
      // A long list was printed as it ran: repeat only what failed, and the notes.
      const shown = lines.length <= 40 ? lines : lines.filter((l) => !l.startsWith('ok'));
      console.log(`\n${title}\n${shown.join('\n')}`);
      console.log(
        `\n${title}: ${failed === 0 ? 'OK' : 'FAILED'} (${passed} passed, ${failed} failed)`,
      );
      const file = process.env.MCP_CHECK_SUMMARY;
      if (file) appendFileSync(file, `${JSON.stringify({ title, passed, failed })}\n`);
      return failed === 0 ? 0 : 1;
    },
  };
}

/**
 * Runs a check script's `main(report)`: an exception is one more failed check, never a silent
 * exit; the exit code is the report's.
 */
export function runChecks(title, main) {
  const report = createReport(title);
  main(report).then(
    () => {
      process.exitCode = report.finish();
    },
    (err) => {
      report.check('run', false, err instanceof Error ? err.message : String(err));
      process.exitCode = report.finish();
    },
  );
}
