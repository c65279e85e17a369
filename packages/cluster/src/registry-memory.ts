import { WORKER_HEARTBEAT_TTL_MS } from './keys.js';
import {
  ChangeEmitter,
  type ComponentRegistry,
  type RegistryListener,
  type WorkerInfo,
  type WorkerRegistration,
} from './registry.js';

export interface MemoryRegistryOptions {
  heartbeatTtlMs?: number;
  now?: () => number;
}

export class MemoryComponentRegistry implements ComponentRegistry {
  private readonly workers = new Map<string, { info: WorkerInfo; expiresAt: number }>();
  private readonly emitter = new ChangeEmitter();
  private rev = 0;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: MemoryRegistryOptions = {}) {
    this.ttlMs = options.heartbeatTtlMs ?? WORKER_HEARTBEAT_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  register(workerId: string, reg: WorkerRegistration): Promise<WorkerInfo> {
    const now = this.now();
    const info: WorkerInfo = {
      workerId,
      url: reg.url,
      weight: reg.weight ?? 1,
      components: structuredClone(reg.components),
      registeredAt: now,
      ...(reg.instance === undefined ? {} : { instance: reg.instance }),
      ...(reg.maxConcurrency === undefined ? {} : { maxConcurrency: reg.maxConcurrency }),
    };
    this.workers.set(workerId, { info, expiresAt: now + this.ttlMs });
    this.rev++;
    this.emitter.emit({ type: 'registered', worker: info });
    return Promise.resolve(info);
  }

  heartbeat(workerId: string): Promise<boolean> {
    const w = this.workers.get(workerId);
    const now = this.now();
    if (w === undefined || w.expiresAt <= now) return Promise.resolve(false);
    w.expiresAt = now + this.ttlMs;
    return Promise.resolve(true);
  }

  unregister(workerId: string): Promise<void> {
    if (this.workers.delete(workerId)) {
      this.rev++;
      this.emitter.emit({ type: 'unregistered', workerId });
    }
    return Promise.resolve();
  }

  list(): Promise<WorkerInfo[]> {
    const now = this.now();
    const out: WorkerInfo[] = [];
    for (const w of this.workers.values()) if (w.expiresAt > now) out.push(w.info);
    return Promise.resolve(out);
  }

  cleanup(): Promise<string[]> {
    const now = this.now();
    const removed: string[] = [];
    for (const [id, w] of this.workers) {
      if (w.expiresAt <= now) {
        this.workers.delete(id);
        removed.push(id);
      }
    }
    if (removed.length > 0) this.rev++;
    for (const workerId of removed) this.emitter.emit({ type: 'expired', workerId });
    return Promise.resolve(removed);
  }

  revision(): Promise<number> {
    return Promise.resolve(this.rev);
  }

  onChange(listener: RegistryListener): () => void {
    return this.emitter.on(listener);
  }
}
