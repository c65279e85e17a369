import { describe, expect, it } from 'vitest';
import { InflightRequest } from './inflight.js';

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
