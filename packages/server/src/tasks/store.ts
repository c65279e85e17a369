/**
 * The in-memory task table: lifecycle (run, settle, cancel, expire), input parking and
 * waiting for status changes. The task methods (methods.ts) sit on top of it (memory.ts).
 *
 * Retention: a task lives `ttlMs` from creation; reaching a terminal status restarts the
 * clock, so a result stays readable for `ttlMs` after it was produced. A task still running
 * when its TTL lapses is cancelled and dropped (the client gave up on it).
 */
import { randomBytes } from 'node:crypto';
import { ProtocolError, RpcError } from '@mcp-cluster/protocol';
import type { CallToolResult, InputRequest, JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext } from '../context.js';
import type { TaskPort, TaskRun } from './api.js';
import type { ResolvedTaskHostOptions } from './options.js';
import { effectiveTtl } from './options.js';
import { taskNotFound } from './params.js';
import { isTerminal, ownerOf } from './record.js';
import type { InputGroup, TaskError, TaskRecord, TaskStatus } from './record.js';
import { legacyTask, stripRelatedTask } from './wire.js';

function cancelledReason(): ProtocolError {
  return new ProtocolError(RpcError.RequestCancelled.code, 'Task cancelled');
}

function toTaskError(err: unknown): TaskError {
  if (err instanceof ProtocolError) {
    return err.data === undefined
      ? { code: err.code, message: err.message }
      : { code: err.code, message: err.message, data: err.data };
  }
  return { code: RpcError.InternalError.code, message: RpcError.InternalError.message };
}

/** Opaque `inputRequests` key: the client echoes it back and learns nothing from it. */
function mintKey(): string {
  return randomBytes(9).toString('base64url');
}

export class TaskTable {
  private readonly tasks = new Map<string, TaskRecord>();
  private seq = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(readonly options: Readonly<ResolvedTaskHostOptions>) {}

  get size(): number {
    return this.tasks.size;
  }

  /** Stores the record first (readable at once), then runs `run` in the background. */
  create(run: TaskRun, ctx: RequestContext, ttlMs: number | undefined): TaskRecord {
    if (this.closed) throw ProtocolError.of('Unavailable');
    const o = this.options;
    const nowMs = o.now();
    const iso = new Date(nowMs).toISOString();
    const ttl = effectiveTtl(ttlMs, o);
    const record: TaskRecord = {
      id: this.freshId(),
      owner: ownerOf(ctx.era, ctx.principal.id, ctx.sessionId),
      era: ctx.era,
      seq: ++this.seq,
      createdAt: iso,
      ttlMs: ttl,
      status: 'working',
      statusMessage: undefined,
      lastUpdatedAt: iso,
      expiresAt: nowMs + ttl,
      result: undefined,
      error: undefined,
      pending: new Map(),
      controller: new AbortController(),
      waiters: undefined,
      outbound: ctx.era === 'legacy' && o.statusNotifications ? ctx.outbound : undefined,
    };
    this.tasks.set(record.id, record);
    this.ensureSweep();
    void this.execute(record, run);
    return record;
  }

  /** The caller's task, or -32602 (unknown, expired and foreign ids look the same). */
  lookup(taskId: string, ctx: RequestContext): TaskRecord {
    const t = this.tasks.get(taskId);
    if (t === undefined || t.owner !== ownerOf(ctx.era, ctx.principal.id, ctx.sessionId)) {
      throw taskNotFound();
    }
    if (t.expiresAt <= this.options.now()) {
      this.expire(t);
      throw taskNotFound();
    }
    return t;
  }

  /** The caller's live tasks after `afterSeq`, in creation order, at most `limit` + 1. */
  listOwned(ctx: RequestContext, afterSeq: number, limit: number): TaskRecord[] {
    const owner = ownerOf(ctx.era, ctx.principal.id, ctx.sessionId);
    const nowMs = this.options.now();
    const out: TaskRecord[] = [];
    for (const t of this.tasks.values()) {
      if (t.owner !== owner || t.seq <= afterSeq || t.expiresAt <= nowMs) continue;
      out.push(t);
      if (out.length > limit) break;
    }
    return out;
  }

  /** Answers pending input keys; unknown keys are ignored. Returns how many were taken. */
  answer(t: TaskRecord, responses: JsonObject): number {
    let taken = 0;
    let resumed: InputGroup[] | undefined;
    for (const key of Object.keys(responses)) {
      const entry = t.pending.get(key);
      if (entry === undefined) continue;
      t.pending.delete(key);
      taken++;
      // Validated by the caller: every answer under a pending key is a JSON object.
      entry.group.answers[entry.callerKey] = responses[key] as JsonObject;
      if (--entry.group.remaining === 0) (resumed ??= []).push(entry.group);
    }
    if (taken > 0 && t.pending.size === 0 && t.status === 'input_required') {
      this.transition(t, 'working');
    } else if (taken > 0) {
      this.touch(t);
    }
    if (resumed !== undefined) for (const g of resumed) g.resolve(g.answers);
    return taken;
  }

  /** Cancels a running task (settles now; the run sees its signal abort). False when terminal. */
  cancel(t: TaskRecord, message: string): boolean {
    if (isTerminal(t.status)) return false;
    const reason = cancelledReason();
    t.statusMessage = message;
    this.settle(t, 'cancelled', undefined, undefined, reason);
    t.controller.abort(reason);
    return true;
  }

  /**
   * Resolves at `t`'s next status change (at once when terminal); rejects with -32010 if
   * `signal` aborts first.
   */
  waitChange(t: TaskRecord, signal: AbortSignal): Promise<void> {
    if (isTerminal(t.status)) return Promise.resolve();
    if (signal.aborted) return Promise.reject(ProtocolError.of('RequestCancelled'));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        if (t.waiters !== undefined) t.waiters = t.waiters.filter((w) => w !== waiter);
        reject(ProtocolError.of('RequestCancelled'));
      };
      const waiter = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      (t.waiters ??= []).push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * The client answered a pending input with an error: the whole `port.input` call it
   * belongs to rejects with it.
   */
  failInput(t: TaskRecord, key: string, err: unknown): void {
    const entry = t.pending.get(key);
    if (entry === undefined) return;
    for (const [k, e] of t.pending) if (e.group === entry.group) t.pending.delete(k);
    entry.group.reject(err);
    if (t.pending.size === 0 && t.status === 'input_required') this.transition(t, 'working');
  }

  /** An input request did not reach the client (stream gone): the next tasks/result resends. */
  releaseInput(t: TaskRecord, key: string): void {
    const entry = t.pending.get(key);
    if (entry !== undefined) entry.dispatched = false;
  }

  /** Drops expired tasks (cancelling any still running). Returns how many were dropped. */
  sweep(): number {
    const nowMs = this.options.now();
    let dropped = 0;
    for (const t of this.tasks.values()) {
      if (t.expiresAt <= nowMs) {
        this.expire(t);
        dropped++;
      }
    }
    if (this.tasks.size === 0) this.stopSweep();
    return dropped;
  }

  close(): void {
    this.closed = true;
    this.stopSweep();
    for (const t of this.tasks.values()) this.cancel(t, 'The server is shutting down.');
    this.tasks.clear();
  }

  private async execute(t: TaskRecord, run: TaskRun): Promise<void> {
    const port: TaskPort = {
      taskId: t.id,
      signal: t.controller.signal,
      // The answers come back under exactly the caller's keys.
      input: (requests) => this.requestInput(t, requests),
    };
    let result: CallToolResult;
    try {
      result = await run(port);
    } catch (err) {
      this.settle(t, 'failed', undefined, toTaskError(err), err);
      return;
    }
    this.settle(t, 'completed', stripRelatedTask(result), undefined, undefined);
  }

  private requestInput(
    t: TaskRecord,
    requests: Readonly<Record<string, InputRequest>>,
  ): Promise<Record<string, JsonObject>> {
    if (isTerminal(t.status)) return Promise.reject(cancelledReason());
    const keys = Object.keys(requests);
    if (keys.length === 0) return Promise.resolve({});
    const promise = new Promise<Record<string, JsonObject>>((resolve, reject) => {
      const group: InputGroup = { remaining: keys.length, answers: {}, resolve, reject };
      for (const callerKey of keys) {
        let key = mintKey();
        while (t.pending.has(key)) key = mintKey();
        t.pending.set(key, {
          request: requests[callerKey] as InputRequest,
          callerKey,
          group,
          dispatched: false,
        });
      }
    });
    // A tool that abandons its input promise must not crash the process when we reject it.
    promise.catch(noop);
    // Already parked (a concurrent input call): still wake tasks/result to send the new entries.
    if (t.status === 'input_required') this.wake(t);
    else this.transition(t, 'input_required');
    return promise;
  }

  private transition(t: TaskRecord, status: TaskStatus): void {
    if (t.status === status) return;
    t.status = status;
    this.touch(t);
    this.wake(t);
    this.report(t);
  }

  private wake(t: TaskRecord): void {
    const waiters = t.waiters;
    t.waiters = undefined;
    if (waiters !== undefined) for (const w of waiters) w();
  }

  private touch(t: TaskRecord): void {
    t.lastUpdatedAt = new Date(this.options.now()).toISOString();
  }

  private settle(
    t: TaskRecord,
    status: 'completed' | 'failed' | 'cancelled',
    result: CallToolResult | undefined,
    error: TaskError | undefined,
    reason: unknown,
  ): void {
    if (isTerminal(t.status)) return;
    t.status = status;
    t.result = result;
    t.error = error;
    const nowMs = this.options.now();
    t.lastUpdatedAt = new Date(nowMs).toISOString();
    // Retention restarts at the terminal status (see the module comment).
    t.expiresAt = nowMs + t.ttlMs;
    if (t.pending.size > 0) {
      const groups = new Set<InputGroup>();
      for (const entry of t.pending.values()) groups.add(entry.group);
      t.pending.clear();
      for (const g of groups) g.reject(reason ?? cancelledReason());
    }
    this.wake(t);
    this.report(t);
    t.outbound = undefined;
  }

  private expire(t: TaskRecord): void {
    this.cancel(t, 'The task expired.');
    this.tasks.delete(t.id);
  }

  /** Best effort: the creating request's stream may be gone, which is not the task's failure. */
  private report(t: TaskRecord): void {
    const outbound = t.outbound;
    if (outbound === undefined) return;
    try {
      outbound.notify({
        jsonrpc: '2.0',
        method: 'notifications/tasks/status',
        params: legacyTask(t, this.options.pollIntervalMs),
      });
    } catch {
      t.outbound = undefined;
    }
  }

  private freshId(): string {
    for (let i = 0; i < 4; i++) {
      const id = this.options.idFactory();
      if (!this.tasks.has(id)) return id;
    }
    // A broken idFactory is a local fault; the engine maps it to -32603.
    throw new Error('task idFactory keeps returning ids in use');
  }

  private ensureSweep(): void {
    if (this.sweepTimer !== undefined) return;
    this.sweepTimer = setInterval(() => this.sweep(), this.options.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  private stopSweep(): void {
    if (this.sweepTimer === undefined) return;
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}

function noop(): void {}
