/**
 * One run of a task on this node: the TaskPort a tool sees, backed by the Redis record.
 * Input requests are written to Redis and answered from any node; this node learns of
 * answers, cancellation and expiry from the events channel (and a periodic re-read).
 *
 * A durable run holds a lease (its BullMQ job lock). Durable tasks are at-least-once to
 * start and exactly-once to complete: when a run loses its lease (its node stalled past the
 * lock, another worker took the job over) it is told as soon as this node can see it — a
 * failed lock renewal, the new run's BEGIN event, or the periodic re-read finding another
 * run's token — and `leaseLost` aborts its signal. Whatever it returns afterwards is dropped,
 * and its SETTLE is fenced on the lock in Redis, so it can never store a result. A tool with
 * side effects should check `signal.aborted` before each one: a run may start twice.
 */
import { ProtocolError, RpcError, toWireError } from '@mcp-cluster/protocol';
import type { CallToolResult, InputRequest, JsonObject } from '@mcp-cluster/protocol';
import type { TaskError, TaskPort, TaskRun, TaskStatus } from '@mcp-cluster/server';
import { isTerminal, stripRelatedTask } from '@mcp-cluster/server';
import { randomBytes } from 'node:crypto';
import type { TaskEvents } from './events.js';
import type { TaskEvent } from './record.js';
import { FENCED, GONE, TERMINAL } from './scripts.js';
import type { TaskStore } from './store.js';

/** Why a run stopped mattering to this node. */
export type EndReason =
  /** It produced its result (or failure), written to the record. */
  | 'settled'
  /** The task went terminal elsewhere (tasks/cancel, expiry). */
  | 'cancelled'
  /** The record is gone (TTL lapsed). */
  | 'gone'
  /** Another run owns the task now (this node's lock lapsed and the job moved on). */
  | 'fenced'
  /** This node is closing: a durable job goes back to the queue. */
  | 'requeue'
  /** Redis refused a write this run needed; the job fails. */
  | 'abandoned'
  /** A simulated crash: nothing more is written, the job is left to lapse. */
  | 'crashed';

export interface ExecutionDeps {
  readonly store: TaskStore;
  readonly events: TaskEvents;
  readonly now: () => number;
  readonly recheckMs: number;
  readonly onError: (err: unknown, what: string) => void;
}

/** One `port.input` call waiting for its answers. */
interface InputGroup {
  /** Minted key -> the key the tool used. */
  readonly keys: Map<string, string>;
  readonly resolve: (answers: Record<string, JsonObject>) => void;
  readonly reject: (reason: unknown) => void;
}

export function cancelledReason(): ProtocolError {
  return new ProtocolError(RpcError.RequestCancelled.code, 'Task cancelled');
}

/** What a run's signal aborts with when another run took its task over. */
export function leaseLostReason(): ProtocolError {
  return new ProtocolError(
    RpcError.RequestCancelled.code,
    'Task run lost its lease: another worker runs the task now',
  );
}

/** Opaque `inputRequests` key: the client echoes it back and learns nothing from it. */
function mintKey(): string {
  return randomBytes(9).toString('base64url');
}

export class Execution {
  private readonly groups = new Set<InputGroup>();
  private inputSeq = 0;
  private ended: EndReason | undefined;
  private resolveDone!: (reason: EndReason) => void;
  readonly done = new Promise<EndReason>((resolve) => (this.resolveDone = resolve));
  private readonly writes: Promise<unknown>[] = [];
  private checking = false;
  /** Our own SETTLE is in flight: its terminal event is not a cancellation. */
  private settling = false;
  private checkAgain = false;
  /** `start` was called: the record's runner token is this run's from now on. */
  private started = false;
  /** The generation BEGIN gave this durable run (0: local). */
  private generation = 0;
  private readonly offEvents: () => void;
  private readonly timer: NodeJS.Timeout;
  /** The status this run last wrote (input), for the CreateTaskResult. */
  view: { status: TaskStatus; updated: string } | undefined;

  constructor(
    private readonly deps: ExecutionDeps,
    readonly taskId: string,
    readonly owner: string,
    readonly ttlMs: number,
    /** Fencing token of a durable run ('' for local runs, which nobody else can take). */
    readonly token: string,
    readonly controller: AbortController = new AbortController(),
  ) {
    this.offEvents = deps.events.on(taskId, (e) => this.onEvent(e));
    this.timer = setInterval(() => void this.recheck(), deps.recheckMs);
    this.timer.unref();
  }

  get isEnded(): boolean {
    return this.ended !== undefined;
  }

  /**
   * Calls `run` now (synchronously up to its first await) and settles the record after it.
   * `generation`: what BEGIN returned for a durable run.
   */
  start(run: TaskRun, generation = 0): void {
    if (this.ended !== undefined) return;
    this.started = true;
    this.generation = generation;
    const port: TaskPort = {
      taskId: this.taskId,
      signal: this.controller.signal,
      input: (requests) => this.input(requests),
    };
    let outcome: Promise<CallToolResult>;
    try {
      outcome = run(port);
    } catch (err) {
      outcome = Promise.reject(err instanceof Error ? err : new Error('task run threw'));
    }
    outcome.then(
      (result) => this.settle('completed', stripRelatedTask(result), undefined),
      (err: unknown) => this.settle('failed', undefined, toWireError(err)),
    );
  }

  /** Waits for the writes issued so far (the input a run asked for before its first await). */
  async flushWrites(): Promise<void> {
    await Promise.allSettled(this.writes.splice(0));
  }

  /**
   * This run's lease is gone (its job lock could not be renewed, or another run began): abort
   * it now; its result, if any comes, is dropped (and SETTLE would refuse it anyway).
   */
  leaseLost(): void {
    if (this.token === '') return;
    this.end('fenced', leaseLostReason());
  }

  /** Stops caring about this run: aborts it (unless it settled) and rejects pending input. */
  end(reason: EndReason, abortReason: unknown = cancelledReason()): void {
    if (this.ended !== undefined) return;
    this.ended = reason;
    this.offEvents();
    clearInterval(this.timer);
    if (reason !== 'settled') this.controller.abort(abortReason);
    const groups = [...this.groups];
    this.groups.clear();
    for (const g of groups) g.reject(abortReason);
    this.resolveDone(reason);
  }

  private async settle(
    status: 'completed' | 'failed',
    result: CallToolResult | undefined,
    error: TaskError | undefined,
  ): Promise<void> {
    if (this.ended !== undefined) return;
    this.settling = true;
    const s = { status, token: this.token, nowMs: this.deps.now() };
    try {
      const code = await this.deps.store.settle(
        this.taskId,
        this.owner,
        this.ttlMs,
        result !== undefined ? { ...s, result } : error !== undefined ? { ...s, error } : s,
      );
      this.end(code === 1 ? 'settled' : this.reasonOf(code));
    } catch (err) {
      this.deps.onError(err, `settling task ${this.taskId}`);
      this.end('abandoned');
    }
  }

  private reasonOf(code: number): EndReason {
    if (code === GONE) return 'gone';
    if (code === FENCED) return 'fenced';
    return 'cancelled';
  }

  private input(
    requests: Readonly<Record<string, InputRequest>>,
  ): Promise<Record<string, JsonObject>> {
    if (this.ended !== undefined) return Promise.reject(cancelledReason());
    const callerKeys = Object.keys(requests);
    if (callerKeys.length === 0) return Promise.resolve({});
    const keys = new Map<string, string>();
    const entries: [string, number, InputRequest][] = [];
    for (const callerKey of callerKeys) {
      const key = mintKey();
      keys.set(key, callerKey);
      entries.push([key, ++this.inputSeq, requests[callerKey] as InputRequest]);
    }
    const promise = new Promise<Record<string, JsonObject>>((resolve, reject) => {
      this.groups.add({ keys, resolve, reject });
    });
    // A tool that abandons its input promise must not crash the process when we reject it.
    promise.catch(noop);
    const write = this.deps.store
      .requestInput(this.taskId, this.token, entries, new Date(this.deps.now()).toISOString())
      .then(
        (reply) => {
          if (typeof reply === 'number') {
            this.end(reply === TERMINAL ? 'cancelled' : this.reasonOf(reply));
            return;
          }
          this.view = reply;
          // Answers may have landed before our listener saw the event: look once.
          void this.checkAnswers();
        },
        (err: unknown) => {
          this.deps.onError(err, `requesting input for task ${this.taskId}`);
          this.end('abandoned', ProtocolError.of('InternalError'));
        },
      );
    this.writes.push(write);
    return promise;
  }

  private onEvent(e: TaskEvent): void {
    if (this.ended !== undefined) return;
    if (isTerminal(e.status)) {
      if (this.settling) return;
      this.end('cancelled');
      return;
    }
    // A later run began: this one lost the task. (An earlier run's BEGIN event may arrive
    // after our own BEGIN's reply: it travels on another connection.)
    if (e.runBegan !== undefined && this.token !== '' && this.started) {
      if (e.runBegan > this.generation) this.leaseLost();
      return;
    }
    if (this.groups.size > 0) void this.checkAnswers();
  }

  /** The fallback for a lost event: is the record still there, still running, still ours? */
  private async recheck(): Promise<void> {
    if (this.ended !== undefined || this.settling) return;
    try {
      const { status, token } = await this.deps.store.runState(this.taskId);
      if (this.ended !== undefined || this.settling) return;
      if (status === null) this.end('gone');
      else if (isTerminal(status as TaskStatus)) this.end('cancelled');
      else if (this.token !== '' && this.started && token !== this.token) this.leaseLost();
      else if (this.groups.size > 0) await this.checkAnswers();
    } catch (err) {
      this.deps.onError(err, `re-reading task ${this.taskId}`);
    }
  }

  /** Resolves every input call whose keys are all answered; one pass at a time. */
  private async checkAnswers(): Promise<void> {
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.checkAgain = false;
        for (const group of [...this.groups]) await this.checkGroup(group);
      } while (this.checkAgain && this.ended === undefined);
    } catch (err) {
      this.deps.onError(err, `reading answers of task ${this.taskId}`);
    } finally {
      this.checking = false;
    }
  }

  private async checkGroup(group: InputGroup): Promise<void> {
    const keys = [...group.keys.keys()];
    const answers = await this.deps.store.takeAnswers(this.taskId, keys);
    if (!this.groups.has(group)) return;
    const refused = answers.find((a) => a !== null && 'err' in a);
    if (refused !== undefined && 'err' in refused) {
      // The client answered one key with an error: the whole input call rejects with it.
      this.groups.delete(group);
      const nowIso = new Date(this.deps.now()).toISOString();
      await this.deps.store.consumeAnswers(this.taskId, keys);
      await this.deps.store.dropInput(this.taskId, keys, nowIso);
      const e = refused.err;
      group.reject(new ProtocolError(e.code, e.message, e.data));
      return;
    }
    if (answers.some((a) => a === null)) return;
    this.groups.delete(group);
    await this.deps.store.consumeAnswers(this.taskId, keys);
    const out: Record<string, JsonObject> = {};
    keys.forEach((key, i) => {
      const a = answers[i];
      if (a !== null && a !== undefined && 'ok' in a) out[group.keys.get(key) as string] = a.ok;
    });
    group.resolve(out);
  }
}

function noop(): void {}
