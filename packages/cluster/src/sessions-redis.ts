import type { Redis } from 'ioredis';

import { ClusterStateError } from './errors.js';
import { type ClusterKeys, SESSION_TOMBSTONE_TTL_MS, SESSION_TTL_MS } from './keys.js';
import { LuaScript } from './lua.js';
import {
  MAX_MIGRATIONS,
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
  type UpdateResult,
} from './sessions.js';

/*
 * One hash per session: s = state JSON, v = version, w = pinned worker ('' = none),
 * m = migration history JSON, e = '1' once ended (tombstone: only e survives).
 * Every conditional write is a Lua script so it is atomic across gateways.
 */

const CREATE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'v', 1, 'w', ARGV[2], 'm', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`);

const UPDATE = new LuaScript(`
local f = redis.call('HMGET', KEYS[1], 'v', 'e')
if f[2] == '1' then return -2 end
if not f[1] then return -1 end
if f[1] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[2])
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return v`);

const END = new LuaScript(`
if redis.call('HGET', KEYS[1], 'e') == '1' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'e', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`);

const TOUCH = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'e') == '1' then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`);

const SET_PIN = new LuaScript(`
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
      [this.keys.session(id)],
      [JSON.stringify(state), init.workerId ?? '', JSON.stringify(migrations), this.ttlMs],
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
      [this.keys.session(id)],
      [String(expectedVersion), JSON.stringify(next), this.ttlMs],
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
    await END.run(this.redis, [this.keys.session(id)], [this.tombstoneTtlMs]);
  }

  async touch(id: string): Promise<boolean> {
    return (await TOUCH.run(this.redis, [this.keys.session(id)], [this.ttlMs])) === 1;
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
      [this.keys.session(id)],
      [workerId, previous ?? '', JSON.stringify(m), this.ttlMs, MAX_MIGRATIONS],
    );
    return res === 1;
  }
}
