import { describe, expect, it } from 'vitest';

import { describeContract } from './contract.testkit.js';
import { MemoryComponentRegistry } from './registry-memory.js';
import { MemoryReplayLog } from './replay-memory.js';
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
    replay: new MemoryReplayLog({ now: c.now }),
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

  it('replay keeps a bounded window and expires idle streams', async () => {
    const c = clock();
    const log = new MemoryReplayLog({ now: c.now, maxLen: 3, ttlMs: 100 });
    const ids = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await log.append('s', { jsonrpc: '2.0', method: 'm', params: { i } }));
    }
    expect(await log.readAfter('s', ids[0] ?? '')).toBeUndefined();
    expect((await log.readAfter('s', ids[2] ?? ''))?.map((e) => e.id)).toEqual(ids.slice(3));
    c.advance(100);
    expect(await log.readAfter('s', ids[3] ?? '')).toBeUndefined();
  });

  it('sweeps abandoned sessions and streams so memory does not grow forever', async () => {
    const c = clock();
    const s = new MemorySessionStore({ now: c.now, ttlMs: 100 });
    await s.create('old', { protocolVersion: 'v', clientCapabilities: {} });
    c.advance(120_000);
    await s.create('new', { protocolVersion: 'v', clientCapabilities: {} });
    expect((s as unknown as { entries: Map<string, unknown> }).entries.size).toBe(1);
    const log = new MemoryReplayLog({ now: c.now, ttlMs: 100 });
    await log.append('old', { jsonrpc: '2.0', method: 'm' });
    c.advance(120_000);
    await log.append('new', { jsonrpc: '2.0', method: 'm' });
    expect((log as unknown as { streams: Map<string, unknown> }).streams.size).toBe(1);
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
