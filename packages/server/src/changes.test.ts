import { verifies, expectValidMessage } from '@mcp-cluster/test-support';
import { describe, expect, it } from 'vitest';
import type { JsonRpcNotification } from '@mcp-cluster/protocol';
import type { ComponentPack } from './components.js';
import { createEngine } from './engine.js';
import { LegacyClient, modern, resultOf, tool } from './test-harness.js';

const pack: ComponentPack = {
  name: 'changes',
  components: [
    tool('trigger_tools', (_a, ctx) => {
      ctx.emitChange({ type: 'tools/list_changed' });
      return 'Mutation triggered';
    }),
    tool('touch', (args, ctx) => {
      ctx.emitChange({ type: 'resources/updated', uri: String((args as { uri: string }).uri) });
      return 'ok';
    }),
  ],
};

const engineOf = () => createEngine({ serverInfo: { name: 's', version: '1' }, packs: [pack] });

/** Opens a listen stream; resolves the first notification (the ack) before returning. */
function listen(engine: ReturnType<typeof engineOf>, id: number | string, notifications: object) {
  const frames: JsonRpcNotification[] = [];
  const controller = new AbortController();
  let acked!: () => void;
  const ack = new Promise<void>((r) => (acked = r));
  const done = modern(
    engine,
    'subscriptions/listen',
    { notifications: { ...notifications } },
    {
      id,
      signal: controller.signal,
      caps: {},
      onNotify: (n) => {
        frames.push(n);
        if (frames.length === 1) acked();
      },
    },
  );
  return { frames, controller, done, ack };
}

describe('subscriptions/listen', () => {
  it(
    verifies(
      'R-LISTEN-ACK-TAG',
      'acknowledges the honoured filter, tags every frame, honours the filter',
    ),
    async () => {
      const engine = engineOf();
      const tools = listen(engine, 1700000000000, { toolsListChanged: true, bogus: true });
      const prompts = listen(engine, 'p-1', { promptsListChanged: true });
      await Promise.all([tools.ack, prompts.ack]);
      expect(tools.frames[0]).toEqual({
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: {
          _meta: { 'io.modelcontextprotocol/subscriptionId': 1700000000000 },
          notifications: { toolsListChanged: true },
        },
      });
      expectValidMessage('2026-07-28', tools.frames[0]);
      await modern(engine, 'tools/call', { name: 'trigger_tools' });
      expect(tools.frames[1]).toEqual({
        jsonrpc: '2.0',
        method: 'notifications/tools/list_changed',
        params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 1700000000000 } },
      });
      expectValidMessage('2026-07-28', tools.frames[1]);
      expect(prompts.frames.map((f) => f.method)).toEqual([
        'notifications/subscriptions/acknowledged',
      ]);
      expect(prompts.frames[0]?.params?.['_meta'] as object).toEqual({
        'io.modelcontextprotocol/subscriptionId': 'p-1',
      });
      tools.controller.abort();
      prompts.controller.abort();
      const closed = await tools.done;
      expect(resultOf(closed.response)).toEqual({
        resultType: 'complete',
        _meta: { 'io.modelcontextprotocol/subscriptionId': 1700000000000 },
      });
      await prompts.done;
      // After the stream ended nothing more arrives.
      await modern(engine, 'tools/call', { name: 'trigger_tools' });
      expect(tools.frames.length).toBe(2);
      await engine.close();
    },
  );

  it('resource subscriptions only deliver updates for the listed uris', async () => {
    const engine = engineOf();
    const l = listen(engine, 3, { resourceSubscriptions: ['test://a'] });
    await l.ack;
    await modern(engine, 'tools/call', { name: 'touch', arguments: { uri: 'test://b' } });
    await modern(engine, 'tools/call', { name: 'touch', arguments: { uri: 'test://a' } });
    expect(l.frames.slice(1)).toEqual([
      {
        jsonrpc: '2.0',
        method: 'notifications/resources/updated',
        params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 3 }, uri: 'test://a' },
      },
    ]);
    l.controller.abort();
    await l.done;
    await engine.close();
  });

  it('engine.close() ends open listen streams with their closing result', async () => {
    const engine = engineOf();
    const l = listen(engine, 9, { toolsListChanged: true });
    await l.ack;
    await engine.close();
    expect(resultOf((await l.done).response)['_meta']).toEqual({
      'io.modelcontextprotocol/subscriptionId': 9,
    });
  });

  it('subscriptions/listen is not a legacy method', async () => {
    const engine = engineOf();
    const c = await LegacyClient.connect(engine);
    const r = await c.request('subscriptions/listen', { notifications: {} });
    expect('error' in r && r.error.code).toBe(-32601);
    await engine.close();
  });
});

describe('legacy fan-out', () => {
  it('list_changed to every initialized session; updates only to subscribers', async () => {
    const engine = engineOf();
    const a = await LegacyClient.connect(engine);
    const b = await LegacyClient.connect(engine);
    const fresh = new LegacyClient(engine, engine.sessions.create()); // never initialized
    await b.request('resources/subscribe', { uri: 'test://x' });
    await a.request('tools/call', { name: 'trigger_tools' });
    await a.request('tools/call', { name: 'touch', arguments: { uri: 'test://x' } });
    expect(a.standalone).toEqual([{ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }]);
    expect(b.standalone).toEqual([
      { jsonrpc: '2.0', method: 'notifications/tools/list_changed' },
      { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'test://x' } },
    ]);
    for (const m of b.standalone) expectValidMessage('2025-11-25', m);
    expect(fresh.standalone).toEqual([]);
    await engine.close();
  });

  it('runtime registry changes announce list_changed', async () => {
    const engine = engineOf();
    const a = await LegacyClient.connect(engine);
    engine.registry.add(tool('late', () => 'late'));
    expect(a.standalone).toEqual([{ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }]);
    expect(engine.registry.remove('tool', 'late')).toBe(true);
    expect(engine.registry.remove('tool', 'late')).toBe(false);
    expect(a.standalone.length).toBe(2);
    expect(() => engine.registry.add(tool('touch', () => 'dup'))).toThrow(/Duplicate tool/);
    await engine.close();
  });

  it('duplicate names are rejected at load', () => {
    expect(() =>
      createEngine({
        serverInfo: { name: 's', version: '1' },
        packs: [{ name: 'x', components: [tool('a', () => ''), tool('a', () => '')] }],
      }),
    ).toThrow(/Duplicate tool "a"/);
  });
});
