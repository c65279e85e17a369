/**
 * Worker breakers over the in-memory store and bus: two gateways' breakers for one worker.
 * Opening on the failure ratio, holding back (`rejected`) on every gateway, one trial
 * cluster-wide, closing after a good trial, and local operation when the store rejects.
 */
import { MemoryBreakerStateStore, MemoryDispatch, MemoryEventBus } from '@mcp-cluster/cluster';
import type {
  BreakerStateStore,
  DispatchCall,
  DispatchOutcome,
  WorkerDispatch,
} from '@mcp-cluster/cluster';
import { eventually } from '@mcp-cluster/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerBreakers } from './breakers.js';
import type { BreakerOptions, BreakerTransition } from './breakers.js';
import { withBreakers } from './with-breakers.js';

const W = { id: 'w-1', url: 'http://127.0.0.1:1' };
const OPTIONS: Partial<BreakerOptions> = {
  minRequests: 4,
  resetMs: 150,
  trialLockMs: 2_000,
  pollMs: 60_000,
};
const OK: DispatchOutcome = { kind: 'accepted' };

const call = (signal?: AbortSignal): DispatchCall => ({
  worker: W,
  body: '{}',
  headers: {},
  signal,
});

interface Gateway {
  readonly breakers: WorkerBreakers;
  readonly port: WorkerDispatch;
  readonly held: Map<string, boolean>;
  readonly transitions: BreakerTransition[];
}

const started: WorkerBreakers[] = [];
afterEach(async () => {
  for (const b of started.splice(0)) await b.close();
});

/** A worker whose answer the test switches: failing ('broken') or answering. */
function worker(): { dispatch: MemoryDispatch; fail: (on: boolean) => void } {
  let failing = false;
  const dispatch = new MemoryDispatch().worker(W.id, () =>
    failing ? { kind: 'broken', error: new Error('boom') } : OK,
  );
  return { dispatch, fail: (on) => (failing = on) };
}

async function gateway(
  id: string,
  inner: WorkerDispatch,
  shared: { store?: BreakerStateStore; bus?: MemoryEventBus },
): Promise<Gateway> {
  const held = new Map<string, boolean>();
  const transitions: BreakerTransition[] = [];
  const breakers = new WorkerBreakers(
    {
      gatewayId: id,
      store: shared.store,
      bus: shared.bus,
      hold: (w, h) => held.set(w, h),
      workers: () => [W.id],
      onTransition: (t) => transitions.push(t),
    },
    OPTIONS,
  );
  await breakers.start();
  started.push(breakers);
  return { breakers, port: withBreakers(inner, breakers), held, transitions };
}

async function fireMany(g: Gateway, n: number): Promise<DispatchOutcome[]> {
  const out: DispatchOutcome[] = [];
  for (let i = 0; i < n; i++) out.push(await g.port.dispatch(call()));
  return out;
}

describe('worker breakers', () => {
  it('open on the failure ratio, hold the worker on every gateway, and reject without sending', async () => {
    const store = new MemoryBreakerStateStore();
    const bus = new MemoryEventBus();
    const w = worker();
    const a = await gateway('g-a', w.dispatch, { store, bus });
    const b = await gateway('g-b', w.dispatch, { store, bus });
    w.fail(true);
    const outcomes = await fireMany(a, 4);
    expect(outcomes.map((o) => o.kind)).toEqual(['broken', 'broken', 'broken', 'broken']);
    expect(a.breakers.state(W.id)).toBe('open');
    expect(a.held.get(W.id)).toBe(true);
    await eventually('b holds the worker', () => (b.held.get(W.id) === true ? true : undefined));
    expect(b.breakers.state(W.id)).toBe('open');
    expect(b.transitions[0]).toMatchObject({ to: 'open', origin: 'remote', by: 'g-a' });

    const sent = w.dispatch.calls.length;
    const rejected = await b.port.dispatch(call());
    expect(rejected.kind).toBe('rejected');
    expect((await a.port.dispatch(call())).kind).toBe('rejected');
    expect(w.dispatch.calls.length).toBe(sent);
    const [record] = await store.get([W.id]);
    expect(record).toMatchObject({ state: 'open', updatedBy: 'g-a' });
  });

  it('lets one trial through cluster-wide, then closes on every gateway', async () => {
    const store = new MemoryBreakerStateStore();
    const bus = new MemoryEventBus();
    const w = worker();
    const a = await gateway('g-a', w.dispatch, { store, bus });
    const b = await gateway('g-b', w.dispatch, { store, bus });
    w.fail(true);
    await fireMany(a, 4);
    await eventually('b open', () => (b.breakers.state(W.id) === 'open' ? true : undefined));
    w.fail(false);
    // After the reset time exactly one gateway gets the trial lock and goes half-open.
    const holder = await eventually('a trial holder', () =>
      [a, b].find((g) => g.transitions.some((t) => t.to === 'half-open' && t.origin === 'local')),
    );
    const other = holder === a ? b : a;
    expect(holder.held.get(W.id)).toBe(false);
    expect(other.held.get(W.id)).toBe(true);
    const sent = w.dispatch.calls.length;
    // The other gateway keeps rejecting; the holder sends one trial; both close after it.
    expect((await other.port.dispatch(call())).kind).toBe('rejected');
    const [trial, extra] = await Promise.all([
      holder.port.dispatch(call()),
      holder.port.dispatch(call()),
    ]);
    expect(trial.kind).toBe('accepted');
    expect(extra?.kind).toBe('rejected');
    expect(w.dispatch.calls.length).toBe(sent + 1);
    expect(holder.breakers.state(W.id)).toBe('closed');
    await eventually('the other closes', () =>
      other.breakers.state(W.id) === 'closed' ? true : undefined,
    );
    expect(other.held.get(W.id)).toBe(false);
    expect((await other.port.dispatch(call())).kind).toBe('accepted');
    expect(holder.transitions.filter((t) => t.to === 'half-open')).toHaveLength(1);
    expect(other.transitions.some((t) => t.to === 'half-open' && t.origin === 'local')).toBe(false);
  });

  it('a gateway that starts (or missed the event) reads the shared record', async () => {
    const store = new MemoryBreakerStateStore();
    const w = worker();
    const a = await gateway('g-a', w.dispatch, { store });
    w.fail(true);
    await fireMany(a, 4);
    await eventually('stored', async () =>
      (await store.get([W.id])).length > 0 ? true : undefined,
    );
    const late = await gateway('g-late', w.dispatch, { store });
    expect(late.breakers.state(W.id)).toBe('open');
    expect(late.held.get(W.id)).toBe(true);
    expect((await late.port.dispatch(call())).kind).toBe('rejected');
  });

  it('opens again after a failed trial, with a new open time', async () => {
    const store = new MemoryBreakerStateStore();
    const w = worker();
    const a = await gateway('g-a', w.dispatch, { store });
    w.fail(true);
    await fireMany(a, 4);
    const first = (await store.get([W.id]))[0];
    await eventually('half-open', () =>
      a.breakers.state(W.id) === 'half-open' ? true : undefined,
    );
    expect((await a.port.dispatch(call())).kind).toBe('broken');
    expect(a.breakers.state(W.id)).toBe('open');
    const again = await eventually('stored open again', async () => {
      const [r] = await store.get([W.id]);
      return r?.state === 'open' && r.generation > (first?.generation ?? 0) ? r : undefined;
    });
    expect(again.until).toBeGreaterThan(first?.until ?? 0);
  });

  it('does not count a dispatch the client abandoned against the worker', async () => {
    const w = new MemoryDispatch().worker(W.id, () => ({
      kind: 'broken',
      error: new Error('cut'),
    }));
    const a = await gateway('g-a', w, {});
    const gone = new AbortController();
    const run = withBreakers(
      { dispatch: (c) => (gone.abort(), w.dispatch({ ...c, signal: undefined })) },
      a.breakers,
    );
    for (let i = 0; i < 6; i++) expect((await run.dispatch(call(gone.signal))).kind).toBe('broken');
    expect(a.breakers.state(W.id)).toBe('closed');
  });

  it('keeps working locally when the store rejects: opens, tries, closes', async () => {
    const down = new Error('redis down');
    const store: BreakerStateStore = {
      get: () => Promise.reject(down),
      compareAndSet: () => Promise.reject(down),
      tryTrial: () => Promise.reject(down),
      renewTrial: () => Promise.reject(down),
    };
    const errors: string[] = [];
    const w = worker();
    const held = new Map<string, boolean>();
    const breakers = new WorkerBreakers(
      {
        gatewayId: 'g-a',
        store,
        hold: (id, h) => held.set(id, h),
        workers: () => [W.id],
        onError: (_err, what) => errors.push(what),
      },
      OPTIONS,
    );
    await breakers.start();
    started.push(breakers);
    const port = withBreakers(w.dispatch, breakers);
    w.fail(true);
    for (let i = 0; i < 4; i++) await port.dispatch(call());
    expect(breakers.state(W.id)).toBe('open');
    expect((await port.dispatch(call())).kind).toBe('rejected');
    w.fail(false);
    await eventually('local trial', () =>
      breakers.state(W.id) === 'half-open' ? true : undefined,
    );
    expect((await port.dispatch(call())).kind).toBe('accepted');
    expect(breakers.state(W.id)).toBe('closed');
    expect(held.get(W.id)).toBe(false);
    // Said once per outage, not per call.
    expect(errors.length).toBe(1);
  });
});
