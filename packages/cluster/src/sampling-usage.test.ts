import { describe, expect, it } from 'vitest';
import { MemoryUsageStore } from './sampling-usage.js';

describe('MemoryUsageStore', () => {
  it('reserves up to the limits, refuses beyond, and forgets ended windows', async () => {
    let now = 1_000;
    const store = new MemoryUsageStore(() => now);
    const limits = { tokens: 100, cost: 1 };
    expect(await store.reserve('k', { tokens: 60, cost: 0.5 }, limits, 500)).toEqual({
      ok: true,
      usage: { tokens: 60, cost: 0.5 },
    });
    expect(await store.reserve('k', { tokens: 41, cost: 0 }, limits, 500)).toEqual({
      ok: false,
      usage: { tokens: 60, cost: 0.5 },
    });
    expect((await store.reserve('k', { tokens: 1, cost: 0.6 }, limits, 500)).ok).toBe(false);
    await store.add('k', { tokens: -30, cost: 0 }, 500);
    expect((await store.reserve('k', { tokens: 41, cost: 0 }, limits, 500)).ok).toBe(true);
    now += 500;
    expect(await store.reserve('k', { tokens: 100, cost: 1 }, limits, 500)).toEqual({
      ok: true,
      usage: { tokens: 100, cost: 1 },
    });
  });
});
