import { describe, expect, it } from 'vitest';
import {
  BUS_EVENT_TYPES,
  busEventSchemas,
  resolvePrefix,
  subjectFor,
  subjectOf,
  subjectToken,
} from './subjects.js';

describe('subjects', () => {
  it('names every event type under the prefix, session events per session', () => {
    expect(BUS_EVENT_TYPES.map((t) => subjectFor('mcp', t, 's1'))).toEqual([
      'mcp.worker.up',
      'mcp.worker.down',
      'mcp.registry.changed',
      'mcp.tools.list_changed',
      'mcp.prompts.list_changed',
      'mcp.resources.list_changed',
      'mcp.resources.updated',
      'mcp.session.deliver.s1',
      'mcp.session.cancel.s1',
      'mcp.session.ended.s1',
      'mcp.session.changed.s1',
      'mcp.credential.revoked',
      'mcp.breaker.changed',
    ]);
    expect(subjectFor('t.x', 'session.deliver')).toBe('t.x.session.deliver.*');
    expect(subjectOf('mcp', { type: 'session.cancel', sessionId: 'a.b', requestId: 1 })).toBe(
      `mcp.session.cancel.~${Buffer.from('a.b').toString('base64url')}`,
    );
  });

  it('keeps session ids that are safe tokens and encodes the rest into one token', () => {
    expect(subjectToken('3f2a-B_9')).toBe('3f2a-B_9');
    for (const id of ['a.b', '*', '>', 'a b', '~x', 'é']) {
      expect(subjectToken(id)).toMatch(/^~[A-Za-z0-9_-]*$/);
    }
    expect(subjectToken('a.b')).not.toBe(subjectToken('a b'));
  });

  it('rejects prefixes that are not plain tokens', () => {
    expect(resolvePrefix(undefined)).toBe('mcp');
    expect(resolvePrefix('test.abc_1')).toBe('test.abc_1');
    for (const p of ['', 'a.', '.a', 'a.*', 'a.>', 'a b']) expect(() => resolvePrefix(p)).toThrow();
  });

  it('payload schemas check the type tag and required fields', () => {
    const deliver = busEventSchemas['session.deliver'];
    expect(
      deliver.safeParse({
        type: 'session.deliver',
        sessionId: 's',
        message: { jsonrpc: '2.0', id: 1, result: {} },
      }).success,
    ).toBe(true);
    expect(
      deliver.safeParse({ type: 'session.deliver', sessionId: 's', message: {} }).success,
    ).toBe(false);
    expect(
      busEventSchemas['resources.updated'].safeParse({ type: 'worker.up', uri: 'x' }).success,
    ).toBe(false);
    expect(
      busEventSchemas['session.cancel'].safeParse({
        type: 'session.cancel',
        sessionId: 's',
        requestId: 1.5,
      }).success,
    ).toBe(false);
    const revoked = busEventSchemas['credential.revoked'];
    expect(revoked.safeParse({ type: 'credential.revoked', ids: ['token:abc'] }).success).toBe(
      true,
    );
    for (const ids of [[], [''], Array.from({ length: 17 }, (_, i) => `apikey:${i}`)]) {
      expect(revoked.safeParse({ type: 'credential.revoked', ids }).success).toBe(false);
    }
    const breaker = busEventSchemas['breaker.changed'];
    const opened = {
      type: 'breaker.changed',
      workerId: 'w-1',
      state: 'open',
      generation: 1_796_000_000_000,
      openedAt: 1_796_000_000_000,
      until: 1_796_000_005_000,
      updatedBy: 'g-1',
      updatedAt: 1_796_000_000_000,
      at: 1_796_000_000_000,
    };
    expect(breaker.safeParse(opened).success).toBe(true);
    expect(breaker.safeParse({ ...opened, provisional: true }).success).toBe(true);
    expect(breaker.safeParse({ ...opened, state: 'ajar' }).success).toBe(false);
    expect(breaker.safeParse({ ...opened, generation: -1 }).success).toBe(false);
    expect(breaker.safeParse({ ...opened, updatedBy: '' }).success).toBe(false);
  });
});
