import { describe, expect, it } from 'vitest';

import { redisPair } from './redis.testkit.js';
import { PRESENCE_TTL_MS, RedisStreamMirror } from './stream-mirror.js';

const { keys, a: redis } = redisPair();

describe('RedisStreamMirror.lastAt', () => {
  it('tells when the last event or end marker was recorded; undefined for an unknown stream', async () => {
    const mirror = new RedisStreamMirror(redis, keys);
    expect(await mirror.lastAt('s', 'g1~0')).toBeUndefined();
    const before = Date.now();
    mirror.record('s', 'g1~0', 1, { jsonrpc: '2.0', method: 'x' });
    await redis.ping(); // after the record on the same connection
    const first = await mirror.lastAt('s', 'g1~0');
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThanOrEqual(Date.now());
    mirror.record('s', 'g1~0', 1, undefined);
    await redis.ping();
    expect(await mirror.lastAt('s', 'g1~0')).toBeGreaterThanOrEqual(first!);
    // Entries recorded before the time field existed name no time.
    await redis.xadd(keys.replay('s/old'), '1-1', 'm', '{"jsonrpc":"2.0","method":"x"}');
    expect(await mirror.lastAt('s', 'old')).toBeUndefined();
  });
});

describe('RedisStreamMirror: a pending stream whose origin dies', () => {
  const follow = (
    mirror: RedisStreamMirror,
    streamId: string,
    maxMs: number,
  ): Promise<{ outcome: Awaited<ReturnType<RedisStreamMirror['resume']>>; seen: unknown[] }> => {
    const seen: unknown[] = [];
    return mirror
      .resume(
        's',
        streamId,
        0,
        (seq, m) => seen.push([seq, m]) > 0,
        new AbortController().signal,
        maxMs,
      )
      .then((outcome) => ({ outcome, seen }));
  };

  it('is followed while its origin runs, and named orphaned (with the request id) once it is gone', async () => {
    const origin = new RedisStreamMirror(redis, keys);
    const other = new RedisStreamMirror(redis, keys);
    try {
      origin.pending('s', 'g1.a~1', 0, 'req-7');
      await redis.ping();
      expect(await redis.exists(keys.presence(origin.instance))).toBe(1);
      // The origin runs: following gives up at maxMs with the stream still open.
      expect((await follow(other, 'g1.a~1', 1_500)).outcome).toBe('open');
      // Its presence lapses (as after a SIGKILL): the follower names the orphaned request.
      origin.stop();
      await redis.del(keys.presence(origin.instance));
      const started = Date.now();
      expect((await follow(other, 'g1.a~1', 10_000)).outcome).toEqual({ orphaned: 'req-7' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      origin.stop();
    }
  });

  it('delivers what the origin recorded before it died, and an answered stream is never orphaned', async () => {
    const origin = new RedisStreamMirror(redis, keys);
    const other = new RedisStreamMirror(redis, keys);
    origin.pending('s', 'g1.b~1', 0, 3);
    origin.record('s', 'g1.b~1', 1, { jsonrpc: '2.0', method: 'notifications/progress' });
    origin.stop();
    await redis.del(keys.presence(origin.instance));
    const orphan = await follow(other, 'g1.b~1', 10_000);
    expect(orphan.outcome).toEqual({ orphaned: 3 });
    expect(orphan.seen).toEqual([[1, { jsonrpc: '2.0', method: 'notifications/progress' }]]);

    origin.pending('s', 'g1.c~1', 0, 4);
    origin.record('s', 'g1.c~1', 1, { jsonrpc: '2.0', id: 4, result: {} });
    origin.record('s', 'g1.c~1', 1, undefined);
    origin.stop();
    await redis.del(keys.presence(origin.instance));
    const answered = await follow(other, 'g1.c~1', 10_000);
    expect(answered.outcome).toBe('ended');
    expect(answered.seen).toEqual([[1, { jsonrpc: '2.0', id: 4, result: {} }]]);
    // Finished: ended, and nothing after the client's last event.
    expect(await other.finished('s', 'g1.c~1', 1)).toBe(true);
    expect(await other.finished('s', 'g1.c~1', 0)).toBe(false);
    expect(await other.finished('s', 'g1.b~1', 1)).toBe(false); // never ended
    expect(await other.finished('s', 'nothing~1', 0)).toBe(false);
  });

  it('keeps the presence key alive while the process runs, and lets it lapse after stop', async () => {
    const origin = new RedisStreamMirror(redis, keys);
    origin.pending('s', 'g1.d~1', 0, 1);
    await redis.ping();
    const ttl = await redis.pttl(keys.presence(origin.instance));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(PRESENCE_TTL_MS);
    origin.stop();
    // No refresh after stop: the key keeps its TTL and lapses by itself.
    expect(await redis.pttl(keys.presence(origin.instance))).toBeLessThanOrEqual(ttl);
  });
});
