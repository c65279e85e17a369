/**
 * GatewayEngine in memory: the dispatch port is the in-memory twin (workers are functions),
 * sessions, registry and bus are the memory ones. What goes to the workers, byte for byte,
 * and that a decorator of the port sees every dispatch, lists included.
 */
import {
  MemoryComponentRegistry,
  MemoryDispatch,
  MemoryEventBus,
  MemorySessionStore,
} from '@mcp-cluster/cluster';
import type { DispatchCall, WorkerDispatch } from '@mcp-cluster/cluster';
import type { JsonRpcRequest } from '@mcp-cluster/protocol';
import { Router, asWorkerId } from '@mcp-cluster/router';
import {
  createEngine,
  messageText,
  modernOutbound,
  modernRequestContext,
} from '@mcp-cluster/server';
import type { RequestContext } from '@mcp-cluster/server';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayEngine } from './engine.js';
import { GatewaySessions } from './sessions.js';
import { Membership } from './workers.js';

const META = { protocolVersion: '2026-07-28', clientCapabilities: {} };

interface Harness {
  readonly engine: GatewayEngine;
  readonly twin: MemoryDispatch;
  /** Every dispatch a decorator of the port saw: worker and body. */
  readonly seen: { worker: string; body: string }[];
}

const open: GatewayEngine[] = [];
afterEach(async () => {
  for (const engine of open.splice(0)) await engine.close();
});

/** Workers answer with the method and params they parsed from the bytes they got. */
function answering(tools: readonly string[]) {
  return (call: DispatchCall) => {
    const request = JSON.parse(call.body) as JsonRpcRequest;
    const result =
      request.method === 'tools/list'
        ? { tools: tools.map((name) => ({ name, inputSchema: { type: 'object' } })) }
        : { got: request.params ?? null };
    const message = { jsonrpc: '2.0' as const, id: request.id, result };
    // The worker's own formatting, so a relay of its bytes can be told from a re-serialization.
    return { kind: 'message' as const, message, text: JSON.stringify(message, null, 1) };
  };
}

function harness(workers: Record<string, readonly string[]>): Harness {
  const twin = new MemoryDispatch();
  const seen: Harness['seen'] = [];
  const counting: WorkerDispatch = {
    dispatch(call) {
      seen.push({ worker: call.worker.id, body: call.body });
      return twin.dispatch(call);
    },
  };
  const router = new Router({});
  for (const [id, tools] of Object.entries(workers)) {
    twin.worker(id, answering(tools));
    router.pool.upsert({
      id: asWorkerId(id),
      url: `http://${id}.invalid`,
      weight: 1,
      owns: { tools },
    });
  }
  const bus = new MemoryEventBus();
  const onError = (err: unknown): void => {
    throw err;
  };
  const engine = new GatewayEngine({
    gatewayId: 'g-test',
    router,
    dispatch: counting,
    dispatchSecret: 's'.repeat(32),
    membership: new Membership(new MemoryComponentRegistry(), router, { forget() {} }, () => {}),
    sessions: new GatewaySessions(new MemorySessionStore(), bus, () => {}, onError),
    bus,
    local: createEngine({ serverInfo: { name: 'g', version: '0' }, packs: [], tasks: false }),
    dispatchTimeoutMs: 5_000,
    onError,
  });
  open.push(engine);
  return { engine, twin, seen };
}

function modernCtx(id: number, wire?: RequestContext['wire']): RequestContext {
  const ctx = modernRequestContext(
    META,
    id,
    new AbortController().signal,
    modernOutbound(() => {}),
  );
  return wire === undefined ? ctx : { ...ctx, wire };
}

describe('GatewayEngine over the in-memory dispatch twin', () => {
  it('forwards the client bytes of a request as they arrived', async () => {
    const { engine, seen } = harness({ w1: ['echo'] });
    const text = '{ "jsonrpc":"2.0", "id":1,\n "method":"tools/call","params":{"name":"echo"} }';
    const request = JSON.parse(text) as JsonRpcRequest;
    const response = await engine.handleRequest(request, modernCtx(1, { message: request, text }));
    expect(response).toMatchObject({ id: 1, result: { got: { name: 'echo' } } });
    expect(seen).toEqual([{ worker: 'w1', body: text }]);
  });

  it('sends the canonical form when the gateway changed the request', async () => {
    const { engine, seen } = harness({ w1: ['echo'] });
    const text =
      '{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///a/%7Eb"}}';
    const request = JSON.parse(text) as JsonRpcRequest;
    await engine.handleRequest(request, modernCtx(2, { message: request, text }));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.body).not.toBe(text);
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ params: { uri: 'file:///a/~b' } });
  });

  it("relays the bytes of a worker's answer; a merged list is written afresh", async () => {
    const { engine } = harness({ w1: ['echo'] });
    const request: JsonRpcRequest = {
      jsonrpc: '2.0',
      id: 4,
      method: 'tools/call',
      params: { name: 'echo' },
    };
    const response = await engine.handleRequest(request, modernCtx(4));
    expect(messageText(response)).toBe(JSON.stringify(response, null, 1));

    const two = harness({ w1: ['a'], w2: ['b'] });
    const list: JsonRpcRequest = { jsonrpc: '2.0', id: 5, method: 'tools/list' };
    const merged = await two.engine.handleRequest(list, modernCtx(5));
    expect(messageText(merged)).toBe(JSON.stringify(merged));
  });

  it('a decorator of the port sees each dispatch of a merged list', async () => {
    const { engine, seen } = harness({ w1: ['a'], w2: ['b'] });
    const request: JsonRpcRequest = { jsonrpc: '2.0', id: 3, method: 'tools/list' };
    const response = await engine.handleRequest(request, modernCtx(3));
    expect(response).toMatchObject({ result: { tools: [{ name: 'a' }, { name: 'b' }] } });
    expect(seen.map((s) => s.worker).sort()).toEqual(['w1', 'w2']);
  });

  it('a merged list whose workers all fail is a retryable -32016 with a retry hint', async () => {
    const { engine, twin } = harness({ w1: ['a'], w2: ['b'] });
    twin.remove('w1');
    twin.remove('w2');
    const request: JsonRpcRequest = { jsonrpc: '2.0', id: 6, method: 'tools/list' };
    expect(await engine.handleRequest(request, modernCtx(6))).toMatchObject({
      id: 6,
      error: { code: -32016, data: { retryAfterMs: expect.any(Number) } },
    });
  });

  it('moves on when a worker is gone, and says so when none is left', async () => {
    const { engine, twin, seen } = harness({ w1: ['echo'], w2: ['echo'] });
    twin.remove('w1');
    const call = (id: number): JsonRpcRequest => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'echo' },
    });
    for (let id = 10; id < 14; id++) {
      expect(await engine.handleRequest(call(id), modernCtx(id))).toMatchObject({ result: {} });
    }
    // w1 refused once and left the pool; everything else went to w2.
    expect(seen.filter((s) => s.worker === 'w1')).toHaveLength(1);
    twin.remove('w2');
    expect(await engine.handleRequest(call(20), modernCtx(20))).toMatchObject({
      error: { code: -32016 },
    });
  });
});
