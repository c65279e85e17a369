/**
 * Real Redis and NATS for tests: from the environment when given, else local binaries
 * spawned on free ports, else containers; never skipped — a missing service is a loud error.
 * `MCP_TEST_SERVICES=containers` starts both in containers (testcontainers) whatever else is
 * there: the deploy checks run the cluster e2e tests that way once per run.
 */
import { closedPort } from '@mcp-cluster/test-support';
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** How a server was obtained: the environment's URL, a spawned binary, or a container. */
export type Source = 'env' | 'spawned' | 'container';

export interface TestServices extends AsyncDisposable {
  readonly redisUrl: string;
  readonly natsUrl: string;
  /** How each was obtained (for logs and the selection test). */
  readonly source: { readonly redis: Source; readonly nats: Source };
  /** Stops what was spawned (never touches servers given by the environment); idempotent. */
  stop(): Promise<void>;
}

export interface EnsureServicesOptions {
  /** Where `REDIS_URL` / `NATS_URL` are read; `process.env` by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Binary names or paths; `redis-server` / `nats-server` by default. */
  readonly binaries?: { readonly redis?: string; readonly nats?: string };
  /** Total time to wait for each server to answer, in ms (default 10 s). */
  readonly readyTimeoutMs?: number;
  /**
   * Whether a Docker daemon answers (the last resort: testcontainers). Default: `docker info`
   * succeeds within a few seconds. Tests inject it.
   */
  readonly dockerAvailable?: () => Promise<boolean>;
  /**
   * Start both in containers, ignoring URLs and binaries. Default: `MCP_TEST_SERVICES` is
   * `containers` in `env`. Needs a Docker-compatible API (`DOCKER_HOST`).
   */
  readonly containers?: boolean;
}

/** Images of the containers (NATS with JetStream, like the spawned binary). */
export const CONTAINER_IMAGES = Object.freeze({ redis: 'redis:7', nats: 'nats:2' });
const DOCKER_PROBE_TIMEOUT_MS = 5_000;
const CONTAINER_START_TIMEOUT_MS = 120_000;

/** True when `docker info` succeeds: a daemon answers (the CLI alone is not enough). */
export function dockerDaemonAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('docker', ['info'], { timeout: DOCKER_PROBE_TIMEOUT_MS }, (err) =>
      resolve(err === null),
    );
  });
}

const DEFAULT_READY_TIMEOUT_MS = 10_000;

/** Error naming what to install or set when a service cannot be provided. */
export class ServiceUnavailableError extends Error {
  override readonly name = 'ServiceUnavailableError';
}

/**
 * Provides a Redis and a NATS server: `REDIS_URL` / `NATS_URL` when set, else spawned
 * `redis-server` / `nats-server` on 127.0.0.1 and free ports, else containers (testcontainers)
 * when a Docker daemon answers. Resolves only once each answers a real PING. Throws
 * {@link ServiceUnavailableError}, naming what to install, when none of these works.
 */
export async function ensureServices(options: EnsureServicesOptions = {}): Promise<TestServices> {
  const env = options.env ?? process.env;
  const timeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    const all = stops.splice(0);
    await Promise.all(all.map((s) => s()));
  };
  try {
    if (options.containers ?? env.MCP_TEST_SERVICES === 'containers') {
      const redis = await startContainer('redis', timeoutMs, stops);
      const nats = await startContainer('nats', timeoutMs, stops);
      return services(redis, nats, stop);
    }
    const docker = options.dockerAvailable ?? dockerDaemonAnswers;
    const redis = await provide(
      'redis',
      env.REDIS_URL,
      options.binaries?.redis ?? 'redis-server',
      timeoutMs,
      stops,
      docker,
    );
    const nats = await provide(
      'nats',
      env.NATS_URL,
      options.binaries?.nats ?? 'nats-server',
      timeoutMs,
      stops,
      docker,
    );
    return services(redis, nats, stop);
  } catch (err) {
    await stop();
    throw err;
  }
}

interface Provided {
  readonly url: string;
  readonly source: Source;
}

function services(redis: Provided, nats: Provided, stop: () => Promise<void>): TestServices {
  return {
    redisUrl: redis.url,
    natsUrl: nats.url,
    source: { redis: redis.source, nats: nats.source },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

type Kind = 'redis' | 'nats';

const INSTALL_HINT: Record<Kind, string> = {
  redis: 'install redis-server (apt-get install -y redis-server) or set REDIS_URL',
  nats: 'install nats-server (apt-get install -y nats-server) or set NATS_URL',
};

async function provide(
  kind: Kind,
  envUrl: string | undefined,
  binary: string,
  timeoutMs: number,
  stops: (() => Promise<void>)[],
  docker: () => Promise<boolean>,
): Promise<Provided> {
  if (envUrl !== undefined && envUrl !== '') {
    const target = parseUrl(envUrl, kind);
    await waitUntilAnswers(kind, target, timeoutMs, undefined);
    return { url: envUrl, source: 'env' };
  }
  try {
    return await spawnBinary(kind, binary, timeoutMs, stops);
  } catch (err) {
    if (!(err instanceof BinaryMissingError)) throw err;
    if (!(await docker())) {
      throw new ServiceUnavailableError(
        `${err.message}; no Docker daemon answered either (testcontainers fallback)`,
        { cause: err },
      );
    }
    return startContainer(kind, timeoutMs, stops);
  }
}

/** The binary is not installed: the container fallback may still help. */
class BinaryMissingError extends ServiceUnavailableError {}

/**
 * The last resort when neither a URL nor a binary is available: a container through
 * testcontainers (loaded only here, so machines without Docker never pay for it).
 */
async function startContainer(
  kind: Kind,
  timeoutMs: number,
  stops: (() => Promise<void>)[],
): Promise<Provided> {
  const { GenericContainer } = await import('testcontainers');
  const port = kind === 'redis' ? 6379 : 4222;
  let spec = new GenericContainer(CONTAINER_IMAGES[kind])
    .withExposedPorts(port)
    .withStartupTimeout(CONTAINER_START_TIMEOUT_MS);
  if (kind === 'nats') spec = spec.withCommand(['-js']);
  const container = await spec.start();
  const stop = async (): Promise<void> => {
    await container.stop();
  };
  try {
    const host = container.getHost();
    const mapped = container.getMappedPort(port);
    await waitUntilAnswers(
      kind,
      { host, port: mapped, user: '', password: '' },
      timeoutMs,
      undefined,
    );
    stops.push(stop);
    return { url: `${kind}://${host}:${mapped}`, source: 'container' };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function spawnBinary(
  kind: Kind,
  binary: string,
  timeoutMs: number,
  stops: (() => Promise<void>)[],
): Promise<Provided> {
  // A free port can be taken between our probe and the server's bind: retry a few times.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await closedPort();
    const dataDir = kind === 'nats' ? await mkdtemp(path.join(tmpdir(), 'mcp-nats-')) : undefined;
    const args =
      kind === 'redis'
        ? ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
        : ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dataDir ?? ''];
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const proc = watchProcess(child, binary, kind);
    const stopChild = async (): Promise<void> => {
      await proc.kill();
      if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    };
    try {
      const local = { host: '127.0.0.1', port, user: '', password: '' };
      await waitUntilAnswers(kind, local, timeoutMs, proc);
      stops.push(stopChild);
      const scheme = kind === 'redis' ? 'redis' : 'nats';
      return { url: `${scheme}://127.0.0.1:${port}`, source: 'spawned' };
    } catch (err) {
      await stopChild();
      if (err instanceof ServiceUnavailableError) throw err; // binary missing: no retry helps
      lastError = err;
    }
  }
  throw new ServiceUnavailableError(`${binary} did not start: ${INSTALL_HINT[kind]}`, {
    cause: lastError,
  });
}

interface WatchedProcess {
  /** Rejects as soon as the process fails to start or exits. */
  readonly exited: Promise<never>;
  /** True once the process failed to start or exited. */
  readonly dead: boolean;
  kill(): Promise<void>;
}

function watchProcess(child: ChildProcess, binary: string, kind: Kind): WatchedProcess {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  // The server must not outlive the test run, even when the runner exits abruptly.
  const onExit = (): void => void child.kill('SIGKILL');
  process.once('exit', onExit);
  let alive = true;
  const gone = new Promise<void>((resolve) => {
    child.once('exit', () => {
      alive = false;
      process.removeListener('exit', onExit);
      resolve();
    });
    child.once('error', () => {
      alive = false;
      process.removeListener('exit', onExit);
      resolve();
    });
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new BinaryMissingError(`${binary} not found: ${INSTALL_HINT[kind]}`, {
              cause: err,
            })
          : err,
      );
    });
    child.once('exit', (code, signal) => {
      reject(new Error(`${binary} exited (${code ?? signal}) before answering: ${stderr.trim()}`));
    });
  });
  exited.catch(() => undefined); // observed through waitUntilAnswers only
  return {
    exited,
    get dead(): boolean {
      return !alive;
    },
    async kill(): Promise<void> {
      if (!alive) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

interface Target {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

function parseUrl(url: string, kind: Kind): Target {
  const u = new URL(url);
  const port = u.port === '' ? (kind === 'redis' ? 6379 : 4222) : Number(u.port);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}

/** Retries a real PING with growing backoff until it answers, the process dies, or time runs out. */
async function waitUntilAnswers(
  kind: Kind,
  target: Target,
  timeoutMs: number,
  proc: WatchedProcess | undefined,
): Promise<void> {
  const { host, port } = target;
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  let lastError: unknown;
  for (;;) {
    try {
      const ping = kind === 'redis' ? pingRedis(target) : pingNats(target);
      await (proc === undefined ? ping : Promise.race([ping, proc.exited]));
      return;
    } catch (err) {
      // A dead process or an error reply (auth, ...) will not get better by retrying.
      if (proc?.dead === true || err instanceof ServiceUnavailableError) throw err;
      lastError = err;
    }
    if (Date.now() + delay > deadline) {
      throw new ServiceUnavailableError(
        `${kind} at ${host}:${port} did not answer within ${timeoutMs} ms: ${INSTALL_HINT[kind]}`,
        { cause: lastError },
      );
    }
    // Backoff between connection attempts, not a synchronisation sleep.
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

/** One request/response exchange over a fresh TCP connection; resolves when `done(reply)`. */
function exchange(
  host: string,
  port: number,
  onData: (received: string, write: (s: string) => void) => boolean,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, host);
    let received = '';
    const timer = setTimeout(() => finish(new Error('no answer within 1 s')), 1_000);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    socket.setEncoding('utf8');
    socket.once('error', finish);
    socket.once('close', () => finish(new Error(`connection closed: ${received.slice(0, 200)}`)));
    const step = (data: string): void => {
      try {
        if (onData(data, (s) => socket.write(s))) finish();
      } catch (err) {
        finish(err as Error);
      }
    };
    socket.on('data', (d: string) => step((received += d)));
    socket.once('connect', () => step(''));
  });
}

/** RESP PING (after AUTH when the URL carries credentials); an error reply fails at once. */
function pingRedis({ host, port, user, password }: Target): Promise<void> {
  const resp = (...parts: string[]): string =>
    `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
  const auth =
    password === '' ? '' : user === '' ? resp('AUTH', password) : resp('AUTH', user, password);
  return exchange(host, port, (received, write) => {
    if (received === '') write(`${auth}PING\r\n`);
    if (received.startsWith('-'))
      throw new ServiceUnavailableError(
        `redis at ${host}:${port} replied ${received.split('\r\n')[0]}`,
      );
    return received.includes('+PONG\r\n');
  });
}

/** NATS CONNECT + PING (with user/password or token from the URL); -ERR fails at once. */
function pingNats({ host, port, user, password }: Target): Promise<void> {
  const creds =
    user === '' ? {} : password === '' ? { auth_token: user } : { user, pass: password };
  const connect = JSON.stringify({ verbose: false, pedantic: false, ...creds });
  let sent = false;
  return exchange(host, port, (received, write) => {
    if (!sent && received.startsWith('INFO ') && received.includes('\r\n')) {
      sent = true;
      write(`CONNECT ${connect}\r\nPING\r\n`);
    }
    if (received.includes('-ERR'))
      throw new ServiceUnavailableError(
        `nats at ${host}:${port} replied ${received.slice(received.indexOf('-ERR')).split('\r\n')[0]}`,
      );
    return sent && received.includes('PONG\r\n');
  });
}
