/**
 * Load shedding through a real gateway and worker: the worker publishes a concurrency limit
 * of 1 in its registry record; a request beyond it waits in the gateway's bounded queue and
 * runs when the slot frees, and one that may not wait (queue full, wait timed out) gets 503
 * + Retry-After with its own id and -32016 at once. Slow calls are `slow_compute`, ended by
 * the client's abort.
 */
import { describe, expect, it } from 'vitest';
import { eventually, modernRequest, sampleSum } from '@mcp-cluster/test-support';
import { InProcessCluster, envelopeHeaders, postDispatch } from './in-process.test-support.js';

async function inFlight(workerUrl: string): Promise<number> {
  const res = await fetch(new URL('/healthz', workerUrl));
  return ((await res.json()) as { inFlight: number }).inFlight;
}

async function metric(origin: string, name: string, labels: Record<string, string> = {}) {
  const res = await fetch(new URL('/metrics', origin));
  return sampleSum(await res.text(), name, labels);
}

/** POSTs a modern tools/call; resolves with status, Retry-After and the JSON body. */
async function post(
  url: string,
  tool: string,
  args: Record<string, unknown>,
  id: number,
  signal?: AbortSignal,
): Promise<{ status: number; retryAfter: string | null; body: Record<string, unknown> }> {
  const { body, headers } = modernRequest('tools/call', { name: tool, arguments: args }, { id });
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...headers, accept: 'application/json' },
    body: JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

/** A call that holds the worker's one slot until aborted. */
async function holdSlot(
  gatewayUrl: string,
  workerUrl: string,
): Promise<{ release: () => Promise<void> }> {
  const ac = new AbortController();
  const call = post(gatewayUrl, 'slow_compute', { seconds: 60 }, 1, ac.signal);
  call.catch(() => undefined);
  await eventually('the slow call reached the worker', async () =>
    (await inFlight(workerUrl)) > 0 ? true : undefined,
  );
  return {
    release: async () => {
      ac.abort();
      await eventually('the worker dropped the slow call', async () =>
        (await inFlight(workerUrl)) === 0 ? true : undefined,
      );
    },
  };
}

function expectShed(r: Awaited<ReturnType<typeof post>>, id: number): void {
  expect(r.status).toBe(503);
  expect(r.retryAfter).toBe('1');
  expect(r.body['id']).toBe(id);
  const error = r.body['error'] as { code: number; message: string; data?: unknown };
  expect(error.code).toBe(-32016);
  expect(error.message).toBe('The cluster is at capacity');
  expect(error.data).toEqual({ retryAfterMs: 1000 });
}

describe('load shedding through the gateway', () => {
  it('a request beyond the worker limit waits for the slot and completes', async () => {
    await using cluster = new InProcessCluster();
    const { gateway, worker } = await cluster.gatewayWithWorker({
      gateway: { metricsEnabled: true, gatewayQueueTimeoutMs: 60_000 },
      worker: { maxConcurrency: 1 },
    });
    const slot = await holdSlot(gateway.url, worker.url);
    let done = false;
    const waiting = post(gateway.url, 'test_simple_text', {}, 2).finally(() => {
      done = true;
    });
    await eventually('the request queued', async () =>
      (await metric(gateway.url, 'mcp_gateway_queue_depth')) === 1 ? true : undefined,
    );
    expect(done).toBe(false);
    expect(await inFlight(worker.url)).toBe(1);
    await slot.release();
    const r = await waiting;
    expect(r.status).toBe(200);
    expect(r.body['id']).toBe(2);
    expect(r.body['error']).toBeUndefined();
    expect(await metric(gateway.url, 'mcp_gateway_queue_depth')).toBe(0);
  });

  it('with the queue full, a request gets 503 + Retry-After + its id at once', async () => {
    await using cluster = new InProcessCluster();
    const { gateway, worker } = await cluster.gatewayWithWorker({
      gateway: { metricsEnabled: true, gatewayQueueMax: 1, gatewayQueueTimeoutMs: 60_000 },
      worker: { maxConcurrency: 1 },
    });
    const slot = await holdSlot(gateway.url, worker.url);
    const queued = post(gateway.url, 'test_simple_text', {}, 2);
    await eventually('one request queued', async () =>
      (await metric(gateway.url, 'mcp_gateway_queue_depth')) === 1 ? true : undefined,
    );
    const started = performance.now();
    expectShed(await post(gateway.url, 'test_simple_text', {}, 3), 3);
    // At once: far below the queue timeout.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(
      await metric(gateway.url, 'mcp_gateway_shed_requests_total', { reason: 'queue_full' }),
    ).toBe(1);
    await slot.release();
    expect((await queued).status).toBe(200);
  });

  it('a queued request whose wait times out gets 503 + Retry-After + its id', async () => {
    await using cluster = new InProcessCluster();
    const { gateway, worker } = await cluster.gatewayWithWorker({
      gateway: { metricsEnabled: true, gatewayQueueTimeoutMs: 200 },
      worker: { maxConcurrency: 1 },
    });
    const slot = await holdSlot(gateway.url, worker.url);
    expectShed(await post(gateway.url, 'test_simple_text', {}, 7), 7);
    expect(
      await metric(gateway.url, 'mcp_gateway_shed_requests_total', { reason: 'timeout' }),
    ).toBe(1);
    expect(await metric(gateway.url, 'mcp_gateway_queue_depth')).toBe(0);
    await slot.release();
  });

  it('a worker refuses a request beyond its limit (a gateway that counts only its own)', async () => {
    await using cluster = new InProcessCluster();
    const { gateway, worker } = await cluster.gatewayWithWorker({
      worker: { maxConcurrency: 1 },
    });
    const slot = await holdSlot(gateway.url, worker.url);
    const body = JSON.stringify(
      modernRequest('tools/call', { name: 'test_simple_text', arguments: {} }, { id: 9 }).body,
    );
    const res = await postDispatch(worker.url, envelopeHeaders(), body, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: { code: -32016, message: 'Worker at capacity' },
      reason: 'saturated',
    });
    await slot.release();
    const again = await postDispatch(worker.url, envelopeHeaders(), body, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(again.status).toBe(200);
  });
});
