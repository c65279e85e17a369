import { describe, expect, it } from 'vitest';
import { MemoryEventBus } from './bus/memory.js';
import type { BusEvent } from './bus/subjects.js';
import { MemorySessionStore } from './sessions-memory.js';
import { AnnouncedSessionStore } from './sessions-announced.js';
import { createClusterState } from './state.js';

/** A memory bus that also keeps what was published, in order. */
class RecordingBus extends MemoryEventBus {
  readonly events: BusEvent[] = [];

  override publish(event: BusEvent): void {
    this.events.push(event);
    super.publish(event);
  }
}

const INIT = { protocolVersion: '2025-11-25', clientCapabilities: {} };

describe('AnnouncedSessionStore', () => {
  it('announces each successful write of a record (with its version) or a pin', async () => {
    const bus = new RecordingBus();
    const store = new AnnouncedSessionStore(new MemorySessionStore(), bus);
    const created = await store.create('s1', { ...INIT, workerId: 'w1' });
    const updated = await store.update('s1', created.version, { logLevel: 'error' });
    expect(updated.ok).toBe(true);
    expect(await store.setPin('s1', 'w2', 'w1')).toBe(true);
    expect(bus.events).toEqual([
      { type: 'session.changed', sessionId: 's1', version: created.version },
      { type: 'session.changed', sessionId: 's1', version: created.version + 1 },
      { type: 'session.changed', sessionId: 's1' },
    ]);
  });

  it('announces nothing for reads, lost compare-and-sets, touches and slot claims', async () => {
    const bus = new RecordingBus();
    const store = new AnnouncedSessionStore(new MemorySessionStore(), bus);
    await store.create('s1', { ...INIT, workerId: 'w1' });
    bus.events.length = 0;
    expect((await store.update('s1', 99, { logLevel: 'error' })).ok).toBe(false);
    expect(await store.setPin('s1', 'w3', 'not-the-pin')).toBe(false);
    expect((await store.get('s1')).status).toBe('live');
    expect(await store.getPin('s1')).toBe('w1');
    expect(await store.touch('s1')).toBe(true);
    const claim = await store.claimSlot('s2', 'alice', { maxPerOwner: 1, maxTotal: 10 });
    expect(claim.ok).toBe(true);
    await store.releaseSlot('s2', 'alice');
    expect(bus.events).toEqual([]);
  });

  it('is what createClusterState hands out when given a bus', async () => {
    const bus = new RecordingBus();
    await using state = await createClusterState({ bus });
    await state.sessions.create('s1', INIT);
    expect(bus.events).toEqual([{ type: 'session.changed', sessionId: 's1', version: 1 }]);
    await using plain = await createClusterState();
    expect(plain.sessions).toBeInstanceOf(MemorySessionStore);
  });
});
