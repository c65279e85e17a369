/**
 * The official TypeScript SDK client (legacy era) against the embedded server with the
 * conformance fixture pack, over every transport: stdio (the real CLI process), Streamable
 * HTTP, the deprecated HTTP+SSE transport and WebSocket. Every message the server sends is
 * recorded and validated against the schema of the negotiated revision.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js';
import {
  cliStdioParams,
  recordTransport,
  startTestServer,
  type RecordingTransport,
  type TestServer,
} from '@mcp-cluster/testkit';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket as WsWebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The SDK's WebSocket transport uses the global WebSocket, which Node 20 does not have.
if (typeof globalThis.WebSocket === 'undefined') {
  (globalThis as { WebSocket?: unknown }).WebSocket = WsWebSocket;
}

// Tests read recorded messages of arbitrary shape; the schema check types them for real.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

/** The fixture pack plus a trigger for resources/updated (test/integration/fixtures). */
const PACKS = [
  'builtin:conformance',
  path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'update-pack.ts'),
];

interface TransportCase {
  readonly name: string;
  /** The transport, and a promise resolved once the session's standalone stream is open. */
  make(server: TestServer): { transport: Transport; standaloneStream: Promise<void> };
  /** All server messages share one ordered stream (so absence can be observed). */
  readonly singleStream: boolean;
}

const CASES: readonly TransportCase[] = [
  {
    name: 'stdio',
    singleStream: true,
    make: () => ({
      transport: new StdioClientTransport({ ...cliStdioParams(PACKS), stderr: 'ignore' }),
      standaloneStream: Promise.resolve(),
    }),
  },
  {
    name: 'streamable HTTP',
    singleStream: false,
    make: (server) => {
      let opened!: () => void;
      const standaloneStream = new Promise<void>((resolve) => (opened = resolve));
      // The SDK opens the GET stream after initialize; updates sent before it would be lost.
      const trackingFetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
        const response = await fetch(input, init);
        if ((init?.method ?? 'GET') === 'GET' && response.ok) opened();
        return response;
      };
      return {
        transport: new StreamableHTTPClientTransport(new URL(server.url), { fetch: trackingFetch }),
        standaloneStream,
      };
    },
  },
  {
    name: 'HTTP+SSE (2024-11-05 transport)',
    singleStream: true,
    // The GET stream is the only stream; connect() waits for its `endpoint` event.
    make: (server) => ({
      transport: new SSEClientTransport(new URL(server.sseUrl)),
      standaloneStream: Promise.resolve(),
    }),
  },
  {
    name: 'WebSocket',
    singleStream: true,
    make: (server) => ({
      transport: new WebSocketClientTransport(new URL(server.wsUrl)),
      standaloneStream: Promise.resolve(),
    }),
  },
];

/** Fills an elicitation's requested schema with plausible values so the SDK accepts it. */
function answerFor(schema: {
  properties?: Record<string, { type?: string }>;
}): Record<string, string | number | boolean> {
  const content: Record<string, string | number | boolean> = {};
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (prop.type === 'number' || prop.type === 'integer') content[key] = 1;
    else if (prop.type === 'boolean') content[key] = true;
    else if (prop.type === 'string') content[key] = `answer-${key}`;
  }
  return content;
}

function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => (c.type === 'text' ? (c.text ?? '') : '')).join('');
}

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ packs: PACKS });
});

afterAll(async () => {
  await server?.close();
});

describe.each(CASES)('SDK client over $name', (tc) => {
  let client: Client;
  let rec: RecordingTransport;
  let standaloneStream: Promise<void>;
  const logs: LoggingMessageNotification['params'][] = [];
  const updates: string[] = [];
  let onUpdate: (() => void) | undefined;

  beforeAll(async () => {
    const made = tc.make(server);
    standaloneStream = made.standaloneStream;
    rec = recordTransport(made.transport);
    client = new Client(
      { name: 'mcp-cluster-integration', version: '1.0.0' },
      { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } },
    );
    client.setRequestHandler(CreateMessageRequestSchema, (req) => {
      const first = req.params.messages[0]?.content;
      const prompt = first && !Array.isArray(first) && first.type === 'text' ? first.text : '';
      return {
        role: 'assistant',
        content: { type: 'text', text: `echo:${prompt}` },
        model: 'test-model',
        stopReason: 'endTurn',
      };
    });
    client.setRequestHandler(ElicitRequestSchema, (req) => {
      const params = req.params as { requestedSchema?: Parameters<typeof answerFor>[0] };
      return { action: 'accept', content: answerFor(params.requestedSchema ?? {}) };
    });
    client.setRequestHandler(ListRootsRequestSchema, () => ({
      roots: [{ uri: 'file:///tmp/root', name: 'Root' }],
    }));
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logs.push(n.params);
    });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
      onUpdate?.();
    });
    await client.connect(rec);
  });

  afterAll(async () => {
    await client?.close();
  });

  it('initializes at the SDK revision with the fixture capabilities', () => {
    expect(rec.protocolVersion).toBe('2025-11-25');
    const caps = client.getServerCapabilities();
    expect(caps).toMatchObject({ tools: {}, resources: {}, prompts: {} });
    expect(client.getServerVersion()?.name).toBeTruthy();
  });

  it('initialize -> tools/list -> tools/call -> resources/read -> prompts/get', async () => {
    const { tools } = await client.listTools();
    expect(tools[0]?.name).toBe('test_simple_text');
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['test_sampling', 'test_elicitation', 'test_tool_with_progress']),
    );
    const called = await client.callTool({ name: 'test_simple_text', arguments: {} });
    expect(textOf(called)).toBe('This is a simple text response for testing.');
    const read = await client.readResource({ uri: 'test://static-text' });
    expect(read.contents[0]).toMatchObject({
      uri: 'test://static-text',
      mimeType: 'text/plain',
      text: 'This is the content of the static text resource.',
    });
    const prompt = await client.getPrompt({
      name: 'test_prompt_with_arguments',
      arguments: { arg1: 'one', arg2: 'two' },
    });
    expect(prompt.messages[0]?.content).toEqual({
      type: 'text',
      text: "Prompt with arguments: arg1='one', arg2='two'",
    });
  });

  it('round-trips sampling and elicitation requests to the client', async () => {
    const sampled = await client.callTool({
      name: 'test_sampling',
      arguments: { prompt: 'ping?' },
    });
    expect(textOf(sampled)).toBe('LLM response: echo:ping?');
    const elicited = await client.callTool({
      name: 'test_elicitation',
      arguments: { message: 'Who are you?' },
    });
    expect(textOf(elicited)).toMatch(/^User response: action=accept, content=\{.+\}$/);
    const methods = rec.methods();
    expect(methods).toContain('sampling/createMessage');
    expect(methods).toContain('elicitation/create');
  });

  it('streams progress for the request token before the result', async () => {
    let callbacks = 0;
    const result = await client.callTool(
      { name: 'test_tool_with_progress', arguments: {} },
      undefined,
      { onprogress: () => callbacks++ },
    );
    const request = rec.sent.findLast(
      (m) => 'method' in m && m.method === 'tools/call' && 'id' in m,
    ) as { id: number };
    // Judge the server by what it sent: the SDK client dispatches notifications a microtask
    // late, so on transports that deliver a burst in one tick (stdio, WebSocket, one SSE
    // stream) it may drop the last progress that arrived just before the result.
    const received = rec.received.map((r) => r.message as Record<string, Loose>);
    const responseAt = received.findIndex((m) => m.id === request.id && 'result' in m);
    const progress = received
      .map((m, i) => ({ m, i }))
      .filter(
        ({ m }) => m.method === 'notifications/progress' && m.params?.progressToken === request.id,
      );
    expect(progress.map(({ m }) => m.params.progress)).toEqual([0, 50, 100]);
    expect(progress.every(({ i }) => i < responseAt)).toBe(true);
    expect(progress[0]?.m.params).toMatchObject({ total: 100, message: 'Completed step 0 of 100' });
    expect(callbacks).toBeGreaterThanOrEqual(1);
    // The tool answers with the token it saw: the SDK uses the request id.
    expect(textOf(result)).toBe(String(request.id));
  });

  it('honours logging/setLevel and delivers tool logs', async () => {
    await client.setLoggingLevel('debug');
    logs.length = 0;
    const result = await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
    expect(textOf(result)).toBe('Tool with logging executed successfully');
    const data = logs.map((l) => l.data);
    expect(data).toEqual(
      expect.arrayContaining([
        'Tool execution started',
        'Tool processing data',
        'Tool execution completed',
      ]),
    );
    expect(logs.every((l) => l.level === 'info')).toBe(true);
  });

  it('cancels an in-flight call with an AbortSignal and stays usable', async () => {
    const controller = new AbortController();
    const call = client.callTool(
      { name: 'slow_compute', arguments: { seconds: 30, label: 'cancel-me' } },
      undefined,
      { signal: controller.signal },
    );
    const sent = await rec.waitForSent(
      (m) =>
        'method' in m &&
        m.method === 'tools/call' &&
        (m.params as { name?: string } | undefined)?.name === 'slow_compute',
    );
    controller.abort('test cancels');
    await expect(call).rejects.toThrow();
    const cancelled = await rec.waitForSent(
      (m) => 'method' in m && m.method === 'notifications/cancelled',
    );
    expect((cancelled as { params?: { requestId?: unknown } }).params?.requestId).toBe(
      (sent as { id?: unknown }).id,
    );
    await expect(client.ping()).resolves.toEqual({});
  });

  it('subscribes to a resource and receives its update', async () => {
    const uri = 'test://watched-resource';
    await expect(client.subscribeResource({ uri })).resolves.toEqual({});
    await standaloneStream;
    const got = new Promise<void>((resolve) => (onUpdate = resolve));
    const triggered = await client.callTool({
      name: 'test_trigger_resource_update',
      arguments: { uri },
    });
    expect(textOf(triggered)).toBe(`updated ${uri}`);
    await got;
    expect(updates).toEqual([uri]);
    await expect(client.unsubscribeResource({ uri })).resolves.toEqual({});
    if (tc.singleStream) {
      // The update would be written before the trigger's result on the same stream.
      await client.callTool({ name: 'test_trigger_resource_update', arguments: { uri } });
      expect(updates).toEqual([uri]);
    }
  });

  it('sent only schema-valid messages', () => {
    expect(rec.received.length).toBeGreaterThan(10);
    rec.expectAllValid();
  });
});
