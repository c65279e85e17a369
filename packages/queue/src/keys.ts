/**
 * Every Redis key, channel and queue name of the durable task host, in one place. All live
 * under the host's prefix so a test prefix isolates a run on a shared Redis.
 */
import { createHash } from 'node:crypto';

/** BullMQ queue name (BullMQ forbids ':' in it; the prefix namespaces it instead). */
export const QUEUE_NAME = 'tasks';

export interface TaskKeys {
  readonly prefix: string;
  /** Hash: the task record (status, timestamps, result, stored context...). */
  record(taskId: string): string;
  /** Hash: pending input requests, minted key -> `{n, r}` JSON. */
  inputs(taskId: string): string;
  /** Hash: answers not yet consumed by the running node, minted key -> `{ok}|{err}` JSON. */
  answers(taskId: string): string;
  /** Hash: input keys already sent to the client on a 2025-11-25 tasks/result stream. */
  sent(taskId: string): string;
  /** Sorted set: one owner's task ids scored by creation sequence (legacy tasks/list). */
  ownerIndex(owner: string): string;
  /** Counter: creation sequence numbers. */
  sequence(): string;
  /** Pub/sub channel: every status or input change of every task under the prefix. */
  events(): string;
  /** BullMQ key prefix (its keys are `${queuePrefix}:${QUEUE_NAME}:…`). */
  readonly queuePrefix: string;
}

export function taskKeys(prefix: string): TaskKeys {
  return {
    prefix,
    record: (id) => `${prefix}:task:${id}`,
    inputs: (id) => `${prefix}:task:${id}:input`,
    answers: (id) => `${prefix}:task:${id}:answers`,
    sent: (id) => `${prefix}:task:${id}:sent`,
    // Owners embed principal ids and NULs: hash them into a fixed, key-safe shape.
    ownerIndex: (owner) =>
      `${prefix}:tasks:owner:${createHash('sha256').update(owner).digest('base64url')}`,
    sequence: () => `${prefix}:tasks:seq`,
    events: () => `${prefix}:tasks:events`,
    queuePrefix: `${prefix}:queue`,
  };
}

/** BullMQ job ids may not contain ':' nor be integers; task ids normally are neither. */
export function jobIdOf(taskId: string): string {
  return /^[A-Za-z0-9_.~-]+$/.test(taskId) && !/^\d+$/.test(taskId)
    ? taskId
    : `x-${Buffer.from(taskId, 'utf8').toString('base64url')}`;
}
