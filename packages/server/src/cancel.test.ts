import { verifies } from '@mcp-cluster/test-support';
import { describe, expect, it } from 'vitest';
import type { ComponentPack } from './components.js';
import { createEngine, isCancelledResponse } from './engine.js';
import { LegacyClient, errorOf, modern, tool } from './test-harness.js';

function abortable() {
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  let sawAbort = false;
  const spec = tool('wait', (_a, ctx) => {
    started();
    return new Promise<string>((resolve) => {
      ctx.signal.addEventListener('abort', () => {
        sawAbort = true;
        resolve('late');
      });
    });
  });
  return { spec, running, aborted: () => sawAbort };
}

describe('cancellation', () => {
  it(
    verifies(
      'R-CANCEL-LEGACY',
      'legacy notifications/cancelled aborts the handler; the response is a -32010 marker',
    ),
    async () => {
      const w = abortable();
      const pack: ComponentPack = { name: 'c', components: [w.spec] };
      const engine = createEngine({ serverInfo: { name: 's', version: '1' }, packs: [pack] });
      const c = await LegacyClient.connect(engine);
      const pending = c.request('tools/call', { name: 'wait' }, { id: 'call-1' });
      await w.running;
      await c.notify('notifications/cancelled', { requestId: 'call-1', reason: 'user' });
      const res = await pending;
      expect(w.aborted()).toBe(true);
      expect(isCancelledResponse(res)).toBe(true);
      expect(errorOf(res).code).toBe(-32010);
      await engine.close();
    },
  );

  it('cancelling an unknown or finished id is harmless', async () => {
    const engine = createEngine({ serverInfo: { name: 's', version: '1' }, packs: [] });
    const c = await LegacyClient.connect(engine);
    await c.notify('notifications/cancelled', { requestId: 42 });
    expect('result' in (await c.request('ping'))).toBe(true);
    await engine.close();
  });

  it(
    verifies('R-CANCEL-MODERN', 'modern: the transport aborting ctx.signal reaches the handler'),
    async () => {
      const w = abortable();
      const engine = createEngine({
        serverInfo: { name: 's', version: '1' },
        packs: [{ name: 'c', components: [w.spec] }],
      });
      const controller = new AbortController();
      const pending = modern(engine, 'tools/call', { name: 'wait' }, { signal: controller.signal });
      await w.running;
      controller.abort();
      await pending;
      expect(w.aborted()).toBe(true);
      await engine.close();
    },
  );

  it('deleting a session aborts its in-flight handlers and pending client requests', async () => {
    const w = abortable();
    let asked!: () => void;
    const askedP = new Promise<void>((r) => (asked = r));
    const sampler = tool('ask', async (_a, ctx) => {
      queueMicrotask(asked);
      return JSON.stringify(await ctx.sample({ messages: [], maxTokens: 1 }));
    });
    const engine = createEngine({
      serverInfo: { name: 's', version: '1' },
      packs: [{ name: 'c', components: [w.spec, sampler] }],
    });
    const c = await LegacyClient.connect(engine);
    const call = c.request('tools/call', { name: 'wait' });
    await w.running;
    // A stream whose client never answers the sampling request.
    const outbound = c.session.outbound(() => undefined);
    const { legacyRequestContext } = await import('./request-context.js');
    const ask = engine.handleRequest(
      { jsonrpc: '2.0', id: 77, method: 'tools/call', params: { name: 'ask' } },
      legacyRequestContext(c.session, 77, new AbortController().signal, outbound),
    );
    await askedP;
    expect(engine.sessions.delete(c.session.id)).toBe(true);
    expect(w.aborted()).toBe(true);
    expect(isCancelledResponse(await call)).toBe(true);
    expect('error' in (await ask)).toBe(true);
    expect(engine.sessions.get(c.session.id)).toBeUndefined();
    await engine.close();
  });
});

describe('close', () => {
  it('aborts in-flight modern handlers', async () => {
    const w = abortable();
    const engine = createEngine({
      serverInfo: { name: 's', version: '1' },
      packs: [{ name: 'c', components: [w.spec] }],
    });
    const pending = modern(engine, 'tools/call', { name: 'wait' });
    await w.running;
    await engine.close();
    expect(isCancelledResponse((await pending).response)).toBe(true);
    expect(w.aborted()).toBe(true);
  });
});
