/**
 * Scenario 1: one legacy session used through two gateways. Consecutive requests alternate
 * between g1 and g2 (SDK client); server->client requests (sampling, elicitation) are answered
 * through the other gateway than the one streaming them (raw fetch); a POST stream read
 * partly on g1 is resumed on g2 with Last-Event-ID.
 */
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import {
  LEGACY_VERSION,
  LegacySession,
  SseReader,
  expectValidMessage,
  textOf,
} from '@mcp-cluster/testkit';
import {
  SCENARIO_TIMEOUT_MS,
  alternatingClient,
  useScenarioCluster,
  type Loose,
} from './support.js';

const scenario = useScenarioCluster();

const isRequest = (method: string) => (m: Loose) => m?.method === method && m?.id !== undefined;
const isResponse = (id: number) => (m: Loose) =>
  m?.id === id && (m?.result !== undefined || m?.error !== undefined);

describe('scenario 1: a legacy session across two gateways', () => {
  it(
    'SDK client: requests alternate g1/g2 end to end, with sampling and elicitation',
    async () => {
      const { cluster } = scenario;
      const { client, routed } = await alternatingClient(cluster, (c) => {
        c.setRequestHandler(CreateMessageRequestSchema, (req) => ({
          role: 'assistant',
          model: 'e2e-model',
          content: {
            type: 'text',
            text: `sampled(${(req.params.messages[0]?.content as { text?: string }).text})`,
          },
        }));
        c.setRequestHandler(ElicitRequestSchema, () => ({
          action: 'accept',
          content: { response: 'from-elicitation' },
        }));
      });
      try {
        const tools = await client.listTools();
        expect(tools.tools.map((t) => t.name)).toContain('test_sampling');
        expect(textOf(await client.callTool({ name: 'test_simple_text', arguments: {} }))).toMatch(
          /simple text/i,
        );
        const sampled = await client.callTool({
          name: 'test_sampling',
          arguments: { prompt: 'hello' },
        });
        expect(textOf(sampled)).toBe('LLM response: sampled(hello)');
        const elicited = await client.callTool({
          name: 'test_elicitation',
          arguments: { message: 'name?' },
        });
        expect(textOf(elicited)).toContain('action=accept');
        expect(textOf(elicited)).toContain('from-elicitation');
        const read = await client.readResource({ uri: 'test://static-text' });
        expect(read.contents[0]).toMatchObject({ uri: 'test://static-text' });
        expect(textOf(await client.callTool({ name: 'e2e_whoami', arguments: {} }))).toMatch(
          /^w\d$/,
        );

        // Every POST of the session went through both gateways, answers included.
        const posts = routed.filter((r) => r.httpMethod === 'POST');
        expect(posts[0]).toMatchObject({ gateway: 0, rpc: 'initialize' });
        expect(new Set(posts.map((r) => r.gateway))).toEqual(new Set([0, 1]));
        const answers = posts.filter((r) => r.rpc === 'response');
        expect(answers.length).toBeGreaterThanOrEqual(2);
        const calls = posts.filter((r) => r.rpc === 'tools/call');
        expect(new Set(calls.map((r) => r.gateway))).toEqual(new Set([0, 1]));
      } finally {
        await client.close();
      }
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'raw: sampling and elicitation streamed by g1 are answered through g2',
    async () => {
      const { g1, g2 } = scenario;
      await using session = await LegacySession.open(g1);
      // Sampling: the request arrives on g1's POST stream; the answer goes to g2.
      const res = await session.via(g1).post({
        jsonrpc: '2.0',
        id: 101,
        method: 'tools/call',
        params: { name: 'test_sampling', arguments: { prompt: 'cross' } },
      });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const stream = new SseReader(res);
      const { message: sampling } = await stream.until(isRequest('sampling/createMessage'));
      expectValidMessage(LEGACY_VERSION, sampling);
      const answer = await session.via(g2).post({
        jsonrpc: '2.0',
        id: sampling.id,
        result: {
          role: 'assistant',
          model: 'e2e-model',
          content: { type: 'text', text: 'answered via g2' },
        },
      });
      await answer.text();
      expect(answer.status).toBe(202);
      const { message: result } = await stream.until(isResponse(101));
      expectValidMessage(LEGACY_VERSION, result, { method: 'tools/call' });
      expect(textOf(result.result)).toBe('LLM response: answered via g2');

      // Elicitation, the other way round: streamed by g2, answered through g1.
      const res2 = await session.via(g2).post({
        jsonrpc: '2.0',
        id: 102,
        method: 'tools/call',
        params: { name: 'test_elicitation', arguments: { message: 'who?' } },
      });
      const stream2 = new SseReader(res2);
      const { message: elicit } = await stream2.until(isRequest('elicitation/create'));
      expectValidMessage(LEGACY_VERSION, elicit);
      const answer2 = await session.via(g1).post({
        jsonrpc: '2.0',
        id: elicit.id,
        result: { action: 'accept', content: { response: 'via-g1' } },
      });
      await answer2.text();
      expect(answer2.status).toBe(202);
      const { message: result2 } = await stream2.until(isResponse(102));
      expect(textOf(result2.result)).toBe(
        'User response: action=accept, content={"response":"via-g1"}',
      );
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'raw: a POST stream read partly on g1 is resumed on g2 with Last-Event-ID',
    async () => {
      const { g1, g2 } = scenario;
      await using session = await LegacySession.open(g1);
      const controller = new AbortController();
      const res = await session.via(g1).post(
        {
          jsonrpc: '2.0',
          id: 201,
          method: 'tools/call',
          params: { name: 'test_sampling', arguments: { prompt: 'resume' } },
        },
        controller.signal,
      );
      const stream = new SseReader(res);
      const priming = await stream.next();
      expect(priming?.data).toBe('');
      expect(priming?.id).toBeTruthy();
      // The client drops the connection before reading the sampling request.
      controller.abort();
      await stream.cancel();

      const resumed = await session.via(g2).openGetStream({ 'last-event-id': priming!.id! });
      const { message: sampling } = await resumed.until(isRequest('sampling/createMessage'));
      const answer = await session.via(g1).post({
        jsonrpc: '2.0',
        id: sampling.id,
        result: {
          role: 'assistant',
          model: 'e2e-model',
          content: { type: 'text', text: 'after resumption' },
        },
      });
      await answer.text();
      expect(answer.status).toBe(202);
      const { message: result } = await resumed.until(isResponse(201));
      expectValidMessage(LEGACY_VERSION, result, { method: 'tools/call' });
      expect(textOf(result.result)).toBe('LLM response: after resumption');
      await resumed.cancel();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'raw: a stream the server closed early (test_reconnection) resumes on the other gateway',
    async () => {
      const { g1, g2 } = scenario;
      await using session = await LegacySession.open(g2);
      const res = await session.via(g2).post({
        jsonrpc: '2.0',
        id: 301,
        method: 'tools/call',
        params: { name: 'test_reconnection', arguments: {}, _meta: { progressToken: 'p' } },
      });
      const stream = new SseReader(res);
      let lastId: string | undefined;
      for (let i = 0; i < 20; i++) {
        const event = await stream.next();
        if (event === undefined) break;
        if (event.id !== undefined) lastId = event.id;
      }
      expect(lastId).toBeTruthy();
      const resumed = await session.via(g1).openGetStream({ 'last-event-id': lastId! });
      const { message: result } = await resumed.until(isResponse(301));
      expect(textOf(result.result)).toMatch(/^Reconnection test completed successfully/);
      await resumed.cancel();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
