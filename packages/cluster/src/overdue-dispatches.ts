/**
 * Finds a hung worker (stopped, or its event loop blocked) between health probes, from the
 * dispatches it has not acknowledged. A worker sends a request's response headers within its
 * ack delay ({@link ackDelayMs}, derived from the first-byte timeout the gateway signs into
 * the dispatch) whether or not the answer is ready; one whose event loop runs cannot miss it
 * by much. A dispatch still without headers {@link overdueAfterMs} after it was written is
 * overdue, and one overdue dispatch is enough to say the worker is not answering now.
 *
 * Cheap on the hot path: a dispatch is one Set insert when it is written and one delete when
 * its headers come. One shared interval, unref'd and running only while some dispatch waits
 * for its headers, checks the oldest waiting dispatch of each worker.
 */

/** Sweep period: an overdue dispatch is seen at most this much (plus event-loop lag) late. */
export const OVERDUE_SWEEP_MS = 50;

/** Least slack past the ack delay: the worker's ack sweep (25 ms), event-loop lag, the network. */
export const MIN_ACK_MARGIN_MS = 100;

/**
 * How long after it was written a dispatch whose worker acks after `ackDelay` ms may stay
 * without headers: the ack delay plus half of it (at least {@link MIN_ACK_MARGIN_MS}) for a
 * busy worker's timers. A worker that is merely slow under load is not taken for hung.
 */
export function overdueAfterMs(ackDelay: number): number {
  return ackDelay + Math.max(MIN_ACK_MARGIN_MS, Math.floor(ackDelay / 2));
}

/** One dispatch waiting for its headers; {@link OverdueDispatches.settle} ends the wait. */
export interface OverdueWatch {
  readonly workerId: string;
  /** When it is overdue (the detector's clock, ms). */
  readonly due: number;
}

interface Watch extends OverdueWatch {
  readonly waiting: Set<Watch>;
}

export interface OverdueDispatchesOptions {
  /** Told once per overdue dispatch; at most once per worker per sweep. */
  readonly onOverdue: (workerId: string) => void;
  readonly sweepMs?: number;
  /** Monotonic clock in ms (tests inject one). */
  readonly now?: () => number;
}

/** The header-less dispatches of every worker, and the sweep that finds overdue ones. */
export class OverdueDispatches {
  /** Per worker, its dispatches waiting for headers, oldest first (insertion order). */
  private readonly waiting = new Map<string, Set<Watch>>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly sweepMs: number;
  private readonly now: () => number;

  constructor(private readonly options: OverdueDispatchesOptions) {
    this.sweepMs = options.sweepMs ?? OVERDUE_SWEEP_MS;
    this.now = options.now ?? (() => performance.now());
  }

  /** Dispatches waiting for their headers (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const w of this.waiting.values()) n += w.size;
    return n;
  }

  /** A dispatch to `workerId` was written just now; its worker acks after `ackDelay` ms. */
  watch(workerId: string, ackDelay: number): OverdueWatch {
    let waiting = this.waiting.get(workerId);
    if (waiting === undefined) {
      waiting = new Set();
      this.waiting.set(workerId, waiting);
    }
    const watch: Watch = { workerId, due: this.now() + overdueAfterMs(ackDelay), waiting };
    waiting.add(watch);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.sweepMs);
      // Waiting dispatches never keep a process alive: their requests do, while they last.
      this.timer.unref();
    }
    return watch;
  }

  /** Its headers came, or it ended: no longer waiting (a no-op once reported or settled). */
  settle(watch: OverdueWatch): void {
    const w = watch as Watch;
    if (!w.waiting.delete(w)) return;
    if (w.waiting.size === 0 && this.waiting.get(w.workerId) === w.waiting) {
      this.waiting.delete(w.workerId);
    }
  }

  /**
   * Reports each worker whose oldest waiting dispatch is overdue; overdue dispatches stop
   * being watched (each is reported once). Stops the interval when nothing waits.
   */
  sweep(): void {
    const now = this.now();
    const overdue: string[] = [];
    for (const [workerId, waiting] of this.waiting) {
      let found = false;
      for (const w of waiting) {
        // Oldest first, and one ack delay per gateway: the first not yet due ends the scan.
        if (w.due > now) break;
        waiting.delete(w);
        found = true;
      }
      if (waiting.size === 0) this.waiting.delete(workerId);
      if (found) overdue.push(workerId);
    }
    if (this.waiting.size === 0) this.stop();
    for (const workerId of overdue) this.options.onOverdue(workerId);
  }

  /** Stops sweeping and forgets every waiting dispatch. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.waiting.size > 0) this.waiting.clear();
  }
}
