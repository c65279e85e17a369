import type { Redis } from 'ioredis';

import { ClusterStateError } from './errors.js';
import {
  type ClusterKeys,
  SESSION_CLAIM_TTL_MS,
  SESSION_TOMBSTONE_TTL_MS,
  SESSION_TTL_MS,
} from './keys.js';
import { LuaScript } from './lua.js';
import {
  MAX_MIGRATIONS,
  UNOWNED_SESSION_OWNER,
  applyPatch,
  decodeMigrations,
  decodeState,
  initialState,
  type NewSession,
  type SessionLookup,
  type SessionMigration,
  type SessionPatch,
  type SessionRecord,
  type SessionStore,
  type SlotClaim,
  type SlotLimits,
  type UpdateResult,
} from './sessions.js';

/*
 * One hash per session: s = state JSON, v = version, w = pinned worker ('' = none),
 * m = migration history JSON, o = the owner's slot index key, e = '1' once ended (tombstone:
 * only e survives). Every conditional write is a Lua script so it is atomic across gateways.
 *
 * Slots: every live session (and every slot claimed for one about to be created) is a member
 * of its owner's sorted set and of the cluster's, scored by when it expires (Redis time, ms).
 * Whatever slides a session's TTL slides its scores too, so a count is ZREMRANGEBYSCORE of
 * the past then ZCARD: an expired session frees its slot by itself, an ended one at once.
 * The owner's set is named in the session hash (`o`) because touch/update/pin callers do not
 * know the owner.
 */

/** Lua: `slide(sessionKey, indexKey, id, ttl)` moves the session's slot expiry to now + ttl. */
const SLIDE = `
local function slide(sessionKey, indexKey, id, ttl)
  local t = redis.call('TIME')
  local exp = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ttl)
  local o = redis.call('HGET', sessionKey, 'o')
  if o then
    redis.call('ZADD', o, exp, id)
    redis.call('PEXPIRE', o, ttl)
  end
  redis.call('ZADD', indexKey, exp, id)
  redis.call('PEXPIRE', indexKey, ttl)
end
`;

const CREATE = new LuaScript(`${SLIDE}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'v', 1, 'w', ARGV[2], 'm', ARGV[3], 'o', KEYS[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
slide(KEYS[1], KEYS[3], ARGV[5], ARGV[4])
return 1`);

const UPDATE = new LuaScript(`${SLIDE}
local f = redis.call('HMGET', KEYS[1], 'v', 'e')
if f[2] == '1' then return -2 end
if not f[1] then return -1 end
if f[1] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[2])
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
slide(KEYS[1], KEYS[2], ARGV[4], ARGV[3])
return v`);

const END = new LuaScript(`
if redis.call('HGET', KEYS[1], 'e') == '1' then return 0 end
local o = redis.call('HGET', KEYS[1], 'o')
if o then redis.call('ZREM', o, ARGV[2]) end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'e', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`);

const TOUCH = new LuaScript(`${SLIDE}
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'e') == '1' then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
slide(KEYS[1], KEYS[2], ARGV[2], ARGV[1])
return 1`);

const SET_PIN = new LuaScript(`${SLIDE}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local f = redis.call('HMGET', KEYS[1], 'e', 'w', 'm')
if f[1] == '1' then return 0 end
local cur = f[2] or ''
if cur ~= ARGV[2] then return 0 end
if ARGV[1] ~= cur then
  -- Never empty after the append, so cjson's empty-array-as-object quirk cannot bite;
  -- 13-digit ms timestamps fit its 14-digit number precision.
  local m = cjson.decode(f[3] or '[]')
  table.insert(m, cjson.decode(ARGV[3]))
  while #m > tonumber(ARGV[5]) do table.remove(m, 1) end
  redis.call('HSET', KEYS[1], 'w', ARGV[1], 'm', cjson.encode(m))
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
slide(KEYS[1], KEYS[2], ARGV[6], ARGV[4])
return 1`);

/**
 * KEYS: owner set, cluster set. ARGV: id, max per owner, max in all, claim life, session TTL.
 * Returns {0, 0} when claimed, else {1 (owner) | 2 (cluster), ms until its first slot expires}.
 */
const CLAIM = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {1, tonumber(first[2]) - now}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {2, tonumber(first[2]) - now}
end
local exp = now + tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], exp, ARGV[1])
redis.call('ZADD', KEYS[2], exp, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {0, 0}`);

/** KEYS: session, owner set, cluster set. ARGV: id. A created session keeps its slot. */
const RELEASE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('HGET', KEYS[1], 'e') ~= '1' then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1`);

export interface RedisSessionStoreOptions {
  ttlMs?: number;
  tombstoneTtlMs?: number;
}

export class RedisSessionStore implements SessionStore {
  private readonly ttlMs: number;
  private readonly tombstoneTtlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    options: RedisSessionStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.tombstoneTtlMs = options.tombstoneTtlMs ?? SESSION_TOMBSTONE_TTL_MS;
  }

  async create(id: string, init: NewSession): Promise<SessionRecord> {
    const now = Date.now();
    const state = initialState(init, now);
    const migrations: SessionMigration[] =
      init.workerId !== undefined ? [{ to: init.workerId, at: now }] : [];
    const created = await CREATE.run(
      this.redis,
      [
        this.keys.session(id),
        this.keys.sessionOwner(init.ownerId ?? UNOWNED_SESSION_OWNER),
        this.keys.sessionIndex(),
      ],
      [JSON.stringify(state), init.workerId ?? '', JSON.stringify(migrations), this.ttlMs, id],
    );
    if (created !== 1) throw new ClusterStateError('exists', `session ${id} already exists`);
    return {
      ...state,
      id,
      version: 1,
      migrations,
      ...(init.workerId !== undefined ? { workerId: init.workerId } : {}),
    };
  }

  async get(id: string): Promise<SessionLookup> {
    const h = await this.redis.hgetall(this.keys.session(id));
    if (h.e === '1') return { status: 'ended' };
    if (h.s === undefined) return { status: 'unknown' };
    const version = Number(h.v);
    if (!Number.isSafeInteger(version)) {
      throw new ClusterStateError('corrupt', `session ${id}: invalid version`);
    }
    const state = decodeState(h.s, id);
    const record: SessionRecord = {
      ...state,
      id,
      version,
      migrations: decodeMigrations(h.m ?? '[]', id),
      ...(h.w !== undefined && h.w !== '' ? { workerId: h.w } : {}),
    };
    return { status: 'live', session: record };
  }

  async update(id: string, expectedVersion: number, patch: SessionPatch): Promise<UpdateResult> {
    // Read the base at expectedVersion, apply locally, then CAS on the version (JSON merging
    // in Lua would mangle empty arrays, cjson encodes them as objects).
    const current = await this.get(id);
    if (current.status !== 'live') return { ok: false, reason: current.status };
    if (current.session.version !== expectedVersion) return { ok: false, reason: 'conflict' };
    // The pin is reported as read; a concurrent re-pin is not a conflict (getPin is the truth).
    const { id: _id, version: _version, workerId, migrations, ...base } = current.session;
    const next = applyPatch(base, patch);
    const res = await UPDATE.run(
      this.redis,
      [this.keys.session(id), this.keys.sessionIndex()],
      [String(expectedVersion), JSON.stringify(next), this.ttlMs, id],
    );
    if (res === -2) return { ok: false, reason: 'ended' };
    if (res === -1) return { ok: false, reason: 'unknown' };
    if (typeof res !== 'number' || res === 0) return { ok: false, reason: 'conflict' };
    return {
      ok: true,
      session: {
        ...next,
        id,
        version: res,
        migrations,
        ...(workerId !== undefined ? { workerId } : {}),
      },
    };
  }

  async delete(id: string): Promise<void> {
    await END.run(
      this.redis,
      [this.keys.session(id), this.keys.sessionIndex()],
      [this.tombstoneTtlMs, id],
    );
  }

  async touch(id: string): Promise<boolean> {
    const res = await TOUCH.run(
      this.redis,
      [this.keys.session(id), this.keys.sessionIndex()],
      [this.ttlMs, id],
    );
    return res === 1;
  }

  async claimSlot(id: string, ownerId: string, limits: SlotLimits): Promise<SlotClaim> {
    const res = await CLAIM.run(
      this.redis,
      [this.keys.sessionOwner(ownerId), this.keys.sessionIndex()],
      [
        id,
        limits.maxPerOwner,
        limits.maxTotal,
        Math.min(SESSION_CLAIM_TTL_MS, this.ttlMs),
        this.ttlMs,
      ],
    );
    if (!Array.isArray(res) || typeof res[0] !== 'number' || typeof res[1] !== 'number') {
      throw new ClusterStateError('corrupt', 'session slot claim: unexpected reply');
    }
    if (res[0] === 0) return { ok: true };
    return { ok: false, limit: res[0] === 1 ? 'principal' : 'total', retryAfterMs: res[1] };
  }

  async releaseSlot(id: string, ownerId: string): Promise<void> {
    await RELEASE.run(
      this.redis,
      [this.keys.session(id), this.keys.sessionOwner(ownerId), this.keys.sessionIndex()],
      [id],
    );
  }

  async getPin(id: string): Promise<string | undefined> {
    const [w, e] = await this.redis.hmget(this.keys.session(id), 'w', 'e');
    return e !== '1' && w !== null && w !== undefined && w !== '' ? w : undefined;
  }

  async setPin(id: string, workerId: string, previous?: string): Promise<boolean> {
    if (workerId === '') return false; // '' is the "unpinned" marker in the hash
    const m: SessionMigration = { to: workerId, at: Date.now() };
    if (previous !== undefined) m.from = previous;
    const res = await SET_PIN.run(
      this.redis,
      [this.keys.session(id), this.keys.sessionIndex()],
      [workerId, previous ?? '', JSON.stringify(m), this.ttlMs, MAX_MIGRATIONS, id],
    );
    return res === 1;
  }
}
