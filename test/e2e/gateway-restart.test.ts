/**
 * Scenario 3: restarting a gateway (SIGTERM + restart, SIGKILL + restart) loses no session.
 * Sessions live in Redis; a restarted gateway on the same port serves them as before. A write
 * in flight on a gateway that is SIGKILLed is answered through the other one.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { LegacySession, eventually, textOf } from '@mcp-cluster/testkit';
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

  it(
    'a write in flight when its gateway is SIGKILLed gets a retryable error with its id through the other gateway',
    async () => {
      const { cluster } = scenario;
      const [gw1, gw2] = cluster.gateways as [
        (typeof cluster.gateways)[0],
        (typeof cluster.gateways)[0],
      ];
      // Everything goes to g1 until it is killed, then to g2, as a load balancer would.
      let via = gw1;
      let postAnswered: (contentType: string) => void = () => undefined;
      const writeAnswered = new Promise<string>((resolve) => (postAnswered = resolve));
      const resumed: string[] = [];
      const resumes: { id: string; status: number }[] = [];
      const fetchVia = async (input: string | URL, init?: RequestInit): Promise<Response> => {
        const target = new URL(String(input));
        target.host = new URL(via.url).host;
        const lastEventId = new Headers(init?.headers).get('last-event-id');
        if (lastEventId !== null) resumed.push(lastEventId);
        const res = await fetch(target, init);
        if (lastEventId !== null) resumes.push({ id: lastEventId, status: res.status });
        if (typeof init?.body === 'string' && init.body.includes('e2e_slow_write')) {
          postAnswered(res.headers.get('content-type') ?? '');
        }
        return res;
      };
      const client = new Client({ name: 'e2e-cut-write', version: '1.0.0' }, { capabilities: {} });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(gw1.url), { fetch: fetchVia }),
      );
      try {
        let primed: (token: string) => void = () => undefined;
        const resumable = new Promise<string>((resolve) => (primed = resolve));
        const call = client.callTool(
          { name: 'e2e_slow_write', arguments: { ms: 30_000 } },
          undefined,
          { timeout: 60_000, onresumptiontoken: (token) => primed(token) },
        );
        const outcome = call.then(
          () => undefined,
          (err: unknown) => err,
        );
        // The answer's stream is primed before the call runs: a break leaves a resumable stream.
        expect(await writeAnswered).toMatch(/^text\/event-stream/);
        expect(await resumable).toMatch(/~[1-9]\d*:0$/);
        via = gw2;
        const killedAt = Date.now();
        await gw1.kill('SIGKILL');
        const err = await outcome;
        expect(err).toBeInstanceOf(McpError);
        expect((err as McpError).code).toBe(-32016);
        expect((err as McpError).message).toMatch(/may have run/);
        expect((err as McpError).data).toMatchObject({ retryAfterMs: expect.any(Number) });
        // Well before the call itself would have answered (30 s).
        expect(Date.now() - killedAt).toBeLessThan(15_000);
        // The call's stream (not the standalone one, "~0") resumed after its priming event.
        expect(resumed).toContainEqual(expect.stringMatching(/~[1-9]\d*:0$/));
        // After the answer the client resumes once more (its last message was an error) and is
        // told there is nothing more (204), which stops its reconnecting.
        const callStream = resumed.find((id) => /~[1-9]\d*:0$/.test(id))!.split(':')[0]!;
        await eventually('the call stream resumed, then answered 204', () => {
          const statuses = resumes.filter((r) => r.id.startsWith(`${callStream}:`));
          expect(statuses.map((r) => r.status)).toEqual([200, 204]);
          return true;
        });
        // The session lives on through g2.
        const r = await client.callTool({ name: 'test_simple_text', arguments: {} });
        expect(textOf(r)).toMatch(/simple text/i);
      } finally {
        await client.close();
        await gw1.restart();
        await cluster.waitForWorkers(SCENARIO_WORKERS);
      }
    },
    SCENARIO_TIMEOUT_MS,
  );
});
