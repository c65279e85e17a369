/**
 * Task keys come from the cluster's one key module (@mcp-cluster/cluster keys.ts); BullMQ job
 * ids are derived here.
 */
export type { TaskKeys } from '@mcp-cluster/cluster';
export { QUEUE_NAME, taskKeys } from '@mcp-cluster/cluster';

/** BullMQ job ids may not contain ':' nor be integers; task ids normally are neither. */
export function jobIdOf(taskId: string): string {
  return /^[A-Za-z0-9_.~-]+$/.test(taskId) && !/^\d+$/.test(taskId)
    ? taskId
    : `x-${Buffer.from(taskId, 'utf8').toString('base64url')}`;
}
