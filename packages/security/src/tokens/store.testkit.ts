/**
 * One behaviour suite for every TokenStore: run against memory (store.test.ts) and Redis
 * (tokens.redis.test.ts). Times are relative to the store's clock, which these cases never
 * need to advance; expiry is checked per implementation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RefreshRecord, TokenStore } from './store.js';

export interface StoreHarness {
  readonly store: TokenStore;
  /** The store's clock. */
  readonly now: () => number;
  readonly close: () => Promise<void>;
}

let counter = 0;
const unique = (what: string): string => `${what}-${Date.now()}-${++counter}`;

function record(h: StoreHarness, familyId: string, secretHash = 'hash-1'): RefreshRecord {
  return {
    principal: { id: 'svc', kind: 'service', roles: ['a', 'b'], claims: { dropped: true } },
    familyId,
    expiresAt: h.now() + 60_000,
    grantExpiresAt: h.now() + 3_600_000,
    secretHash,
  };
}

export function describeTokenStoreContract(
  name: string,
  create: () => Promise<StoreHarness>,
): void {
  describe(`TokenStore contract (${name})`, () => {
    let h: StoreHarness;
    beforeAll(async () => {
      h = await create();
    });
    afterAll(async () => {
      await h.close();
    });

    it('consumes a refresh token once; later attempts are reuse', async () => {
      const jti = unique('jti');
      const fam = unique('fam');
      await h.store.saveRefresh(jti, record(h, fam));
      const first = await h.store.consumeRefresh(jti, 'hash-1');
      expect(first.status).toBe('ok');
      if (first.status !== 'ok') return;
      const saved = record(h, fam);
      expect(first.record).toMatchObject({
        familyId: fam,
        expiresAt: expect.closeTo(saved.expiresAt, -3) as number,
        grantExpiresAt: expect.closeTo(saved.grantExpiresAt ?? 0, -3) as number,
        secretHash: 'hash-1',
        principal: { id: 'svc', kind: 'service', roles: ['a', 'b'] },
      });
      expect(first.record.principal.claims).toBeUndefined();
      expect(await h.store.consumeRefresh(jti, 'hash-1')).toEqual({
        status: 'reused',
        familyId: fam,
      });
      expect(await h.store.consumeRefresh(jti, 'hash-1')).toEqual({
        status: 'reused',
        familyId: fam,
      });
    });

    it('a token saved again after its consume is live again (a refused refresh puts it back)', async () => {
      const jti = unique('jti');
      const saved = record(h, unique('fam'));
      await h.store.saveRefresh(jti, saved);
      expect((await h.store.consumeRefresh(jti, 'hash-1')).status).toBe('ok');
      await h.store.saveRefresh(jti, saved);
      expect((await h.store.consumeRefresh(jti, 'hash-1')).status).toBe('ok');
      expect((await h.store.consumeRefresh(jti, 'hash-1')).status).toBe('reused');
    });

    it('a wrong secret hash consumes nothing and is never reuse', async () => {
      const jti = unique('jti');
      await h.store.saveRefresh(jti, record(h, unique('fam')));
      expect(await h.store.consumeRefresh(jti, 'wrong')).toEqual({ status: 'unknown' });
      expect((await h.store.consumeRefresh(jti, 'hash-1')).status).toBe('ok');
      expect(await h.store.consumeRefresh(jti, 'wrong')).toEqual({ status: 'unknown' });
      expect(await h.store.consumeRefresh(unique('never'), 'hash-1')).toEqual({
        status: 'unknown',
      });
    });

    it('concurrent consumes of one token: exactly one ok', async () => {
      const jti = unique('jti');
      await h.store.saveRefresh(jti, record(h, unique('fam')));
      const results = await Promise.all(
        Array.from({ length: 20 }, () => h.store.consumeRefresh(jti, 'hash-1')),
      );
      expect(results.filter((r) => r.status === 'ok')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'reused')).toHaveLength(19);
    });

    it('revokes access token ids and families independently', async () => {
      const jti = unique('jti');
      const fam = unique('fam');
      expect(await h.store.isRevoked({ jti, familyId: fam })).toBe(false);
      await h.store.revokeAccess(jti, h.now() + 60_000);
      expect(await h.store.isRevoked({ jti })).toBe(true);
      expect(await h.store.isRevoked({ familyId: fam })).toBe(false);
      await h.store.revokeFamily(fam, h.now() + 60_000);
      expect(await h.store.isRevoked({ jti: unique('other'), familyId: fam })).toBe(true);
      expect(await h.store.isRevoked({})).toBe(false);
    });

    it('ignores revocations and refresh tokens that have already expired', async () => {
      const jti = unique('jti');
      await h.store.revokeAccess(jti, h.now() - 1);
      await h.store.revokeFamily(jti, h.now());
      expect(await h.store.isRevoked({ jti, familyId: jti })).toBe(false);
      await h.store.saveRefresh(jti, { ...record(h, unique('fam')), expiresAt: h.now() - 1 });
      expect(await h.store.consumeRefresh(jti, 'hash-1')).toEqual({ status: 'unknown' });
    });
  });
}
