/**
 * The one module naming every Redis key the cluster uses, and how long each lives.
 * Everything that can go stale carries a TTL; a test passes its own prefix so parallel
 * runs on a shared Redis never collide.
 */

import { createHash } from 'node:crypto';

export const DEFAULT_KEY_PREFIX = 'mcp';

/** Idle lifetime of a legacy session; every touch/update slides it. */
export const SESSION_TTL_MS = 30 * 60_000;
/** How long an ended session stays known as ended (the gateway answers 404, not re-create). */
export const SESSION_TOMBSTONE_TTL_MS = 60 * 60_000;
/**
 * Life of a session slot claimed before `initialize` ran (SessionStore.claimSlot) whose
 * session was never created (the initialize failed and the release was lost, or the gateway
 * died): the slot lapses after this long.
 */
export const SESSION_CLAIM_TTL_MS = 60_000;
/** How long an SSE replay stream outlives its last append. */
export const REPLAY_TTL_MS = 10 * 60_000;
/** Approximate bound on retained events per replay stream (XADD MAXLEN ~). */
export const REPLAY_MAX_LEN = 1_000;
/** A worker missing heartbeats for this long is considered gone. */
export const WORKER_HEARTBEAT_TTL_MS = 15_000;
/**
 * Life of a worker's shared circuit-breaker record past its last write: long enough that no
 * breaker in use loses it, short enough that breakers of workers long gone do not pile up.
 */
export const BREAKER_RECORD_TTL_MS = 24 * 60 * 60_000;

export interface ClusterKeys {
  readonly prefix: string;
  /** Hash: state JSON, version counter, pin, migrations, owner index key, ended flag. */
  session(sessionId: string): string;
  /**
   * Sorted set: one owner's live sessions and claimed slots (session ids), scored by expiry
   * (ms, Redis time); PX TTL = the session TTL, renewed with its members.
   */
  sessionOwner(ownerId: string): string;
  /** Sorted set: every live session and claimed slot of the cluster, scored by expiry; same. */
  sessionIndex(): string;
  /** Stream of SSE events for one response / GET stream. */
  replay(streamId: string): string;
  /**
   * String: present while the process `instance` runs and has pending streams (stream-mirror.ts);
   * PX TTL = PRESENCE_TTL_MS, refreshed by that process only.
   */
  presence(instance: string): string;
  /** String: worker record JSON; its TTL is the heartbeat. */
  worker(workerId: string): string;
  /** Set of registered worker ids (may hold stale ids until cleanup). */
  workerIndex(): string;
  /** Counter bumped on every registry change; pollers compare it. */
  registryRevision(): string;
  /** String: the cluster-wide MRTR requestState signing secret when none is configured. */
  stateKey(): string;
  /** String: the cluster-wide dispatch signing secret when none is configured. */
  dispatchKey(): string;
  /** String marking a claimed dispatch nonce (a replay is refused); PX TTL = validity + 2 skews. */
  dispatchNonce(nonce: string): string;
  /**
   * Hash: one worker's shared circuit-breaker record (state, generation, openedAt, until,
   * updatedBy, updatedAt); PX TTL = BREAKER_RECORD_TTL_MS, renewed on every write.
   */
  breaker(workerId: string): string;
  /**
   * String: the gateway id holding the one half-open trial of a worker's breaker, cluster-wide;
   * PX TTL = the trial lock (a lost holder is bounded by it).
   */
  breakerTrial(workerId: string): string;
  /**
   * Hash: server-side sampling usage (`t` tokens, `c` USD) of one principal in one window
   * (the caller's key names both); PX TTL = the rest of the window.
   */
  samplingUsage(key: string): string;
  /**
   * String: the token of the process holding the named lease (one watcher per directory,
   * leases.ts); PX TTL = the lease, renewed by its holder only.
   */
  lease(name: string): string;
}

export function clusterKeys(prefix: string = DEFAULT_KEY_PREFIX): ClusterKeys {
  return {
    prefix,
    session: (id) => `${prefix}:session:${id}`,
    // Owner ids are principal ids (any text): hashed into a fixed, key-safe shape.
    sessionOwner: (ownerId) => `${prefix}:sessions:owner:${sha256(ownerId)}`,
    sessionIndex: () => `${prefix}:sessions:index`,
    replay: (id) => `${prefix}:replay:${id}`,
    presence: (instance) => `${prefix}:presence:${instance}`,
    worker: (id) => `${prefix}:registry:worker:${id}`,
    workerIndex: () => `${prefix}:registry:workers`,
    registryRevision: () => `${prefix}:registry:revision`,
    stateKey: () => `${prefix}:cluster:state-key`,
    dispatchKey: () => `${prefix}:cluster:dispatch-key`,
    // Hashed like the security nonces: fixed size whatever a sender wrote.
    dispatchNonce: (nonce) => `${prefix}:cluster:dispatch-nonce:${sha256(nonce)}`,
    breaker: (id) => `${prefix}:breaker:worker:${id}`,
    breakerTrial: (id) => `${prefix}:breaker:trial:${id}`,
    // Principal ids are any text: hashed into a fixed, key-safe shape.
    samplingUsage: (key) => `${prefix}:sampling:usage:${sha256(key)}`,
    // Lease names embed paths (a watched directory): hashed into a fixed, key-safe shape.
    lease: (name) => `${prefix}:lease:${sha256(name)}`,
  };
}

// --- Durable tasks (packages/queue). Records expire with each task's own TTL. ---

/** BullMQ queue name (BullMQ forbids ':' in it; the prefix namespaces it instead). */
export const QUEUE_NAME = 'tasks';

export interface TaskKeys {
  readonly prefix: string;
  /** Hash: the task record (status, timestamps, result, stored context...). */
  record(taskId: string): string;
  /** Hash: pending input requests, minted key -> `{n, r}` JSON. */
  inputs(taskId: string): string;
  /** Hash: answers not yet consumed by the running node, minted key -> `{ok}|{err}` JSON. */
  answers(taskId: string): string;
  /** Hash: input keys already sent to the client on a 2025-11-25 tasks/result stream. */
  sent(taskId: string): string;
  /** Sorted set: one owner's task ids scored by creation sequence (legacy tasks/list). */
  ownerIndex(owner: string): string;
  /** Counter: creation sequence numbers. */
  sequence(): string;
  /** Pub/sub channel: every status or input change of every task under the prefix. */
  events(): string;
  /** BullMQ key prefix (its keys are `${queuePrefix}:${QUEUE_NAME}:…`). */
  readonly queuePrefix: string;
}

export function taskKeys(prefix: string): TaskKeys {
  return {
    prefix,
    record: (id) => `${prefix}:task:${id}`,
    inputs: (id) => `${prefix}:task:${id}:input`,
    answers: (id) => `${prefix}:task:${id}:answers`,
    sent: (id) => `${prefix}:task:${id}:sent`,
    // Owners embed principal ids and NULs: hash them into a fixed, key-safe shape.
    ownerIndex: (owner) =>
      `${prefix}:tasks:owner:${createHash('sha256').update(owner).digest('base64url')}`,
    sequence: () => `${prefix}:tasks:seq`,
    events: () => `${prefix}:tasks:events`,
    queuePrefix: `${prefix}:queue`,
  };
}

// --- Security stores (packages/security): rate limits, nonces, lockouts. ---

/** Longest caller-supplied key part kept verbatim; longer ones are hashed to bound key size. */
export const MAX_VERBATIM_KEY_PART = 200;
/** Extra life of an idle token bucket past the moment it would be full again (clock skew slack). */
export const RATE_LIMIT_IDLE_SLACK_MS = 1_000;
/** Default window in which failed attempts are counted toward a lockout. */
export const LOCKOUT_WINDOW_MS = 15 * 60_000;
/** Default duration of a lockout once the failure limit is reached. */
export const LOCKOUT_DURATION_MS = 15 * 60_000;
/** Default failures within the window that lock an identifier. */
export const LOCKOUT_MAX_FAILURES = 5;
/** Default password verifications in flight at once per identifier (address, user name). */
export const LOCKOUT_MAX_CONCURRENT = 4;
/** Default life of an attempt's reservation that was never settled (its process died). */
export const LOCKOUT_RESERVATION_MS = 30_000;

export interface SecurityKeys {
  readonly prefix: string;
  /** Hash `{t: tokens, ts: ms}` of one token bucket; PX TTL = time until full again. */
  rateLimit(limiter: string, key: string): string;
  /** String marking a claimed nonce; PX TTL = the caller's replay window. */
  nonce(nonce: string): string;
  /** Counter of recent failures for one identifier; PX TTL = the counting window. */
  lockoutFailures(id: string): string;
  /** String marking a locked identifier; PX TTL = the lock duration. */
  lockoutLock(id: string): string;
  /** Sorted set of attempts in flight for one identifier, scored by expiry; PX TTL = a reservation. */
  lockoutPending(id: string): string;
  /** Hash `{h, fam, rec}` of one live refresh token; PX TTL = the token's expiry. */
  refreshToken(jti: string): string;
  /** Hash `{h, fam}`: tombstone of a consumed refresh token (reuse detection); same PX. */
  refreshUsed(jti: string): string;
  /** String marking a revoked access token; PX TTL = until the token expires. */
  revokedToken(jti: string): string;
  /** String marking a revoked token family (one grant); PX TTL = until its last token expires. */
  revokedFamily(familyId: string): string;
  /** String: one API key's record as JSON (SHA-256 of the secret + metadata); no TTL. */
  apiKey(id: string): string;
  /** Set of every API key id, for listing (outside the `apikey:` namespace: no id can hit it). */
  readonly apiKeyIndex: string;
  /** Sorted set of one principal's open streams, scored by lease expiry; PX TTL = 2 leases. */
  streams(principal: string): string;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

/**
 * Caller-supplied parts (user names, addresses, nonces) come from attackers too: short ones
 * stay readable, long ones (and anything that could pose as a hash) become `#<sha256>`.
 */
export function keyPart(s: string): string {
  return s.length > MAX_VERBATIM_KEY_PART || s.startsWith('#') ? `#${sha256(s)}` : s;
}

export function securityKeys(prefix: string): SecurityKeys {
  return {
    prefix,
    rateLimit: (limiter, key) => `${prefix}:ratelimit:${keyPart(limiter)}:${keyPart(key)}`,
    // Nonces are always hashed: they are random, unreadable anyway, and arbitrary in length.
    nonce: (nonce) => `${prefix}:nonce:${sha256(nonce)}`,
    lockoutFailures: (id) => `${prefix}:lockout:fails:${keyPart(id)}`,
    lockoutLock: (id) => `${prefix}:lockout:lock:${keyPart(id)}`,
    lockoutPending: (id) => `${prefix}:lockout:pending:${keyPart(id)}`,
    refreshToken: (jti) => `${prefix}:token:refresh:${keyPart(jti)}`,
    refreshUsed: (jti) => `${prefix}:token:refresh-used:${keyPart(jti)}`,
    revokedToken: (jti) => `${prefix}:token:revoked:${keyPart(jti)}`,
    revokedFamily: (familyId) => `${prefix}:token:revoked-family:${keyPart(familyId)}`,
    apiKey: (id) => `${prefix}:apikey:${keyPart(id)}`,
    apiKeyIndex: `${prefix}:apikeys:index`,
    streams: (principal) => `${prefix}:streams:${keyPart(principal)}`,
  };
}
