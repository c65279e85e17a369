/**
 * The wire shapes of a task: the 2026-07-28 tasks extension (flat, `resultType`, `ttlMs`)
 * and the 2025-11-25 experimental `Task` object (`ttl`, `pollInterval`). They read a narrow
 * view of a task, so every task store (the in-memory table, the durable Redis host) serves
 * the same bytes from its own record.
 */
import { MetaKey } from '@mcp-cluster/protocol';
import type { CallToolResult, InputRequest, JsonObject } from '@mcp-cluster/protocol';
import type { Era } from '../context.js';
import { isJsonObject } from './params.js';
import type { TaskError, TaskStatus } from './record.js';

/** What every task view reads: identity, status and timing. */
export interface TaskView {
  readonly id: string;
  readonly status: TaskStatus;
  readonly createdAt: string;
  readonly lastUpdatedAt: string;
  readonly ttlMs: number;
  readonly statusMessage: string | undefined;
}

/** A stored task as the task methods read it: the view plus its order and outcome. */
export interface StoredTaskView extends TaskView {
  /** Creation order; `tasks/list` cursors point into it. */
  readonly seq: number;
  readonly result: CallToolResult | undefined;
  readonly error: TaskError | undefined;
}

/** The tool result as stored: without the related-task `_meta` key (tasks ext 8.1). */
export function stripRelatedTask(result: CallToolResult): CallToolResult {
  const meta = result._meta;
  if (meta === undefined || !(MetaKey.RelatedTask in meta)) return result;
  const { [MetaKey.RelatedTask]: _dropped, ...rest } = meta;
  const copy: CallToolResult = { ...result };
  if (Object.keys(rest).length > 0) copy._meta = rest;
  else delete copy._meta;
  return copy;
}

/** 2025-11-25: the params of an input request sent on a tasks/result stream, tagged with its task. */
export function withRelatedTask(params: JsonObject | undefined, taskId: string): JsonObject {
  return {
    ...params,
    _meta: {
      ...(isJsonObject(params?._meta) ? params._meta : {}),
      [MetaKey.RelatedTask]: { taskId },
    },
  };
}

/** The era's CreateTaskResult: modern flat, 2025-11-25 `{task}`. */
export function createTaskResult(era: Era, t: TaskView, pollIntervalMs: number): JsonObject {
  return era === 'modern'
    ? modernCreateResult(t, pollIntervalMs)
    : { task: legacyTask(t, pollIntervalMs) };
}

/** Modern CreateTaskResult: flat, and nothing beyond the task's identity and timing. */
export function modernCreateResult(t: TaskView, pollIntervalMs: number): JsonObject {
  return {
    resultType: 'task',
    taskId: t.id,
    status: t.status,
    createdAt: t.createdAt,
    lastUpdatedAt: t.lastUpdatedAt,
    ttlMs: t.ttlMs,
    pollIntervalMs,
  };
}

/**
 * Modern `tasks/get`: status-dependent payload; never `requestState`. `pending` (minted key,
 * request, in the order the tool asked) is read only while the task is `input_required`.
 */
export function modernGetResult(
  t: StoredTaskView,
  pending: Iterable<readonly [string, InputRequest]>,
  pollIntervalMs: number,
): JsonObject {
  // The create result's fields in the same order; only the result type differs.
  const out: JsonObject = { ...modernCreateResult(t, pollIntervalMs), resultType: 'complete' };
  if (t.statusMessage !== undefined) out.statusMessage = t.statusMessage;
  switch (t.status) {
    case 'input_required': {
      const map: JsonObject = {};
      for (const [key, request] of pending) map[key] = request;
      out.inputRequests = map;
      break;
    }
    case 'completed':
      out.result = t.result;
      break;
    case 'failed':
      out.error = t.error;
      break;
    case 'working':
    case 'cancelled':
      break;
  }
  return out;
}

/** 2025-11-25 `Task` (also the body of tasks/get, tasks/cancel and the status notification). */
export function legacyTask(t: TaskView, pollIntervalMs: number): JsonObject {
  const out: JsonObject = {
    taskId: t.id,
    status: t.status,
    createdAt: t.createdAt,
    lastUpdatedAt: t.lastUpdatedAt,
    ttl: t.ttlMs,
    pollInterval: pollIntervalMs,
  };
  if (t.statusMessage !== undefined) out.statusMessage = t.statusMessage;
  return out;
}

/**
 * 2025-11-25 `tasks/list` result from up to `limit` + 1 tasks in creation order: the extra
 * one only says there is a next page.
 */
export function legacyListResult(
  tasks: readonly StoredTaskView[],
  limit: number,
  pollIntervalMs: number,
): JsonObject {
  const page = tasks.slice(0, limit);
  const out: JsonObject = { tasks: page.map((t) => legacyTask(t, pollIntervalMs)) };
  const last = page[page.length - 1];
  if (tasks.length > limit && last !== undefined) out.nextCursor = encodeCursor(last.seq);
  return out;
}

/** Opaque `tasks/list` cursor: the creation sequence number of the last task served. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`t${seq}`, 'utf8').toString('base64url');
}

/** The sequence number inside a cursor, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): number | undefined {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^t\d{1,15}$/.test(raw)) return undefined;
  return Number(raw.slice(1));
}
