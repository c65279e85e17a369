/**
 * Cold start and idle memory of the CLI's processes, from the TypeScript sources (the
 * repository, through tsx) and compiled (a pack project made by `mcp-cluster init`, which
 * installs the packed dist/ of every package with npm).
 *
 * For each case it measures the time from spawn to the `listening` log line and the resident
 * set size (VmRSS) after a few seconds idle, and prints the medians of several runs. Only the
 * CLI process itself is measured: tsx's esbuild service (a separate child process) is not in
 * the RSS.
 *
 *   npx tsx test/bench/startup.ts [--runs 5] [--idle-ms 3000] [--variant sources|compiled]
 *
 * gateway and worker need Redis and NATS: REDIS_URL and NATS_URL (default the local ones).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REPO_BIN = path.join(ROOT, 'services/cli/bin/mcp-cluster.js');
const JS_PACK = path.join(ROOT, 'test/bench/fixtures/hello-pack.mjs');
const TS_PACK_DIR = path.join(ROOT, 'examples/hello');
/** Bound on one process reaching its `listening` line. */
const START_TIMEOUT_MS = 30_000;
/** Bound on one process exiting after SIGTERM (then SIGKILL). */
const STOP_TIMEOUT_MS = 5_000;
/** Bounds on making the compiled project: init (builds the packages) and npm install. */
const INIT_TIMEOUT_MS = 300_000;
const INSTALL_TIMEOUT_MS = 300_000;

type Variant = 'sources' | 'compiled';

/** One process to measure: its CLI arguments, extra environment, and what it stands for. */
interface Case {
  readonly name: string;
  readonly args: (packs: Packs) => string[];
  readonly env: Readonly<Record<string, string>>;
}

/** Where a variant finds its CLI and the two packs. */
interface Packs {
  readonly bin: string;
  readonly cwd: string;
  readonly tsPack: string;
  readonly jsPack: string;
}

interface Sample {
  readonly startMs: number;
  readonly rssKb: number;
}

const CLUSTER_ENV = {
  REDIS_URL: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  NATS_URL: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
};

const LISTEN = ['--host', '127.0.0.1', '--port', '0'];

const CASES: readonly Case[] = [
  { name: 'serve (TS pack)', args: (p) => ['serve', ...LISTEN, '--pack', p.tsPack], env: {} },
  { name: 'serve (JS pack)', args: (p) => ['serve', ...LISTEN, '--pack', p.jsPack], env: {} },
  {
    name: 'gateway',
    args: () => ['gateway', ...LISTEN],
    env: { ...CLUSTER_ENV, MCP_AUTH_ALLOW_ANONYMOUS: 'true' },
  },
  {
    name: 'worker (JS pack)',
    args: (p) => ['worker', ...LISTEN, '--pack', p.jsPack],
    env: CLUSTER_ENV,
  },
];

/** The process's resident set size in kB, from /proc (Linux). */
function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** The environment of a user's shell: no npm/pnpm script variables, no NODE_OPTIONS. */
function cleanEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|INIT_CWD$|NODE_OPTIONS$|MCP_|REDIS_URL$|NATS_URL$)/i.test(key))
      continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

const delay = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Spawns one process, times it to its `listening` line, lets it idle `idleMs`, reads its RSS,
 * then stops it (SIGTERM, SIGKILL after a bound).
 */
async function measureOnce(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  idleMs: number,
): Promise<Sample> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let stderr = '';
  try {
    const startMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no listening line in ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        if (/"msg":"listening"/.test(stderr)) {
          clearTimeout(timer);
          resolve(Number(process.hrtime.bigint() - started) / 1e6);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} before listening:\n${stderr.slice(-2000)}`));
      });
    });
    await delay(idleMs);
    return { startMs, rssKb: rssKb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(killer);
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Runs a command to its end (bounded), failing with its output when it fails. */
function run(command: string, args: readonly string[], cwd: string, timeoutMs: number): void {
  const result = spawnSync(command, args, {
    cwd,
    env: cleanEnv({}),
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? result.status}):\n${result.stdout}${result.stderr}`.slice(
        -4000,
      ),
    );
  }
}

/**
 * A pack project as a user gets it: `mcp-cluster init` (which builds and packs the
 * repository's packages) and `npm install`; the two packs are copied into it so they resolve
 * `@mcp-cluster/components` from the project's node_modules (the compiled one).
 */
function compiledProject(dir: string): Packs {
  const project = path.join(dir, 'p');
  process.stderr.write(`making the compiled project in ${project} (init + npm install)...\n`);
  run(process.execPath, [REPO_BIN, 'init', project], ROOT, INIT_TIMEOUT_MS);
  run('npm', ['install', '--no-audit', '--no-fund'], project, INSTALL_TIMEOUT_MS);
  cpSync(TS_PACK_DIR, path.join(project, 'hello'), {
    recursive: true,
    filter: (source) => !source.includes('node_modules'),
  });
  cpSync(JS_PACK, path.join(project, 'hello-pack.mjs'));
  return {
    bin: path.join(project, 'node_modules/@mcp-cluster/cli/bin/mcp-cluster.js'),
    cwd: project,
    tsPack: './hello/pack.ts',
    jsPack: './hello-pack.mjs',
  };
}

const SOURCES: Packs = {
  bin: REPO_BIN,
  cwd: ROOT,
  tsPack: './examples/hello/pack.ts',
  jsPack: './test/bench/fixtures/hello-pack.mjs',
};

interface Row {
  readonly variant: Variant;
  readonly name: string;
  readonly startMs: number;
  readonly rssMb: number;
  readonly runs: number;
}

async function measureVariant(
  variant: Variant,
  packs: Packs,
  runs: number,
  idleMs: number,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const c of CASES) {
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      // A prefix of its own per process: a run never sees another run's (or test's) nodes.
      const prefix = `bench-startup-${process.pid}-${variant}-${rows.length}-${i}`;
      const env = cleanEnv({ ...c.env, MCP_CLUSTER_PREFIX: prefix, MCP_LOG_LEVEL: 'info' });
      samples.push(await measureOnce([packs.bin, ...c.args(packs)], packs.cwd, env, idleMs));
    }
    const row: Row = {
      variant,
      name: c.name,
      startMs: median(samples.map((s) => s.startMs)),
      rssMb: median(samples.map((s) => s.rssKb)) / 1024,
      runs,
    };
    process.stderr.write(
      `${variant} ${c.name}: ${row.startMs.toFixed(0)} ms, ${row.rssMb.toFixed(1)} MB\n`,
    );
    rows.push(row);
  }
  return rows;
}

/** The rows as a Markdown table (what docs/benchmarks.md shows). */
function table(rows: readonly Row[]): string {
  const lines = [
    '| process | variant | start to `listening` (ms) | RSS after idle (MB) | runs |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.variant} | ${r.startMs.toFixed(0)} | ${r.rssMb.toFixed(1)} | ${r.runs} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      'idle-ms': { type: 'string', default: '3000' },
      variant: { type: 'string', multiple: true },
    },
  });
  const runs = Number(values.runs);
  const idleMs = Number(values['idle-ms']);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error('--runs must be 1..50');
  if (!Number.isInteger(idleMs) || idleMs < 0 || idleMs > 60_000) {
    throw new Error('--idle-ms must be 0..60000');
  }
  const variants = (values.variant ?? ['sources', 'compiled']) as Variant[];
  const rows: Row[] = [];
  if (variants.includes('sources'))
    rows.push(...(await measureVariant('sources', SOURCES, runs, idleMs)));
  if (variants.includes('compiled')) {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcp-cluster-startup-'));
    try {
      rows.push(...(await measureVariant('compiled', compiledProject(dir), runs, idleMs)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  process.stdout.write(
    `node ${process.version}, ${cpus().length} CPUs, median of ${runs} runs, RSS after ${idleMs} ms idle\n\n`,
  );
  process.stdout.write(table(rows));
}

await main();
