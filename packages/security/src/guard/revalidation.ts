/**
 * Long-lived connections follow their credential. Admission hands the transports one
 * `AdmittedCredential` per request whose credential can end (a JWT's `exp`, a token-service
 * token or an API key that can be revoked); a WebSocket or SSE stream watches it and re-checks
 * it per message. Here is what answers them, per process:
 *
 * - expiry: one timer per watched credential, at its `expiresAt`;
 * - revocation events (`revoked(ids)`: this process revoked it, or the cluster bus said so):
 *   the watched credentials naming one of the ids are re-checked at once — against the store,
 *   so an event can hurry a check but never end a valid credential by itself;
 * - a re-check every `intervalMs` of every watched revocable credential (once per credential,
 *   however many connections share it), for revocations no event announced (an API key revoked
 *   by the CLI straight in the store);
 * - messages use the last verdict while it is younger than `intervalMs`, else wait for a
 *   re-check (shared by everything waiting on that credential).
 *
 * A credential that ended stays ended (revocations and expiries are final). Store failures
 * during the periodic re-check leave connections open (reported to `onError`); a message that
 * needs a verdict then is refused by the transport (retryably).
 */
import type { AdmittedCredential, CredentialEnd } from '@mcp-cluster/transports';
import type { CredentialInfo } from '../authn/types.js';
import {
  DEFAULT_REVALIDATE_STREAMS_MS,
  MAX_REVALIDATE_STREAMS_MS,
  MIN_REVALIDATE_STREAMS_MS,
} from '../config.js';
import type { AuditSink } from './audit.js';

/** setTimeout's longest delay; expiries further away re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type CredentialVerdict = 'valid' | CredentialEnd;

export interface RevalidatorOptions {
  /** Re-check period and verdict lifetime (default DEFAULT_REVALIDATE_STREAMS_MS). */
  readonly intervalMs?: number;
  /** Milliseconds clock (default Date.now). */
  readonly now?: () => number;
  /** One audit line per credential that ended while connections were open with it. */
  readonly audit?: AuditSink | undefined;
  /** Re-checks that failed (the store is down), at most one report per period. */
  readonly onError?: ((err: unknown, what: string) => void) | undefined;
}

interface Watched {
  readonly info: CredentialInfo;
  readonly principal: string;
  readonly watchers: Set<(why: CredentialEnd) => void>;
  /** The last verdict and when the check that gave it started. */
  verdict: { readonly value: CredentialVerdict; readonly at: number } | undefined;
  ended: CredentialEnd | undefined;
  pending: Promise<CredentialVerdict> | undefined;
  /** Bumped by each check, so a check overtaken by a newer one does not set the verdict. */
  generation: number;
  timer: NodeJS.Timeout | undefined;
}

export class Revalidator {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly watched = new Map<string, Watched>();
  private readonly byRevocationId = new Map<string, Set<Watched>>();
  /** Watched credentials that can be revoked (the periodic re-check visits only these). */
  private revocable = 0;
  private poller: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: RevalidatorOptions = {}) {
    const intervalMs = options.intervalMs ?? DEFAULT_REVALIDATE_STREAMS_MS;
    if (
      !Number.isSafeInteger(intervalMs) ||
      intervalMs < MIN_REVALIDATE_STREAMS_MS ||
      intervalMs > MAX_REVALIDATE_STREAMS_MS
    ) {
      throw new RangeError(
        `revalidateStreamsMs must be an integer from ${MIN_REVALIDATE_STREAMS_MS} to ${MAX_REVALIDATE_STREAMS_MS} (got ${intervalMs})`,
      );
    }
    this.intervalMs = intervalMs;
    this.now = options.now ?? Date.now;
  }

  /** The transports' view of one admitted credential (cheap: nothing is registered yet). */
  track(info: CredentialInfo, principal: string): AdmittedCredential {
    // Admission just checked it: that is the first verdict of a connection opened with it.
    const admittedAt = this.now();
    return {
      current: () => this.current(info),
      check: () => this.check(info),
      watch: (onEnd) => this.watch(info, principal, admittedAt, onEnd),
    };
  }

  /**
   * Revocations announced by an event (this process revoked them, or another node did):
   * the watched credentials naming one of `ids` are re-checked now.
   */
  revoked(ids: readonly string[]): void {
    for (const id of ids) {
      for (const w of this.byRevocationId.get(id) ?? []) {
        if (w.ended !== undefined) continue;
        w.verdict = undefined;
        this.refresh(w).catch((err: unknown) => this.report([err]));
      }
    }
  }

  /** Credentials watched now (for tests and metrics). */
  get size(): number {
    return this.watched.size;
  }

  /** Stops every timer; open connections are left to the shutdown that closes them. */
  close(): void {
    this.closed = true;
    if (this.poller !== undefined) clearInterval(this.poller);
    this.poller = undefined;
    for (const w of this.watched.values()) if (w.timer !== undefined) clearTimeout(w.timer);
    this.watched.clear();
    this.byRevocationId.clear();
    this.revocable = 0;
  }

  private expired(info: CredentialInfo): boolean {
    return info.expiresAt !== undefined && info.expiresAt <= this.now();
  }

  private current(info: CredentialInfo): CredentialVerdict | undefined {
    if (this.expired(info)) return 'expired';
    const w = this.watched.get(info.key);
    if (w?.ended !== undefined) return w.ended;
    if (info.isRevoked === undefined) return 'valid';
    const verdict = w?.verdict;
    return verdict !== undefined && this.now() - verdict.at < this.intervalMs
      ? verdict.value
      : undefined;
  }

  private check(info: CredentialInfo): Promise<CredentialVerdict> {
    const known = this.current(info);
    if (known !== undefined) return Promise.resolve(known);
    const w = this.watched.get(info.key);
    if (w === undefined) return verdictOf(info, this.now);
    return w.pending ?? this.refresh(w);
  }

  private watch(
    info: CredentialInfo,
    principal: string,
    admittedAt: number,
    onEnd: (why: CredentialEnd) => void,
  ): () => void {
    if (this.closed) return () => undefined;
    const w = this.watched.get(info.key) ?? this.add(info, principal, admittedAt);
    const ended = w.ended ?? (this.expired(info) ? 'expired' : undefined);
    if (ended !== undefined) {
      // Never re-entrant: the caller is still setting its connection up.
      queueMicrotask(() => onEnd(ended));
      return () => undefined;
    }
    const watched = w;
    const watcher = (why: CredentialEnd): void => onEnd(why);
    watched.watchers.add(watcher);
    return () => {
      watched.watchers.delete(watcher);
      if (watched.watchers.size === 0) this.remove(watched);
    };
  }

  private add(info: CredentialInfo, principal: string, admittedAt: number): Watched {
    const w: Watched = {
      info,
      principal,
      watchers: new Set(),
      verdict: { value: 'valid', at: admittedAt },
      ended: undefined,
      pending: undefined,
      generation: 0,
      timer: undefined,
    };
    this.watched.set(info.key, w);
    for (const id of info.revocationIds ?? []) {
      let set = this.byRevocationId.get(id);
      if (set === undefined) this.byRevocationId.set(id, (set = new Set()));
      set.add(w);
    }
    this.armExpiry(w);
    if (info.isRevoked !== undefined && ++this.revocable === 1) this.startPolling();
    return w;
  }

  private remove(w: Watched): void {
    if (this.watched.get(w.info.key) !== w) return;
    this.watched.delete(w.info.key);
    if (w.timer !== undefined) clearTimeout(w.timer);
    w.timer = undefined;
    for (const id of w.info.revocationIds ?? []) {
      const set = this.byRevocationId.get(id);
      set?.delete(w);
      if (set?.size === 0) this.byRevocationId.delete(id);
    }
    if (w.info.isRevoked !== undefined && --this.revocable === 0) this.stopPolling();
  }

  private armExpiry(w: Watched): void {
    const at = w.info.expiresAt;
    if (at === undefined || w.ended !== undefined) return;
    const delay = Math.max(0, Math.min(at - this.now(), MAX_TIMER_MS));
    w.timer = setTimeout(() => {
      w.timer = undefined;
      if (this.watched.get(w.info.key) !== w) return;
      if (this.expired(w.info)) this.end(w, 'expired');
      else this.armExpiry(w);
    }, delay);
    w.timer.unref();
  }

  private startPolling(): void {
    if (this.poller !== undefined || this.closed) return;
    this.poller = setInterval(() => void this.poll(), this.intervalMs);
    this.poller.unref();
  }

  private stopPolling(): void {
    if (this.poller !== undefined) clearInterval(this.poller);
    this.poller = undefined;
  }

  /** One re-check per watched revocable credential; failures reported once per period. */
  private async poll(): Promise<void> {
    const checks: Promise<CredentialVerdict>[] = [];
    for (const w of this.watched.values()) {
      if (w.ended !== undefined || w.info.isRevoked === undefined) continue;
      checks.push(w.pending ?? this.refresh(w));
    }
    const failures: unknown[] = [];
    for (const r of await Promise.allSettled(checks)) {
      if (r.status === 'rejected') failures.push(r.reason);
    }
    this.report(failures);
  }

  private report(failures: readonly unknown[]): void {
    if (failures.length === 0) return;
    this.options.onError?.(
      failures[0],
      `credential re-check failed for ${failures.length} credential(s); connections stay open`,
    );
  }

  private refresh(w: Watched): Promise<CredentialVerdict> {
    const generation = ++w.generation;
    const at = this.now();
    const check = verdictOf(w.info, this.now).then(
      (value) => {
        if (w.generation === generation) {
          w.pending = undefined;
          w.verdict = { value, at };
        }
        if (value !== 'valid') this.end(w, value);
        return value;
      },
      (err: unknown) => {
        if (w.generation === generation) {
          w.pending = undefined;
          w.verdict = undefined;
        }
        throw err;
      },
    );
    w.pending = check;
    return check;
  }

  private end(w: Watched, why: CredentialEnd): void {
    if (w.ended !== undefined) return;
    w.ended = why;
    if (w.timer !== undefined) clearTimeout(w.timer);
    w.timer = undefined;
    if (why === 'revoked') w.info.forget?.();
    if (w.watchers.size === 0) return;
    this.options.audit?.({
      event: 'credential_ended',
      principal: w.principal,
      reason: why === 'expired' ? 'credential expired' : 'credential revoked',
    });
    for (const watcher of [...w.watchers]) {
      try {
        watcher(why);
      } catch (err) {
        this.options.onError?.(err, 'closing a connection for its credential failed');
      }
    }
  }
}

/** Asks the source: expired by the clock, revoked by the store, else valid. */
async function verdictOf(info: CredentialInfo, now: () => number): Promise<CredentialVerdict> {
  if (info.expiresAt !== undefined && info.expiresAt <= now()) return 'expired';
  if (info.isRevoked === undefined) return 'valid';
  if (await info.isRevoked()) return 'revoked';
  return info.expiresAt !== undefined && info.expiresAt <= now() ? 'expired' : 'valid';
}

/**
 * How revocations reach the other nodes of a deployment (the cluster's event bus). One
 * process needs none: its own revocations reach its connections directly.
 */
export interface RevocationChannel {
  /** Tells every node (best effort, never throws): `ids` name the revoked credentials. */
  publish(ids: readonly string[]): void;
  /** Receives every node's revocations (this one's included) until unsubscribed. */
  subscribe(onRevoked: (ids: readonly string[]) => void): Promise<{ unsubscribe(): Promise<void> }>;
}
