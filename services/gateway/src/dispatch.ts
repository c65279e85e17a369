/**
 * Dispatching one client message to the workers: the attempt loop, and the one table that
 * says what each way a dispatch can end means for the client (answer, retry elsewhere, or
 * which protocol error). Every gateway path sends through `dispatchWithRetry`, over the
 * `WorkerDispatch` port, which decorators wrap (`withRouterFeedback` here; metrics, tracing
 * and breakers the same way).
 */
import {
  ENVELOPE_HEADERS,
  STORE_RETRY_AFTER_MS,
  signDispatch,
  unreachableForNow,
  workerAnswered,
} from '@mcp-cluster/cluster';
import type {
  DispatchAbort,
  DispatchCall,
  DispatchOutcome,
  WorkerDispatch,
} from '@mcp-cluster/cluster';
import {
  METRICS,
  endSpanWithOutcome,
  injectTraceContext,
  isTracing,
  startMcpSpan,
} from '@mcp-cluster/observability';
import type { Metrics } from '@mcp-cluster/observability';
import { SpanKind, context, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { ProtocolError } from '@mcp-cluster/protocol';
import { RouterError, asWorkerId } from '@mcp-cluster/router';
import type { Router, WorkerId, WorkerView } from '@mcp-cluster/router';
import { atCapacity } from './capacity.js';
import type { CapacityQueue } from './capacity.js';

/** The retry reason of a worker that refused a dispatch as saturated (see verdictOf). */
const WORKER_AT_CAPACITY = 'Worker at capacity';

/**
 * How long a client is told to wait (Retry-After) when no worker could serve its request or
 * the one serving it failed: a hung or gone worker is out of routing within about a second
 * (its overdue dispatches, its probes), so the next attempt meets the workers still serving.
 */
export const WORKER_RETRY_AFTER_MS = 1_000;

/** Attempts at one request when workers refuse or are gone before running anything. */
export const MAX_ATTEMPTS = 4;

/** Methods without side effects: a dispatch whose connection reset may be sent again. */
export const SAFE_TO_RETRY: ReadonlySet<string> = new Set([
  'ping',
  'server/discover',
  'tools/list',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'completion/complete',
  'tasks/get',
  'tasks/list',
]);

/** A worker's answer the caller turns into its result. */
export type Answer = Extract<DispatchOutcome, { kind: 'message' | 'stream' | 'accepted' }>;

/** What one attempt's outcome means. */
export type Verdict =
  /** The worker answered: the caller settles the answer. */
  | { readonly next: 'answer'; readonly answer: Answer }
  /** Nothing ran (or running it again is harmless): try again, elsewhere if `workerGone`. */
  | { readonly next: 'retry'; readonly reason: string; readonly workerGone: boolean }
  /** The client gets `error`. */
  | { readonly next: 'fail'; readonly error: ProtocolError };

/**
 * The closed outcome -> protocol table. `method` is the request's method, undefined for a
 * notification or a client's response (for which 202 is the answer); `aborted`: the client
 * went away; `repeatable`: running the request twice is harmless (a method without side
 * effects, or a tool annotated read-only or idempotent), so a worker that may have run it
 * is no reason not to send it again.
 */
export function verdictOf(
  outcome: DispatchOutcome,
  method: string | undefined,
  aborted: boolean,
  repeatable: boolean = method !== undefined && SAFE_TO_RETRY.has(method),
): Verdict {
  switch (outcome.kind) {
    case 'message':
    case 'stream':
      return { next: 'answer', answer: outcome };
    case 'accepted':
      // A request always gets a response; a notification or a response gets 202.
      return method === undefined
        ? { next: 'answer', answer: outcome }
        : { next: 'fail', error: ProtocolError.of('InternalError') };
    case 'not-sent':
      // Nothing listens there: out until it registers again. A connect timeout or no route
      // (the network, for now): retried elsewhere, and the worker's probes decide about it.
      return {
        next: 'retry',
        reason: 'Worker unreachable',
        workerGone: !unreachableForNow(outcome.error),
      };
    case 'rejected':
      // Held back before sending (its circuit breaker is open): nothing ran, and the worker
      // is not gone (the breaker lets a trial through later), so it is not marked dead.
      return { next: 'retry', reason: outcome.reason, workerGone: false };
    case 'reset':
      // Retried only when running it twice is harmless (the worker may have got it).
      return method !== undefined && repeatable && !aborted
        ? { next: 'retry', reason: 'Worker connection reset', workerGone: false }
        : { next: 'fail', error: workerFailed() };
    case 'refused': {
      const { status, failure } = outcome;
      if (failure.reason === 'replay-check-unavailable') {
        // The worker could not reach the nonce store every worker shares (Redis): it ran
        // nothing and is not draining, so it stays in; the client may retry.
        return { next: 'fail', error: replayCheckUnavailable() };
      }
      if (failure.reason === 'saturated') {
        // At its limit with other gateways' requests: nothing ran, and it is healthy, so it
        // stays in (not markDead); the next attempt goes elsewhere or waits for a slot.
        return { next: 'retry', reason: WORKER_AT_CAPACITY, workerGone: false };
      }
      if (status === 503) {
        // Draining: nothing ran; take it out so the retry (and a pinned session) moves on.
        return { next: 'retry', reason: 'Worker draining', workerGone: true };
      }
      if (failure.reason === 'audience') {
        // Another process answers at this worker's address (it restarted, and this gateway
        // has not seen its new record yet): nothing ran. Out until it registers again.
        return { next: 'retry', reason: 'Worker restarted', workerGone: true };
      }
      if (status === 401 && failure.reason === 'expired') {
        // Signed too long before the worker checked it (it queued for a connection, or
        // clocks drift apart): nothing ran; the next attempt is signed afresh.
        return {
          next: 'retry',
          reason: 'The dispatch signature expired before a worker checked it',
          workerGone: false,
        };
      }
      // 401: the worker does not know this gateway's dispatch secret, a deployment fault,
      // not the client's; nothing ran.
      if (status === 401) return { next: 'fail', error: workerRefused() };
      return { next: 'fail', error: new ProtocolError(failure.error.code, failure.error.message) };
    }
    case 'broken':
      // A client that went away is not the worker's fault. Otherwise the worker may have run
      // it: re-run only what is harmless to run twice; the client may retry the rest.
      if (aborted) return { next: 'fail', error: ProtocolError.of('RequestCancelled') };
      return method !== undefined && repeatable
        ? {
            next: 'retry',
            reason: 'The worker failed while serving the request',
            workerGone: false,
          }
        : { next: 'fail', error: workerFailed() };
  }
}

export interface DispatchDeps {
  readonly port: WorkerDispatch;
  /** Signs every dispatch (the workers check it). */
  readonly secret: string;
  /** A worker that refused a connection or is draining: out until it registers again. */
  readonly markDead: (id: WorkerId) => void;
  /** Waits before a retry (tests pass a recorder); default: a timer the abort ends early. */
  readonly sleep?: (ms: number, signal: DispatchAbort | undefined) => Promise<void>;
  /** [0, 1) for the retry jitter (default Math.random). */
  readonly random?: () => number;
  /**
   * The worker process's boot id from its registry record: dispatches to it are addressed to
   * that process, which checks their nonces in its own memory. Undefined (a worker that does
   * not publish one): the dispatch is unaddressed, checked in the shared nonce store.
   */
  readonly audienceOf?: (id: WorkerId) => string | undefined;
  readonly onError: (err: unknown, what: string) => void;
  /**
   * Where a request waits when every candidate worker is at its concurrency limit; without
   * one, such a request is shed at once (-32016, at capacity).
   */
  readonly capacity?: CapacityQueue | undefined;
}

/** One message to dispatch, and how to pick its worker and settle the answer. */
export interface DispatchPlan<T> {
  /** The request's method; undefined for a notification or a client's response. */
  readonly method: string | undefined;
  /** The tool or prompt the request names (the dispatch span's target). */
  readonly target?: string | undefined;
  /**
   * Running it twice is harmless, so it is sent again after a worker failed mid-call.
   * Default: the methods in SAFE_TO_RETRY.
   */
  readonly repeatable?: boolean | undefined;
  /** When the request's dispatch deadline passes (epoch ms): retries wait no longer. */
  readonly deadlineAt?: number | undefined;
  /** The message as text: sent as is, on every attempt. */
  readonly body: string;
  /** Envelope and dispatch headers, unsigned: built once per message. */
  readonly headers: Readonly<Record<string, string>>;
  readonly signal?: DispatchAbort | undefined;
  /** Attempts in all (1: no retry). */
  readonly attempts: number;
  /**
   * The worker of this attempt; throws RouterError when there is none. `avoid`: workers an
   * earlier attempt failed on (hung, broke, held back), not to be picked again if another can
   * serve.
   */
  pick(attempt: number, avoid?: ReadonlySet<string>): WorkerView | Promise<WorkerView>;
  /** The caller's result from a worker's answer; undefined: the worker failed mid-answer. */
  settle(answer: Answer, worker: WorkerView): Promise<T | undefined> | T | undefined;
}

export type DispatchResult<T> =
  | { readonly ok: true; readonly value: T; readonly worker: WorkerView }
  | { readonly ok: false; readonly error: ProtocolError };

/**
 * Sends a message until a worker answers it, the table says fail, or the attempts run out.
 * Signed once; signed afresh only after an attempt that reached a worker (which may have
 * claimed the nonce) or for a worker process other than the one it was addressed to. While
 * tracing is on, a request's attempts are one CLIENT span, whose context the envelope carries
 * (signed with the rest) so the worker's span is its child.
 */
export async function dispatchWithRetry<T>(
  deps: DispatchDeps,
  plan: DispatchPlan<T>,
): Promise<DispatchResult<T>> {
  if (plan.method === undefined || !isTracing()) return attemptAll(deps, plan);
  const span = startMcpSpan(
    {
      method: plan.method,
      ...(plan.target === undefined
        ? {}
        : plan.method === 'prompts/get'
          ? { promptName: plan.target }
          : { toolName: plan.target }),
    },
    { kind: SpanKind.CLIENT },
  );
  let result: DispatchResult<T>;
  try {
    result = await attemptAll(deps, {
      ...plan,
      headers: { ...plan.headers, ...envelopeTrace(span) },
    });
  } catch (err) {
    endSpanWithOutcome(span, { code: -32603, message: 'dispatch failed' });
    throw err;
  }
  if (result.ok) span.setAttribute('mcp_cluster.worker.id', result.worker.id);
  endSpanWithOutcome(
    span,
    result.ok ? 'ok' : { code: result.error.code, message: result.error.message },
  );
  return result;
}

/** The envelope's trace headers naming `span` as the worker's parent. */
function envelopeTrace(span: Span): Record<string, string> {
  const carrier = injectTraceContext<Record<string, string>>(
    {},
    trace.setSpan(context.active(), span),
  );
  const out: Record<string, string> = {};
  if (carrier['traceparent'] !== undefined) {
    out[ENVELOPE_HEADERS.traceparent] = carrier['traceparent'];
  }
  if (carrier['tracestate'] !== undefined) out[ENVELOPE_HEADERS.tracestate] = carrier['tracestate'];
  return out;
}

async function attemptAll<T>(
  deps: DispatchDeps,
  plan: DispatchPlan<T>,
): Promise<DispatchResult<T>> {
  // A function, not a narrowed property: the signal may fire during any await.
  const aborted = (): boolean => plan.signal?.aborted === true;
  let signed: Record<string, string> | undefined;
  let signedFor: string | undefined;
  // Why the last attempt failed (built only when one did: this loop is the hot path).
  let lastError: string | undefined;
  // Workers an attempt failed on without being taken out (made only when one did).
  let avoid: Set<string> | undefined;
  for (let attempt = 0; attempt < plan.attempts; attempt++) {
    if (aborted()) return { ok: false, error: ProtocolError.of('RequestCancelled') };
    let worker: WorkerView;
    try {
      // A synchronous pick is not awaited: nothing else runs between it and the port's
      // dispatch (where the router counts the request), so requests arriving together cannot
      // all take a worker's last slot.
      const picked = plan.pick(attempt, avoid);
      worker = picked instanceof Promise ? await picked : picked;
    } catch (err) {
      if (!(err instanceof RouterError)) throw err;
      if (err.reason !== 'saturated') return { ok: false, error: noWorkerAvailable() };
      const waited = await waitForSlot(deps.capacity, plan, attempt, avoid);
      if (waited instanceof ProtocolError) return { ok: false, error: waited };
      worker = waited;
    }
    const audience = deps.audienceOf?.(worker.id);
    if (signed === undefined || signedFor !== audience) {
      signed = {
        ...plan.headers,
        ...signDispatch(deps.secret, plan.headers, plan.body, { audience }),
      };
      signedFor = audience;
    }
    const call: DispatchCall = { worker, body: plan.body, headers: signed, signal: plan.signal };
    const outcome = await deps.port.dispatch(call);
    if (outcome.kind !== 'not-sent') signed = undefined;
    if (outcome.kind === 'refused' && (outcome.status === 401 || outcome.failure.reason)) {
      deps.onError(new Error(outcome.failure.error.message), 'worker refused dispatch');
    }
    const verdict = verdictOf(
      outcome,
      plan.method,
      aborted(),
      plan.repeatable ?? (plan.method !== undefined && SAFE_TO_RETRY.has(plan.method)),
    );
    switch (verdict.next) {
      case 'answer': {
        const value = await plan.settle(verdict.answer, worker);
        if (value === undefined) {
          const error = aborted() ? ProtocolError.of('RequestCancelled') : workerFailed();
          return { ok: false, error };
        }
        return { ok: true, value, worker };
      }
      case 'retry': {
        if (verdict.workerGone) deps.markDead(worker.id);
        else (avoid ??= new Set()).add(worker.id);
        lastError = verdict.reason;
        // The first retry goes at once (usually to another worker); later ones back off.
        const wait = retryDelayMs(attempt, deps.random ?? Math.random);
        if (wait === 0 || attempt + 1 >= plan.attempts) continue;
        if (plan.deadlineAt !== undefined && Date.now() + wait >= plan.deadlineAt) {
          return { ok: false, error: unavailable(lastError) };
        }
        await (deps.sleep ?? sleepUnlessAborted)(wait, plan.signal);
        continue;
      }
      case 'fail':
        if (outcome.kind === 'broken' && !aborted()) {
          deps.onError(outcome.error, `dispatch to ${worker.id} broke`);
        }
        return { ok: false, error: verdict.error };
    }
  }
  return {
    ok: false,
    error: lastError === undefined ? noWorkerAvailable() : unavailable(lastError),
  };
}

/** Why attempts stopped: at capacity (with Retry-After) when workers refused as saturated. */
function unavailable(lastError: string): ProtocolError {
  return lastError === WORKER_AT_CAPACITY
    ? atCapacity()
    : ProtocolError.of('Unavailable', lastError, { retryAfterMs: WORKER_RETRY_AFTER_MS });
}

/**
 * A worker for a request whose candidates are all at their limit: it waits in the capacity
 * queue, picking again each time a slot frees, until a pick succeeds or the wait is over
 * (queue full, timed out, deadline: -32016 at capacity; client gone: cancelled). The error
 * path only: the queue is never touched while picks succeed.
 */
async function waitForSlot<T>(
  queue: CapacityQueue | undefined,
  plan: DispatchPlan<T>,
  attempt: number,
  avoid: ReadonlySet<string> | undefined,
): Promise<WorkerView | ProtocolError> {
  // An abort listener added after the abort never hears it: a client already gone does not wait.
  if (plan.signal?.aborted === true) return ProtocolError.of('RequestCancelled');
  const ticket = queue?.enter(plan.signal, plan.deadlineAt);
  if (queue === undefined || ticket === undefined) return atCapacity();
  try {
    for (;;) {
      const woke = await ticket.next();
      if (woke === 'aborted') return ProtocolError.of('RequestCancelled');
      if (woke === 'timeout') {
        queue.timedOut();
        return atCapacity();
      }
      try {
        return await plan.pick(attempt, avoid);
      } catch (err) {
        if (!(err instanceof RouterError)) throw err;
        if (err.reason !== 'saturated') return noWorkerAvailable();
        ticket.pass();
      }
    }
  } finally {
    ticket.leave();
  }
}

/**
 * Router feedback as a decorator of the port: each dispatch is a connection the strategy
 * counts (least-connections) and a sample of the worker's latency and health, a stream until
 * its last line. A dispatch the client abandoned is not the worker's failure: a burst of
 * cancellations must not eject a healthy worker.
 */
export function withRouterFeedback(
  port: WorkerDispatch,
  router: Pick<Router, 'onStart' | 'onFinish'>,
): WorkerDispatch {
  return {
    async dispatch(call) {
      const id = asWorkerId(call.worker.id);
      const started = performance.now();
      const finish = (ok: boolean): void =>
        router.onFinish(id, ok || call.signal?.aborted === true, performance.now() - started);
      router.onStart(id);
      let outcome: DispatchOutcome;
      try {
        outcome = await port.dispatch(call);
      } catch (err) {
        finish(false);
        throw err;
      }
      if (outcome.kind !== 'stream') {
        finish(workerAnswered(outcome));
        return outcome;
      }
      return { kind: 'stream', lines: finishing(outcome.lines, finish) };
    },
  };
}

/**
 * Dispatch metrics as a decorator of the port: each attempt's time to the worker's answer
 * (its first line, for a stream), by worker and outcome kind.
 */
export function withDispatchMetrics(port: WorkerDispatch, metrics: Metrics): WorkerDispatch {
  if (!metrics.enabled) return port;
  const attempts = metrics.histogram(METRICS.dispatchDuration);
  return {
    async dispatch(call) {
      const started = performance.now();
      const outcome = await port.dispatch(call);
      attempts.observe(
        { worker: call.worker.id, outcome: outcome.kind },
        (performance.now() - started) / 1000,
      );
      return outcome;
    },
  };
}

/** Backoff of the retries after the first: exponential, capped, with full jitter. */
export const RETRY_BASE_MS = 25;
export const RETRY_CAP_MS = 500;

/**
 * How long to wait before the attempt after attempt `attempt` (0-based) failed: nothing
 * before the first retry, then a random wait up to min(cap, base * 2^(attempt - 1)).
 */
export function retryDelayMs(attempt: number, random: () => number): number {
  if (attempt === 0) return 0;
  return Math.floor(random() * Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** (attempt - 1)));
}

/** A timer that the request's abort ends early (the loop then sees the abort). */
function sleepUnlessAborted(ms: number, signal: DispatchAbort | undefined): Promise<void> {
  return new Promise((resolve) => {
    const listener = {
      handleEvent(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', listener);
        resolve();
      },
    };
    const timer = setTimeout(() => listener.handleEvent(), ms);
    signal?.addEventListener('abort', listener);
  });
}

/** `lines`, calling `finish` once when they end (false when they broke). */
async function* finishing(
  lines: AsyncIterable<string>,
  finish: (ok: boolean) => void,
): AsyncIterable<string> {
  let ok = true;
  try {
    yield* lines;
  } catch (err) {
    ok = false;
    throw err;
  } finally {
    finish(ok);
  }
}

/** The router found no worker that could take the request (none, none owning it, none healthy). */
export function noWorkerAvailable(): ProtocolError {
  return ProtocolError.of('Unavailable', 'No worker available', {
    retryAfterMs: WORKER_RETRY_AFTER_MS,
  });
}

/** A worker that refused the gateway's dispatch signature (mismatched secrets). */
function workerRefused(): ProtocolError {
  return ProtocolError.of('Unavailable', 'The worker refused the dispatch');
}

/** A worker that could not make its dispatch replay check (the shared store is down). */
function replayCheckUnavailable(): ProtocolError {
  return ProtocolError.of('Unavailable', 'The worker could not check the dispatch for replay', {
    retryAfterMs: STORE_RETRY_AFTER_MS,
  });
}

/**
 * A worker lost mid-request: retryable (503 with Retry-After over HTTP), and nothing is re-run
 * behind the client's back.
 */
export function workerFailed(): ProtocolError {
  return ProtocolError.of(
    'Unavailable',
    'The worker failed while serving the request; it may have run',
    { retryAfterMs: WORKER_RETRY_AFTER_MS },
  );
}
