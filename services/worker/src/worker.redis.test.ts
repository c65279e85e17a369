/**
 * The worker process's own contracts, in-process against real Redis + NATS: registration
 * with heartbeats, /healthz, cancellation when the gateway hangs up, and the drain on close
 * (stop taking work, finish in-flight work within drainMs, unregister, announce WorkerDown).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  BusEventType,
  DISPATCH_HEADERS,
  DISPATCH_PATH,
  HEALTH_PATH,
  WORKER_HEARTBEAT_TTL_MS,
  clusterKeys,
  createEventBus,
} from '@mcp-cluster/cluster';
import type { BusEvent } from '@mcp-cluster/cluster';
import { defineTool } from '@mcp-cluster/components';
import { RpcError } from '@mcp-cluster/protocol';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_EVENTUALLY_TIMEOUT_MS,
  LEGACY_VERSION,
  eventually,
  modernRequest,
  testServices,
  textOf,
  within,
} from '@mcp-cluster/test-support';
import { InProcessWorkers, envelopeHeaders, postDispatch } from './in-process.test-support.js';
import type { RunningWorker } from './index.js';

/** The CLI's logging tests serve the same pack: one fixture for every process kind. */
const THROWING_PACK = fileURLToPath(
  new URL('../../cli/src/test-fixtures/throwing-pack.ts', import.meta.url),
);

/** Slack on top of drainMs for the rest of close() (unregister, bus flush, socket close). */
const CLOSE_SLACK_MS = 3_000;

interface Health {
  status: string;
  inFlight: number;
}

async function health(worker: RunningWorker): Promise<{ status: number; body: Health }> {
  const res = await fetch(`${worker.url}${HEALTH_PATH}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: (await res.json()) as Health };
}

/** POSTs a modern tools/call to the worker; resolves with the raw answer. */
async function callTool(
  worker: RunningWorker,
  name: string,
  args: Record<string, unknown>,
  signal: AbortSignal = AbortSignal.timeout(20_000),
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await postDispatch(
    worker.url,
    envelopeHeaders(),
    JSON.stringify(modernRequest('tools/call', { name, arguments: args }).body),
    { signal },
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const inFlight = (worker: RunningWorker, n: number) => async () =>
  (await health(worker)).body.inFlight === n ? true : undefined;

describe('worker registration', () => {
  it('lists itself in the registry with its url, weight and component names', async () => {
    await using cluster = new InProcessWorkers();
    const worker = await cluster.worker({ nodeId: 'w-reg', weight: 3 });
    const state = await cluster.state();
    const [info, ...others] = await state.registry.list();
    expect(others).toEqual([]);
    expect(info).toMatchObject({ workerId: 'w-reg', url: worker.url, weight: 3 });
    expect(worker.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    expect(info?.components.tools).toEqual(
      expect.arrayContaining(['test_simple_text', 'test_sampling', 'slow_compute']),
    );
    expect(info?.components.prompts).toContain('test_simple_prompt');
    expect(info?.components.resources).toContain('test://static-text');
    expect(info?.components.tools).toEqual(
      worker.engine.registry.toolDescriptors.map((t) => t.name),
    );
  });

  it('publishes the tools annotated read-only or idempotent as repeatable, at once when added', async () => {
    await using cluster = new InProcessWorkers();
    const worker = await cluster.worker({ nodeId: 'w-repeatable' });
    const state = await cluster.state();
    const record = async () => (await state.registry.list())[0]?.components;
    expect((await record())?.repeatableTools).toEqual([]);
    worker.engine.registry.add(
      defineTool({
        name: 'lookup_row',
        description: 'reads',
        annotations: { readOnlyHint: true },
        handler: () => 'row',
      }),
    );
    worker.engine.registry.add(
      defineTool({
        name: 'put_row',
        description: 'writes the same row again',
        annotations: { readOnlyHint: false, idempotentHint: true },
        handler: () => 'ok',
      }),
    );
    worker.engine.registry.add(
      defineTool({ name: 'append_row', description: 'writes', handler: () => 'ok' }),
    );
    await eventually('the re-registered record', async () =>
      (await record())?.tools.includes('append_row') === true ? true : undefined,
    );
    expect((await record())?.repeatableTools).toEqual(['lookup_row', 'put_row']);
  });

  it('heartbeats renew the record TTL, and a lapsed record is registered again', async () => {
    await using cluster = new InProcessWorkers();
    const worker = await cluster.worker();
    const key = clusterKeys(cluster.prefix).worker(worker.id);
    const redis = new Redis(testServices().redisUrl);
    try {
      const first = await redis.pttl(key);
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThanOrEqual(WORKER_HEARTBEAT_TTL_MS);
      // The TTL only counts down between heartbeats; a reading above the previous one means
      // a heartbeat renewed it.
      let previous = first;
      await eventually('a heartbeat renews the TTL', async () => {
        const now = await redis.pttl(key);
        const renewed = now > previous;
        previous = now;
        return renewed ? true : undefined;
      });
      // The record lapses (as after a long pause): the next heartbeat registers again.
      await redis.del(key);
      const state = await cluster.state();
      const back = await eventually('the worker re-registers', async () =>
        (await state.registry.list()).find((w) => w.workerId === worker.id),
      );
      expect(back.url).toBe(worker.url);
      expect(await redis.pttl(key)).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });
});

describe('worker /healthz and unknown routes', () => {
  it('answers 200 ok with nothing in flight; other paths are 404', async () => {
    await using cluster = new InProcessWorkers();
    const worker = await cluster.worker();
    expect(await health(worker)).toEqual({ status: 200, body: { status: 'ok', inFlight: 0 } });
    expect((await fetch(`${worker.url}/nope`)).status).toBe(404);
    expect((await fetch(`${worker.url}${DISPATCH_PATH}`)).status).toBe(404); // GET
    expect((await fetch(`${worker.url}${HEALTH_PATH}`, { method: 'POST' })).status).toBe(404);
  });
});

describe('worker error log', () => {
  it('a tool that throws is logged with its stack, tool name and request id', async () => {
    await using cluster = new InProcessWorkers();
    const worker = await cluster.worker({ packs: [THROWING_PACK] });
    const { status, body } = await callTool(worker, 'explode', {});
    expect(status).toBe(200);
    expect(body['error']).toMatchObject({ code: RpcError.InternalError.code });
    const failure = cluster.logs.find((l) => l.msg === 'handler failed');
    expect(failure).toMatchObject({
      level: 'error',
      fields: {
        method: 'tools/call',
        tool: 'explode',
        id: body['id'],
        err: { message: 'inventory file is missing' },
      },
    });
    const err = failure?.fields?.['err'] as { stack: string };
    expect(err.stack).toContain('readInventory');
  });
});

describe('worker cancellation', () => {
  it('a gateway hanging up on a modern request aborts the handler', async () => {
    await using cluster = new InProcessWorkers();
    const worker = await cluster.worker();
    const ac = new AbortController();
    const call = callTool(worker, 'slow_compute', { seconds: 30 }, ac.signal);
    call.catch(() => undefined);
    await eventually('the call is in flight', inFlight(worker, 1));
    ac.abort();
    await expect(call).rejects.toThrow();
    // Well before the tool's 30 s: the abort reached the handler.
    await eventually('the aborted call leaves', inFlight(worker, 0), { timeoutMs: 5_000 });
  });

  it('a legacy notifications/cancelled published on the bus aborts the running request', async () => {
    await using cluster = new InProcessWorkers();
    const { text } = await cancelOverBus(cluster);
    // The dispatch ends long before the tool's 30 s, without the tool's result.
    expect(text).not.toContain('Computed');
  });

  it('the cancelled request answers the -32010 marker, not -32603', async () => {
    await using cluster = new InProcessWorkers();
    const { text } = await cancelOverBus(cluster);
    const response = JSON.parse(text) as { error?: { code: number } };
    expect(response.error?.code).toBe(RpcError.RequestCancelled.code);
  });
});

/**
 * A legacy session on a fresh worker, a 30 s slow_compute in flight, and the bus event a
 * gateway publishes for the client's notifications/cancelled. Returns the dispatch's body.
 */
async function cancelOverBus(cluster: InProcessWorkers): Promise<{ status: number; text: string }> {
  const worker = await cluster.worker();
  const sessionId = `s-${randomUUID()}`;
  const version = await openLegacySession(cluster, worker, sessionId);
  const call = postDispatch(
    worker.url,
    legacyHeaders(sessionId, { [DISPATCH_HEADERS.sessionVersion]: version }),
    JSON.stringify({
      jsonrpc: '2.0',
      id: 'slow-1',
      method: 'tools/call',
      params: { name: 'slow_compute', arguments: { seconds: 30 } },
    }),
    { signal: AbortSignal.timeout(20_000) },
  );
  call.catch(() => undefined);
  await eventually('the call is in flight', inFlight(worker, 1));
  const bus = await createEventBus({ natsUrl: testServices().natsUrl, prefix: cluster.prefix });
  try {
    bus.publish({
      type: BusEventType.SessionCancel,
      sessionId,
      requestId: 'slow-1',
      reason: 'test',
    });
    await bus.flush();
    const res = await within(10_000, 'the cancelled call ends', call);
    const text = await res.text();
    await eventually('nothing left in flight', inFlight(worker, 0), { timeoutMs: 5_000 });
    return { status: res.status, text };
  } finally {
    await bus.close();
  }
}

describe('worker drain on close()', () => {
  it('healthz 503 and dispatches 503 while draining; in-flight work finishes; unregisters', async () => {
    await using cluster = new InProcessWorkers();
    const drainMs = 5_000;
    const worker = await cluster.worker({ nodeId: 'w-drain', drainMs });
    const state = await cluster.state();
    const bus = await createEventBus({ natsUrl: testServices().natsUrl, prefix: cluster.prefix });
    const down = new Promise<BusEvent>((resolve, reject) => {
      bus
        .subscribe({ types: [BusEventType.WorkerDown] }, resolve)
        .catch((err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
    });
    try {
      await bus.flush();
      const held = callTool(worker, 'slow_compute', { seconds: 0.5, label: 'held' });
      await eventually('the call is in flight', inFlight(worker, 1));

      const started = Date.now();
      const closing = worker.close();
      expect(worker.close()).toBe(closing); // idempotent: one drain

      expect(await health(worker)).toEqual({
        status: 503,
        body: { status: 'draining', inFlight: 1 },
      });
      const refused = await callTool(worker, 'test_simple_text', {});
      expect(refused).toEqual({
        status: 503,
        body: { error: { code: RpcError.Unavailable.code, message: 'Worker is draining' } },
      });
      await eventually('the registry drops the worker', async () =>
        (await state.registry.list()).length === 0 ? true : undefined,
      );
      expect(await within(DEFAULT_EVENTUALLY_TIMEOUT_MS, 'WorkerDown on the bus', down)).toEqual({
        type: BusEventType.WorkerDown,
        workerId: 'w-drain',
        reason: 'drain',
      });

      // The in-flight call completes normally, then close() returns, before drainMs.
      const answer = await held;
      expect(answer.status).toBe(200);
      expect(textOf(answer.body['result'])).toBe('Computed held in 0.5s');
      await within(drainMs + CLOSE_SLACK_MS, 'close() after the drain', closing);
      expect(Date.now() - started).toBeLessThan(drainMs);
      await expect(fetch(`${worker.url}${HEALTH_PATH}`)).rejects.toThrow();
    } finally {
      await bus.close();
    }
  });

  it('while draining, a client answer to in-flight sampling is still accepted', async () => {
    await using cluster = new InProcessWorkers();
    const worker = await cluster.worker({ drainMs: 3_000 });
    const sessionId = `s-${randomUUID()}`;
    const version = await openLegacySession(cluster, worker, sessionId, { sampling: {} });
    const res = await postDispatch(
      worker.url,
      legacyHeaders(sessionId, { [DISPATCH_HEADERS.sessionVersion]: version }),
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'call-1',
        method: 'tools/call',
        params: { name: 'test_sampling', arguments: { prompt: 'during drain' } },
      }),
      { signal: AbortSignal.timeout(20_000) },
    );
    const lines = ndjsonLines(res);
    const sampling = await within(10_000, 'the sampling request', lines.next());
    expect(sampling.value).toMatchObject({ method: 'sampling/createMessage' });
    const closing = worker.close();
    try {
      const answer = await postDispatch(
        worker.url,
        legacyHeaders(sessionId, { [DISPATCH_HEADERS.sessionVersion]: version }),
        JSON.stringify({
          jsonrpc: '2.0',
          id: (sampling.value as { id: unknown }).id,
          result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'ok' } },
        }),
      );
      expect(answer.status).toBe(202);
      const final = await within(10_000, 'the tool result', lines.next());
      expect(textOf((final.value as { result?: unknown }).result)).toBe('LLM response: ok');
    } finally {
      await closing;
    }
  });

  it('work that outlives drainMs is cut off: close() still returns within the bound', async () => {
    await using cluster = new InProcessWorkers();
    const drainMs = 300;
    const worker = await cluster.worker({ drainMs });
    const held = callTool(worker, 'slow_compute', { seconds: 30 });
    const outcome = held.then(
      (answer) => ({ answered: answer }),
      (err: unknown) => ({ failed: err }),
    );
    await eventually('the call is in flight', inFlight(worker, 1));
    const started = Date.now();
    await within(drainMs + CLOSE_SLACK_MS, 'close() with work still running', worker.close());
    expect(Date.now() - started).toBeGreaterThanOrEqual(drainMs - 50);
    // The call did not run to completion; the gateway sees a broken or failed dispatch.
    const result = await within(5_000, 'the cut call settles', outcome);
    if ('answered' in result) {
      expect(textOf(result.answered.body['result'])).not.toContain('Computed');
    } else {
      expect(result.failed).toBeInstanceOf(Error);
    }
  });
});

function legacyHeaders(sessionId: string, extra: Record<string, string>): Record<string, string> {
  return {
    ...envelopeHeaders({ era: 'legacy', protocolVersion: LEGACY_VERSION, sessionId }),
    ...extra,
  };
}

/** initialize through the worker with the session-new header; returns the stored version. */
async function openLegacySession(
  cluster: InProcessWorkers,
  worker: RunningWorker,
  sessionId: string,
  capabilities: Record<string, unknown> = {},
): Promise<string> {
  const init = await postDispatch(
    worker.url,
    legacyHeaders(sessionId, { [DISPATCH_HEADERS.sessionNew]: '1' }),
    JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: LEGACY_VERSION,
        capabilities,
        clientInfo: { name: 'worker-test', version: '1.0.0' },
      },
    }),
  );
  expect(init.status).toBe(200);
  await init.body?.cancel();
  const state = await cluster.state();
  const found = await state.sessions.get(sessionId);
  if (found.status !== 'live') throw new Error(`session ${sessionId} is ${found.status}`);
  return String(found.session.version);
}

/** The JSON values of an NDJSON response body, one per line, as they arrive. */
async function* ndjsonLines(res: Response): AsyncGenerator<unknown, void> {
  if (res.body === null) return;
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    rest += decoder.decode(chunk, { stream: true });
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line.trim() !== '') yield JSON.parse(line) as unknown;
    }
  }
}
