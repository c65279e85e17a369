/**
 * Runs the official MCP conformance suite against each gateway of a real cluster (2 gateways,
 * 3 workers with `builtin:conformance`), with the same suites, arguments and expected-failures
 * files as test/conformance/run.ts uses against the embedded server:
 *
 *   stable      0.1.16          server --url G --suite all
 *   alpha       0.2.0-alpha.12  server --url G --suite all
 *   alpha-2026  0.2.0-alpha.12  server --url G --suite all --spec-version 2026-07-28
 *
 * Redis and NATS: REDIS_URL / NATS_URL, else spawned binaries (testkit ensureServices).
 * Results: .conformance-results/cluster/<gateway>/<run>/. Exit code non-zero if any run fails.
 *
 * Usage: tsx test/e2e/conformance.ts [--only stable,alpha,alpha-2026] [--gateways g1,g2]
 *        [--timeout-min N]
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasExpectedFailures, parseFailingScenarios, parseTotal } from '../conformance/results.js';
import { ensureServices, startCluster } from '../../packages/testkit/src/index.js';
import type { TestCluster } from '../../packages/testkit/src/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const CONFORMANCE = path.join(ROOT, 'test', 'conformance');
/** The suite needs Node >= 22: the node22 package (linux-x64), else this Node if new enough. */
const NODE22_PKG = path.join(CONFORMANCE, 'node_modules', 'node22', 'bin', 'node');
const NODE22 =
  !existsSync(NODE22_PKG) && Number(process.versions.node.split('.')[0]) >= 22
    ? process.execPath
    : NODE22_PKG;
const STABLE = path.join(CONFORMANCE, 'node_modules', 'conformance-stable', 'dist', 'index.js');
const ALPHA = path.join(CONFORMANCE, 'node_modules', 'conformance-alpha', 'dist', 'index.js');
const RESULTS = path.join(ROOT, '.conformance-results', 'cluster');
/** Per suite run, unless --timeout-min says otherwise. */
const DEFAULT_RUN_TIMEOUT_MS = 15 * 60_000;

export interface SuiteSpec {
  readonly name: 'stable' | 'alpha' | 'alpha-2026';
  readonly suite: string;
  readonly extraArgs: readonly string[];
}

export const SUITES: readonly SuiteSpec[] = [
  { name: 'stable', suite: STABLE, extraArgs: [] },
  { name: 'alpha', suite: ALPHA, extraArgs: [] },
  { name: 'alpha-2026', suite: ALPHA, extraArgs: ['--spec-version', '2026-07-28'] },
];

export interface SuiteResult {
  readonly gateway: string;
  readonly name: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly passed: number | null;
  readonly failed: number | null;
  readonly failingScenarios: readonly string[];
  readonly seconds: number;
  /** The suite's combined stdout and stderr. */
  readonly output: string;
}

/** The suite and the Node it needs are installed (test/conformance's devDependencies). */
export function suitesInstalled(): boolean {
  return [NODE22, STABLE, ALPHA].every((f) => existsSync(f));
}

/**
 * One suite run against `url` (a gateway's /mcp endpoint). The suite's dns-rebinding check
 * only passes against a localhost URL, so 127.0.0.1 is rewritten (as run.ts does).
 */
export async function runSuite(
  spec: SuiteSpec,
  gateway: string,
  url: string,
  options: { timeoutMs?: number; echo?: boolean } = {},
): Promise<SuiteResult> {
  const outDir = path.join(RESULTS, gateway, spec.name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const expected = path.join(CONFORMANCE, `expected-failures-${spec.name}.yaml`);
  const target = url.replace('//127.0.0.1:', '//localhost:');
  const args = [spec.suite, 'server', '--url', target, '--suite', 'all', ...spec.extraArgs];
  args.push('-o', outDir);
  if (hasExpectedFailures(expected)) args.push('--expected-failures', expected);
  const started = Date.now();
  const child = spawn(NODE22, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(path.join(outDir, 'output.log'));
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      log.write(text);
      if (options.echo === true) process.stdout.write(text);
    });
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS);
  const onExit = (): void => void child.kill('SIGKILL');
  process.once('exit', onExit);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('close', (code) => resolve(code));
    child.once('error', (err) => {
      output += `\nspawn error: ${err.message}\n`;
      resolve(null);
    });
  });
  clearTimeout(timer);
  process.removeListener('exit', onExit);
  log.end();
  const total = parseTotal(output);
  return {
    gateway,
    name: spec.name,
    exitCode: timedOut ? null : exitCode,
    timedOut,
    passed: total?.passed ?? null,
    failed: total?.failed ?? null,
    failingScenarios: parseFailingScenarios(output),
    seconds: Math.round((Date.now() - started) / 100) / 10,
    output,
  };
}

export const succeeded = (r: SuiteResult): boolean => r.exitCode === 0 && !r.timedOut;

function parseArgs(argv: readonly string[]): {
  only: Set<string> | undefined;
  gateways: Set<string> | undefined;
  timeoutMs: number;
} {
  let only: Set<string> | undefined;
  let gateways: Set<string> | undefined;
  let timeoutMs = DEFAULT_RUN_TIMEOUT_MS;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only') only = new Set(next().split(','));
    else if (a === '--gateways') gateways = new Set(next().split(','));
    else if (a === '--timeout-min') timeoutMs = Number(next()) * 60_000;
    else throw new Error(`unknown argument ${a}`);
  }
  return { only, gateways, timeoutMs };
}

async function main(): Promise<number> {
  const { only, gateways, timeoutMs } = parseArgs(process.argv.slice(2));
  if (!suitesInstalled()) throw new Error('conformance suites missing: run `pnpm install` first');
  const services = await ensureServices();
  process.env.MCP_TEST_REDIS_URL = services.redisUrl;
  process.env.MCP_TEST_NATS_URL = services.natsUrl;
  let cluster: TestCluster | undefined;
  const results: SuiteResult[] = [];
  try {
    cluster = await startCluster({ packs: ['builtin:conformance'] });
    await cluster.waitForWorkers(3);
    for (const g of cluster.gateways) {
      if (gateways !== undefined && !gateways.has(g.id)) continue;
      for (const spec of SUITES) {
        if (only !== undefined && !only.has(spec.name)) continue;
        console.log(`\n=== conformance ${spec.name} through ${g.id} (${g.url})`);
        results.push(await runSuite(spec, g.id, g.url, { timeoutMs, echo: true }));
      }
    }
  } finally {
    await cluster?.close();
    await services.stop();
  }
  console.log('\nCluster conformance summary');
  for (const r of results) {
    const failing = r.failingScenarios.join(' ') || '-';
    console.log(
      `${r.gateway} ${r.name.padEnd(10)} exit ${r.timedOut ? 'timeout' : String(r.exitCode)} ` +
        `passed ${r.passed ?? '?'} failed ${r.failed ?? '?'} ${r.seconds}s  ${failing}`,
    );
  }
  console.log(`Details: ${path.relative(ROOT, RESULTS)}/<gateway>/<run>/`);
  return results.length > 0 && results.every(succeeded) ? 0 : 1;
}

// Run as a script (tsx test/e2e/conformance.ts), not when a test imports the helpers.
if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(
        `cluster conformance failed: ${err instanceof Error ? err.message : String(err)}`,
      );
      process.exitCode = 1;
    },
  );
}
