import { verifies, expectValidMessage } from '@mcp-cluster/test-support';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@mcp-cluster/protocol';
import { createEngine } from './engine.js';
import type { ComponentPack } from './components.js';
import {
  LegacyClient,
  errorOf,
  prompt,
  resource,
  resultOf,
  template,
  tool,
} from './test-harness.js';
import { ToolError } from './tool-error.js';

const pack: ComponentPack = {
  name: 'test',
  instructions: 'Use the tools.',
  components: [
    tool('simple', () => 'hello'),
    tool('blocks', () => [
      { type: 'text', text: 'a' },
      { type: 'image', data: 'AAAA', mimeType: 'image/png' },
    ]),
    tool('fails', () => {
      throw new ToolError('it broke');
    }),
    tool('crashes', () => {
      throw new Error('secret internal detail');
    }),
    tool('protocol', () => {
      throw new ProtocolError(-32602, 'bad thing', { why: 1 });
    }),
    tool('structured', () => ({ content: [], structuredContent: { n: 1 } }), {
      descriptor: {
        name: 'structured',
        description: 'structured',
        inputSchema: { type: 'object' },
        outputSchema: { type: 'object' },
      },
      validateOutput: (v) =>
        typeof (v as { n?: unknown }).n === 'number'
          ? { ok: true, value: v }
          : { ok: false, issues: ['n'] },
    }),
    tool('badOutput', () => ({ content: [], structuredContent: { n: 'x' } }), {
      validateOutput: () => ({ ok: false, issues: ['n must be a number'] }),
    }),
    tool('strict', () => 'ok', {
      validateInput: (a) =>
        typeof (a as { x?: unknown }).x === 'number'
          ? { ok: true, value: a }
          : { ok: false, issues: ['x: expected number'] },
    }),
    tool('logs', (_a, ctx) => {
      ctx.log('debug', 'd');
      ctx.log('info', 'i');
      ctx.log('error', 'e', 'lg');
      return 'logged';
    }),
    tool('progress', (_a, ctx) => {
      ctx.progress(0, 100, 'start');
      ctx.progress(50, 100);
      ctx.progress(50, 100); // not increasing: dropped
      ctx.progress(100, 100);
      return 'done';
    }),
    tool('sample', async (_a, ctx) => {
      const r = await ctx.sample({ messages: [], maxTokens: 5 });
      return `got ${JSON.stringify(r)}`;
    }),
    tool('roots', async (_a, ctx) => JSON.stringify(await ctx.listRoots())),
    resource('test://text', 'text body'),
    {
      kind: 'resource',
      descriptor: { uri: 'test://bin', name: 'bin', mimeType: 'image/png' },
      read: () => new Uint8Array([1, 2, 3]),
    },
    template(
      'test://t/{id}',
      /^test:\/\/t\/(?<id>[^/]+)$/,
      (uri, vars) => `id=${String(vars['id'])}`,
      {
        complete: { id: (v) => Array.from({ length: 150 }, (_, i) => `${v}${i}`) },
      },
    ),
    prompt('simple', () => 'prompt text'),
    prompt('args', (a) => `a1=${a['a1']}`, ['a1'], {
      complete: { a1: (v, c) => [`${v}-x`, JSON.stringify(c.arguments)] },
    }),
  ],
};

async function setup(version = '2025-11-25') {
  const engine = createEngine({ serverInfo: { name: 'srv', version: '1.2.3' }, packs: [pack] });
  const client = await LegacyClient.connect(engine, { sampling: {}, elicitation: {} }, version);
  return { engine, client };
}

describe('legacy lifecycle', () => {
  it(
    verifies(
      'R-LEGACY-INIT-NEGOTIATE',
      'initialize negotiates the version and declares capabilities',
    ),
    async () => {
      const engine = createEngine({ serverInfo: { name: 'srv', version: '1' }, packs: [pack] });
      const c = new LegacyClient(engine, engine.sessions.create());
      const res = await c.request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: { roots: {} },
        clientInfo: { name: 'x', version: '1' },
      });
      expectValidMessage('2025-06-18', res, { method: 'initialize' });
      expect(resultOf(res)).toEqual({
        protocolVersion: '2025-06-18',
        capabilities: {
          tools: { listChanged: true },
          resources: { subscribe: true, listChanged: true },
          prompts: { listChanged: true },
          completions: {},
          logging: {},
        },
        serverInfo: { name: 'srv', version: '1' },
        instructions: 'Use the tools.',
      });
      expect(c.session.state.protocolVersion).toBe('2025-06-18');
      expect(c.session.state.clientCapabilities).toEqual({ roots: {} });
      expect(c.session.state.initialized).toBe(false);
      await c.notify('notifications/initialized');
      expect(c.session.state.initialized).toBe(true);
      await engine.close();
    },
  );

  it(
    verifies(
      'R-LEGACY-INIT-UNKNOWN-VERSION',
      'answers an unknown version with the newest one and rejects a second initialize',
    ),
    async () => {
      const engine = createEngine({ serverInfo: { name: 'srv', version: '1' }, packs: [] });
      const c = new LegacyClient(engine, engine.sessions.create());
      const init = {
        protocolVersion: '1999-01-01',
        capabilities: {},
        clientInfo: { name: 'x', version: '1' },
      };
      expect(resultOf(await c.request('initialize', init))['protocolVersion']).toBe('2025-11-25');
      expect(errorOf(await c.request('initialize', init)).code).toBe(-32600);
      await engine.close();
    },
  );

  it('rejects requests before initialize (ping allowed)', async () => {
    const engine = createEngine({ serverInfo: { name: 'srv', version: '1' }, packs: [] });
    const c = new LegacyClient(engine, engine.sessions.create());
    expect(errorOf(await c.request('tools/list')).code).toBe(-32600);
    expect(resultOf(await c.request('ping'))).toEqual({});
    await engine.close();
  });

  it(verifies('R-PING-SETLEVEL-EMPTY', 'ping and logging/setLevel answer exactly {}'), async () => {
    const { engine, client } = await setup();
    expect(resultOf(await client.request('ping'))).toStrictEqual({});
    expect(resultOf(await client.request('logging/setLevel', { level: 'info' }))).toStrictEqual({});
    expect(client.session.state.logLevel).toBe('info');
    expect(errorOf(await client.request('logging/setLevel', { level: 'loud' })).code).toBe(-32602);
    await engine.close();
  });

  it('modern-only methods are not found on a legacy session', async () => {
    const { engine, client } = await setup();
    expect(errorOf(await client.request('server/discover')).code).toBe(-32601);
    expect(errorOf(await client.request('nope/nope')).code).toBe(-32601);
    await engine.close();
  });
});

describe('legacy tools', () => {
  it('lists tools in registration order, schema-valid', async () => {
    const { engine, client } = await setup();
    const res = await client.request('tools/list');
    expectValidMessage('2025-11-25', res, { method: 'tools/list' });
    const tools = resultOf(res)['tools'] as { name: string }[];
    expect(tools.map((t) => t.name).slice(0, 3)).toEqual(['simple', 'blocks', 'fails']);
    expect(resultOf(res)['nextCursor']).toBeUndefined();
    await engine.close();
  });

  it('normalizes returns, with missing arguments treated as {}', async () => {
    const { engine, client } = await setup();
    const r1 = await client.request('tools/call', { name: 'simple' });
    expectValidMessage('2025-11-25', r1, { method: 'tools/call' });
    expect(resultOf(r1)).toEqual({ content: [{ type: 'text', text: 'hello' }] });
    const r2 = resultOf(await client.request('tools/call', { name: 'blocks', arguments: {} }));
    expect((r2['content'] as unknown[]).length).toBe(2);
    await engine.close();
  });

  it('ToolError -> isError result; ProtocolError -> JSON-RPC error; crash -> -32603 without text', async () => {
    const { engine, client } = await setup();
    expect(resultOf(await client.request('tools/call', { name: 'fails' }))).toEqual({
      content: [{ type: 'text', text: 'it broke' }],
      isError: true,
    });
    expect(errorOf(await client.request('tools/call', { name: 'protocol' }))).toEqual({
      code: -32602,
      message: 'bad thing',
      data: { why: 1 },
    });
    const crash = errorOf(await client.request('tools/call', { name: 'crashes' }));
    expect(crash).toEqual({ code: -32603, message: 'Internal error' });
    await engine.close();
  });

  it('unknown tool -> -32602; invalid input -> isError result naming the problem', async () => {
    const { engine, client } = await setup();
    expect(errorOf(await client.request('tools/call', { name: 'missing' })).code).toBe(-32602);
    const r = resultOf(
      await client.request('tools/call', { name: 'strict', arguments: { x: 'a' } }),
    );
    expect(r['isError']).toBe(true);
    expect(JSON.stringify(r['content'])).toContain('x: expected number');
    expect(errorOf(await client.request('tools/call', { name: 'strict', arguments: 5 })).code).toBe(
      -32602,
    );
    await engine.close();
  });

  it('structuredContent is validated and mirrored as text', async () => {
    const { engine, client } = await setup();
    const r = resultOf(await client.request('tools/call', { name: 'structured' }));
    expect(r).toEqual({
      content: [{ type: 'text', text: '{"n":1}' }],
      structuredContent: { n: 1 },
    });
    expect(errorOf(await client.request('tools/call', { name: 'badOutput' })).code).toBe(-32603);
    await engine.close();
  });

  it(
    verifies(
      'R-LOG-LEGACY-GATING',
      'logging: everything without a level, then only at or above the session level',
    ),
    async () => {
      const { engine, client } = await setup();
      await client.request('tools/call', { name: 'logs' });
      const levels = () =>
        client.stream.filter((m) => 'method' in m && m.method === 'notifications/message');
      expect(levels().length).toBe(3);
      for (const m of levels()) expectValidMessage('2025-11-25', m);
      client.stream.length = 0;
      await client.request('logging/setLevel', { level: 'warning' });
      await client.request('tools/call', { name: 'logs' });
      expect(levels().map((m) => ('params' in m ? m.params : undefined))).toEqual([
        { level: 'error', data: 'e', logger: 'lg' },
      ]);
      await engine.close();
    },
  );

  it(
    verifies('R-PROGRESS-TOKEN', 'progress echoes the token exactly and only increases'),
    async () => {
      const { engine, client } = await setup();
      await client.request('tools/call', { name: 'progress', _meta: { progressToken: 7 } });
      const notes = client.stream.filter(
        (m) => 'method' in m && m.method === 'notifications/progress',
      );
      expect(notes.map((m) => ('params' in m ? m.params : undefined))).toEqual([
        { progressToken: 7, progress: 0, total: 100, message: 'start' },
        { progressToken: 7, progress: 50, total: 100 },
        { progressToken: 7, progress: 100, total: 100 },
      ]);
      for (const m of notes) expectValidMessage('2025-11-25', m);
      client.stream.length = 0;
      await client.request('tools/call', { name: 'progress' });
      expect(client.stream).toEqual([]);
      await engine.close();
    },
  );

  it('sampling goes out as a real request on the call stream and its answer comes back', async () => {
    const { engine, client } = await setup();
    client.onRequest = (method) =>
      method === 'sampling/createMessage' ? { model: 'm' } : undefined;
    const r = resultOf(await client.request('tools/call', { name: 'sample' }));
    expect(r['content']).toEqual([{ type: 'text', text: 'got {"model":"m"}' }]);
    const sent = client.stream[0];
    expect(sent).toMatchObject({ jsonrpc: '2.0', id: 's-1', method: 'sampling/createMessage' });
    await engine.close();
  });

  it('never sends a request for a capability the client did not declare', async () => {
    const { engine, client } = await setup();
    const e = errorOf(await client.request('tools/call', { name: 'roots' }));
    expect(e.code).toBe(-32021);
    expect(e.data).toEqual({ requiredCapabilities: { roots: {} } });
    expect(client.stream).toEqual([]);
    await engine.close();
  });
});

describe('legacy resources, prompts, completion', () => {
  it(
    verifies(
      'R-RESOURCE-NOT-FOUND-LEGACY',
      'reads text, blob and template resources; unknown uri -> -32002 with uri',
    ),
    async () => {
      const { engine, client } = await setup();
      const t = await client.request('resources/read', { uri: 'test://text' });
      expectValidMessage('2025-11-25', t, { method: 'resources/read' });
      expect(resultOf(t)).toEqual({
        contents: [{ uri: 'test://text', mimeType: 'text/plain', text: 'text body' }],
      });
      expect(resultOf(await client.request('resources/read', { uri: 'test://bin' }))).toEqual({
        contents: [{ uri: 'test://bin', mimeType: 'image/png', blob: 'AQID' }],
      });
      expect(resultOf(await client.request('resources/read', { uri: 'test://t/42' }))).toEqual({
        contents: [{ uri: 'test://t/42', mimeType: 'application/json', text: 'id=42' }],
      });
      expect(errorOf(await client.request('resources/read', { uri: 'test://none' }))).toEqual({
        code: -32002,
        message: 'Resource not found: test://none',
        data: { uri: 'test://none' },
      });
      const lists = await client.request('resources/templates/list');
      expectValidMessage('2025-11-25', lists, { method: 'resources/templates/list' });
      await engine.close();
    },
  );

  it('subscribe/unsubscribe answer {} and are recorded on the session', async () => {
    const { engine, client } = await setup();
    expect(
      resultOf(await client.request('resources/subscribe', { uri: 'test://text' })),
    ).toStrictEqual({});
    expect(client.session.state.subscriptions.has('test://text')).toBe(true);
    expect(
      resultOf(await client.request('resources/unsubscribe', { uri: 'test://text' })),
    ).toStrictEqual({});
    expect(client.session.state.subscriptions.size).toBe(0);
    await engine.close();
  });

  it('prompts: get, unknown -> -32602, missing argument -> -32602', async () => {
    const { engine, client } = await setup();
    const r = await client.request('prompts/get', { name: 'args', arguments: { a1: 'v' } });
    expectValidMessage('2025-11-25', r, { method: 'prompts/get' });
    expect(resultOf(r)).toEqual({
      description: 'args prompt',
      messages: [{ role: 'user', content: { type: 'text', text: 'a1=v' } }],
    });
    expect(errorOf(await client.request('prompts/get', { name: 'zzz' })).code).toBe(-32602);
    const bad = errorOf(await client.request('prompts/get', { name: 'args' }));
    expect(bad.code).toBe(-32602);
    expect(bad.message).toContain('a1 is required');
    await engine.close();
  });

  it(
    verifies(
      'R-COMPLETION-MAX-100',
      'completion: prompt and template refs, cap at 100, unknown ref -> -32602',
    ),
    async () => {
      const { engine, client } = await setup();
      const p = resultOf(
        await client.request('completion/complete', {
          ref: { type: 'ref/prompt', name: 'args' },
          argument: { name: 'a1', value: 'q' },
          context: { arguments: { other: 'o' } },
        }),
      );
      expect(p).toEqual({
        completion: { values: ['q-x', '{"other":"o"}'], total: 2, hasMore: false },
      });
      const t = await client.request('completion/complete', {
        ref: { type: 'ref/resource', uri: 'test://t/{id}' },
        argument: { name: 'id', value: 'v' },
      });
      expectValidMessage('2025-11-25', t, { method: 'completion/complete' });
      const c = resultOf(t)['completion'] as { values: string[]; total: number; hasMore: boolean };
      expect(c.values.length).toBe(100);
      expect(c.total).toBe(150);
      expect(c.hasMore).toBe(true);
      const none = resultOf(
        await client.request('completion/complete', {
          ref: { type: 'ref/prompt', name: 'simple' },
          argument: { name: 'x', value: '' },
        }),
      );
      expect(none).toEqual({ completion: { values: [], total: 0, hasMore: false } });
      expect(
        errorOf(
          await client.request('completion/complete', {
            ref: { type: 'ref/prompt', name: 'nope' },
            argument: { name: 'x', value: '' },
          }),
        ).code,
      ).toBe(-32602);
      await engine.close();
    },
  );
});
