/**
 * Task keys come from the cluster's one key module (@mcp-cluster/cluster keys.ts); BullMQ job
 * ids are derived here.
 */
export type { TaskKeys } from '@mcp-cluster/cluster';
import { QUEUE_NAME } from '@mcp-cluster/cluster';
import type { TaskKeys } from '@mcp-cluster/cluster';
export { QUEUE_NAME, taskKeys } from '@mcp-cluster/cluster';

/** BullMQ job ids may not contain ':' nor be integers; task ids normally are neither. */
export function jobIdOf(taskId: string): string {
  return /^[A-Za-z0-9_.~-]+$/.test(taskId) && !/^\d+$/.test(taskId)
    ? taskId
    : `x-${Buffer.from(taskId, 'utf8').toString('base64url')}`;
}

/**
 * The BullMQ lock of a task's job (`<queue prefix>:<queue>:<job id>:lock`, value = the lock
 * token of the worker holding it): the lease a durable run's writes are fenced on.
 */
export function jobLockKey(keys: TaskKeys, taskId: string): string {
  return `${keys.queuePrefix}:${QUEUE_NAME}:${jobIdOf(taskId)}:lock`;
}
