/**
 * Redis and NATS as metrics: a periodic probe of each (a Redis PING, a NATS flush — one round
 * trip to the server) records whether it answered (`mcp_backend_up`) and how long it took
 * (`mcp_backend_probe_duration_seconds`). The probe runs off the request path, on an
 * unreferenced timer; a probe that does not answer within its bound counts as down.
 */
import { METRICS } from '@mcp-cluster/observability';
import type { Metrics } from '@mcp-cluster/observability';
import type { EventBus } from './bus/types.js';
import type { ClusterState } from './state.js';
import { withinMs } from './within.js';

/** Default interval between two probes. */
export const BACKEND_PROBE_INTERVAL_MS = 5_000;
/** A probe slower than this counts as down. */
const PROBE_TIMEOUT_MS = 2_000;

/** Starts probing; returns the function that stops it. Nothing when metrics are off. */
export function probeBackends(
  node: {
    readonly state: Pick<ClusterState, 'ping'>;
    readonly bus: Pick<EventBus, 'connected' | 'flush'>;
  },
  metrics: Metrics,
  intervalMs = BACKEND_PROBE_INTERVAL_MS,
): () => void {
  if (!metrics.enabled) return () => undefined;
  const up = metrics.gauge(METRICS.backendUp);
  const latency = metrics.histogram(METRICS.backendLatency);
  const probe = async (backend: 'redis' | 'nats', check: () => Promise<boolean>): Promise<void> => {
    const started = performance.now();
    const ok =
      (await withinMs(
        check().catch(() => false),
        PROBE_TIMEOUT_MS,
      )) ?? false;
    up.set({ backend }, ok ? 1 : 0);
    if (ok) latency.observe({ backend }, (performance.now() - started) / 1000);
  };
  const round = (): void => {
    void probe('redis', () => node.state.ping());
    void probe('nats', async () => {
      if (!node.bus.connected) return false;
      await node.bus.flush();
      return true;
    });
  };
  round();
  const timer = setInterval(round, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
