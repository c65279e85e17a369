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
