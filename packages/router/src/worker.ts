import type { HealthState, Ownership, WorkerId, WorkerSpec, WorkerView } from './types.js';
import { RouterError, RouterErrorCode } from './errors.js';

const EMPTY_OWNERSHIP: Ownership = Object.freeze({});

/**
 * Mutable per-worker state. One object per worker for its whole life in the pool, so the
 * owner indexes hold references and the hot path reads fields without lookups.
 */
export class WorkerState implements WorkerView {
  readonly id: WorkerId;
  url: string;
  weight: number;
  owns: Ownership;
  /** Precomputed for rendezvous hashing. */
  readonly idHash: number;
  /** The worker's published limit (undefined: none published); see {@link maxConcurrency}. */
  private ownLimit: number | undefined;
  /** Concurrency limit in force: the published one, else the pool's default; 0 = unlimited. */
  maxConcurrency: number;

  health: HealthState = 'healthy';
  inFlight = 0;
  latencyEwma = 0;

  // Passive ejection bookkeeping.
  consecutiveFailures = 0;
  windowStart = 0;
  windowTotal = 0;
  windowFailures = 0;
  ejectedUntil = 0;
  ejections = 0;
  trialInFlight = false;
  /**
   * Held back by a policy outside the router (a circuit breaker shared between gateways):
   * not routable, whatever its own health says, until released.
   */
  held = false;

  // Active check bookkeeping.
  probeFailures = 0;
  probeSuccesses = 0;
  /** When it was last found hung between probes (recordHung); 0: never. */
  hungAt = 0;

  /** Smooth weighted round robin running weight. */
  wrrCurrent = 0;

  constructor(spec: WorkerSpec, defaultMaxConcurrency = 0) {
    this.id = spec.id;
    this.url = spec.url;
    this.weight = checkWeight(spec);
    this.owns = spec.owns ?? EMPTY_OWNERSHIP;
    this.idHash = fnv1a(spec.id);
    this.ownLimit = checkLimit(spec);
    this.maxConcurrency = this.ownLimit ?? defaultMaxConcurrency;
  }

  update(spec: WorkerSpec, defaultMaxConcurrency = 0): void {
    this.url = spec.url;
    this.weight = checkWeight(spec);
    this.owns = spec.owns ?? EMPTY_OWNERSHIP;
    this.ownLimit = checkLimit(spec);
    this.maxConcurrency = this.ownLimit ?? defaultMaxConcurrency;
  }

  /** Re-applies the pool's default when this worker published no limit of its own. */
  applyDefaultLimit(defaultMaxConcurrency: number): void {
    this.maxConcurrency = this.ownLimit ?? defaultMaxConcurrency;
  }

  /** At its concurrency limit: no new dispatch until one of its requests ends. */
  get full(): boolean {
    return this.maxConcurrency > 0 && this.inFlight >= this.maxConcurrency;
  }

  /**
   * Whether a request may be sent now: routable ({@link routable}) and below its concurrency
   * limit.
   */
  available(now: number): boolean {
    return !this.full && this.routable(now);
  }

  /**
   * Whether its health lets a request through, whatever its load. An ejected worker whose
   * backoff has expired turns half-open and admits exactly one trial request at a time.
   */
  routable(now: number): boolean {
    if (this.held) return false;
    switch (this.health) {
      case 'healthy':
        return true;
      case 'ejected':
        if (now < this.ejectedUntil) return false;
        this.health = 'half-open';
        return !this.trialInFlight;
      case 'half-open':
        return !this.trialInFlight;
      case 'down':
        return false;
    }
  }

  view(): WorkerView {
    return {
      id: this.id,
      url: this.url,
      weight: this.weight,
      owns: this.owns,
      health: this.health,
      inFlight: this.inFlight,
      maxConcurrency: this.maxConcurrency,
      latencyEwma: this.latencyEwma,
    };
  }
}

function checkWeight(spec: WorkerSpec): number {
  const w = spec.weight ?? 1;
  if (!(w > 0) || !Number.isFinite(w)) {
    throw new RouterError(RouterErrorCode.InvalidWorker, `worker ${spec.id}: weight must be > 0`);
  }
  return w;
}

function checkLimit(spec: WorkerSpec): number | undefined {
  const n = spec.maxConcurrency;
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < 0) {
    throw new RouterError(
      RouterErrorCode.InvalidWorker,
      `worker ${spec.id}: maxConcurrency must be an integer >= 0`,
    );
  }
  return n;
}

/** 32-bit FNV-1a over UTF-16 code units: cheap, stable across processes. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3 finalizer: spreads the combined key/worker hash over 32 bits. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
