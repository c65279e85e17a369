/**
 * State of the token service that must outlive one request: live refresh tokens, tombstones
 * of consumed ones (so a replayed refresh token is recognised as reuse, not as unknown), and
 * the revocation list (access token ids and whole token families). Memory for the embedded
 * node, Redis when several gateways issue and verify tokens. Every entry expires with the
 * tokens it is about, so nothing lives forever.
 *
 * Times given to the store are absolute milliseconds of the service's clock; the Redis store
 * turns them into PX lifetimes with its own `now` (the same clock by default), so a skew
 * between a gateway and Redis shifts no expiry.
 */
import { LuaScript } from '@mcp-cluster/cluster/lua';
import type { Redis } from 'ioredis';
import { z } from 'zod';

import type { Principal } from '../principal.js';
import type { SecurityKeys } from '../stores/keys.js';
import { SecurityStoreError } from '../stores/types.js';

export interface RefreshRecord {
  /** Whom the next access token is for; `claims` are not kept (they are not in tokens). */
  readonly principal: Principal;
  /** The grant this token belongs to; every rotation keeps it. */
  readonly familyId: string;
  /** Absolute expiry, ms. */
  readonly expiresAt: number;
  /**
   * End of the grant, ms: no rotation extends a refresh token past it. Absent in records
   * written before grants had an end (they keep rotating until the next rotation sets one).
   */
  readonly grantExpiresAt?: number;
  /** base64url SHA-256 of the token's secret part: the store never holds a usable token. */
  readonly secretHash: string;
}

export type ConsumeResult =
  | { readonly status: 'ok'; readonly record: RefreshRecord }
  /** The token was consumed before (rotated out): someone replays it. */
  | { readonly status: 'reused'; readonly familyId: string }
  /** Never issued, expired, or the secret does not match. */
  | { readonly status: 'unknown' };

export interface RevocationIds {
  /** An access token's `jti`. */
  readonly jti?: string;
  /** A token family (`fam` claim of an access token, `familyId` of a refresh record). */
  readonly familyId?: string;
}

export interface TokenStore {
  /** Stores a refresh token until `record.expiresAt`. */
  saveRefresh(jti: string, record: RefreshRecord): Promise<void>;
  /**
   * Atomically takes the refresh token `jti` when its secret hash matches: `ok` exactly once
   * (a tombstone replaces it for the rest of its life), `reused` for any later attempt with
   * the same secret, `unknown` otherwise. A wrong secret consumes nothing, so a guessed `jti`
   * can neither burn a live token nor trigger reuse detection.
   */
  consumeRefresh(jti: string, secretHash: string): Promise<ConsumeResult>;
  /** Marks every token of a family revoked until `untilMs` (when its last token expires). */
  revokeFamily(familyId: string, untilMs: number): Promise<void>;
  /** Marks one access token revoked until `untilMs` (its expiry). */
  revokeAccess(jti: string, untilMs: number): Promise<void>;
  /** True when the access token `jti` or the family `familyId` (either may be absent) is revoked. */
  isRevoked(ids: RevocationIds): Promise<boolean>;
}

export interface TokenStoreClockOptions {
  /** Milliseconds clock (default Date.now); the same one the service uses. */
  now?: () => number;
}

/** Writes between two sweeps of expired memory entries (amortised O(1) per write). */
export const TOKEN_STORE_SWEEP_EVERY = 1_000;

const PrincipalSchema = z.object({
  id: z.string(),
  kind: z.enum(['anonymous', 'user', 'service']),
  roles: z.array(z.string()).readonly(),
});

const StoredRecordSchema = z.object({
  principal: PrincipalSchema,
  familyId: z.string(),
  expiresAt: z.number(),
  grantExpiresAt: z.number().optional(),
});

/** What is kept of a principal: the fields an access token carries. */
function storedPrincipal(p: Principal): Principal {
  return Object.freeze({ id: p.id, kind: p.kind, roles: Object.freeze([...p.roles]) });
}

/** In-process store; time from an injected clock, expired entries swept every so often. */
export class MemoryTokenStore implements TokenStore {
  private readonly now: () => number;
  private readonly refresh = new Map<string, RefreshRecord>();
  /** Consumed refresh tokens: hash and family, until the token's original expiry. */
  private readonly used = new Map<string, { hash: string; familyId: string; until: number }>();
  private readonly revoked = new Map<string, number>();
  private readonly families = new Map<string, number>();
  private writes = 0;

  constructor(options: TokenStoreClockOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  saveRefresh(jti: string, record: RefreshRecord): Promise<void> {
    if (record.expiresAt > this.now()) {
      this.refresh.set(
        jti,
        Object.freeze({ ...record, principal: storedPrincipal(record.principal) }),
      );
      this.wrote();
    }
    return Promise.resolve();
  }

  consumeRefresh(jti: string, secretHash: string): Promise<ConsumeResult> {
    const now = this.now();
    const record = this.refresh.get(jti);
    if (record !== undefined && record.expiresAt > now) {
      if (record.secretHash !== secretHash) return Promise.resolve({ status: 'unknown' });
      this.refresh.delete(jti);
      this.used.set(jti, { hash: secretHash, familyId: record.familyId, until: record.expiresAt });
      this.wrote();
      return Promise.resolve({ status: 'ok', record });
    }
    const tomb = this.used.get(jti);
    if (tomb !== undefined && tomb.until > now && tomb.hash === secretHash) {
      return Promise.resolve({ status: 'reused', familyId: tomb.familyId });
    }
    return Promise.resolve({ status: 'unknown' });
  }

  revokeFamily(familyId: string, untilMs: number): Promise<void> {
    this.mark(this.families, familyId, untilMs);
    return Promise.resolve();
  }

  revokeAccess(jti: string, untilMs: number): Promise<void> {
    this.mark(this.revoked, jti, untilMs);
    return Promise.resolve();
  }

  isRevoked({ jti, familyId }: RevocationIds): Promise<boolean> {
    const now = this.now();
    const live = (map: Map<string, number>, id: string | undefined): boolean =>
      id !== undefined && (map.get(id) ?? 0) > now;
    return Promise.resolve(live(this.revoked, jti) || live(this.families, familyId));
  }

  /** Entries held, expired ones not yet swept included (for metrics and tests). */
  get size(): number {
    return this.refresh.size + this.used.size + this.revoked.size + this.families.size;
  }

  /** Records a revocation; a later one never shortens an earlier, longer one. */
  private mark(map: Map<string, number>, id: string, untilMs: number): void {
    if (untilMs <= this.now()) return;
    map.set(id, Math.max(untilMs, map.get(id) ?? 0));
    this.wrote();
  }

  private wrote(): void {
    if (++this.writes < TOKEN_STORE_SWEEP_EVERY) return;
    this.writes = 0;
    const now = this.now();
    for (const [k, r] of this.refresh) if (r.expiresAt <= now) this.refresh.delete(k);
    for (const [k, t] of this.used) if (t.until <= now) this.used.delete(k);
    for (const map of [this.revoked, this.families]) {
      for (const [k, until] of map) if (until <= now) map.delete(k);
    }
  }
}

/**
 * KEYS[1] refresh hash {h, fam, rec}, KEYS[2] tombstone hash {h, fam}; ARGV[1] secret hash.
 * Returns {1, rec} (taken; the tombstone inherits the token's remaining PTTL), {2, fam}
 * (a tombstone with the same hash: reuse) or {0} (unknown, or a wrong secret: untouched).
 */
const CONSUME_REFRESH = new LuaScript(`
local live = redis.call('HMGET', KEYS[1], 'h', 'fam', 'rec')
if live[1] then
  if live[1] ~= ARGV[1] then return {0} end
  local ttl = redis.call('PTTL', KEYS[1])
  redis.call('DEL', KEYS[1])
  if ttl > 0 then
    redis.call('HSET', KEYS[2], 'h', live[1], 'fam', live[2])
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
  return {1, live[3]}
end
local used = redis.call('HMGET', KEYS[2], 'h', 'fam')
if used[1] and used[1] == ARGV[1] then return {2, used[2]} end
return {0}
`);

/**
 * Sets KEYS[1] with PX ARGV[1] unless it already lives longer (a later, shorter revocation
 * must not cut an earlier one short).
 */
const MARK = new LuaScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 1
`);

function parseRecord(json: unknown, secretHash: string): RefreshRecord {
  try {
    if (typeof json !== 'string') throw new TypeError('not a string');
    const parsed = StoredRecordSchema.parse(JSON.parse(json));
    return Object.freeze({
      principal: storedPrincipal(parsed.principal),
      familyId: parsed.familyId,
      expiresAt: parsed.expiresAt,
      ...(parsed.grantExpiresAt === undefined ? {} : { grantExpiresAt: parsed.grantExpiresAt }),
      secretHash,
    });
  } catch (cause) {
    throw new SecurityStoreError('bad_reply', 'token store: unreadable refresh record', { cause });
  }
}

/** Redis store shared by every gateway; each operation is one command or one script. */
export class RedisTokenStore implements TokenStore {
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: SecurityKeys,
    options: TokenStoreClockOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async saveRefresh(jti: string, record: RefreshRecord): Promise<void> {
    const ttl = Math.ceil(record.expiresAt - this.now());
    if (ttl <= 0) return;
    const key = this.keys.refreshToken(jti);
    const rec = JSON.stringify({
      principal: storedPrincipal(record.principal),
      familyId: record.familyId,
      expiresAt: record.expiresAt,
      grantExpiresAt: record.grantExpiresAt,
    });
    const replies = await this.redis
      .multi()
      .hset(key, { h: record.secretHash, fam: record.familyId, rec })
      .pexpire(key, ttl)
      .exec();
    for (const [err] of replies ?? []) if (err) throw err;
  }

  async consumeRefresh(jti: string, secretHash: string): Promise<ConsumeResult> {
    const reply = await CONSUME_REFRESH.run(
      this.redis,
      [this.keys.refreshToken(jti), this.keys.refreshUsed(jti)],
      [secretHash],
    );
    if (!Array.isArray(reply) || reply.length === 0) {
      throw new SecurityStoreError('bad_reply', 'consume refresh: expected an array reply');
    }
    const [status, value] = reply as unknown[];
    if (status === 1) return { status: 'ok', record: parseRecord(value, secretHash) };
    if (status === 2 && typeof value === 'string') return { status: 'reused', familyId: value };
    if (status === 0) return { status: 'unknown' };
    throw new SecurityStoreError('bad_reply', 'consume refresh: unexpected reply');
  }

  revokeFamily(familyId: string, untilMs: number): Promise<void> {
    return this.mark(this.keys.revokedFamily(familyId), untilMs);
  }

  revokeAccess(jti: string, untilMs: number): Promise<void> {
    return this.mark(this.keys.revokedToken(jti), untilMs);
  }

  async isRevoked({ jti, familyId }: RevocationIds): Promise<boolean> {
    const keys: string[] = [];
    if (jti !== undefined) keys.push(this.keys.revokedToken(jti));
    if (familyId !== undefined) keys.push(this.keys.revokedFamily(familyId));
    return keys.length > 0 && (await this.redis.exists(...keys)) > 0;
  }

  private async mark(key: string, untilMs: number): Promise<void> {
    const ttl = Math.ceil(untilMs - this.now());
    if (ttl <= 0) return;
    await MARK.run(this.redis, [key], [ttl]);
  }
}
