/**
 * Task statuses and the in-memory task record. Its wire views live in wire.ts, typed against
 * the fields they read, so the durable host serves them from its own record.
 */
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
