import type { WorkerState } from './worker.js';
import { mix32, fnv1a } from './worker.js';
import { RouterError, RouterErrorCode } from './errors.js';

/**
 * Picks one available worker among candidates, or undefined. Candidates are the pool's
 * cached arrays: strategies skip unavailable workers in place instead of filtering (no
 * allocation per request).
 */
export interface Strategy {
  readonly name: StrategyName;
  pick(
    candidates: readonly WorkerState[],
    key: string | undefined,
    now: number,
  ): WorkerState | undefined;
  /** Drops any per-worker memory (affinity) when a worker leaves the pool. */
  forget?(id: string): void;
}

export const StrategyName = {
  RoundRobin: 'round-robin',
  LeastConnections: 'least-connections',
  WeightedRoundRobin: 'weighted-round-robin',
  LeastResponseTime: 'least-response-time',
  ConsistentHash: 'consistent-hash',
  ClientAffinity: 'client-affinity',
} as const;
export type StrategyName = (typeof StrategyName)[keyof typeof StrategyName];

const NAMES: ReadonlySet<string> = new Set(Object.values(StrategyName));

export const isStrategyName = (s: string): s is StrategyName => NAMES.has(s);

export class RoundRobin implements Strategy {
  readonly name: StrategyName = StrategyName.RoundRobin;
  private next = 0;

  pick(
    candidates: readonly WorkerState[],
    _key: string | undefined,
    now: number,
  ): WorkerState | undefined {
    const n = candidates.length;
    const start = this.next;
    for (let i = 0; i < n; i++) {
      const w = candidates[(start + i) % n];
      if (w?.available(now) === true) {
        this.next = (start + i + 1) % 0x7fffffff;
        return w;
      }
    }
    return undefined;
  }
}

/** Picks the available worker with the lowest score; ties rotate so equal workers share load. */
abstract class LowestScore implements Strategy {
  abstract readonly name: StrategyName;
  private rotate = 0;

  protected abstract score(w: WorkerState): number;

  pick(
    candidates: readonly WorkerState[],
    _key: string | undefined,
    now: number,
  ): WorkerState | undefined {
    const n = candidates.length;
    const start = this.rotate++ % Math.max(n, 1);
    let best: WorkerState | undefined;
    let bestScore = Infinity;
    for (let i = 0; i < n; i++) {
      const w = candidates[(start + i) % n];
      if (w === undefined || !w.available(now)) continue;
      const score = this.score(w);
      if (score < bestScore) {
        best = w;
        bestScore = score;
      }
    }
    return best;
  }
}

/** Fewest in-flight requests relative to weight. */
export class LeastConnections extends LowestScore {
  readonly name: StrategyName = StrategyName.LeastConnections;

  protected score(w: WorkerState): number {
    return w.inFlight / w.weight;
  }
}

/** nginx's smooth weighted round robin: exact proportions, no bursts to one worker. */
export class WeightedRoundRobin implements Strategy {
  readonly name: StrategyName = StrategyName.WeightedRoundRobin;

  pick(
    candidates: readonly WorkerState[],
    _key: string | undefined,
    now: number,
  ): WorkerState | undefined {
    let best: WorkerState | undefined;
    let total = 0;
    for (const w of candidates) {
      if (!w.available(now)) continue;
      w.wrrCurrent += w.weight;
      total += w.weight;
      if (best === undefined || w.wrrCurrent > best.wrrCurrent) best = w;
    }
    if (best !== undefined) best.wrrCurrent -= total;
    return best;
  }
}

/**
 * Lowest expected wait: EWMA latency x (in-flight + 1). Workers with no sample yet score 0,
 * so new workers get tried first.
 */
export class LeastResponseTime extends LowestScore {
  readonly name: StrategyName = StrategyName.LeastResponseTime;

  protected score(w: WorkerState): number {
    return (w.latencyEwma * (w.inFlight + 1)) / w.weight;
  }
}

/**
 * Weighted rendezvous (highest random weight) hashing: a key keeps its worker while that
 * worker is available, and only keys of a removed worker move. Without a key it falls back.
 */
export class ConsistentHash implements Strategy {
  readonly name: StrategyName = StrategyName.ConsistentHash;
  constructor(private readonly fallback: Strategy = new RoundRobin()) {}

  pick(
    candidates: readonly WorkerState[],
    key: string | undefined,
    now: number,
  ): WorkerState | undefined {
    if (key === undefined) return this.fallback.pick(candidates, key, now);
    const kh = fnv1a(key);
    let best: WorkerState | undefined;
    let bestScore = -Infinity;
    for (const w of candidates) {
      if (!w.available(now)) continue;
      // u in (0, 1); -weight / ln(u) gives each worker a share proportional to its weight.
      const u = (mix32(kh ^ w.idHash) + 1) / 4294967297;
      const score = -w.weight / Math.log(u);
      if (score > bestScore) {
        best = w;
        bestScore = score;
      }
    }
    return best;
  }
}

/**
 * Sticky by client key: the first pick (by the fallback strategy) is remembered and reused
 * while that worker is an available candidate. The table is bounded (oldest entry evicted).
 */
export class ClientAffinity implements Strategy {
  readonly name: StrategyName = StrategyName.ClientAffinity;
  private readonly sticky = new Map<string, WorkerState>();

  constructor(
    private readonly fallback: Strategy = new LeastConnections(),
    private readonly maxEntries = 100_000,
  ) {}

  pick(
    candidates: readonly WorkerState[],
    key: string | undefined,
    now: number,
  ): WorkerState | undefined {
    if (key === undefined) return this.fallback.pick(candidates, key, now);
    const known = this.sticky.get(key);
    if (known !== undefined && candidates.includes(known) && known.available(now)) return known;
    const chosen = this.fallback.pick(candidates, key, now);
    if (chosen !== undefined) {
      if (known !== undefined) this.sticky.delete(key);
      else if (this.sticky.size >= this.maxEntries) {
        const oldest = this.sticky.keys().next();
        if (oldest.done !== true) this.sticky.delete(oldest.value);
      }
      this.sticky.set(key, chosen);
    }
    return chosen;
  }

  forget(id: string): void {
    for (const [k, w] of this.sticky) if (w.id === id) this.sticky.delete(k);
  }
}

/** The one place a configuration string becomes a strategy. */
export function createStrategy(name: string): Strategy {
  if (!isStrategyName(name)) {
    throw new RouterError(RouterErrorCode.UnknownStrategy, `unknown routing strategy: ${name}`);
  }
  switch (name) {
    case 'round-robin':
      return new RoundRobin();
    case 'least-connections':
      return new LeastConnections();
    case 'weighted-round-robin':
      return new WeightedRoundRobin();
    case 'least-response-time':
      return new LeastResponseTime();
    case 'consistent-hash':
      return new ConsistentHash();
    case 'client-affinity':
      return new ClientAffinity();
  }
}
