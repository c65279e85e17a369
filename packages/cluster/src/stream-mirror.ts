/**
 * Mirrors a gateway's resumable SSE streams into Redis so a client can resume one with
 * `Last-Event-ID` on ANY gateway: the events it missed are replayed, and a stream still
 * running elsewhere (its request is being served through another gateway) is followed until
 * its final response.
 *
 * Entries use the gateway's own sequence numbers as Redis stream ids (`<seq>-1`), so the SSE
 * event id `<streamId>:<seq>` maps to an entry without a lookup table. Each entry carries the
 * recording gateway's wall-clock time (`t`): a gateway taking a standalone stream over tells
 * from the last one since when the origin delivered nothing (see `lastAt`).
 *
 * A POST stream opened before its request ran (`pending`) names that request's id and the
 * recording process; while such a stream is open, the process keeps a presence key alive
 * (refreshed every PRESENCE_REFRESH_MS, lapsing PRESENCE_TTL_MS after its last refresh). A
 * gateway following the stream for a resuming client learns from that key whether the origin
 * still runs: one that died (SIGKILL, a crash) will never record the answer, so `resume` says
 * which request was orphaned instead of following the stream for ever.
 */
import { randomUUID } from 'node:crypto';

import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import type { Redis } from 'ioredis';
import { z } from 'zod';

import { ClusterStateError, parseStored } from './errors.js';
import { type ClusterKeys, REPLAY_MAX_LEN, REPLAY_TTL_MS } from './keys.js';

const messageSchema = z.looseObject({ jsonrpc: z.literal('2.0') });

function decodeMessage(text: string, id: string): JsonRpcMessage {
  const parsed = messageSchema.safeParse(parseStored(text, `replay event ${id}`));
  if (!parsed.success) {
    throw new ClusterStateError('corrupt', `replay event ${id}: not a JSON-RPC message`, {
      cause: parsed.error,
    });
  }
  // Shape beyond the envelope was validated when the message was first sent.
  return parsed.data as unknown as JsonRpcMessage;
}

const BLOCK_MS = 1_000;
/** How often a process with pending streams refreshes its presence key. */
export const PRESENCE_REFRESH_MS = 1_000;
/** A process whose presence key lapsed (no refresh for this long) is taken to be gone. */
export const PRESENCE_TTL_MS = 3_000;
type Entry = [id: string, fields: string[]];
type RequestId = string | number;

/** How following a stream ended; `orphaned`: its origin died before answering that request. */
export type ResumeOutcome = 'unknown' | 'ended' | 'open' | { readonly orphaned: RequestId };

/**
 * Implements the StreamMirror contract of @mcp-cluster/transports (structurally: this package
 * does not depend on the transports). `record` with `message` undefined marks the end of the
 * stream after event `seq`; `resume` writes the events after `afterSeq`, then follows the
 * stream until its end, `signal` or `maxMs`: 'unknown' when nothing was recorded for it.
 */
export class RedisStreamMirror {
  /** This process, as named in the pending markers it records (unique per start). */
  readonly instance = randomUUID();
  private presence: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  private report = (res: [Error | null, unknown][] | null): void => {
    const failure = res?.find(([err]) => err !== null)?.[0];
    if (failure) this.onError(failure);
  };

  private key(sessionId: string, streamId: string): string {
    return this.keys.replay(`${sessionId}/${streamId}`);
  }

  record(
    sessionId: string,
    streamId: string,
    seq: number,
    message: JsonRpcMessage | undefined,
  ): void {
    const key = this.key(sessionId, streamId);
    // The end marker sorts after event `seq` (`<seq>-2` > `<seq>-1`).
    const t = String(Date.now());
    const [id, fields] =
      message === undefined
        ? [`${seq}-2`, ['end', '1', 't', t]]
        : [`${seq}-1`, ['m', JSON.stringify(message), 't', t]];
    this.redis
      .pipeline()
      .xadd(key, 'MAXLEN', '~', REPLAY_MAX_LEN, id, ...fields)
      .pexpire(key, REPLAY_TTL_MS)
      .exec()
      .then(this.report, this.onError);
  }

  /**
   * Marks stream `streamId` (its last event so far `seq`, the priming one) as carrying the
   * answer to `requestId`, recorded by this process; from now on this process keeps its
   * presence key alive until `stop`.
   */
  pending(sessionId: string, streamId: string, seq: number, requestId: RequestId): void {
    const key = this.key(sessionId, streamId);
    const fields = ['p', JSON.stringify(requestId), 'o', this.instance, 't', String(Date.now())];
    const pipeline = this.redis.pipeline();
    if (this.presence === undefined) {
      this.presence = setInterval(() => this.beat(), PRESENCE_REFRESH_MS);
      this.presence.unref();
      pipeline.set(this.keys.presence(this.instance), '1', 'PX', PRESENCE_TTL_MS);
    }
    // After the priming event's own entry (`<seq>-1`) and any end marker (`<seq>-2`).
    pipeline
      .xadd(key, 'MAXLEN', '~', REPLAY_MAX_LEN, `${seq}-3`, ...fields)
      .pexpire(key, REPLAY_TTL_MS)
      .exec()
      .then(this.report, this.onError);
  }

  private beat(): void {
    this.redis
      .set(this.keys.presence(this.instance), '1', 'PX', PRESENCE_TTL_MS)
      .catch(this.onError);
  }

  /** Stops refreshing this process's presence key (it lapses by itself). */
  stop(): void {
    clearInterval(this.presence);
    this.presence = undefined;
  }

  /**
   * The request a stream was pending on when its origin is gone (its presence key lapsed);
   * undefined while the origin runs, or for a stream never marked pending.
   */
  private async orphaned(key: string): Promise<RequestId | undefined> {
    const entries = await this.redis.xrange(key, '-', '+', 'COUNT', 8);
    const fields = entries.find(([, f]) => f[0] === 'p')?.[1];
    const at = fields?.indexOf('o') ?? -1;
    const origin = at > 0 && at % 2 === 0 ? fields?.[at + 1] : undefined;
    if (fields === undefined || origin === undefined) return undefined;
    if ((await this.redis.exists(this.keys.presence(origin))) === 1) return undefined;
    const id = parseStored(fields[1] ?? '', `pending marker of ${key}`);
    return typeof id === 'string' || typeof id === 'number' ? id : undefined;
  }

  /** True when the stream ended (its end marker is its last entry) after no event past `afterSeq`. */
  async finished(sessionId: string, streamId: string, afterSeq: number): Promise<boolean> {
    const key = this.key(sessionId, streamId);
    const [last] = await this.redis.xrevrange(key, '+', '-', 'COUNT', 1);
    if (last === undefined || last[1][0] !== 'end') return false;
    return Number(last[0].split('-')[0]) <= afterSeq;
  }

  /**
   * When the stream's last entry was recorded (the recording gateway's clock, ms); undefined
   * when nothing is recorded for it.
   */
  async lastAt(sessionId: string, streamId: string): Promise<number | undefined> {
    const entries = await this.redis.xrevrange(this.key(sessionId, streamId), '+', '-', 'COUNT', 1);
    const fields = entries[0]?.[1];
    if (fields === undefined) return undefined;
    const i = fields.indexOf('t');
    const t = i >= 0 && i % 2 === 0 ? Number(fields[i + 1]) : NaN;
    return Number.isFinite(t) ? t : undefined;
  }

  async resume(
    sessionId: string,
    streamId: string,
    afterSeq: number,
    write: (seq: number, message: JsonRpcMessage) => boolean,
    signal: AbortSignal,
    maxMs: number,
  ): Promise<ResumeOutcome> {
    const key = this.key(sessionId, streamId);
    if ((await this.redis.exists(key)) === 0) return 'unknown';
    let cursor = `${afterSeq}-1`;
    const emit = (entries: readonly Entry[]): boolean => {
      let ended = false;
      for (const [id, fields] of entries) {
        cursor = id;
        const i = fields.indexOf('m');
        const m = i >= 0 ? fields[i + 1] : undefined;
        if (m !== undefined) write(Number(id.split('-')[0]), decodeMessage(m, id));
        if (fields[0] === 'end') ended = true;
      }
      return ended;
    };
    if (emit(await this.redis.xrange(key, `(${cursor}`, '+'))) return 'ended';
    // Follow on a connection of its own: XREAD BLOCK holds the connection while it waits.
    const follower = this.redis.duplicate();
    const deadline = Date.now() + maxMs;
    try {
      while (!signal.aborted && Date.now() < deadline) {
        const res = await follower.xread('BLOCK', BLOCK_MS, 'STREAMS', key, cursor);
        if (res !== null) {
          if (emit(res[0]?.[1] ?? [])) return 'ended';
          continue;
        }
        // A quiet second: is anyone still going to answer?
        const orphan = await this.orphaned(key);
        if (orphan === undefined) continue;
        // What the origin recorded just before it died is still delivered first.
        if (emit(await this.redis.xrange(key, `(${cursor}`, '+'))) return 'ended';
        return { orphaned: orphan };
      }
      return 'open';
    } finally {
      follower.disconnect();
    }
  }
}
