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

  /** Smooth weighted round robin running weight. */
  wrrCurrent = 0;

  constructor(spec: WorkerSpec) {
    this.id = spec.id;
    this.url = spec.url;
    this.weight = checkWeight(spec);
    this.owns = spec.owns ?? EMPTY_OWNERSHIP;
    this.idHash = fnv1a(spec.id);
  }

  update(spec: WorkerSpec): void {
    this.url = spec.url;
    this.weight = checkWeight(spec);
    this.owns = spec.owns ?? EMPTY_OWNERSHIP;
  }

  /**
   * Whether a request may be sent now. An ejected worker whose backoff has expired turns
   * half-open and admits exactly one trial request at a time.
   */
  available(now: number): boolean {
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
