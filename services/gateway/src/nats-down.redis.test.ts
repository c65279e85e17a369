/**
 * The cluster while NATS is down, on a nats-server of this test's own (killed, then started
 * again on the same port; core NATS keeps nothing): a gateway stays ready but reports
 * `nats disconnected` as degraded; a session ended through another gateway meanwhile is not
 * served from the stale copy; a worker's tools changing meanwhile reach the gateway's clients
 * as list_changed once NATS is back, and subscribed resources get a resources/updated.
 * Gateways poll the registry only every minute here, so what reaches them comes from the
 * reconnect, not the poll.
 */
import { defineTool } from '@mcp-cluster/components';
import {
  LegacySession,
  closedPort,
  eventually,
  readyz,
  textOf,
  workersReady,
} from '@mcp-cluster/test-support';
import { describe, expect, it } from 'vitest';
import { InProcessCluster } from './in-process.test-support.js';
import { OwnNats } from './own-servers.test-support.js';

/** Longer than the test: the registry poll never runs, only the bus and its reconnect. */
const NO_POLL_MS = 600_000;
/** Bound on nats.js reconnecting once the server is back (250 ms waits between tries). */
const RECONNECTED_WITHIN_MS = 20_000;
const SIMPLE_CALL = { name: 'test_simple_text', arguments: {} };
const SUBSCRIBED_URI = 'test://static-text';

type Notification = { method?: string; params?: { uri?: string } };

describe('degradation while NATS is down', () => {
  it('stays ready (degraded), uses no stale session copy, reconciles on reconnect', async () => {
    const nats = new OwnNats(await closedPort());
    try {
      await nats.start();
      await using cluster = new InProcessCluster();
      const g1 = await cluster.gateway({ natsUrl: nats.url, heartbeatMs: NO_POLL_MS });
      const g2 = await cluster.gateway({ natsUrl: nats.url, heartbeatMs: NO_POLL_MS });
      const worker = await cluster.worker({ natsUrl: nats.url });
      await workersReady(g1.url, 1);
      await workersReady(g2.url, 1);
      expect((await readyz(g1.url)).body).toMatchObject({ ready: true, reasons: [], degraded: [] });

      const watched = await LegacySession.open(g1.url);
      await watched.call('resources/subscribe', { uri: SUBSCRIBED_URI });
      const stream = await watched.openGetStream();
      const ending = await LegacySession.open(g1.url);
      expect(textOf(await ending.call('tools/call', SIMPLE_CALL))).toBeDefined();

      await nats.kill();
      const away = await eventually('g1 reports NATS away', async () => {
        const r = await readyz(g1.url);
        return r.body.nats === false ? r : undefined;
      });
      // Degraded, not unready: requests are still routed and answered.
      expect(away.status).toBe(200);
      expect(away.body).toMatchObject({
        ready: true,
        reasons: [],
        degraded: ['nats disconnected'],
      });
      expect(textOf(await watched.call('tools/call', SIMPLE_CALL))).toBeDefined();

      // Ended through g2: g1 hears nothing, and must not serve its copy.
      expect(await ending.via(g2.url).end()).toBe(204);
      expect((await ending.request('tools/call', SIMPLE_CALL)).status).toBe(404);

      // The worker's tools change while no event can reach the gateways.
      worker.engine.registry.add(
        defineTool({ name: 'added_while_away', description: 'new', handler: () => 'ok' }),
      );

      await nats.start();
      await eventually(
        'g1 reports NATS back',
        async () => {
          const r = await readyz(g1.url);
          return r.body.nats === true ? r : undefined;
        },
        { timeoutMs: RECONNECTED_WITHIN_MS },
      );
      expect((await readyz(g1.url)).body).toMatchObject({ ready: true, degraded: [] });

      const seen = new Set<string>();
      await stream.until<Notification>((m) => {
        if (m.method === 'notifications/tools/list_changed') seen.add('list_changed');
        if (m.method === 'notifications/resources/updated' && m.params?.uri === SUBSCRIBED_URI) {
          seen.add('updated');
        }
        return seen.size === 2;
      }, RECONNECTED_WITHIN_MS);
      const listed = await watched.call<{ tools: { name: string }[] }>('tools/list');
      expect(listed.tools.map((t) => t.name)).toContain('added_while_away');
      expect(textOf(await watched.via(g2.url).call('tools/call', SIMPLE_CALL))).toBeDefined();
      await stream.cancel();
      await watched.close();
    } finally {
      await nats.kill().catch(() => undefined);
    }
  }, 90_000);
});
