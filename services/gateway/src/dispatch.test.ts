/**
 * The attempt loop and the outcome table, over the in-memory twin of the dispatch wire: no
 * sockets, workers are functions. Also the decorator seam: whatever wraps the port sees every
 * attempt.
 */
import {
  DISPATCH_AUDIENCE_HEADER,
  DISPATCH_NONCE_HEADER,
  MemoryDispatch,
} from '@mcp-cluster/cluster';
import type { DispatchCall, DispatchOutcome, WorkerDispatch } from '@mcp-cluster/cluster';
import { ProtocolError } from '@mcp-cluster/protocol';
import { RouterError, asWorkerId } from '@mcp-cluster/router';
import type { WorkerId, WorkerView } from '@mcp-cluster/router';
import { describe, expect, it } from 'vitest';
import { dispatchWithRetry, retryDelayMs, verdictOf, withRouterFeedback } from './dispatch.js';
import type { DispatchDeps, DispatchPlan } from './dispatch.js';

const SECRET = 'x'.repeat(32);
const RESPONSE = { jsonrpc: '2.0', id: 1, result: {} } as const;

function view(id: string): WorkerView {
  return {
    id: asWorkerId(id),
    url: `http://${id}.invalid`,
    weight: 1,
    owns: {},
    health: 'healthy',
    inFlight: 0,
    maxConcurrency: 0,
    latencyEwma: 0,
  };
}

const message = (): DispatchOutcome => ({ kind: 'message', message: RESPONSE });
const refused =
  (status: number, reason?: 'expired' | 'replay-check-unavailable' | 'audience') =>
  (): DispatchOutcome => ({
    kind: 'refused',
    status,
    failure: { error: { code: -32000, message: `refused ${status}` }, ...(reason && { reason }) },
  });

interface Harness {
  readonly port: MemoryDispatch;
  readonly deps: DispatchDeps;
  readonly dead: WorkerId[];
  readonly errors: string[];
}

function harness(): Harness {
  const port = new MemoryDispatch();
  const dead: WorkerId[] = [];
  const errors: string[] = [];
  return {
    port,
    dead,
    errors,
    deps: {
      port,
      secret: SECRET,
      markDead: (id) => dead.push(id),
      onError: (_err, what) => errors.push(what),
    },
  };
}

/** A plan for `method` that tries the workers in order (one per attempt). */
function plan(
  method: string | undefined,
  workers: readonly string[],
  extra: Partial<DispatchPlan<unknown>> = {},
): DispatchPlan<unknown> {
  return {
    method,
    body: '{"jsonrpc":"2.0","id":1,"method":"x"}',
    headers: { 'x-mcp-cluster-era': 'modern' },
    attempts: 4,
    pick: (attempt) => {
      const id = workers[attempt];
      if (id === undefined) throw new RouterError('NO_WORKER', 'none left');
      return view(id);
    },
    settle: (answer) => (answer.kind === 'message' ? answer.message : 'accepted'),
    ...extra,
  };
}

const nonceOf = (call: DispatchCall | undefined): string | undefined =>
  call?.headers[DISPATCH_NONCE_HEADER];

/** A connection error as node and undici raise them: a code. */
const econn = (code: string): Error => Object.assign(new Error(code), { code });

describe('verdictOf: the closed outcome -> protocol table', () => {
  const cases: [string, DispatchOutcome, string | undefined, boolean, string][] = [
    ['a response', message(), 'tools/call', false, 'answer'],
    ['202 to a request', { kind: 'accepted' }, 'tools/call', false, 'fail -32603'],
    ['202 to a notification', { kind: 'accepted' }, undefined, false, 'answer'],
    ['not sent', { kind: 'not-sent', error: 0 }, 'tools/call', false, 'retry gone'],
    [
      'refused connection',
      { kind: 'not-sent', error: econn('ECONNREFUSED') },
      'x',
      false,
      'retry gone',
    ],
    [
      'connect timeout',
      { kind: 'not-sent', error: econn('UND_ERR_CONNECT_TIMEOUT') },
      'x',
      false,
      'retry',
    ],
    ['no route to host', { kind: 'not-sent', error: econn('EHOSTUNREACH') }, 'x', false, 'retry'],
    ['breaker open', { kind: 'rejected', reason: 'open' }, 'tools/call', false, 'retry'],
    ['reset, unsafe', { kind: 'reset', error: 0 }, 'tools/call', false, 'fail -32016'],
    ['reset, safe', { kind: 'reset', error: 0 }, 'tools/list', false, 'retry'],
    ['draining', refused(503)(), 'tools/call', false, 'retry gone'],
    ['expired signature', refused(401, 'expired')(), 'tools/call', false, 'retry'],
    ['unknown secret', refused(401)(), 'tools/call', false, 'fail -32016'],
    ['replay store down', refused(503, 'replay-check-unavailable')(), 'x', false, 'fail -32016'],
    ['another process there', refused(421, 'audience')(), 'tools/call', false, 'retry gone'],
    ['bad envelope', refused(400)(), 'tools/call', false, 'fail -32000'],
    ['broken', { kind: 'broken', error: 0 }, 'tools/call', false, 'fail -32016'],
    ['broken, safe method', { kind: 'broken', error: 0 }, 'resources/read', false, 'retry'],
    ['broken, client gone', { kind: 'broken', error: 0 }, 'tools/call', true, 'fail -32010'],
  ];
  it.each(cases)('%s', (_name, outcome, method, aborted, expected) => {
    const v = verdictOf(outcome, method, aborted);
    const got =
      v.next === 'fail'
        ? `fail ${v.error.code}`
        : v.next === 'retry'
          ? `retry${v.workerGone ? ' gone' : ''}`
          : 'answer';
    expect(got).toBe(expected);
  });
});

describe('verdictOf: a repeatable call (a tool annotated read-only or idempotent)', () => {
  it('is sent again after a reset or a worker that broke; an unrepeatable one is not', () => {
    for (const kind of ['reset', 'broken'] as const) {
      const outcome: DispatchOutcome = { kind, error: new Error(kind) };
      expect(verdictOf(outcome, 'tools/call', false, true)).toMatchObject({ next: 'retry' });
      const failed = verdictOf(outcome, 'tools/call', false, false);
      expect(failed).toMatchObject({ next: 'fail', error: { code: -32016 } });
      // The client hears that the call may have run: it decides whether to send it again.
      expect(failed.next === 'fail' && failed.error.message).toBe(
        'The worker failed while serving the request; it may have run',
      );
      // A client that went away is never retried for.
      expect(verdictOf(outcome, 'tools/call', true, true).next).toBe('fail');
    }
  });
});

/** A harness whose retries record their waits instead of sleeping; jitter at its top. */
function recordingWaits() {
  const h = harness();
  const waits: number[] = [];
  const deps: DispatchDeps = {
    ...h.deps,
    sleep: (ms) => (waits.push(ms), Promise.resolve()),
    random: () => 0.999,
  };
  return { h, waits, deps };
}

describe('dispatchWithRetry: backoff', () => {
  it('retries at once, then with full jitter up to the exponential bound', async () => {
    const { h, waits, deps } = recordingWaits();
    for (const id of ['a', 'b', 'c', 'd']) h.port.worker(id, refused(503));
    const result = await dispatchWithRetry(deps, plan('tools/call', ['a', 'b', 'c', 'd']));
    expect(result).toMatchObject({ ok: false, error: { message: 'Worker draining' } });
    // After attempt 0: none; after 1: up to 25 ms; after 2: up to 50 ms; none after the last.
    expect(waits).toEqual([24, 49]);
    expect(retryDelayMs(10, () => 0.5)).toBe(250); // capped at 500 ms, halved by the jitter
  });

  it('does not wait past the request deadline: it ends with the last reason instead', async () => {
    const { h, waits, deps } = recordingWaits();
    for (const id of ['a', 'b', 'c']) h.port.worker(id, refused(503));
    const result = await dispatchWithRetry(
      deps,
      plan('tools/call', ['a', 'b', 'c'], { deadlineAt: Date.now() + 10 }),
    );
    expect(result).toMatchObject({
      ok: false,
      error: { code: -32016, message: 'Worker draining' },
    });
    expect(waits).toEqual([]);
    expect(h.port.calls.map((c) => c.worker.id)).toEqual(['a', 'b']);
  });

  it('re-sends a repeatable call whose worker broke mid-call, to the next worker', async () => {
    const h = harness();
    h.port
      .worker('a', () => ({ kind: 'broken', error: new Error('socket gone') }))
      .worker('b', message);
    const result = await dispatchWithRetry(
      h.deps,
      plan('tools/call', ['a', 'b'], { repeatable: true }),
    );
    expect(result).toMatchObject({ ok: true, worker: { id: 'b' } });
    const once = harness();
    once.port
      .worker('a', () => ({ kind: 'broken', error: new Error('socket gone') }))
      .worker('b', message);
    const unrepeatable = await dispatchWithRetry(once.deps, plan('tools/call', ['a', 'b']));
    expect(unrepeatable).toMatchObject({ ok: false, error: { code: -32016 } });
    expect(once.port.calls).toHaveLength(1);
  });
});

describe('dispatchWithRetry: where a retry goes', () => {
  it('asks the next pick to avoid each worker an attempt failed on, unless it was taken out', async () => {
    const h = harness();
    h.port
      .worker('hung', () => ({ kind: 'broken', error: new Error('first-byte timeout') }))
      .worker('held', () => ({ kind: 'rejected', reason: 'breaker open' }))
      .worker('ok', message);
    const asked: (readonly string[])[] = [];
    const order = ['hung', 'held', 'gone', 'ok'];
    const result = await dispatchWithRetry(h.deps, {
      ...plan('tools/list', order),
      pick: (attempt, avoid) => {
        asked.push([...(avoid ?? [])]);
        return view(order[attempt] ?? 'ok');
      },
    });
    expect(result).toMatchObject({ ok: true, worker: { id: 'ok' } });
    // 'gone' (not there: connection refused) is marked dead instead of avoided.
    expect(asked).toEqual([[], ['hung'], ['hung', 'held'], ['hung', 'held']]);
    expect(h.dead).toEqual(['gone']);
  });
});

describe('dispatchWithRetry over the in-memory twin', () => {
  it('moves on from a worker that is not there, signed once', async () => {
    const h = harness();
    h.port.worker('b', message);
    const result = await dispatchWithRetry(h.deps, plan('tools/call', ['a', 'b']));
    expect(result).toMatchObject({ ok: true, value: RESPONSE, worker: { id: 'b' } });
    expect(h.dead).toEqual(['a']);
    expect(h.port.calls.map((c) => c.worker.id)).toEqual(['a', 'b']);
    // The first attempt reached nobody: its nonce is still unused, so it is sent again.
    expect(nonceOf(h.port.calls[1])).toBe(nonceOf(h.port.calls[0]));
  });

  it('addresses each attempt to the picked worker process, signing again for another one', async () => {
    const h = harness();
    const audiences: Record<string, string> = { a: 'boot-a', b: 'boot-b' };
    const deps = { ...h.deps, audienceOf: (id: WorkerId) => audiences[id] };
    // a: not there (nothing sent); b: its address answers for another process; c: no audience.
    h.port.worker('b', refused(421, 'audience')).worker('c', message);
    const result = await dispatchWithRetry(deps, plan('tools/call', ['a', 'b', 'c']));
    expect(result).toMatchObject({ ok: true, worker: { id: 'c' } });
    expect(h.dead).toEqual(['a', 'b']);
    const audienceOf = (call: DispatchCall | undefined) => call?.headers[DISPATCH_AUDIENCE_HEADER];
    expect(h.port.calls.map(audienceOf)).toEqual(['boot-a', 'boot-b', undefined]);
    expect(new Set(h.port.calls.map(nonceOf)).size).toBe(3);
    // The same process again after nothing was sent: the same signed attempt.
    const again = harness();
    const sameDeps = { ...again.deps, audienceOf: () => 'boot-a' };
    const flaky = [() => ({ kind: 'not-sent', error: 0 }) as const, message];
    let n = 0;
    again.port.worker('a', () => flaky[n++]!());
    expect((await dispatchWithRetry(sameDeps, plan('tools/call', ['a', 'a']))).ok).toBe(true);
    expect(nonceOf(again.port.calls[1])).toBe(nonceOf(again.port.calls[0]));
  });

  it('signs afresh after an attempt that reached a worker', async () => {
    const h = harness();
    h.port.worker('a', refused(503)).worker('b', refused(401, 'expired')).worker('c', message);
    const result = await dispatchWithRetry(h.deps, plan('tools/call', ['a', 'b', 'c']));
    expect(result.ok).toBe(true);
    expect(h.dead).toEqual(['a']);
    const nonces = h.port.calls.map(nonceOf);
    expect(new Set(nonces).size).toBe(3);
    expect(h.errors).toEqual(['worker refused dispatch']);
  });

  it('never re-sends a call whose connection reset; a list it does', async () => {
    const h = harness();
    h.port.worker('a', () => ({ kind: 'reset', error: new Error('reset') })).worker('b', message);
    const call = await dispatchWithRetry(h.deps, plan('tools/call', ['a', 'b']));
    expect(call).toMatchObject({ ok: false, error: { code: -32016 } });
    expect(h.port.calls).toHaveLength(1);
    const list = await dispatchWithRetry(h.deps, plan('tools/list', ['a', 'b']));
    expect(list).toMatchObject({ ok: true, worker: { id: 'b' } });
  });

  it('names the last reason when the attempts run out, and the router running dry', async () => {
    const h = harness();
    for (const id of ['a', 'b']) h.port.worker(id, refused(503));
    const result = await dispatchWithRetry(h.deps, plan('tools/call', ['a', 'b', 'a', 'b']));
    expect(result).toMatchObject({ ok: false, error: { message: 'Worker draining' } });
    expect(h.port.calls).toHaveLength(4);
    const dry = await dispatchWithRetry(h.deps, plan('tools/call', []));
    expect(dry).toMatchObject({ ok: false, error: { message: 'No worker available' } });
  });

  it('fails a worker that broke mid-answer, and logs a broken connection', async () => {
    const h = harness();
    h.port.worker('a', message).worker('b', () => {
      throw new Error('socket gone');
    });
    const midway = await dispatchWithRetry(
      h.deps,
      plan('tools/call', ['a'], { settle: () => undefined }),
    );
    expect(midway).toMatchObject({ ok: false, error: { code: -32016 } });
    const broke = await dispatchWithRetry(h.deps, plan('tools/call', ['b']));
    expect(broke).toMatchObject({ ok: false, error: { code: -32016 } });
    expect(h.errors).toEqual(['dispatch to b broke']);
  });

  it('does not send what the client already abandoned', async () => {
    const h = harness();
    h.port.worker('a', message);
    const result = await dispatchWithRetry(
      h.deps,
      plan('tools/call', ['a'], { signal: AbortSignal.abort() }),
    );
    expect(result).toMatchObject({ ok: false, error: ProtocolError.of('RequestCancelled') });
    expect(h.port.calls).toHaveLength(0);
  });
});

describe('decorators of the port', () => {
  it('see every attempt, whatever the outcome', async () => {
    const h = harness();
    h.port.worker('b', refused(503)).worker('c', message);
    const seen: string[] = [];
    const counting: WorkerDispatch = {
      async dispatch(call) {
        const outcome = await h.port.dispatch(call);
        seen.push(`${call.worker.id}:${outcome.kind}`);
        return outcome;
      },
    };
    const result = await dispatchWithRetry(
      { ...h.deps, port: counting },
      plan('tools/call', ['a', 'b', 'c']),
    );
    expect(result.ok).toBe(true);
    expect(seen).toEqual(['a:not-sent', 'b:refused', 'c:message']);
  });

  it('router feedback: a stream counts until its last line; an abandoned call is no failure', async () => {
    const events: string[] = [];
    const router = {
      onStart: (id: WorkerId) => events.push(`start ${id}`),
      onFinish: (id: WorkerId, ok: boolean) => events.push(`finish ${id} ${ok}`),
    };
    async function* lines(): AsyncIterable<string> {
      yield await Promise.resolve('{"jsonrpc":"2.0","method":"notifications/progress"}');
      events.push('line read');
      yield JSON.stringify(RESPONSE);
    }
    const twin = new MemoryDispatch()
      .worker('s', () => ({ kind: 'stream', lines: lines() }))
      .worker('x', () => ({ kind: 'broken', error: new Error('gone') }));
    const port = withRouterFeedback(twin, router);
    const call = (id: string, signal?: AbortSignal): DispatchCall => ({
      worker: view(id),
      body: '{}',
      headers: {},
      signal,
    });
    const streamed = await port.dispatch(call('s'));
    expect(events).toEqual(['start s']);
    if (streamed.kind !== 'stream') throw new Error(`expected a stream, got ${streamed.kind}`);
    for await (const _line of streamed.lines) void _line;
    expect(events).toEqual(['start s', 'line read', 'finish s true']);

    events.length = 0;
    await port.dispatch(call('x'));
    const ac = new AbortController();
    twin.worker('x', () => {
      ac.abort();
      return { kind: 'broken', error: new Error('client gone') };
    });
    await port.dispatch(call('x', ac.signal));
    expect(events).toEqual(['start x', 'finish x false', 'start x', 'finish x true']);
  });
});
