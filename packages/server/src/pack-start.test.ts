/**
 * A pack's `start` hook: called once when an engine serving the pack is created, its host
 * publishes into the engine's change feed (uris made canonical, as `ctx.emitChange` does),
 * and what it returned runs when the engine closes.
 */
import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from './context.js';
import type { ComponentPack, Leadership, PackHost, PackStop } from './components.js';
import { createEngine } from './engine.js';

describe('pack start hook', () => {
  it('starts once per engine, publishes outside requests and stops on close', async () => {
    const hosts: PackHost[] = [];
    let stopped = 0;
    const pack: ComponentPack = {
      name: 'background',
      components: [],
      start: (host) => {
        hosts.push(host);
        return async () => {
          await Promise.resolve();
          stopped += 1;
        };
      },
    };
    const engine = createEngine({ serverInfo: { name: 's', version: '1' }, packs: [pack] });
    expect(hosts).toHaveLength(1);
    const seen: ChangeEvent[] = [];
    engine.changes.subscribe((e) => seen.push(e));
    hosts[0]?.emitChange({ type: 'resources/updated', uri: 'docs:///a/%7e/../b%2e%74xt' });
    hosts[0]?.emitChange({ type: 'resources/list_changed' });
    expect(seen).toEqual([
      { type: 'resources/updated', uri: 'docs:///a/b.txt' },
      { type: 'resources/list_changed' },
    ]);
    expect(stopped).toBe(0);
    await engine.close();
    expect(stopped).toBe(1);
    await engine.close();
    expect(stopped).toBe(1);
  });

  it('leads alone by default and through the given leadership otherwise', async () => {
    const events: string[] = [];
    const pack: ComponentPack = {
      name: 'leading',
      components: [],
      start: (host) =>
        host.lead('dir-a', () => {
          events.push('lead');
          return () => {
            events.push('step down');
          };
        }),
    };
    const alone = createEngine({ serverInfo: { name: 's', version: '1' }, packs: [pack] });
    expect(events).toEqual(['lead']);
    await alone.close();
    expect(events).toEqual(['lead', 'step down']);

    // A cluster's election decides when (and whether) this process leads.
    const asked: string[] = [];
    const pending: (() => void)[] = [];
    const leadership: Leadership = {
      lead: (name, onLead) => {
        asked.push(name);
        let stop: PackStop | void;
        pending.push(() => void Promise.resolve(onLead()).then((s) => (stop = s)));
        return async () => {
          if (typeof stop === 'function') await stop();
        };
      },
    };
    events.length = 0;
    const worker = createEngine({
      serverInfo: { name: 's', version: '1' },
      packs: [pack],
      leadership,
    });
    expect(asked).toEqual(['dir-a']);
    expect(events).toEqual([]);
    pending[0]?.();
    await Promise.resolve();
    await Promise.resolve();
    expect(events).toEqual(['lead']);
    await worker.close();
    expect(events).toEqual(['lead', 'step down']);
  });

  it('lets a pack without start be served as before', async () => {
    await using engine = createEngine({
      serverInfo: { name: 's', version: '1' },
      packs: [{ name: 'plain', components: [] }],
    });
    expect(engine.registry).toBeDefined();
  });
});
