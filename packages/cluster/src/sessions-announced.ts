/**
 * A SessionStore that announces every successful write of a session record or pin on the bus
 * (`session.changed`), so gateways may serve a cached copy of a session without reading Redis
 * on each request and still see what another node changed. Applied once where a node's store
 * and bus are wired together (createClusterState with `bus`), so no write path of a gateway or
 * a worker goes unannounced. Ending a session is announced by whoever ends it
 * (`session.ended`, which also closes the streams other gateways hold for it).
 */
import { BusEventType } from './bus/subjects.js';
import type { EventBus } from './bus/types.js';
import type {
  NewSession,
  SessionLookup,
  SessionPatch,
  SessionRecord,
  SessionStore,
  SlotClaim,
  SlotLimits,
  UpdateResult,
} from './sessions.js';

export class AnnouncedSessionStore implements SessionStore {
  constructor(
    private readonly inner: SessionStore,
    private readonly bus: Pick<EventBus, 'publish'>,
  ) {}

  async create(id: string, init: NewSession): Promise<SessionRecord> {
    const record = await this.inner.create(id, init);
    this.changed(id, record.version);
    return record;
  }

  claimSlot(id: string, ownerId: string, limits: SlotLimits): Promise<SlotClaim> {
    return this.inner.claimSlot(id, ownerId, limits);
  }

  releaseSlot(id: string, ownerId: string): Promise<void> {
    return this.inner.releaseSlot(id, ownerId);
  }

  get(id: string): Promise<SessionLookup> {
    return this.inner.get(id);
  }

  async update(id: string, expectedVersion: number, patch: SessionPatch): Promise<UpdateResult> {
    const result = await this.inner.update(id, expectedVersion, patch);
    if (result.ok) this.changed(id, result.session.version);
    return result;
  }

  delete(id: string): Promise<void> {
    return this.inner.delete(id);
  }

  touch(id: string): Promise<boolean> {
    return this.inner.touch(id);
  }

  getPin(sessionId: string): Promise<string | undefined> {
    return this.inner.getPin(sessionId);
  }

  async setPin(sessionId: string, workerId: string, previous?: string): Promise<boolean> {
    const ok = await this.inner.setPin(sessionId, workerId, previous);
    // A re-pin does not bump the record's version: the event carries none.
    if (ok) this.changed(sessionId);
    return ok;
  }

  /** Best effort (publish never throws): a lost event is bounded by the readers' cache age. */
  private changed(sessionId: string, version?: number): void {
    this.bus.publish({
      type: BusEventType.SessionChanged,
      sessionId,
      ...(version === undefined ? {} : { version }),
    });
  }
}
