/**
 * A real multi-process cluster for tests: `mcp-cluster gateway` and `mcp-cluster worker`
 * processes (the CLI through tsx) on OS ports, sharing the test Redis and NATS under a key
 * and subject prefix of their own. Nodes can be killed and restarted on the same port; close()
 * leaves no process and no Redis key behind.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { deleteRedisKeys, testServices } from '@mcp-cluster/test-support';
import { CLI_MAIN, REPO_ROOT } from './embedded.js';

/** Gateways a cluster starts with unless told otherwise. */
export const DEFAULT_CLUSTER_GATEWAYS = 2;
/** Workers a cluster starts with unless told otherwise. */
export const DEFAULT_CLUSTER_WORKERS = 3;
/** Packs every worker loads unless told otherwise. */
export const DEFAULT_CLUSTER_PACKS: readonly string[] = ['builtin:conformance'];
/** Heartbeat of test workers: short, so joins and deaths show quickly. */
export const CLUSTER_HEARTBEAT_MS = 500;
/** Bound on a node's start, until its `listening` line (tsx transpiles on first load). */
export const NODE_START_TIMEOUT_MS = 30_000;
/** How long a SIGTERMed node may take to exit (a worker drains) before it gets SIGKILL. */
export const NODE_STOP_GRACE_MS = 10_000;
/** Default bound of `waitForWorkers`. */
export const DEFAULT_WAIT_FOR_WORKERS_MS = 20_000;
/** Characters of stderr kept per node for error messages. */
export const STDERR_TAIL_CHARS = 16_384;
/** Pause between two readiness polls (bounded by the caller's deadline). */
const READY_POLL_MS = 100;

export interface ClusterOptions {
  /** Default {@link DEFAULT_CLUSTER_GATEWAYS}. */
  readonly gateways?: number;
  /** Default {@link DEFAULT_CLUSTER_WORKERS}. */
  readonly workers?: number;
  /** Packs of every initial worker; default {@link DEFAULT_CLUSTER_PACKS}. */
  readonly packs?: readonly string[];
  /** Router strategy of the gateways (MCP_STRATEGY). */
  readonly strategy?: string;
  /** Extra environment for every node; wins over the launcher's own settings. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ClusterNode {
  readonly role: 'gateway' | 'worker';
  /** The node id (MCP_NODE_ID): g1, g2, ... and w1, w2, ... */
  readonly id: string;
  /** Gateway: its Streamable HTTP endpoint (.../mcp); worker: its dispatch base URL. */
  readonly url: string;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** The last {@link STDERR_TAIL_CHARS} characters the process wrote to stderr. */
  readonly stderr: string;
  /** Sends `signal` (default SIGTERM); resolves once the process exited. No-op when stopped. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the node again with the same id and port (SIGTERMs it first if it still runs). */
  restart(): Promise<void>;
}

export interface TestCluster extends AsyncDisposable {
  readonly gateways: readonly ClusterNode[];
  readonly workers: ClusterNode[];
  readonly redisUrl: string;
  readonly natsUrl: string;
  /** Key prefix in Redis and subject prefix on NATS (MCP_CLUSTER_PREFIX). */
  readonly prefix: string;
  /** Starts one more worker (default packs of the cluster, id w<n+1>). */
  addWorker(options?: { packs?: readonly string[]; id?: string }): Promise<ClusterNode>;
  /** Until every running gateway's /readyz reports `n` workers (bounded, default 20 s). */
  waitForWorkers(n: number, timeoutMs?: number): Promise<void>;
  /** Kills everything still running (SIGTERM, then SIGKILL after a bound), deletes the keys. */
  close(): Promise<void>;
}

/** A node that could not start or stop as expected; `message` ends with its stderr tail. */
export class ClusterNodeError extends Error {
  override readonly name = 'ClusterNodeError';
}

/** The parent environment without MCP_* settings, so the host's own config cannot leak in. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('MCP_') || k === 'REDIS_URL' || k === 'NATS_URL') continue;
    env[k] = v;
  }
  return env;
}

interface NodeSpec {
  readonly role: 'gateway' | 'worker';
  readonly id: string;
  readonly env: Readonly<Record<string, string>>;
}

interface ListeningLine {
  readonly msg: 'listening';
  readonly url: string;
  readonly id?: string;
}

function parseListening(line: string): ListeningLine | undefined {
  if (!line.includes('"listening"')) return undefined;
  try {
    const parsed = JSON.parse(line) as Partial<ListeningLine>;
    return parsed.msg === 'listening' && typeof parsed.url === 'string'
      ? (parsed as ListeningLine)
      : undefined;
  } catch {
    return undefined;
  }
}

/** One gateway or worker process, restartable on the port it got first. */
class ProcessNode implements ClusterNode {
  readonly role: 'gateway' | 'worker';
  readonly id: string;
  url = '';
  origin = '';
  private port = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private tail = '';

  constructor(
    private readonly spec: NodeSpec,
    private readonly track: (child: ChildProcess | undefined) => void,
  ) {
    this.role = spec.role;
    this.id = spec.id;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    const c = this.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  get stderr(): string {
    return this.tail;
  }

  /** Spawns the process and resolves on its `listening` line; kills it when that never comes. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, this.role], {
      cwd: REPO_ROOT,
      env: { ...this.spec.env, MCP_PORT: String(this.port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    this.track(child);
    this.exited = new Promise((resolve) => {
      child.once('close', () => resolve());
      child.once('error', () => resolve()); // never spawned: there is nothing to wait for
    });
    let pending = '';
    let onLine: ((line: string) => void) | undefined;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.tail = (this.tail + chunk).slice(-STDERR_TAIL_CHARS);
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine?.(line);
    });
    const listening = await new Promise<ListeningLine>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(this.error(`no listening line within ${NODE_START_TIMEOUT_MS} ms`)),
        NODE_START_TIMEOUT_MS,
      );
      const fail = (why: string): void => {
        clearTimeout(timer);
        reject(this.error(why));
      };
      child.once('error', (err) => fail(`cannot be spawned: ${err.message}`));
      // 'close', not 'exit': by then all of stderr has been read into the tail.
      child.once('close', (code, signal) => fail(`exited (${code ?? signal}) before listening`));
      onLine = (line) => {
        const parsed = parseListening(line);
        if (parsed === undefined) return;
        clearTimeout(timer);
        resolve(parsed);
      };
    }).catch(async (err: unknown) => {
      await this.kill('SIGKILL');
      throw err;
    });
    onLine = undefined;
    if (listening.id !== undefined && listening.id !== this.id) {
      await this.kill('SIGKILL');
      throw this.error(`announced id ${listening.id}, expected ${this.id}`);
    }
    const url = new URL(listening.url);
    this.url = listening.url;
    this.origin = url.origin;
    this.port = Number(url.port);
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) {
      await this.exited;
      return;
    }
    child.kill(signal);
    const timer =
      signal === 'SIGKILL'
        ? undefined
        : setTimeout(() => child.kill('SIGKILL'), NODE_STOP_GRACE_MS).unref();
    await this.exited;
    clearTimeout(timer);
    this.track(undefined);
  }

  async restart(): Promise<void> {
    await this.kill('SIGTERM');
    await this.start();
  }

  private error(why: string): ClusterNodeError {
    return new ClusterNodeError(
      `${this.role} ${this.id} ${why}; stderr:\n${this.tail.trim() || '(empty)'}`,
    );
  }
}

/**
 * Starts `gateways` gateway and `workers` worker processes and resolves once every one has
 * written its listening line (not once the gateways see the workers: use `waitForWorkers`).
 * Needs MCP_TEST_REDIS_URL / MCP_TEST_NATS_URL (the vitest global setup sets them).
 */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const { redisUrl, natsUrl } = testServices();
  const gatewayCount = options.gateways ?? DEFAULT_CLUSTER_GATEWAYS;
  const workerCount = options.workers ?? DEFAULT_CLUSTER_WORKERS;
  const packs = options.packs ?? DEFAULT_CLUSTER_PACKS;
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const common: Record<string, string> = {
    ...baseEnv(),
    REDIS_URL: redisUrl,
    NATS_URL: natsUrl,
    MCP_CLUSTER_PREFIX: prefix,
    MCP_HOST: '127.0.0.1',
    MCP_LOG_LEVEL: 'warn',
    MCP_STATE_KEYS: `k1:${randomBytes(24).toString('base64url')}`,
    MCP_HEARTBEAT_MS: String(CLUSTER_HEARTBEAT_MS),
    // Gateways refuse unauthenticated requests by default; test clusters open explicitly
    // (the security suite passes its own MCP_CONFIG with providers instead).
    MCP_AUTH_ALLOW_ANONYMOUS: 'true',
    ...(options.strategy === undefined ? {} : { MCP_STRATEGY: options.strategy }),
    ...options.env,
  };

  // Children are SIGKILLed if this process exits without close() (a crashed test run).
  const children = new Map<string, ChildProcess>();
  const onExit = (): void => {
    for (const c of children.values()) c.kill('SIGKILL');
  };
  process.on('exit', onExit);

  const gateways: ProcessNode[] = [];
  const workers: ProcessNode[] = [];
  const makeNode = (role: 'gateway' | 'worker', id: string, nodePacks: readonly string[]) => {
    const env: Record<string, string> = { ...common, MCP_NODE_ID: id };
    if (role === 'worker') env.MCP_PACKS = nodePacks.join(',');
    return new ProcessNode({ role, id, env }, (child) => {
      if (child === undefined) children.delete(id);
      else children.set(id, child);
    });
  };
  let nextWorker = workerCount + 1;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      try {
        await Promise.all([...gateways, ...workers].map((n) => n.kill('SIGTERM')));
      } finally {
        onExit();
        process.removeListener('exit', onExit);
        await deleteRedisKeys(redisUrl, `${prefix}:*`);
      }
    })());

  const cluster: TestCluster = {
    gateways,
    workers,
    redisUrl,
    natsUrl,
    prefix,
    async addWorker(opts = {}) {
      const id = opts.id ?? `w${nextWorker++}`;
      if ([...gateways, ...workers].some((n) => n.id === id)) {
        throw new Error(`node id ${id} is already taken in this cluster`);
      }
      const node = makeNode('worker', id, opts.packs ?? packs);
      workers.push(node);
      await node.start();
      return node;
    },
    waitForWorkers: (n, timeoutMs = DEFAULT_WAIT_FOR_WORKERS_MS) =>
      waitForWorkers(gateways, n, timeoutMs),
    close,
    [Symbol.asyncDispose]: close,
  };

  for (let i = 1; i <= gatewayCount; i++) gateways.push(makeNode('gateway', `g${i}`, []));
  for (let i = 1; i <= workerCount; i++) workers.push(makeNode('worker', `w${i}`, packs));
  const started = await Promise.allSettled([...gateways, ...workers].map((n) => n.start()));
  const failures = started.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    await close();
    throw failures.length === 1
      ? failures[0]
      : new AggregateError(failures, `${failures.length} cluster nodes failed to start`);
  }
  return cluster;
}

async function readyWorkers(origin: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(2_000) });
    const body = (await res.json()) as { workers?: unknown };
    return typeof body.workers === 'number' ? body.workers : undefined;
  } catch {
    return undefined;
  }
}

async function waitForWorkers(
  gateways: readonly ClusterNode[],
  n: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: (number | undefined)[] = [];
  for (;;) {
    const running = gateways.filter((g) => g.running);
    seen = await Promise.all(running.map((g) => readyWorkers(g.origin)));
    if (running.length > 0 && seen.every((w) => w === n)) return;
    if (Date.now() >= deadline) {
      const report = running.map((g, i) => `${g.id}=${seen[i] ?? '?'}`).join(', ');
      throw new Error(`gateways did not report ${n} workers within ${timeoutMs} ms (${report})`);
    }
    // Polling an HTTP endpoint: there is no event to wait on across processes.
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
}
