import { verifies } from '../../testkit/src/requirements.js';
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
