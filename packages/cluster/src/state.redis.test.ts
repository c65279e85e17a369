import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import { describeContract } from './contract.testkit.js';
import { ClusterStateError } from './errors.js';
import { REPLAY_MAX_LEN, REPLAY_TTL_MS, SESSION_TTL_MS, WORKER_HEARTBEAT_TTL_MS } from './keys.js';
import { redisPair } from './redis.testkit.js';
import { RedisComponentRegistry } from './registry-redis.js';
import { RedisSessionStore } from './sessions-redis.js';
import { createClusterState } from './state.js';
import { RedisStreamMirror } from './stream-mirror.js';
import { testRedisUrl as redisUrl, purgePrefix as purge } from '@mcp-cluster/test-support';

describeContract('redis', async () => {
  const state = await createClusterState({
    redisUrl: redisUrl(),
    prefix: `test:${randomUUID()}`,
  });
  const raw = new Redis(redisUrl());
  return {
    sessions: state.sessions,
    registry: state.registry,
    expireWorker: async (id) => {
      await raw.del(state.keys.worker(id));
    },
    close: async () => {
      await purge(raw, state.keys.prefix);
      await raw.quit();
      await state.close();
    },
  };
});

describe('redis specifics', () => {
  const { keys, a: redis } = redisPair();

  it('puts sliding TTLs on sessions, tombstones, replay streams and heartbeats', async () => {
    const sessions = new RedisSessionStore(redis, keys, { ttlMs: 60_000, tombstoneTtlMs: 5_000 });
    await sessions.create('t1', { protocolVersion: 'v', clientCapabilities: {} });
    const k = keys.session('t1');
    expect(await redis.pttl(k)).toBeGreaterThan(55_000);
    await redis.pexpire(k, 1_000);
    expect(await sessions.touch('t1')).toBe(true);
    expect(await redis.pttl(k)).toBeGreaterThan(55_000);
    await sessions.delete('t1');
    const tomb = await redis.pttl(k);
    expect(tomb).toBeGreaterThan(0);
    expect(tomb).toBeLessThanOrEqual(5_000);

    // record() is fire and forget; a later command on the same connection runs after it.
    new RedisStreamMirror(redis, keys).record('s1', 'g~1', 1, { jsonrpc: '2.0', method: 'm' });
    expect(await redis.pttl(keys.replay('s1/g~1'))).toBeGreaterThan(REPLAY_TTL_MS - 5_000);

    const registry = new RedisComponentRegistry(redis, keys);
    await registry.register('w1', {
      url: 'http://a',
      components: { tools: [], prompts: [], resources: [], resourceTemplates: [] },
    });
    expect(await redis.pttl(keys.worker('w1'))).toBeGreaterThan(WORKER_HEARTBEAT_TTL_MS - 2_000);
    expect(SESSION_TTL_MS).toBeGreaterThan(0);
  });

  it('keeps session slots scored by expiry: use slides them, an expired session frees its own', async () => {
    const sessions = new RedisSessionStore(redis, keys, { ttlMs: 60_000 });
    const one = { maxPerOwner: 1, maxTotal: 1_000 };
    await sessions.create('e1', { protocolVersion: 'v', clientCapabilities: {}, ownerId: 'eve' });
    const owner = keys.sessionOwner('eve');
    const scoreOf = async (key: string): Promise<number> => Number(await redis.zscore(key, 'e1'));
    const [sec] = await redis.time();
    const created = await scoreOf(owner);
    expect(created).toBeGreaterThan(Number(sec) * 1000 + 55_000);
    expect(await scoreOf(keys.sessionIndex())).toBe(created);
    expect(await redis.pttl(owner)).toBeGreaterThan(55_000);
    expect(await sessions.claimSlot('e2', 'eve', one)).toMatchObject({ ok: false });
    // What the key's own TTL does, without waiting for it: the session and its score lapse.
    await redis.del(keys.session('e1'));
    await redis.zadd(owner, Number(sec) * 1000 - 1, 'e1');
    expect(await sessions.touch('e1')).toBe(false);
    expect(await sessions.claimSlot('e2', 'eve', one)).toEqual({ ok: true });
    // A live session's touch moves its score along.
    await sessions.create('e3', { protocolVersion: 'v', clientCapabilities: {}, ownerId: 'dan' });
    const dan = keys.sessionOwner('dan');
    await redis.zadd(dan, 1, 'e3');
    expect(await sessions.touch('e3')).toBe(true);
    expect(Number(await redis.zscore(dan, 'e3'))).toBeGreaterThan(Number(sec) * 1000);
  });

  it('bounds a mirrored stream', async () => {
    const mirror = new RedisStreamMirror(redis, keys);
    const total = REPLAY_MAX_LEN + 500;
    for (let seq = 1; seq <= total; seq++) {
      mirror.record('s', 'big', seq, { jsonrpc: '2.0', method: 'm', params: { seq } });
    }
    // MAXLEN ~ trims whole stream nodes (100 entries by default), so the bound is approximate.
    const len = await redis.xlen(keys.replay('s/big'));
    expect(len).toBeGreaterThanOrEqual(REPLAY_MAX_LEN);
    expect(len).toBeLessThan(total);
  });

  it('turns corrupt stored values into typed errors', async () => {
    const sessions = new RedisSessionStore(redis, keys);
    await redis.hset(keys.session('bad1'), 's', 'not json', 'v', '1');
    await expect(sessions.get('bad1')).rejects.toMatchObject({ kind: 'corrupt' });
    await redis.hset(keys.session('bad2'), 's', JSON.stringify({ protocolVersion: 3 }), 'v', '1');
    await expect(sessions.get('bad2')).rejects.toBeInstanceOf(ClusterStateError);
    await redis.hset(
      keys.session('bad3'),
      's',
      JSON.stringify({
        protocolVersion: 'v',
        clientCapabilities: {},
        subscriptions: [],
        initialized: false,
        createdAt: 1,
      }),
      'v',
      'x',
    );
    await expect(sessions.get('bad3')).rejects.toMatchObject({ kind: 'corrupt' });

    await redis.xadd(keys.replay('c/1'), '5-1', 'm', '{"no":"envelope"}');
    const mirror = new RedisStreamMirror(redis, keys);
    await expect(
      mirror.resume('c', '1', 0, () => true, new AbortController().signal, 1_000),
    ).rejects.toMatchObject({ kind: 'corrupt' });

    const registry = new RedisComponentRegistry(redis, keys);
    await redis.sadd(keys.workerIndex(), 'wbad');
    await redis.set(keys.worker('wbad'), '{"workerId":"wbad"}', 'PX', 60_000);
    await expect(registry.list()).rejects.toMatchObject({ kind: 'corrupt' });
  });

  it('shares state between two independent connections (two gateways)', async () => {
    const prefix = `test:${randomUUID()}`;
    await using a = await createClusterState({ redisUrl: redisUrl(), prefix });
    await using b = await createClusterState({ redisUrl: redisUrl(), prefix });
    expect(a.kind).toBe('redis');
    await a.sessions.create('s', { protocolVersion: 'v', clientCapabilities: {} });
    expect(await b.sessions.setPin('s', 'w1')).toBe(true);
    expect(await a.sessions.getPin('s')).toBe('w1');
    const am = a.mirror;
    const bm = b.mirror;
    if (am === undefined || bm === undefined) throw new Error('redis state has a mirror');
    am.record('s', 'g1~1', 1, { jsonrpc: '2.0', method: 'x' });
    am.record('s', 'g1~1', 2, { jsonrpc: '2.0', method: 'y' });
    am.record('s', 'g1~1', 2, undefined);
    await a.sessions.getPin('s'); // after the records on a's connection
    const seen: [number, unknown][] = [];
    const outcome = await bm.resume(
      's',
      'g1~1',
      1,
      (seq, message) => seen.push([seq, message]) > 0,
      new AbortController().signal,
      1_000,
    );
    expect(outcome).toBe('ended');
    expect(seen).toEqual([[2, { jsonrpc: '2.0', method: 'y' }]]);
    expect(await bm.resume('s', 'other', 0, () => true, new AbortController().signal, 1_000)).toBe(
      'unknown',
    );
    await purge(redis, prefix);
  });

  it('fails at startup on an unreachable Redis', async () => {
    await expect(createClusterState({ redisUrl: 'redis://127.0.0.1:1' })).rejects.toThrow();
  });
});
