/**
 * TransportDrain over real sockets: a WebSocket and a legacy /sse stream each carrying a
 * request in flight are ended only once it is answered (1001 / end of stream), new requests
 * are refused with 503 + Retry-After + Connection: close, and the drain settles in time.
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createEngine } from '@mcp-cluster/server';
import type { ComponentPack } from '@mcp-cluster/server';
import { TransportDrain } from './drain.js';
import { mcpTransports } from './plugin.js';
import { LEGACY_INIT, SseReader } from './testing.js';
import { GOING_AWAY } from './websocket.js';

const RETRY_MS = 2_000;
const DRAIN_TIMEOUT_MS = 10_000;

/** `hold` answers once `release()` is called. */
function holdPack(): { pack: ComponentPack; release: () => void; started: Promise<void> } {
  let release: () => void = () => undefined;
  let start: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const started = new Promise<void>((resolve) => (start = resolve));
  const pack: ComponentPack = {
    name: 'drain-test',
    components: [
      {
        kind: 'tool',
        descriptor: {
          name: 'hold',
          description: 'answers once released',
          inputSchema: { type: 'object', properties: {} },
        },
        validateInput: (args) => ({ ok: true, value: args ?? {} }),
        taskSupport: 'forbidden',
        run: async () => {
          start();
          await released;
          return 'held';
        },
      },
    ],
  };
  return { pack, release, started };
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(pack: ComponentPack, drain: TransportDrain): Promise<string> {
  const engine = createEngine({ serverInfo: { name: 't', version: '1' }, packs: [pack] });
  app = Fastify({ logger: false });
  await app.register(mcpTransports, { engine, drain, settings: { sseRetryMs: RETRY_MS } });
  app.addHook('onClose', () => engine.close());
  return app.listen({ host: '127.0.0.1', port: 0 });
}

const call = (id: number): string =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'hold', arguments: {} },
  });

describe('TransportDrain', () => {
  it('a WebSocket closes with 1001 once its request in flight is answered', async () => {
    const { pack, release, started } = holdPack();
    const drain = new TransportDrain();
    const base = await serve(pack, drain);
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const frames: Record<string, unknown>[] = [];
    ws.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString('utf8'))));
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.send(JSON.stringify(LEGACY_INIT));
    ws.send(call(2));
    await started;

    const drained = drain.drain(DRAIN_TIMEOUT_MS);
    // A new request meanwhile: refused, the connection not kept.
    const refused = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(LEGACY_INIT),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe(String(RETRY_MS / 1000));
    expect(refused.headers.get('connection')).toBe('close');
    expect(await refused.json()).toMatchObject({ id: null, error: { code: -32016 } });
    expect(ws.readyState).toBe(WebSocket.OPEN);

    release();
    expect(await closed).toBe(GOING_AWAY);
    expect(frames.find((f) => f['id'] === 2)).toMatchObject({
      result: { content: [{ type: 'text', text: 'held' }] },
    });
    expect(await drained).toEqual({ settled: true, leftOpen: 0 });
  });

  it('a legacy /sse stream ends once its request in flight is answered', async () => {
    const { pack, release, started } = holdPack();
    const drain = new TransportDrain();
    const base = await serve(pack, drain);
    const res = await fetch(`${base}/sse`);
    const sse = new SseReader(res.body!);
    const endpoint = await sse.next();
    const messages = `${base}${endpoint?.data ?? ''}`;
    const post = (body: string): Promise<Response> =>
      fetch(messages, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect((await post(JSON.stringify(LEGACY_INIT))).status).toBe(202);
    expect(await sse.nextMessage()).toMatchObject({ id: 1, result: {} });
    expect((await post(call(2))).status).toBe(202);
    await started;

    const drained = drain.drain(DRAIN_TIMEOUT_MS);
    release();
    // The answer first, then the end of the stream (a 2024-11-05 client cannot resume).
    expect(await sse.nextMessage()).toMatchObject({
      id: 2,
      result: { content: [{ type: 'text', text: 'held' }] },
    });
    expect(await sse.next()).toBeUndefined();
    expect(await drained).toEqual({ settled: true, leftOpen: 0 });
  });

  it('at the deadline what is still in flight is ended', async () => {
    const { pack, started } = holdPack();
    const drain = new TransportDrain();
    const base = await serve(pack, drain);
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.send(JSON.stringify(LEGACY_INIT));
    ws.send(call(2));
    await started;
    expect(await drain.drain(200)).toEqual({ settled: false, leftOpen: 1 });
    expect(await closed).toBe(GOING_AWAY);
  });
});
