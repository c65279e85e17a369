/**
 * In-process cluster pieces for the gateway and worker service tests: real Redis and NATS
 * (from the vitest global setup), one key/subject prefix per test, workers and gateways
 * started in this process, and cleanup that closes them and deletes the prefix's keys.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createClusterState, encodeEnvelope } from '@mcp-cluster/cluster';
import type { ClusterState, DispatchEnvelope } from '@mcp-cluster/cluster';
import { resolveConfig } from '@mcp-cluster/config';
import type { ConfigInput } from '@mcp-cluster/config';
// Relative: neither service depends on the other or on the testkit as a package.
import { deleteRedisKeys } from '../../../../packages/testkit/src/cluster.js';
import { startWorker } from '../../../worker/src/index.js';
import type { RunningWorker } from '../../../worker/src/index.js';
import { startGateway } from '../gateway.js';
import type { RunningGateway } from '../gateway.js';

/** Heartbeat (and gateway registry poll) interval: small, so membership converges fast. */
export const TEST_HEARTBEAT_MS = 200;
/** Bound on waiting for a condition that depends on heartbeats, bus events or a drain. */
export const CONDITION_TIMEOUT_MS = 10_000;
/** Deadline of a dispatch a test sends by hand. */
export const DISPATCH_DEADLINE_MS = 30_000;
export const LEGACY_VERSION = '2025-11-25';
export const MODERN_VERSION = '2026-07-28';

export const ALPHA_PACK = fileURLToPath(new URL('./alpha-pack.ts', import.meta.url));
export const BETA_PACK = fileURLToPath(new URL('./beta-pack.ts', import.meta.url));

export const ANONYMOUS = Object.freeze({
  id: 'anonymous',
  kind: 'anonymous',
  roles: [],
} as const satisfies DispatchEnvelope['principal']);

/** The test Redis and NATS URLs; a missing one is a loud error, never a skip. */
export function testServices(): { redisUrl: string; natsUrl: string } {
  const redisUrl = process.env.MCP_TEST_REDIS_URL;
  const natsUrl = process.env.MCP_TEST_NATS_URL;
  if (!redisUrl || !natsUrl) {
    throw new Error(
      'MCP_TEST_REDIS_URL / MCP_TEST_NATS_URL unset: run through vitest (packages/testkit global setup)',
    );
  }
  return { redisUrl, natsUrl };
}

export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly err?: unknown;
}

/**
 * One test's cluster: a unique prefix, the nodes started under it, and their logs. Disposing
 * closes every node still open (workers first), then deletes the prefix's Redis keys.
 */
export class TestCluster implements AsyncDisposable {
  readonly prefix = `t${randomUUID().slice(0, 8)}`;
  readonly logs: LogEntry[] = [];
  private readonly workers: RunningWorker[] = [];
  private readonly gateways: RunningGateway[] = [];
  private readonly states: ClusterState[] = [];

  /** The config a node of this cluster gets; `overrides` win. */
  config(overrides: ConfigInput = {}): ReturnType<typeof resolveConfig> {
    return resolveConfig({
      ...testServices(),
      clusterPrefix: this.prefix,
      host: '127.0.0.1',
      port: 0,
      packs: ['builtin:conformance'],
      heartbeatMs: TEST_HEARTBEAT_MS,
      logLevel: 'silent',
      drainMs: 2_000,
      ...overrides,
    });
  }

  async worker(overrides: ConfigInput = {}): Promise<RunningWorker> {
    const worker = await startWorker(this.config(overrides), this.log);
    this.workers.push(worker);
    return worker;
  }

  async gateway(overrides: ConfigInput = {}): Promise<RunningGateway> {
    const gateway = await startGateway(this.config(overrides), this.log);
    this.gateways.push(gateway);
    return gateway;
  }

  /** A separate view of this cluster's Redis state (sessions, pins, registry). */
  async state(): Promise<ClusterState> {
    const state = await createClusterState({
      redisUrl: testServices().redisUrl,
      prefix: this.prefix,
    });
    this.states.push(state);
    return state;
  }

  /** Logged errors (a service's `log('error', ...)`): a crash that was swallowed. */
  errors(): LogEntry[] {
    return this.logs.filter((l) => l.level === 'error');
  }

  readonly log = (level: LogEntry['level'], msg: string, err?: unknown): void => {
    this.logs.push(err === undefined ? { level, msg } : { level, msg, err });
  };

  async [Symbol.asyncDispose](): Promise<void> {
    // Idempotent closes: a test may have closed some nodes already.
    for (const w of this.workers.splice(0)) await w.close().catch(() => undefined);
    for (const g of this.gateways.splice(0)) await g.close().catch(() => undefined);
    for (const s of this.states.splice(0)) await s.close().catch(() => undefined);
    await deleteRedisKeys(testServices().redisUrl, `${this.prefix}:*`);
  }
}

/** Dispatch headers for a hand-made envelope (modern, anonymous, 30 s deadline by default). */
export function envelopeHeaders(over: Partial<DispatchEnvelope> = {}): Record<string, string> {
  return encodeEnvelope({
    principal: ANONYMOUS,
    protocolVersion: MODERN_VERSION,
    era: 'modern',
    clientCapabilities: {},
    deadline: Date.now() + DISPATCH_DEADLINE_MS,
    gatewayId: 'g-test',
    ...over,
  });
}

/**
 * Polls `probe` until it returns something other than undefined; bounded by `timeoutMs`.
 * For conditions with no event to wait on (registry contents, readiness, a peer's state).
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = CONDITION_TIMEOUT_MS,
  pauseMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`not reached within ${timeoutMs} ms: ${what}`, { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

/** Rejects when `promise` does not settle within `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Text of a tool result's text content blocks. */
export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] } | undefined)?.content;
  return (content ?? []).map((c) => (c.type === 'text' ? (c.text ?? '') : '')).join('');
}

export interface Readiness {
  readonly ready: boolean;
  readonly workers: number;
  readonly redis?: boolean;
  readonly nats?: boolean;
  readonly id: string;
}

/** A gateway's GET /readyz (`gatewayUrl` is its MCP endpoint; the path is replaced). */
export async function readyz(gatewayUrl: string): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(new URL('/readyz', gatewayUrl), { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: (await res.json()) as Readiness };
}

/** Waits until the gateway's /readyz counts exactly `n` routable workers. */
export function workersReady(gatewayUrl: string, n: number): Promise<Readiness> {
  return eventually(`readyz reports ${n} workers`, async () => {
    const r = await readyz(gatewayUrl);
    return r.body.workers === n ? r.body : undefined;
  });
}
