/**
 * In-memory legacy sessions. Ids are 128 random bits, base64url (visible ASCII). Idle
 * sessions (no stream attached, nothing in flight) expire after `idleMs`; an unref'd timer
 * sweeps them so abandoned sessions do not leak.
 */
import { randomBytes } from 'node:crypto';
import { LATEST_LEGACY_VERSION } from '@mcp-cluster/protocol';
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
import type { Outbound } from './context.js';
import type { InflightRequest } from './inflight.js';

export const DEFAULT_SESSION_IDLE_MS = 30 * 60_000;

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
  lastSeen = Date.now();
  ended = false;
  /** The creating principal's id (see LegacySession.ownerId). */
  ownerId: string | undefined;
  private readonly sinks: MessageSink[] = [];
  private readonly inflight = new Map<RequestId, InflightRequest>();
  private readonly clientRequests: ClientRequests;

  constructor(
    readonly id: string,
    clientRequestTimeoutMs?: number,
    clientRequestIdPrefix?: string,
  ) {
    this.clientRequests = new ClientRequests(clientRequestTimeoutMs, clientRequestIdPrefix);
  }

  attach(sink: MessageSink): () => void {
    this.sinks.push(sink);
    return () => {
      const i = this.sinks.indexOf(sink);
      if (i >= 0) this.sinks.splice(i, 1);
      this.lastSeen = Date.now();
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
    this.lastSeen = Date.now();
    return this.clientRequests.deliver(response);
  }

  touch(): void {
    this.lastSeen = Date.now();
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

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.clientRequests.end();
    for (const request of this.inflight.values()) request.cancel('session ended');
    this.inflight.clear();
    this.sinks.length = 0;
  }
}

export interface SessionManagerOptions {
  readonly idleMs?: number;
  readonly clientRequestTimeoutMs?: number;
  /** Prefix of server->client request ids (see ClientRequests). */
  readonly clientRequestIdPrefix?: string;
  readonly now?: () => number;
}

export class MemorySessionManager implements SessionManager {
  private readonly sessions = new Map<string, MemorySession>();
  private readonly idleMs: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: SessionManagerOptions = {}) {
    this.idleMs = options.idleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.timer = setInterval(() => this.sweep(), Math.min(this.idleMs, MAX_SWEEP_INTERVAL_MS));
    this.timer.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  create(ownerId?: string): MemorySession {
    const session = this.add(randomBytes(16).toString('base64url'));
    session.ownerId = ownerId;
    return session;
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
    session.ownerId = ownerId;
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
