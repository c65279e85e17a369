/**
 * Legacy sessions as a gateway sees them: the record lives in Redis (any gateway loads it);
 * this process only holds the streams attached here and a short-lived cached copy.
 *
 * - The cached copy serves requests without a Redis read while it is fresh: read from the
 *   store less than SESSION_CACHE_MS ago, and no change announced since. Every node announces
 *   its writes of a record or pin (`session.changed`, see AnnouncedSessionStore) and the end of
 *   a session (`session.ended`); either marks the copy here stale, so the next request re-reads.
 *
 * - Messages for the session's standalone stream raised elsewhere (another gateway's request,
 *   a change fan-out) arrive on the bus (`session.deliver.<id>`) while a stream is attached.
 * - A client's answer to a server->client request goes straight to the worker that asked: its
 *   id names the worker (see clientRequestIdPrefix).
 */
import { randomBytes } from 'node:crypto';
import { BusEventType, UNOWNED_SESSION_OWNER, storeUnavailable } from '@mcp-cluster/cluster';
import type { EventBus, SessionLookup, SessionRecord, SessionStore } from '@mcp-cluster/cluster';
import { ProtocolError, RpcError } from '@mcp-cluster/protocol';
import type { JsonRpcMessage, JsonRpcResponse } from '@mcp-cluster/protocol';
import { DEFAULT_SESSION_LIMITS, legacySessionState, sessionLimitError } from '@mcp-cluster/server';
import type {
  LegacySession,
  LegacySessionState,
  MessageSink,
  Outbound,
  SessionLimits,
  SessionManager,
} from '@mcp-cluster/server';

/** A cached session without streams is dropped after this long (it is reloaded on demand). */
const IDLE_CACHE_MS = 60_000;
/**
 * How long a cached session is used without reading the store. Changes made elsewhere are
 * announced on the bus and mark the copy stale at once; this bounds how long a copy can be
 * wrong when such an event is lost (core NATS delivers at most once, and drops events while a
 * node is disconnected). One read per second per busy session instead of one per request.
 */
export const SESSION_CACHE_MS = 1_000;
/** Bound on waiting for NATS to take an announcement before answering (it is a hint). */
const ANNOUNCE_FLUSH_MS = 250;
/** Store reads at a time when the bus reconnects (see GatewaySessions.reconcile). */
const RECONCILE_READS = 32;
/** Sliding the Redis TTL more often than this buys nothing. */
const TOUCH_EVERY_MS = 10_000;

const NOT_ON_GATEWAY = (): Promise<never> =>
  Promise.reject(ProtocolError.of('InternalError', 'gateways send no server->client requests'));

/** The store could not answer (see outageAsUnavailable), as opposed to a refusal or bad data. */
export function isUnavailable(err: unknown): boolean {
  return err instanceof ProtocolError && err.code === RpcError.Unavailable.code;
}

export type ResponseRouter = (session: GatewaySession, response: JsonRpcResponse) => void;

const NEW_STATE: LegacySessionState = Object.freeze({
  protocolVersion: '',
  clientCapabilities: {},
  initialized: false,
  subscriptions: new Set<string>(),
});

export class GatewaySession implements LegacySession {
  state: LegacySessionState;
  /** Stored version (0 until initialize created the record). */
  version = 0;
  workerId: string | undefined;
  /** The creating principal (set at create here, then read from the record). */
  ownerId: string | undefined;
  /** True until `initialize` succeeded and the record exists in Redis. */
  isNew: boolean;
  lastSeen = Date.now();
  /** When the store was last read for this copy (0: never). */
  readAt = 0;
  private lastTouch = 0;
  private endListeners: (() => void)[] | undefined;
  private readonly sinks: MessageSink[] = [];
  private unsubscribe: (() => void) | undefined;

  constructor(
    readonly id: string,
    private readonly owner: GatewaySessions,
    record?: SessionRecord,
  ) {
    this.isNew = record === undefined;
    this.state = NEW_STATE;
    if (record !== undefined) this.refresh(record);
  }

  /**
   * Takes a record just read from the store; `current` is false when a change was announced
   * while it was being read (the record may predate it: the copy stays stale).
   */
  refresh(record: SessionRecord, current = true): void {
    this.state = legacySessionState(record);
    this.version = record.version;
    this.workerId = record.workerId;
    this.ownerId = record.ownerId;
    this.isNew = false;
    this.readAt = Date.now();
    this.stale = !current;
  }

  /** Another node changed the record or pin: the next request re-reads it. */
  invalidate(): void {
    this.stale = true;
  }

  /** initialize succeeded on `workerId`, which stored the record; later loads read it. */
  created(workerId: string): void {
    this.isNew = false;
    this.workerId = workerId;
    this.stale = true;
  }

  /**
   * A worker answered `initialize` with `state` (the negotiated revision, the client's
   * capabilities): taken at once, since a transport holding this object (WebSocket,
   * HTTP+SSE) decides from it whether the very next frame may be a batch. The worker changed
   * the record: the next request re-reads it.
   */
  negotiated(state: LegacySessionState): void {
    this.state = state;
    this.stale = true;
  }

  /**
   * True while this copy must be re-read before use: it was never read from the store (a
   * session created here whose transport — WebSocket, HTTP+SSE — keeps using the same object
   * without loading it), or a change was announced since it was read.
   */
  stale = false;

  get attached(): boolean {
    return this.sinks.length > 0;
  }

  attach(sink: MessageSink): () => void {
    this.sinks.push(sink);
    if (this.sinks.length === 1) this.unsubscribe = this.owner.listen(this);
    return () => {
      const i = this.sinks.indexOf(sink);
      if (i >= 0) this.sinks.splice(i, 1);
      this.lastSeen = Date.now();
      if (this.sinks.length === 0) {
        this.unsubscribe?.();
        this.unsubscribe = undefined;
      }
    };
  }

  outbound(sink: MessageSink): Outbound {
    return {
      notify: (n) => void sink(n),
      request: NOT_ON_GATEWAY,
      forward: (m) => sink(m) !== false,
    };
  }

  deliverResponse(response: JsonRpcResponse): boolean {
    this.lastSeen = Date.now();
    this.owner.routeResponse(this, response);
    return true;
  }

  touch(): void {
    const now = Date.now();
    this.lastSeen = now;
    if (this.isNew || now - this.lastTouch < TOUCH_EVERY_MS) return;
    this.lastTouch = now;
    this.owner.touch(this.id);
  }

  /** Writes to a stream attached here; false when none took it. */
  sendLocal(message: JsonRpcMessage): boolean {
    for (let i = this.sinks.length - 1; i >= 0; i--) {
      const sink = this.sinks[i];
      if (sink !== undefined && sink(message) !== false) return true;
    }
    return false;
  }

  /** No stream here: hand the message to whichever gateway holds one. */
  relay(message: JsonRpcMessage): boolean {
    this.owner.publish(this.id, message);
    return true;
  }

  onEnd(listener: () => void): void {
    (this.endListeners ??= []).push(listener);
  }

  end(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.sinks.length = 0;
    const listeners = this.endListeners;
    this.endListeners = undefined;
    for (const l of listeners ?? []) l();
  }
}

/** Store reads of one session in flight, and whether a change was announced meanwhile. */
interface ReadWatch {
  readers: number;
  /** A change without a version (a pin) or an end was announced: the read may predate it. */
  changed: boolean;
  /** The newest record version announced meanwhile (0: none); a read of it is current. */
  newest: number;
}

export class GatewaySessions implements SessionManager {
  private readonly cache = new Map<string, GatewaySession>();
  private readonly reads = new Map<string, ReadWatch>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly store: SessionStore,
    private readonly bus: EventBus,
    readonly routeResponse: ResponseRouter,
    private readonly onError: (err: unknown, what: string) => void,
    /** Counted across the cluster, in Redis: per principal, and for the whole cluster. */
    private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
    /** See SESSION_CACHE_MS. */
    private readonly cacheMs: number = SESSION_CACHE_MS,
  ) {
    this.sweeper = setInterval(() => this.sweep(), IDLE_CACHE_MS);
    this.sweeper.unref();
  }

  get size(): number {
    return this.cache.size;
  }

  values(): IterableIterator<GatewaySession> {
    return this.cache.values();
  }

  create(ownerId?: string): GatewaySession {
    const session = new GatewaySession(randomBytes(16).toString('base64url'), this);
    session.ownerId = ownerId;
    this.cache.set(session.id, session);
    return session;
  }

  /**
   * A new session of `ownerId` whose slot is claimed in the shared store first (atomically
   * across gateways): refused with sessionLimitError when the principal or the cluster holds
   * as many as allowed, with -32016 when the store cannot count; nothing is stored then. The
   * worker's record of a successful initialize takes the slot over; `delete` of a session
   * that never got one gives it back.
   */
  async open(ownerId?: string): Promise<GatewaySession> {
    const id = randomBytes(16).toString('base64url');
    const { maxPerPrincipal, maxTotal } = this.limits;
    let claim;
    try {
      claim = await this.store.claimSlot(id, ownerId ?? UNOWNED_SESSION_OWNER, {
        maxPerOwner: maxPerPrincipal,
        maxTotal,
      });
    } catch (err) {
      this.onError(err, 'session slot claim failed');
      throw storeUnavailable(err);
    }
    if (!claim.ok) {
      const max = claim.limit === 'principal' ? maxPerPrincipal : maxTotal;
      throw sessionLimitError(claim.limit, max, claim.retryAfterMs);
    }
    const session = new GatewaySession(id, this);
    session.ownerId = ownerId;
    this.cache.set(id, session);
    return session;
  }

  get(id: string): GatewaySession | undefined {
    return this.cache.get(id);
  }

  /**
   * The cached session when it is fresh (see {@link fresh}); otherwise asks the store, since
   * another gateway may have ended or changed the session.
   */
  async load(id: string): Promise<GatewaySession | undefined> {
    const cached = this.cache.get(id);
    if (cached?.isNew === true) return cached;
    if (cached !== undefined && this.isFresh(cached)) return cached;
    let read;
    try {
      read = await this.read(id);
    } catch (err) {
      // The store cannot answer (-32016): the copy held here serves until it can, counted as
      // read now so that only one request per SESSION_CACHE_MS waits for the store to fail.
      const held = isUnavailable(err) ? this.held(id) : undefined;
      if (held === undefined) throw err;
      held.readAt = Date.now();
      return held;
    }
    const { found, current } = read;
    // Looked up again: the session may have ended here while the store answered.
    const session = this.cache.get(id);
    if (found.status !== 'live') {
      if (session !== undefined) this.drop(session);
      return undefined;
    }
    if (session !== undefined) {
      session.refresh(found.session, current);
      return session;
    }
    const loaded = new GatewaySession(id, this, found.session);
    if (!current) loaded.invalidate();
    this.cache.set(id, loaded);
    return loaded;
  }

  /** Re-reads one cached session (e.g. before a resources/updated fan-out). */
  async reload(session: GatewaySession): Promise<boolean> {
    const { found, current } = await this.read(session.id);
    if (found.status !== 'live') {
      this.drop(session);
      return false;
    }
    session.refresh(found.session, current);
    return true;
  }

  /**
   * The cached session when it may be used without asking the store: stored, read less than
   * SESSION_CACHE_MS ago, and no change announced since (its pin is then current too).
   */
  fresh(id: string): GatewaySession | undefined {
    const cached = this.cache.get(id);
    return cached !== undefined && this.isFresh(cached) ? cached : undefined;
  }

  /**
   * The copy held here when no announced change made it stale, however old: what serves a
   * session while the store cannot answer. Ends and changes made elsewhere still arrive on
   * the bus and drop or stale it; a session created here and never read is not held.
   */
  held(id: string): GatewaySession | undefined {
    const cached = this.cache.get(id);
    return cached !== undefined && !cached.isNew && !cached.stale ? cached : undefined;
  }

  /**
   * Another node wrote the session's record (`version`) or pin (no version): the cached copy
   * is re-read before its next use, unless it already holds that version. A read in flight
   * may predate the change: its result is not taken as fresh.
   */
  changed(id: string, version?: number): void {
    const watch = this.reads.get(id);
    if (watch !== undefined) {
      if (version === undefined) watch.changed = true;
      else watch.newest = Math.max(watch.newest, version);
    }
    const cached = this.cache.get(id);
    if (cached === undefined || cached.isNew) return;
    if (version !== undefined && !cached.stale && cached.version >= version) return;
    cached.invalidate();
  }

  async delete(id: string): Promise<boolean> {
    const cached = this.cache.get(id);
    if (cached !== undefined) this.drop(cached);
    // A session whose initialize failed never reached the store: only its slot claim did.
    if (cached?.isNew === true) {
      try {
        await this.store.releaseSlot(id, cached.ownerId ?? UNOWNED_SESSION_OWNER);
      } catch (err) {
        // The claim lapses by itself (SESSION_CLAIM_TTL_MS).
        this.onError(err, 'session slot release failed');
      }
      return true;
    }
    try {
      await this.store.delete(id);
    } catch (err) {
      this.onError(err, 'session delete failed');
      // Still stored: the client is told to retry its DELETE (503), not that it ended.
      throw err instanceof ProtocolError ? err : storeUnavailable(err);
    }
    try {
      // Other gateways holding a stream of it end theirs (see listen()) and drop their copy.
      this.bus.publish({ type: BusEventType.SessionEnded, sessionId: id });
      // On its way before the client hears of the end: its next request may reach another
      // gateway, whose cached copy must be gone by then.
      await this.flushBus();
    } catch (err) {
      // Ended in the store: other gateways see it at their next read.
      this.onError(err, 'session end not announced');
    }
    return true;
  }

  /**
   * Another gateway ended the session (`session.ended` on the bus, subscribed once per gateway
   * for every session so no stream opened a moment before is missed): forget it here, which
   * ends the streams this gateway holds for it.
   */
  ended(id: string): void {
    const watch = this.reads.get(id);
    if (watch !== undefined) watch.changed = true;
    const cached = this.cache.get(id);
    if (cached !== undefined) this.drop(cached);
  }

  /**
   * The bus came back: `session.changed` / `session.ended` published meanwhile are lost. Every
   * stored copy is re-read before its next use (while the store cannot answer, the copy held
   * here still serves, as before the gap), and sessions with a stream here are re-read now, so
   * one ended elsewhere ends its streams. Resolves with those still live, each re-read.
   */
  async reconcile(): Promise<GatewaySession[]> {
    const attached: GatewaySession[] = [];
    for (const s of this.cache.values()) {
      if (s.isNew) continue;
      s.readAt = 0;
      if (s.attached) attached.push(s);
    }
    const live: GatewaySession[] = [];
    for (let i = 0; i < attached.length; i += RECONCILE_READS) {
      const batch = attached.slice(i, i + RECONCILE_READS);
      const results = await Promise.allSettled(batch.map((s) => this.reload(s)));
      results.forEach((r, j) => {
        if (r.status === 'fulfilled' && r.value) live.push(batch[j] as GatewaySession);
        else if (r.status === 'rejected') this.onError(r.reason, 'session reconcile failed');
      });
    }
    return live;
  }

  touch(id: string): void {
    this.store.touch(id).catch((err: unknown) => this.onError(err, 'session touch failed'));
  }

  publish(sessionId: string, message: JsonRpcMessage): void {
    // The bus schema checks only the JSON-RPC envelope of a relayed message.
    const relayed = message as unknown as { jsonrpc: '2.0'; [key: string]: unknown };
    this.bus.publish({ type: BusEventType.SessionDeliver, sessionId, message: relayed });
  }

  /** Subscribes a session with an attached stream to its bus deliveries. */
  listen(session: GatewaySession): () => void {
    let stopped = false;
    let stop: (() => Promise<void>) | undefined;
    this.bus
      .subscribe({ types: [BusEventType.SessionDeliver], sessionId: session.id }, (e) => {
        if (e.type === BusEventType.SessionDeliver) {
          session.sendLocal(e.message as unknown as JsonRpcMessage);
        }
      })
      .then(
        (sub) => {
          if (stopped) void sub.unsubscribe();
          else stop = () => sub.unsubscribe();
        },
        (err: unknown) => this.onError(err, 'session subscribe failed'),
      );
    return () => {
      stopped = true;
      void stop?.();
    };
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const s of this.cache.values()) s.end();
    this.cache.clear();
  }

  /** Waits (briefly, and not while disconnected) until NATS has what was published. */
  private async flushBus(): Promise<void> {
    if (!this.bus.connected) return;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ANNOUNCE_FLUSH_MS);
    });
    try {
      await Promise.race([this.bus.flush().catch(() => undefined), bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Fresh also needs the bus up: while it is away, changes made elsewhere cannot arrive. */
  private isFresh(session: GatewaySession): boolean {
    return (
      this.bus.connected &&
      !session.isNew &&
      !session.stale &&
      Date.now() - session.readAt < this.cacheMs
    );
  }

  /** One store read; `current` is false when a change was announced while it ran. */
  private async read(id: string): Promise<{ found: SessionLookup; current: boolean }> {
    let watch = this.reads.get(id);
    if (watch === undefined) {
      watch = { readers: 0, changed: false, newest: 0 };
      this.reads.set(id, watch);
    }
    watch.readers++;
    try {
      const found = await this.store.get(id);
      // A version announced while reading is current if the read already returned it.
      const newest = found.status === 'live' ? found.session.version : 0;
      return { found, current: !watch.changed && newest >= watch.newest };
    } finally {
      if (--watch.readers === 0 && this.reads.get(id) === watch) this.reads.delete(id);
    }
  }

  private drop(session: GatewaySession): void {
    session.end();
    if (this.cache.get(session.id) === session) this.cache.delete(session.id);
  }

  private sweep(now = Date.now()): void {
    for (const s of this.cache.values()) {
      if (!s.attached && now - s.lastSeen > IDLE_CACHE_MS) this.drop(s);
    }
  }
}
