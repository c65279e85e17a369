import { SESSION_CLAIM_TTL_MS, SESSION_TOMBSTONE_TTL_MS, SESSION_TTL_MS } from './keys.js';
import { ClusterStateError } from './errors.js';
import {
  MAX_MIGRATIONS,
  UNOWNED_SESSION_OWNER,
  applyPatch,
  initialState,
  type NewSession,
  type SessionLookup,
  type SessionMigration,
  type SessionPatch,
  type SessionRecord,
  type SessionState,
  type SessionStore,
  type SlotClaim,
  type SlotLimits,
  type UpdateResult,
} from './sessions.js';

const SWEEP_INTERVAL_MS = 60_000;

interface Entry {
  state: SessionState;
  version: number;
  workerId?: string;
  migrations: SessionMigration[];
  ended: boolean;
  expiresAt: number;
  /** The owner whose slot the session holds. */
  owner: string;
}

export interface MemoryStoreOptions {
  ttlMs?: number;
  tombstoneTtlMs?: number;
  /** Injectable clock so tests can cross a TTL without sleeping. */
  now?: () => number;
}

/** Single-process session store for embedded mode; expiry is checked lazily on access. */
export class MemorySessionStore implements SessionStore {
  private readonly entries = new Map<string, Entry>();
  /** Slots (live sessions and claims) by owner, then in all: session id -> expiry. */
  private readonly owners = new Map<string, Map<string, number>>();
  private readonly slots = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly tombstoneTtlMs: number;
  private readonly now: () => number;
  private nextSweep = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.tombstoneTtlMs = options.tombstoneTtlMs ?? SESSION_TOMBSTONE_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  private entry(id: string): Entry | undefined {
    const e = this.entries.get(id);
    if (e !== undefined && e.expiresAt <= this.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return e;
  }

  private live(id: string): Entry | undefined {
    const e = this.entry(id);
    return e !== undefined && !e.ended ? e : undefined;
  }

  /** Drops abandoned entries that nobody reads again; amortised over creates. */
  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + SWEEP_INTERVAL_MS;
    for (const [id, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(id);
  }

  create(id: string, init: NewSession): Promise<SessionRecord> {
    this.sweep(this.now());
    if (this.entry(id) !== undefined) {
      return Promise.reject(new ClusterStateError('exists', `session ${id} already exists`));
    }
    const now = this.now();
    const e: Entry = {
      state: initialState(init, now),
      version: 1,
      migrations: [],
      ended: false,
      expiresAt: now + this.ttlMs,
      owner: init.ownerId ?? UNOWNED_SESSION_OWNER,
    };
    if (init.workerId !== undefined) {
      e.workerId = init.workerId;
      e.migrations.push({ to: init.workerId, at: now });
    }
    this.entries.set(id, e);
    this.slide(id, e);
    return Promise.resolve(toRecord(id, e));
  }

  claimSlot(id: string, ownerId: string, limits: SlotLimits): Promise<SlotClaim> {
    const now = this.now();
    const mine = this.owners.get(ownerId);
    if (mine !== undefined) {
      prune(mine, now);
      if (mine.size >= limits.maxPerOwner) {
        return Promise.resolve({ ok: false, limit: 'principal', retryAfterMs: first(mine) - now });
      }
    }
    if (this.slots.size >= limits.maxTotal) {
      prune(this.slots, now);
      if (this.slots.size >= limits.maxTotal) {
        return Promise.resolve({
          ok: false,
          limit: 'total',
          retryAfterMs: first(this.slots) - now,
        });
      }
    }
    this.setSlot(id, ownerId, now + Math.min(SESSION_CLAIM_TTL_MS, this.ttlMs));
    return Promise.resolve({ ok: true });
  }

  releaseSlot(id: string, ownerId: string): Promise<void> {
    if (this.live(id) === undefined) this.dropSlot(id, ownerId);
    return Promise.resolve();
  }

  /** The session's slot now expires with it. */
  private slide(id: string, e: Entry): void {
    this.setSlot(id, e.owner, e.expiresAt);
  }

  private setSlot(id: string, owner: string, expiresAt: number): void {
    let mine = this.owners.get(owner);
    if (mine === undefined) this.owners.set(owner, (mine = new Map<string, number>()));
    mine.set(id, expiresAt);
    this.slots.set(id, expiresAt);
  }

  private dropSlot(id: string, owner: string): void {
    const mine = this.owners.get(owner);
    mine?.delete(id);
    if (mine?.size === 0) this.owners.delete(owner);
    this.slots.delete(id);
  }

  get(id: string): Promise<SessionLookup> {
    const e = this.entry(id);
    if (e === undefined) return Promise.resolve({ status: 'unknown' });
    if (e.ended) return Promise.resolve({ status: 'ended' });
    return Promise.resolve({ status: 'live', session: toRecord(id, e) });
  }

  update(id: string, expectedVersion: number, patch: SessionPatch): Promise<UpdateResult> {
    const e = this.entry(id);
    if (e === undefined) return Promise.resolve({ ok: false, reason: 'unknown' });
    if (e.ended) return Promise.resolve({ ok: false, reason: 'ended' });
    if (e.version !== expectedVersion) return Promise.resolve({ ok: false, reason: 'conflict' });
    e.state = applyPatch(e.state, patch);
    e.version += 1;
    e.expiresAt = this.now() + this.ttlMs;
    this.slide(id, e);
    return Promise.resolve({ ok: true, session: toRecord(id, e) });
  }

  delete(id: string): Promise<void> {
    const e = this.entry(id);
    // Already-ended sessions keep their original tombstone deadline.
    if (e?.ended !== true) {
      if (e !== undefined) this.dropSlot(id, e.owner);
      this.entries.set(id, {
        state: e?.state ?? initialState({ protocolVersion: '', clientCapabilities: {} }, 0),
        version: e?.version ?? 0,
        migrations: [],
        ended: true,
        expiresAt: this.now() + this.tombstoneTtlMs,
        owner: e?.owner ?? UNOWNED_SESSION_OWNER,
      });
    }
    return Promise.resolve();
  }

  touch(id: string): Promise<boolean> {
    const e = this.live(id);
    if (e !== undefined) {
      e.expiresAt = this.now() + this.ttlMs;
      this.slide(id, e);
    }
    return Promise.resolve(e !== undefined);
  }

  getPin(id: string): Promise<string | undefined> {
    return Promise.resolve(this.live(id)?.workerId);
  }

  setPin(id: string, workerId: string, previous?: string): Promise<boolean> {
    const e = this.live(id);
    if (e?.workerId !== previous) return Promise.resolve(false);
    if (e === undefined) return Promise.resolve(false);
    if (workerId !== previous) {
      const m: SessionMigration = { to: workerId, at: this.now() };
      if (previous !== undefined) m.from = previous;
      e.migrations.push(m);
      if (e.migrations.length > MAX_MIGRATIONS) e.migrations.shift();
      e.workerId = workerId;
    }
    e.expiresAt = this.now() + this.ttlMs;
    this.slide(id, e);
    return Promise.resolve(true);
  }
}

/** Drops the slots expired at `now`. */
function prune(slots: Map<string, number>, now: number): void {
  for (const [id, expiresAt] of slots) if (expiresAt <= now) slots.delete(id);
}

/** The earliest expiry among `slots` (not empty). */
function first(slots: Map<string, number>): number {
  let min = Infinity;
  for (const expiresAt of slots.values()) if (expiresAt < min) min = expiresAt;
  return min;
}

function toRecord(id: string, e: Entry): SessionRecord {
  // Copies, so callers mutating a record cannot change the store behind its back.
  const rec: SessionRecord = {
    ...structuredClone(e.state),
    id,
    version: e.version,
    migrations: e.migrations.slice(),
    ...(e.workerId !== undefined ? { workerId: e.workerId } : {}),
  };
  return rec;
}
