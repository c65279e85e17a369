import type { FastifyInstance } from 'fastify';
import { createEngine } from '@mcp-cluster/server';
import type { LocalEngine } from '@mcp-cluster/server';
import { afterEach, describe, expect, it } from 'vitest';
import { connectInMemory } from './memory.js';
import { BASE_HEADERS, LEGACY_INIT, testApp, testPack } from './testing.js';

let app: FastifyInstance | undefined;
let engine: LocalEngine;

afterEach(async () => {
  await app?.close();
  app = undefined;
  await engine.close();
});

function limitedEngine(maxSessionsPerPrincipal: number, maxSessions: number): LocalEngine {
  engine = createEngine({
    serverInfo: { name: 'test', version: '1.0.0' },
    packs: [testPack],
    maxSessionsPerPrincipal,
    maxSessions,
  });
  return engine;
}

async function limitedApp(perPrincipal: number, total: number): Promise<FastifyInstance> {
  ({ app } = await testApp({}, limitedEngine(perPrincipal, total)));
  return app;
}

const initialize = (a: FastifyInstance, payload: unknown = LEGACY_INIT) =>
  a.inject({
    method: 'POST',
    url: '/mcp',
    headers: { ...BASE_HEADERS },
    payload: JSON.stringify(payload),
  });

describe('legacy session limits on the transports', () => {
  it('refuses initialize beyond the per-principal cap with 429 -32012 + Retry-After; stores nothing', async () => {
    const a = await limitedApp(2, 100);
    for (let i = 0; i < 2; i++) expect((await initialize(a)).statusCode).toBe(200);
    const refused = await initialize(a);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['mcp-session-id']).toBeUndefined();
    expect(refused.json()).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      error: {
        code: -32012,
        message: expect.stringMatching(/maxSessionsPerPrincipal/) as unknown,
        data: { limit: 'maxSessionsPerPrincipal', max: 2 },
      },
    });
    expect(engine.sessions.size).toBe(2);
  });

  it('refuses initialize beyond the node-wide cap with 503 -32016', async () => {
    const a = await limitedApp(100, 3);
    for (let i = 0; i < 3; i++) expect((await initialize(a)).statusCode).toBe(200);
    const refused = await initialize(a);
    expect(refused.statusCode).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.json()).toMatchObject({
      error: { code: -32016, data: { limit: 'maxSessions', max: 3 } },
    });
    expect(engine.sessions.size).toBe(3);
  });

  it('DELETE frees a slot; a failed initialize takes none', async () => {
    const a = await limitedApp(1, 100);
    const first = await initialize(a);
    const sid = first.headers['mcp-session-id'] as string;
    expect((await initialize(a)).statusCode).toBe(429);
    const gone = await a.inject({
      method: 'DELETE',
      url: '/mcp',
      headers: { ...BASE_HEADERS, 'mcp-session-id': sid },
    });
    expect(gone.statusCode).toBe(204);
    // An initialize the engine refuses ends its session at once.
    const bad = await initialize(a, { ...LEGACY_INIT, params: { capabilities: {} } });
    expect(bad.json()).toMatchObject({ error: { code: -32602 } });
    expect(engine.sessions.size).toBe(0);
    expect((await initialize(a)).statusCode).toBe(200);
  });

  it('refuses legacy /sse beyond the cap before the stream opens', async () => {
    const a = await limitedApp(1, 100);
    expect((await initialize(a)).statusCode).toBe(200);
    const refused = await a.inject({
      method: 'GET',
      url: '/sse',
      headers: { host: 'localhost:3000', accept: 'text/event-stream' },
    });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: { code: -32012 } });
    expect(engine.sessions.size).toBe(1);
  });

  it('message connections (WebSocket, stdio) answer the refusal in-band and may ask again', async () => {
    limitedEngine(1, 100);
    const holder = connectInMemory(engine);
    holder.send(LEGACY_INIT);
    expect(await holder.next()).toMatchObject({ id: 1, result: {} });
    const client = connectInMemory(engine);
    client.send({ ...LEGACY_INIT, id: 2 });
    expect(await client.next()).toMatchObject({
      id: 2,
      error: { code: -32012, data: { limit: 'maxSessionsPerPrincipal' } },
    });
    expect(client.sessionId).toBeUndefined();
    expect(engine.sessions.size).toBe(1);
    // The holder leaves: its session ends, and the other connection gets one on its next try.
    holder.close();
    client.send({ ...LEGACY_INIT, id: 3 });
    expect(await client.next()).toMatchObject({ id: 3, result: {} });
    expect(client.sessionId).toBeDefined();
    client.close();
  });
});
