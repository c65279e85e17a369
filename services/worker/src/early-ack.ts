/**
 * Early acknowledgement of dispatches: a request whose answer is not ready within its ack
 * delay gets its response headers at once (200 NDJSON), the response following later as the
 * stream's last line. The gateway bounds how long a worker may stay silent after a dispatch
 * (its first-byte timeout, DISPATCH_HEADERS.firstByteTimeout); acknowledging early keeps a
 * slow tool from looking like a hung worker, while a worker that is really hung (stopped, or
 * its event loop blocked) cannot acknowledge and is found within seconds.
 *
 * Most answers are ready before the delay and never see this: the hot path is one Set insert
 * and delete. One shared interval sweeps the pending requests, and runs only while there are
 * some, instead of a timer per request.
 */

/** A request waiting for its answer or its ack. */
export interface PendingAck {
  /** When to acknowledge (performance.now() ms). */
  readonly ackAt: number;
  /** Sends the headers now (nothing when the answer started or the exchange closed). */
  ack(): void;
}

/** Sweep period: the ack comes at most this much (plus event-loop lag) after its delay. */
export const ACK_SWEEP_MS = 25;

export class EarlyAcks {
  private readonly pending = new Set<PendingAck>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly sweepMs = ACK_SWEEP_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Requests waiting for their ack (for tests and metrics). */
  get size(): number {
    return this.pending.size;
  }

  /** Acknowledges `p` at its `ackAt` unless {@link settle} comes first. */
  watch(p: PendingAck): void {
    this.pending.add(p);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.sweepMs);
      // Pending acks never keep a process alive: their exchanges do, while they last.
      this.timer.unref();
    }
  }

  /** `p` answered (or failed, or started its stream): no ack. */
  settle(p: PendingAck): void {
    this.pending.delete(p);
  }

  /** Acknowledges every pending request that is due; stops the interval when none is left. */
  sweep(): void {
    const now = this.now();
    for (const p of this.pending) {
      if (p.ackAt > now) continue;
      this.pending.delete(p);
      p.ack();
    }
    if (this.pending.size === 0) this.stop();
  }

  /** Stops sweeping; pending requests are answered when their answer is ready. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
