/** The dispatch wire over real sockets (UndiciDispatch), and its in-memory twin. */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISPATCH_PATH, NDJSON_TYPE } from './dispatch.js';
import { MemoryDispatch, UndiciDispatch } from './worker-dispatch.js';
import type { DispatchCall, DispatchOutcome } from './worker-dispatch.js';

/** A stand-in worker: the body's `method` says how to answer. */
function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
  const { method } = JSON.parse(body) as { method: string };
  switch (method) {
    case 'json':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { got: req.headers['x-test'] } }));
      return;
    case 'notify':
      res.writeHead(202).end();
      return;
    case 'drain':
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: -32016, message: 'draining' } }));
      return;
    case 'stream':
      res.writeHead(200, { 'content-type': NDJSON_TYPE });
      // One line split across writes, with a multi-byte character across the split.
      res.write('{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"h\u00e9');
      res.write('llo"}}\n');
      res.end('{"jsonrpc":"2.0","id":1,"result":{}}\n');
      return;
    case 'many':
      res.writeHead(200, { 'content-type': NDJSON_TYPE });
      for (let i = 0; i < 500; i++) res.write(`{"n":${i}}\n`);
      res.end('{"jsonrpc":"2.0","id":1,"result":{}}\n');
      return;
    case 'slow':
      // One line, then nothing until the gateway hangs up.
      res.writeHead(200, { 'content-type': NDJSON_TYPE });
      res.write('{"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n');
      res.once('close', () => closedEarly.push(res.writableEnded));
      return;
    case 'hangup':
      res.writeHead(200, { 'content-type': 'application/json' });
      // Headers and part of the body reach the gateway, then the connection drops.
      res.flushHeaders();
      res.write('{"jsonrpc"', () => res.socket?.destroy());
      return;
    default:
      res.writeHead(400).end();
  }
}

let server: Server;
/** For each `slow` answer whose connection closed: whether it had ended (false: cut off). */
const closedEarly: boolean[] = [];
let url: string;
const dispatch = new UndiciDispatch();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url !== DISPATCH_PATH) res.writeHead(404).end();
      else answer(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await dispatch.close();
  await new Promise((resolve) => server.close(resolve));
});

const call = (method: string, target = url): DispatchCall => ({
  worker: { id: 'w1', url: target },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method }),
  headers: { 'x-test': 'sent' },
});

async function lines(outcome: DispatchOutcome): Promise<string[]> {
  if (outcome.kind !== 'stream') throw new Error(`expected a stream, got ${outcome.kind}`);
  const out: string[] = [];
  for await (const line of outcome.lines) out.push(line);
  return out;
}

describe('UndiciDispatch', () => {
  it('turns each kind of worker answer into its outcome', async () => {
    expect(await dispatch.dispatch(call('json'))).toEqual({
      kind: 'message',
      message: { jsonrpc: '2.0', id: 1, result: { got: 'sent' } },
      text: '{"jsonrpc":"2.0","id":1,"result":{"got":"sent"}}',
    });
    expect(await dispatch.dispatch(call('notify'))).toEqual({ kind: 'accepted' });
    expect(await dispatch.dispatch(call('drain'))).toEqual({
      kind: 'refused',
      status: 503,
      failure: { error: { code: -32016, message: 'draining' } },
    });
    expect(await lines(await dispatch.dispatch(call('stream')))).toEqual([
      '{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"h\u00e9llo"}}',
      '{"jsonrpc":"2.0","id":1,"result":{}}',
    ]);
  });

  it('tells a worker that was never reached from one that broke mid-answer', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const gone = await dispatch.dispatch({
      ...call('json', `http://127.0.0.1:${port}`),
      worker: { id: 'w2', url: `http://127.0.0.1:${port}` },
    });
    expect(gone.kind).toBe('not-sent');
    expect((await dispatch.dispatch(call('hangup'))).kind).toBe('broken');
    // Whatever fails while sending is an outcome too, never a throw.
    const bad = await dispatch.dispatch({
      ...call('json'),
      worker: { id: 'w9', url: 'not a url' },
    });
    expect(bad.kind).toBe('broken');
  });

  it('hands out every line of a long stream to a slow reader, in order', async () => {
    const outcome = await dispatch.dispatch(call('many'));
    if (outcome.kind !== 'stream') throw new Error(`expected a stream, got ${outcome.kind}`);
    const got: string[] = [];
    for await (const line of outcome.lines) {
      got.push(line);
      // Let undici deliver more than the high-water mark meanwhile.
      if (got.length === 1) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(got).toHaveLength(501);
    expect(got[0]).toBe('{"n":0}');
    expect(got[499]).toBe('{"n":499}');
    expect(got[500]).toBe('{"jsonrpc":"2.0","id":1,"result":{}}');
  });

  it('a reader that stops at the response leaves the connection usable', async () => {
    for (let i = 0; i < 3; i++) {
      const outcome = await dispatch.dispatch(call('stream'));
      if (outcome.kind !== 'stream') throw new Error(`expected a stream, got ${outcome.kind}`);
      for await (const line of outcome.lines) if (line.includes('"result"')) break;
    }
    expect((await dispatch.dispatch(call('json'))).kind).toBe('message');
  });

  it('the signal cuts a dispatch off: the stream throws and the worker sees the hang-up', async () => {
    const ac = new AbortController();
    const outcome = await dispatch.dispatch({ ...call('slow'), signal: ac.signal });
    if (outcome.kind !== 'stream') throw new Error(`expected a stream, got ${outcome.kind}`);
    const got: string[] = [];
    const reading = (async () => {
      for await (const line of outcome.lines) {
        got.push(line);
        ac.abort(new Error('client gone'));
      }
    })();
    await expect(reading).rejects.toThrow('client gone');
    expect(got).toHaveLength(1);
    await expect.poll(() => closedEarly).toEqual([false]);
    const before = new AbortController();
    before.abort(new Error('already gone'));
    const none = await dispatch.dispatch({ ...call('json'), signal: before.signal });
    expect(none).toMatchObject({ kind: 'broken', error: new Error('already gone') });
  });
});

describe('MemoryDispatch', () => {
  it('records calls; a missing worker is not-sent, a throwing one broken', async () => {
    const twin = new MemoryDispatch().worker('w1', () => ({ kind: 'accepted' }));
    twin.worker('w3', () => {
      throw new Error('boom');
    });
    expect(await twin.dispatch(call('x'))).toEqual({ kind: 'accepted' });
    const missing = await twin.dispatch({ ...call('x'), worker: { id: 'w2', url: '' } });
    expect(missing.kind).toBe('not-sent');
    const thrown = await twin.dispatch({ ...call('x'), worker: { id: 'w3', url: '' } });
    expect(thrown.kind).toBe('broken');
    twin.remove('w1');
    expect((await twin.dispatch(call('x'))).kind).toBe('not-sent');
    expect(twin.calls.map((c) => c.worker.id)).toEqual(['w1', 'w2', 'w3', 'w1']);
  });
});
