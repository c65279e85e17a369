import { describe, expect, it } from 'vitest';
import { InflightRequest, RequestAbort } from './inflight.js';
import { abortSourceOf, modernOutbound, modernRequestContext } from './request-context.js';

const META = { protocolVersion: '2026-07-28', clientCapabilities: {} };

describe('InflightRequest', () => {
  it('creates no signal until read; a cancel before the read is visible on it', () => {
    const base = new AbortController();
    const r = new InflightRequest(base.signal);
    expect(r.aborted).toBe(false);
    r.cancel('user');
    expect(r.aborted).toBe(true);
    expect(r.signal.aborted).toBe(true);
    expect(r.signal.reason).toBe('user');
  });

  it('follows the transport signal once read, and detaches on dispose', () => {
    const base = new AbortController();
    const r = new InflightRequest(base.signal);
    const signal = r.signal;
    expect(signal.aborted).toBe(false);
    base.abort('closed');
    expect(signal.aborted).toBe(true);
    expect(r.aborted).toBe(true);
    const other = new AbortController();
    const d = new InflightRequest(other.signal);
    const ds = d.signal;
    d.dispose();
    other.abort();
    expect(ds.aborted).toBe(false);
    expect(d.aborted).toBe(true);
  });

  it('an already-aborted transport signal aborts at once', () => {
    const base = new AbortController();
    base.abort('gone');
    expect(new InflightRequest(base.signal).signal.reason).toBe('gone');
  });
});

describe('RequestAbort', () => {
  it('tells its listeners once, and a signal read late is already aborted', () => {
    const abort = new RequestAbort();
    const heard: string[] = [];
    const a = { handleEvent: () => heard.push('a') };
    const b = { handleEvent: () => heard.push('b') };
    abort.addEventListener('abort', a);
    abort.addEventListener('abort', b);
    abort.removeEventListener('abort', b);
    abort.abort(new Error('gone'));
    abort.abort(new Error('again'));
    abort.addEventListener('abort', b);
    expect(heard).toEqual(['a']);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toEqual(new Error('gone'));
  });

  it('a signal read early aborts with it', () => {
    const abort = new RequestAbort();
    const signal = abort.signal;
    expect(signal.aborted).toBe(false);
    abort.abort();
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).name).toBe('AbortError');
  });

  it('a context built over it reads its signal only on demand, and in-flight requests follow it', () => {
    const abort = new RequestAbort();
    const ctx = modernRequestContext(
      META,
      1,
      abort,
      modernOutbound(() => true),
    );
    expect(abortSourceOf(ctx)).toBe(abort);
    const inflight = new InflightRequest(abortSourceOf(ctx));
    const handlerSignal = inflight.signal;
    expect(inflight.aborted).toBe(false);
    abort.abort(new Error('client closed'));
    expect(inflight.aborted).toBe(true);
    expect(handlerSignal.aborted).toBe(true);
    expect(ctx.signal.aborted).toBe(true);
    // A context over a plain AbortSignal is its own source.
    const plain = modernRequestContext(
      META,
      2,
      new AbortController().signal,
      modernOutbound(() => true),
    );
    expect(abortSourceOf(plain)).toBe(plain.signal);
  });
});
