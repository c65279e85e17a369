import { SESSION_TOMBSTONE_TTL_MS, SESSION_TTL_MS } from './keys.js';
import { ClusterStateError } from './errors.js';
import {
  MAX_MIGRATIONS,
  applyPatch,
  initialState,
  type NewSession,
  type SessionLookup,
  type SessionMigration,
  type SessionPatch,
  type SessionRecord,
  type SessionState,
  type SessionStore,
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
    };
    if (init.workerId !== undefined) {
      e.workerId = init.workerId;
      e.migrations.push({ to: init.workerId, at: now });
    }
    this.entries.set(id, e);
    return Promise.resolve(toRecord(id, e));
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
    return Promise.resolve({ ok: true, session: toRecord(id, e) });
  }

  delete(id: string): Promise<void> {
    const e = this.entry(id);
    // Already-ended sessions keep their original tombstone deadline.
    if (e?.ended !== true) {
      this.entries.set(id, {
        state: e?.state ?? initialState({ protocolVersion: '', clientCapabilities: {} }, 0),
        version: e?.version ?? 0,
        migrations: [],
        ended: true,
        expiresAt: this.now() + this.tombstoneTtlMs,
      });
    }
    return Promise.resolve();
  }

  touch(id: string): Promise<boolean> {
    const e = this.live(id);
    if (e !== undefined) e.expiresAt = this.now() + this.ttlMs;
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
    return Promise.resolve(true);
  }
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
