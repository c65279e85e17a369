/**
 * Scenarios 4 and 5: notifications across processes. A resource update raised on one worker
 * reaches a client subscribed through gateway 2 (legacy subscribe + GET stream, modern
 * subscriptions/listen); a worker joining with a new tool makes open streams hear
 * notifications/tools/list_changed, and the tool is callable through both gateways.
 */
import { describe, expect, it } from 'vitest';
import {
  LEGACY_VERSION,
  LegacySession,
  MODERN_VERSION,
  expectValidMessage,
  textOf,
} from '@mcp-cluster/testkit';
import {
  LATE_PACK,
  SCENARIO_TIMEOUT_MS,
  listen,
  modern,
  useScenarioCluster,
  type Loose,
} from './support.js';

const WATCHED = 'test://watched-resource';
const OTHER = 'test://static-text';

const scenario = useScenarioCluster();

const isUpdate = (m: Loose): boolean => m?.method === 'notifications/resources/updated';
const isToolsChanged = (m: Loose): boolean => m?.method === 'notifications/tools/list_changed';

describe('scenario 4: resources/updated across workers and gateways', () => {
  it(
    'legacy: subscribed via g2, GET stream on g2, update raised through g1 on some worker',
    async () => {
      const { g1, g2 } = scenario;
      await using session = await LegacySession.open(g1);
      await session.via(g2).call('resources/subscribe', { uri: WATCHED });
      const stream = await session.via(g2).openGetStream();
      // An update of a URI the session did not subscribe to is not delivered...
      await session.via(g1).call('tools/call', {
        name: 'e2e_trigger_resource_update',
        arguments: { uri: OTHER },
      });
      const raisedOn = textOf(
        await session.via(g1).call('tools/call', {
          name: 'e2e_trigger_resource_update',
          arguments: { uri: WATCHED },
        }),
      );
      expect(raisedOn).toMatch(/^w\d$/);
      // ...so the first update on the stream is the subscribed one.
      const { message } = await stream.until(isUpdate);
      expectValidMessage(LEGACY_VERSION, message);
      expect(message.params).toMatchObject({ uri: WATCHED });
      await stream.cancel();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'modern: subscriptions/listen on g2 hears an update raised through g1',
    async () => {
      const { g1, g2 } = scenario;
      const listener = await listen(g2, { resourceSubscriptions: [WATCHED] });
      try {
        const other = await modern(g1, 'tools/call', {
          name: 'e2e_trigger_resource_update',
          arguments: { uri: OTHER },
        });
        expect(other.response.error).toBeUndefined();
        const raised = await modern(g1, 'tools/call', {
          name: 'e2e_trigger_resource_update',
          arguments: { uri: WATCHED },
        });
        expect(textOf(raised.response.result)).toMatch(/^w\d$/);
        const { message } = await listener.stream.until(isUpdate);
        expectValidMessage(MODERN_VERSION, message);
        expect(message.params).toMatchObject({ uri: WATCHED });
      } finally {
        await listener.close();
      }
    },
    SCENARIO_TIMEOUT_MS,
  );
});

describe('scenario 5: a worker joins with a new tool', () => {
  it(
    'open streams hear tools/list_changed; the tool is callable through both gateways',
    async () => {
      const { cluster, g1, g2 } = scenario;
      const session = await LegacySession.open(g1);
      const legacyStream = await session.via(g1).openGetStream();
      const listener = await listen(g2, { toolsListChanged: true });
      try {
        const before = await session.via(g1).call<Loose>('tools/list');
        expect(before.tools.map((t: Loose) => t.name)).not.toContain('e2e_late_tool');

        const late = await cluster.addWorker({ packs: [LATE_PACK] });
        expect(late.id).toBe('w4');
        expectValidMessage(LEGACY_VERSION, (await legacyStream.until(isToolsChanged)).message);
        expectValidMessage(MODERN_VERSION, (await listener.stream.until(isToolsChanged)).message);

        // A client re-lists on list_changed: the list it then gets should hold the new tool.
        // Soft, so the callability checks below still run when this lags.
        for (const url of [g1, g2]) {
          const listed = await session.via(url).call<Loose>('tools/list');
          expect
            .soft(
              listed.tools.map((t: Loose) => t.name),
              `tools/list via ${url} right after list_changed`,
            )
            .toContain('e2e_late_tool');
        }

        await cluster.waitForWorkers(4);
        for (const url of [g1, g2]) {
          const listed = await session.via(url).call<Loose>('tools/list');
          expect(listed.tools.map((t: Loose) => t.name)).toContain('e2e_late_tool');
          const legacy = await session.via(url).call('tools/call', {
            name: 'e2e_late_tool',
            arguments: { text: 'legacy' },
          });
          expect(textOf(legacy)).toBe('late: legacy (w4)');
          const viaModern = await modern(url, 'tools/call', {
            name: 'e2e_late_tool',
            arguments: { text: 'modern' },
          });
          expect(textOf(viaModern.response.result)).toBe('late: modern (w4)');
        }
      } finally {
        await listener.close();
        await legacyStream.cancel();
        await session.via(g1).close();
      }
    },
    SCENARIO_TIMEOUT_MS,
  );
});
