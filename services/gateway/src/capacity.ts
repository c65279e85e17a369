/**
 * Load shedding at the gateway: a request whose every candidate worker is at its concurrency
 * limit (the router's NO_WORKER `saturated`) waits here, first come first served, for a slot
 * one of their requests frees. The wait is bounded on every side: at most `max` requests wait
 * at once (the next is refused at once), each for at most `timeoutMs`, its dispatch deadline
 * and its client's abort. A refused or timed-out request gets {@link atCapacity}: -32016 with
 * `data.retryAfterMs`, which the transports answer with 503 + Retry-After and the request's id.
 *
 * Nothing here runs while a pick succeeds: the queue is only entered from the error path.
 */
import type { AbortListener, DispatchAbort } from '@mcp-cluster/cluster';
import { ProtocolError, RpcError } from '@mcp-cluster/protocol';

/**
 * How long a shed client is told to wait (Retry-After). Saturation clears as requests end,
 * usually well within a second; one second is the header's smallest unit.
 */
export const CAPACITY_RETRY_AFTER_MS = 1_000;

/** -32016 "The cluster is at capacity", retryable, with `data.retryAfterMs`. */
export function atCapacity(retryAfterMs: number = CAPACITY_RETRY_AFTER_MS): ProtocolError {
  return new ProtocolError(RpcError.Unavailable.code, 'The cluster is at capacity', {
    retryAfterMs,
  });
}

/** Why a request was shed: the queue was full, or its wait ran out. */
export type ShedReason = 'queue_full' | 'timeout';

export interface CapacityQueueOptions {
  /** Requests that may wait at once; 0: none waits (a saturated pick is shed at once). */
  readonly max: number;
  /** Longest wait of one request, in ms; 0: none waits. */
  readonly timeoutMs: number;
  /** Each shed request (for metrics). */
  readonly onShed?: ((reason: ShedReason) => void) | undefined;
}

/** How one wait ended: a slot may be free (pick again), the time ran out, the client left. */
export type SlotWait = 'slot' | 'timeout' | 'aborted';

/**
 * One request's place in the queue, from {@link CapacityQueue.enter} to {@link leave}. It
 * keeps its place across wake-ups: woken, it picks again; a pick that finds no slot after all
 * (another request took it, or the slot is on a worker it cannot use) {@link pass}es the
 * wake-up to the next request behind it and waits again.
 */
export class QueueTicket implements AbortListener {
  /** Holds a wake-up it has not used or passed on yet. */
  woken = false;
  private ended: 'timeout' | 'aborted' | undefined;
  private resolve: ((r: SlotWait) => void) | undefined;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly queue: CapacityQueue,
    waitMs: number,
    private readonly signal: DispatchAbort | undefined,
  ) {
    this.timer = setTimeout(() => this.end('timeout'), waitMs);
    signal?.addEventListener('abort', this);
  }

  /** Resolves when woken (`slot`), or when the wait is over. */
  next(): Promise<SlotWait> {
    if (this.ended !== undefined) return Promise.resolve(this.ended);
    if (this.woken) return Promise.resolve('slot');
    return new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  /** The wake-up found no slot for this request: the next waiting request gets it. */
  pass(): void {
    this.woken = false;
    this.queue.wakeAfter(this);
  }

  /** Out of the queue (done, shed or gone); idempotent. */
  leave(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this);
    this.queue.remove(this);
  }

  /** The client went away. */
  handleEvent(): void {
    this.end('aborted');
  }

  /** @internal the queue hands it a wake-up. */
  wake(): void {
    this.woken = true;
    this.settle('slot');
  }

  private end(why: 'timeout' | 'aborted'): void {
    this.ended ??= why;
    // Mid-pick (woken), the pick's own result decides; a waiting one leaves at once.
    if (!this.woken) this.queue.remove(this);
    this.settle(why);
  }

  private settle(r: SlotWait): void {
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.(r);
  }
}

/** The bounded FIFO of requests waiting for a worker slot. */
export class CapacityQueue {
  private readonly waiting: QueueTicket[] = [];

  constructor(private readonly o: CapacityQueueOptions) {}

  /** Requests waiting now. */
  get depth(): number {
    return this.waiting.length;
  }

  /**
   * A place in the queue for a request whose deadline is `deadlineAt` (epoch ms), or
   * undefined when it may not wait (queue full, waiting off, or no time left): shed it.
   */
  enter(
    signal: DispatchAbort | undefined,
    deadlineAt: number | undefined,
  ): QueueTicket | undefined {
    const waitMs =
      deadlineAt === undefined
        ? this.o.timeoutMs
        : Math.min(this.o.timeoutMs, deadlineAt - Date.now());
    if (this.waiting.length >= this.o.max || waitMs <= 0) {
      this.o.onShed?.(this.waiting.length >= this.o.max ? 'queue_full' : 'timeout');
      return undefined;
    }
    const ticket = new QueueTicket(this, waitMs, signal);
    this.waiting.push(ticket);
    return ticket;
  }

  /** Counts a request whose wait ran out. */
  timedOut(): void {
    this.o.onShed?.('timeout');
  }

  /** A slot freed (a full worker's request ended): the first waiting request picks again. */
  release(): void {
    this.wakeFrom(0);
  }

  /** @internal passes a wake-up down the queue, behind `ticket`. */
  wakeAfter(ticket: QueueTicket): void {
    const i = this.waiting.indexOf(ticket);
    this.wakeFrom(i < 0 ? 0 : i + 1);
  }

  /** @internal */
  remove(ticket: QueueTicket): void {
    const i = this.waiting.indexOf(ticket);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  private wakeFrom(start: number): void {
    for (let i = start; i < this.waiting.length; i++) {
      const t = this.waiting[i];
      if (t !== undefined && !t.woken) {
        t.wake();
        return;
      }
    }
  }
}
