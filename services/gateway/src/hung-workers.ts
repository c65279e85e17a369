/**
 * What the gateway does with a worker that looks hung between its health probes (see
 * UndiciDispatch's `onHung`). Every non-repeatable request routed to a hung worker fails as
 * "may have run", so the time to take it out of routing is the number of such failures.
 *
 * A dispatch overdue for its ack, or past its first-byte timeout, takes the worker out of
 * routing at once (marked down, as failed probes would), but what it holds is left alone: it
 * may still answer (a long GC pause, a burst of load). It is *suspected*, and its probes
 * decide: a good one brings it back; as many failed ones in a row as would mark a routable
 * worker down (a first-byte timeout counting as one) confirm it, and its dispatches in flight
 * end (their table says what may be sent again), as for a worker found down by its probes.
 */
import type { HungEvidence } from '@mcp-cluster/cluster';

export interface HungWorkersDeps {
  /** Takes a worker out of routing; true when that changed its state (Router.markDown). */
  readonly markDown: (id: string) => boolean;
  /**
   * Ends the dispatches in flight to a worker (UndiciDispatch.abandonIfQuiet: unless it has
   * sent bytes within the last probe interval).
   */
  readonly abandon: (id: string) => void;
  /** Failed probes in a row that confirm a suspected worker (the router's unhealthyThreshold). */
  readonly unhealthyThreshold: number;
}

export class HungWorkers {
  /** Down on suspicion: failed probes (and first-byte timeouts) since it was suspected. */
  private readonly suspected = new Map<string, number>();

  constructor(private readonly deps: HungWorkersDeps) {}

  /** Whether `id` is down on suspicion only (its dispatches are not to be ended). */
  isSuspected(id: string): boolean {
    return this.suspected.has(id);
  }

  /** A dispatch to `id` says it looks hung. */
  found(id: string, evidence: HungEvidence): void {
    const failures = this.suspected.get(id);
    // Suspected before marking down: the health change it makes must not end its dispatches.
    if (failures === undefined) {
      this.suspected.set(id, 0);
      // Not changed: down already on its probes (its dispatches were ended then), or not routed.
      if (!this.deps.markDown(id)) return void this.suspected.delete(id);
    }
    if (evidence === 'first-byte-timeout') this.failed(id);
  }

  /**
   * The router marked `id` down: its dispatches in flight end, unless it is down on
   * suspicion only.
   */
  down(id: string): void {
    if (!this.suspected.has(id)) this.deps.abandon(id);
  }

  /** Wraps one health probe of `id`: good, it clears a suspicion; failed, it counts. */
  async probed(id: string, probe: Promise<boolean>): Promise<boolean> {
    const ok = await probe.catch(() => false);
    if (this.suspected.has(id)) {
      if (ok) this.suspected.delete(id);
      else this.failed(id);
    }
    return ok;
  }

  private failed(id: string): void {
    const failures = (this.suspected.get(id) ?? 0) + 1;
    if (failures < this.deps.unhealthyThreshold) return void this.suspected.set(id, failures);
    this.suspected.delete(id);
    this.deps.abandon(id);
  }
}
