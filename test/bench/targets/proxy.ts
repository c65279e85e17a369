/**
 * Target (h): a bare Node proxy hop, the floor for what our gateway does per request. A
 * fastify 5 route parses the JSON-RPC body with fastify's own JSON parser, checks it is a
 * JSON-RPC request, forwards the raw request text over an undici keep-alive Pool to the
 * fastify echo (e) running as its upstream (a process of its own, BENCH_UPSTREAM_URL), and
 * relays the upstream's answer body back. Nothing else: no routing, sessions, signing or
 * MCP handling, so (f) against (h) is what our gateway adds over a plain hop.
 */
import Fastify from 'fastify';
import { Pool } from 'undici';
import { announce, exitOnSignals } from './announce.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body as received, kept by the JSON parser for forwarding. */
    rawText: string;
  }
}

/** The gateway's pool settings per worker (packages/cluster/src/worker-dispatch.ts). */
const POOL_OPTIONS = {
  connections: 128,
  pipelining: 1,
  keepAliveTimeout: 60_000,
  bodyTimeout: 0,
  headersTimeout: 0,
} as const;

const upstreamUrl = process.env.BENCH_UPSTREAM_URL;
if (upstreamUrl === undefined || upstreamUrl === '') {
  announce({ ready: false, reason: 'BENCH_UPSTREAM_URL is not set' });
  process.exit(1);
}
const upstream = new URL(upstreamUrl);
const pool = new Pool(upstream.origin, POOL_OPTIONS);

const app = Fastify({ logger: false });
app.decorateRequest('rawText', '');
// fastify's default JSON parser, with the raw text kept: the hop forwards what it received.
const parseJson = app.getDefaultJsonParser('error', 'error');
app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
  request.rawText = body as string;
  // Synchronous: it calls done itself (the type also allows a promise, never returned here).
  void parseJson(request, body as string, done);
});

const isJsonRpcRequest = (body: unknown): boolean =>
  typeof body === 'object' &&
  body !== null &&
  (body as { jsonrpc?: unknown }).jsonrpc === '2.0' &&
  typeof (body as { method?: unknown }).method === 'string';

app.post('/mcp', async (request, reply) => {
  if (!isJsonRpcRequest(request.body)) {
    return reply.code(400).send({ error: 'not a JSON-RPC request' });
  }
  try {
    const answer = await pool.request({
      method: 'POST',
      path: upstream.pathname,
      headers: { 'content-type': 'application/json' },
      body: request.rawText,
    });
    const text = await answer.body.text();
    const type = answer.headers['content-type'];
    return reply
      .code(answer.statusCode)
      .type(typeof type === 'string' ? type : 'application/json')
      .send(text);
  } catch (err) {
    return reply.code(502).send({ error: err instanceof Error ? err.message : String(err) });
  }
});

const address = await app.listen({ host: '127.0.0.1', port: 0 });
exitOnSignals(async () => {
  await app.close();
  await pool.close();
});
announce({
  ready: true,
  url: `${address}/mcp`,
  note: `fastify 5 (default JSON parser) -> undici Pool (${POOL_OPTIONS.connections} connections, pipelining ${POOL_OPTIONS.pipelining}, keep-alive ${POOL_OPTIONS.keepAliveTimeout} ms) -> fastify echo (e) at ${upstream.href}`,
});
