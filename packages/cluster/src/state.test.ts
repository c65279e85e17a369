import { describe, expect, it } from 'vitest';

import { describeContract } from './contract.testkit.js';
import { SESSION_CLAIM_TTL_MS } from './keys.js';
import { MemoryComponentRegistry } from './registry-memory.js';
import { MemorySessionStore } from './sessions-memory.js';
import { createClusterState } from './state.js';

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describeContract('memory', () => {
  const c = clock();
  const registry = new MemoryComponentRegistry({ now: c.now, heartbeatTtlMs: 1000 });
  return Promise.resolve({
    sessions: new MemorySessionStore({ now: c.now }),
    registry,
    // Everyone but `id` heartbeats halfway, so only `id` crosses its 1000 ms TTL.
    expireWorker: async (id) => {
      c.advance(600);
      for (const w of await registry.list())
        if (w.workerId !== id) await registry.heartbeat(w.workerId);
      c.advance(600);
    },
    close: () => Promise.resolve(),
  });
});

describe('memory TTLs', () => {
  it('sessions expire when idle, touch slides, tombstones expire too', async () => {
    const c = clock();
    const s = new MemorySessionStore({ now: c.now, ttlMs: 100, tombstoneTtlMs: 50 });
    await s.create('a', { protocolVersion: 'v', clientCapabilities: {} });
    c.advance(90);
    expect(await s.touch('a')).toBe(true);
    c.advance(90);
    expect((await s.get('a')).status).toBe('live');
    c.advance(10);
    expect(await s.get('a')).toEqual({ status: 'unknown' });
    await s.create('b', { protocolVersion: 'v', clientCapabilities: {} });
    await s.delete('b');
    c.advance(49);
    expect(await s.get('b')).toEqual({ status: 'ended' });
    c.advance(1);
    expect(await s.get('b')).toEqual({ status: 'unknown' });
  });

  it('sweeps abandoned sessions so memory does not grow forever', async () => {
    const c = clock();
    const s = new MemorySessionStore({ now: c.now, ttlMs: 100 });
    await s.create('old', { protocolVersion: 'v', clientCapabilities: {} });
    c.advance(120_000);
    await s.create('new', { protocolVersion: 'v', clientCapabilities: {} });
    expect((s as unknown as { entries: Map<string, unknown> }).entries.size).toBe(1);
  });

  it('an expired session or a lapsed claim frees its slot; use slides it', async () => {
    const c = clock();
    const s = new MemorySessionStore({ now: c.now, ttlMs: 100_000 });
    const one = { maxPerOwner: 1, maxTotal: 10 };
    const alice = { protocolVersion: 'v', clientCapabilities: {}, ownerId: 'alice' };
    expect(await s.claimSlot('x', 'alice', one)).toEqual({ ok: true });
    expect(await s.claimSlot('y', 'alice', one)).toMatchObject({ ok: false });
    c.advance(SESSION_CLAIM_TTL_MS);
    expect(await s.claimSlot('y', 'alice', one)).toEqual({ ok: true });
    await s.create('y', alice);
    c.advance(90_000);
    expect(await s.touch('y')).toBe(true);
    c.advance(90_000);
    expect(await s.claimSlot('z', 'alice', one)).toMatchObject({
      ok: false,
      limit: 'principal',
      retryAfterMs: 10_000,
    });
    c.advance(10_000);
    expect(await s.claimSlot('z', 'alice', one)).toEqual({ ok: true });
  });

  it('returned records are copies', async () => {
    const s = new MemorySessionStore();
    const rec = await s.create('a', { protocolVersion: 'v', clientCapabilities: {} });
    rec.subscriptions.push('x');
    const got = await s.get('a');
    expect(got.status === 'live' && got.session.subscriptions).toEqual([]);
  });
});

describe('createClusterState', () => {
  it('wires memory implementations without a Redis URL', async () => {
    await using state = await createClusterState({ prefix: 'x' });
    expect(state.kind).toBe('memory');
    expect(state.keys.session('a')).toBe('x:session:a');
    expect(state.sessions).toBeInstanceOf(MemorySessionStore);
  });
});
