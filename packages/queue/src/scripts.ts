/**
 * The Lua scripts that change a task record. Each is atomic and publishes the change on the
 * events channel from inside the script, so every node sees changes in the order they
 * happened (legacy status notifications depend on it).
 *
 * Conventions: KEYS[1] record, KEYS[2] inputs, KEYS[3] answers, KEYS[4] sent;
 * ARGV[1] events channel, ARGV[2] task id, ARGV[3] now (ISO). Results: -1 record gone,
 * -2 already terminal, -3 fenced (another run owns the task now).
 *
 * Fencing: a durable run writes with its BullMQ lock token. The record's `tok` is the token
 * of the run that last began (BEGIN); SETTLE also compares the BullMQ lock key itself, so a
 * run whose lock lapsed or was taken over is refused even before the new owner's BEGIN.
 */
import { LuaScript } from '@mcp-cluster/cluster';

export const GONE = -1;
export const TERMINAL = -2;
export const FENCED = -3;

const PRELUDE = `
local function terminal(s) return s == 'completed' or s == 'failed' or s == 'cancelled' end
local function emit(x, began)
  local f = redis.call('HMGET', KEYS[1], 's', 'u', 'm')
  local ev = { id = ARGV[2], s = f[1], u = f[2], x = x }
  if f[3] then ev.m = f[3] end
  if began then ev.b = began end
  redis.call('PUBLISH', ARGV[1], cjson.encode(ev))
end
local function follow(key)
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end
`;

const script = (body: string): LuaScript => new LuaScript(PRELUDE + body);

/**
 * KEYS[1] record, KEYS[2] owner index, KEYS[3] sequence. ARGV[1] ttl ms, ARGV[2] owner index
 * ttl ms, ARGV[3] id, ARGV[4..] field/value pairs. Returns the sequence, or 0 if the id is taken.
 */
export const CREATE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'q', seq, unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], seq, ARGV[3])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return seq`);

/**
 * The runner parks for input. ARGV[4] run token ('' = unfenced), ARGV[5..] key/entry pairs.
 * Returns {1, status, updated}.
 */
export const REQUEST_INPUT = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local s = redis.call('HGET', KEYS[1], 's')
if terminal(s) then return {-2} end
if ARGV[4] ~= '' and redis.call('HGET', KEYS[1], 'tok') ~= ARGV[4] then return {-3} end
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
follow(KEYS[2])
if s == 'input_required' then emit(0) else
  redis.call('HSET', KEYS[1], 's', 'input_required', 'u', ARGV[3])
  emit(1)
end
return {1, 'input_required', redis.call('HGET', KEYS[1], 'u')}`);

/**
 * Answers pending keys (tasks/update, or a 2025-11-25 client reply). ARGV[4..] key/answer
 * pairs; keys not pending are ignored. Returns how many were taken.
 */
export const ANSWER = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local s = redis.call('HGET', KEYS[1], 's')
if terminal(s) then return -2 end
local taken = 0
for i = 4, #ARGV, 2 do
  if redis.call('HDEL', KEYS[2], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
    redis.call('HDEL', KEYS[4], ARGV[i])
    taken = taken + 1
  end
end
if taken > 0 then
  follow(KEYS[3])
  if s == 'input_required' and redis.call('HLEN', KEYS[2]) == 0 then
    redis.call('HSET', KEYS[1], 's', 'working', 'u', ARGV[3])
    emit(1)
  else
    redis.call('HSET', KEYS[1], 'u', ARGV[3])
    emit(0)
  end
end
return taken`);

/** The runner drops the rest of an input call the client refused. ARGV[4..] keys. */
export const DROP_INPUT = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local s = redis.call('HGET', KEYS[1], 's')
if terminal(s) then return -2 end
for i = 4, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('HDEL', KEYS[3], ARGV[i])
  redis.call('HDEL', KEYS[4], ARGV[i])
end
if s == 'input_required' and redis.call('HLEN', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[1], 's', 'working', 'u', ARGV[3])
  emit(1)
end
return 1`);

/**
 * Terminal status (completed, failed, cancelled); retention restarts here. KEYS[5] owner
 * index, KEYS[6] the task job's BullMQ lock key. ARGV[4] token ('' = unfenced, e.g. cancel),
 * ARGV[5] status, ARGV[6] expiresAt, ARGV[7] ttl ms, ARGV[8] message ('' = none), ARGV[9]
 * result JSON, ARGV[10] error JSON. Returns 1, or 0 when already terminal.
 *
 * A fenced settle (token given) needs both the record's `tok` and the live BullMQ lock to be
 * this run's: the result is written in the same atomic step that proves the lease is held, so
 * a run that lost its lease (lapsed, or taken by another worker) can never store a result.
 */
export const SETTLE = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if terminal(redis.call('HGET', KEYS[1], 's')) then return 0 end
if ARGV[4] ~= '' then
  if redis.call('HGET', KEYS[1], 'tok') ~= ARGV[4] then return -3 end
  if redis.call('GET', KEYS[6]) ~= ARGV[4] then return -3 end
end
redis.call('HSET', KEYS[1], 's', ARGV[5], 'u', ARGV[3], 'x', ARGV[6])
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[8]) end
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'r', ARGV[9]) end
if ARGV[10] ~= '' then redis.call('HSET', KEYS[1], 'er', ARGV[10]) end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
if redis.call('PTTL', KEYS[5]) < tonumber(ARGV[7]) then redis.call('PEXPIRE', KEYS[5], ARGV[7]) end
emit(1)
return 1`);

/**
 * A node takes up a durable job: it becomes the task's only runner (token), and input left
 * by a crashed run is dropped (the run starts over). ARGV[4] token, ARGV[5] node id.
 * Returns the run's generation (1, 2, ...: one more per run begun). Always publishes it (as
 * `b`): a run of an earlier generation still going somewhere (its node stalled and resumed)
 * hears that it lost the task and aborts without another round trip.
 */
export const BEGIN = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local s = redis.call('HGET', KEYS[1], 's')
if terminal(s) then return -2 end
redis.call('HSET', KEYS[1], 'tok', ARGV[4], 'n', ARGV[5])
local g = redis.call('HINCRBY', KEYS[1], 'g', 1)
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
if s ~= 'working' then
  redis.call('HSET', KEYS[1], 's', 'working', 'u', ARGV[3])
  emit(1, g)
else
  emit(0, g)
end
return g`);

/** Counts one refusal by `resolveRun`, never resurrecting a record that is gone. */
export const COUNT_UNRESOLVED = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HINCRBY', KEYS[1], 'miss', 1)`);

/**
 * Claims an input key for sending on one tasks/result stream. A claim is
 * `claimant|expiresAtMs`: a claimant that died stops refreshing it, and once it lapses the
 * next tasks/result (any node) sends the request again. ARGV[4] key, ARGV[5] claimant,
 * ARGV[6] now ms, ARGV[7] claim ms.
 */
export const CLAIM_SENT = script(`
if redis.call('HEXISTS', KEYS[2], ARGV[4]) == 0 then return 0 end
local cur = redis.call('HGET', KEYS[4], ARGV[4])
if cur then
  local exp = string.match(cur, '|(%d+)$')
  if exp and tonumber(exp) > tonumber(ARGV[6]) then return 0 end
end
redis.call('HSET', KEYS[4], ARGV[4], ARGV[5] .. '|' .. (tonumber(ARGV[6]) + tonumber(ARGV[7])))
follow(KEYS[4])
return 1`);

/** Extends this claimant's claims. ARGV[4] claimant, ARGV[5] new expiry ms, ARGV[6..] keys. */
export const REFRESH_SENT = script(`
local prefix = ARGV[4] .. '|'
for i = 6, #ARGV do
  local cur = redis.call('HGET', KEYS[4], ARGV[i])
  if cur and string.sub(cur, 1, #prefix) == prefix then
    redis.call('HSET', KEYS[4], ARGV[i], prefix .. ARGV[5])
  end
end
return 1`);

/** Gives up this claimant's claim on a key (its stream is gone). ARGV[4] claimant, ARGV[5] key. */
export const RELEASE_SENT = script(`
local cur = redis.call('HGET', KEYS[4], ARGV[5])
if cur and string.sub(cur, 1, #ARGV[4] + 1) == ARGV[4] .. '|' then
  redis.call('HDEL', KEYS[4], ARGV[5])
end
return 1`);

/** A task past its TTL by the host's clock: gone, and its runner told (as cancelled). */
export const EXPIRE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local f = redis.call('HMGET', KEYS[1], 's')
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
if f[1] ~= 'completed' and f[1] ~= 'failed' and f[1] ~= 'cancelled' then
  redis.call('PUBLISH', ARGV[1], cjson.encode({ id = ARGV[2], s = 'cancelled', u = ARGV[3], x = 1, m = 'The task expired.' }))
end
return 1`);
