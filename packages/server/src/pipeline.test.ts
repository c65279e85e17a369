import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@mcp-cluster/protocol';
import { createEngine } from './engine.js';
import { LegacyClient, errorOf, resultOf, tool } from './test-harness.js';

describe('pipeline', () => {
  it('runs stages in order (validate first), whatever the order of use()', async () => {
    const engine = createEngine({
      serverInfo: { name: 's', version: '1' },
      packs: [{ name: 'p', components: [tool('t', () => 'ok')] }],
    });
    const seen: string[] = [];
    engine.use('observe', async (req, _ctx, next) => {
      seen.push(`observe:${req.method}`);
      return next();
    });
    engine.use('authenticate', async (_req, _ctx, next) => {
      seen.push('authenticate');
      return next();
    });
    engine.use('rateLimit', async (req, _ctx, next) => {
      seen.push('rateLimit');
      if (req.method === 'tools/list') throw ProtocolError.of('RateLimited');
      return next();
    });
    const c = await LegacyClient.connect(engine);
    seen.length = 0;
    expect(resultOf(await c.request('tools/call', { name: 't' }))['content']).toBeDefined();
    expect(seen).toEqual(['authenticate', 'rateLimit', 'observe:tools/call']);
    expect(errorOf(await c.request('tools/list')).code).toBe(-32012);
    seen.length = 0;
    // The built-in validation stage rejects before any middleware runs.
    expect(errorOf(await c.request('tools/call', { name: 5 })).code).toBe(-32602);
    expect(seen).toEqual([]);
    await engine.close();
  });

  it('middleware can rewrite results', async () => {
    const engine = createEngine({ serverInfo: { name: 's', version: '1' }, packs: [] });
    engine.use('observe', async (_r, _c, next) => ({ ...(await next()), seen: true }));
    const c = await LegacyClient.connect(engine);
    expect(resultOf(await c.request('tools/list'))).toEqual({ tools: [], seen: true });
    expect(() => engine.use('nope' as never, (_r, _c, n) => n())).toThrow(TypeError);
    await engine.close();
  });

  it('unexpected errors reach onError and the wire sees only -32603', async () => {
    const errors: unknown[] = [];
    const engine = createEngine({
      serverInfo: { name: 's', version: '1' },
      packs: [
        {
          name: 'p',
          components: [
            tool('boom', () => {
              throw new Error('db password=123');
            }),
          ],
        },
      ],
      onError: (err) => errors.push(err),
    });
    const c = await LegacyClient.connect(engine);
    const e = errorOf(await c.request('tools/call', { name: 'boom' }));
    expect(e).toEqual({ code: -32603, message: 'Internal error' });
    expect(JSON.stringify(e)).not.toContain('password');
    expect(errors.length).toBe(1);
    await engine.close();
  });
});

describe('disposal', () => {
  it('an engine is AsyncDisposable', async () => {
    let engineRef: ReturnType<typeof createEngine> | undefined;
    {
      await using engine = createEngine({ serverInfo: { name: 's', version: '1' }, packs: [] });
      engineRef = engine;
    }
    const c = engineRef.sessions.create();
    const r = await new LegacyClient(engineRef, c).request('ping');
    expect(errorOf(r).code).toBe(-32016);
  });
});
