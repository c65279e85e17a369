/**
 * Typed operations on task records in Redis. Every change goes through a script in
 * scripts.ts (atomic, published); reads are one MULTI so a record and its inputs agree.
 */
import type { Redis } from 'ioredis';
import type { LuaScript } from '@mcp-cluster/cluster';
import type { CallToolResult, InputRequest } from '@mcp-cluster/protocol';
import type { TaskError, TaskJob, TaskStatus } from '@mcp-cluster/server';
import { jobLockKey } from './keys.js';
import type { TaskKeys } from './keys.js';
import { TaskStoreError, decodeAnswer, decodeSnapshot } from './record.js';
import type { StoredAnswer, StoredContext, TaskKind, TaskSnapshot } from './record.js';
import {
  ANSWER,
  BEGIN,
  CLAIM_SENT,
  COUNT_UNRESOLVED,
  CREATE,
  DROP_INPUT,
  EXPIRE,
  REFRESH_SENT,
  RELEASE_SENT,
  REQUEST_INPUT,
  SETTLE,
} from './scripts.js';

export interface NewTask {
  readonly id: string;
  readonly owner: string;
  readonly era: TaskSnapshot['era'];
  readonly createdAt: string;
  readonly ttlMs: number;
  readonly expiresAt: number;
  readonly kind: TaskKind;
  readonly context: StoredContext;
  readonly job: TaskJob | undefined;
  readonly node: string;
}

export interface Settlement {
  readonly status: 'completed' | 'failed' | 'cancelled';
  readonly nowMs: number;
  readonly message?: string;
  readonly result?: CallToolResult;
  readonly error?: TaskError;
  /** The run's fencing token; '' for changes any node may make (cancel). */
  readonly token: string;
}

export class TaskStore {
  constructor(
    private readonly redis: Redis,
    readonly keys: TaskKeys,
    /** Owner index lifetime: at least as long as any task in it can live. */
    private readonly indexTtlMs: number,
    /** Told of every final status this store wrote (metrics); each task's is written once. */
    private readonly onSettled?: (status: Settlement['status']) => void,
  ) {}

  /** Writes a new record; returns its sequence number, or undefined when the id is taken. */
  async create(t: NewTask): Promise<number | undefined> {
    const fields: string[] = [
      'o',
      t.owner,
      'e',
      t.era,
      'c',
      t.createdAt,
      't',
      String(t.ttlMs),
      's',
      'working',
      'u',
      t.createdAt,
      'x',
      String(t.expiresAt),
      'k',
      t.kind,
      'ctx',
      JSON.stringify(t.context),
      'n',
      t.node,
    ];
    if (t.job !== undefined) fields.push('j', JSON.stringify(t.job));
    const seq = await CREATE.run(
      this.redis,
      [this.keys.record(t.id), this.keys.ownerIndex(t.owner), this.keys.sequence()],
      [t.ttlMs, this.indexTtlMs, t.id, ...fields],
    );
    return typeof seq === 'number' && seq > 0 ? seq : undefined;
  }

  async read(id: string): Promise<TaskSnapshot | undefined> {
    const replies = await this.redis
      .multi()
      .hgetall(this.keys.record(id))
      .hgetall(this.keys.inputs(id))
      .exec();
    const [rec, inputs] = replies ?? [];
    if (rec === undefined || inputs === undefined || rec[0] !== null || inputs[0] !== null) {
      throw new TaskStoreError(`task ${id}: read failed`, { cause: rec?.[0] ?? inputs?.[0] });
    }
    return decodeSnapshot(
      id,
      rec[1] as Record<string, string>,
      inputs[1] as Record<string, string>,
    );
  }

  /** Raw field of a record (fencing token, unresolved counter...). */
  async field(id: string, name: string): Promise<string | null> {
    return this.redis.hget(this.keys.record(id), name);
  }

  /** Status and runner token of a record in one read (null fields: absent, or record gone). */
  async runState(id: string): Promise<{ status: string | null; token: string | null }> {
    const [status, token] = await this.redis.hmget(this.keys.record(id), 's', 'tok');
    return { status: status ?? null, token: token ?? null };
  }

  async exists(id: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.record(id))) === 1;
  }

  /** Parks the run for input. Returns the new status and lastUpdatedAt, or a script code. */
  async requestInput(
    id: string,
    token: string,
    entries: readonly (readonly [string, number, InputRequest])[],
    nowIso: string,
  ): Promise<{ status: TaskStatus; updated: string } | number> {
    const pairs: string[] = [];
    for (const [key, n, r] of entries) pairs.push(key, JSON.stringify({ n, r }));
    const reply = await this.run(REQUEST_INPUT, id, nowIso, [token, ...pairs]);
    if (!Array.isArray(reply) || typeof reply[0] !== 'number') {
      throw new TaskStoreError(`task ${id}: unexpected input reply`);
    }
    if (reply[0] !== 1) return reply[0];
    return { status: 'input_required', updated: String(reply[2]) };
  }

  /** Stores answers to pending keys; returns how many were pending (negative: script code). */
  async answer(
    id: string,
    answers: Readonly<Record<string, StoredAnswer>>,
    nowIso: string,
  ): Promise<number> {
    const pairs: string[] = [];
    for (const [key, a] of Object.entries(answers)) pairs.push(key, JSON.stringify(a));
    return Number(await this.run(ANSWER, id, nowIso, pairs));
  }

  async dropInput(id: string, keys: readonly string[], nowIso: string): Promise<void> {
    if (keys.length > 0) await this.run(DROP_INPUT, id, nowIso, keys);
  }

  /** Answers waiting for the runner, by key (null: not answered yet). */
  async takeAnswers(id: string, keys: readonly string[]): Promise<(StoredAnswer | null)[]> {
    if (keys.length === 0) return [];
    const raw = await this.redis.hmget(this.keys.answers(id), ...keys);
    return raw.map((text, i) =>
      text === null ? null : decodeAnswer(text, `task ${id} answer ${keys[i] ?? ''}`),
    );
  }

  async consumeAnswers(id: string, keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.redis.hdel(this.keys.answers(id), ...keys);
  }

  /**
   * 1 settled, 0 already terminal, negative script code otherwise. With a run token the write
   * is fenced: FENCED unless that run still holds the job's BullMQ lock (see SETTLE).
   */
  async settle(id: string, owner: string, ttlMs: number, s: Settlement): Promise<number> {
    const iso = new Date(s.nowMs).toISOString();
    const code = Number(
      await this.run(
        SETTLE,
        id,
        iso,
        [
          s.token,
          s.status,
          String(s.nowMs + ttlMs),
          String(ttlMs),
          s.message ?? '',
          s.result === undefined ? '' : JSON.stringify(s.result),
          s.error === undefined ? '' : JSON.stringify(s.error),
        ],
        [this.keys.ownerIndex(owner), jobLockKey(this.keys, id)],
      ),
    );
    if (code === 1) this.onSettled?.(s.status);
    return code;
  }

  /**
   * Makes `token` the only run allowed to write the task. Returns the run's generation
   * (positive, one more than the run before), or a negative script code.
   */
  async begin(id: string, token: string, node: string, nowIso: string): Promise<number> {
    return Number(await this.run(BEGIN, id, nowIso, [token, node]));
  }

  /** Claims `key` for `claimant` for `claimMs` unless someone else holds a live claim. */
  async claimSent(id: string, key: string, claimant: string, claimMs: number): Promise<boolean> {
    const args = [key, claimant, String(Date.now()), String(claimMs)];
    return Number(await this.run(CLAIM_SENT, id, '', args)) === 1;
  }

  async refreshSent(
    id: string,
    claimant: string,
    keys: readonly string[],
    claimMs: number,
  ): Promise<void> {
    if (keys.length === 0) return;
    await this.run(REFRESH_SENT, id, '', [claimant, String(Date.now() + claimMs), ...keys]);
  }

  async releaseSent(id: string, key: string, claimant: string): Promise<void> {
    await this.run(RELEASE_SENT, id, '', [claimant, key]);
  }

  /** Counts one refusal by `resolveRun`; returns the total so far (-1: record gone). */
  async countUnresolved(id: string): Promise<number> {
    return Number(await COUNT_UNRESOLVED.run(this.redis, [this.keys.record(id)], []));
  }

  async expire(id: string, nowIso: string): Promise<void> {
    await this.run(EXPIRE, id, nowIso, []);
  }

  /**
   * One owner's task ids with sequence above `afterSeq`, ascending, at most `count`;
   * ids whose record is gone are pruned from the index on the way.
   */
  async ownedAfter(owner: string, afterSeq: number, count: number): Promise<[string, number][]> {
    const raw = await this.redis.zrangebyscore(
      this.keys.ownerIndex(owner),
      `(${afterSeq}`,
      '+inf',
      'WITHSCORES',
      'LIMIT',
      0,
      count,
    );
    const out: [string, number][] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, Number(raw[i + 1])]);
    return out;
  }

  async unindex(owner: string, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.redis.zrem(this.keys.ownerIndex(owner), ...ids);
  }

  private run(
    script: LuaScript,
    id: string,
    nowIso: string,
    args: readonly string[],
    extraKeys: readonly string[] = [],
  ): Promise<unknown> {
    const k = this.keys;
    return script.run(
      this.redis,
      [k.record(id), k.inputs(id), k.answers(id), k.sent(id), ...extraKeys],
      [k.events(), id, nowIso, ...args],
    );
  }
}
