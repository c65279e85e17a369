/**
 * The shared breaker records on a real Redis: compare-and-set on the generation across
 * connections (two gateways), a TTL on every key, one trial lock for the cluster that a
 * closing or opening write frees, and a lost holder bounded by the lock's expiry.
 */
import { redisPair } from './redis.testkit.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { RedisBreakerStateStore } from './breaker-state.js';
import { BREAKER_RECORD_TTL_MS } from './keys.js';
import { eventually } from '@mcp-cluster/test-support';

const { keys, a, b } = redisPair();
let storeA: RedisBreakerStateStore;
let storeB: RedisBreakerStateStore;

beforeAll(() => {
  storeA = new RedisBreakerStateStore(a, keys);
  storeB = new RedisBreakerStateStore(b, keys);
});

describe('redis breaker state store', () => {
  it('writes only on the expected generation; generations only grow', async () => {
    const open = { state: 'open', untilInMs: 5_000, updatedBy: 'g-a' } as const;
    const first = await storeA.compareAndSet('w-cas', 0, open);
    expect(first.ok).toBe(true);
    const rec = first.record;
    expect(rec).toMatchObject({ workerId: 'w-cas', state: 'open', updatedBy: 'g-a' });
    expect(rec?.generation).toBeGreaterThan(0);
    expect((rec?.until ?? 0) - (rec?.openedAt ?? 0)).toBe(5_000);

    // B raced with the generation it knew before A's write: it loses and sees A's record.
    const lost = await storeB.compareAndSet('w-cas', 0, { ...open, updatedBy: 'g-b' });
    expect(lost).toEqual({ ok: false, record: rec });
    const closed = await storeB.compareAndSet('w-cas', rec?.generation ?? -1, {
      state: 'closed',
      untilInMs: 0,
      updatedBy: 'g-b',
    });
    expect(closed.ok).toBe(true);
    expect(closed.record).toMatchObject({ state: 'closed', openedAt: 0, until: 0 });
    expect(closed.record?.generation).toBeGreaterThan(rec?.generation ?? 0);
    expect(await storeA.get(['w-cas', 'w-none'])).toEqual([closed.record]);
  });

  it('puts a TTL on the record and on the trial lock', async () => {
    await storeA.compareAndSet('w-ttl', 0, { state: 'open', untilInMs: 100, updatedBy: 'g-a' });
    const ttl = await a.pttl(keys.breaker('w-ttl'));
    expect(ttl).toBeGreaterThan(BREAKER_RECORD_TTL_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(BREAKER_RECORD_TTL_MS);
    const [rec] = await storeA.get(['w-ttl']);
    await storeA.tryTrial('w-ttl', rec?.generation ?? 0, 'g-a', 4_000);
    const lockTtl = await a.pttl(keys.breakerTrial('w-ttl'));
    expect(lockTtl).toBeGreaterThan(0);
    expect(lockTtl).toBeLessThanOrEqual(4_000);
  });

  it('gives the trial to one gateway; ending it frees the lock', async () => {
    const open = await storeA.compareAndSet('w-trial', 0, {
      state: 'open',
      untilInMs: 100,
      updatedBy: 'g-a',
    });
    const gen = open.record?.generation ?? 0;
    const [ta, tb] = await Promise.all([
      storeA.tryTrial('w-trial', gen, 'g-a', 10_000),
      storeB.tryTrial('w-trial', gen, 'g-b', 10_000),
    ]);
    const winners = [ta, tb].filter((t) => t.ok);
    expect(winners).toHaveLength(1);
    const won = winners[0]?.record;
    expect(won?.state).toBe('half-open');
    expect(won?.openedAt).toBe(open.record?.openedAt);
    expect(await a.get(keys.breakerTrial('w-trial'))).toBe(won?.updatedBy);
    // A late attempt with the old generation fails even once the lock is gone.
    const holder = won?.updatedBy === 'g-a' ? storeA : storeB;
    expect(await holder.renewTrial('w-trial', won?.updatedBy ?? '', 10_000)).toBe(true);
    expect(await storeA.renewTrial('w-trial', 'g-nobody', 10_000)).toBe(false);
    const closed = await holder.compareAndSet('w-trial', won?.generation ?? 0, {
      state: 'closed',
      untilInMs: 0,
      updatedBy: won?.updatedBy ?? '',
    });
    expect(closed.ok).toBe(true);
    expect(await a.exists(keys.breakerTrial('w-trial'))).toBe(0);
    expect((await storeB.tryTrial('w-trial', gen, 'g-b', 10_000)).ok).toBe(false);
  });

  it('a lost holder is bounded by the lock: once it lapses another gateway gets the trial', async () => {
    const open = await storeA.compareAndSet('w-lost', 0, {
      state: 'open',
      untilInMs: 100,
      updatedBy: 'g-a',
    });
    const taken = await storeA.tryTrial('w-lost', open.record?.generation ?? 0, 'g-a', 150);
    expect(taken.ok).toBe(true);
    const gen = taken.record?.generation ?? 0;
    expect((await storeB.tryTrial('w-lost', gen, 'g-b', 10_000)).ok).toBe(false);
    const retaken = await eventually('the lock lapses', async () => {
      const t = await storeB.tryTrial('w-lost', gen, 'g-b', 10_000);
      return t.ok ? t : undefined;
    });
    expect(retaken.record).toMatchObject({ state: 'half-open', updatedBy: 'g-b' });
  });
});
