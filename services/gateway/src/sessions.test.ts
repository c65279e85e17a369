import { MemoryEventBus, MemorySessionStore } from '@mcp-cluster/cluster';
import type { SessionStore } from '@mcp-cluster/cluster';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewaySessions } from './sessions.js';

const errors: string[] = [];
let sessions: GatewaySessions | undefined;

afterEach(() => {
  sessions?.close();
  sessions = undefined;
  errors.length = 0;
});

function gatewaySessions(
  store: SessionStore,
  limits = { maxPerPrincipal: 2, maxTotal: 3 },
): GatewaySessions {
  sessions = new GatewaySessions(
    store,
    new MemoryEventBus(),
    () => undefined,
    (_err, what) => errors.push(what),
    limits,
  );
  return sessions;
}

/** What a worker does once initialize succeeded: the record takes the claimed slot. */
async function initialized(store: SessionStore, id: string, ownerId: string): Promise<void> {
  await store.create(id, { protocolVersion: '2025-06-18', clientCapabilities: {}, ownerId });
}

describe('GatewaySessions.open: session slots shared through the store', () => {
  it('refuses beyond the per-principal cap (-32012) and the cluster cap (-32016)', async () => {
    const store = new MemorySessionStore();
    const s = gatewaySessions(store);
    await s.open('alice');
    await s.open('alice');
    await expect(s.open('alice')).rejects.toMatchObject({
      code: -32012,
      data: { limit: 'maxSessionsPerPrincipal', max: 2 },
    });
    await s.open('bob');
    await expect(s.open('carol')).rejects.toMatchObject({
      code: -32016,
      data: { limit: 'maxSessions', max: 3 },
    });
    // Another gateway shares the count.
    const other = new GatewaySessions(
      store,
      new MemoryEventBus(),
      () => undefined,
      () => undefined,
      {
        maxPerPrincipal: 2,
        maxTotal: 3,
      },
    );
    await expect(other.open('dave')).rejects.toMatchObject({ code: -32016 });
    other.close();
  });

  it('a session whose initialize failed gives its slot back; an initialized one keeps it until DELETE', async () => {
    const store = new MemorySessionStore();
    const s = gatewaySessions(store, { maxPerPrincipal: 1, maxTotal: 10 });
    const failed = await s.open('alice');
    expect(await s.delete(failed.id)).toBe(true);
    const ok = await s.open('alice');
    await initialized(store, ok.id, 'alice');
    ok.created('w1');
    await expect(s.open('alice')).rejects.toMatchObject({ code: -32012 });
    expect(await s.delete(ok.id)).toBe(true);
    await s.open('alice');
  });

  it('counts anonymous callers as one principal', async () => {
    const s = gatewaySessions(new MemorySessionStore(), { maxPerPrincipal: 1, maxTotal: 10 });
    await s.open();
    await expect(s.open('anonymous')).rejects.toMatchObject({ code: -32012 });
  });

  it('refuses with -32016 when the store cannot count (fails closed)', async () => {
    const store = new MemorySessionStore();
    store.claimSlot = () => Promise.reject(new Error('redis down'));
    const s = gatewaySessions(store);
    await expect(s.open('alice')).rejects.toMatchObject({
      code: -32016,
      message: 'Session store unavailable',
    });
    expect(errors).toEqual(['session slot claim failed']);
    expect(s.size).toBe(0);
  });
});

/** A memory store that counts reads of records, and can hold the next one back. */
class CountingStore extends MemorySessionStore {
  reads = 0;
  /** Set: the next get waits for it before reading. */
  gate: Promise<void> | undefined;

  override async get(id: string): ReturnType<MemorySessionStore['get']> {
    this.reads++;
    const gate = this.gate;
    this.gate = undefined;
    if (gate !== undefined) await gate;
    return super.get(id);
  }
}

/** Far longer than a test runs: only announced changes can make a copy stale. */
const LONG_CACHE_MS = 600_000;

function cachingSessions(store: SessionStore, cacheMs = LONG_CACHE_MS): GatewaySessions {
  sessions = new GatewaySessions(
    store,
    new MemoryEventBus(),
    () => undefined,
    (_err, what) => errors.push(what),
    undefined,
    cacheMs,
  );
  return sessions;
}

const INIT = { protocolVersion: '2025-11-25', clientCapabilities: {}, workerId: 'w1' };

describe('GatewaySessions: the cached copy and announced changes', () => {
  it('a fresh copy is served without reading the store, pin included', async () => {
    const store = new CountingStore();
    await store.create('s1', INIT);
    const s = cachingSessions(store);
    const first = await s.load('s1');
    expect(store.reads).toBe(1);
    for (let i = 0; i < 5; i++) expect(await s.load('s1')).toBe(first);
    expect(store.reads).toBe(1);
    expect(s.fresh('s1')?.workerId).toBe('w1');
  });

  it('a change announced with a newer version is re-read; one it already holds is not', async () => {
    const store = new CountingStore();
    const created = await store.create('s1', INIT);
    const s = cachingSessions(store);
    await s.load('s1');
    s.changed('s1', created.version);
    await s.load('s1');
    expect(store.reads).toBe(1);
    const updated = await store.update('s1', created.version, { logLevel: 'error' });
    if (!updated.ok) throw new Error('update failed');
    s.changed('s1', updated.session.version);
    expect(s.fresh('s1')).toBeUndefined();
    expect((await s.load('s1'))?.version).toBe(updated.session.version);
    expect(store.reads).toBe(2);
    expect(s.fresh('s1')).toBeDefined();
  });

  it('a re-pin announced elsewhere (no version) makes routing read the new pin', async () => {
    const store = new CountingStore();
    await store.create('s1', INIT);
    const s = cachingSessions(store);
    await s.load('s1');
    expect(await store.setPin('s1', 'w2', 'w1')).toBe(true);
    s.changed('s1');
    expect(s.fresh('s1')).toBeUndefined();
    expect((await s.load('s1'))?.workerId).toBe('w2');
    expect(s.fresh('s1')?.workerId).toBe('w2');
  });

  it('a change announced while the store was being read leaves the copy stale', async () => {
    const store = new CountingStore();
    await store.create('s1', INIT);
    const s = cachingSessions(store);
    let release: () => void = () => undefined;
    store.gate = new Promise<void>((resolve) => (release = resolve));
    const loading = s.load('s1');
    s.changed('s1', 99);
    release();
    expect((await loading)?.stale).toBe(true);
    await s.load('s1');
    expect(store.reads).toBe(2);
    expect(s.fresh('s1')).toBeDefined();
  });

  it('a copy older than the cache age is read again even without an event', async () => {
    const store = new CountingStore();
    await store.create('s1', INIT);
    const s = cachingSessions(store, 0);
    await s.load('s1');
    await s.load('s1');
    expect(store.reads).toBe(2);
    expect(s.fresh('s1')).toBeUndefined();
  });

  it('a session ended elsewhere is forgotten: the next load asks the store', async () => {
    const store = new CountingStore();
    await store.create('s1', INIT);
    const s = cachingSessions(store);
    await s.load('s1');
    await store.delete('s1');
    s.ended('s1');
    expect(await s.load('s1')).toBeUndefined();
    expect(store.reads).toBe(2);
  });
});
