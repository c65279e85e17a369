/**
 * Leases: one holder at a time for a named piece of background work (a directory's file
 * watcher), cluster-wide. A lease is a Redis string holding its holder's token with a PX TTL:
 * taken with SET NX, renewed and released only by the token that holds it (a script checks
 * the token and writes in one step), so a holder that stalled past its TTL can neither renew
 * nor free a lease someone else took meanwhile. Memory for one process and tests.
 *
 * `leaderElection` runs the loop around a store: a candidate tries to take the lease every
 * `retryMs`, the leader renews it every `renewMs` and steps down on its own before the TTL
 * could have run out unseen, so two processes never both believe they lead (clocks run at the
 * same rate; they need not agree). When the leader dies, its lease expires and a candidate
 * takes over within `ttlMs + retryMs`; a leader that stops releases at once.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ClusterKeys } from './keys.js';
import { LuaScript } from './lua.js';
import { withinMs } from './within.js';

export interface LeaseStore {
  /** Takes the lease `name` for `token` when nobody (or `token` itself) holds it; true if held. */
  acquire(name: string, token: string, ttlMs: number): Promise<boolean>;
  /** Extends the lease while `token` holds it; false when it lapsed or another holds it. */
  renew(name: string, token: string, ttlMs: number): Promise<boolean>;
  /** Frees the lease if `token` holds it (anyone else's lease is left alone). */
  release(name: string, token: string): Promise<void>;
  /** The token holding `name` now, if any. */
  holder(name: string): Promise<string | undefined>;
}

function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`ttlMs must be a positive integer of milliseconds, got ${ttlMs}`);
  }
}

/** One process's leases (the embedded node, tests). */
export class MemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, { token: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  acquire(name: string, token: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    const current = this.live(name);
    if (current !== undefined && current.token !== token) return Promise.resolve(false);
    this.leases.set(name, { token, expiresAt: this.now() + ttlMs });
    return Promise.resolve(true);
  }

  renew(name: string, token: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    const current = this.live(name);
    if (current?.token !== token) return Promise.resolve(false);
    current.expiresAt = this.now() + ttlMs;
    return Promise.resolve(true);
  }

  release(name: string, token: string): Promise<void> {
    if (this.live(name)?.token === token) this.leases.delete(name);
    return Promise.resolve();
  }

  holder(name: string): Promise<string | undefined> {
    return Promise.resolve(this.live(name)?.token);
  }

  private live(name: string): { token: string; expiresAt: number } | undefined {
    const lease = this.leases.get(name);
    if (lease === undefined || lease.expiresAt > this.now()) return lease;
    this.leases.delete(name);
    return undefined;
  }
}

/** KEYS: lease. ARGV: token, ttlMs. Taken when free; re-taken (extended) by its own token. */
const ACQUIRE = new LuaScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/** KEYS: lease. ARGV: token, ttlMs. */
const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/** KEYS: lease. ARGV: token. */
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`);

/** The cluster's leases, under `keys.lease`. */
export class RedisLeaseStore implements LeaseStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Pick<ClusterKeys, 'lease'>,
  ) {}

  async acquire(name: string, token: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    return (await ACQUIRE.run(this.redis, [this.keys.lease(name)], [token, ttlMs])) === 1;
  }

  async renew(name: string, token: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    return (await RENEW.run(this.redis, [this.keys.lease(name)], [token, ttlMs])) === 1;
  }

  async release(name: string, token: string): Promise<void> {
    await RELEASE.run(this.redis, [this.keys.lease(name)], [token]);
  }

  async holder(name: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.lease(name))) ?? undefined;
  }
}

/** Defaults of LeaderOptions, written once. */
export const DEFAULT_LEADER_OPTIONS = Object.freeze({
  /** Life of a lease past its last renewal: how long a dead leader's work stays orphaned. */
  ttlMs: 3_000,
  /** How often the leader renews. */
  renewMs: 1_000,
  /** How often a candidate tries to take a lease someone else holds. */
  retryMs: 1_000,
});

export interface LeaderOptions {
  /** Who leads (a worker id): the start of every token this election writes. */
  readonly holder: string;
  /** Default {@link DEFAULT_LEADER_OPTIONS}.ttlMs. */
  readonly ttlMs?: number;
  /** Default {@link DEFAULT_LEADER_OPTIONS}.renewMs; must be under ttlMs. */
  readonly renewMs?: number;
  /** Default {@link DEFAULT_LEADER_OPTIONS}.retryMs. */
  readonly retryMs?: number;
  /** Store failures and failures of the leader's work; default: ignored. */
  readonly onError?: (err: unknown, what: string) => void;
}

/** Ends what `onLead` began (called when leadership ends). */
export type LeadStop = () => Promise<void> | void;

/**
 * Structurally the engine's `Leadership` (@mcp-cluster/server): runs work in the one process
 * of the cluster that holds a named lease.
 */
export interface LeaderElection {
  /**
   * Competes for the lease `name`: `onLead` runs each time this process becomes the leader,
   * and what it returned runs when leadership ends (the lease was lost, or stop was called).
   * The returned function stops competing, steps down and releases the lease.
   */
  lead(name: string, onLead: () => Promise<LeadStop | void> | LeadStop | void): () => Promise<void>;
}

/** Leader election over `store` (see the module comment for the timing). */
export function leaderElection(store: LeaseStore, options: LeaderOptions): LeaderElection {
  const ttlMs = options.ttlMs ?? DEFAULT_LEADER_OPTIONS.ttlMs;
  const renewMs = options.renewMs ?? DEFAULT_LEADER_OPTIONS.renewMs;
  const retryMs = options.retryMs ?? DEFAULT_LEADER_OPTIONS.retryMs;
  checkTtl(ttlMs);
  if (!(renewMs > 0 && renewMs < ttlMs) || !(retryMs > 0)) {
    throw new RangeError(`leader timing: need 0 < renewMs < ttlMs and retryMs > 0`);
  }
  const timing = { ttlMs, renewMs, retryMs };
  return {
    lead(name, onLead) {
      const candidate = new Candidate(store, name, onLead, options, timing);
      candidate.schedule(0);
      return () => candidate.stop();
    },
  };
}

class Candidate {
  private readonly token: string;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** While leading: onLead's run, and until when (local clock) the lease surely holds. */
  private leading: { started: Promise<LeadStop | void>; validUntil: number } | undefined;

  constructor(
    private readonly store: LeaseStore,
    private readonly name: string,
    private readonly onLead: () => Promise<LeadStop | void> | LeadStop | void,
    private readonly options: LeaderOptions,
    private readonly timing: { ttlMs: number; renewMs: number; retryMs: number },
  ) {
    this.token = `${options.holder}:${randomBytes(9).toString('base64url')}`;
  }

  schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().catch((err: unknown) => this.report(err, 'leader tick failed'));
    }, ms);
    // Background work: competing for a lease never keeps a process alive.
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (this.leading === undefined) return;
    await this.stepDown();
    // Freed at once, so a candidate elsewhere takes over on its next try, not after the TTL.
    await this.store.release(this.name, this.token).catch((err: unknown) => {
      this.report(err, 'lease release failed');
    });
  }

  private async tick(): Promise<void> {
    if (this.leading === undefined) {
      await this.tryAcquire();
    } else {
      await this.renew();
    }
    this.schedule(this.leading === undefined ? this.timing.retryMs : this.timing.renewMs);
  }

  private async tryAcquire(): Promise<void> {
    const sentAt = Date.now();
    let held: boolean;
    try {
      held = await this.store.acquire(this.name, this.token, this.timing.ttlMs);
    } catch (err) {
      this.report(err, 'lease acquire failed');
      return;
    }
    if (!held || this.stopped) {
      if (held) await this.store.release(this.name, this.token).catch(() => undefined);
      return;
    }
    // Not awaited: renewals go on while the work starts (walking a large tree takes a while).
    const started = (async () => this.onLead())();
    const leading = { started, validUntil: sentAt + this.timing.ttlMs };
    this.leading = leading;
    started.catch(async (err: unknown) => {
      // The work could not start here: let another process (or a later try) have it.
      this.report(err, 'leader work failed to start');
      if (this.leading !== leading) return;
      this.leading = undefined;
      await this.store.release(this.name, this.token).catch(() => undefined);
    });
  }

  private async renew(): Promise<void> {
    const leading = this.leading;
    if (leading === undefined) return;
    const { ttlMs, renewMs } = this.timing;
    // Work stops half a renewal before the lease could lapse (timers run late under load).
    const deadline = leading.validUntil - renewMs / 2;
    const sentAt = Date.now();
    try {
      // Bounded: a store that stopped answering must not keep a leader past its deadline.
      const renewal = this.store.renew(this.name, this.token, ttlMs);
      renewal.catch(() => undefined); // a late failure after the bound is of no interest
      const renewed = await withinMs(renewal, Math.min(renewMs, deadline - sentAt));
      if (renewed === undefined) throw new Error(`lease renewal not answered in time`);
      if (renewed) {
        leading.validUntil = sentAt + ttlMs;
        return;
      }
      await this.stepDown(); // lapsed or taken: someone else may lead already
    } catch (err) {
      this.report(err, 'lease renew failed');
      // The next renewal would come after the deadline: step down now.
      if (Date.now() + renewMs >= deadline) await this.stepDown();
    }
  }

  private async stepDown(): Promise<void> {
    const leading = this.leading;
    this.leading = undefined;
    if (leading === undefined) return;
    let stop: LeadStop | void;
    try {
      stop = await leading.started;
    } catch {
      return; // never started (reported where it failed)
    }
    if (typeof stop !== 'function') return;
    try {
      await stop();
    } catch (err) {
      this.report(err, 'leader work failed to stop');
    }
  }

  private report(err: unknown, what: string): void {
    this.options.onError?.(err, `${what} (${this.name})`);
  }
}
