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
import { DISPATCH_PATH, HEALTH_PATH, NDJSON_TYPE } from './dispatch.js';
import type { DispatchFailure } from './dispatch.js';

/** A worker as the port addresses it. */
export interface DispatchTarget {
  readonly id: string;
  readonly url: string;
}

/** One dispatch: a client message to one worker. */
export interface DispatchCall {
  readonly worker: DispatchTarget;
  /** The JSON-RPC message (or batch entry) as text, sent as is. */
  readonly body: string;
  /** Envelope, dispatch and signature headers (signed by the caller). */
  readonly headers: Readonly<Record<string, string>>;
  /** Aborts the dispatch (the client went away, or the deadline passed). */
  readonly signal?: AbortSignal | undefined;
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
  /** 200 JSON: the one response. */
  | { readonly kind: 'message'; readonly message: JsonRpcMessage }
  /** 200 NDJSON: lines as they come; the last is the response. */
  | { readonly kind: 'stream'; readonly lines: AsyncIterable<string> }
  /** The connection broke after the request was sent: the worker may have run it. */
  | { readonly kind: 'broken'; readonly error: unknown };

export type DispatchOutcomeKind = DispatchOutcome['kind'];

/** The port. Implementations never throw for a worker's failure: they return an outcome. */
export interface WorkerDispatch {
  dispatch(call: DispatchCall): Promise<DispatchOutcome>;
}

/** Whether a dispatch that ended this way reached a worker that answered for itself. */
export function workerAnswered(outcome: DispatchOutcome): boolean {
  return outcome.kind !== 'not-sent' && outcome.kind !== 'reset' && outcome.kind !== 'broken';
}

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);
const RESET_CODES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);

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

/** Splits a byte stream into lines (UTF-8 safe: decode with streaming, split on \n). */
async function* linesOf(body: AsyncIterable<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of body) {
    rest += decoder.decode(chunk, { stream: true });
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line.length > 0) yield line;
      nl = rest.indexOf('\n');
    }
  }
  rest += decoder.decode();
  if (rest.length > 0) yield rest;
}

/** Keep-alive connections per worker; enough for a busy gateway without piling up sockets. */
const CONNECTIONS_PER_WORKER = 128;
/** Bound on one health probe. */
const PROBE_TIMEOUT_MS = 2_000;

/** The dispatch wire over HTTP/1.1: one undici keep-alive pool per worker. */
export class UndiciDispatch implements WorkerDispatch {
  private readonly pools = new Map<string, { url: string; pool: Pool }>();

  private poolFor(worker: DispatchTarget): Pool {
    const current = this.pools.get(worker.id);
    if (current !== undefined && current.url === worker.url) return current.pool;
    if (current !== undefined) void current.pool.destroy();
    const pool = new Pool(worker.url, {
      connections: CONNECTIONS_PER_WORKER,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      // Dispatches may stream for as long as a tool runs; the envelope deadline bounds them.
      bodyTimeout: 0,
      headersTimeout: 0,
    });
    this.pools.set(worker.id, { url: worker.url, pool });
    return pool;
  }

  async dispatch(call: DispatchCall): Promise<DispatchOutcome> {
    let res;
    try {
      res = await this.poolFor(call.worker).request({
        method: 'POST',
        path: DISPATCH_PATH,
        headers: { ...call.headers, 'content-type': 'application/json' },
        body: call.body,
        ...(call.signal === undefined ? {} : { signal: call.signal }),
      });
    } catch (error) {
      return transportFailure(error);
    }
    try {
      if (res.statusCode === 202) {
        await res.body.dump();
        return { kind: 'accepted' };
      }
      if (res.statusCode !== 200) {
        const failure = (await res.body.json()) as DispatchFailure;
        return { kind: 'refused', status: res.statusCode, failure };
      }
      const type = String(res.headers['content-type'] ?? '');
      if (type.startsWith(NDJSON_TYPE)) return { kind: 'stream', lines: linesOf(res.body) };
      return { kind: 'message', message: (await res.body.json()) as JsonRpcMessage };
    } catch (error) {
      return { kind: 'broken', error };
    }
  }

  /** Active health probe: GET /healthz answers 200. */
  async probe(worker: DispatchTarget): Promise<boolean> {
    const res = await this.poolFor(worker).request({
      method: 'GET',
      path: HEALTH_PATH,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await res.body.dump();
    return res.statusCode === 200;
  }

  /**
   * Stops using a worker's pool. Requests still running on it finish (a draining worker
   * completes its in-flight work); the connections close once they are idle.
   */
  forget(id: string): void {
    const current = this.pools.get(id);
    this.pools.delete(id);
    if (current !== undefined) current.pool.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.pool.destroy().catch(() => undefined)));
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
    if (call.signal?.aborted === true) return { kind: 'broken', error: call.signal.reason };
    try {
      return await answer(call);
    } catch (error) {
      return { kind: 'broken', error };
    }
  }
}
