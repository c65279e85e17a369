import { verifies, expectValidMessage } from '@mcp-cluster/test-support';
import { describe, expect, it } from 'vitest';
import type { InputRequest, JsonObject } from '@mcp-cluster/protocol';
import type { ComponentPack } from './components.js';
import { createEngine } from './engine.js';
import { StateSigner } from './mrtr.js';
import { errorOf, modern, prompt, resultOf, tool } from './test-harness.js';

const V = '2026-07-28';
const nameReq: InputRequest = {
  method: 'elicitation/create',
  params: {
    message: 'What is your name?',
    requestedSchema: {
      type: 'object',
      properties: { name: { type: 'string' } },
      required: ['name'],
    },
  },
};

const pack: ComponentPack = {
  name: 'mrtr',
  components: [
    tool('elicit', async (_a, ctx) => {
      const { user_name } = await ctx.input({ user_name: nameReq });
      return `Hello, ${String((user_name['content'] as JsonObject)['name'])}!`;
    }),
    tool('multi_round', async (_a, ctx) => {
      const a = await ctx.input({ step1: nameReq });
      const b = await ctx.input({
        step2: {
          method: 'elicitation/create',
          params: { message: 'color?', requestedSchema: { type: 'object', properties: {} } },
        },
      });
      return `${String((a.step1['content'] as JsonObject)['name'])} likes ${String((b.step2['content'] as JsonObject)['color'])}`;
    }),
    tool('swallow', async (_a, ctx) => {
      try {
        await ctx.sample({ messages: [], maxTokens: 1 });
      } catch {
        return 'swallowed';
      }
      return 'sampled';
    }),
    tool('caps', async (_a, ctx) => {
      const requests: Record<string, InputRequest> = {};
      if (ctx.clientCapabilities.sampling)
        requests['sample_input'] = {
          method: 'sampling/createMessage',
          params: { messages: [], maxTokens: 50 },
        };
      if (ctx.clientCapabilities.elicitation) requests['elicit_input'] = nameReq;
      const got = await ctx.input(requests);
      return `received ${Object.keys(got).join(',')}`;
    }),
    tool('roots_anyway', async (_a, ctx) => JSON.stringify(await ctx.listRoots())),
    prompt('ctx_prompt', async (_a, ctx) => {
      const { user_context } = await ctx.input({ user_context: nameReq });
      return `Prompt with context: ${String((user_context['content'] as JsonObject)['context'])}`;
    }),
    {
      kind: 'resource',
      descriptor: { uri: 'test://ask', name: 'ask' },
      read: async (uri, ctx) => JSON.stringify(await ctx.listRoots('r')),
    },
  ],
};

const engineOf = (extra: object = {}) =>
  createEngine({ serverInfo: { name: 's', version: '1' }, packs: [pack], ...extra });

describe('MRTR', () => {
  it(
    verifies(
      'R-MRTR-INPUT-REQUIRED',
      'single round: input_required with a signed state, then complete',
    ),
    async () => {
      const engine = engineOf();
      const r1 = await modern(engine, 'tools/call', { name: 'elicit', arguments: {} });
      expectValidMessage(V, r1.response, { method: 'tools/call' });
      const ir = resultOf(r1.response);
      expect(ir['resultType']).toBe('input_required');
      expect(ir['inputRequests']).toEqual({ user_name: nameReq });
      expect(typeof ir['requestState']).toBe('string');
      const r2 = await modern(engine, 'tools/call', {
        name: 'elicit',
        inputResponses: {
          user_name: { action: 'accept', content: { name: 'Alice' } },
          extra_key: { x: 1 },
        },
        requestState: ir['requestState'],
      });
      expect(resultOf(r2.response)).toEqual({
        content: [{ type: 'text', text: 'Hello, Alice!' }],
        resultType: 'complete',
      });
      await engine.close();
    },
  );

  it('works without echoing the state; wrong keys re-request', async () => {
    const engine = engineOf();
    const ok = await modern(engine, 'tools/call', {
      name: 'elicit',
      inputResponses: { user_name: { action: 'accept', content: { name: 'Bob' } } },
    });
    expect(resultOf(ok.response)['resultType']).toBe('complete');
    const wrong = await modern(engine, 'tools/call', {
      name: 'elicit',
      inputResponses: { wrong_key: { action: 'accept' } },
    });
    expect(resultOf(wrong.response)['resultType']).toBe('input_required');
    await engine.close();
  });

  it('a non-object answer never completes; inputResponses null -> -32602', async () => {
    const engine = engineOf({ validateParams: () => undefined });
    const bad = await modern(engine, 'tools/call', {
      name: 'elicit',
      inputResponses: { user_name: 12345 },
    });
    expect(resultOf(bad.response)['resultType']).toBe('input_required');
    const nul = await modern(engine, 'tools/call', { name: 'elicit', inputResponses: null });
    expect(errorOf(nul.response).code).toBe(-32602);
    await engine.close();
  });

  it(
    verifies('R-MRTR-MULTI-ROUND', 'multi-round carries earlier answers in a new, different state'),
    async () => {
      const engine = engineOf();
      const r1 = resultOf((await modern(engine, 'tools/call', { name: 'multi_round' })).response);
      expect(Object.keys(r1['inputRequests'] as object)).toEqual(['step1']);
      const r2 = resultOf(
        (
          await modern(engine, 'tools/call', {
            name: 'multi_round',
            inputResponses: { step1: { action: 'accept', content: { name: 'Alice' } } },
            requestState: r1['requestState'],
          })
        ).response,
      );
      expect(r2['resultType']).toBe('input_required');
      expect(Object.keys(r2['inputRequests'] as object)).toEqual(['step2']);
      expect(r2['requestState']).not.toBe(r1['requestState']);
      const r3 = resultOf(
        (
          await modern(engine, 'tools/call', {
            name: 'multi_round',
            inputResponses: { step2: { action: 'accept', content: { color: 'blue' } } },
            requestState: r2['requestState'],
          })
        ).response,
      );
      expect(r3['content']).toEqual([{ type: 'text', text: 'Alice likes blue' }]);
      await engine.close();
    },
  );

  it(
    verifies(
      'R-MRTR-STATE-INTEGRITY',
      'a tampered, foreign-bound or expired state is rejected with -32602',
    ),
    async () => {
      const engine = engineOf();
      const r1 = resultOf((await modern(engine, 'tools/call', { name: 'multi_round' })).response);
      const answers = { step1: { action: 'accept', content: { name: 'A' } } };
      const tampered = await modern(engine, 'tools/call', {
        name: 'multi_round',
        inputResponses: answers,
        requestState: `${String(r1['requestState'])}-TAMPERED`,
      });
      expect(errorOf(tampered.response)).toEqual({
        code: -32602,
        message: 'requestState integrity check failed',
      });
      const foreign = await modern(engine, 'tools/call', {
        name: 'elicit',
        inputResponses: { user_name: { action: 'accept', content: { name: 'A' } } },
        requestState: r1['requestState'],
      });
      expect(errorOf(foreign.response).code).toBe(-32602);
      let now = 1_000;
      const signer = new StateSigner([{ id: 'k', secret: 's' }], 100, () => now);
      const binding = { method: 'tools/call', target: 't', principal: 'p' };
      const token = signer.sign(binding, { a: { x: 1 } });
      expect(signer.verify(token, binding)).toEqual({ a: { x: 1 } });
      now = 2_000;
      expect(() => signer.verify(token, binding)).toThrow('requestState integrity check failed');
      await engine.close();
    },
  );

  it('key rotation: old keys verify, the first key signs', () => {
    const binding = { method: 'm', target: 't', principal: 'p' };
    const old = new StateSigner([{ id: 'old', secret: 'one' }]);
    const rotated = new StateSigner([
      { id: 'new', secret: 'two' },
      { id: 'old', secret: 'one' },
    ]);
    expect(rotated.verify(old.sign(binding, {}), binding)).toEqual({});
    expect(() => old.verify(rotated.sign(binding, {}), binding)).toThrow();
    expect(rotated.sign(binding, {}).startsWith('v1.new.')).toBe(true);
  });

  it('a handler that swallows the signal still yields input_required', async () => {
    const engine = engineOf();
    const r = resultOf((await modern(engine, 'tools/call', { name: 'swallow' })).response);
    expect(r['resultType']).toBe('input_required');
    expect(r['inputRequests']).toEqual({
      sampling: { method: 'sampling/createMessage', params: { messages: [], maxTokens: 1 } },
    });
    await engine.close();
  });

  it('asks only for declared capabilities; an undeclared one -> -32021 with requiredCapabilities', async () => {
    const engine = engineOf();
    const r = resultOf(
      (await modern(engine, 'tools/call', { name: 'caps' }, { caps: { sampling: {} } })).response,
    );
    expect(Object.keys(r['inputRequests'] as object)).toEqual(['sample_input']);
    const denied = await modern(
      engine,
      'tools/call',
      { name: 'roots_anyway' },
      { caps: { sampling: {} } },
    );
    expectValidMessage(V, denied.response);
    expect(errorOf(denied.response)).toMatchObject({
      code: -32021,
      data: { requiredCapabilities: { roots: {} } },
    });
    await engine.close();
  });

  it('sampling with tools needs sampling.tools', async () => {
    const engine = createEngine({
      serverInfo: { name: 's', version: '1' },
      packs: [
        {
          name: 't',
          components: [
            tool('tooly', async (_a, ctx) =>
              JSON.stringify(await ctx.sample({ messages: [], maxTokens: 1, tools: [] })),
            ),
          ],
        },
      ],
    });
    const denied = await modern(
      engine,
      'tools/call',
      { name: 'tooly' },
      { caps: { sampling: {} } },
    );
    expect(errorOf(denied.response).data).toEqual({
      requiredCapabilities: { sampling: { tools: {} } },
    });
    const ok = await modern(
      engine,
      'tools/call',
      { name: 'tooly' },
      { caps: { sampling: { tools: {} } } },
    );
    expect(resultOf(ok.response)['resultType']).toBe('input_required');
    await engine.close();
  });

  it('prompts/get and resources/read use MRTR too; lists never do', async () => {
    const engine = engineOf();
    const p1 = resultOf((await modern(engine, 'prompts/get', { name: 'ctx_prompt' })).response);
    expect(p1['resultType']).toBe('input_required');
    const p2 = resultOf(
      (
        await modern(engine, 'prompts/get', {
          name: 'ctx_prompt',
          inputResponses: {
            user_context: { action: 'accept', content: { context: 'test context' } },
          },
          requestState: p1['requestState'],
        })
      ).response,
    );
    expect(p2).toMatchObject({
      resultType: 'complete',
      messages: [
        { role: 'user', content: { type: 'text', text: 'Prompt with context: test context' } },
      ],
    });
    const read = resultOf((await modern(engine, 'resources/read', { uri: 'test://ask' })).response);
    expect(read['inputRequests']).toEqual({ r: { method: 'roots/list', params: {} } });
    for (const m of ['tools/list', 'prompts/list']) {
      expect(resultOf((await modern(engine, m)).response)['resultType']).toBe('complete');
    }
    await engine.close();
  });

  it('a state signed by one replica verifies on another sharing the key', async () => {
    const keys = [{ id: 'k1', secret: 'shared-secret' }];
    const a = engineOf({ stateKeys: keys });
    const b = engineOf({ stateKeys: keys });
    const r1 = resultOf((await modern(a, 'tools/call', { name: 'multi_round' })).response);
    const r2 = resultOf(
      (
        await modern(b, 'tools/call', {
          name: 'multi_round',
          inputResponses: { step1: { action: 'accept', content: { name: 'Z' } } },
          requestState: r1['requestState'],
        })
      ).response,
    );
    expect(Object.keys(r2['inputRequests'] as object)).toEqual(['step2']);
    await a.close();
    await b.close();
  });
});
