import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '@mcp-cluster/server';
import { connectInMemory } from './memory.js';
import { LEGACY_INIT, MODERN_META, testEngine } from './testing.js';

let engine: Engine;
afterEach(() => engine.close());

describe('in-memory connection (the twin of WebSocket/stdio)', () => {
  it('round-trips a legacy session including a server->client request', async () => {
    engine = testEngine();
    const client = connectInMemory(engine);
    client.send(LEGACY_INIT);
    expect(await client.next()).toMatchObject({ id: 1, result: {} });
    client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    client.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'ask' } });
    const req = (await client.next()) as { id: number; method: string };
    expect(req.method).toBe('sampling/createMessage');
    client.send({
      jsonrpc: '2.0',
      id: req.id,
      result: { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' },
    });
    expect(await client.next()).toMatchObject({
      id: 2,
      result: { content: [{ text: 'sampled: ok' }] },
    });
    expect(engine.sessions.size).toBe(1);
    client.close();
    expect(engine.sessions.size).toBe(0);
  });

  it('rejects a modern request with an unsupported version, keeping its id', async () => {
    engine = testEngine();
    const client = connectInMemory(engine);
    client.send({
      jsonrpc: '2.0',
      id: 9,
      method: 'tools/list',
      params: { _meta: { ...MODERN_META, 'io.modelcontextprotocol/protocolVersion': '1.0' } },
    });
    expect(await client.next()).toMatchObject({ id: 9, error: { code: -32022 } });
    expect(client.sessionId).toBeUndefined();
  });
});
