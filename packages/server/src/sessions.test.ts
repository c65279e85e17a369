import { verifies } from '@mcp-cluster/test-support';
import { describe, expect, it } from 'vitest';
import { MemorySessionManager } from './sessions.js';

describe('MemorySessionManager', () => {
  it(verifies('R-SESSION-ID-ASCII', 'mints unique visible-ASCII ids'), () => {
    const m = new MemorySessionManager();
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) ids.add(m.create().id);
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[\x21-\x7e]{16,}$/);
    m.close();
  });

  it('expires idle sessions, but not ones with a stream attached', () => {
    const m = new MemorySessionManager({ idleMs: 1_000 });
    const idle = m.create();
    const busy = m.create();
    busy.attach(() => undefined);
    const later = Date.now() + 5_000;
    expect(m.sweep(later)).toBe(1);
    expect(m.get(idle.id)).toBeUndefined();
    expect(idle.ended).toBe(true);
    expect(m.get(busy.id)).toBe(busy);
    m.close();
    expect(m.size).toBe(0);
  });

  it('get() treats an expired session as gone even before the sweep runs', () => {
    let now = Date.now();
    const m = new MemorySessionManager({ idleMs: 1_000, now: () => now });
    const s = m.create();
    now += 10_000;
    expect(m.get(s.id)).toBeUndefined();
    m.close();
  });

  it('server->client requests: ids s-<n>, settled by deliverResponse, rejected on end', async () => {
    const m = new MemorySessionManager();
    const s = m.create();
    const sent: unknown[] = [];
    const out = s.outbound((msg) => {
      sent.push(msg);
    });
    const signal = new AbortController().signal;
    const first = out.request('roots/list', {}, signal);
    expect(sent[0]).toEqual({ jsonrpc: '2.0', id: 's-1', method: 'roots/list', params: {} });
    expect(s.deliverResponse({ jsonrpc: '2.0', id: 's-1', result: { roots: [] } })).toBe(true);
    await expect(first).resolves.toEqual({ roots: [] });
    expect(s.deliverResponse({ jsonrpc: '2.0', id: 's-1', result: {} })).toBe(false);
    const failing = out.request('sampling/createMessage', {}, signal);
    s.deliverResponse({ jsonrpc: '2.0', id: 's-2', error: { code: -1, message: 'no' } });
    await expect(failing).rejects.toMatchObject({ code: -1, message: 'no' });
    const aborted = new AbortController();
    const third = out.request('roots/list', {}, aborted.signal);
    aborted.abort();
    await expect(third).rejects.toMatchObject({ code: -32010 });
    expect(sent.at(-1)).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 's-3' },
    });
    const fourth = out.request('roots/list', {}, signal);
    m.delete(s.id);
    await expect(fourth).rejects.toMatchObject({ code: -32001 });
    m.close();
  });
});

describe('MemorySessionManager.open: session limits', () => {
  it('refuses beyond the per-principal cap (-32012, names the setting), others unaffected', async () => {
    const m = new MemorySessionManager({ limits: { maxPerPrincipal: 2, maxTotal: 100 } });
    await m.open('alice');
    await m.open('alice');
    await expect(m.open('alice')).rejects.toMatchObject({
      code: -32012,
      message: expect.stringMatching(/maxSessionsPerPrincipal/) as unknown,
      data: { limit: 'maxSessionsPerPrincipal', max: 2 },
    });
    expect(m.size).toBe(2);
    expect(m.countOf('alice')).toBe(2);
    await m.open('bob');
    // Anonymous callers (no owner) are one principal.
    await m.open();
    await m.open(undefined);
    await expect(m.open()).rejects.toMatchObject({ code: -32012 });
    expect(m.countOf()).toBe(2);
    m.close();
  });

  it('refuses beyond the node-wide cap (-32016) with a retry hint', async () => {
    const m = new MemorySessionManager({
      idleMs: 60_000,
      limits: { maxPerPrincipal: 100, maxTotal: 3 },
    });
    for (const owner of ['a', 'b', 'c']) await m.open(owner);
    const refusal = m.open('d');
    await expect(refusal).rejects.toMatchObject({
      code: -32016,
      data: { limit: 'maxSessions', max: 3 },
    });
    const err = (await refusal.catch((e: unknown) => e)) as { data: { retryAfterMs: number } };
    expect(err.data.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(err.data.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(m.size).toBe(3);
    m.close();
  });

  it('a deleted or expired session frees its slot; a busy one does not expire', async () => {
    let now = Date.now();
    const m = new MemorySessionManager({
      idleMs: 1_000,
      now: () => now,
      limits: { maxPerPrincipal: 2, maxTotal: 3 },
    });
    const first = await m.open('alice');
    const busy = await m.open('alice');
    busy.attach(() => true);
    await expect(m.open('alice')).rejects.toMatchObject({ code: -32012 });
    m.delete(first.id);
    const again = await m.open('alice');
    now += 10_000;
    // `again` expired (idle), `busy` holds a stream: one slot is free without a sweep.
    await m.open('alice');
    await expect(m.open('alice')).rejects.toMatchObject({ code: -32012 });
    expect(m.get(again.id)).toBeUndefined();
    // The node-wide count lets expired sessions go too (at most one sweep a second).
    await m.open('bob');
    now += 10_000;
    await m.open('carol');
    await m.open('dave');
    expect(m.size).toBe(3);
    m.close();
  });

  it('adopt() moves a session to the owner its record names', () => {
    const m = new MemorySessionManager({ limits: { maxPerPrincipal: 1, maxTotal: 10 } });
    const s = m.create('alice');
    m.adopt(
      s.id,
      {
        protocolVersion: '2025-06-18',
        clientCapabilities: {},
        initialized: true,
        subscriptions: new Set(),
      },
      true,
      'bob',
    );
    expect(m.countOf('alice')).toBe(0);
    expect(m.countOf('bob')).toBe(1);
    m.delete(s.id);
    expect(m.countOf('bob')).toBe(0);
    m.close();
  });
});
