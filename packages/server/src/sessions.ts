/**
 * In-memory legacy sessions. Ids are 128 random bits, base64url (visible ASCII). Idle
 * sessions (no stream attached, nothing in flight) expire after `idleMs`; an unref'd timer
 * sweeps them so abandoned sessions do not leak.
 */
import { randomBytes } from 'node:crypto';
import { LATEST_LEGACY_VERSION, ProtocolError } from '@mcp-cluster/protocol';
import type {
  ClientCapabilities,
  Implementation,
  JsonRpcMessage,
  JsonRpcResponse,
  LoggingLevel,
  RequestId,
} from '@mcp-cluster/protocol';
import type { LegacySession, LegacySessionState, MessageSink, SessionManager } from './api.js';
import { ClientRequests } from './client-requests.js';
import { ANONYMOUS } from './context.js';
import type { Outbound } from './context.js';
import type { InflightRequest } from './inflight.js';

export const DEFAULT_SESSION_IDLE_MS = 30 * 60_000;

/** Caps on legacy sessions held at once (SessionManager.open refuses beyond them). */
export interface SessionLimits {
  /** Per principal (owner id; every anonymous caller is the one principal `anonymous`). */
  readonly maxPerPrincipal: number;
  /** In all: an embedded node's, or (gateways, in Redis) a whole cluster's. */
  readonly maxTotal: number;
}

/** The defaults `@mcp-cluster/config` documents (maxSessionsPerPrincipal, maxSessions). */
export const DEFAULT_SESSION_LIMITS: SessionLimits = Object.freeze({
  maxPerPrincipal: 100,
  maxTotal: 10_000,
});

/** Which limit refused a session. */
export type SessionLimit = 'principal' | 'total';

/**
 * The refusal of a new session over a limit: -32012 (429) when its principal holds
 * `maxPerPrincipal`, -32016 (503) when the node or cluster holds `maxTotal`. The message names
 * the setting; `data.retryAfterMs` is when a slot may free at the earliest (a session
 * reaching its idle expiry), for `Retry-After`.
 */
export function sessionLimitError(
  limit: SessionLimit,
  max: number,
  retryAfterMs: number,
): ProtocolError {
  const wait = Math.max(1_000, Math.ceil(retryAfterMs));
  if (limit === 'principal') {
    return ProtocolError.of(
      'RateLimited',
      `Too many sessions: this principal holds ${max}, the most allowed ` +
        '(maxSessionsPerPrincipal); end one (DELETE) or let one expire',
      { limit: 'maxSessionsPerPrincipal', max, retryAfterMs: wait },
    );
  }
  return ProtocolError.of(
    'Unavailable',
    `Too many sessions on this server: ${max} open, the most allowed (maxSessions)`,
    { limit: 'maxSessions', max, retryAfterMs: wait },
  );
}

/** A session's state as stored outside the process (a cluster's Redis): subscriptions as a list. */
export type StoredSessionState = Omit<LegacySessionState, 'subscriptions'> & {
  readonly subscriptions: readonly string[];
};

/** The state a stored record describes. */
export function legacySessionState(stored: StoredSessionState): LegacySessionState {
  return {
    protocolVersion: stored.protocolVersion,
    clientCapabilities: stored.clientCapabilities,
    initialized: stored.initialized,
    subscriptions: new Set(stored.subscriptions),
    ...(stored.clientInfo === undefined ? {} : { clientInfo: stored.clientInfo }),
    ...(stored.logLevel === undefined ? {} : { logLevel: stored.logLevel }),
  };
}
const MAX_SWEEP_INTERVAL_MS = 60_000;

interface MutableState {
  protocolVersion: string;
  clientCapabilities: ClientCapabilities;
  clientInfo?: Implementation;
  logLevel?: LoggingLevel;
  initialized: boolean;
  subscriptions: Set<string>;
}

export class MemorySession implements LegacySession {
  readonly state: MutableState & LegacySessionState = {
    protocolVersion: LATEST_LEGACY_VERSION,
    clientCapabilities: {},
    initialized: false,
    subscriptions: new Set<string>(),
  };
  /** True once `initialize` succeeded (before `notifications/initialized`). */
  initializeDone = false;
  lastSeen: number;
  ended = false;
  /** The creating principal's id (see LegacySession.ownerId). */
  ownerId: string | undefined;
  private readonly sinks: MessageSink[] = [];
  private endListeners: (() => void)[] | undefined;
  private readonly inflight = new Map<RequestId, InflightRequest>();
  private readonly clientRequests: ClientRequests;

  constructor(
    readonly id: string,
    clientRequestTimeoutMs?: number,
    clientRequestIdPrefix?: string,
    /** The clock idle expiry is measured with (the manager's). */
    private readonly now: () => number = Date.now,
  ) {
    this.clientRequests = new ClientRequests(clientRequestTimeoutMs, clientRequestIdPrefix);
    this.lastSeen = now();
  }

  attach(sink: MessageSink): () => void {
    this.sinks.push(sink);
    return () => {
      const i = this.sinks.indexOf(sink);
      if (i >= 0) this.sinks.splice(i, 1);
      this.lastSeen = this.now();
    };
  }

  outbound(sink: MessageSink): Outbound {
    return {
      notify: (notification) => {
        sink(notification);
      },
      request: (method, params, signal) => this.clientRequests.send(sink, method, params, signal),
    };
  }

  deliverResponse(response: JsonRpcResponse): boolean {
    this.lastSeen = this.now();
    return this.clientRequests.deliver(response);
  }

  touch(): void {
    this.lastSeen = this.now();
  }

  /** Writes to the standalone stream; false when none is attached or all refused. */
  sendStandalone(message: JsonRpcMessage): boolean {
    for (let i = this.sinks.length - 1; i >= 0; i--) {
      const sink = this.sinks[i];
      if (sink !== undefined && sink(message) !== false) return true;
    }
    return false;
  }

  /** Tracks an in-flight request so notifications/cancelled can abort it. */
  track(requestId: RequestId, request: InflightRequest): void {
    this.inflight.set(requestId, request);
  }

  untrack(requestId: RequestId, request: InflightRequest): void {
    if (this.inflight.get(requestId) === request) this.inflight.delete(requestId);
  }

  cancel(requestId: RequestId, reason?: string): boolean {
    const request = this.inflight.get(requestId);
    if (request === undefined) return false;
    this.inflight.delete(requestId);
    request.cancel(reason ?? 'cancelled by client');
    return true;
  }

  get busy(): boolean {
    return this.sinks.length > 0 || this.inflight.size > 0 || this.clientRequests.size > 0;
  }

  /** Runs `listener` once when the session ends (deleted, expired, or the node closes). */
  onEnd(listener: () => void): void {
    if (this.ended) listener();
    else (this.endListeners ??= []).push(listener);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.clientRequests.end();
    for (const request of this.inflight.values()) request.cancel('session ended');
    this.inflight.clear();
    this.sinks.length = 0;
    const listeners = this.endListeners;
    this.endListeners = undefined;
    for (const l of listeners ?? []) l();
  }
}

export interface SessionManagerOptions {
  readonly idleMs?: number;
  /** Caps `open` enforces (default DEFAULT_SESSION_LIMITS). */
  readonly limits?: Partial<SessionLimits>;
  readonly clientRequestTimeoutMs?: number;
  /** Prefix of server->client request ids (see ClientRequests). */
  readonly clientRequestIdPrefix?: string;
  readonly now?: () => number;
}

/** A node at its total cap sweeps every session at most this often before refusing. */
const FULL_SWEEP_MIN_INTERVAL_MS = 1_000;

export class MemorySessionManager implements SessionManager {
  private readonly sessions = new Map<string, MemorySession>();
  /** Sessions by owner (undefined owner = anonymous), for the per-principal cap. */
  private readonly owners = new Map<string, Set<MemorySession>>();
  private readonly idleMs: number;
  private readonly limits: SessionLimits;
  private readonly timer: NodeJS.Timeout;
  /** When a refusal at the total cap may sweep again, and what the last sweep found. */
  private nextFullSweep = 0;
  private earliestExpiry = 0;

  constructor(private readonly options: SessionManagerOptions = {}) {
    this.idleMs = options.idleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.limits = { ...DEFAULT_SESSION_LIMITS, ...options.limits };
    this.timer = setInterval(() => this.sweep(), Math.min(this.idleMs, MAX_SWEEP_INTERVAL_MS));
    this.timer.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  create(ownerId?: string): MemorySession {
    const session = this.add(randomBytes(16).toString('base64url'));
    this.own(session, ownerId);
    return session;
  }

  /**
   * A new session of `ownerId` within the limits: refused (sessionLimitError, nothing stored)
   * when the owner or the node holds as many as allowed once expired sessions are let go.
   */
  open(ownerId?: string): Promise<MemorySession> {
    const refusal = this.refusal(ownerKey(ownerId), this.now());
    return refusal === undefined ? Promise.resolve(this.create(ownerId)) : Promise.reject(refusal);
  }

  /** Sessions `ownerId` holds (expired ones included until they are swept). */
  countOf(ownerId?: string): number {
    return this.owners.get(ownerKey(ownerId))?.size ?? 0;
  }

  private refusal(owner: string, now: number): ProtocolError | undefined {
    const { maxPerPrincipal, maxTotal } = this.limits;
    const mine = this.owners.get(owner);
    if (mine !== undefined && mine.size >= maxPerPrincipal) {
      // An expired session frees its slot: let go of the owner's before counting.
      for (const s of [...mine]) if (this.expired(s, now)) this.delete(s.id);
      if (mine.size >= maxPerPrincipal) {
        return sessionLimitError('principal', maxPerPrincipal, this.untilFirstExpiry(mine, now));
      }
    }
    if (this.sessions.size >= maxTotal) {
      // A full sweep is O(sessions): at most once a second while the node is full.
      if (now >= this.nextFullSweep) {
        this.nextFullSweep = now + FULL_SWEEP_MIN_INTERVAL_MS;
        this.sweep(now);
        this.earliestExpiry = now + this.untilFirstExpiry(this.sessions.values(), now);
      }
      if (this.sessions.size >= maxTotal) {
        return sessionLimitError('total', maxTotal, this.earliestExpiry - now);
      }
    }
    return undefined;
  }

  /** How long until the first of `sessions` may expire (busy ones count a full idle period). */
  private untilFirstExpiry(sessions: Iterable<MemorySession>, now: number): number {
    let first = this.idleMs;
    for (const s of sessions) {
      const left = s.busy ? this.idleMs : s.lastSeen + this.idleMs - now;
      if (left < first) first = left;
    }
    return first;
  }

  /** Records `session` as `ownerId`'s (moving it from a previous owner's count). */
  private own(session: MemorySession, ownerId: string | undefined): void {
    const next = ownerKey(ownerId);
    if (this.owners.get(ownerKey(session.ownerId))?.has(session) === true) {
      if (ownerKey(session.ownerId) === next) {
        session.ownerId = ownerId;
        return;
      }
      this.disown(session);
    }
    session.ownerId = ownerId;
    let set = this.owners.get(next);
    if (set === undefined) this.owners.set(next, (set = new Set()));
    set.add(session);
  }

  private disown(session: MemorySession): void {
    const key = ownerKey(session.ownerId);
    const set = this.owners.get(key);
    if (set === undefined) return;
    set.delete(session);
    if (set.size === 0) this.owners.delete(key);
  }

  /**
   * Holds a session whose state lives elsewhere (a cluster worker serving a session another
   * node created): creates it under `id` when absent, then overwrites its state with `state`.
   */
  adopt(
    id: string,
    state: LegacySessionState,
    initializeDone: boolean,
    ownerId?: string,
  ): MemorySession {
    const session = this.get(id) ?? this.add(id);
    this.own(session, ownerId);
    const s = session.state;
    s.protocolVersion = state.protocolVersion;
    s.clientCapabilities = state.clientCapabilities;
    if (state.clientInfo === undefined) delete s.clientInfo;
    else s.clientInfo = state.clientInfo;
    if (state.logLevel === undefined) delete s.logLevel;
    else s.logLevel = state.logLevel;
    s.initialized = state.initialized;
    s.subscriptions = new Set(state.subscriptions);
    session.initializeDone = initializeDone;
    session.touch();
    return session;
  }

  load(id: string): Promise<MemorySession | undefined> {
    return Promise.resolve(this.get(id));
  }

  private add(id: string): MemorySession {
    const session = new MemorySession(
      id,
      this.options.clientRequestTimeoutMs,
      this.options.clientRequestIdPrefix,
      () => this.now(),
    );
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string): MemorySession | undefined {
    const session = this.sessions.get(id);
    if (session !== undefined && this.expired(session, this.now())) {
      this.delete(id);
      return undefined;
    }
    return session;
  }

  delete(id: string): boolean {
    const session = this.sessions.get(id);
    if (session === undefined) return false;
    this.sessions.delete(id);
    this.disown(session);
    session.end();
    return true;
  }

  values(): IterableIterator<MemorySession> {
    return this.sessions.values();
  }

  /** Ends every session expired at `now`; returns how many. */
  sweep(now: number = this.now()): number {
    let n = 0;
    for (const session of this.sessions.values()) {
      if (this.expired(session, now)) {
        this.delete(session.id);
        n++;
      }
    }
    return n;
  }

  close(): void {
    clearInterval(this.timer);
    for (const id of [...this.sessions.keys()]) this.delete(id);
  }

  private expired(session: MemorySession, now: number): boolean {
    return !session.busy && now - session.lastSeen > this.idleMs;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}

/** The key a session's owner is counted under (an unowned session is the anonymous caller's). */
function ownerKey(ownerId: string | undefined): string {
  return ownerId ?? ANONYMOUS.id;
}
