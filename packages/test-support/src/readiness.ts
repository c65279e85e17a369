/** A gateway's readiness endpoint, and waiting on the number of workers it routes to. */
import { eventually } from './wait.js';

/** Bound on one GET /readyz. */
const READYZ_TIMEOUT_MS = 5_000;

export interface Readiness {
  readonly ready: boolean;
  /** Why it is not ready (`draining`, `redis unreachable`, `no workers`). */
  readonly reasons?: readonly string[];
  /** What is wrong without making it unready (`nats disconnected`, held workers). */
  readonly degraded?: readonly string[];
  /** True once the gateway was asked to stop (it still serves during its drain delay). */
  readonly draining?: boolean;
  /** Workers not down (gateways), held back by a breaker or not. */
  readonly workers: number;
  /** Of those, the ones a circuit breaker holds back until its trial. */
  readonly held?: number;
  readonly redis?: boolean;
  readonly nats?: boolean;
  readonly id: string;
}

/** A gateway's GET /readyz (`gatewayUrl` is its MCP endpoint; the path is replaced). */
export async function readyz(gatewayUrl: string): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(new URL('/readyz', gatewayUrl), {
    signal: AbortSignal.timeout(READYZ_TIMEOUT_MS),
  });
  return { status: res.status, body: (await res.json()) as Readiness };
}

/** Waits until the gateway's /readyz counts exactly `n` routable workers. */
export function workersReady(gatewayUrl: string, n: number): Promise<Readiness> {
  return eventually(`readyz reports ${n} workers`, async () => {
    const r = await readyz(gatewayUrl);
    return r.body.workers === n ? r.body : undefined;
  });
}
