/**
 * The pieces of the chaos scenario (chaos.test.ts) that are not the scenario itself: a Redis
 * (AOF) and a NATS (JetStream) of its own that can be killed and restarted on the same port, a
 * client-side load balancer over the gateways, and the ledger every request of the load is
 * written to, with the classification of each outcome and the per-phase summary table.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closedPort, ensureServices, testServices } from '@mcp-cluster/testkit';
import type { ClusterNode } from '@mcp-cluster/testkit';

// ---------------------------------------------------------------------------------------
// Redis and NATS that can be killed and restarted on the same port
// ---------------------------------------------------------------------------------------

/** Bound on a (re)started Redis or NATS answering a real PING. */
export const SERVICE_READY_TIMEOUT_MS = 15_000;

/** A server process of the scenario's own, restartable on the port and data dir it got first. */
export interface RestartableService {
  readonly url: string;
  readonly running: boolean;
  /** Sends `signal` (default SIGKILL) and resolves once the process exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port with the same data dir; resolves once it answers. */
  restart(): Promise<void>;
  /** Kills it and removes its data dir. */
  stop(): Promise<void>;
}

class ServiceProcess implements RestartableService {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly onExit = (): void => void this.child?.kill('SIGKILL');

  constructor(
    private readonly binary: string,
    private readonly args: readonly string[],
    readonly url: string,
    private readonly dir: string,
    private readonly waitReady: () => Promise<void>,
  ) {
    // The server must not outlive the test run, even when the runner exits abruptly.
    process.on('exit', this.onExit);
  }

  get running(): boolean {
    const c = this.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  async start(): Promise<void> {
    const child = spawn(this.binary, this.args, { stdio: ['ignore', 'ignore', 'ignore'] });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    await this.waitReady();
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child?.kill(signal);
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.kill('SIGKILL');
    await this.start();
  }

  async stop(): Promise<void> {
    await this.kill('SIGKILL');
    process.removeListener('exit', this.onExit);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Resolves once `redisUrl` and `natsUrl` both answer a real PING (the testkit's probe, through
 * `ensureServices` with both URLs given: it spawns nothing then).
 */
async function answers(redisUrl: string, natsUrl: string): Promise<void> {
  const probe = await ensureServices({
    env: { REDIS_URL: redisUrl, NATS_URL: natsUrl },
    readyTimeoutMs: SERVICE_READY_TIMEOUT_MS,
  });
  await probe.stop(); // stops nothing: both came from the given URLs
}

/** One RESP PING over a fresh connection: the first line of the reply ('+PONG', '-LOADING ...'). */
function redisPing(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => finish(new Error('no reply within 1 s')), 1_000);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err === undefined) resolve(received.split('\r\n')[0] ?? '');
      else reject(err);
    };
    socket.setEncoding('utf8');
    socket.once('error', finish);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: string) => {
      received += d;
      if (received.includes('\r\n')) finish();
    });
  });
}

/**
 * Until the Redis on `port` answers +PONG. A restarted Redis first replies `-LOADING` while it
 * replays its AOF (the testkit's probe fails at once on an error reply): retried here.
 */
async function redisAnswers(port: number): Promise<void> {
  const deadline = Date.now() + SERVICE_READY_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    try {
      last = await redisPing(port);
      if (last === '+PONG') return;
    } catch (err) {
      last = (err as Error).message;
    }
    // Backoff between connection attempts, not a synchronisation sleep.
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `redis on ${port} did not answer PONG within ${SERVICE_READY_TIMEOUT_MS} ms: ${last}`,
  );
}

/** A redis-server with `appendonly yes`, `appendfsync always`: a kill -9 loses no write. */
export async function startAofRedis(): Promise<RestartableService> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-chaos-redis-'));
  const port = await closedPort();
  const url = `redis://127.0.0.1:${port}`;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
  ];
  const service = new ServiceProcess('redis-server', args, url, dir, () => redisAnswers(port));
  await service.start();
  return service;
}

/** A nats-server with JetStream, its store in a temp dir that survives restarts. */
export async function startJetStreamNats(): Promise<RestartableService> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-chaos-nats-'));
  const port = await closedPort();
  const url = `nats://127.0.0.1:${port}`;
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir];
  const { redisUrl } = testServices();
  const service = new ServiceProcess('nats-server', args, url, dir, () => answers(redisUrl, url));
  await service.start();
  return service;
}

// ---------------------------------------------------------------------------------------
// Client-side load balancer
// ---------------------------------------------------------------------------------------

/** How often the balancer health-checks each gateway's /readyz, like a load balancer does. */
export const HEALTH_CHECK_MS = 200;
const HEALTH_CHECK_TIMEOUT_MS = 1_000;

/** True when `err` is a refused TCP connection: the request provably never reached a server. */
export function isConnectionRefused(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== undefined && e !== null; depth++) {
    if ((e as { code?: unknown }).code === 'ECONNREFUSED') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A request that failed at a gateway other than by a refused connection (or on every one). */
export class GatewayFetchError extends Error {
  override readonly name = 'GatewayFetchError';
  constructor(
    readonly gateway: string,
    cause: unknown,
  ) {
    super(`${gateway}: ${(cause as Error).message}`, { cause });
  }
}

/** One HTTP exchange through the balancer: the gateway that answered and refusals skipped. */
export interface Routed {
  readonly response: Response;
  readonly gateway: string;
  /** Gateways that refused the connection before one accepted it. */
  readonly refused: number;
  /** Times a safe request was sent again after its connection broke before any answer. */
  readonly resent: number;
}

/** How the balancer may treat one request. */
export interface BalancerOptions {
  /**
   * The request is safe to send again (a read-only or idempotent call): when its connection
   * breaks before any answer (the gateway died under it), it is sent once more to the next
   * gateway, as HTTP clients do for idempotent requests (RFC 9110, 9.2.2). Never set for a
   * write: a write cut that way is the caller's failure.
   */
  readonly resendOnBreak?: boolean;
}

/**
 * What a load balancer in front of the gateways does: it health-checks /readyz (a draining
 * gateway answers 503 there and stops getting new requests) and, when a gateway refuses the
 * TCP connection, sends the request to the next one. Only a refused connection moves a request
 * (it never reached a server, so resending it cannot run anything twice); any other error is
 * the caller's outcome.
 */
export class GatewayBalancer {
  private readonly ready: boolean[];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly gateways: readonly ClusterNode[]) {
    this.ready = gateways.map(() => true);
  }

  get ids(): readonly string[] {
    return this.gateways.map((g) => g.id);
  }

  start(): void {
    const tick = async (): Promise<void> => {
      await Promise.all(
        this.gateways.map(async (g, i) => {
          try {
            const res = await fetch(`${g.origin}/readyz`, {
              signal: AbortSignal.timeout(HEALTH_CHECK_TIMEOUT_MS),
            });
            await res.body?.cancel();
            this.ready[i] = res.status === 200;
          } catch {
            this.ready[i] = false;
          }
        }),
      );
      if (!this.stopped) this.timer = setTimeout(() => void tick(), HEALTH_CHECK_MS);
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Gateway indexes to try, the preferred one first, healthy ones before unhealthy ones. */
  private order(prefer: number): number[] {
    const n = this.gateways.length;
    const all = Array.from({ length: n }, (_, k) => (prefer + k) % n);
    return [...all.filter((i) => this.ready[i]), ...all.filter((i) => !this.ready[i])];
  }

  /**
   * Sends `init` to the endpoint (.../mcp) of the preferred gateway,
   * moving on only when a connection is refused. Throws a {@link GatewayFetchError} naming
   * the gateway: of the first non-refusal error, or of the last refusal when all refused.
   */
  async fetch(prefer: number, init: RequestInit, options: BalancerOptions = {}): Promise<Routed> {
    let refused = 0;
    let resent = 0;
    let last: GatewayFetchError | undefined;
    for (const i of this.order(prefer)) {
      const g = this.gateways[i]!;
      try {
        const response = await fetch(g.url, init);
        return { response, gateway: g.id, refused, resent };
      } catch (err) {
        const aborted = init.signal?.aborted === true;
        if (
          !isConnectionRefused(err) &&
          (options.resendOnBreak !== true || resent > 0 || aborted)
        ) {
          throw new GatewayFetchError(g.id, err);
        }
        if (isConnectionRefused(err)) refused++;
        else resent++;
        last = new GatewayFetchError(g.id, err);
      }
    }
    throw last ?? new GatewayFetchError('none', new Error('the balancer has no gateway'));
  }
}

// ---------------------------------------------------------------------------------------
// The ledger
// ---------------------------------------------------------------------------------------

/** What a request of the load was; read-only kinds must never fail. */
export type RequestKind =
  | 'legacy-write'
  | 'legacy-put'
  | 'legacy-read'
  | 'modern-write'
  | 'modern-put'
  | 'modern-read'
  | 'modern-list'
  | 'tick'
  | 'task-get';

/** Kinds a gateway may retry on its own (read-only or idempotent): 0 failures allowed. */
export const READ_ONLY_KINDS: ReadonlySet<RequestKind> = new Set([
  'legacy-put',
  'legacy-read',
  'modern-put',
  'modern-read',
  'modern-list',
  'task-get',
]);

/** How a request ended. */
export type FailureKind =
  /** 503/429 with a JSON-RPC error carrying the request's id: what a client may retry. */
  | 'retryable'
  /** 404 / session-not-found on a session nobody deleted. */
  | 'session-lost'
  /** Any 500. */
  | 'http-500'
  /** Another non-2xx status (or a 503/429 without the request's id in its body). */
  | 'bad-status'
  /** 200 with a JSON-RPC error, or a tool result with isError. */
  | 'rpc-error'
  /** 200 without a response to the request's id. */
  | 'no-response'
  /** The connection failed other than refused (reset, closed mid-answer) or timed out. */
  | 'transport';

export interface RequestRecord {
  readonly kind: RequestKind;
  readonly client: string;
  /** The phase in effect when the outcome came (a request can start before a fault strikes). */
  phase: string;
  readonly start: number;
  end: number;
  gateway?: string;
  refused: number;
  status?: number;
  contentType?: string;
  retryAfter?: string | null;
  rpcCode?: number;
  rpcMessage?: string;
  /** The JSON-RPC id sent, and whether the error body named it. */
  requestId?: string | number;
  idMatch?: boolean;
  /** Sent again by the client after its connection broke before any answer (safe kinds). */
  resent?: number;
  failure?: FailureKind;
  detail?: string;
}

export const elapsed = (r: RequestRecord): number => r.end - r.start;

/** Every request of the load, each with its outcome, attributed to the phase it ended in. */
export class Ledger {
  readonly records: RequestRecord[] = [];
  /** What happened when (faults, restarts, recoveries), as `t+<s>` lines. */
  readonly timeline: string[] = [];
  readonly t0 = Date.now();
  phase = 'warm-up';

  /** Seconds since the ledger was opened, for the report. */
  at(ms: number): string {
    return `t+${((ms - this.t0) / 1000).toFixed(2)}s`;
  }

  /** Records the end of `record`, in the phase in effect now. */
  finish(record: RequestRecord): void {
    record.end = Date.now();
    record.phase = this.phase;
  }

  /** Notes `what` in the timeline and prints it at once (a run cut short still shows it). */
  mark(what: string): void {
    const line = `${this.at(Date.now())} ${what}`;
    this.timeline.push(line);
    console.log(`chaos ${line}`);
  }

  begin(kind: RequestKind, client: string): RequestRecord {
    const record: RequestRecord = {
      kind,
      client,
      phase: this.phase,
      start: Date.now(),
      end: 0,
      refused: 0,
    };
    this.records.push(record);
    return record;
  }

  get failures(): RequestRecord[] {
    return this.records.filter((r) => r.failure !== undefined);
  }
}

/** A JSON-RPC error message in `text` (a JSON body), if it is one. */
export function parseRpcError(
  text: string,
): { id: unknown; code: number; message: string } | undefined {
  try {
    const body = JSON.parse(text) as {
      id?: unknown;
      error?: { code?: unknown; message?: unknown };
    };
    if (typeof body.error?.code !== 'number') return undefined;
    const message = typeof body.error.message === 'string' ? body.error.message : '';
    return { id: body.id, code: body.error.code, message };
  } catch {
    return undefined;
  }
}

/**
 * Classifies a non-2xx answer: 404 is a lost session (no scenario session is ever deleted
 * while the load runs), 500 is counted apart, 503/429 is retryable only when its body is a
 * JSON-RPC error with the request's id; everything else is a bad status.
 */
export function classifyStatus(
  record: RequestRecord,
  status: number,
  text: string,
  retryAfter: string | null,
): void {
  record.status = status;
  record.retryAfter = retryAfter;
  const err = parseRpcError(text);
  if (err !== undefined) {
    record.rpcCode = err.code;
    record.rpcMessage = err.message.slice(0, 200);
    record.idMatch = err.id === record.requestId;
  }
  if (status === 404) record.failure = 'session-lost';
  else if (status === 500) record.failure = 'http-500';
  else if ((status === 503 || status === 429) && record.idMatch === true) {
    record.failure = 'retryable';
  } else record.failure = 'bad-status';
  if (record.detail === undefined) record.detail = text.slice(0, 200);
}

/** Describes a failed request in one line (for assertion messages and the report). */
export function describeFailure(r: RequestRecord, ledger?: Ledger): string {
  const parts = [
    ledger === undefined ? '' : `${ledger.at(r.start)}..${ledger.at(r.end)}`,
    `[${r.phase}] ${r.kind} ${r.client}`,
    `via ${r.gateway ?? '?'}`,
    `id ${String(r.requestId ?? '?')}`,
    `-> ${r.failure ?? 'ok'}`,
    r.status === undefined ? '' : `HTTP ${r.status}`,
    r.contentType === undefined ? '' : `(${r.contentType.split(';')[0]})`,
    r.rpcCode === undefined ? '' : `rpc ${r.rpcCode}${r.idMatch === true ? '' : ' (id mismatch)'}`,
    r.retryAfter ? `retry-after ${r.retryAfter}` : '',
    `${elapsed(r)} ms`,
    r.rpcMessage ?? r.detail ?? '',
  ];
  return parts.filter((p) => p !== '').join(' ');
}

/** The per-phase table: requests, failures by kind, worst latency. */
export function summaryTable(
  ledger: Ledger,
  phases: readonly { name: string; note: string }[],
): string {
  const kinds: FailureKind[] = [
    'retryable',
    'session-lost',
    'http-500',
    'bad-status',
    'rpc-error',
    'no-response',
    'transport',
  ];
  const header = ['phase', 'requests', 'failed', ...kinds, 'ro-failed', 'max ms', 'note'];
  const rows = phases.map(({ name, note }) => {
    const rs = ledger.records.filter((r) => r.phase === name);
    const failed = rs.filter((r) => r.failure !== undefined);
    return [
      name,
      String(rs.length),
      String(failed.length),
      ...kinds.map((k) => String(failed.filter((r) => r.failure === k).length)),
      String(failed.filter((r) => READ_ONLY_KINDS.has(r.kind)).length),
      String(rs.reduce((m, r) => Math.max(m, elapsed(r)), 0)),
      note,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
