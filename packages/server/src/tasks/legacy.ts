/**
 * The 2025-11-25 experimental task methods: tasks/get, tasks/result, tasks/list, tasks/cancel.
 *
 * Input (elicitation, sampling, roots) asked by a running task is delivered the way that
 * revision specifies: as server->client requests, tagged with the related-task `_meta`, on
 * the stream of a `tasks/result` call, which keeps waiting until the task is terminal (the
 * backend's `settled`).
 */
import { MetaKey, ProtocolError, RpcError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext } from '../context.js';
import type { TaskBackend } from './methods.js';
import { CANCELLED_BY_CLIENT, invalidParams, taskIdOf } from './params.js';
import { decodeCursor, legacyListResult, legacyTask } from './wire.js';
import type { StoredTaskView } from './wire.js';

/** The only legacy revision with task methods. */
export const LEGACY_TASKS_VERSION = '2025-11-25';
export const LEGACY_TASK_METHODS: ReadonlySet<string> = new Set([
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
]);

export async function handleLegacy<T extends StoredTaskView>(
  backend: TaskBackend<T>,
  method: string,
  params: JsonObject,
  ctx: RequestContext,
): Promise<JsonObject> {
  const poll = backend.pollIntervalMs;
  if (method === 'tasks/list') {
    const limit = backend.pageSize;
    const tasks = await backend.listOwned(ctx, cursorOf(params), limit);
    return legacyListResult(tasks, limit, poll);
  }
  const t = await backend.lookup(taskIdOf(params), ctx);
  switch (method) {
    case 'tasks/get':
      return legacyTask(t, poll);
    case 'tasks/cancel':
      // 2025-11-25: cancelling a terminal task is -32602.
      if (!(await backend.cancel(t, CANCELLED_BY_CLIENT))) {
        const now = await backend.reread(t);
        throw invalidParams(`Cannot cancel a task in terminal status ${now.status}`);
      }
      return legacyTask(await backend.reread(t), poll);
    case 'tasks/result':
      return taskResult(await backend.settled(t, ctx));
    default:
      throw ProtocolError.of('MethodNotFound');
  }
}

/** The sequence number a `tasks/list` page starts after (0: the first page). */
function cursorOf(params: JsonObject): number {
  const cursor = params.cursor;
  if (cursor === undefined) return 0;
  const seq = typeof cursor === 'string' ? decodeCursor(cursor) : undefined;
  if (seq === undefined) throw invalidParams('Invalid cursor');
  return seq;
}

/**
 * What `tasks/result` answers for a terminal task: its result tagged with the related task,
 * its error, or -32010 when cancelled (or gone, its TTL lapsed while we waited).
 */
function taskResult(t: StoredTaskView | undefined): JsonObject {
  if (t?.status === 'completed' && t.result !== undefined) {
    const result = t.result;
    return { ...result, _meta: { ...result._meta, [MetaKey.RelatedTask]: { taskId: t.id } } };
  }
  if (t?.status === 'failed' && t.error !== undefined) {
    throw new ProtocolError(t.error.code, t.error.message, t.error.data);
  }
  throw new ProtocolError(RpcError.RequestCancelled.code, 'Task cancelled');
}
