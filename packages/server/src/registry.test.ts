import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@mcp-cluster/protocol';
import type { ChangeEvent } from './context.js';
import { decodeCursor, encodeCursor, paginate } from './cursor.js';
import { createEngine } from './engine.js';
import { MemoryRegistry } from './registry.js';
import {
  LegacyClient,
  errorOf,
  modern,
  resource,
  resultOf,
  template,
  tool,
} from './test-harness.js';

describe('cursors', () => {
  it('round-trip offsets and reject anything else with -32602', () => {
    expect(decodeCursor(encodeCursor(42))).toBe(42);
    expect(decodeCursor(undefined)).toBe(0);
    for (const bad of [
      5,
      '',
      'x',
      encodeCursor(1).slice(1),
      Buffer.from('v2:1').toString('base64url'),
      'a'.repeat(100),
    ]) {
      expect(() => decodeCursor(bad)).toThrow(ProtocolError);
    }
  });

  it('pages and stops at the end; an offset past the end is invalid', () => {
    const items = [1, 2, 3, 4, 5];
    const p1 = paginate(items, undefined, 2);
    expect(p1.page).toEqual([1, 2]);
    const p3 = paginate(items, encodeCursor(4), 2);
    expect(p3).toEqual({ page: [5] });
    expect(paginate(items, undefined, 10)).toEqual({ page: items });
    expect(() => paginate(items, encodeCursor(6), 2)).toThrow(ProtocolError);
  });
});

describe('MemoryRegistry', () => {
  it('keys resources by uri and templates by uriTemplate; emits only after load', () => {
    const events: ChangeEvent[] = [];
    const t = template('x://{id}', /^x:\/\/(?<id>.+)$/, () => '');
    const r = new MemoryRegistry(
      [{ name: 'p', components: [resource('x://a', 'a'), t] }],
      false,
      (e) => events.push(e),
    );
    expect(events).toEqual([]);
    expect(r.resource('x://a')).toBeDefined();
    expect(r.templateFor('x://{id}')).toBe(t);
    r.add(resource('x://b', 'b'));
    expect(r.resourceDescriptors.map((d) => d.uri)).toEqual(['x://a', 'x://b']);
    expect(r.remove('resourceTemplate', 'x://{id}')).toBe(true);
    expect(r.templates).toEqual([]);
    expect(events).toEqual([
      { type: 'resources/list_changed' },
      { type: 'resources/list_changed' },
    ]);
    expect(() => r.add(resource('x://a', 'again'))).toThrow(/Duplicate resource/);
  });

  it('rejects duplicate extension methods across packs', () => {
    const m = { method: 'x/y', run: () => ({}) };
    expect(
      () =>
        new MemoryRegistry(
          [
            { name: 'a', components: [], methods: [m] },
            { name: 'b', components: [], methods: [m] },
          ],
          false,
          () => undefined,
        ),
    ).toThrow(/Duplicate method "x\/y"/);
  });
});

describe('resources/list with enumerating templates', () => {
  it('adds the template listing after static resources, paginated', async () => {
    const engine = createEngine({
      serverInfo: { name: 's', version: '1' },
      pageSize: 2,
      packs: [
        {
          name: 'p',
          components: [
            resource('x://static', 's'),
            template('x://n/{id}', /^x:\/\/n\/(?<id>.+)$/, () => 'n', {
              list: () => [
                { uri: 'x://n/1', name: 'one' },
                { uri: 'x://n/2', name: 'two' },
              ],
            }),
            tool('t', () => 't'),
          ],
        },
      ],
    });
    const c = await LegacyClient.connect(engine);
    const p1 = resultOf(await c.request('resources/list'));
    expect((p1['resources'] as { uri: string }[]).map((r) => r.uri)).toEqual([
      'x://static',
      'x://n/1',
    ]);
    const p2 = resultOf(await c.request('resources/list', { cursor: p1['nextCursor'] as string }));
    expect(p2).toEqual({ resources: [{ uri: 'x://n/2', name: 'two' }] });
    expect(errorOf(await c.request('resources/list', { cursor: 'bogus' })).code).toBe(-32602);
    const m = resultOf((await modern(engine, 'resources/list')).response);
    expect(m['nextCursor']).toBeDefined();
    await engine.close();
  });
});
