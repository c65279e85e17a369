import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import type { Redis } from 'ioredis';

import { type ClusterKeys, REPLAY_MAX_LEN, REPLAY_TTL_MS } from './keys.js';
import {
  decodeMessage,
  eventId,
  parseEventId,
  type ReplayEvent,
  type ReplayLog,
} from './replay.js';

const STREAM_ID = /^\d+-\d+$/;

export interface RedisReplayOptions {
  maxLen?: number;
  ttlMs?: number;
}

/** Redis Streams: XADD with MAXLEN ~ keeps the log bounded; the key TTL slides on append. */
export class RedisReplayLog implements ReplayLog {
  private readonly maxLen: number;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    options: RedisReplayOptions = {},
  ) {
    this.maxLen = options.maxLen ?? REPLAY_MAX_LEN;
    this.ttlMs = options.ttlMs ?? REPLAY_TTL_MS;
  }

  async append(streamId: string, message: JsonRpcMessage): Promise<string> {
    const key = this.keys.replay(streamId);
    const res = await this.redis
      .multi()
      .xadd(key, 'MAXLEN', '~', this.maxLen, '*', 'm', JSON.stringify(message))
      .pexpire(key, this.ttlMs)
      .exec();
    const added = res?.[0];
    if (added === undefined || added[0] !== null || typeof added[1] !== 'string') {
      throw added?.[0] ?? new Error('replay append: transaction aborted');
    }
    return eventId(streamId, added[1]);
  }

  async readAfter(streamId: string, lastEventId: string): Promise<ReplayEvent[] | undefined> {
    const parsed = parseEventId(lastEventId);
    if (parsed?.streamId !== streamId || !STREAM_ID.test(parsed.seq)) return undefined;
    const key = this.keys.replay(streamId);
    // The exact lookup tells "nothing new" apart from "trimmed away / expired".
    const res = await this.redis
      .pipeline()
      .xrange(key, parsed.seq, parsed.seq)
      .xrange(key, `(${parsed.seq}`, '+')
      .exec();
    const [anchor, after] = res ?? [];
    const failure = anchor?.[0] ?? after?.[0];
    if (failure) throw failure;
    if (!Array.isArray(anchor?.[1]) || anchor[1].length === 0) return undefined;
    const entries = (after?.[1] ?? []) as [string, string[]][];
    const out: ReplayEvent[] = [];
    for (const [seq, fields] of entries) {
      const id = eventId(streamId, seq);
      const i = fields.indexOf('m');
      const text = i >= 0 ? fields[i + 1] : undefined;
      out.push({ id, message: decodeMessage(text ?? '', id) });
    }
    return out;
  }
}
