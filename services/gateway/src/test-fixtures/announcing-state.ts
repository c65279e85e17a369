/**
 * Another node's view of an in-process cluster's state, with its own bus: its session writes
 * are announced (`session.changed`) the way a gateway's or a worker's are, so gateways caching
 * the session drop their copy. A pin it moves resolves once its own announcement came back
 * through NATS, i.e. once the gateways of the cluster (same NATS server) have been sent it.
 * Closing it closes the bus too.
 */
import { BusEventType, createClusterState, createEventBus } from '@mcp-cluster/cluster';
import type { ClusterState, SessionStore } from '@mcp-cluster/cluster';
import { testServices, within } from '@mcp-cluster/test-support';
import type { InProcessCluster } from '../in-process.test-support.js';

/** Bound on an announcement's round trip through NATS. */
const ECHO_TIMEOUT_MS = 5_000;

export async function announcingState(cluster: InProcessCluster): Promise<ClusterState> {
  const { redisUrl, natsUrl } = testServices();
  const bus = await createEventBus({ natsUrl, prefix: cluster.prefix, name: 'test node' });
  const waiting = new Map<string, () => void>();
  let state: ClusterState;
  try {
    await bus.subscribe({ types: [BusEventType.SessionChanged] }, (e) => {
      if (e.type === BusEventType.SessionChanged) waiting.get(e.sessionId)?.();
    });
    state = await createClusterState({ redisUrl, prefix: cluster.prefix, bus });
  } catch (err) {
    await bus.close();
    throw err;
  }
  const store = state.sessions;
  const sessions: SessionStore = Object.assign(Object.create(store) as SessionStore, {
    async setPin(sessionId: string, workerId: string, previous?: string): Promise<boolean> {
      const echo = new Promise<void>((resolve) => waiting.set(sessionId, resolve));
      const ok = await store.setPin(sessionId, workerId, previous);
      if (ok) await within(ECHO_TIMEOUT_MS, `session.changed of ${sessionId}`, echo);
      waiting.delete(sessionId);
      return ok;
    },
  });
  const close = async (): Promise<void> => {
    await state.close();
    await bus.close();
  };
  return { ...state, sessions, close, [Symbol.asyncDispose]: close };
}
