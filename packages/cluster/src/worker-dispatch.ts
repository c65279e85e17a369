/**
 * The one port from a gateway to its workers: send one client message (its bytes and its
 * signed envelope headers) to one worker, get back how that ended. Every gateway path —
 * requests, list pages, notifications, a client's answers to a worker's requests — goes
 * through a `WorkerDispatch`, so whatever wraps the port (router feedback, metrics, tracing,
 * circuit breakers) sees every dispatch.
 *
 * `UndiciDispatch` speaks the dispatch wire (dispatch.ts) over one undici keep-alive pool per
 * worker; `MemoryDispatch` is its in-memory twin for tests: workers are functions.
 */
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import {
  DISPATCH_HEADERS,
  DISPATCH_PATH,
  HEALTH_PATH,
  NDJSON_TYPE,
  ackDelayMs,
} from './dispatch.js';
import type { DispatchFailure } from './dispatch.js';
import { OverdueDispatches } from './overdue-dispatches.js';
import type { OverdueWatch } from './overdue-dispatches.js';

/** A worker as the port addresses it. */
export interface DispatchTarget {
  readonly id: string;
  readonly url: string;
}

/** Hears an abort (AbortSignal's EventListenerObject shape). */
export interface AbortListener {
  handleEvent(): void;
}

/**
 * What aborts a dispatch: an AbortSignal, or anything with its `aborted`, `reason` and
 * `abort` listeners (a transport's lazy request abort, which makes no AbortSignal unless one
 * is asked for).
 */
export interface DispatchAbort {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: AbortListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: AbortListener): void;
}

/** One dispatch: a client message to one worker. */
export interface DispatchCall {
  readonly worker: DispatchTarget;
  /** The JSON-RPC message (or batch entry) as text, sent as is. */
  readonly body: string;
  /** Envelope, dispatch and signature headers (signed by the caller). */
  readonly headers: Readonly<Record<string, string>>;
  /** Aborts the dispatch (the client went away, or the deadline passed). */
  readonly signal?: DispatchAbort | undefined;
}

/** How a dispatch ended. */
export type DispatchOutcome =
  /** The worker never got the request (connection refused): safe to retry anywhere. */
  | { readonly kind: 'not-sent'; readonly error: unknown }
  /** The connection was reset before any answer: the worker may or may not have got it. */
  | { readonly kind: 'reset'; readonly error: unknown }
  /** 202: accepted, nothing to return. */
  | { readonly kind: 'accepted' }
  /** The worker refused the dispatch before running anything (4xx/5xx with a failure body). */
  | { readonly kind: 'refused'; readonly status: number; readonly failure: DispatchFailure }
  /** 200 JSON: the one response, and its text as the worker sent it (when known). */
  | { readonly kind: 'message'; readonly message: JsonRpcMessage; readonly text?: string }
  /** 200 NDJSON: lines as they come; the last is the response. */
  | { readonly kind: 'stream'; readonly lines: AsyncIterable<string> }
  /** The connection broke after the request was sent: the worker may have run it. */
  | { readonly kind: 'broken'; readonly error: unknown }
  /**
   * Held back by the gateway before sending (the worker's circuit breaker is open): nothing
   * was sent, and the worker is not gone; another worker may take it.
   */
  | { readonly kind: 'rejected'; readonly reason: string };

export type DispatchOutcomeKind = DispatchOutcome['kind'];

/** The port. Implementations never throw for a worker's failure: they return an outcome. */
export interface WorkerDispatch {
  dispatch(call: DispatchCall): Promise<DispatchOutcome>;
}

/**
 * Whether a dispatch that ended this way reached a worker that answered for itself (false for
 * `rejected` too: nothing reached the worker).
 */
export function workerAnswered(outcome: DispatchOutcome): boolean {
  return (
    outcome.kind !== 'not-sent' &&
    outcome.kind !== 'reset' &&
    outcome.kind !== 'broken' &&
    outcome.kind !== 'rejected'
  );
}

const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // Connecting took longer than connectTimeoutMs: nothing was sent.
  'UND_ERR_CONNECT_TIMEOUT',
]);
const RESET_CODES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);
// Every other code is `broken`, UND_ERR_HEADERS_TIMEOUT (the first-byte timeout) included:
// the request was written, so the worker may have run it.

/**
 * Whether a dispatch that was not sent failed on the way to its worker (a connect timeout, no
 * route to the host) rather than on the worker itself (a refused connection: nothing listens).
 * The network may be back in a moment (a container network reconfigured, a blip): its probes
 * decide about the worker, where a refused connection takes it out until it registers again.
 */
export function unreachableForNow(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && UNREACHABLE_CODES.has(code);
}
const UNREACHABLE_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether a dispatch broke because its worker sent no first byte in time (hung). */
export function isFirstByteTimeout(error: unknown): boolean {
  return errorCode(error) === 'UND_ERR_HEADERS_TIMEOUT';
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && e.code !== 'UND_ERR_SOCKET') return e.code;
  const cause = errorCode(e.cause);
  return cause ?? (typeof e.code === 'string' ? e.code : undefined);
}

/** The outcome of a dispatch whose request failed before any answer. */
function transportFailure(error: unknown): DispatchOutcome {
  const code = errorCode(error) ?? '';
  if (NOT_SENT_CODES.has(code)) return { kind: 'not-sent', error };
  return RESET_CODES.has(code) ? { kind: 'reset', error } : { kind: 'broken', error };
}

/** Why `signal` aborted, as the Error undici passes on. */
function abortReason(signal: DispatchAbort): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** Keep-alive connections per worker; enough for a busy gateway without piling up sockets. */
const CONNECTIONS_PER_WORKER = 128;
/** Longest bound on one health probe. */
const PROBE_TIMEOUT_MS = 2_000;
/** Shortest bound on one health probe: a loaded worker's /healthz may take a moment. */
const MIN_PROBE_TIMEOUT_MS = 250;

/**
 * The bound on one health probe for probes every `probeIntervalMs`: no longer than the
 * interval (a hung worker is then found within about unhealthyThreshold intervals, not
 * seconds more), within [250 ms, 2 s].
 */
export function probeTimeoutMs(probeIntervalMs: number): number {
  return Math.min(PROBE_TIMEOUT_MS, Math.max(MIN_PROBE_TIMEOUT_MS, probeIntervalMs));
}
/** Default bound on opening a connection to a worker. */
const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;

/** Why the dispatches in flight to a worker were ended: it stopped answering. */
export class WorkerAbandonedError extends Error {
  override readonly name = 'WorkerAbandonedError';
  constructor(readonly workerId: string) {
    super(`worker ${workerId} stopped answering: its dispatches in flight were ended`);
  }
}

export interface UndiciDispatchOptions {
  /** Opening a connection longer than this: the worker is not there (`not-sent`). */
  readonly connectTimeoutMs?: number;
  /**
   * No response headers this long after the request was sent: the worker is hung, and the
   * dispatch ends `broken` (it may have run). Workers acknowledge a request still running
   * well before it (DISPATCH_HEADERS.firstByteTimeout), so a slow tool is not cut. undici
   * checks it on a coarse clock (ticks of about half a second): it fires from about half a
   * second before to about a second after it, so keep it at 1 s or more. Default 0: no bound
   * (the envelope deadline and the health probes end a hung worker's dispatches).
   */
  readonly firstByteTimeoutMs?: number;
  /** Bound on one health probe (default 2 s; see {@link probeTimeoutMs}). */
  readonly probeTimeoutMs?: number;
  /**
   * Told when a worker looks hung: a request dispatched to it is still without response
   * headers well after the worker would have acknowledged it (`overdue`, see
   * overdue-dispatches.ts), or one hit the first-byte timeout (`first-byte-timeout`). The
   * dispatches themselves are not ended by `overdue`: they may still be answered.
   */
  readonly onHung?: (workerId: string, evidence: HungEvidence) => void;
  /** Sweep period of the overdue check (tests). */
  readonly overdueSweepMs?: number;
}

/** What made a worker look hung (see UndiciDispatchOptions.onHung). */
export type HungEvidence = 'overdue' | 'first-byte-timeout';

/** What an AnswerReader tells about the dispatch it reads, for the hung-worker check. */
interface HungCheck {
  readonly workerId: string;
  /** The worker's ack delay; undefined: the dispatch names no first-byte timeout. */
  readonly ackDelay: number | undefined;
  readonly overdue: OverdueDispatches | undefined;
  readonly onHung: (workerId: string, evidence: HungEvidence) => void;
}

/** The dispatch wire over HTTP/1.1: one undici keep-alive pool per worker. */
export class UndiciDispatch implements WorkerDispatch {
  private readonly pools = new Map<string, { url: string; pool: Pool }>();
  /** When each worker last sent us bytes (an answer's headers or body, a probe's answer). */
  private readonly heard = new Map<string, number>();
  /** Header-less requests per worker, when someone listens for hung workers. */
  private readonly overdue: OverdueDispatches | undefined;

  constructor(private readonly options: UndiciDispatchOptions = {}) {
    const onHung = options.onHung;
    this.overdue =
      onHung === undefined
        ? undefined
        : new OverdueDispatches({
            onOverdue: (id) => onHung(id, 'overdue'),
            sweepMs: options.overdueSweepMs,
          });
  }

  private poolFor(worker: DispatchTarget): Pool {
    const current = this.pools.get(worker.id);
    if (current !== undefined && current.url === worker.url) return current.pool;
    if (current !== undefined) void current.pool.destroy();
    const pool = new Pool(worker.url, {
      connections: CONNECTIONS_PER_WORKER,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      // Dispatches may stream for as long as a tool runs; the envelope deadline bounds them,
      // and a worker that stops answering its probes has them ended (abandon()). Their first
      // byte is bounded: workers acknowledge long requests early, so only a hung one is cut
      // (undici's UND_ERR_HEADERS_TIMEOUT: `broken`, see transportFailure).
      bodyTimeout: 0,
      headersTimeout: this.options.firstByteTimeoutMs ?? 0,
      connectTimeout: this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
    this.pools.set(worker.id, { url: worker.url, pool });
    return pool;
  }

  dispatch(call: DispatchCall): Promise<DispatchOutcome> {
    const signal = call.signal;
    if (signal?.aborted === true) {
      return Promise.resolve({ kind: 'broken', error: abortReason(signal) });
    }
    const onHung = this.options.onHung;
    const check: HungCheck | undefined =
      onHung === undefined
        ? undefined
        : {
            workerId: call.worker.id,
            ackDelay: ackDelayMs(call.headers[DISPATCH_HEADERS.firstByteTimeout]),
            overdue: this.overdue,
            onHung,
          };
    return new Promise((resolve) => {
      const reader = new AnswerReader(resolve, signal, check, call.worker.id, this.heard);
      try {
        this.poolFor(call.worker).dispatch(
          {
            method: 'POST',
            path: DISPATCH_PATH,
            headers: { ...call.headers, 'content-type': 'application/json' },
            body: call.body,
          },
          reader,
        );
      } catch (error) {
        // The port never throws for a worker's failure (e.g. a pool closed meanwhile).
        reader.onResponseError(undefined, error as Error);
      }
    });
  }

  /** Active health probe: GET /healthz answers 200. */
  async probe(worker: DispatchTarget): Promise<boolean> {
    const res = await this.poolFor(worker).request({
      method: 'GET',
      path: HEALTH_PATH,
      signal: AbortSignal.timeout(this.options.probeTimeoutMs ?? PROBE_TIMEOUT_MS),
    });
    await res.body.dump();
    this.heard.set(worker.id, performance.now());
    return res.statusCode === 200;
  }

  /**
   * Ends the dispatches in flight to worker `id` as {@link abandon} does, unless it sent us
   * bytes (an answer, a probe's reply) within the last `quietMs`: a worker whose probes time
   * out while it keeps answering is slow (a burst of load, a slow name lookup for its probe),
   * not gone, and what it is serving may still complete. True when they were ended.
   */
  abandonIfQuiet(id: string, quietMs: number): boolean {
    const last = this.heard.get(id);
    if (last !== undefined && performance.now() - last < quietMs) return false;
    this.abandon(id);
    return true;
  }

  /**
   * Stops using a worker's pool. Requests still running on it finish (a draining worker
   * completes its in-flight work); the connections close once they are idle.
   */
  /**
   * Ends every dispatch in flight to worker `id` (it stopped answering: hung, or its host
   * gone without a reset): they end `broken`, so the caller's table decides whether each may
   * be sent again. The next dispatch to it opens new connections.
   */
  abandon(id: string): void {
    const current = this.pools.get(id);
    this.pools.delete(id);
    this.heard.delete(id);
    if (current !== undefined) {
      current.pool.destroy(new WorkerAbandonedError(id)).catch(() => undefined);
    }
  }

  forget(id: string): void {
    const current = this.pools.get(id);
    this.pools.delete(id);
    this.heard.delete(id);
    if (current !== undefined) current.pool.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.overdue?.stop();
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.pool.destroy().catch(() => undefined)));
  }
}

/** Lines of an NDJSON answer the reader holds before it pauses the connection. */
const HIGH_WATER_LINES = 64;

/**
 * Reads one dispatch's answer straight off undici's dispatch handler: no body stream, no
 * abort listener unless the caller passed a signal. A JSON or failure answer is collected
 * whole (answers are small); an NDJSON answer resolves at its headers and hands out lines as
 * they come, pausing the connection while the consumer lags.
 */
class AnswerReader implements Dispatcher.DispatchHandler {
  private status = 0;
  private ndjson = false;
  private chunks: Buffer[] = [];
  private lines: LineQueue | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private settled = false;
  /** Waiting for its headers in the overdue check (from the request's write to its headers). */
  private watch: OverdueWatch | undefined;

  constructor(
    private readonly resolve: (outcome: DispatchOutcome) => void,
    private readonly signal: DispatchAbort | undefined,
    private readonly check: HungCheck | undefined = undefined,
    private readonly workerId = '',
    private readonly heard: Map<string, number> | undefined = undefined,
  ) {
    signal?.addEventListener('abort', this, { once: true });
  }

  /** EventListener protocol: the caller's signal aborted. */
  handleEvent(): void {
    if (this.signal !== undefined) this.controller?.abort(abortReason(this.signal));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal?.aborted === true) return controller.abort(abortReason(this.signal));
    // undici calls this as it writes the request: time queued for a connection is not counted.
    const check = this.check;
    if (check?.overdue !== undefined && check.ackDelay !== undefined) {
      this.watch = check.overdue.watch(check.workerId, check.ackDelay);
    }
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.unwatch();
    this.heard?.set(this.workerId, performance.now());
    this.status = statusCode;
    const type = headers['content-type'];
    this.ndjson = statusCode === 200 && typeof type === 'string' && type.startsWith(NDJSON_TYPE);
    if (this.ndjson) {
      this.lines = new LineQueue(controller);
      this.settle({ kind: 'stream', lines: this.lines });
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.heard?.set(this.workerId, performance.now());
    if (this.lines !== undefined) this.lines.push(chunk);
    else this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.done();
    if (this.lines !== undefined) return this.lines.end();
    if (this.status === 202) return this.settle({ kind: 'accepted' });
    const text = Buffer.concat(this.chunks).toString('utf8');
    this.chunks = [];
    try {
      if (this.status !== 200) {
        const failure = JSON.parse(text) as DispatchFailure;
        return this.settle({ kind: 'refused', status: this.status, failure });
      }
      return this.settle({ kind: 'message', message: JSON.parse(text) as JsonRpcMessage, text });
    } catch (error) {
      return this.settle({ kind: 'broken', error });
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.done();
    this.unwatch();
    // Silent past the first-byte timeout: hung, as surely as a failed probe says.
    if (this.status === 0 && this.check !== undefined && isFirstByteTimeout(error)) {
      this.check.onHung(this.check.workerId, 'first-byte-timeout');
    }
    if (this.lines !== undefined) return this.lines.fail(error);
    // Before any answer: how far the request got decides; after its headers: broken.
    this.settle(this.status === 0 ? transportFailure(error) : { kind: 'broken', error });
  }

  private settle(outcome: DispatchOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(outcome);
  }

  private done(): void {
    this.signal?.removeEventListener('abort', this);
  }

  private unwatch(): void {
    if (this.watch === undefined) return;
    this.check?.overdue?.settle(this.watch);
    this.watch = undefined;
  }
}

/**
 * The lines of an NDJSON answer as an async iterable (UTF-8 safe: decoded with streaming,
 * split on \n; empty lines skipped). Iterated once.
 */
class LineQueue implements AsyncIterable<string> {
  private readonly decoder = new TextDecoder();
  private rest = '';
  private readonly ready: string[] = [];
  private ended = false;
  private error: { readonly cause: unknown } | undefined;
  private wake: (() => void) | undefined;
  private paused = false;
  private abandoned = false;

  constructor(private readonly controller: Dispatcher.DispatchController) {}

  push(chunk: Buffer): void {
    if (this.abandoned) return;
    this.rest += this.decoder.decode(chunk, { stream: true });
    let nl = this.rest.indexOf('\n');
    while (nl >= 0) {
      const line = this.rest.slice(0, nl);
      this.rest = this.rest.slice(nl + 1);
      if (line.length > 0) this.ready.push(line);
      nl = this.rest.indexOf('\n');
    }
    if (this.ready.length >= HIGH_WATER_LINES && !this.paused) {
      this.paused = true;
      this.controller.pause();
    }
    this.notify();
  }

  end(): void {
    this.rest += this.decoder.decode();
    if (this.rest.length > 0) this.ready.push(this.rest);
    this.rest = '';
    this.ended = true;
    this.notify();
  }

  fail(cause: unknown): void {
    this.error = { cause };
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    try {
      for (;;) {
        const line = this.ready.shift();
        if (line !== undefined) {
          if (this.paused && this.ready.length === 0) {
            this.paused = false;
            this.controller.resume();
          }
          yield line;
          continue;
        }
        if (this.error !== undefined) throw this.error.cause;
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      // The consumer stops at the response, which may come just before the answer's end:
      // the rest is read and dropped, so the connection stays usable.
      this.abandoned = true;
      this.ready.length = 0;
      if (this.paused) {
        this.paused = false;
        this.controller.resume();
      }
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** A worker of the in-memory twin: answers one dispatch. */
export type MemoryWorker = (call: DispatchCall) => DispatchOutcome | Promise<DispatchOutcome>;

/**
 * The in-memory twin of the dispatch wire, for tests: each worker is a function. A dispatch
 * to a worker that is not there ends `not-sent`, as a refused connection does; one whose
 * function throws ends `broken`. Every call is recorded.
 */
export class MemoryDispatch implements WorkerDispatch {
  readonly calls: DispatchCall[] = [];
  private readonly workers = new Map<string, MemoryWorker>();

  /** Adds (or replaces) a worker. */
  worker(id: string, answer: MemoryWorker): this {
    this.workers.set(id, answer);
    return this;
  }

  /** Takes a worker away: later dispatches to it are `not-sent`. */
  remove(id: string): void {
    this.workers.delete(id);
  }

  async dispatch(call: DispatchCall): Promise<DispatchOutcome> {
    this.calls.push(call);
    const answer = this.workers.get(call.worker.id);
    if (answer === undefined) {
      return { kind: 'not-sent', error: new Error(`no worker ${call.worker.id}`) };
    }
    if (call.signal?.aborted === true) return { kind: 'broken', error: abortReason(call.signal) };
    try {
      return await answer(call);
    } catch (error) {
      return { kind: 'broken', error };
    }
  }
}
