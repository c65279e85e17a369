/**
 * Behaviour every ApiKeyStore shares; run against memory and file (apikeys.test.ts) and Redis
 * (apikeys.redis.test.ts). All use a fake clock: the stores take time only for createdAt and
 * revokedAt, the provider for expiry.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SecurityStoreError } from '../stores/types.js';
import { hashSecret, parseApiKey } from './format.js';
import { apiKeyProvider } from './provider.js';
import type { ApiKeyInput, ApiKeyStore } from './store.js';

export interface ApiKeyStoreHarness {
  /** The store under test, on the harness clock. */
  readonly store: ApiKeyStore;
  /**
   * A second instance over the same keys: another Redis connection, another reader of the
   * file. Memory has no such thing and gives the same instance.
   */
  readonly other: ApiKeyStore;
  readonly now: () => number;
  readonly advance: (ms: number) => void;
  /** Errors the stores reported through onError. */
  readonly errors: readonly Error[];
  close(): Promise<void>;
}

/** Fake milliseconds clock shared by the harnesses. */
export function fakeClock(start = 1_700_000_000_000): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

export function describeApiKeyStoreContract(
  name: string,
  make: () => Promise<ApiKeyStoreHarness>,
): void {
  describe(`${name}: api key store contract`, () => {
    let h: ApiKeyStoreHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('creates a key shown once; the store keeps only the hash of its secret', async () => {
      const { key, record } = await h.store.create({ principal: 'alice' });
      const parsed = parseApiKey(key);
      if (parsed === undefined) throw new Error(`not a key: ${key}`);
      expect(record).toEqual({
        id: parsed.id,
        principal: 'alice',
        kind: 'user',
        roles: [],
        createdAt: h.now(),
      });
      expect(record).not.toHaveProperty('secretHash');
      const stored = await h.other.get(parsed.id);
      expect(stored).toEqual({ ...record, secretHash: hashSecret(parsed.secret) });
      expect(JSON.stringify(stored)).not.toContain(parsed.secret);
    });

    it('round-trips every field, and de-duplicates roles', async () => {
      const input: ApiKeyInput = {
        principal: 'svc:deployer',
        kind: 'service',
        roles: ['tools:call', 'admin', 'tools:call'],
        name: 'ci deploy bot',
        expiresAt: h.now() + 60_000,
      };
      const { record } = await h.store.create(input);
      expect(record).toEqual({
        id: record.id,
        principal: 'svc:deployer',
        kind: 'service',
        roles: ['tools:call', 'admin'],
        name: 'ci deploy bot',
        expiresAt: h.now() + 60_000,
        createdAt: h.now(),
      });
      expect(await h.other.list()).toEqual([record]);
    });

    it('answers undefined for unknown and malformed ids', async () => {
      await h.store.create({ principal: 'alice' });
      expect(await h.store.get('0123456789ab')).toBeUndefined();
      for (const id of ['', 'index', '__proto__', 'ABCDEF012345', 'x'.repeat(300)]) {
        expect(await h.store.get(id)).toBeUndefined();
        expect(await h.store.revoke(id)).toBe(false);
      }
    });

    it('lists every key oldest first, revoked ones included, never a hash', async () => {
      const a = await h.store.create({ principal: 'a' });
      h.advance(10);
      const b = await h.store.create({ principal: 'b', roles: ['r'] });
      h.advance(10);
      const c = await h.store.create({ principal: 'c' });
      expect(await h.store.revoke(b.record.id)).toBe(true);
      const listed = await h.other.list();
      expect(listed.map((r) => r.principal)).toEqual(['a', 'b', 'c']);
      expect(listed[0]).toEqual(a.record);
      expect(listed[1]).toEqual({ ...b.record, revokedAt: h.now() });
      expect(listed[2]).toEqual(c.record);
      expect(JSON.stringify(listed)).not.toMatch(/secretHash|[0-9a-f]{64}/);
    });

    it('revoke keeps the record and the first revocation time; unknown ids answer false', async () => {
      const { record } = await h.store.create({ principal: 'alice' });
      h.advance(5);
      const revokedAt = h.now();
      expect(await h.store.revoke(record.id)).toBe(true);
      h.advance(5);
      expect(await h.other.revoke(record.id)).toBe(true);
      expect(await h.store.get(record.id)).toMatchObject({ ...record, revokedAt });
      expect(await h.store.revoke('0123456789ab')).toBe(false);
    });

    it('a key revoked through one instance is refused through the other at once', async () => {
      const { key, record } = await h.store.create({ principal: 'alice', roles: ['reader'] });
      const provider = apiKeyProvider({ store: h.other, cacheMs: 0, now: h.now });
      const accepted = await provider.authenticate(bearer(key));
      expect(accepted.type === 'authenticated' ? accepted.principal : accepted).toEqual({
        id: 'apikey:alice',
        kind: 'user',
        roles: ['reader'],
        claims: { apiKeyId: record.id },
      });
      // Connections opened with it find the revocation too (their re-check reads the store).
      const credential = accepted.type === 'authenticated' ? accepted.credential : undefined;
      expect(await credential?.isRevoked?.()).toBe(false);
      expect(await h.store.revoke(record.id)).toBe(true);
      expect(await credential?.isRevoked?.()).toBe(true);
      expect(await provider.authenticate(bearer(key))).toMatchObject({
        type: 'rejected',
        status: 401,
        reason: 'invalid api key',
      });
    });

    it('a key is refused once expired', async () => {
      const { key } = await h.store.create({ principal: 'alice', expiresAt: h.now() + 1_000 });
      const provider = apiKeyProvider({ store: h.other, cacheMs: 0, now: h.now });
      h.advance(999);
      expect((await provider.authenticate(bearer(key))).type).toBe('authenticated');
      h.advance(1);
      expect((await provider.authenticate(bearer(key))).type).toBe('rejected');
    });

    it('refuses invalid input and stores nothing', async () => {
      const bad: ApiKeyInput[] = [
        { principal: '' },
        { principal: 'a\nb' },
        { principal: 'p'.repeat(257) },
        { principal: 'a', roles: ['has space'] },
        { principal: 'a', roles: [''] },
        { principal: 'a', kind: 'anonymous' as 'user' },
        { principal: 'a', name: 'x\u0000' },
        { principal: 'a', expiresAt: h.now() },
        { principal: 'a', expiresAt: h.now() + 0.5 },
      ];
      for (const input of bad) {
        const err = await h.store.create(input).catch((e: unknown) => e);
        expect(err, JSON.stringify(input)).toBeInstanceOf(SecurityStoreError);
        expect((err as SecurityStoreError).kind).toBe('invalid_argument');
      }
      expect(await h.store.list()).toEqual([]);
    });

    it('concurrent creates each get their own id and all persist', async () => {
      const created = await Promise.all(
        Array.from({ length: 20 }, (_, i) => h.store.create({ principal: `p${i}` })),
      );
      expect(new Set(created.map((c) => c.record.id)).size).toBe(20);
      const listed = await h.other.list();
      expect(listed.map((r) => r.id).sort()).toEqual(created.map((c) => c.record.id).sort());
      expect(h.errors).toEqual([]);
    });
  });
}
