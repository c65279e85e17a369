/**
 * Circuit breakers as a decorator of the dispatch port: each dispatch goes through its
 * worker's breaker. Wrap it outside router feedback, so that a dispatch the breaker holds
 * back (`rejected`: nothing sent) is no sample of the worker's health.
 */
import type { WorkerDispatch } from '@mcp-cluster/cluster';
import type { WorkerBreakers } from './breakers.js';

export function withBreakers(
  port: WorkerDispatch,
  breakers: Pick<WorkerBreakers, 'dispatch'>,
): WorkerDispatch {
  return {
    dispatch: (call) => breakers.dispatch(call, () => port.dispatch(call)),
  };
}
