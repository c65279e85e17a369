/**
 * Waiting for a target to answer right again after a load run. autocannon ends a run by
 * destroying its connections with requests in flight; a server that takes those aborts for
 * failures (the cluster gateway ejects its workers for them, for 5 s at first) answers wrongly
 * for a while. The bench then waits, bounded, instead of measuring (or verifying) that state,
 * and the report says how long it lasted and what was answered, so the behaviour stays
 * visible.
 */
import { WrongAnswerError } from './targets.js';

/** Bound on a target answering right again after a load run; past it the bench aborts. */
export const SETTLE_TIMEOUT_MS = 30_000;
/**
 * How long a target must answer right without a wrong answer before it is measured. Longer
 * than the router's first ejection (5 s, `baseEjectionMs` in packages/router/src/health.ts):
 * with one of two workers ejected the other still answers right, so only a streak that
 * outlasts the ejection shows that both are back.
 */
export const SETTLE_STABLE_MS = 6_000;
/** Pause between two verification requests while waiting (bounded by the timeout). */
const SETTLE_POLL_MS = 100;

export interface SettleOptions {
  /** Right answers must go on this long (0: the first right answer is enough). */
  readonly stableMs: number;
  /** Default {@link SETTLE_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
}

export interface Settled {
  /** Wrong answers before the final streak of right ones (0: right from the start). */
  readonly failures: number;
  /** From the first request to the last wrong answer (0 without one). */
  readonly wrongForMs: number;
  /** The first wrong answer, for the report. */
  readonly first: string | undefined;
}

/**
 * Calls `verify` until it has resolved for `stableMs` without a WrongAnswerError in between;
 * wrong answers are retried until the timeout, then rethrown with the count. Any other error
 * is thrown at once.
 */
export async function settle(
  verify: () => Promise<void>,
  { stableMs, timeoutMs = SETTLE_TIMEOUT_MS }: SettleOptions,
): Promise<Settled> {
  const started = performance.now();
  let failures = 0;
  let wrongForMs = 0;
  let first: string | undefined;
  let streakFrom: number | undefined;
  for (;;) {
    try {
      await verify();
      const now = performance.now();
      streakFrom ??= now;
      if (now - streakFrom >= stableMs) return { failures, wrongForMs, first };
    } catch (err) {
      if (!(err instanceof WrongAnswerError)) throw err;
      failures++;
      first ??= err.message;
      streakFrom = undefined;
      wrongForMs = performance.now() - started;
    }
    if (performance.now() - started >= timeoutMs) {
      throw new WrongAnswerError(
        `no ${stableMs} ms of right answers within ${timeoutMs} ms (${failures} wrong, first: ${first ?? '-'})`,
      );
    }
    // Polling an HTTP answer: there is no event to wait on in another process.
    await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
  }
}

/** One report line for a wait, or undefined when the target answered right throughout. */
export function describeSettle(when: string, s: Settled): string | undefined {
  if (s.failures === 0) return undefined;
  const firstLine = (s.first ?? '').split('\n')[0]?.slice(0, 200) ?? '';
  return `${when}: ${s.failures} wrong answers over ${(s.wrongForMs / 1000).toFixed(1)} s (first: ${firstLine})`;
}
