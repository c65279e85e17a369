/**
 * The task methods of both eras, written once over `TaskBackend`: the in-memory table
 * (memory.ts) and the durable Redis host (@mcp-cluster/queue) each implement the backend,
 * and this module turns it into the same wire behaviour.
 */
import { ProtocolError } from '@mcp-cluster/protocol';
import type { InputRequest, JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext } from '../context.js';
import { LEGACY_TASKS_VERSION, LEGACY_TASK_METHODS, handleLegacy } from './legacy.js';
import { MODERN_TASK_METHODS, handleModern } from './modern.js';
import type { StoredTaskView } from './wire.js';

/** What the task methods need from a task store. Sync or async as the store is. */
export interface TaskBackend<T extends StoredTaskView> {
  /** Suggested polling interval sent with every task view. */
  readonly pollIntervalMs: number;
  /** Page size of 2025-11-25 `tasks/list`. */
  readonly pageSize: number;
  /** The caller's live task, or `taskNotFound()` (unknown, expired and foreign look the same). */
  lookup(taskId: string, ctx: RequestContext): T | Promise<T>;
  /** `t` as stored now, after a change this request made. */
  reread(t: T): T | Promise<T>;
  /** `t`'s pending input requests by minted key, in the order the tool asked. */
  pendingInputs(t: T): Iterable<readonly [string, InputRequest]>;
  /** Answers pending keys (each answer already checked to be an object); others are ignored. */
  answer(t: T, responses: Readonly<Record<string, JsonObject>>): void | Promise<void>;
  /** Cancels unless terminal (the run is aborted wherever it is); false when it already was. */
  cancel(t: T, message: string): boolean | Promise<boolean>;
  /**
   * 2025-11-25 `tasks/result`: waits for a terminal status, sending pending input requests
   * on `ctx.outbound` meanwhile (tagged with `withRelatedTask`). Undefined when the task is
   * gone meanwhile; rejects with -32010 when `ctx.signal` aborts.
   */
  settled(t: T, ctx: RequestContext): Promise<T | undefined>;
  /** The caller's live tasks after `afterSeq`, in creation order, at most `limit` + 1. */
  listOwned(
    ctx: RequestContext,
    afterSeq: number,
    limit: number,
  ): readonly T[] | Promise<readonly T[]>;
}

/** True for the task methods served in this request's era (TaskHost.handles). */
export function servesTaskMethod(method: string, ctx: RequestContext): boolean {
  if (ctx.era === 'modern') return MODERN_TASK_METHODS.has(method);
  return ctx.protocolVersion === LEGACY_TASKS_VERSION && LEGACY_TASK_METHODS.has(method);
}

/** Serves one task method (TaskHost.handle); -32601 for a method the era does not have. */
export async function handleTaskMethod<T extends StoredTaskView>(
  backend: TaskBackend<T>,
  method: string,
  params: JsonObject,
  ctx: RequestContext,
): Promise<JsonObject> {
  if (!servesTaskMethod(method, ctx)) throw ProtocolError.of('MethodNotFound');
  return ctx.era === 'legacy'
    ? handleLegacy(backend, method, params, ctx)
    : handleModern(backend, method, params, ctx);
}
