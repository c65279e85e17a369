/**
 * Workers started in this process for the worker tests (and, extended with gateways by
 * `@mcp-cluster/gateway/test-support`, for the gateway tests): against the test Redis and NATS,
 * under one key/subject prefix, with their logs kept. Disposing closes them and deletes the
 * prefix's keys. Exported as `@mcp-cluster/worker/test-support`; not part of the packed package.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  DISPATCH_PATH,
  createClusterState,
  encodeEnvelope,
  signDispatch,
} from '@mcp-cluster/cluster';
import type { ClusterState, DispatchEnvelope } from '@mcp-cluster/cluster';
import { resolveConfig } from '@mcp-cluster/config';
import type { ConfigInput } from '@mcp-cluster/config';
import { MODERN_VERSION, deleteRedisKeys, testServices } from '@mcp-cluster/test-support';
import { startWorker } from './worker.js';
import type { RunningWorker } from './worker.js';

export type { RunningWorker };

/** Heartbeat (and gateway registry poll) interval: small, so membership converges fast. */
export const IN_PROCESS_HEARTBEAT_MS = 200;
/** Drain of in-process nodes unless a test sets its own: short, so close() is quick. */
export const IN_PROCESS_DRAIN_MS = 2_000;
/** Deadline of a dispatch a test sends by hand ({@link envelopeHeaders}). */
export const DISPATCH_DEADLINE_MS = 30_000;

/**
 * The dispatch secret of every in-process cluster of this test process: its gateways sign
 * with it and its workers check it, so a test can send a worker a dispatch by hand
 * ({@link postDispatch}) the way a gateway does.
 */
export const TEST_DISPATCH_SECRET = randomBytes(32).toString('base64url');

/** The principal of an unauthenticated client, as a gateway puts it in the envelope. */
export const ANONYMOUS = Object.freeze({
  id: 'anonymous',
  kind: 'anonymous',
  roles: [],
} as const satisfies DispatchEnvelope['principal']);

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly err?: unknown;
  readonly fields?: Record<string, unknown>;
}

/**
 * One test's workers: a unique prefix, the workers started under it, and their logs.
 * Disposing closes every worker still open, then deletes the prefix's Redis keys.
 */
export class InProcessWorkers implements AsyncDisposable {
  readonly prefix = `t${randomUUID().slice(0, 8)}`;
  readonly logs: LogEntry[] = [];
  private readonly workers: RunningWorker[] = [];
  private readonly states: ClusterState[] = [];

  /** The config a node of this cluster gets; `overrides` win. */
  config(overrides: ConfigInput = {}): ReturnType<typeof resolveConfig> {
    return resolveConfig({
      ...testServices(),
      clusterPrefix: this.prefix,
      host: '127.0.0.1',
      port: 0,
      packs: ['builtin:conformance'],
      heartbeatMs: IN_PROCESS_HEARTBEAT_MS,
      logLevel: 'silent',
      drainMs: IN_PROCESS_DRAIN_MS,
      // Gateways refuse unauthenticated requests by default; test clusters open explicitly.
      auth: { allowAnonymous: true },
      dispatchSecrets: [TEST_DISPATCH_SECRET],
      ...overrides,
    });
  }

  async worker(overrides: ConfigInput = {}): Promise<RunningWorker> {
    const worker = await startWorker(this.config(overrides), this.log);
    this.workers.push(worker);
    return worker;
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

  readonly log = (
    level: LogEntry['level'],
    msg: string,
    err?: unknown,
    fields?: Record<string, unknown>,
  ): void => {
    this.logs.push({
      level,
      msg,
      ...(err === undefined ? {} : { err }),
      ...(fields === undefined ? {} : { fields }),
    });
  };

  /** Closes every worker still open (idempotent closes: a test may have closed some already). */
  protected async closeWorkers(): Promise<void> {
    for (const w of this.workers.splice(0)) await w.close().catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeWorkers();
    for (const s of this.states.splice(0)) await s.close().catch(() => undefined);
    await deleteRedisKeys(testServices().redisUrl, `${this.prefix}:*`);
  }
}

/**
 * POSTs a dispatch to a worker (`workerUrl` is its base URL) with `headers`, signed with
 * `secret` (the in-process clusters' by default) over these headers, a fresh nonce and issue
 * time, and `body` — the way a gateway signs each attempt.
 */
export function postDispatch(
  workerUrl: string,
  headers: Record<string, string>,
  body: string,
  options: { signal?: AbortSignal; secret?: string } = {},
): Promise<Response> {
  const auth = signDispatch(options.secret ?? TEST_DISPATCH_SECRET, headers, body);
  return fetch(`${workerUrl}${DISPATCH_PATH}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...headers,
      ...auth,
    },
    body,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
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
