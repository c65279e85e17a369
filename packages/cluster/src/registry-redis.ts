import type { Redis } from 'ioredis';

import { type ClusterKeys, WORKER_HEARTBEAT_TTL_MS } from './keys.js';
import { LuaScript } from './lua.js';
import {
  ChangeEmitter,
  type ComponentRegistry,
  decodeWorker,
  type RegistryListener,
  type WorkerInfo,
  type WorkerRegistration,
} from './registry.js';

export interface RedisRegistryOptions {
  heartbeatTtlMs?: number;
}

// Atomic: a worker that re-registered between scan and sweep must stay indexed.
const SWEEP = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
return redis.call('SREM', KEYS[2], ARGV[1])`);

/** Worker record = string key whose TTL is the heartbeat; a set indexes the ids. */
export class RedisComponentRegistry implements ComponentRegistry {
  private readonly emitter = new ChangeEmitter();
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    options: RedisRegistryOptions = {},
  ) {
    this.ttlMs = options.heartbeatTtlMs ?? WORKER_HEARTBEAT_TTL_MS;
  }

  async register(workerId: string, reg: WorkerRegistration): Promise<WorkerInfo> {
    const info: WorkerInfo = {
      workerId,
      url: reg.url,
      weight: reg.weight ?? 1,
      components: reg.components,
      registeredAt: Date.now(),
      ...(reg.instance === undefined ? {} : { instance: reg.instance }),
      ...(reg.maxConcurrency === undefined ? {} : { maxConcurrency: reg.maxConcurrency }),
    };
    await this.redis
      .multi()
      .set(this.keys.worker(workerId), JSON.stringify(info), 'PX', this.ttlMs)
      .sadd(this.keys.workerIndex(), workerId)
      .incr(this.keys.registryRevision())
      .exec();
    this.emitter.emit({ type: 'registered', worker: info });
    return info;
  }

  async heartbeat(workerId: string): Promise<boolean> {
    return (await this.redis.pexpire(this.keys.worker(workerId), this.ttlMs)) === 1;
  }

  async unregister(workerId: string): Promise<void> {
    const res = await this.redis
      .multi()
      .del(this.keys.worker(workerId))
      .srem(this.keys.workerIndex(), workerId)
      .exec();
    if (res?.[1]?.[1] === 1) {
      await this.redis.incr(this.keys.registryRevision());
      this.emitter.emit({ type: 'unregistered', workerId });
    }
  }

  private async scan(): Promise<{ live: WorkerInfo[]; stale: string[] }> {
    const ids = await this.redis.smembers(this.keys.workerIndex());
    if (ids.length === 0) return { live: [], stale: [] };
    const values = await this.redis.mget(ids.map((id) => this.keys.worker(id)));
    const live: WorkerInfo[] = [];
    const stale: string[] = [];
    ids.forEach((id, i) => {
      const text = values[i];
      if (text === null || text === undefined) stale.push(id);
      else live.push(decodeWorker(text, id));
    });
    return { live, stale };
  }

  async list(): Promise<WorkerInfo[]> {
    return (await this.scan()).live;
  }

  async cleanup(): Promise<string[]> {
    const { stale } = await this.scan();
    if (stale.length === 0) return [];
    const removed: string[] = [];
    for (const id of stale) {
      // Only the caller whose SREM wins reports the expiry (several gateways may sweep).
      const res = await SWEEP.run(
        this.redis,
        [this.keys.worker(id), this.keys.workerIndex()],
        [id],
      );
      if (res === 1) removed.push(id);
    }
    if (removed.length > 0) await this.redis.incr(this.keys.registryRevision());
    for (const workerId of removed) this.emitter.emit({ type: 'expired', workerId });
    return removed;
  }

  async revision(): Promise<number> {
    return Number((await this.redis.get(this.keys.registryRevision())) ?? 0);
  }

  onChange(listener: RegistryListener): () => void {
    return this.emitter.on(listener);
  }
}
