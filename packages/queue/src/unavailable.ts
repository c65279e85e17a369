/**
 * Redis down, as a client of durable tasks sees it: a call on the task store or the job queue
 * that could not be answered (connection closed, command timed out, retries exhausted) is
 * -32016 "Task store unavailable" with `data.retryAfterMs` — 503 + Retry-After with the
 * request's id on HTTP — never -32603. A stored value failing validation (TaskStoreError) and
 * a ProtocolError are answers and pass unchanged.
 */
import { STORE_RETRY_AFTER_MS } from '@mcp-cluster/cluster';
import { ProtocolError, RpcError } from '@mcp-cluster/protocol';
import { TaskStoreError } from './record.js';

export function taskStoreUnavailable(cause?: unknown): ProtocolError {
  return new ProtocolError(
    RpcError.Unavailable.code,
    'Task store unavailable',
    { retryAfterMs: STORE_RETRY_AFTER_MS },
    { cause },
  );
}

/** `err` as thrown to a request: see the module comment. */
export function asTaskStoreError(err: unknown): unknown {
  return err instanceof TaskStoreError || err instanceof ProtocolError
    ? err
    : taskStoreUnavailable(err);
}

/** `target` whose rejected calls go through {@link asTaskStoreError}. */
export function tasksOutageAsUnavailable<T extends object>(target: T): T {
  return new Proxy(target, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop, t);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]): unknown => {
        const result = method.apply(t, args);
        return result instanceof Promise
          ? result.catch((err: unknown) => {
              throw asTaskStoreError(err);
            })
          : result;
      };
    },
  });
}
