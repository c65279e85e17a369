/**
 * Router.markDown: a worker found hung between probes leaves routing at once, as failed
 * probes would take it out; a probe sent after that brings it back, a probe answered before
 * it does not.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock, spec, wid } from './fakes.testkit.js';
import { Router } from './router.js';
import type { WorkerView } from './types.js';

describe('Router.markDown', () => {
  it('takes a worker out at once; the first good probe after it brings it back', async () => {
    const clock = new FakeClock();
    const changes: string[] = [];
    const r = new Router({
      clock,
      health: { probeIntervalMs: 500, unhealthyThreshold: 2 },
      probe: () => Promise.resolve(true),
      onHealthChange: (w: WorkerView) => changes.push(`${w.id} ${w.health}`),
    });
    r.pool.upsert(spec('a'));
    r.pool.upsert(spec('b'));
    expect(r.markDown(wid('a'))).toBe(true);
    expect(r.markDown(wid('a'))).toBe(false); // down already: no second change
    expect(r.markDown(wid('gone'))).toBe(false);
    expect(changes).toEqual(['a down']);
    for (let i = 0; i < 4; i++) expect(r.pick({ method: 'tools/list' }).id).toBe('b');
    clock.advance(1);
    await r.checkNow();
    expect(changes).toEqual(['a down', 'a healthy']);
    const picked = new Set(Array.from({ length: 4 }, () => r.pick({ method: 'tools/list' }).id));
    expect(picked).toEqual(new Set(['a', 'b']));
  });

  it('ignores a good probe answered before the worker was found hung', async () => {
    const clock = new FakeClock();
    let answer: ((ok: boolean) => void) | undefined;
    const r = new Router({
      clock,
      probe: () => new Promise<boolean>((resolve) => (answer = resolve)),
    });
    r.pool.upsert(spec('a'));
    const round = r.checkNow();
    clock.advance(10);
    r.markDown(wid('a'));
    answer?.(true);
    await round;
    expect(r.pool.state(wid('a'))?.health).toBe('down');
  });
});
