import { describe, expect, it } from 'vitest';

import { MemoryTokenStore, TOKEN_STORE_SWEEP_EVERY } from './store.js';
import { describeTokenStoreContract } from './store.testkit.js';

describeTokenStoreContract('memory', () => {
  const now = (): number => 1_900_000_000_000;
  return Promise.resolve({
    store: new MemoryTokenStore({ now }),
    now,
    close: () => Promise.resolve(),
  });
});

describe('MemoryTokenStore expiry', () => {
  const setup = () => {
    const clock = { ms: 1_000_000 };
    return { clock, store: new MemoryTokenStore({ now: () => clock.ms }) };
  };
  const rec = (expiresAt: number) => ({
    principal: { id: 'u', kind: 'user' as const, roles: [] },
    familyId: 'fam',
    expiresAt,
    secretHash: 'h',
  });

  it('a refresh token and its tombstone end at the token expiry', async () => {
    const { clock, store } = setup();
    await store.saveRefresh('a', rec(clock.ms + 1000));
    await store.saveRefresh('b', rec(clock.ms + 1000));
    expect((await store.consumeRefresh('a', 'h')).status).toBe('ok');
    clock.ms += 999;
    expect((await store.consumeRefresh('a', 'h')).status).toBe('reused');
    clock.ms += 1;
    expect((await store.consumeRefresh('a', 'h')).status).toBe('unknown');
    expect((await store.consumeRefresh('b', 'h')).status).toBe('unknown');
  });

  it('revocations end at their time; a shorter one never cuts a longer one short', async () => {
    const { clock, store } = setup();
    await store.revokeAccess('j', clock.ms + 1000);
    await store.revokeAccess('j', clock.ms + 10);
    await store.revokeFamily('f', clock.ms + 500);
    clock.ms += 999;
    expect(await store.isRevoked({ jti: 'j' })).toBe(true);
    expect(await store.isRevoked({ familyId: 'f' })).toBe(false);
    clock.ms += 1;
    expect(await store.isRevoked({ jti: 'j' })).toBe(false);
  });

  it('sweeps expired entries, so memory is bounded by the live ones', async () => {
    const { clock, store } = setup();
    for (let i = 0; i < TOKEN_STORE_SWEEP_EVERY - 1; i++) {
      await store.revokeAccess(`old-${i}`, clock.ms + 10);
    }
    expect(store.size).toBe(TOKEN_STORE_SWEEP_EVERY - 1);
    clock.ms += 10;
    await store.revokeAccess('trigger', clock.ms + 10);
    expect(store.size).toBe(1);
  });
});
