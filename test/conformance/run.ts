/**
 * Runs the official MCP conformance suite (npm `@modelcontextprotocol/conformance`) against
 * the embedded server with the `builtin:conformance` fixture pack:
 *
 *   stable      0.1.16          server --url U --suite all
 *   alpha       0.2.0-alpha.12  server --url U --suite all                    (default wires)
 *   alpha-2026  0.2.0-alpha.12  server --url U --suite all --spec-version 2026-07-28
 *
 * The server is a real child process (the CLI, port 0). The suite needs Node >= 22, so it
 * runs on the node22 package's binary. Exit code: non-zero if any run exits non-zero.
 *
 * Usage: tsx test/conformance/run.ts [--only stable,alpha,alpha-2026] [--summary FILE]
 *        [--timeout-min N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureServices, startCluster } from '@mcp-cluster/testkit';
import { hasExpectedFailures, parseFailingScenarios, parseTotal } from './results.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
/** The suite needs Node >= 22: the node22 package (linux-x64), else this Node if new enough. */
const NODE22_PKG = path.join(HERE, 'node_modules', 'node22', 'bin', 'node');
const NODE22 =
  !existsSync(NODE22_PKG) && Number(process.versions.node.split('.')[0]) >= 22
    ? process.execPath
    : NODE22_PKG;
const STABLE = path.join(HERE, 'node_modules', 'conformance-stable', 'dist', 'index.js');
const ALPHA = path.join(HERE, 'node_modules', 'conformance-alpha', 'dist', 'index.js');
const RESULTS = path.join(ROOT, '.conformance-results');
const CLI = path.join(ROOT, 'services', 'cli', 'src', 'main.ts');

interface RunSpec {
  readonly name: string;
  readonly suite: string;
  readonly extraArgs: readonly string[];
}

const RUNS: readonly RunSpec[] = [
  { name: 'stable', suite: STABLE, extraArgs: [] },
  { name: 'alpha', suite: ALPHA, extraArgs: [] },
  { name: 'alpha-2026', suite: ALPHA, extraArgs: ['--spec-version', '2026-07-28'] },
];

export interface RunResult {
  readonly name: string;
  readonly command: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** From the closing `Total: N passed, M failed` line; null when it was not printed. */
  readonly passed: number | null;
  readonly failed: number | null;
  readonly failingScenarios: readonly string[];
  readonly seconds: number;
}

/**
 * Where the suites run: the embedded node, and each gateway of a real cluster (2 gateways,
 * 2 workers, Redis, NATS), which must pass exactly like the embedded node.
 */
const TARGETS: readonly string[] = ['embedded', 'g1', 'g2'];

function parseArgs(argv: readonly string[]): {
  only: Set<string> | undefined;
  targets: Set<string>;
  summary: string | undefined;
  timeoutMs: number;
} {
  let only: Set<string> | undefined;
  let targets: Set<string> = new Set(TARGETS);
  let summary: string | undefined;
  let timeoutMs = 15 * 60_000;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only') only = new Set(next().split(','));
    else if (a === '--targets') targets = new Set(next().split(','));
    else if (a === '--summary') summary = path.resolve(next());
    else if (a === '--timeout-min') timeoutMs = Number(next()) * 60_000;
    else throw new Error(`unknown argument ${a}`);
  }
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t}`);
  return { only, targets, summary, timeoutMs };
}

const children = new Set<ChildProcess>();

/** Kills a child and its process group (the suite spawns no grandchildren, the CLI may). */
function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

function killAll(): void {
  for (const c of children) kill(c, 'SIGKILL');
}

process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** Starts the CLI on port 0 and resolves with the URL it reports on stderr. */
async function startServer(logFile: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--pack',
      'builtin:conformance',
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  const log = createWriteStream(logFile);
  const lines = createInterface({ input: child.stderr });
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      kill(child, 'SIGKILL');
      reject(new Error(`${why} (server log: ${path.relative(ROOT, logFile)})`));
    };
    const timer = setTimeout(() => fail('server did not report "listening" within 60 s'), 60_000);
    lines.on('line', (line) => {
      log.write(line + '\n');
      if (settled || !line.includes('listening')) return;
      try {
        const entry = JSON.parse(line) as { msg?: unknown; url?: unknown };
        if (entry.msg === 'listening' && typeof entry.url === 'string') {
          settled = true;
          clearTimeout(timer);
          resolve({ child, url: entry.url });
        }
      } catch {
        // not our JSON line; keep reading
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      fail(`server exited before listening (code ${code}, signal ${signal})`);
    });
  });
}

async function runSuite(
  spec: RunSpec,
  url: string,
  outDir: string,
  timeoutMs: number,
  label: string = spec.name,
): Promise<RunResult> {
  const expected = path.join(HERE, `expected-failures-${spec.name}.yaml`);
  const args = [spec.suite, 'server', '--url', url, '--suite', 'all', ...spec.extraArgs];
  args.push('-o', outDir);
  if (hasExpectedFailures(expected)) args.push('--expected-failures', expected);
  const command = [NODE22, ...args]
    .map((a) => (path.isAbsolute(a) ? path.relative(ROOT, a) : a))
    .join(' ');
  console.log(`\n=== conformance ${label}: ${command}`);
  const started = Date.now();
  const child = spawn(NODE22, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  let output = '';
  const log = createWriteStream(path.join(outDir, 'output.log'));
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      log.write(text);
      process.stdout.write(text);
    });
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    console.error(`\n!!! conformance ${spec.name} exceeded ${timeoutMs / 60_000} min; killing it`);
    kill(child, 'SIGKILL');
  }, timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.on('close', (code) => resolve(code));
    child.on('error', (err) => {
      output += `\nspawn error: ${err.message}\n`;
      resolve(null);
    });
  });
  clearTimeout(timer);
  children.delete(child);
  log.end();
  const total = parseTotal(output);
  return {
    name: label,
    command,
    exitCode: timedOut ? null : exitCode,
    timedOut,
    passed: total?.passed ?? null,
    failed: total?.failed ?? null,
    failingScenarios: parseFailingScenarios(output),
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

function printTable(results: readonly RunResult[]): void {
  const rows = results.map((r) => [
    r.name,
    r.timedOut ? 'timeout' : String(r.exitCode),
    r.passed === null ? '?' : String(r.passed),
    r.failed === null ? '?' : String(r.failed),
    `${r.seconds}s`,
    r.failingScenarios.length <= 6
      ? r.failingScenarios.join(' ') || '-'
      : `${r.failingScenarios.slice(0, 6).join(' ')} (+${r.failingScenarios.length - 6} more)`,
  ]);
  const head = ['run', 'exit', 'passed', 'failed', 'time', 'failing scenarios'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  console.log('\nConformance summary');
  console.log(fmt(head));
  console.log(fmt(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(fmt(r));
  for (const r of results) {
    if (r.failingScenarios.length > 6) {
      console.log(`\n${r.name} failing scenarios: ${r.failingScenarios.join(' ')}`);
    }
  }
  console.log('Details: .conformance-results/<run>/<scenario folder>/checks.json');
}

export interface Summary {
  readonly ok: boolean;
  readonly passed: number;
  readonly failed: number;
  readonly runs: readonly RunResult[];
}

function writeSummary(file: string | undefined, report: Summary): void {
  const text = JSON.stringify(report, null, 2);
  writeFileSync(path.join(RESULTS, 'summary.json'), text);
  if (file) writeFileSync(file, text);
}

/** SIGTERM, then SIGKILL if the process has not exited within 5 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  kill(child, 'SIGTERM');
  const timer = setTimeout(() => kill(child, 'SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

type RunAll = (target: string, url: string, alive: () => boolean) => Promise<void>;

/** dns-rebinding-protection only passes against a localhost URL (fixtures doc 10.1). */
const suiteUrl = (url: string): string => url.replace('//127.0.0.1:', '//localhost:');

async function runEmbedded(runAll: RunAll): Promise<void> {
  const { child: server, url: serverUrl } = await startServer(path.join(RESULTS, 'server.log'));
  console.log(`embedded server listening at ${serverUrl}; suite URL ${suiteUrl(serverUrl)}`);
  try {
    await runAll(
      'embedded',
      suiteUrl(serverUrl),
      () => server.exitCode === null && server.signalCode === null,
    );
  } finally {
    await stop(server);
  }
}

/** A real cluster (processes), Redis and NATS from the environment or spawned binaries. */
async function runCluster(gateways: readonly string[], runAll: RunAll): Promise<void> {
  await using services = await ensureServices();
  process.env.MCP_TEST_REDIS_URL = services.redisUrl;
  process.env.MCP_TEST_NATS_URL = services.natsUrl;
  await using cluster = await startCluster({
    gateways: 2,
    workers: 2,
    packs: ['builtin:conformance'],
  });
  await cluster.waitForWorkers(2);
  for (const target of gateways) {
    const node = cluster.gateways.find((g) => g.id === target);
    if (node === undefined) throw new Error(`no gateway ${target}`);
    console.log(`gateway ${target} at ${node.url}; suite URL ${suiteUrl(node.url)}`);
    const alive = (): boolean =>
      cluster.gateways.every((g) => g.running) && cluster.workers.every((w) => w.running);
    await runAll(target, suiteUrl(node.url), alive);
  }
}

async function main(): Promise<number> {
  const { only, targets, summary, timeoutMs } = parseArgs(process.argv.slice(2));
  for (const f of [NODE22, STABLE, ALPHA]) {
    if (!existsSync(f)) throw new Error(`missing ${f}: run \`pnpm install\` first`);
  }
  const runs = RUNS.filter((r) => !only || only.has(r.name));
  mkdirSync(RESULTS, { recursive: true });
  const results: RunResult[] = [];
  const expectedRuns = runs.length * targets.size;
  const runAll = async (target: string, url: string, alive: () => boolean): Promise<void> => {
    for (const spec of runs) {
      const label = target === 'embedded' ? spec.name : `${target}-${spec.name}`;
      const outDir = path.join(RESULTS, label);
      rmSync(outDir, { recursive: true, force: true });
      mkdirSync(outDir, { recursive: true });
      results.push(await runSuite(spec, url, outDir, timeoutMs, label));
      if (!alive()) {
        console.error(`!!! ${target} died during the run; see .conformance-results/*.log`);
        return;
      }
    }
  };
  try {
    if (targets.has('embedded')) await runEmbedded(runAll);
    const gateways = [...targets].filter((t) => t !== 'embedded');
    if (gateways.length > 0) await runCluster(gateways, runAll);
  } catch (err) {
    writeSummary(summary, { ok: false, passed: 0, failed: expectedRuns, runs: results });
    throw err;
  }
  printTable(results);
  const passed = results.reduce((n, r) => n + (r.passed ?? 0), 0);
  // A run that printed no Total line (crash, timeout) still counts as one failure.
  const failed = results.reduce((n, r) => n + (r.failed ?? 1), 0);
  const ok =
    results.length === expectedRuns && results.every((r) => r.exitCode === 0 && !r.timedOut);
  writeSummary(summary, { ok, passed, failed, runs: results });
  console.log(`\nconformance: ${passed} checks passed, ${failed} failed — ${ok ? 'OK' : 'FAILED'}`);
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`conformance runner failed: ${err instanceof Error ? err.message : String(err)}`);
    killAll();
    process.exitCode = 1;
  },
);
