/**
 * Target (c): @modelcontextprotocol/sdk v1, stateless Streamable HTTP, exactly the SDK's
 * documented stateless pattern (examples/server/simpleStatelessStreamableHttp): express via
 * createMcpExpressApp, and a fresh McpServer + StreamableHTTPServerTransport per request
 * with sessionIdGenerator undefined, here with enableJsonResponse: true.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { announce, exitOnSignals, urlOf } from './announce.js';

// express's types are not installed (express comes with the SDK); these are the parts used.
type Req = IncomingMessage & { body?: unknown };
type Res = ServerResponse & { status(code: number): { json(body: unknown): void } };

function buildServer(): McpServer {
  const server = new McpServer({ name: 'bench-sdk-v1', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns its text argument.', inputSchema: { text: z.string() } },
    ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

const app = createMcpExpressApp();
app.post('/mcp', async (req: Req, res: Res) => {
  const server = buildServer();
  try {
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
  } catch {
    if (!res.headersSent) {
      res.status(500).json({
        jsonrpc: '2.0',
        error: { code: -32603, message: 'Internal server error' },
        id: null,
      });
    }
  }
});

const httpServer = await new Promise<Server>((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
});
exitOnSignals(() => new Promise<void>((resolve) => httpServer.close(() => resolve())));
announce({
  ready: true,
  url: urlOf(httpServer, '/mcp'),
  note: 'per-request server+transport (documented stateless pattern), express',
});
