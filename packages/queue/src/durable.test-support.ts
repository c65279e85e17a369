/**
 * Test support for the durable host: real Redis (MCP_TEST_REDIS_URL), a unique prefix per
 * test, two "nodes" on it, and bounded waits on conditions instead of sleeps.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext, TaskJob, TaskRun } from '@mcp-cluster/server';
import { createDurableTaskHost } from './host.js';
import type { DurableTaskHost } from './host.js';
import type { DurableTaskHostOptions } from './options.js';

import { until } from '@mcp-cluster/server/test-support/tasks/host-harness';
import type {
  HostNode,
  TaskHostHarness,
} from '@mcp-cluster/server/test-support/tasks/host-harness';

export { until };

export function redisUrl(): string {
  const url = process.env.MCP_TEST_REDIS_URL;
  // Never skip: a missing Redis must fail the run loudly.
  if (url === undefined || url === '') throw new Error('MCP_TEST_REDIS_URL is not set');
  return url;
}

export function testPrefix(): string {
  return `t${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under a test prefix. */
export async function purge(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl());
  try {
    let cursor = '0';
    for (let i = 0; i < 10_000; i++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
      if (cursor === '0') break;
    }
  } finally {
    await redis.quit();
  }
}

/**
 * Runs registered by tool name, shared by every host of this process: a job started on one
 * node is rebuilt from here on whichever node takes it (what `engine.taskRun` does).
 */
export const TOOLS = new Map<string, TaskRun>();

/** A resumable job whose run is `run`, under a fresh tool name. */
export function jobFor(run: TaskRun): TaskJob {
  const tool = `tool-${randomUUID().slice(0, 8)}`;
  TOOLS.set(tool, run);
  return { tool, arguments: {}, resumable: true };
}

export interface Node {
  readonly host: DurableTaskHost;
  /** Jobs this node was offered, and what `resolveRun` saw. */
  readonly resolved: { job: TaskJob; ctx: RequestContext }[];
}

export async function startNode(
  prefix: string,
  nodeId: string,
  over: Partial<DurableTaskHostOptions> & { canRun?: (job: TaskJob) => boolean } = {},
): Promise<Node> {
  const resolved: Node['resolved'] = [];
  const { canRun, ...rest } = over;
  const host = await createDurableTaskHost({
    redisUrl: redisUrl(),
    prefix,
    nodeId,
    lockDurationMs: 1_000,
    recheckMs: 500,
    closeTimeoutMs: 2_000,
    resolveRun: (job, ctx) => {
      resolved.push({ job, ctx });
      if (canRun !== undefined && !canRun(job)) return undefined;
      return TOOLS.get(job.tool);
    },
    ...rest,
  });
  return { host, resolved };
}

/**
 * The nodes of one test file: each test's nodes share a fresh prefix; after each test they
 * are closed and the prefix's keys deleted (registers an afterEach hook).
 */
export function nodesPerTest(): (
  id: string,
  over?: Parameters<typeof startNode>[2],
) => Promise<Node> {
  let prefix = testPrefix();
  const started: Node[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((n) => n.host.close()));
    await purge(prefix);
    prefix = testPrefix();
  });
  return async (id, over = {}) => {
    const n = await startNode(prefix, id, over);
    started.push(n);
    return n;
  };
}

/** How a test starts tasks: a local closure, or a durable job any node may run. */
export type Mode = 'local' | 'job';

export function starter(
  host: DurableTaskHost,
  mode: Mode,
): (run: TaskRun, ctx: RequestContext, opts: { ttlMs?: number }) => Promise<JsonObject> {
  return (run, ctx, opts) =>
    host.start(run, ctx, mode === 'job' ? { ...opts, job: jobFor(run) } : opts);
}

/** One node as the shared task-host suites drive it; `mode` says how its tasks run. */
function hostNode(n: Node, mode: Mode): HostNode {
  return {
    start: starter(n.host, mode),
    handle: (method, params, ctx) => n.host.handle(method, params, ctx),
    handles: (method, ctx) => n.host.handles(method, ctx),
  };
}

/** Tasks start on `a`; every other call is served by `b`, so each check crosses nodes. */
export function twoNodeHarness(a: Node, b: Node, mode: Mode): TaskHostHarness {
  return {
    ...hostNode(b, mode),
    creator: hostNode(a, mode),
    until,
    quiesce: () => until(() => a.host.running + b.host.running === 0, 'no node holds a run'),
  };
}
