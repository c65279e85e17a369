import type { Clock, PinStore, WorkerId, WorkerSpec } from './types.js';
import { asWorkerId } from './types.js';

/** Manual clock: timers fire only when the test advances time. */
export class FakeClock implements Clock {
  private t = 1_000_000;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Advances time and runs due timers in order. */
  advance(ms: number): void {
    this.t += ms;
    for (const [id, timer] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > this.t) break;
      this.timers.delete(id);
      timer.fn();
    }
  }
}

/** In-memory compare-and-set pin store. */
export class MemoryPins implements PinStore {
  readonly map = new Map<string, WorkerId>();
  sets = 0;
  get(sessionId: string): Promise<WorkerId | undefined> {
    return Promise.resolve(this.map.get(sessionId));
  }
  set(sessionId: string, workerId: WorkerId, previous?: WorkerId): Promise<boolean> {
    this.sets++;
    if (this.map.get(sessionId) !== previous) return Promise.resolve(false);
    this.map.set(sessionId, workerId);
    return Promise.resolve(true);
  }
}

export const wid = asWorkerId;

export function spec(id: string, extra: Partial<Omit<WorkerSpec, 'id'>> = {}): WorkerSpec {
  return { id: wid(id), url: `http://${id}.test`, ...extra };
}
