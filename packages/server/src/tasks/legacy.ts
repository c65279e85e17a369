/**
 * The 2025-11-25 experimental task methods: tasks/get, tasks/result, tasks/list, tasks/cancel.
 *
 * Input (elicitation, sampling, roots) asked by a running task is delivered the way that
 * revision specifies: as server->client requests, tagged with the related-task `_meta`, on
 * the stream of a `tasks/result` call, which keeps waiting until the task is terminal.
 */
import { MetaKey, ProtocolError, RpcError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext } from '../context.js';
import { decodeCursor, encodeCursor, isTerminal, legacyTask } from './record.js';
import type { TaskRecord } from './record.js';
import type { TaskTable } from './store.js';
import { CANCELLED_BY_CLIENT, invalidParams, isJsonObject, taskIdOf } from './params.js';

/** The only legacy revision with task methods. */
export const LEGACY_TASKS_VERSION = '2025-11-25';
export const LEGACY_TASK_METHODS: ReadonlySet<string> = new Set([
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
]);

export async function handleLegacy(
  table: TaskTable,
  method: string,
  params: JsonObject,
  ctx: RequestContext,
): Promise<JsonObject> {
  const poll = table.options.pollIntervalMs;
  if (method === 'tasks/list') return listLegacy(table, params, ctx);
  const t = table.lookup(taskIdOf(params), ctx);
  switch (method) {
    case 'tasks/get':
      return legacyTask(t, poll);
    case 'tasks/cancel':
      // 2025-11-25: cancelling a terminal task is -32602.
      if (!table.cancel(t, CANCELLED_BY_CLIENT)) {
        throw invalidParams(`Cannot cancel a task in terminal status ${t.status}`);
      }
      return legacyTask(t, poll);
    case 'tasks/result':
      return taskResult(table, t, ctx);
    default:
      throw ProtocolError.of('MethodNotFound');
  }
}

/** Waits for a terminal status, sending pending input requests on this call's stream meanwhile. */
async function taskResult(
  table: TaskTable,
  t: TaskRecord,
  ctx: RequestContext,
): Promise<JsonObject> {
  while (!isTerminal(t.status)) {
    if (t.status === 'input_required') dispatchInput(table, t, ctx);
    await table.waitChange(t, ctx.signal);
  }
  if (t.status === 'completed' && t.result !== undefined) {
    const result = t.result;
    return { ...result, _meta: { ...result._meta, [MetaKey.RelatedTask]: { taskId: t.id } } };
  }
  if (t.status === 'failed' && t.error !== undefined) {
    throw new ProtocolError(t.error.code, t.error.message, t.error.data);
  }
  throw new ProtocolError(RpcError.RequestCancelled.code, 'Task cancelled');
}

function dispatchInput(table: TaskTable, t: TaskRecord, ctx: RequestContext): void {
  let signal: AbortSignal | undefined;
  for (const [key, entry] of t.pending) {
    if (entry.dispatched) continue;
    entry.dispatched = true;
    signal ??= AbortSignal.any([ctx.signal, t.controller.signal]);
    const { method, params } = entry.request;
    const tagged: JsonObject = {
      ...params,
      _meta: {
        ...(isJsonObject(params?._meta) ? params._meta : {}),
        [MetaKey.RelatedTask]: { taskId: t.id },
      },
    };
    let sent: Promise<JsonObject>;
    try {
      sent = ctx.outbound.request(method, tagged, signal);
    } catch {
      table.releaseInput(t, key);
      continue;
    }
    sent.then(
      (answer) => table.answer(t, { [key]: answer }),
      (err: unknown) => {
        // The client's own error answers the input; a lost stream means "send it again later".
        if (err instanceof ProtocolError && !ctx.signal.aborted) table.failInput(t, key, err);
        else table.releaseInput(t, key);
      },
    );
  }
}

function listLegacy(table: TaskTable, params: JsonObject, ctx: RequestContext): JsonObject {
  const cursor = params.cursor;
  let after = 0;
  if (cursor !== undefined) {
    const seq = typeof cursor === 'string' ? decodeCursor(cursor) : undefined;
    if (seq === undefined) throw invalidParams('Invalid cursor');
    after = seq;
  }
  const limit = table.options.pageSize;
  const page = table.listOwned(ctx, after, limit);
  const more = page.length > limit;
  if (more) page.length = limit;
  const poll = table.options.pollIntervalMs;
  const out: JsonObject = { tasks: page.map((t) => legacyTask(t, poll)) };
  const last = page[page.length - 1];
  if (more && last !== undefined) out.nextCursor = encodeCursor(last.seq);
  return out;
}
