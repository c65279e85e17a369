/**
 * Clients that hang up mid-call (a modern client closing its stream is its cancellation) are
 * not the worker's fault: the gateway must not count them as worker failures, or a burst of
 * cancellations would eject healthy workers and answer everyone 503.
 */
import { describe, expect, it } from 'vitest';
import { eventually, modernCall, modernRequest, textOf } from '@mcp-cluster/test-support';
import { InProcessCluster } from './in-process.test-support.js';

/** More than the router's passive-ejection threshold of consecutive failures. */
const CANCELLED_CALLS = 8;

async function inFlight(workerUrl: string): Promise<number> {
  const res = await fetch(new URL('/healthz', workerUrl));
  return ((await res.json()) as { inFlight: number }).inFlight;
}

describe('client cancellations through a gateway', () => {
  it('many modern calls cancelled mid-flight leave the worker routable', async () => {
    await using cluster = new InProcessCluster();
    const { gateway, worker } = await cluster.gatewayWithWorker();
    for (let i = 0; i < CANCELLED_CALLS; i++) {
      const { body, headers } = modernRequest('tools/call', {
        name: 'slow_compute',
        arguments: { seconds: 30 },
      });
      const ac = new AbortController();
      const call = fetch(gateway.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: ac.signal,
      });
      call.catch(() => undefined);
      await eventually('the call reached the worker', async () =>
        (await inFlight(worker.url)) > 0 ? true : undefined,
      );
      ac.abort();
      await expect(call).rejects.toThrow();
      await eventually('the worker dropped the cancelled call', async () =>
        (await inFlight(worker.url)) === 0 ? true : undefined,
      );
    }
    const after = await modernCall(gateway.url, 'tools/call', {
      name: 'test_simple_text',
      arguments: {},
    });
    expect(after.response?.['error']).toBeUndefined();
    expect(textOf(after.response?.['result'])).toMatch(/simple text/i);
  });
});
