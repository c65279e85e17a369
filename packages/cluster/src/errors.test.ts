/**
 * outageAsUnavailable: a store's outage becomes the retryable -32016 (with Retry-After), its
 * answers pass unchanged, and named reads ride through a short outage before giving up.
 */
import { ProtocolError, RpcError } from '@mcp-cluster/protocol';
import { describe, expect, it } from 'vitest';
import { ClusterStateError, outageAsUnavailable } from './errors.js';

/** A store whose `read` fails `failures` times (a connection error), then answers. */
function flakyStore(failures: number) {
  let calls = 0;
  return {
    get calls(): number {
      return calls;
    },
    read(): Promise<string> {
      calls++;
      return calls <= failures
        ? Promise.reject(new Error('Connection is closed.'))
        : Promise.resolve('value');
    },
    corrupt(): Promise<string> {
      calls++;
      return Promise.reject(new ClusterStateError('corrupt', 'bad value'));
    },
  };
}

describe('outageAsUnavailable', () => {
  it('turns an outage into -32016 with a retry hint, and lets answers through', async () => {
    const store = outageAsUnavailable(flakyStore(1));
    const err = await store.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({
      code: RpcError.Unavailable.code,
      data: { retryAfterMs: expect.any(Number) },
    });
    await expect(store.corrupt()).rejects.toBeInstanceOf(ClusterStateError);
  });

  it('tries a named read again until the store answers, within the budget', async () => {
    const inner = flakyStore(2);
    const store = outageAsUnavailable(inner, {
      rideThrough: { methods: ['read', 'corrupt'], forMs: 5_000 },
    });
    await expect(store.read()).resolves.toBe('value');
    expect(inner.calls).toBe(3);
    // An answer (corrupt data) is not an outage: not tried again.
    await expect(store.corrupt()).rejects.toBeInstanceOf(ClusterStateError);
    expect(inner.calls).toBe(4);
  });

  it('gives up with -32016 once the budget would be spent', async () => {
    const inner = flakyStore(Number.POSITIVE_INFINITY);
    const store = outageAsUnavailable(inner, { rideThrough: { methods: ['read'], forMs: 250 } });
    await expect(store.read()).rejects.toMatchObject({ code: RpcError.Unavailable.code });
    // 100 ms, then 200 ms would pass the 250 ms budget: two tries.
    expect(inner.calls).toBe(2);
  });
});
