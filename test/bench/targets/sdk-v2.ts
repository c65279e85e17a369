/**
 * Target (d): the v2 SDK's `createMcpHandler` (@modelcontextprotocol/server), its documented
 * way to serve 2026-07-28: a factory building an McpServer per request. The handler is
 * web-standard (Request -> Response); the SDK's Node adapter (@modelcontextprotocol/node,
 * toNodeHandler) is not installed, so a minimal node:http bridge below does that job.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { announce, exitOnSignals, urlOf } from './announce.js';

function buildServer(): McpServer {
  const server = new McpServer({ name: 'bench-sdk-v2', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns its text argument.', inputSchema: z.object({ text: z.string() }) },
    ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

const handler = createMcpHandler(() => buildServer(), { responseMode: 'auto' });

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function bridge(req: IncomingMessage, res: ServerResponse, origin: string): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req);
  const request = new Request(new URL(req.url ?? '/', origin), { method, headers, body });
  const response = await handler.fetch(request);
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  if (response.body === null) {
    res.end();
    return;
  }
  // Streams SSE responses through; a JSON body is one chunk either way.
  Readable.fromWeb(response.body).pipe(res);
}

let origin = '';
const server = createServer((req, res) => {
  bridge(req, res, origin).catch(() => {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end('{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":null}');
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = urlOf(server, '/mcp');
origin = new URL(url).origin;
exitOnSignals(async () => {
  await handler.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
announce({ ready: true, url, note: 'createMcpHandler (per-request McpServer), node:http bridge' });
