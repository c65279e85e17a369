/**
 * What a cluster process's `/readyz` says: `ready`, the `reasons` it is not (each named, for
 * an operator reading the probe), and what is `degraded` without making it unready.
 *
 * Redis unreachable makes a node unready: new legacy sessions, durable tasks and anything
 * else that needs it are refused (503 + Retry-After). NATS away only degrades: requests are
 * still routed and answered, the registry is polled, session copies are re-read from Redis,
 * and what events would have said is reconciled on reconnect. Taking every node out of a
 * load balancer during a NATS restart would turn a degradation into an outage.
 *
 * A worker its circuit breaker holds back still counts as capacity, reported as degraded: the
 * breaker lets it back only after a trial request, and a gateway whose workers were all held
 * would otherwise leave every load balancer and never receive the request for that trial.
 */

/** The reason strings, stable: dashboards and alerts may match them. */
export const READINESS_REASONS = {
  draining: 'draining',
  redis: 'redis unreachable',
  nats: 'nats disconnected',
  workers: 'no workers',
  held: 'workers held by circuit breakers',
} as const;

export interface ReadinessInput {
  readonly draining: boolean;
  readonly redis: boolean;
  readonly nats: boolean;
  /** Workers not down, held back or not (gateways only). */
  readonly workers?: number;
  /** Of those, the ones a circuit breaker holds back until its trial (gateways only). */
  readonly held?: number;
}

export interface Readiness {
  readonly ready: boolean;
  /** Why it is not ready; empty when ready. */
  readonly reasons: string[];
  /** What is wrong without making it unready (e.g. NATS away). */
  readonly degraded: string[];
}

export function readiness(input: ReadinessInput): Readiness {
  const reasons: string[] = [];
  const degraded: string[] = [];
  if (input.draining) reasons.push(READINESS_REASONS.draining);
  if (!input.redis) reasons.push(READINESS_REASONS.redis);
  if (input.workers !== undefined && input.workers <= 0) reasons.push(READINESS_REASONS.workers);
  if (!input.nats) degraded.push(READINESS_REASONS.nats);
  if (input.held !== undefined && input.held > 0) degraded.push(READINESS_REASONS.held);
  return { ready: reasons.length === 0, reasons, degraded };
}
