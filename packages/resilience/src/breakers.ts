/**
 * One circuit breaker per worker (opossum), with its state shared between gateways: a
 * transition any gateway's breaker makes is written to the shared store (compare-and-set on a
 * generation) and announced on the bus; every other gateway forces its own breaker into the
 * same state and holds the worker back from routing (open, half-open) or releases it
 * (closed). When the open time passes, exactly one gateway of the cluster gets the trial lock
 * and lets one dispatch through; the others keep the worker held until they hear how it went.
 *
 * opossum counts (failure ratio over a rolling window, with a minimum volume) and rejects
 * while open; the timing of trials is this module's, aligned to the shared record's `until`
 * (opossum's own reset timer is never armed: a half-open breaker is made afresh, opossum's
 * rehydration, once the trial lock is held). Its call timeout is off: dispatch deadlines are
 * the gateway's.
 *
 * Fail safe: the store is called on transitions and polls only, never per dispatch, and a
 * store call that rejects (Redis away) leaves the gateway with its local breaker alone:
 * local transitions, local trial. A dispatch never waits on, or fails because of, the store.
 */
import { BusEventType } from '@mcp-cluster/cluster';
import type {
  BreakerRecord,
  BreakerState,
  BreakerStateStore,
  BreakerSwap,
  DispatchCall,
  DispatchOutcome,
  EventBus,
  BusSubscription,
} from '@mcp-cluster/cluster';
import { workerAnswered } from '@mcp-cluster/cluster';
import CircuitBreaker from 'opossum';

export interface BreakerOptions {
  /** Failure ratio (0..1] over the window that opens a breaker (opossum: strictly above). */
  readonly errorRate: number;
  /** Dispatches within the window before the ratio counts. */
  readonly minRequests: number;
  /** Rolling window of the ratio. */
  readonly windowMs: number;
  /** How long a breaker stays open before one trial may go. */
  readonly resetMs: number;
  /**
   * Life of the cluster-wide trial lock: how long the other gateways wait for a trial's
   * result before one of them may try again (a lost holder); renewed while the trial runs.
   */
  readonly trialLockMs: number;
  /** Period of the fallback read of the shared records (events are hints). */
  readonly pollMs: number;
}

export const DEFAULT_BREAKER_OPTIONS: BreakerOptions = Object.freeze({
  errorRate: 0.5,
  minRequests: 10,
  windowMs: 10_000,
  resetMs: 5_000,
  trialLockMs: 10_000,
  pollMs: 5_000,
});

/** A breaker's change of state, on this gateway. */
export interface BreakerTransition {
  readonly workerId: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  /** local: this gateway's breaker decided; remote: another gateway's record, applied here. */
  readonly origin: 'local' | 'remote';
  /** The gateway whose breaker made the transition. */
  readonly by: string;
  /** When it happened here (epoch ms). */
  readonly at: number;
  /** For a remote one: when the other gateway made it (its `at`), if the bus said. */
  readonly sourceAt?: number;
}

export interface WorkerBreakersDeps {
  readonly gatewayId: string;
  /** The shared records; absent: local breakers only. */
  readonly store?: BreakerStateStore | undefined;
  /** Transitions are announced and heard here; absent: the store's poll alone. */
  readonly bus?: Pick<EventBus, 'publish' | 'subscribe' | 'onConnectionChange'> | undefined;
  /** Holds a worker back from routing (true) or releases it (router.hold). */
  readonly hold: (workerId: string, held: boolean) => void;
  /** The workers the gateway routes to now (whose records the poll reads). */
  readonly workers: () => Iterable<string>;
  readonly onTransition?: ((t: BreakerTransition) => void) | undefined;
  readonly onError?: ((err: unknown, what: string) => void) | undefined;
}

/** Why a fire ended without an answer to return: the worker failed (counted by opossum). */
class WorkerFailed extends Error {
  constructor(readonly outcome: DispatchOutcome) {
    super(`worker failed: ${outcome.kind}`);
  }
}

/** opossum never calls its reset timer back within this: trials are timed here. */
const NEVER_MS = 2_147_483_647;

/**
 * opossum options for a breaker that opens on the failure ratio over a rolling window
 * (`errorRate` of at least `minRequests` in `windowMs`, 10 buckets), with opossum's own call
 * timeout off: each call carries its own deadline. Shared by every breaker we build.
 */
export function rollingWindowOptions(
  name: string,
  o: Pick<BreakerOptions, 'errorRate' | 'minRequests' | 'windowMs'>,
  resetMs: number,
): CircuitBreaker.Options {
  return {
    name,
    timeout: false,
    resetTimeout: resetMs,
    errorThresholdPercentage: o.errorRate * 100,
    volumeThreshold: o.minRequests,
    rollingCountTimeout: o.windowMs,
    rollingCountBuckets: 10,
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
  };
}

type Action = (send: () => Promise<DispatchOutcome>) => Promise<DispatchOutcome>;

/** The trial of a half-open breaker (set when its one dispatch goes). */
interface Trial {
  fired: boolean;
}

/** One worker's breaker on this gateway. */
class Entry {
  state: BreakerState = 'closed';
  /** Generation of the shared record this state came from or was written as (0: none). */
  generation = 0;
  /** When a trial may go (open) or when the trial lock lapses (half-open). */
  until = 0;
  /** This gateway holds the trial (its breaker is half-open here). */
  trialHere = false;
  trial: Trial = { fired: false };
  timer: NodeJS.Timeout | undefined;
  cb: CircuitBreaker<Parameters<Action>, DispatchOutcome>;
  /** Store writes of this worker, one at a time. */
  writes: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    private readonly make: (
      entry: Entry,
      state: 'closed' | 'open' | 'half-open',
    ) => CircuitBreaker<Parameters<Action>, DispatchOutcome>,
  ) {
    this.cb = make(this, 'closed');
  }

  /** A fresh opossum breaker in `state` (fresh counts: old failures do not re-trip it). */
  replace(state: 'closed' | 'open' | 'half-open'): void {
    this.cb.shutdown();
    this.cb = this.make(this, state);
  }

  clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

const isClosed = (entry: Entry): boolean => entry.state === 'closed';

export class WorkerBreakers {
  readonly options: BreakerOptions;
  private readonly entries = new Map<string, Entry>();
  private subscription: BusSubscription | undefined;
  private stopReconnect: (() => void) | undefined;
  private poll: NodeJS.Timeout | undefined;
  private closed = false;
  /** The store rejected last time: said once per outage in the log. */
  private storeDown = false;

  constructor(
    private readonly deps: WorkerBreakersDeps,
    options: Partial<BreakerOptions> = {},
  ) {
    this.options = { ...DEFAULT_BREAKER_OPTIONS, ...options };
    const o = this.options;
    if (!(o.errorRate > 0 && o.errorRate <= 1)) throw new RangeError('errorRate must be in (0,1]');
    for (const k of ['minRequests', 'windowMs', 'resetMs', 'trialLockMs', 'pollMs'] as const) {
      if (!Number.isSafeInteger(o[k]) || o[k] <= 0) throw new RangeError(`${k} must be > 0`);
    }
  }

  /** Hears other gateways (bus), reads the shared records, and starts the fallback poll. */
  async start(): Promise<void> {
    const bus = this.deps.bus;
    if (bus !== undefined) {
      this.subscription = await bus.subscribe({ types: [BusEventType.BreakerChanged] }, (e) => {
        if (e.type !== BusEventType.BreakerChanged || e.updatedBy === this.deps.gatewayId) return;
        const { type: _type, at, provisional, ...record } = e;
        if (provisional === true) this.hint(record, at);
        else this.apply(record, at);
      });
      // Events published while the bus was away are gone: read the records again.
      this.stopReconnect = bus.onConnectionChange((change) => {
        if (change === 'reconnected') void this.sync();
      });
    }
    await this.sync();
    if (this.deps.store !== undefined) {
      this.poll = setInterval(() => void this.sync(), this.options.pollMs);
      this.poll.unref();
    }
  }

  /** Sends one dispatch through its worker's breaker (see withBreakers). */
  async dispatch(
    call: DispatchCall,
    send: () => Promise<DispatchOutcome>,
  ): Promise<DispatchOutcome> {
    const entry = this.entry(call.worker.id);
    const trial = entry.trial;
    try {
      return await entry.cb.fire(async () => {
        // opossum lets the one dispatch of a half-open breaker through: the trial. Others
        // picking the worker meanwhile are rejected; hold it again until the trial answers.
        const isTrial = entry.cb.halfOpen;
        if (isTrial) {
          trial.fired = true;
          this.deps.hold(entry.id, true);
        }
        const outcome = await send();
        if (workerAnswered(outcome)) return outcome;
        // A client that went away is not the worker's fault; a trial it cut short says
        // nothing good about the worker, so it counts against it.
        if (call.signal?.aborted === true && !isTrial) return outcome;
        throw new WorkerFailed(outcome);
      });
    } catch (err) {
      if (err instanceof WorkerFailed) return err.outcome;
      if ((err as { code?: unknown }).code === 'EOPENBREAKER') {
        return {
          kind: 'rejected',
          reason: `Worker ${entry.id} held back: its circuit breaker is ${entry.state}`,
        };
      }
      throw err;
    }
  }

  /** This gateway's view of a worker's breaker. */
  state(workerId: string): BreakerState {
    return this.entries.get(workerId)?.state ?? 'closed';
  }

  /** Every breaker this gateway has, with its state. */
  states(): Map<string, BreakerState> {
    return new Map([...this.entries].map(([id, e]) => [id, e.state]));
  }

  /** Reads the shared records of the workers routed to now, applies newer ones, re-holds. */
  async sync(): Promise<void> {
    const ids = [...this.deps.workers()];
    // A worker that left the pool and came back lost its hold there: put it back.
    for (const id of ids) {
      const e = this.entries.get(id);
      if (e !== undefined && e.state !== 'closed' && !e.trialHere) this.deps.hold(id, true);
    }
    const store = this.deps.store;
    if (store === undefined || this.closed || ids.length === 0) return;
    let records: BreakerRecord[];
    try {
      records = await store.get(ids);
      this.storeUp();
    } catch (err) {
      this.storeFailed(err, 'breaker records read failed');
      return;
    }
    for (const r of records) this.apply(r);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.poll !== undefined) clearInterval(this.poll);
    this.stopReconnect?.();
    await this.subscription?.unsubscribe().catch(() => undefined);
    for (const e of this.entries.values()) {
      e.clearTimer();
      e.cb.shutdown();
    }
    await Promise.all([...this.entries.values()].map((e) => e.writes));
  }

  private entry(id: string): Entry {
    let e = this.entries.get(id);
    if (e === undefined) {
      e = new Entry(id, (entry, state) => this.makeBreaker(entry, state));
      this.entries.set(id, e);
    }
    return e;
  }

  private makeBreaker(
    entry: Entry,
    state: 'closed' | 'open' | 'half-open',
  ): CircuitBreaker<Parameters<Action>, DispatchOutcome> {
    const o = this.options;
    const options: CircuitBreaker.Options & { state?: Partial<CircuitBreaker.State> } = {
      ...rollingWindowOptions(entry.id, o, NEVER_MS),
      ...(state === 'closed'
        ? {}
        : { state: { closed: false, halfOpen: state === 'half-open', open: state === 'open' } }),
    };
    const action: Action = (send) => send();
    const cb = new CircuitBreaker<Parameters<Action>, DispatchOutcome>(action, options);
    // Listeners attach after construction: a state given here is no transition.
    cb.on('open', () => this.local(entry, 'open'));
    cb.on('close', () => this.local(entry, 'closed'));
    return cb;
  }

  /** This gateway's breaker tripped (or its trial failed / succeeded). */
  private local(entry: Entry, to: 'open' | 'closed'): void {
    if (this.closed) return;
    const from = entry.state;
    entry.trialHere = false;
    entry.trial = { fired: false };
    entry.clearTimer();
    entry.state = to;
    const at = Date.now();
    if (to === 'open') {
      entry.until = at + this.options.resetMs;
      this.deps.hold(entry.id, true);
      this.schedule(entry, entry.until);
      // Opening is announced at once, before the store write (whose generation the record
      // carries) so the other gateways hold the worker within a bus hop, not a Redis
      // round trip more; the written record follows.
      this.deps.bus?.publish({
        type: BusEventType.BreakerChanged,
        workerId: entry.id,
        state: 'open',
        generation: entry.generation,
        openedAt: at,
        until: entry.until,
        updatedBy: this.deps.gatewayId,
        updatedAt: at,
        at,
        provisional: true,
      });
    } else {
      entry.until = 0;
      // A fresh closed breaker: the failures that opened it do not count again.
      entry.replace('closed');
      this.deps.hold(entry.id, false);
    }
    this.tell({ workerId: entry.id, from, to, origin: 'local', by: this.deps.gatewayId, at });
    this.write(entry, to, at);
  }

  /** Writes a local transition to the store and announces it; a lost race adopts the winner. */
  private write(entry: Entry, to: 'open' | 'closed', at: number): void {
    const store = this.deps.store;
    if (store === undefined) return;
    entry.writes = entry.writes.then(async () => {
      if (entry.state !== to || this.closed) return;
      const write = { state: to, untilInMs: this.options.resetMs, updatedBy: this.deps.gatewayId };
      try {
        let swap = await store.compareAndSet(entry.id, entry.generation, write);
        // Another gateway wrote first. Opening is the safe direction: failures seen here are
        // real, so an open over a closed record is written again; anything else adopts theirs.
        if (!swap.ok && to === 'open' && (swap.record?.state ?? 'closed') === 'closed') {
          swap = await store.compareAndSet(entry.id, swap.record?.generation ?? 0, write);
        }
        this.storeUp();
        this.settle(entry, swap, at);
      } catch (err) {
        this.storeFailed(err, `breaker ${entry.id} write failed`);
      }
    });
  }

  /** After a write or trial attempt: announce ours, or adopt the record that won. */
  private settle(entry: Entry, swap: BreakerSwap, at: number): void {
    const record = swap.record;
    if (record === undefined) return;
    if (swap.ok) {
      entry.generation = record.generation;
      entry.until = record.until;
      this.deps.bus?.publish({ type: BusEventType.BreakerChanged, ...record, at });
      return;
    }
    this.apply(record);
  }

  /** Another gateway's record (event or read): this breaker takes its state. */
  private apply(record: BreakerRecord, sourceAt?: number): void {
    if (this.closed) return;
    const entry = this.entry(record.workerId);
    if (record.generation <= entry.generation) return;
    entry.generation = record.generation;
    const from = entry.state;
    entry.until = record.until;
    entry.clearTimer();
    if (record.state === 'closed') {
      entry.trialHere = false;
      entry.state = 'closed';
      if (from !== 'closed' || !entry.cb.closed) entry.replace('closed');
      this.deps.hold(entry.id, false);
    } else {
      // open, or another gateway holds the trial: held here, rejecting, until told.
      const mine = record.state === 'half-open' && record.updatedBy === this.deps.gatewayId;
      if (!mine) {
        entry.trialHere = false;
        entry.state = record.state;
        if (!entry.cb.opened) entry.replace('open');
        this.deps.hold(entry.id, true);
      }
      this.schedule(entry, record.until);
    }
    if (from !== entry.state) {
      this.tell({
        workerId: entry.id,
        from,
        to: entry.state,
        origin: 'remote',
        by: record.updatedBy,
        at: Date.now(),
        ...(sourceAt === undefined ? {} : { sourceAt }),
      });
    }
  }

  /**
   * Another gateway's breaker opened and its record is on its way: hold the worker now, when
   * this gateway knew no newer record than the one that gateway opened over. The generation
   * stays: the written record (or a store read at `until`) confirms or corrects it.
   */
  private hint(record: BreakerRecord, sourceAt: number): void {
    if (this.closed) return;
    const entry = this.entry(record.workerId);
    if (entry.state !== 'closed' || record.generation < entry.generation) return;
    entry.state = 'open';
    entry.until = record.until;
    entry.replace('open');
    this.deps.hold(entry.id, true);
    this.schedule(entry, record.until);
    this.tell({
      workerId: entry.id,
      from: 'closed',
      to: 'open',
      origin: 'remote',
      by: record.updatedBy,
      at: Date.now(),
      sourceAt,
    });
  }

  /** Tries for the trial at `when` (or re-checks a trial running here). */
  private schedule(entry: Entry, when: number): void {
    entry.clearTimer();
    entry.timer = setTimeout(() => void this.tryTrial(entry), Math.max(0, when - Date.now()));
    entry.timer.unref();
  }

  private async tryTrial(entry: Entry): Promise<void> {
    entry.timer = undefined;
    if (this.closed || entry.state === 'closed') return;
    const store = this.deps.store;
    const lockMs = this.options.trialLockMs;
    if (entry.trialHere && entry.trial.fired) {
      // The trial is still running here: keep the lock while it does.
      const kept = await store?.renewTrial(entry.id, this.deps.gatewayId, lockMs).catch(() => true);
      if (kept !== false) this.schedule(entry, Date.now() + lockMs);
      return;
    }
    if (store === undefined) return this.halfOpen(entry);
    let swap: BreakerSwap;
    try {
      swap = await store.tryTrial(entry.id, entry.generation, this.deps.gatewayId, lockMs);
      this.storeUp();
    } catch (err) {
      // Nobody to agree with: this gateway tries on its own.
      this.storeFailed(err, `breaker ${entry.id} trial lock failed`);
      return this.halfOpen(entry);
    }
    // The state may have changed while the store answered (an event, a poll).
    if (this.closed || isClosed(entry)) return;
    if (swap.ok && swap.record !== undefined) {
      entry.generation = swap.record.generation;
      this.halfOpen(entry, swap.record.until);
      this.deps.bus?.publish({ type: BusEventType.BreakerChanged, ...swap.record, at: Date.now() });
      return;
    }
    // Another gateway holds the trial (or wrote something newer): adopt, and try again once
    // its lock would have lapsed if no result comes.
    if (swap.record !== undefined) this.apply(swap.record);
    if (entry.timer === undefined && !isClosed(entry)) {
      const lapse = swap.record?.state === 'half-open' ? swap.record.until : 0;
      this.schedule(entry, Math.max(lapse, Date.now() + lockMs));
    }
  }

  /** This gateway holds the trial: its breaker lets one dispatch through. */
  private halfOpen(entry: Entry, lockUntil = Date.now() + this.options.trialLockMs): void {
    const from = entry.state;
    entry.state = 'half-open';
    entry.trialHere = true;
    entry.trial = { fired: false };
    entry.until = lockUntil;
    entry.replace('half-open');
    this.deps.hold(entry.id, false);
    this.schedule(entry, lockUntil);
    if (from !== 'half-open') {
      this.tell({
        workerId: entry.id,
        from,
        to: 'half-open',
        origin: 'local',
        by: this.deps.gatewayId,
        at: Date.now(),
      });
    }
  }

  private tell(t: BreakerTransition): void {
    try {
      this.deps.onTransition?.(t);
    } catch (err) {
      this.deps.onError?.(err, 'breaker transition listener failed');
    }
  }

  private storeUp(): void {
    this.storeDown = false;
  }

  private storeFailed(err: unknown, what: string): void {
    if (this.storeDown) return;
    this.storeDown = true;
    this.deps.onError?.(err, `${what}; breakers work locally until the store answers`);
  }
}
