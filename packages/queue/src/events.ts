/**
 * One subscriber connection per host on the prefix's events channel, fanned out locally by
 * task id. Events are hints that something changed: Redis stays the truth, and every wait
 * also re-reads on a timer in case a message was lost while reconnecting.
 */
import { Redis } from 'ioredis';
import { ProtocolError } from '@mcp-cluster/protocol';
import { decodeEvent } from './record.js';
import type { TaskEvent } from './record.js';

export type EventListener = (event: TaskEvent) => void;

export class TaskEvents {
  private readonly byTask = new Map<string, Set<EventListener>>();
  private readonly global = new Set<EventListener>();

  private constructor(private readonly sub: Redis) {}

  static async open(
    redisUrl: string,
    channel: string,
    onError: (err: unknown, what: string) => void,
  ): Promise<TaskEvents> {
    const sub = new Redis(redisUrl, { lazyConnect: true });
    sub.on('error', (err: unknown) => onError(err, 'task events subscriber'));
    await sub.connect();
    const events = new TaskEvents(sub);
    sub.on('message', (ch: string, text: string) => {
      if (ch === channel) events.dispatch(text, onError);
    });
    // Resolves once Redis confirmed the subscription: later publishes cannot be missed.
    await sub.subscribe(channel);
    return events;
  }

  /** Calls `fn` for every event of `taskId` until the returned function is called. */
  on(taskId: string, fn: EventListener): () => void {
    let set = this.byTask.get(taskId);
    if (set === undefined) this.byTask.set(taskId, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.byTask.get(taskId) === set) this.byTask.delete(taskId);
    };
  }

  /** Calls `fn` for every event of every task. */
  onAny(fn: EventListener): () => void {
    this.global.add(fn);
    return () => this.global.delete(fn);
  }

  /**
   * Resolves at the next event of `taskId`, or after `recheckMs` (the caller re-reads either
   * way); rejects with -32010 when `signal` aborts. Register before reading the record, so
   * a change between the read and the wait is not missed: see `TaskEvents.watch`.
   */
  watch(taskId: string, recheckMs: number): Watch {
    let fire!: () => void;
    const fired = new Promise<void>((resolve) => (fire = resolve));
    const off = this.on(taskId, () => fire());
    let timer: NodeJS.Timeout | undefined;
    return {
      wait: (signal) =>
        new Promise<void>((resolve, reject) => {
          if (signal.aborted) {
            reject(ProtocolError.of('RequestCancelled'));
            return;
          }
          const done = (): void => {
            clearTimeout(timer);
            signal.removeEventListener('abort', onAbort);
            resolve();
          };
          const onAbort = (): void => {
            clearTimeout(timer);
            reject(ProtocolError.of('RequestCancelled'));
          };
          signal.addEventListener('abort', onAbort, { once: true });
          timer = setTimeout(done, recheckMs);
          void fired.then(done);
        }),
      close: () => {
        clearTimeout(timer);
        off();
        fire();
      },
    };
  }

  async close(): Promise<void> {
    this.byTask.clear();
    this.global.clear();
    await this.sub.quit().catch(() => this.sub.disconnect());
  }

  /** A crash: the connection drops without a goodbye. */
  kill(): void {
    this.sub.disconnect();
  }

  private dispatch(text: string, onError: (err: unknown, what: string) => void): void {
    const event = decodeEvent(text);
    if (event === undefined) return;
    const listeners = [...this.global, ...(this.byTask.get(event.id) ?? [])];
    for (const fn of listeners) {
      try {
        fn(event);
      } catch (err) {
        onError(err, `task event listener (${event.id})`);
      }
    }
  }
}

export interface Watch {
  /** One wait: the next event, the recheck timer, or the signal, whichever comes first. */
  wait(signal: AbortSignal): Promise<void>;
  close(): void;
}
