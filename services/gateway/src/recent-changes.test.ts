import { describe, expect, it } from 'vitest';
import { CHANGE_SKEW_MS, RecentChanges, missedBy } from './recent-changes.js';

const updated = (uri: string) => ({ type: 'resources/updated', uri }) as const;
const tools = { type: 'tools/list_changed' } as const;

describe('RecentChanges', () => {
  it('names the events heard after `since` (less the skew margin) and before `until`', () => {
    const now = Date.now();
    const recent = new RecentChanges();
    recent.heard(updated('a'), now - 10_000);
    recent.heard(updated('b'), now - 5_000 - CHANGE_SKEW_MS / 2);
    recent.heard(tools, now - 1_000);
    recent.heard(updated('c'), now);
    expect(recent.between(now - 5_000, now)).toEqual([updated('b'), tools]);
    expect(recent.between(undefined, now + 1)).toEqual([
      updated('a'),
      updated('b'),
      tools,
      updated('c'),
    ]);
  });

  it('keeps a bounded number of events, for a bounded time', () => {
    const now = Date.now();
    const recent = new RecentChanges(1_000, 2);
    recent.heard(updated('old'), now - 2_000);
    recent.heard(updated('a'), now);
    recent.heard(updated('b'), now);
    recent.heard(updated('c'), now);
    expect(recent.between(undefined, now + 1)).toEqual([updated('b'), updated('c')]);
  });
});

describe('missedBy', () => {
  it('keeps list_changed and the updates of subscribed uris, reading subscriptions once', async () => {
    let reads = 0;
    const missed = await missedBy([updated('a'), tools, updated('b')], () => {
      reads++;
      return Promise.resolve(new Set(['b']));
    });
    expect(missed.map((m) => ('method' in m ? [m.method, m.params?.['uri']] : []))).toEqual([
      ['notifications/tools/list_changed', undefined],
      ['notifications/resources/updated', 'b'],
    ]);
    expect(reads).toBe(1);
  });

  it('reads no subscriptions when no update is among the events', async () => {
    const missed = await missedBy([tools], () => Promise.reject(new Error('not read')));
    expect(missed).toHaveLength(1);
  });
});
