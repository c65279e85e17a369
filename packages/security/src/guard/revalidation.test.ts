import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CredentialEnd } from '@mcp-cluster/transports';
import type { CredentialInfo } from '../authn/types.js';
import type { AuditEvent } from './audit.js';
import { Revalidator } from './revalidation.js';

const PERIOD = 1_000;

/** A revocable credential whose store answer the test controls, counting the questions. */
function revocable(key: string, extra: Partial<CredentialInfo> = {}) {
  const state = { revoked: false, failure: undefined as Error | undefined, asked: 0 };
  const info: CredentialInfo = {
    key,
    revocationIds: [key, `grant:${key}`],
    isRevoked: () => {
      state.asked++;
      return state.failure === undefined
        ? Promise.resolve(state.revoked)
        : Promise.reject(state.failure);
    },
    ...extra,
  };
  return { info, state };
}

function ends(): { list: CredentialEnd[]; onEnd: (why: CredentialEnd) => void } {
  const list: CredentialEnd[] = [];
  return { list, onEnd: (why) => void list.push(why) };
}

describe('Revalidator', () => {
  let audit: AuditEvent[];
  let errors: string[];
  let r: Revalidator;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    audit = [];
    errors = [];
    r = new Revalidator({
      intervalMs: PERIOD,
      audit: (e) => void audit.push(e),
      onError: (_err, what) => void errors.push(what),
    });
  });
  afterEach(() => {
    r.close();
    vi.useRealTimers();
  });

  it('a credential that can neither expire nor be revoked is always valid', async () => {
    const c = r.track({ key: 'static' }, 'p');
    expect(c.current()).toBe('valid');
    expect(await c.check()).toBe('valid');
    const e = ends();
    const stop = c.watch(e.onEnd);
    await vi.advanceTimersByTimeAsync(10 * PERIOD);
    expect(e.list).toEqual([]);
    stop();
    expect(r.size).toBe(0);
  });

  it('ends watched connections at the expiry, once, and says so in the audit', async () => {
    const c = r.track({ key: 'jwt:a', expiresAt: Date.now() + 2_500 }, 'alice');
    const [a, b] = [ends(), ends()];
    c.watch(a.onEnd);
    c.watch(b.onEnd);
    await vi.advanceTimersByTimeAsync(2_499);
    expect(a.list).toEqual([]);
    expect(c.current()).toBe('valid');
    await vi.advanceTimersByTimeAsync(1);
    expect(a.list).toEqual(['expired']);
    expect(b.list).toEqual(['expired']);
    expect(c.current()).toBe('expired');
    expect(await c.check()).toBe('expired');
    expect(audit).toEqual([
      { event: 'credential_ended', principal: 'alice', reason: 'credential expired' },
    ]);
    // A connection opened with it afterwards is told at once (asynchronously).
    const late = ends();
    c.watch(late.onEnd);
    expect(late.list).toEqual([]);
    await Promise.resolve();
    expect(late.list).toEqual(['expired']);
  });

  it('expiries beyond the longest timer re-arm instead of firing early', async () => {
    const far = Date.now() + 2 ** 31 + 5_000;
    const c = r.track({ key: 'far', expiresAt: far }, 'p');
    const e = ends();
    c.watch(e.onEnd);
    await vi.advanceTimersByTimeAsync(2 ** 31);
    expect(e.list).toEqual([]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(e.list).toEqual(['expired']);
  });

  it('re-checks a revocable credential every period, once however many connections share it', async () => {
    const { info, state } = revocable('token:t1');
    const e = [ends(), ends(), ends()];
    // Three admissions of the same token (three requests), three connections.
    for (const x of e) r.track({ ...info }, 'bob').watch(x.onEnd);
    expect(r.size).toBe(1);
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(state.asked).toBe(1);
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(state.asked).toBe(2);
    state.revoked = true;
    await vi.advanceTimersByTimeAsync(PERIOD);
    for (const x of e) expect(x.list).toEqual(['revoked']);
    // Ended is final: no more questions about it.
    await vi.advanceTimersByTimeAsync(5 * PERIOD);
    expect(state.asked).toBe(3);
  });

  it('a revocation event re-checks at once; it cannot end a credential the store says is valid', async () => {
    const { info, state } = revocable('token:t2');
    const other = revocable('token:other');
    const c = r.track(info, 'bob');
    const e = ends();
    const o = ends();
    c.watch(e.onEnd);
    r.track(other.info, 'carol').watch(o.onEnd);
    r.revoked(['grant:token:t2']);
    await vi.advanceTimersByTimeAsync(0);
    expect(state.asked).toBe(1);
    expect(e.list).toEqual([]);
    state.revoked = true;
    r.revoked(['token:t2', 'unknown']);
    // Between the event and the answer, messages wait for the store instead of the old verdict.
    expect(c.current()).toBeUndefined();
    const verdict = c.check();
    await vi.advanceTimersByTimeAsync(0);
    expect(await verdict).toBe('revoked');
    expect(e.list).toEqual(['revoked']);
    expect(o.list).toEqual([]);
    expect(other.state.asked).toBe(0);
  });

  it('messages use a verdict younger than the period, then share one re-check', async () => {
    const { info, state } = revocable('apikey:k');
    const c = r.track(info, 'p');
    // Unwatched: every check asks (nothing is cached for credentials no connection holds).
    expect(c.current()).toBeUndefined();
    expect(await c.check()).toBe('valid');
    expect(await c.check()).toBe('valid');
    expect(state.asked).toBe(2);
    // Watched: admission's verdict serves for one period.
    c.watch(() => undefined);
    expect(c.current()).toBe('valid');
    vi.setSystemTime(Date.now() + PERIOD);
    expect(c.current()).toBeUndefined();
    const [x, y] = [c.check(), c.check()];
    expect(await x).toBe('valid');
    expect(await y).toBe('valid');
    expect(state.asked).toBe(3);
    expect(c.current()).toBe('valid');
  });

  it('a store that cannot answer leaves connections open, reports once per period, and rejects checks', async () => {
    const { info, state } = revocable('token:t3');
    const second = revocable('token:t4');
    state.failure = new Error('redis down');
    second.state.failure = new Error('redis down');
    const e = ends();
    const c = r.track(info, 'bob');
    c.watch(e.onEnd);
    r.track(second.info, 'bob').watch(() => undefined);
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(e.list).toEqual([]);
    expect(errors).toEqual([
      'credential re-check failed for 2 credential(s); connections stay open',
    ]);
    expect(c.current()).toBeUndefined();
    await expect(c.check()).rejects.toThrow('redis down');
    state.failure = undefined;
    expect(await c.check()).toBe('valid');
  });

  it('the last connection to close stops its timers and re-checks', async () => {
    const { info, state } = revocable('token:t5', { expiresAt: Date.now() + 3_000 });
    const e = ends();
    const stopA = r.track(info, 'bob').watch(e.onEnd);
    const stopB = r.track(info, 'bob').watch(e.onEnd);
    stopA();
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(state.asked).toBe(1);
    stopB();
    stopB();
    expect(r.size).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * PERIOD);
    expect(state.asked).toBe(1);
    expect(e.list).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('tells the provider to forget a credential found revoked', async () => {
    const forget = vi.fn();
    const { info, state } = revocable('apikey:k2', { forget });
    r.track(info, 'p').watch(() => undefined);
    state.revoked = true;
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(forget).toHaveBeenCalledTimes(1);
  });

  it('refuses a period outside 100..60000 ms', () => {
    for (const intervalMs of [99, 60_001, 1.5, Number.NaN]) {
      expect(() => new Revalidator({ intervalMs })).toThrow(RangeError);
    }
  });

  it('after close, watching does nothing and no timer runs', async () => {
    const { info, state } = revocable('token:t6');
    r.close();
    const e = ends();
    r.track(info, 'p').watch(e.onEnd);
    await vi.advanceTimersByTimeAsync(5 * PERIOD);
    expect(state.asked).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
