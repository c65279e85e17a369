/**
 * The connection-bound transports through a gateway: WebSocket and the 2024-11-05 HTTP+SSE
 * transport keep one session object per connection (made before initialize), so the
 * gateway must read the stored session before dispatching on it.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import {
  CreateMessageRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { STEP_TIMEOUT_MS, textOf, within } from '@mcp-cluster/test-support';
import { InProcessCluster } from './in-process.test-support.js';

// The SDK's WebSocket client expects the browser global (Node 20 has none).
(globalThis as unknown as { WebSocket: unknown }).WebSocket = WebSocket;

const TRANSPORTS: readonly [string, (gatewayUrl: string) => Transport][] = [
  [
    'WebSocket',
    (u) => new WebSocketClientTransport(new URL(u.replace(/^http/, 'ws').replace(/\/mcp$/, '/ws'))),
  ],
  ['HTTP+SSE (2024-11-05)', (u) => new SSEClientTransport(new URL(u.replace(/\/mcp$/, '/sse')))],
];

describe.each(TRANSPORTS)('%s through a gateway', (_name, makeTransport) => {
  it('initialize, tools/list, logging at the level set, and a sampling round trip', async () => {
    await using cluster = new InProcessCluster();
    const { gateway } = await cluster.gatewayWithWorker();

    const client = new Client(
      { name: 'gw-transport-test', version: '1.0.0' },
      { capabilities: { sampling: {} } },
    );
    client.setRequestHandler(CreateMessageRequestSchema, () => ({
      role: 'assistant',
      model: 'm',
      content: { type: 'text', text: 'from the client' },
    }));
    const logs: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logs.push(n.params.level);
    });
    await within(STEP_TIMEOUT_MS, 'connect', client.connect(makeTransport(gateway.url)));
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('test_sampling');

      await client.setLoggingLevel('warning');
      const logged = await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
      expect(textOf(logged)).toMatch(/executed successfully/);
      // The tool logs at info: below the level this session set, so none arrives.
      expect(logs).toEqual([]);

      const sampled = await within(
        STEP_TIMEOUT_MS,
        'sampling call',
        client.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } }),
      );
      expect(textOf(sampled)).toBe('LLM response: from the client');
    } finally {
      await client.close();
    }
  });
});
