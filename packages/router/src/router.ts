import type {
  Clock,
  HealthProbe,
  PinStore,
  RouteDecision,
  RouteRequest,
  TemplateMatcher,
  WorkerId,
  WorkerView,
} from './types.js';
import type { HealthOptions } from './health.js';
import type { OwnerKind } from './pool.js';
import type { Strategy } from './strategies.js';
import type { WorkerState } from './worker.js';
import { DEFAULT_HEALTH_OPTIONS, recordHung, recordOutcome, recordProbe } from './health.js';
import { WorkerPool } from './pool.js';
import { createStrategy } from './strategies.js';
import { RouterError, RouterErrorCode, noWorker } from './errors.js';

/** Methods whose Mcp-Name selects the owner table; every other method goes to any worker. */
const OWNER_KIND: ReadonlyMap<string, OwnerKind> = new Map<string, OwnerKind>([
  ['tools/call', 'tool'],
  ['prompts/get', 'prompt'],
  ['resources/read', 'resource'],
  ['resources/subscribe', 'resource'],
  ['resources/unsubscribe', 'resource'],
]);

/** The owner table a method's target is looked up in; undefined when any worker serves it. */
export function ownerKindOf(method: string): OwnerKind | undefined {
  return OWNER_KIND.get(method);
}

/** The params field naming an owned method's target (`name`, or `uri` for resources). */
export function targetFieldOf(kind: OwnerKind): 'name' | 'uri' {
  return kind === 'resource' ? 'uri' : 'name';
}

export interface RouterOptions {
  /** A strategy name (see StrategyName) or an instance; default 'round-robin'. */
  readonly strategy?: string | Strategy;
  readonly clock?: Clock;
  readonly pins?: PinStore;
  readonly matchTemplate?: TemplateMatcher;
  readonly probe?: HealthProbe;
  readonly health?: Partial<HealthOptions>;
  /** Called when a worker's health state changes (for logs/metrics). */
  readonly onHealthChange?: (worker: WorkerView) => void;
  /** Called with each routing decision (for metrics); see {@link RoutingDecision}. */
  readonly onDecision?: (decision: RoutingDecision) => void;
  /**
   * Concurrency limit of a worker whose spec publishes none (0, the default: unlimited).
   * A worker at its limit gets no new dispatch; when every candidate is, pick throws
   * NO_WORKER with reason `saturated`.
   */
  readonly maxConcurrency?: number;
  /**
   * Called when a worker that was at its limit gets a slot back (one of its requests ended,
   * or a hold on it was released): a request waiting for capacity may pick again.
   */
  readonly onSlotFree?: (id: WorkerId) => void;
}

/**
 * `owner`: among the owners of the named component; `any`: among all workers (a new session's
 * first pin included); `pinned`: a session's pin followed; `repinned`: a session moved off a
 * worker that is gone or unhealthy; `no_worker`: nothing to route to (no worker, or none
 * healthy). A name nobody owns is no decision: the caller asks again without it.
 */
export type RoutingDecision = 'owner' | 'any' | 'pinned' | 'repinned' | 'no_worker';

const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Health checks must not keep the process alive.
    t.unref();
    return t;
  },
  clearTimeout: (h) => {
    clearTimeout(h as ReturnType<typeof setTimeout>);
  },
};

export function resolveHealthOptions(input?: Partial<HealthOptions>): HealthOptions {
  const o: HealthOptions = { ...DEFAULT_HEALTH_OPTIONS, ...input };
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new RouterError(
        RouterErrorCode.InvalidOptions,
        `health.${k} must be a finite number >= 0`,
      );
    }
  }
  if (o.ewmaAlpha <= 0 || o.ewmaAlpha > 1 || o.errorRate > 1) {
    throw new RouterError(
      RouterErrorCode.InvalidOptions,
      'health.ewmaAlpha must be in (0,1], errorRate in [0,1]',
    );
  }
  return Object.freeze(o);
}

/** Some candidate's health lets requests through (so those that do not pick are full). */
function anyRoutable(candidates: readonly WorkerState[], now: number): boolean {
  for (const w of candidates) if (w.routable(now)) return true;
  return false;
}

/**
 * Chooses a worker for a request. Modern requests are routed from method + name alone;
 * legacy sessions follow their pin, re-pinned when the pinned worker is gone or unhealthy.
 */
export class Router {
  readonly pool: WorkerPool;
  private readonly strategy: Strategy;
  private readonly clock: Clock;
  private readonly pins: PinStore | undefined;
  private readonly probe: HealthProbe | undefined;
  private readonly opts: HealthOptions;
  private readonly onHealthChange: ((worker: WorkerView) => void) | undefined;
  private readonly onDecision: (decision: RoutingDecision) => void;
  private readonly onSlotFree: ((id: WorkerId) => void) | undefined;
  private timer: unknown;
  private checking: Promise<void> | undefined;
  private stopped = true;

  constructor(options: RouterOptions = {}) {
    const s = options.strategy ?? 'round-robin';
    this.strategy = typeof s === 'string' ? createStrategy(s) : s;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.pins = options.pins;
    this.probe = options.probe;
    this.opts = resolveHealthOptions(options.health);
    this.onHealthChange = options.onHealthChange;
    this.onDecision = options.onDecision ?? (() => undefined);
    this.onSlotFree = options.onSlotFree;
    this.pool = new WorkerPool(options.matchTemplate);
    const limit = options.maxConcurrency ?? 0;
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RouterError(
        RouterErrorCode.InvalidOptions,
        'maxConcurrency must be an integer >= 0',
      );
    }
    this.pool.setDefaultMaxConcurrency(limit);
  }

  get strategyName(): string {
    return this.strategy.name;
  }

  /**
   * Holds a worker back from routing (`held`: true) or releases it, whatever its own health
   * says: how a policy the router does not own — a circuit breaker whose state gateways
   * share — takes a worker out and puts it back. Returns false for a worker not in the pool.
   */
  hold(id: WorkerId, held: boolean): boolean {
    const w = this.pool.state(id);
    if (w === undefined) return false;
    const released = w.held && !held;
    w.held = held;
    if (released) this.onSlotFree?.(id);
    return true;
  }

  /**
   * Takes a worker out of routing at once, as failed probes would (it was found hung between
   * probes: see recordHung); a successful probe sent after this brings it back. Returns true
   * on a state change (onHealthChange is told), false when it was down already or is not in
   * the pool.
   */
  markDown(id: WorkerId): boolean {
    const w = this.pool.state(id);
    if (w === undefined || !recordHung(w, this.clock.now(), this.opts)) return false;
    this.onHealthChange?.(w.view());
    return true;
  }

  /**
   * Workers not down (what a gateway's readiness counts), and of those the ones held back by
   * an outside policy (a circuit breaker) until it lets them back.
   */
  workerCounts(): { readonly up: number; readonly held: number } {
    let up = 0;
    let held = 0;
    for (const w of this.pool.workers()) {
      if (w.health === 'down') continue;
      up++;
      if (w.held) held++;
    }
    return { up, held };
  }

  /** Removes a worker and forgets any affinity to it. */
  removeWorker(id: WorkerId): boolean {
    this.strategy.forget?.(id);
    return this.pool.remove(id);
  }

  /**
   * Synchronous pick for a stateless (modern) request. Throws RouterError NO_WORKER (reason
   * `saturated` when healthy candidates exist but all are at their concurrency limit).
   * The hot path: one Map lookup for owners, one in-place scan by the strategy.
   */
  pick(req: RouteRequest): WorkerView {
    return this.pickState(req, true);
  }

  /** Picks a worker; legacy requests (with sessionId) go through the pin store. */
  async route(req: RouteRequest): Promise<RouteDecision> {
    if (req.sessionId === undefined || this.pins === undefined)
      return { worker: this.pickState(req, true) };
    return this.routeSession(req, req.sessionId, this.pins);
  }

  /** One worker for `req`; `report`: tell onDecision (a session's route reports its own). */
  private pickState(req: RouteRequest, report: boolean): WorkerState {
    const all = this.pool.workers();
    if (all.length === 0) throw this.noWorker('empty-pool', req.method);
    const kind = req.name === undefined ? undefined : OWNER_KIND.get(req.method);
    const owned = kind !== undefined && req.name !== undefined;
    let candidates = owned ? this.pool.owners(kind, req.name) : all;
    if (candidates.length === 0) throw noWorker('no-owner', `${req.method} ${req.name ?? ''}`);
    const avoid = req.avoid;
    if (avoid !== undefined && avoid.size > 0) {
      // A retry: elsewhere if anywhere else can serve (the retry path only; it allocates).
      const rest = candidates.filter((w) => !avoid.has(w.id));
      if (rest.length > 0) candidates = rest;
    }
    const now = this.clock.now();
    const w = this.strategy.pick(candidates, req.clientKey ?? req.sessionId, now);
    if (w === undefined) {
      throw this.noWorker(anyRoutable(candidates, now) ? 'saturated' : 'no-healthy', req.method);
    }
    if (report) this.onDecision(owned ? 'owner' : 'any');
    return w;
  }

  private noWorker(reason: 'empty-pool' | 'no-healthy' | 'saturated', what: string): RouterError {
    this.onDecision('no_worker');
    return noWorker(reason, what);
  }

  private async routeSession(
    req: RouteRequest,
    sessionId: string,
    pins: PinStore,
  ): Promise<RouteDecision> {
    const now = this.clock.now();
    let pinned = await pins.get(sessionId);
    // Bounded: each lost compare-and-set means another gateway moved the pin; follow it.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (pinned !== undefined) {
        const w = this.pool.state(pinned);
        if (w?.routable(now) === true && req.avoid?.has(w.id) !== true) {
          // A busy worker is no reason to move a session: its worker holds what the session
          // runs (subscriptions, requests to the client), and moving sessions off every full
          // worker would only spread the overload. The request waits for a slot there.
          if (w.full && req.oneWay !== true) {
            throw this.noWorker('saturated', `session pin for ${req.method}`);
          }
          this.onDecision('pinned');
          return { worker: w };
        }
      }
      // No pin yet, or the pinned worker is gone/unhealthy: choose any healthy worker
      // (a legacy session's worker serves all its methods, so ownership does not apply).
      const chosen = this.pickState(
        { method: req.method, sessionId, clientKey: req.clientKey, avoid: req.avoid },
        false,
      );
      if (await pins.set(sessionId, chosen.id, pinned)) {
        this.onDecision(pinned === undefined ? 'any' : 'repinned');
        return pinned === undefined ? { worker: chosen } : { worker: chosen, migratedFrom: pinned };
      }
      pinned = await pins.get(sessionId);
    }
    throw this.noWorker('no-healthy', `session pin for ${req.method} (contended)`);
  }

  /** The gateway calls this when it dispatches to a worker. */
  onStart(id: WorkerId): void {
    const w = this.pool.state(id);
    if (w === undefined) return;
    w.inFlight++;
    if (w.health === 'half-open') w.trialInFlight = true;
  }

  /** The gateway calls this when the dispatch ends (ok = the worker answered, even with a JSON-RPC error). */
  onFinish(id: WorkerId, ok: boolean, latencyMs: number): void {
    const w = this.pool.state(id);
    if (w === undefined) return;
    const wasFull = w.full;
    if (recordOutcome(w, ok, latencyMs, this.clock.now(), this.opts))
      this.onHealthChange?.(w.view());
    if (wasFull && !w.full) this.onSlotFree?.(id);
  }

  /** Runs one round of active probes over every worker (tests call it directly). */
  async checkNow(): Promise<void> {
    const probe = this.probe;
    if (probe === undefined) return;
    const workers = this.pool.workers();
    const sent = this.clock.now();
    const results = await Promise.all(
      workers.map((w) =>
        probe(w).then(
          (ok) => ok,
          () => false,
        ),
      ),
    );
    for (let i = 0; i < workers.length; i++) {
      const w = workers[i];
      // Skip workers removed while the probe ran.
      if (w === undefined || this.pool.state(w.id) !== w) continue;
      // Answered before it was found hung: that answer says nothing about it now.
      if (results[i] === true && w.hungAt > sent) continue;
      if (recordProbe(w, results[i] === true, this.clock.now(), this.opts))
        this.onHealthChange?.(w.view());
    }
  }

  /** Starts periodic active health checks on the injected timer. */
  start(): void {
    if (this.probe === undefined || !this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  /** Stops health checks and waits for a round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.checking;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.checking = this.checkNow().finally(() => {
        this.checking = undefined;
        if (!this.stopped) this.schedule();
      });
    }, this.opts.probeIntervalMs);
  }
}
