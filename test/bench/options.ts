/**
 * Bench options: DEFAULT_* constants, then `resolveOptions(argv, env)` (flags win over env).
 *   --duration <s>  BENCH_DURATION      measured seconds per target
 *   --warmup <s>    BENCH_WARMUP        discarded seconds per target before measuring
 *   --connections   BENCH_CONNECTIONS   concurrent keep-alive connections
 *   --sessions <n>  BENCH_SESSIONS      idle legacy sessions opened for the RSS step
 *   --targets a,b   BENCH_TARGETS       subset of targets a..j to load (default all)
 *   --rounds <n>    BENCH_ROUNDS        rounds over all targets (fresh processes each); the
 *                                       table keeps each target's best round (noisy hosts)
 *   --pin           BENCH_PIN=1         pin the load generator to CPU 0 and each target to
 *                                       CPU 1 (taskset; needs >= 2 CPUs); a cluster target's
 *                                       gateway and workers all share CPU 1
 *   --latency-requests <n>                 timed requests per latency step for (a), (b), (e),
 *                 BENCH_LATENCY_REQUESTS   (f), (g), (h), after their load (0: no step)
 *   --latency-warmup <ms>                  untimed requests for this long before them
 *                 BENCH_LATENCY_WARMUP
 *   --latency-connections <n>              connections of the second latency step (closed
 *                 BENCH_LATENCY_CONNECTIONS  loop); the first always has 1 (1: no second step)
 */
import { parseArgs } from 'node:util';

export const DEFAULT_DURATION_S = 10;
export const DEFAULT_WARMUP_S = 3;
export const DEFAULT_CONNECTIONS = 50;
export const DEFAULT_SESSIONS = 10_000;
export const DEFAULT_ROUNDS = 1;
/**
 * 5,000 timed answers: a p99 from the 50 slowest, and a window of 0.5-2 s, long enough that
 * one burst of other work on a shared host does not decide the p50.
 */
export const DEFAULT_LATENCY_REQUESTS = 5_000;
/** Outlasts the slow spell right after a load run (~1.5 s for the cluster on the bench host). */
export const DEFAULT_LATENCY_WARMUP_MS = 2_000;
/** A few requests overlapping, far from the saturation the load's 50 connections reach. */
export const DEFAULT_LATENCY_CONNECTIONS = 4;
export const TARGET_IDS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] as const;
export type TargetId = (typeof TARGET_IDS)[number];

export interface BenchOptions {
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
  readonly sessions: number;
  readonly rounds: number;
  readonly pin: boolean;
  readonly targets: readonly TargetId[];
  readonly latencyRequests: number;
  readonly latencyWarmupMs: number;
  readonly latencyConnections: number;
}

function count(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function targetList(raw: string | undefined): readonly TargetId[] {
  if (raw === undefined || raw === '') return TARGET_IDS;
  const ids = raw.split(',').map((s) => s.trim());
  for (const id of ids) {
    if (!(TARGET_IDS as readonly string[]).includes(id)) {
      throw new Error(
        `unknown target ${JSON.stringify(id)} (expected some of ${TARGET_IDS.join(',')})`,
      );
    }
  }
  return TARGET_IDS.filter((id) => ids.includes(id));
}

export function resolveOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      sessions: { type: 'string' },
      targets: { type: 'string' },
      rounds: { type: 'string' },
      pin: { type: 'boolean' },
      'latency-requests': { type: 'string' },
      'latency-warmup': { type: 'string' },
      'latency-connections': { type: 'string' },
    },
    strict: true,
  });
  return Object.freeze({
    durationS: count('duration', values.duration ?? env.BENCH_DURATION, DEFAULT_DURATION_S, 1),
    warmupS: count('warmup', values.warmup ?? env.BENCH_WARMUP, DEFAULT_WARMUP_S, 0),
    connections: count(
      'connections',
      values.connections ?? env.BENCH_CONNECTIONS,
      DEFAULT_CONNECTIONS,
      1,
    ),
    sessions: count('sessions', values.sessions ?? env.BENCH_SESSIONS, DEFAULT_SESSIONS, 0),
    pin: values.pin ?? (env.BENCH_PIN === '1' || env.BENCH_PIN === 'true'),
    rounds: count('rounds', values.rounds ?? env.BENCH_ROUNDS, DEFAULT_ROUNDS, 1),
    targets: targetList(values.targets ?? env.BENCH_TARGETS),
    latencyRequests: count(
      'latency-requests',
      values['latency-requests'] ?? env.BENCH_LATENCY_REQUESTS,
      DEFAULT_LATENCY_REQUESTS,
      0,
    ),
    latencyWarmupMs: count(
      'latency-warmup',
      values['latency-warmup'] ?? env.BENCH_LATENCY_WARMUP,
      DEFAULT_LATENCY_WARMUP_MS,
      0,
    ),
    latencyConnections: count(
      'latency-connections',
      values['latency-connections'] ?? env.BENCH_LATENCY_CONNECTIONS,
      DEFAULT_LATENCY_CONNECTIONS,
      1,
    ),
  });
}
