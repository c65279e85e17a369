import { describe, expect, it } from 'vitest';

import { chainProviders } from '../authn/chain.js';
import { AuthnError } from '../authn/errors.js';
import { staticTokenProvider } from '../authn/static-token.js';
import type { AuthRequest } from '../authn/types.js';
import { fakeClock } from './contract.testkit.js';
import { generateApiKey } from './format.js';
import { apiKeyProvider, DEFAULT_API_KEY_CACHE_MS } from './provider.js';
import { type ApiKeyStore, MemoryApiKeyStore, type StoredApiKey } from './store.js';

const bearer = (key: string): AuthRequest => ({ headers: { authorization: `Bearer ${key}` } });
const INVALID = {
  type: 'rejected',
  status: 401,
  reason: 'invalid api key',
  wwwAuthenticate: 'Bearer error="invalid_token"',
};

/** A memory store that counts reads and can be made to fail. */
class CountingStore implements ApiKeyStore {
  gets = 0;
  failure: Error | undefined;
  constructor(readonly inner: MemoryApiKeyStore) {}
  create = (...args: Parameters<ApiKeyStore['create']>) => this.inner.create(...args);
  list = () => this.inner.list();
  revoke = (id: string) => this.inner.revoke(id);
  get(id: string): Promise<StoredApiKey | undefined> {
    this.gets++;
    return this.failure === undefined ? this.inner.get(id) : Promise.reject(this.failure);
  }
}

function setup(cacheMs?: number) {
  const clock = fakeClock();
  const store = new CountingStore(new MemoryApiKeyStore({ now: clock.now }));
  const provider = apiKeyProvider({ store, now: clock.now, cacheMs });
  return { clock, store, provider };
}

describe('apiKeyProvider', () => {
  it('authenticates Bearer and X-API-Key, any case, as the key principal', async () => {
    const { store, provider } = setup();
    const { key, record } = await store.create({
      principal: 'deployer',
      kind: 'service',
      roles: ['tools:call'],
    });
    // The record's principal name, in the apikey namespace (principal-ids.ts).
    const principal = {
      id: 'apikey:deployer',
      kind: 'service',
      roles: ['tools:call'],
      claims: { apiKeyId: record.id },
    };
    for (const req of [
      bearer(key),
      { headers: { Authorization: `bearer  ${key}` } },
      { headers: { 'x-api-key': key } },
      { headers: { 'X-Api-Key': ` ${key} ` } },
      { headers: { authorization: `Bearer ${key}`, 'x-api-key': key } },
    ]) {
      const r = await provider.authenticate(req);
      expect(r.type === 'authenticated' ? r.principal : r).toEqual(principal);
      expect(r.type === 'authenticated' ? r.credential : undefined).toMatchObject({
        key: `apikey:${record.id}`,
        revocationIds: [`apikey:${record.id}`],
      });
    }
  });

  it('skips every credential that is not an api key, so other providers can take it', async () => {
    const { store, provider } = setup();
    for (const req of [
      { headers: {} },
      bearer('eyJhbGciOiJSUzI1NiJ9.e30.sig'),
      bearer('static-token-of-some-length'),
      { headers: { authorization: 'Basic YWxpY2U6cHc=' } },
      { headers: { 'x-api-key': 'legacy-key-format' } },
    ]) {
      expect(await provider.authenticate(req)).toEqual({ type: 'skip' });
    }
    expect(store.gets).toBe(0);
    const token = 'static-token-of-some-length';
    const chain = chainProviders([
      provider,
      staticTokenProvider({
        tokens: [{ token, principal: { id: 's', kind: 'service', roles: [] } }],
      }),
    ]);
    expect(await chain.authenticate(bearer(token))).toMatchObject({
      type: 'authenticated',
      principal: { id: 'static:s' },
    });
  });

  it('gives one answer for malformed, unknown, wrong, revoked and expired keys', async () => {
    const { clock, store, provider } = setup(0);
    const good = await store.create({ principal: 'a' });
    const revoked = await store.create({ principal: 'b' });
    await store.revoke(revoked.record.id);
    const expiring = await store.create({ principal: 'c', expiresAt: clock.now() + 10 });
    clock.advance(10);
    const unknown = generateApiKey().key;
    const wrongSecret = `${good.key.slice(0, 18)}${generateApiKey().secret}`;
    for (const key of ['mcpk_', `${good.key}x`, unknown, wrongSecret, revoked.key, expiring.key]) {
      expect(await provider.authenticate(bearer(key)), key).toEqual(INVALID);
      expect(await provider.authenticate({ headers: { 'x-api-key': key } })).toEqual(INVALID);
    }
    expect((await provider.authenticate(bearer(good.key))).type).toBe('authenticated');
  });

  it('refuses two different keys in one request', async () => {
    const { store, provider } = setup();
    const a = await store.create({ principal: 'a' });
    const b = await store.create({ principal: 'b' });
    expect(
      await provider.authenticate({
        headers: { authorization: `Bearer ${a.key}`, 'x-api-key': b.key },
      }),
    ).toEqual({
      type: 'rejected',
      status: 401,
      reason: 'conflicting api keys',
      wwwAuthenticate: 'Bearer error="invalid_request"',
    });
  });

  it('caches a valid key for at most cacheMs: a revocation counts within that time', async () => {
    const { clock, store, provider } = setup();
    const { key, record } = await store.create({ principal: 'a' });
    expect((await provider.authenticate(bearer(key))).type).toBe('authenticated');
    expect(store.gets).toBe(1);
    await store.revoke(record.id);
    // Hits do not extend the entry's life.
    clock.advance(DEFAULT_API_KEY_CACHE_MS - 1);
    expect((await provider.authenticate(bearer(key))).type).toBe('authenticated');
    expect(store.gets).toBe(1);
    clock.advance(1);
    expect(await provider.authenticate(bearer(key))).toEqual(INVALID);
    expect(store.gets).toBe(2);
  });

  it('checks the secret on cache hits, and never caches failures', async () => {
    const { store, provider } = setup();
    const { key } = await store.create({ principal: 'a' });
    await provider.authenticate(bearer(key));
    const wrongSecret = `${key.slice(0, 18)}${generateApiKey().secret}`;
    expect(await provider.authenticate(bearer(wrongSecret))).toEqual(INVALID);
    expect(store.gets).toBe(1);
    const unknown = generateApiKey().key;
    await provider.authenticate(bearer(unknown));
    await provider.authenticate(bearer(unknown));
    expect(store.gets).toBe(3);
  });

  it('expires a cached key at its expiry, not at the end of the cache time', async () => {
    const { clock, store, provider } = setup(1_000);
    const { key } = await store.create({ principal: 'a', expiresAt: clock.now() + 100 });
    expect((await provider.authenticate(bearer(key))).type).toBe('authenticated');
    clock.advance(100);
    expect(await provider.authenticate(bearer(key))).toEqual(INVALID);
  });

  it('with cacheMs 0 asks the store every time', async () => {
    const { store, provider } = setup(0);
    const { key } = await store.create({ principal: 'a' });
    await provider.authenticate(bearer(key));
    await provider.authenticate(bearer(key));
    expect(store.gets).toBe(2);
  });

  it('throws keys_unavailable (a 5xx, not a 401) when the store fails', async () => {
    const { store, provider } = setup();
    const { key } = await store.create({ principal: 'a' });
    const down = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    store.failure = down;
    const err = await provider.authenticate(bearer(key)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthnError);
    expect(err).toMatchObject({ name: 'AuthnError', kind: 'keys_unavailable', cause: down });
    expect((err as Error).message).not.toContain(key);
  });

  it('describes the key for open connections: expiry, revocation id, a re-read past the cache', async () => {
    const { clock, store, provider } = setup();
    const expiresAt = clock.now() + 60_000;
    const { key, record } = await store.create({ principal: 'a', expiresAt });
    const r = await provider.authenticate(bearer(key));
    if (r.type !== 'authenticated' || r.credential === undefined) throw new Error('no credential');
    const { credential } = r;
    expect(credential).toMatchObject({
      key: `apikey:${record.id}`,
      expiresAt,
      revocationIds: [`apikey:${record.id}`],
    });
    // Nothing secret in it.
    expect(JSON.stringify(credential)).not.toContain(key.slice(18));
    const gets = store.gets;
    expect(await credential.isRevoked?.()).toBe(false);
    await store.revoke(record.id);
    // The cache still answers requests; the re-check reads the store.
    expect(await credential.isRevoked?.()).toBe(true);
    expect(store.gets).toBe(gets + 2);
    expect((await provider.authenticate(bearer(key))).type).toBe('authenticated');
    // Once found revoked, the provider forgets its cached record: requests are refused at once.
    credential.forget?.();
    expect(await provider.authenticate(bearer(key))).toEqual(INVALID);
  });

  it('a re-check that cannot read the store rejects (keys_unavailable)', async () => {
    const { store, provider } = setup();
    const { key } = await store.create({ principal: 'a' });
    const r = await provider.authenticate(bearer(key));
    store.failure = new Error('down');
    const check = r.type === 'authenticated' ? r.credential?.isRevoked?.() : undefined;
    await expect(check).rejects.toMatchObject({ kind: 'keys_unavailable' });
  });

  it('refuses a cache time outside 0..1000 ms at construction', () => {
    const store = new MemoryApiKeyStore();
    for (const cacheMs of [-1, 1_001, 1.5, Number.NaN]) {
      expect(() => apiKeyProvider({ store, cacheMs })).toThrow(AuthnError);
    }
    expect(apiKeyProvider({ store, cacheMs: 1_000 }).name).toBe('api-key');
  });
});
