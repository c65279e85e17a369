/**
 * Legacy session state shared by every gateway. Only the serializable part lives here
 * (revision, client capabilities/info, log level, subscriptions, pin, owner); attached
 * streams and pending server->client requests stay in the gateway process holding them.
 */
import { LOGGING_LEVELS } from '@mcp-cluster/protocol';
import type { ClientCapabilities, Implementation, LoggingLevel } from '@mcp-cluster/protocol';
import { z } from 'zod';

import { ClusterStateError, parseStored } from './errors.js';

/** The mutable part a gateway changes through update(). */
export interface SessionState {
  protocolVersion: string;
  clientCapabilities: ClientCapabilities;
  clientInfo?: Implementation;
  logLevel?: LoggingLevel;
  subscriptions: string[];
  /** True once `notifications/initialized` arrived. */
  initialized: boolean;
  /** Principal that created the session; other principals must not use it. */
  ownerId?: string;
  createdAt: number;
}

// Checks the envelope of what comes back from Redis; nested capability shapes were
// validated when the client sent them, re-validating them on every read buys nothing.
const sessionStateSchema = z.object({
  protocolVersion: z.string(),
  clientCapabilities: z.looseObject({}),
  clientInfo: z.looseObject({ name: z.string(), version: z.string() }).optional(),
  logLevel: z.enum(LOGGING_LEVELS).optional(),
  subscriptions: z.array(z.string()),
  initialized: z.boolean(),
  ownerId: z.string().optional(),
  createdAt: z.number(),
});

/** Migration history keeps the most recent entries only. */
export const MAX_MIGRATIONS = 32;

export const migrationSchema = z.object({
  from: z.string().optional(),
  to: z.string(),
  at: z.number(),
});
export type SessionMigration = z.infer<typeof migrationSchema>;
const migrationsSchema = z.array(migrationSchema);

export interface SessionRecord extends SessionState {
  readonly id: string;
  /** Bumped on every update(); pass it back for compare-and-set. */
  readonly version: number;
  readonly workerId?: string;
  readonly migrations: readonly SessionMigration[];
}

export type NewSession = Omit<SessionState, 'createdAt' | 'subscriptions' | 'initialized'> & {
  subscriptions?: string[];
  initialized?: boolean;
  workerId?: string;
};

export type SessionPatch = Partial<Omit<SessionState, 'createdAt'>>;

export type SessionLookup =
  | { readonly status: 'live'; readonly session: SessionRecord }
  | { readonly status: 'ended' }
  | { readonly status: 'unknown' };

export type UpdateResult =
  | { readonly ok: true; readonly session: SessionRecord }
  /** Someone else updated first: re-read, re-apply, retry. */
  | { readonly ok: false; readonly reason: 'conflict' }
  | { readonly ok: false; readonly reason: 'ended' | 'unknown' };

/** What the router needs to keep a legacy session on one worker. */
export interface PinStore {
  getPin(sessionId: string): Promise<string | undefined>;
  /**
   * Compare-and-set: succeeds only when the current pin equals `previous` (undefined =
   * currently unpinned). A changed pin is recorded in the migration history.
   */
  setPin(sessionId: string, workerId: string, previous?: string): Promise<boolean>;
}

/** Caps a SessionStore's slot claims enforce (per owner, and for the whole cluster). */
export interface SlotLimits {
  readonly maxPerOwner: number;
  readonly maxTotal: number;
}

/** A claimed slot, or which limit refused it and when a slot may free (a session's expiry). */
export type SlotClaim =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly limit: 'principal' | 'total';
      readonly retryAfterMs: number;
    };

/** The owner a session without `ownerId` is counted under (the anonymous principal's id). */
export const UNOWNED_SESSION_OWNER = 'anonymous';

export interface SessionStore extends PinStore {
  /**
   * Throws ClusterStateError('exists') if the id is live or ended. The session takes its
   * owner's slot (claimed before, or not) until it ends or expires.
   */
  create(id: string, init: NewSession): Promise<SessionRecord>;
  /**
   * Claims a slot for the session `id` of `ownerId` before it is created, atomically across
   * gateways: refused when the owner, or the cluster, holds `limits` live sessions and claims
   * (expired ones are let go first). A claim lapses after SESSION_CLAIM_TTL_MS unless `create`
   * makes it the session's.
   */
  claimSlot(id: string, ownerId: string, limits: SlotLimits): Promise<SlotClaim>;
  /** Gives back a claim whose session was not created (initialize failed); else nothing. */
  releaseSlot(id: string, ownerId: string): Promise<void>;
  get(id: string): Promise<SessionLookup>;
  update(id: string, expectedVersion: number, patch: SessionPatch): Promise<UpdateResult>;
  /** Ends the session, leaving a tombstone; idempotent. */
  delete(id: string): Promise<void>;
  /** Slides the idle TTL; false when the session is not live. */
  touch(id: string): Promise<boolean>;
}

export function initialState(init: NewSession, now: number): SessionState {
  const state: SessionState = {
    protocolVersion: init.protocolVersion,
    clientCapabilities: init.clientCapabilities,
    subscriptions: init.subscriptions ?? [],
    initialized: init.initialized ?? false,
    createdAt: now,
  };
  if (init.clientInfo !== undefined) state.clientInfo = init.clientInfo;
  if (init.logLevel !== undefined) state.logLevel = init.logLevel;
  if (init.ownerId !== undefined) state.ownerId = init.ownerId;
  return state;
}

export function applyPatch(state: SessionState, patch: SessionPatch): SessionState {
  const next: Record<string, unknown> = { ...state };
  for (const [k, v] of Object.entries(patch)) {
    // `undefined` in a patch clears an optional field (e.g. logLevel).
    if (v === undefined) delete next[k];
    else next[k] = v;
  }
  // Sound: every key written comes from SessionPatch, a subset of SessionState.
  return next as unknown as SessionState;
}

export function decodeState(text: string, sessionId: string): SessionState {
  const parsed = sessionStateSchema.safeParse(parseStored(text, `session ${sessionId}`));
  if (!parsed.success) {
    throw new ClusterStateError('corrupt', `session ${sessionId}: invalid stored state`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

export function decodeMigrations(text: string, sessionId: string): SessionMigration[] {
  const parsed = migrationsSchema.safeParse(parseStored(text, `session ${sessionId}`));
  if (!parsed.success) {
    throw new ClusterStateError('corrupt', `session ${sessionId}: invalid migration history`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/**
 * Read-modify-write with retry on version conflicts: `change` gets the current record and
 * returns the patch to apply. Returns the lookup failure ('ended'/'unknown') or the result;
 * gives up with 'conflict' after `attempts` lost races.
 */
export async function mutateSession(
  store: SessionStore,
  id: string,
  change: (session: SessionRecord) => SessionPatch,
  attempts = 5,
): Promise<UpdateResult> {
  for (let i = 0; i < attempts; i++) {
    const current = await store.get(id);
    if (current.status !== 'live') return { ok: false, reason: current.status };
    const res = await store.update(id, current.session.version, change(current.session));
    if (res.ok || res.reason !== 'conflict') return res;
  }
  return { ok: false, reason: 'conflict' };
}
