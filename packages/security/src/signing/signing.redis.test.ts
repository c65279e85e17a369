import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { type SecurityKeys, securityKeys } from '../stores/keys.js';
import { RedisNonceStore } from '../stores/redis.js';
import type { SigningKey } from './keys.js';
import { signRequest } from './sign.js';
import { createRequestVerifier, nonceKey, type RequestVerifier } from './verify.js';
import { testRedisUrl as redisUrl, purgePrefix as purge } from '@mcp-cluster/test-support';

const KEY: SigningKey = { id: 'svc-key-1', secret: 'r'.repeat(32), alg: 'HMAC-SHA512' };
const TOLERANCE_MS = 60_000;
const REQUEST = { method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } };

describe('request signing with RedisNonceStore (two gateways)', () => {
  let a: Redis;
  let b: Redis;
  let keys: SecurityKeys;
  let gateway1: RequestVerifier;
  let gateway2: RequestVerifier;
  const verify = (gateway: RequestVerifier, params: Record<string, unknown>) =>
    gateway.verify({ principal: { id: 'svc' }, method: REQUEST.method, params });

  beforeAll(() => {
    a = new Redis(redisUrl());
    b = new Redis(redisUrl());
  });
  beforeEach(() => {
    keys = securityKeys(`t${randomUUID().slice(0, 8)}`);
    const options = { clients: [{ principal: 'svc', keys: [KEY] }], toleranceMs: TOLERANCE_MS };
    gateway1 = createRequestVerifier({ ...options, nonces: new RedisNonceStore(a, keys) });
    gateway2 = createRequestVerifier({ ...options, nonces: new RedisNonceStore(b, keys) });
  });
  afterEach(async () => {
    await purge(a, keys.prefix);
  });
  afterAll(async () => {
    await a.quit();
    await b.quit();
  });

  it('refuses at a second gateway a nonce used at the first', async () => {
    const params = signRequest(REQUEST, KEY);
    expect(await verify(gateway1, params)).toEqual({ ok: true, signed: true, keyId: KEY.id });
    expect(await verify(gateway2, params)).toEqual({ ok: false, reason: 'replayed nonce' });
    expect(await verify(gateway1, params)).toEqual({ ok: false, reason: 'replayed nonce' });
    // A fresh signature passes at either gateway.
    expect((await verify(gateway2, signRequest(REQUEST, KEY))).ok).toBe(true);
  });

  it('stores the nonce per key id with a TTL of twice the tolerance', async () => {
    const nonce = 'redis-nonce-0123456789';
    const params = signRequest(REQUEST, KEY, { nonce });
    expect((await verify(gateway2, params)).ok).toBe(true);
    const ttl = await a.pttl(keys.nonce(nonceKey(KEY.id, nonce)));
    expect(ttl).toBeGreaterThan(TOLERANCE_MS);
    expect(ttl).toBeLessThanOrEqual(2 * TOLERANCE_MS);
  });

  it('admits a request sent to both gateways at once exactly once', async () => {
    const params = signRequest(REQUEST, KEY);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => verify(i % 2 === 0 ? gateway1 : gateway2, params)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'replayed nonce')).toHaveLength(9);
  });

  it('does not claim the nonce of a request whose signature is invalid', async () => {
    const params = signRequest(REQUEST, KEY);
    const forged = { ...params, arguments: { text: 'forged' } };
    expect(await verify(gateway1, forged)).toEqual({ ok: false, reason: 'invalid signature' });
    expect((await verify(gateway2, params)).ok).toBe(true);
  });
});
