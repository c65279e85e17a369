import type { WorkerState } from './worker.js';

/** Passive ejection and active check thresholds; defaults in DEFAULT_HEALTH_OPTIONS. */
export interface HealthOptions {
  /** Consecutive failed requests that eject a worker. */
  readonly consecutiveFailures: number;
  /** Error rate (0..1) within the window that ejects a worker ... */
  readonly errorRate: number;
  /** ... once the window holds at least this many requests. */
  readonly errorRateMinRequests: number;
  readonly errorRateWindowMs: number;
  /** First ejection lasts this long; each further ejection doubles it up to the max. */
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  /** Smoothing factor of the latency EWMA (weight of the newest sample). */
  readonly ewmaAlpha: number;
  /** Active checks: period, failures to mark down, successes to mark healthy again. */
  readonly probeIntervalMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
}

export const DEFAULT_HEALTH_OPTIONS: HealthOptions = Object.freeze({
  consecutiveFailures: 5,
  errorRate: 0.5,
  errorRateMinRequests: 20,
  errorRateWindowMs: 10_000,
  baseEjectionMs: 5_000,
  maxEjectionMs: 120_000,
  ewmaAlpha: 0.3,
  probeIntervalMs: 5_000,
  unhealthyThreshold: 2,
  healthyThreshold: 1,
});

/** Records a finished request; ejects or restores the worker. Returns true on a state change. */
export function recordOutcome(
  w: WorkerState,
  ok: boolean,
  latencyMs: number,
  now: number,
  o: HealthOptions,
): boolean {
  if (w.inFlight > 0) w.inFlight--;
  if (ok) {
    w.latencyEwma =
      w.latencyEwma === 0 ? latencyMs : w.latencyEwma + o.ewmaAlpha * (latencyMs - w.latencyEwma);
  }
  if (now - w.windowStart >= o.errorRateWindowMs) {
    w.windowStart = now;
    w.windowTotal = 0;
    w.windowFailures = 0;
  }
  w.windowTotal++;
  const wasTrial = w.trialInFlight;
  w.trialInFlight = false;
  if (ok) {
    w.consecutiveFailures = 0;
    if (w.health === 'half-open' && wasTrial) {
      restore(w);
      return true;
    }
  } else {
    w.windowFailures++;
    w.consecutiveFailures++;
    if (w.health === 'half-open' && wasTrial) {
      eject(w, now, o);
      return true;
    }
  }
  if (w.health !== 'healthy') return false;
  // Checked on successes too: the window may reach its minimum size on a success.
  const rateTripped =
    w.windowTotal >= o.errorRateMinRequests && w.windowFailures / w.windowTotal >= o.errorRate;
  if (w.consecutiveFailures >= o.consecutiveFailures || rateTripped) {
    eject(w, now, o);
    return true;
  }
  return false;
}

export function eject(w: WorkerState, now: number, o: HealthOptions): void {
  const ms = Math.min(o.baseEjectionMs * 2 ** w.ejections, o.maxEjectionMs);
  w.ejections++;
  w.health = 'ejected';
  w.ejectedUntil = now + ms;
  w.trialInFlight = false;
}

export function restore(w: WorkerState): void {
  w.health = 'healthy';
  w.ejections = 0;
  w.ejectedUntil = 0;
  w.consecutiveFailures = 0;
  w.windowTotal = 0;
  w.windowFailures = 0;
  w.trialInFlight = false;
  w.probeFailures = 0;
}

/** Applies one active probe result. Returns true on a state change. */
export function recordProbe(w: WorkerState, ok: boolean, now: number, o: HealthOptions): boolean {
  if (ok) {
    w.probeFailures = 0;
    w.probeSuccesses++;
    // A passive ejection runs its backoff even if the worker answers probes (it may be alive
    // but failing requests); once the backoff has expired a good probe serves as the trial.
    if (w.health === 'ejected' && now < w.ejectedUntil) return false;
    if (w.health === 'down' && w.probeSuccesses < o.healthyThreshold) return false;
    if (w.health !== 'healthy') {
      restore(w);
      return true;
    }
    return false;
  }
  w.probeSuccesses = 0;
  w.probeFailures++;
  if (w.probeFailures >= o.unhealthyThreshold && w.health !== 'down') {
    w.health = 'down';
    w.trialInFlight = false;
    return true;
  }
  return false;
}

/**
 * A worker found hung between probes (a dispatch went unacknowledged past its ack delay, or
 * hit its first-byte timeout): down at once, as `unhealthyThreshold` failed probes would make
 * it; the first successful probe sent after this brings it back (see Router.markDown).
 * Returns true on a state change.
 */
export function recordHung(w: WorkerState, now: number, o: HealthOptions): boolean {
  w.hungAt = now;
  w.probeSuccesses = 0;
  w.probeFailures = Math.max(w.probeFailures, o.unhealthyThreshold);
  if (w.health === 'down') return false;
  w.health = 'down';
  w.trialInFlight = false;
  return true;
}
