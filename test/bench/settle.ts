/**
 * Waiting for a target to answer correctly again after a load run. autocannon ends a run by
 * destroying its connections with requests in flight; a server that takes those aborts for
 * failures (the cluster gateway ejects its workers for them) answers wrongly for a while. The
 * bench then waits, bounded, instead of measuring (or verifying) that state, and the report
 * says how long it lasted and what was answered, so the behaviour stays visible.
 */
import { WrongAnswerError } from './targets.js';

/** Bound on a target answering correctly again after a load run; past it the bench aborts. */
export const SETTLE_TIMEOUT_MS = 30_000;
/** Pause between two verification requests while waiting (bounded by the timeout). */
const SETTLE_POLL_MS = 100;

export interface Settled {
  /** Wrong answers before the first right one (0: answered right at once). */
  readonly failures: number;
  /** From the first request to the first right answer. */
  readonly waitedMs: number;
  /** The first wrong answer, for the report. */
  readonly first: string | undefined;
}

/**
 * Calls `verify` until it resolves; a WrongAnswerError is retried until `timeoutMs`, then
 * rethrown with the count. Any other error is thrown at once.
 */
export async function settle(
  verify: () => Promise<void>,
  timeoutMs: number = SETTLE_TIMEOUT_MS,
): Promise<Settled> {
  const started = performance.now();
  let failures = 0;
  let first: string | undefined;
  for (;;) {
    try {
      await verify();
      return { failures, waitedMs: performance.now() - started, first };
    } catch (err) {
      if (!(err instanceof WrongAnswerError)) throw err;
      failures++;
      first ??= err.message;
      if (performance.now() - started >= timeoutMs) {
        throw new WrongAnswerError(
          `still wrong after ${failures} tries over ${timeoutMs} ms: ${err.message}`,
        );
      }
    }
    // Polling an HTTP answer: there is no event to wait on in another process.
    await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
  }
}

/** One report line for a wait, or undefined when the target answered right at once. */
export function describeSettle(when: string, s: Settled): string | undefined {
  if (s.failures === 0) return undefined;
  const firstLine = (s.first ?? '').split('\n')[0]?.slice(0, 200) ?? '';
  return `${when}: ${s.failures} wrong answers over ${(s.waitedMs / 1000).toFixed(1)} s before a right one (first: ${firstLine})`;
}
