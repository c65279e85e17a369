import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { definePack, defineTool, z } from '@mcp-cluster/components';
import type { JsonRpcRequest } from '@mcp-cluster/protocol';
import { packTransport } from './pack-transport.js';

const greet = defineTool({
  name: 'greet',
  description: 'Greets.',
  input: z.object({ name: z.string() }),
  handler: ({ name }) => `Hello, ${name}!`,
});
const confirm = defineTool({
  name: 'confirm',
  description: 'Asks first.',
  handler: async (_args, ctx) => {
    const answer = await ctx.elicit({
      message: 'Sure?',
      requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } },
    });
    return `answer: ${String(answer.action)}`;
  },
});
const broken = defineTool({
  name: 'broken',
  description: 'Throws.',
  handler: () => {
    throw new Error('disk on fire');
  },
});
const pack = definePack({ name: 'under-test', components: [greet, confirm, broken] });

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

describe('packTransport (an SDK client on an in-memory engine)', () => {
  it('serves the pack to the SDK client: list and call', async () => {
    client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(packTransport(pack));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['greet', 'confirm', 'broken']);
    expect(await client.callTool({ name: 'greet', arguments: { name: 'Ada' } })).toMatchObject({
      content: [{ type: 'text', text: 'Hello, Ada!' }],
    });
    // The input schema is enforced as over the network.
    expect(await client.callTool({ name: 'greet', arguments: { name: 3 } })).toMatchObject({
      isError: true,
    });
  });

  it('carries server-to-client requests (elicitation) to the client handlers', async () => {
    client = new Client({ name: 'test', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, () => ({
      action: 'accept',
      content: { ok: true },
    }));
    await client.connect(packTransport(pack));
    expect(await client.callTool({ name: 'confirm', arguments: {} })).toMatchObject({
      content: [{ type: 'text', text: 'answer: accept' }],
    });
  });

  it('reports a throwing handler with the request, and the client gets an internal error', async () => {
    const seen: { err: unknown; request: JsonRpcRequest }[] = [];
    client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(
      packTransport(pack, { onError: (err, request) => seen.push({ err, request }) }),
    );
    await expect(client.callTool({ name: 'broken', arguments: {} })).rejects.toMatchObject({
      code: -32603,
    });
    expect(seen).toHaveLength(1);
    expect((seen[0]!.err as Error).message).toBe('disk on fire');
    expect(seen[0]!.request).toMatchObject({ method: 'tools/call', params: { name: 'broken' } });
  });

  it('ends the session and the engine on close, and refuses to send after', async () => {
    const transport = packTransport(pack);
    let closed = 0;
    client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    const onclose = transport.onclose;
    transport.onclose = () => {
      closed++;
      onclose?.();
    };
    expect(transport.sessionId).toBeTypeOf('string');
    expect(transport.engine.sessions.size).toBe(1);
    await client.close();
    client = undefined;
    expect(closed).toBe(1);
    expect(transport.engine.sessions.size).toBe(0);
    await expect(transport.send({ jsonrpc: '2.0', id: 9, method: 'ping' })).rejects.toThrow(
      'closed',
    );
  });
});

describe('packTransport default error report', () => {
  it('writes a throwing handler with its tool, request id and stack to stderr', async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      client = new Client({ name: 'test', version: '1.0.0' });
      await client.connect(packTransport(pack));
      await expect(client.callTool({ name: 'broken', arguments: {} })).rejects.toThrow();
    } finally {
      spy.mockRestore();
    }
    const report = written.join('');
    expect(report).toMatch(
      /^handler failed \(tools\/call broken, request id \d+\): Error: disk on fire\n\s+at /,
    );
    expect(report).toContain('pack-transport.test.ts');
  });
});
