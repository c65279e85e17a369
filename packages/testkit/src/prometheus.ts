/**
 * A real Prometheus for tests: the Debian `prometheus` binary on 127.0.0.1 and a free port,
 * with a generated config in a temporary directory, scraping the given targets and
 * evaluating the given rule files. Never skipped: a missing binary is a loud error.
 */
import { closedPort } from '@mcp-cluster/test-support';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A target to scrape: its job name and the full URL of its metrics endpoint. */
export interface PrometheusTarget {
  readonly job: string;
  /** e.g. `http://127.0.0.1:4001/metrics`; the path and query become metrics_path / params. */
  readonly url: string;
}

/** A Prometheus `scrape_configs` entry, written to the config as given. */
export interface PrometheusScrapeConfig {
  readonly job_name: string;
  readonly [key: string]: unknown;
}

export interface StartPrometheusOptions {
  /** What to scrape: simple targets, or full scrape configs. */
  readonly targets: readonly PrometheusTarget[] | readonly PrometheusScrapeConfig[];
  /** Rule files to evaluate (paths as Prometheus should read them; absolute is safest). */
  readonly ruleFiles?: readonly string[];
  /** Scrape and rule evaluation interval, in ms (default 1000). */
  readonly scrapeIntervalMs?: number;
  /** Binary name or path; `prometheus` by default. */
  readonly binary?: string;
  /** How long to wait for `/-/ready`, in ms (default 20 s). */
  readonly readyTimeoutMs?: number;
}

/** A sample of an instant vector: labels and `[unix seconds, value as text]`. */
export interface PrometheusSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

/** A series of a range vector: labels and its `[unix seconds, value as text]` points. */
export interface PrometheusSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly (readonly [number, string])[];
}

/** The `data` of a Prometheus query answer. */
export type PrometheusQueryResult =
  | { readonly resultType: 'vector'; readonly result: readonly PrometheusSample[] }
  | { readonly resultType: 'matrix'; readonly result: readonly PrometheusSeries[] }
  | { readonly resultType: 'scalar' | 'string'; readonly result: readonly [number, string] };

export interface RunningPrometheus extends AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:38211`. */
  readonly url: string;
  /** The temporary directory holding the config and the TSDB (removed by stop). */
  readonly dir: string;
  /** An instant query (`/api/v1/query`) at `time` (unix seconds) or now; throws on an error. */
  query(expr: string, time?: number): Promise<PrometheusQueryResult>;
  /** Polls `expr` until it returns a non-empty vector or matrix; throws after `timeoutMs`. */
  waitForResult(expr: string, timeoutMs?: number): Promise<PrometheusQueryResult>;
  /** Resolves once at least `n` targets are up; throws, with each target's error, after `timeoutMs`. */
  waitForTargetsUp(n: number, timeoutMs?: number): Promise<void>;
  /** Kills Prometheus and removes its directory; idempotent. */
  stop(): Promise<void>;
}

/** Error naming what to install when Prometheus cannot run. */
export class PrometheusUnavailableError extends Error {
  override readonly name = 'PrometheusUnavailableError';
}

const INSTALL_HINT = 'install it with `apt-get install prometheus` (the Debian package)';
const DEFAULT_SCRAPE_INTERVAL_MS = 1_000;
const DEFAULT_READY_TIMEOUT_MS = 20_000;
const DEFAULT_WAIT_MS = 15_000;
const HTTP_TIMEOUT_MS = 5_000;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL = 8_192;

/** Starts Prometheus and resolves once it answers `/-/ready`. */
export async function startPrometheus(options: StartPrometheusOptions): Promise<RunningPrometheus> {
  const binary = options.binary ?? 'prometheus';
  const intervalMs = options.scrapeIntervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS;
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-prometheus-'));
  try {
    const configFile = path.join(dir, 'prometheus.yml');
    // JSON is YAML: no YAML writer needed.
    await writeFile(configFile, JSON.stringify(buildConfig(options, intervalMs), null, 2));
    // A free port can be taken between our probe and the bind: retry a few times.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await closedPort();
      const proc = launch(binary, [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ]);
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitUntilReady(url, proc, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
        return running(url, dir, proc);
      } catch (err) {
        await proc.kill();
        if (err instanceof PrometheusUnavailableError) throw err;
        lastError = err;
      }
    }
    throw new Error(`${binary} did not become ready`, { cause: lastError });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function buildConfig(options: StartPrometheusOptions, intervalMs: number): object {
  const interval = `${Math.max(1, Math.round(intervalMs))}ms`;
  return {
    global: {
      scrape_interval: interval,
      scrape_timeout: interval,
      evaluation_interval: interval,
    },
    rule_files: [...(options.ruleFiles ?? [])],
    scrape_configs: scrapeConfigs(options.targets),
  };
}

function isTarget(t: PrometheusTarget | PrometheusScrapeConfig): t is PrometheusTarget {
  return 'url' in t && 'job' in t;
}

/** One scrape config per job; a job's targets must share scheme, path and query. */
function scrapeConfigs(
  targets: readonly PrometheusTarget[] | readonly PrometheusScrapeConfig[],
): PrometheusScrapeConfig[] {
  const configs: PrometheusScrapeConfig[] = [];
  const jobs = new Map<string, { key: string; hosts: string[] }>();
  for (const t of targets) {
    if (!isTarget(t)) {
      configs.push(t);
      continue;
    }
    const u = new URL(t.url);
    const key = `${u.protocol}${u.pathname}${u.search}`;
    const job = jobs.get(t.job);
    if (job !== undefined) {
      if (job.key !== key) {
        throw new Error(`targets of job ${t.job} differ in scheme, path or query: ${t.url}`);
      }
      job.hosts.push(u.host);
      continue;
    }
    const hosts = [u.host];
    jobs.set(t.job, { key, hosts });
    const params: Record<string, string[]> = {};
    for (const [k, v] of u.searchParams) (params[k] ??= []).push(v);
    configs.push({
      job_name: t.job,
      scheme: u.protocol.replace(/:$/, ''),
      metrics_path: u.pathname,
      ...(Object.keys(params).length > 0 ? { params } : {}),
      static_configs: [{ targets: hosts }],
    });
  }
  return configs;
}

interface Launched {
  readonly exited: Promise<never>;
  readonly dead: boolean;
  stderr(): string;
  kill(): Promise<void>;
}

function launch(binary: string, args: readonly string[]): Launched {
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_TAIL);
  });
  // Prometheus must not outlive the test run, even when the runner exits abruptly.
  const onExit = (): void => void child.kill('SIGKILL');
  process.once('exit', onExit);
  let alive = true;
  const gone = new Promise<void>((resolve) => {
    const done = (): void => {
      alive = false;
      process.removeListener('exit', onExit);
      resolve();
    };
    child.once('exit', done);
    child.once('error', done);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new PrometheusUnavailableError(`${binary} not found: ${INSTALL_HINT}`, { cause: err })
          : err,
      );
    });
    child.once('exit', (code, signal) => {
      reject(new Error(`${binary} exited (${code ?? signal}): ${stderr.trim()}`));
    });
  });
  exited.catch(() => undefined); // observed through waitUntilReady only
  return {
    exited,
    get dead(): boolean {
      return !alive;
    },
    stderr: () => stderr,
    async kill(): Promise<void> {
      if (!alive) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Polls `/-/ready` with growing backoff until 200, the process dies, or time runs out. */
async function waitUntilReady(url: string, proc: Launched, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  let lastError: unknown;
  for (;;) {
    try {
      const res = await Promise.race([
        fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) }),
        proc.exited,
      ]);
      await res.body?.cancel();
      if (res.ok) return;
      lastError = new Error(`/-/ready answered ${res.status}`);
    } catch (err) {
      if (proc.dead) throw err;
      lastError = err;
    }
    if (Date.now() + delay > deadline) {
      throw new Error(`prometheus at ${url} not ready within ${timeoutMs} ms: ${proc.stderr()}`, {
        cause: lastError,
      });
    }
    // Backoff between probes, not a synchronisation sleep.
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 250);
  }
}

interface ApiAnswer<T> {
  readonly status: 'success' | 'error';
  readonly data?: T;
  readonly errorType?: string;
  readonly error?: string;
}

async function api<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  const body = (await res.json()) as ApiAnswer<T>;
  if (body.status !== 'success' || body.data === undefined) {
    throw new Error(`prometheus ${url}: ${body.errorType ?? res.status} ${body.error ?? ''}`);
  }
  return body.data;
}

interface TargetsData {
  readonly activeTargets: readonly {
    readonly scrapeUrl: string;
    readonly health: string;
    readonly lastError: string;
  }[];
}

/** Polls `check` with growing backoff until it returns a value, or throws `onTimeout()`. */
async function poll<T>(
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  onTimeout: () => Error,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() + delay > deadline) throw onTimeout();
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
}

function running(url: string, dir: string, proc: Launched): RunningPrometheus {
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await proc.kill();
      await rm(dir, { recursive: true, force: true });
    })());
  const query = (expr: string, time?: number): Promise<PrometheusQueryResult> => {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', String(time));
    return api<PrometheusQueryResult>(`${url}/api/v1/query?${params.toString()}`);
  };
  return {
    url,
    dir,
    query,
    waitForResult(expr, timeoutMs = DEFAULT_WAIT_MS) {
      let last: PrometheusQueryResult | undefined;
      return poll(
        timeoutMs,
        async () => {
          last = await query(expr);
          const empty =
            (last.resultType === 'vector' || last.resultType === 'matrix') &&
            last.result.length === 0;
          return empty ? undefined : last;
        },
        () =>
          new Error(`${expr}: no result within ${timeoutMs} ms (last: ${JSON.stringify(last)})`),
      );
    },
    async waitForTargetsUp(n, timeoutMs = DEFAULT_WAIT_MS) {
      let last: TargetsData | undefined;
      await poll(
        timeoutMs,
        async () => {
          last = await api<TargetsData>(`${url}/api/v1/targets?state=active`);
          return last.activeTargets.filter((t) => t.health === 'up').length >= n ? true : undefined;
        },
        () => {
          const states = (last?.activeTargets ?? [])
            .map((t) => `${t.scrapeUrl} ${t.health}${t.lastError ? `: ${t.lastError}` : ''}`)
            .join('; ');
          return new Error(
            `fewer than ${n} targets up within ${timeoutMs} ms: ${states || 'none'}`,
          );
        },
      );
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
