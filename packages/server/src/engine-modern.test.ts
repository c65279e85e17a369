import { verifies, expectValidMessage } from '@mcp-cluster/test-support';
import { describe, expect, it } from 'vitest';
import type { ComponentPack } from './components.js';
import { createEngine } from './engine.js';
import { MODERN_CAPS, errorOf, modern, prompt, resource, resultOf, tool } from './test-harness.js';

const V = '2026-07-28';

const pack: ComponentPack = {
  name: 'modern',
  capabilities: { extensions: { 'io.example/thing': { a: 1 } } },
  methods: [
    { method: 'things/list', cacheable: true, run: () => ({ things: [1] }) },
    { method: 'things/poke', run: () => ({ poked: true }) },
  ],
  components: [
    tool('simple', () => 'hi'),
    tool('logs', (_a, ctx) => {
      ctx.log('debug', 'd');
      ctx.log('warning', 'w');
      return 'ok';
    }),
    tool('progress', (_a, ctx) => {
      ctx.progress(1);
      ctx.progress(2, 2);
      return 'ok';
    }),
    tool('structured', () => ({ content: [], structuredContent: [1, 2] })),
    resource('test://r', 'body'),
    prompt('p', () => 'text'),
  ],
};

const engineOf = (opts: { tasks?: false } = {}) =>
  createEngine({ serverInfo: { name: 'srv', version: '9' }, packs: [pack], ...opts });

describe('modern envelope', () => {
  it(
    verifies(
      'R-MODERN-DISCOVER',
      'server/discover: versions, capabilities without logging, serverInfo in _meta',
    ),
    async () => {
      const engine = engineOf();
      const { response } = await modern(engine, 'server/discover');
      expectValidMessage(V, response, { method: 'server/discover' });
      const r = resultOf(response);
      expect(r['supportedVersions']).toEqual([V]);
      expect(r['resultType']).toBe('complete');
      expect(r['cacheScope']).toBe('public');
      expect(Number.isInteger(r['ttlMs'])).toBe(true);
      expect(r['_meta']).toEqual({
        'io.modelcontextprotocol/serverInfo': { name: 'srv', version: '9' },
      });
      const caps = r['capabilities'] as Record<string, unknown>;
      expect(caps['logging']).toBeUndefined();
      expect(caps['tasks']).toBeUndefined();
      expect(caps['extensions']).toEqual({
        'io.example/thing': { a: 1 },
        'io.modelcontextprotocol/tasks': {},
      });
      await engine.close();
    },
  );

  it('without a task host the tasks extension is not declared', async () => {
    const engine = engineOf({ tasks: false });
    const caps = resultOf((await modern(engine, 'server/discover')).response)['capabilities'];
    expect(caps).toMatchObject({ extensions: { 'io.example/thing': { a: 1 } } });
    expect((caps as { extensions: object }).extensions).not.toHaveProperty(
      'io.modelcontextprotocol/tasks',
    );
    await engine.close();
  });

  it.each([
    ['tools/list', 'public'],
    ['prompts/list', 'public'],
    ['resources/list', 'public'],
    ['resources/templates/list', 'public'],
  ])(
    verifies('R-MODERN-CACHE-HINTS', '%s carries resultType, ttlMs and cacheScope'),
    async (method, scope) => {
      const engine = engineOf();
      const { response } = await modern(engine, method);
      expectValidMessage(V, response, { method });
      expect(resultOf(response)).toMatchObject({ resultType: 'complete', cacheScope: scope });
      expect(Number.isInteger(resultOf(response)['ttlMs'])).toBe(true);
      await engine.close();
    },
  );

  it(
    verifies(
      'R-RESOURCE-NOT-FOUND-MODERN',
      'resources/read is private-cached; unknown uri -> -32602 with data.uri',
    ),
    async () => {
      const engine = engineOf();
      const { response } = await modern(engine, 'resources/read', { uri: 'test://r' });
      expectValidMessage(V, response, { method: 'resources/read' });
      expect(resultOf(response)).toMatchObject({
        resultType: 'complete',
        cacheScope: 'private',
        ttlMs: 0,
      });
      const miss = await modern(engine, 'resources/read', { uri: 'test://missing' }, { id: 'x' });
      expect(miss.response.id).toBe('x');
      expect(errorOf(miss.response)).toEqual({
        code: -32602,
        message: 'Resource not found: test://missing',
        data: { uri: 'test://missing' },
      });
      await engine.close();
    },
  );

  it(
    verifies(
      'R-MODERN-RESULT-TYPE',
      'tools/call, prompts/get, completion/complete carry resultType complete',
    ),
    async () => {
      const engine = engineOf();
      for (const [method, params] of [
        ['tools/call', { name: 'simple' }],
        ['prompts/get', { name: 'p' }],
        [
          'completion/complete',
          { ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'a', value: '' } },
        ],
      ] as const) {
        const { response } = await modern(engine, method, { ...params });
        expectValidMessage(V, response, { method });
        expect(resultOf(response)['resultType']).toBe('complete');
      }
      await engine.close();
    },
  );

  it('structuredContent may be any JSON in 2026-07-28 and is mirrored as text', async () => {
    const engine = engineOf();
    const { response } = await modern(engine, 'tools/call', { name: 'structured' });
    expectValidMessage(V, response, { method: 'tools/call' });
    expect(resultOf(response)).toEqual({
      content: [{ type: 'text', text: '[1,2]' }],
      structuredContent: [1, 2],
      resultType: 'complete',
    });
    await engine.close();
  });

  it.each([
    'initialize',
    'ping',
    'logging/setLevel',
    'resources/subscribe',
    'resources/unsubscribe',
    'tasks/result',
    'tasks/list',
    'unknown/method',
  ])('%s -> -32601 on the modern wire', async (method) => {
    const engine = engineOf();
    const { response } = await modern(
      engine,
      method,
      { uri: 'x', level: 'info', taskId: 't' },
      { id: 500 },
    );
    expect(response.id).toBe(500);
    expect(errorOf(response).code).toBe(-32601);
    await engine.close();
  });

  it('extension methods get the envelope; cacheable ones get caching hints', async () => {
    const engine = engineOf();
    expect(resultOf((await modern(engine, 'things/list')).response)).toMatchObject({
      things: [1],
      resultType: 'complete',
      cacheScope: 'public',
    });
    expect(resultOf((await modern(engine, 'things/poke')).response)).toEqual({
      poked: true,
      resultType: 'complete',
    });
    await engine.close();
  });
});

describe('modern logging and progress', () => {
  it(
    verifies(
      'R-LOG-MODERN-GATING',
      'no logs without a request logLevel; only at or above it when set',
    ),
    async () => {
      const engine = engineOf();
      const silent = await modern(engine, 'tools/call', { name: 'logs' });
      expect(silent.notes).toEqual([]);
      const loud = await modern(engine, 'tools/call', { name: 'logs' }, { logLevel: 'info' });
      expect(loud.notes).toEqual([
        {
          jsonrpc: '2.0',
          method: 'notifications/message',
          params: { level: 'warning', data: 'w' },
        },
      ]);
      await engine.close();
    },
  );

  it('reads the level from the request _meta when the transport did not pass it', async () => {
    const engine = engineOf();
    const { notes } = await modern(engine, 'tools/call', {
      name: 'logs',
      _meta: { 'io.modelcontextprotocol/logLevel': 'debug' },
    });
    expect(notes.map((n) => n.params?.['level'])).toEqual(['debug', 'warning']);
    await engine.close();
  });

  it('progress only with a progressToken, token type preserved', async () => {
    const engine = engineOf();
    expect((await modern(engine, 'tools/call', { name: 'progress' })).notes).toEqual([]);
    const { notes, response } = await modern(engine, 'tools/call', {
      name: 'progress',
      _meta: { progressToken: 'progress-test-1' },
    });
    expect(notes.map((n) => n.params)).toEqual([
      { progressToken: 'progress-test-1', progress: 1 },
      { progressToken: 'progress-test-1', progress: 2, total: 2 },
    ]);
    for (const n of notes) expectValidMessage(V, n);
    expectValidMessage(V, response, { method: 'tools/call' });
    await engine.close();
  });
});

describe('pagination', () => {
  it(
    verifies(
      'R-PAGINATION-CURSOR',
      'pages with opaque cursors any engine decodes; bad cursor -> -32602',
    ),
    async () => {
      const many: ComponentPack = {
        name: 'many',
        components: Array.from({ length: 5 }, (_, i) => tool(`t${i}`, () => 'x')),
      };
      const a = createEngine({
        serverInfo: { name: 'a', version: '1' },
        packs: [many],
        pageSize: 2,
      });
      const b = createEngine({
        serverInfo: { name: 'b', version: '1' },
        packs: [many],
        pageSize: 2,
      });
      const names: string[] = [];
      let cursor: string | undefined;
      let engine = a;
      do {
        const r = resultOf(
          (await modern(engine, 'tools/list', cursor === undefined ? {} : { cursor })).response,
        );
        names.push(...(r['tools'] as { name: string }[]).map((t) => t.name));
        cursor = r['nextCursor'] as string | undefined;
        engine = engine === a ? b : a; // alternate replicas
      } while (cursor !== undefined);
      expect(names).toEqual(['t0', 't1', 't2', 't3', 't4']);
      for (const bad of ['nope', 'djE6OTk5', '']) {
        expect(errorOf((await modern(a, 'tools/list', { cursor: bad })).response).code).toBe(
          -32602,
        );
      }
      await a.close();
      await b.close();
    },
  );
});

describe('capability gating', () => {
  it('uses this request caps only', async () => {
    const engine = engineOf();
    const r = await modern(engine, 'tools/call', { name: 'simple' }, { caps: {} });
    expect(resultOf(r.response)['resultType']).toBe('complete');
    expect(MODERN_CAPS).toHaveProperty('sampling');
    await engine.close();
  });
});
