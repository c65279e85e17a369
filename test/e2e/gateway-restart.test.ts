/**
 * Scenario 3: restarting a gateway (SIGTERM + restart, SIGKILL + restart) loses no session.
 * Sessions live in Redis; a restarted gateway on the same port serves them as before.
 */
import { describe, expect, it } from 'vitest';
import { LegacySession, textOf } from '@mcp-cluster/testkit';
import {
  SCENARIO_TIMEOUT_MS,
  SCENARIO_WORKERS,
  alternatingClient,
  useScenarioCluster,
  type Loose,
} from './support.js';

const scenario = useScenarioCluster();

const logMessages = (messages: readonly unknown[]): Loose[] =>
  messages.filter((m) => (m as Loose)?.method === 'notifications/message');

describe('scenario 3: gateway restarts lose no session', () => {
  it(
    'raw session: SIGTERM + restart of g1, then SIGKILL + restart of g2',
    async () => {
      const { cluster } = scenario;
      const [gw1, gw2] = cluster.gateways as [
        (typeof cluster.gateways)[0],
        (typeof cluster.gateways)[0],
      ];
      const session = await LegacySession.open(gw1.url);
      await session.via(gw1.url).call('logging/setLevel', { level: 'error' });
      expect(
        textOf(await session.via(gw2.url).call('tools/call', { name: 'test_simple_text' })),
      ).toMatch(/simple text/i);

      for (const [node, signal] of [
        [gw1, 'SIGTERM'],
        [gw2, 'SIGKILL'],
      ] as const) {
        const url = node.url;
        await node.kill(signal);
        await node.restart();
        expect(node.url).toBe(url);
        await cluster.waitForWorkers(SCENARIO_WORKERS);
        const r = await session.via(url).request('tools/call', {
          name: 'test_tool_with_logging',
          arguments: {},
        });
        expect(r.all.status).toBe(200);
        expect(r.response?.error).toBeUndefined();
        expect(textOf(r.response?.result)).toBe('Tool with logging executed successfully');
        expect(logMessages(r.all.messages)).toHaveLength(0); // the session's level is intact
      }
      await session.via(gw1.url).close();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'SDK client keeps its session across a restart of each gateway',
    async () => {
      const { cluster } = scenario;
      const { client } = await alternatingClient(cluster);
      try {
        expect((await client.listTools()).tools.length).toBeGreaterThan(0);
        for (const [i, signal] of [
          [0, 'SIGKILL'],
          [1, 'SIGTERM'],
        ] as const) {
          const node = cluster.gateways[i]!;
          await node.kill(signal);
          await node.restart();
          await cluster.waitForWorkers(SCENARIO_WORKERS);
          // Two calls: one lands on each gateway, the restarted one included.
          for (let k = 0; k < 2; k++) {
            const r = await client.callTool({ name: 'test_simple_text', arguments: {} });
            expect(textOf(r)).toMatch(/simple text/i);
          }
        }
      } finally {
        await client.close();
      }
    },
    SCENARIO_TIMEOUT_MS,
  );
});
