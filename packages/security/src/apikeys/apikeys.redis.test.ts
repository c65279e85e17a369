import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { AuthnError } from '../authn/errors.js';
import { type SecurityKeys, securityKeys } from '../stores/keys.js';
import { SecurityStoreError } from '../stores/types.js';
import { describeApiKeyStoreContract, fakeClock } from './contract.testkit.js';
import { openApiKeyStore } from './create.js';
import { hashSecret, parseApiKey } from './format.js';
import { apiKeyProvider } from './provider.js';
import { RedisApiKeyStore } from './redis-store.js';
import {
  testRedisUrl as redisUrl,
  testKeyPrefix as testPrefix,
  purgePrefix as purge,
} from '@mcp-cluster/test-support';

describeApiKeyStoreContract('redis', () => {
  // Two connections: `other` stands for another gateway.
  const a = new Redis(redisUrl());
  const b = new Redis(redisUrl());
  const keys = securityKeys(testPrefix());
  const clock = fakeClock();
  const errors: Error[] = [];
  const options = { now: clock.now, onError: (err: Error) => errors.push(err) };
  return Promise.resolve({
    store: new RedisApiKeyStore(a, keys, options),
    other: new RedisApiKeyStore(b, keys, options),
    ...clock,
    errors,
    close: async () => {
      await purge(a, keys.prefix);
      await a.quit();
      await b.quit();
    },
  });
});

describe('redis api key store specifics', () => {
  let keys: SecurityKeys;
  let a: Redis;
  let b: Redis;
  beforeAll(() => {
    a = new Redis(redisUrl());
    b = new Redis(redisUrl());
  });
  beforeEach(() => {
    keys = securityKeys(testPrefix());
  });
  afterEach(async () => {
    await purge(a, keys.prefix);
  });
  afterAll(async () => {
    await a.quit();
    await b.quit();
  });

  it('stores one JSON string per key, without TTL, and indexes its id', async () => {
    const store = new RedisApiKeyStore(a, keys);
    const { key, record } = await store.create({ principal: 'alice', roles: ['r'] });
    const secret = parseApiKey(key)?.secret ?? '';
    expect(await a.type(keys.apiKey(record.id))).toBe('string');
    expect(await a.pttl(keys.apiKey(record.id))).toBe(-1);
    const raw = (await a.get(keys.apiKey(record.id))) ?? '';
    expect(JSON.parse(raw)).toEqual({ ...record, secretHash: hashSecret(secret) });
    expect(raw).not.toContain(secret);
    expect(await a.smembers(keys.apiKeyIndex)).toEqual([record.id]);
  });

  it('a corrupt record is reported and treated as absent, never a crash', async () => {
    const errors: Error[] = [];
    const store = new RedisApiKeyStore(a, keys, { onError: (e) => errors.push(e) });
    const good = await store.create({ principal: 'good' });
    const notJson = await store.create({ principal: 'x' });
    const badShape = await store.create({ principal: 'y' });
    const wrongId = await store.create({ principal: 'z' });
    await a.set(keys.apiKey(notJson.record.id), '{"secretHash": "00');
    await a.set(
      keys.apiKey(badShape.record.id),
      JSON.stringify({ ...badShape.record, secretHash: 'nope' }),
    );
    await a.set(keys.apiKey(wrongId.record.id), (await a.get(keys.apiKey(good.record.id))) ?? '');

    expect(await store.list()).toEqual([good.record]);
    expect(errors.map((e) => e.message).sort()).toEqual(
      [
        `api key record ${notJson.record.id} is not JSON`,
        `api key record ${badShape.record.id} is corrupt`,
        `api key record ${wrongId.record.id} is corrupt`,
      ].sort(),
    );
    expect(errors.every((e) => e instanceof SecurityStoreError)).toBe(true);
    // No error message leaks the stored hash.
    expect(errors.some((e) => /[0-9a-f]{64}/.test(e.message))).toBe(false);
    const provider = apiKeyProvider({ store, cacheMs: 0 });
    for (const k of [notJson.key, badShape.key, wrongId.key]) {
      expect((await provider.authenticate({ headers: { 'x-api-key': k } })).type).toBe('rejected');
    }
    expect(await store.revoke(notJson.record.id)).toBe(false);
  });

  it('an indexed id whose record was deleted is left out of the list', async () => {
    const store = new RedisApiKeyStore(a, keys);
    const gone = await store.create({ principal: 'gone' });
    const kept = await store.create({ principal: 'kept' });
    await a.del(keys.apiKey(gone.record.id));
    expect(await store.list()).toEqual([kept.record]);
  });

  it('a revocation on one connection is seen by a provider on another, even one with a cache, within cacheMs', async () => {
    const clock = fakeClock();
    const writer = new RedisApiKeyStore(a, keys, { now: clock.now });
    const provider = apiKeyProvider({
      store: new RedisApiKeyStore(b, keys),
      now: clock.now,
      cacheMs: 1_000,
    });
    const { key, record } = await writer.create({ principal: 'alice' });
    expect((await provider.authenticate({ headers: { 'x-api-key': key } })).type).toBe(
      'authenticated',
    );
    expect(await writer.revoke(record.id)).toBe(true);
    clock.advance(1_000);
    expect((await provider.authenticate({ headers: { 'x-api-key': key } })).type).toBe('rejected');
  });

  it('the provider throws keys_unavailable when Redis cannot be reached', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
    try {
      const provider = apiKeyProvider({ store: new RedisApiKeyStore(down, keys) });
      const key = (await new RedisApiKeyStore(a, keys).create({ principal: 'alice' })).key;
      await expect(provider.authenticate({ headers: { 'x-api-key': key } })).rejects.toSatisfy(
        (err) => err instanceof AuthnError && err.kind === 'keys_unavailable',
      );
    } finally {
      down.disconnect();
    }
  });

  it('openApiKeyStore with a Redis URL is the Redis store under the cluster prefix', async () => {
    const opened = await openApiKeyStore({ redisUrl: redisUrl(), prefix: keys.prefix });
    try {
      expect(opened.kind).toBe('redis');
      const { record } = await opened.store.create({ principal: 'alice' });
      expect(await a.exists(keys.apiKey(record.id))).toBe(1);
    } finally {
      await opened.close();
    }
    await expect(
      openApiKeyStore({ redisUrl: 'redis://127.0.0.1:1', prefix: keys.prefix }),
    ).rejects.toThrow();
  });
});
