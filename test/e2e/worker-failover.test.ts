/**
 * Scenario 2: SIGKILL the worker a legacy session is pinned to, mid-session. The next request
 * (through either gateway) succeeds on another worker, and the session's state travelled
 * with it: the log level set before the kill still filters, the resource subscription still
 * delivers updates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterState } from '@mcp-cluster/cluster';
import { LegacySession, textOf } from '@mcp-cluster/testkit';
import {
  SCENARIO_TIMEOUT_MS,
  clusterState,
  pinOf,
  useScenarioCluster,
  workerById,
  type Loose,
} from './support.js';

const WATCHED = 'test://watched-resource';

const scenario = useScenarioCluster();
let state: ClusterState;

beforeAll(async () => {
  state = await clusterState(scenario.cluster);
}, SCENARIO_TIMEOUT_MS);

afterAll(async () => {
  await state?.close();
}, SCENARIO_TIMEOUT_MS);

const logMessages = (messages: readonly unknown[]): Loose[] =>
  messages.filter((m) => (m as Loose)?.method === 'notifications/message');

describe('scenario 2: the pinned worker dies mid-session', () => {
  it(
    'the next request re-pins to another worker with log level and subscriptions intact',
    async () => {
      const { cluster, g1, g2 } = scenario;
      await using session = await LegacySession.open(g1);
      // Before the kill: default level (everything) -> the tool's info logs arrive.
      const before = await session.via(g2).request('tools/call', {
        name: 'test_tool_with_logging',
        arguments: {},
      });
      expect(logMessages(before.all.messages)).toHaveLength(3);
      await session.via(g2).call('logging/setLevel', { level: 'error' });
      await session.via(g1).call('resources/subscribe', { uri: WATCHED });
      const served = textOf(await session.via(g1).call('tools/call', { name: 'e2e_whoami' }));
      const pinned = await pinOf(state, session.id);
      expect(pinned).toBe(served);
      const filtered = await session.via(g1).request('tools/call', {
        name: 'test_tool_with_logging',
        arguments: {},
      });
      expect(logMessages(filtered.all.messages)).toHaveLength(0);

      const updates = await session.via(g2).openGetStream();
      await workerById(cluster, pinned!).kill('SIGKILL');

      // The very next request, through the other gateway than the last one.
      const after = await session.via(g2).request('tools/call', {
        name: 'test_tool_with_logging',
        arguments: {},
      });
      expect(after.response?.error).toBeUndefined();
      expect(textOf(after.response?.result)).toBe('Tool with logging executed successfully');
      expect(logMessages(after.all.messages)).toHaveLength(0); // setLevel survived

      const now = textOf(await session.via(g1).call('tools/call', { name: 'e2e_whoami' }));
      expect(now).not.toBe(pinned);
      expect(await pinOf(state, session.id)).toBe(now);

      // The subscription survived: an update raised on a live worker reaches the GET stream.
      const raisedOn = textOf(
        await session.via(g1).call('tools/call', {
          name: 'e2e_trigger_resource_update',
          arguments: { uri: WATCHED },
        }),
      );
      expect(raisedOn).not.toBe(pinned);
      const { message } = await updates.until(
        (m: Loose) => m?.method === 'notifications/resources/updated',
      );
      expect(message.params).toMatchObject({ uri: WATCHED });
      await updates.cancel();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
