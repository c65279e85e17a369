import type { JsonRpcMessage } from '@mcp-cluster/protocol';

import { REPLAY_MAX_LEN, REPLAY_TTL_MS } from './keys.js';
import { eventId, parseEventId, type ReplayEvent, type ReplayLog } from './replay.js';

const SWEEP_INTERVAL_MS = 60_000;

interface Stream {
  next: number;
  /** Sequence number of events[0]. */
  first: number;
  events: JsonRpcMessage[];
  expiresAt: number;
}

export interface MemoryReplayOptions {
  maxLen?: number;
  ttlMs?: number;
  now?: () => number;
}

export class MemoryReplayLog implements ReplayLog {
  private readonly streams = new Map<string, Stream>();
  private readonly maxLen: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private nextSweep = 0;

  constructor(options: MemoryReplayOptions = {}) {
    this.maxLen = options.maxLen ?? REPLAY_MAX_LEN;
    this.ttlMs = options.ttlMs ?? REPLAY_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  private stream(streamId: string): Stream | undefined {
    const s = this.streams.get(streamId);
    if (s !== undefined && s.expiresAt <= this.now()) {
      this.streams.delete(streamId);
      return undefined;
    }
    return s;
  }

  /** Drops idle streams nobody reads again; amortised over stream creation. */
  private sweep(): void {
    const now = this.now();
    if (now < this.nextSweep) return;
    this.nextSweep = now + SWEEP_INTERVAL_MS;
    for (const [id, s] of this.streams) if (s.expiresAt <= now) this.streams.delete(id);
  }

  append(streamId: string, message: JsonRpcMessage): Promise<string> {
    let s = this.stream(streamId);
    if (s === undefined) {
      this.sweep();
      s = { next: 1, first: 1, events: [], expiresAt: 0 };
      this.streams.set(streamId, s);
    }
    s.events.push(message);
    if (s.events.length > this.maxLen) {
      s.events.shift();
      s.first += 1;
    }
    s.expiresAt = this.now() + this.ttlMs;
    const seq = s.next++;
    return Promise.resolve(eventId(streamId, String(seq)));
  }

  readAfter(streamId: string, lastEventId: string): Promise<ReplayEvent[] | undefined> {
    const parsed = parseEventId(lastEventId);
    const s = this.stream(streamId);
    if (parsed?.streamId !== streamId || s === undefined) return Promise.resolve(undefined);
    const last = Number(parsed.seq);
    if (!Number.isSafeInteger(last) || last < s.first || last >= s.next) {
      return Promise.resolve(undefined);
    }
    const out: ReplayEvent[] = [];
    for (let seq = last + 1; seq < s.next; seq++) {
      const message = s.events[seq - s.first];
      if (message !== undefined) out.push({ id: eventId(streamId, String(seq)), message });
    }
    return Promise.resolve(out);
  }
}
