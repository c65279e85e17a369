/**
 * Bounded waiting for tests: `within` bounds one promise, `eventually` polls a condition that
 * has no event to wait on (registry contents, readiness, another process's state).
 */

/** Default bound of {@link eventually}: heartbeats, bus events and drains settle well inside. */
export const DEFAULT_EVENTUALLY_TIMEOUT_MS = 10_000;
/** Default pause between two probes of {@link eventually}. */
export const DEFAULT_POLL_MS = 25;

export interface EventuallyOptions {
  /** Default {@link DEFAULT_EVENTUALLY_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Default {@link DEFAULT_POLL_MS}; polling across processes wants more. */
  readonly pollMs?: number;
}

/** A wait that ran out; `cause` is the probe's last error, if it threw. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

/** Rejects with a {@link WaitTimeoutError} naming `what` when `promise` has not settled in `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new WaitTimeoutError(`timed out after ${ms} ms: ${what}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Probes until `probe` returns something other than undefined (a throw counts as not yet) and
 * resolves with it; rejects with a {@link WaitTimeoutError} once `timeoutMs` has passed.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: EventuallyOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_EVENTUALLY_TIMEOUT_MS;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new WaitTimeoutError(`not reached within ${timeoutMs} ms: ${what}`, { cause: last });
    }
    // Polling: the condition has no event to wait on.
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
