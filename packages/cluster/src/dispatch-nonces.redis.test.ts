/**
 * The dispatch nonce store on a real Redis: one claim per nonce across connections (what two
 * workers are), the key under the cluster's prefix with the replay window as its TTL, and a
 * verifier that fails closed when Redis is gone.
 */
import { redisPair } from './redis.testkit.js';
import { afterAll, describe, expect, it } from 'vitest';
import { DispatchVerifier, signDispatch } from './dispatch-auth.js';
import { RedisDispatchNonceStore } from './dispatch-nonces.js';
import { ENVELOPE_HEADERS } from './envelope.js';
import { createClusterState } from './state.js';
import type { ClusterState } from './state.js';
import { testRedisUrl } from '@mcp-cluster/test-support';

const SECRET = 's'.repeat(43);
const BODY = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
const HEADERS = { [ENVELOPE_HEADERS.era]: 'modern' };
const FRESHNESS = { validityMs: 30_000, clockSkewMs: 5_000 };
/** Workers racing for one nonce. */
const RACERS = 8;

const { keys, a, b } = redisPair();

describe('redis dispatch nonce store', () => {
  it('claims a nonce once, across connections; the key lives for the given ttl', async () => {
    const [first, second] = [
      new RedisDispatchNonceStore(a, keys),
      new RedisDispatchNonceStore(b, keys),
    ];
    expect(await first.claim('nonce-1', 40_000)).toBe(true);
    expect(await second.claim('nonce-1', 40_000)).toBe(false);
    expect(await first.claim('nonce-1', 40_000)).toBe(false);
    expect(await second.claim('nonce-2', 40_000)).toBe(true);

    const key = keys.dispatchNonce('nonce-1');
    expect(key).toMatch(new RegExp(`^${keys.prefix}:cluster:dispatch-nonce:[\\w-]{43}$`));
    const ttl = await a.pttl(key);
    expect(ttl).toBeGreaterThan(30_000);
    expect(ttl).toBeLessThanOrEqual(40_000);
    // Once the record is gone (its TTL ran out), the nonce could be claimed again.
    await a.del(key);
    expect(await second.claim('nonce-1', 40_000)).toBe(true);
  });

  it('of concurrent claims of one nonce exactly one wins', async () => {
    const stores = Array.from(
      { length: RACERS },
      (_, i) => new RedisDispatchNonceStore(i % 2 === 0 ? a : b, keys),
    );
    const wins = await Promise.all(stores.map((s) => s.claim('raced', 10_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it('rejects a ttl that is not a positive integer, without writing', async () => {
    const store = new RedisDispatchNonceStore(a, keys);
    await expect(store.claim('bad-ttl', 0)).rejects.toThrow(RangeError);
    expect(await a.exists(keys.dispatchNonce('bad-ttl'))).toBe(0);
  });
});

describe('dispatch verifiers of two workers on one Redis', () => {
  let states: ClusterState[] = [];

  afterAll(async () => {
    for (const s of states) await s.close();
    states = [];
  });

  async function verifier(): Promise<DispatchVerifier> {
    const state = await createClusterState({ redisUrl: testRedisUrl(), prefix: keys.prefix });
    states.push(state);
    return new DispatchVerifier({ secrets: [SECRET], nonces: state.dispatchNonces, ...FRESHNESS });
  }

  it('a dispatch run by one worker is a replay to the other; a fresh signature runs', async () => {
    const [w1, w2] = [await verifier(), await verifier()];
    const auth = signDispatch(SECRET, HEADERS, BODY);
    const headers = { ...HEADERS, ...auth };
    expect((await w1.verify(headers, BODY)).ok).toBe(true);
    expect(await w2.verify(headers, BODY)).toMatchObject({ ok: false, reason: 'replayed' });
    expect(await w1.verify(headers, BODY)).toMatchObject({ ok: false, reason: 'replayed' });
    const retry = { ...HEADERS, ...signDispatch(SECRET, HEADERS, BODY) };
    expect((await w2.verify(retry, BODY)).ok).toBe(true);
  });

  it('fails closed (replay-check-unavailable) when Redis is unreachable', async () => {
    const state = await createClusterState({ redisUrl: testRedisUrl(), prefix: keys.prefix });
    const w = new DispatchVerifier({
      secrets: [SECRET],
      nonces: state.dispatchNonces,
      ...FRESHNESS,
    });
    await state.close(); // the connection is gone; ioredis does not reconnect a closed client
    const headers = { ...HEADERS, ...signDispatch(SECRET, HEADERS, BODY) };
    expect(await w.verify(headers, BODY)).toEqual({
      ok: false,
      reason: 'replay-check-unavailable',
      message: 'Dispatch replay check unavailable',
    });
  });
});
