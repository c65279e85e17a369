/**
 * The in-memory task record and its wire views: the 2026-07-28 tasks extension (flat,
 * `resultType`, `ttlMs`) and the 2025-11-25 experimental `Task` object (`ttl`, `pollInterval`).
 */
import { MetaKey } from '@mcp-cluster/protocol';
import type { CallToolResult, InputRequest, JsonObject } from '@mcp-cluster/protocol';
import type { Era, Outbound } from '../context.js';

export const TaskStatus = {
  Working: 'working',
  InputRequired: 'input_required',
  Completed: 'completed',
  Failed: 'failed',
  Cancelled: 'cancelled',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export function isTerminal(status: TaskStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** The error of a `failed` task, exactly as it goes on the wire. */
export interface TaskError {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

/** One `port.input` call waiting for its answers. */
export interface InputGroup {
  remaining: number;
  readonly answers: Record<string, JsonObject>;
  readonly resolve: (answers: Record<string, JsonObject>) => void;
  readonly reject: (reason: unknown) => void;
}

/** One pending entry of `inputRequests`, under a server-minted key. */
export interface PendingInput {
  readonly request: InputRequest;
  /** The key the tool used in its own `port.input` call. */
  readonly callerKey: string;
  readonly group: InputGroup;
  /** 2025-11-25: already sent to the client on a `tasks/result` stream. */
  dispatched: boolean;
}

export interface TaskRecord {
  readonly id: string;
  /** Who may see the task (see `ownerOf`). */
  readonly owner: string;
  readonly era: Era;
  /** Creation order; `tasks/list` cursors point into it. */
  readonly seq: number;
  readonly createdAt: string;
  readonly ttlMs: number;
  status: TaskStatus;
  statusMessage: string | undefined;
  lastUpdatedAt: string;
  /** Epoch ms after which the task is gone. */
  expiresAt: number;
  result: CallToolResult | undefined;
  error: TaskError | undefined;
  /** Minted key -> pending request; insertion order is the order the tool asked. */
  readonly pending: Map<string, PendingInput>;
  readonly controller: AbortController;
  /** Resolvers of `tasks/result` calls waiting for the next status change. */
  waiters: (() => void)[] | undefined;
  /** Where legacy `notifications/tasks/status` go; undefined when not reported. */
  outbound: Outbound | undefined;
}

/**
 * A principal only sees its own tasks; on a legacy session also only that session's.
 * Modern requests are sessionless, so the principal alone owns them.
 */
export function ownerOf(era: Era, principalId: string, sessionId: string | undefined): string {
  return era === 'modern'
    ? `m\u0000${principalId}`
    : `l\u0000${principalId}\u0000${sessionId ?? ''}`;
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

/** Modern CreateTaskResult: flat, and nothing beyond the task's identity and timing. */
export function modernCreateResult(t: TaskRecord, pollIntervalMs: number): JsonObject {
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

/** Modern `tasks/get`: status-dependent payload; never `requestState`. */
export function modernGetResult(t: TaskRecord, pollIntervalMs: number): JsonObject {
  const out: JsonObject = {
    resultType: 'complete',
    taskId: t.id,
    status: t.status,
    createdAt: t.createdAt,
    lastUpdatedAt: t.lastUpdatedAt,
    ttlMs: t.ttlMs,
    pollIntervalMs,
  };
  if (t.statusMessage !== undefined) out.statusMessage = t.statusMessage;
  switch (t.status) {
    case 'input_required':
      out.inputRequests = pendingRequests(t);
      break;
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

function pendingRequests(t: TaskRecord): JsonObject {
  const map: JsonObject = {};
  for (const [key, entry] of t.pending) map[key] = entry.request;
  return map;
}

/** 2025-11-25 `Task` (also the body of tasks/get, tasks/cancel and the status notification). */
export function legacyTask(t: TaskRecord, pollIntervalMs: number): JsonObject {
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
