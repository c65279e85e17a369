/**
 * The sampling service answering a tool's `ctx.sample` through the real engine, against
 * local stand-ins of each provider's API: what they receive, what the tool gets, limits,
 * breakers, and keys that never show.
 */
import { SamplingConfigSchema } from '@mcp-cluster/config';
import type { SamplingConfigInput } from '@mcp-cluster/config';
import { LATEST_MODERN_VERSION } from '@mcp-cluster/protocol';
import type { ClientCapabilities, JsonObject, JsonRpcResponse } from '@mcp-cluster/protocol';
import { closedPort, eventually, expectValidMessage } from '@mcp-cluster/test-support';
import { createEngine, legacyRequestContext, modernRequestContext } from '@mcp-cluster/server';
import type { Engine, Principal, Sampler, ToolSpec } from '@mcp-cluster/server';
import { afterEach, describe, expect, it } from 'vitest';
import { createSamplingService } from './service.js';
import type { SamplingLog } from './service.js';
import { anthropicReply, openAiReply, standIn } from './test-helpers.js';
import type { StandIn } from './test-helpers.js';

const OPENAI_KEY = 'sk-openai-test-0123456789abcdefSECRET';
const ANTHROPIC_KEY = 'sk-ant-test-9876543210zyxwvuSECRET';
const ENV = { OPENAI_KEY, ANTHROPIC_KEY };

const ALICE: Principal = { id: 'alice', kind: 'user', roles: [] };

/** A tool that samples with its arguments as params and returns the result as JSON text. */
const sampleTool: ToolSpec = {
  kind: 'tool',
  descriptor: { name: 'ask', inputSchema: { type: 'object' } },
  validateInput: (args) => ({ ok: true, value: args }),
  taskSupport: 'forbidden',
  run: async (args, ctx) => JSON.stringify(await ctx.sample(args as JsonObject)),
};
/** The same, run as a task when the client asks for one. */
const sampleTask: ToolSpec = {
  ...sampleTool,
  descriptor: { name: 'ask_task', inputSchema: { type: 'object' } },
  taskSupport: 'optional',
};
const TASKS_EXT = { extensions: { 'io.modelcontextprotocol/tasks': {} } };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function provider(reply: Parameters<typeof standIn>[0]): Promise<StandIn> {
  const s = await standIn(reply);
  closers.push(async () => {
    await s[Symbol.asyncDispose]();
  });
  return s;
}

interface Lines {
  readonly lines: string[];
  readonly log: SamplingLog;
}

function recordingLog(): Lines {
  const lines: string[] = [];
  const write = (msg: string, fields?: Record<string, unknown>) =>
    lines.push(JSON.stringify({ msg, ...fields }));
  return { lines, log: { warn: write, info: write } };
}

function engineWith(config: SamplingConfigInput, log?: SamplingLog): Engine {
  const sampler: Sampler = createSamplingService(SamplingConfigSchema.parse(config), {
    env: ENV,
    ...(log !== undefined && { log }),
  });
  const engine = createEngine({
    serverInfo: { name: 'test', version: '0' },
    packs: [{ name: 'ask', components: [sampleTool, sampleTask] }],
    sampler,
  });
  closers.push(() => engine.close());
  return engine;
}

let seq = 0;
/** One modern tools/call from a client declaring `caps` (no sampling by default). */
function call(
  engine: Engine,
  args: JsonObject,
  caps: ClientCapabilities = {},
  principal: Principal = ALICE,
): Promise<JsonRpcResponse> {
  return rpc(engine, 'tools/call', { name: 'ask', arguments: args }, caps, principal);
}

function rpc(
  engine: Engine,
  method: string,
  params: JsonObject,
  caps: ClientCapabilities = {},
  principal: Principal = ALICE,
): Promise<JsonRpcResponse> {
  seq += 1;
  const ctx = modernRequestContext(
    { protocolVersion: LATEST_MODERN_VERSION, clientCapabilities: caps },
    seq,
    new AbortController().signal,
    { notify: () => undefined, request: () => Promise.reject(new Error('stateless')) },
    { principal },
  );
  const meta = {
    'io.modelcontextprotocol/protocolVersion': LATEST_MODERN_VERSION,
    'io.modelcontextprotocol/clientCapabilities': caps,
  };
  return engine.handleRequest(
    { jsonrpc: '2.0', id: seq, method, params: { ...params, _meta: meta } },
    ctx,
  );
}

/** The CreateMessageResult the tool received (it returns it as JSON text). */
function sampled(res: JsonRpcResponse): JsonObject {
  if (!('result' in res)) throw new Error(`expected a result, got ${JSON.stringify(res)}`);
  const content = res.result['content'] as { text: string }[];
  return JSON.parse(content[0]?.text ?? 'null') as JsonObject;
}

const ASK = {
  messages: [{ role: 'user', content: { type: 'text', text: 'What is 2+2?' } }],
  systemPrompt: 'Answer briefly.',
  maxTokens: 50,
  temperature: 0.2,
  stopSequences: ['\n\n'],
};

function openAiConfig(url: string, extra: Partial<SamplingConfigInput> = {}): SamplingConfigInput {
  return {
    providers: [{ name: 'oai', type: 'openai', baseUrl: `${url}/v1`, apiKeyEnv: 'OPENAI_KEY' }],
    models: [{ name: 'gpt-test', provider: 'oai' }],
    ...extra,
  };
}

describe('sampling service behind ctx.sample', () => {
  it('OpenAI-compatible: answers a client without sampling, request mapped as documented', async () => {
    const oai = await provider(() => openAiReply('4'));
    const engine = engineWith(openAiConfig(oai.url));
    const result = sampled(await call(engine, ASK));
    expect(result).toEqual({
      role: 'assistant',
      content: { type: 'text', text: '4' },
      model: 'gpt-test',
      stopReason: 'endTurn',
    });
    // What the tool got is a CreateMessageResult by the protocol's own schema.
    expectValidMessage(
      '2025-11-25',
      { jsonrpc: '2.0', id: 1, result },
      { method: 'sampling/createMessage' },
    );
    expect(oai.received).toHaveLength(1);
    const r = oai.received[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/v1/chat/completions');
    expect(r.headers['authorization']).toBe(`Bearer ${OPENAI_KEY}`);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body).toEqual({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'What is 2+2?' },
      ],
      max_tokens: 50,
      temperature: 0.2,
      stop: ['\n\n'],
    });
  });

  it('Anthropic: answers a client without sampling, request mapped as documented', async () => {
    const ant = await provider(() => anthropicReply('Four.', 'claude-test', 'stop_sequence'));
    const engine = engineWith({
      providers: [{ name: 'ant', type: 'anthropic', baseUrl: ant.url, apiKeyEnv: 'ANTHROPIC_KEY' }],
      models: [{ name: 'claude-test', provider: 'ant' }],
    });
    const result = sampled(
      await call(engine, {
        ...ASK,
        messages: [
          ...ASK.messages,
          { role: 'assistant', content: { type: 'text', text: 'Think.' } },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'And this?' },
              { type: 'image', data: 'aGk=', mimeType: 'image/png' },
            ],
          },
        ],
      }),
    );
    expect(result).toEqual({
      role: 'assistant',
      content: { type: 'text', text: 'Four.' },
      model: 'claude-test',
      stopReason: 'stopSequence',
    });
    const r = ant.received[0]!;
    expect(r.url).toBe('/v1/messages');
    expect(r.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(r.headers['anthropic-version']).toBe('2023-06-01');
    expect(r.headers['authorization']).toBeUndefined();
    expect(r.body).toEqual({
      model: 'claude-test',
      max_tokens: 50,
      system: 'Answer briefly.',
      temperature: 0.2,
      stop_sequences: ['\n\n'],
      messages: [
        { role: 'user', content: 'What is 2+2?' },
        { role: 'assistant', content: 'Think.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'And this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'aGk=' } },
          ],
        },
      ],
    });
  });

  it('model preferences choose the model and so the provider; max_tokens capped per model', async () => {
    const oai = await provider(() => openAiReply('from openai', 'gpt-small'));
    const ant = await provider((req) =>
      anthropicReply('from anthropic', String(req.body['model'])),
    );
    const engine = engineWith({
      providers: [
        { name: 'oai', type: 'openai', baseUrl: oai.url, apiKeyEnv: 'OPENAI_KEY' },
        { name: 'ant', type: 'anthropic', baseUrl: ant.url, apiKeyEnv: 'ANTHROPIC_KEY' },
      ],
      models: [
        { name: 'gpt-small', provider: 'oai', cost: 0.1, speed: 0.9, intelligence: 0.3 },
        {
          name: 'claude-big',
          provider: 'ant',
          aliases: ['opus'],
          cost: 0.9,
          speed: 0.2,
          intelligence: 0.95,
          maxOutputTokens: 20,
        },
      ],
      defaultModel: 'gpt-small',
    });
    const ask = (modelPreferences?: JsonObject) =>
      call(engine, { ...ASK, ...(modelPreferences && { modelPreferences }) }).then(sampled);

    // A hint matched by substring (case-insensitive), first matching hint wins.
    expect((await ask({ hints: [{ name: 'nothing' }, { name: 'CLAUDE' }] }))['model']).toBe(
      'claude-big',
    );
    // An alias is a name too.
    expect((await ask({ hints: [{ name: 'opus' }] }))['model']).toBe('claude-big');
    // No hint matches: the priorities weigh the ranks.
    expect((await ask({ intelligencePriority: 0.9, costPriority: 0.1 }))['model']).toBe(
      'claude-big',
    );
    expect((await ask({ costPriority: 0.8, intelligencePriority: 0.2 }))['model']).toBe(
      'gpt-small',
    );
    // Neither: the default model.
    expect((await ask())['model']).toBe('gpt-small');
    expect(ant.received.map((r) => r.body['model'])).toEqual([
      'claude-big',
      'claude-big',
      'claude-big',
    ]);
    expect(ant.received.every((r) => r.body['max_tokens'] === 20)).toBe(true);
    expect(oai.received.map((r) => r.body['max_tokens'])).toEqual([50, 50]);
  });

  it('a token limit per principal refuses before any provider call, with a precise error', async () => {
    const oai = await provider(() => openAiReply('ok'));
    const engine = engineWith(
      openAiConfig(oai.url, { limits: { windowMs: 60_000, tokensPerPrincipal: 100 } }),
    );
    const small = { ...ASK, maxTokens: 40 };
    // Reserved: ~10 input + 40; settled to the reported 18 (11 + 7).
    sampled(await call(engine, small));
    sampled(await call(engine, small));
    sampled(await call(engine, small));
    // 54 used; 54 + ~50 > 100.
    const refused = await call(engine, small);
    expect(refused).toMatchObject({
      error: {
        code: -32012,
        message: expect.stringMatching(
          /^sampling token limit \(100 per 60000 ms; 54 used, this request may take \d+\) reached for principal alice$/,
        ) as unknown,
      },
    });
    expect(oai.received).toHaveLength(3);
    // Another principal has its own budget.
    sampled(await call(engine, small, {}, { id: 'bob', kind: 'user', roles: [] }));
    expect(oai.received).toHaveLength(4);
  });

  it('a cost limit per principal refuses at the models prices', async () => {
    const oai = await provider(() => openAiReply('ok'));
    const engine = engineWith({
      ...openAiConfig(oai.url),
      models: [
        {
          name: 'gpt-test',
          provider: 'oai',
          inputPricePerMTok: 1_000,
          outputPricePerMTok: 10_000,
        },
      ],
      limits: { costPerPrincipal: 0.2 },
    });
    // Worst case 10 * 0.001 + 10 * 0.01 = 0.11; settled to 11 * 0.001 + 7 * 0.01 = 0.081.
    sampled(await call(engine, { ...ASK, maxTokens: 10 }));
    sampled(await call(engine, { ...ASK, maxTokens: 10 }));
    const refused = await call(engine, { ...ASK, maxTokens: 10 });
    expect(refused).toMatchObject({
      error: {
        code: -32012,
        message: expect.stringContaining(
          'sampling cost limit (0.2 USD per 3600000 ms; 0.162000 used',
        ) as unknown,
      },
    });
    expect(oai.received).toHaveLength(2);
  });

  it('provider 500s open its breaker: the tool gets a clear error and the provider no more calls', async () => {
    const oai = await provider(() => ({ status: 500, body: { error: { message: 'boom' } } }));
    const { lines, log } = recordingLog();
    const engine = engineWith(
      openAiConfig(oai.url, { breaker: { minRequests: 2, errorRate: 0.5, resetMs: 60_000 } }),
      log,
    );
    for (let i = 0; i < 2; i++) {
      expect(await call(engine, ASK)).toMatchObject({
        error: { code: -32016, message: 'sampling provider oai is unavailable (HTTP 500)' },
      });
    }
    expect(oai.received).toHaveLength(2);
    expect(await call(engine, ASK)).toMatchObject({
      error: {
        code: -32016,
        message: 'sampling provider oai is unavailable',
        data: { retryAfterMs: 1000 },
      },
    });
    expect(oai.received).toHaveLength(2);
    expect(lines.some((l) => l.includes('sampling provider breaker opened'))).toBe(true);
  });

  it('a provider that refuses connections opens its breaker too', async () => {
    const port = await closedPort();
    const engine = engineWith(
      openAiConfig(`http://127.0.0.1:${port}`, { breaker: { minRequests: 1, errorRate: 0.5 } }),
    );
    expect(await call(engine, ASK)).toMatchObject({
      error: {
        code: -32016,
        message: 'sampling provider oai is unavailable (connection failed (ECONNREFUSED))',
      },
    });
    expect(await call(engine, ASK)).toMatchObject({
      error: { code: -32016, message: 'sampling provider oai is unavailable' },
    });
  });

  it('a 4xx refusal does not open the breaker', async () => {
    const oai = await provider(() => ({ status: 400, body: { error: { message: 'bad' } } }));
    const engine = engineWith(openAiConfig(oai.url, { breaker: { minRequests: 1 } }));
    for (let i = 0; i < 3; i++) {
      expect(await call(engine, ASK)).toMatchObject({
        error: { code: -32603, message: 'sampling provider oai: refused the request (HTTP 400)' },
      });
    }
    expect(oai.received).toHaveLength(3);
  });

  it('the key never shows in errors or log lines, even when the provider echoes it', async () => {
    // An auth error that quotes the key, as some providers do.
    const oai = await provider(() => ({
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${OPENAI_KEY}` } },
    }));
    const ant = await provider(() => ({ status: 503, body: { error: ANTHROPIC_KEY } }));
    const { lines, log } = recordingLog();
    const engine = engineWith(
      {
        providers: [
          { name: 'oai', type: 'openai', baseUrl: oai.url, apiKeyEnv: 'OPENAI_KEY' },
          { name: 'ant', type: 'anthropic', baseUrl: ant.url, apiKeyEnv: 'ANTHROPIC_KEY' },
        ],
        models: [
          { name: 'gpt-test', provider: 'oai' },
          { name: 'claude-test', provider: 'ant' },
        ],
        breaker: { minRequests: 1 },
      },
      log,
    );
    const answers = [
      await call(engine, ASK),
      await call(engine, { ...ASK, modelPreferences: { hints: [{ name: 'claude' }] } }),
      await call(engine, { ...ASK, modelPreferences: { hints: [{ name: 'claude' }] } }),
    ];
    expect(answers.map((a) => ('error' in a ? a.error.code : 0))).toEqual([-32603, -32016, -32016]);
    expect(oai.received[0]?.headers['authorization']).toBe(`Bearer ${OPENAI_KEY}`);
    expect(lines.length).toBeGreaterThan(0);
    const seen = JSON.stringify(answers) + lines.join('\n');
    for (const secret of [OPENAI_KEY, ANTHROPIC_KEY, 'SECRET']) {
      expect(seen).not.toContain(secret);
    }
  });

  it('refuses content the provider cannot take, and tool use, with -32602 and no call', async () => {
    const ant = await provider(() => anthropicReply('x'));
    const engine = engineWith({
      providers: [{ name: 'ant', type: 'anthropic', baseUrl: ant.url, apiKeyEnv: 'ANTHROPIC_KEY' }],
      models: [{ name: 'claude-test', provider: 'ant' }],
    });
    const audio = {
      ...ASK,
      messages: [{ role: 'user', content: { type: 'audio', data: 'AAA=', mimeType: 'audio/wav' } }],
    };
    expect(await call(engine, audio)).toMatchObject({
      error: {
        code: -32602,
        message: 'sampling/createMessage: provider ant (anthropic) cannot take audio content',
      },
    });
    expect(await call(engine, { ...ASK, tools: [] })).toMatchObject({
      error: { code: -32602, message: expect.stringContaining('tool use') as unknown },
    });
    expect(await call(engine, { ...ASK, maxTokens: 0 })).toMatchObject({
      error: { code: -32602, message: expect.stringContaining('maxTokens') as unknown },
    });
    expect(ant.received).toHaveLength(0);
  });

  it('answers ctx.sample inside a task too (the task has no client to ask)', async () => {
    const oai = await provider(() => openAiReply('from a task'));
    const engine = engineWith(openAiConfig(oai.url));
    const created = await rpc(
      engine,
      'tools/call',
      { name: 'ask_task', arguments: ASK },
      TASKS_EXT,
    );
    const taskId = ('result' in created ? created.result['taskId'] : undefined) as string;
    expect(typeof taskId).toBe('string');
    const done = await eventually('task completed', async () => {
      const r = await rpc(engine, 'tasks/get', { taskId }, TASKS_EXT);
      return 'result' in r && r.result['status'] === 'completed' ? r.result : undefined;
    });
    const content = (done['result'] as { content: { text: string }[] }).content;
    expect(JSON.parse(content[0]?.text ?? 'null')).toMatchObject({
      content: { type: 'text', text: 'from a task' },
    });
    expect(oai.received).toHaveLength(1);
  });

  it('client-first leaves sampling to clients that can; server mode takes it from them', async () => {
    const oai = await provider(() => openAiReply('from the provider'));
    const asked: string[] = [];
    const legacyCall = async (engine: Engine): Promise<JsonRpcResponse> => {
      const session = engine.sessions.create();
      const noop = { notify: () => undefined, request: () => Promise.reject(new Error('no')) };
      const signal = new AbortController().signal;
      await engine.handleRequest(
        {
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: { sampling: {} },
            clientInfo: { name: 't', version: '1' },
          },
        },
        legacyRequestContext(session, 0, signal, noop),
      );
      await engine.handleNotification(
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        legacyRequestContext(session, 0, signal, noop),
      );
      const client = {
        notify: () => undefined,
        request: (method: string) => {
          asked.push(method);
          return Promise.resolve({
            role: 'assistant',
            content: { type: 'text', text: 'from the client' },
            model: 'client-model',
          });
        },
      };
      return engine.handleRequest(
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ask', arguments: ASK } },
        legacyRequestContext(session, 1, signal, client),
      );
    };
    const clientFirst = engineWith(openAiConfig(oai.url));
    expect(sampled(await legacyCall(clientFirst))['model']).toBe('client-model');
    expect(asked).toEqual(['sampling/createMessage']);
    expect(oai.received).toHaveLength(0);

    const server = engineWith(openAiConfig(oai.url, { mode: 'server' }));
    expect(sampled(await legacyCall(server))['model']).toBe('gpt-test');
    expect(asked).toHaveLength(1);
    expect(oai.received).toHaveLength(1);
  });
});
