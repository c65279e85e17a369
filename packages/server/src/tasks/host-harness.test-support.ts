/**
 * What the shared task-host suites (modern-contract, legacy-contract) drive: one harness per
 * host. The in-memory host is one object; the durable host (@mcp-cluster/queue) starts tasks
 * on one node and serves the methods from another, so its harness spans two nodes.
 */
import type { JsonObject } from '@mcp-cluster/protocol';
import { eventually } from '@mcp-cluster/test-support';
import type { RequestContext } from '../context.js';
import type { TaskRun } from './api.js';
import { flush } from './fakes.test-support.js';

/** One node of a host, as a test drives it. */
export interface HostNode {
  /** Starts a task on this node (a local run, or a job any node may take). */
  start(run: TaskRun, ctx: RequestContext, opts: { ttlMs?: number }): Promise<JsonObject>;
  handle(method: string, params: JsonObject, ctx: RequestContext): Promise<JsonObject>;
  handles(method: string, ctx: RequestContext): boolean;
}

/**
 * The harness is the reading node: `start` creates on `creator`, everything else is served
 * here, so for the durable host every check crosses nodes. For the memory host both are it.
 */
export interface TaskHostHarness extends HostNode {
  readonly creator: HostNode;
  /**
   * Resolves once `check` holds. The memory host settles within one macrotask turn, so its
   * harness checks once after it (`settlesInOneTurn`); the durable host polls, bounded.
   */
  until(check: () => boolean | Promise<boolean>, what: string): Promise<void>;
  /** Resolves once the host's background work after a change is done (no run held). */
  quiesce(): Promise<void>;
}

/** A harness over one host object (the memory host): it creates and reads. */
export function singleNodeHarness(
  node: HostNode,
  rest: Pick<TaskHostHarness, 'until' | 'quiesce'>,
): TaskHostHarness {
  const view: HostNode = {
    start: (run, ctx, opts) => node.start(run, ctx, opts),
    handle: (method, params, ctx) => node.handle(method, params, ctx),
    handles: (method, ctx) => node.handles(method, ctx),
  };
  return { ...view, creator: view, ...rest };
}

/** `until` of a host that settles within one macrotask turn: one turn, then it must hold. */
export async function settlesInOneTurn(
  check: () => boolean | Promise<boolean>,
  what: string,
): Promise<void> {
  await flush();
  if (!(await check())) throw new Error(`not within one turn: ${what}`);
}

/** Polls `check` until it holds (testkit's `eventually`); fails after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  await eventually(what, async () => ((await check()) ? true : undefined), {
    timeoutMs,
    pollMs: 10,
  });
}

/** tasks/get through the harness. */
export function getTask(h: TaskHostHarness, taskId: string, ctx: RequestContext) {
  return h.handle('tasks/get', { taskId }, ctx);
}

/** Waits until tasks/get reports `status` (modern `status`), then returns that view. */
export async function statusBecomes(
  h: TaskHostHarness,
  taskId: string,
  ctx: RequestContext,
  status: string,
): Promise<JsonObject> {
  await h.until(async () => (await getTask(h, taskId, ctx)).status === status, `status ${status}`);
  return getTask(h, taskId, ctx);
}
