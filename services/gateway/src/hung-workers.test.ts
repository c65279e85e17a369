/**
 * HungWorkers: an overdue dispatch or a first-byte timeout takes a worker out without ending
 * what it holds; failed probes in a row (a first-byte timeout counting as one) confirm it and
 * its dispatches end; a good probe clears it.
 */
import { describe, expect, it } from 'vitest';
import { HungWorkers } from './hung-workers.js';

/** HungWorkers over a fake router whose markDown tells `down` as the gateway wires it. */
function harness(): { hung: HungWorkers; down: Set<string>; abandoned: string[] } {
  const down = new Set<string>();
  const abandoned: string[] = [];
  const hung: HungWorkers = new HungWorkers({
    markDown: (id) => {
      if (down.has(id)) return false;
      down.add(id);
      hung.down(id); // the router's onHealthChange
      return true;
    },
    abandon: (id) => abandoned.push(id),
    unhealthyThreshold: 2,
  });
  return { hung, down, abandoned };
}

const failedProbe = (): Promise<boolean> => Promise.reject(new Error('probe timed out'));

describe('HungWorkers', () => {
  it('an overdue dispatch: out of routing, its dispatches left to answer; a good probe clears it', async () => {
    const { hung, down, abandoned } = harness();
    hung.found('w', 'overdue');
    hung.found('w', 'overdue');
    expect(down).toEqual(new Set(['w']));
    expect(hung.isSuspected('w')).toBe(true);
    expect(await hung.probed('w', failedProbe())).toBe(false);
    expect(abandoned).toEqual([]);
    expect(await hung.probed('w', Promise.resolve(true))).toBe(true);
    expect(hung.isSuspected('w')).toBe(false);
    expect(abandoned).toEqual([]);
  });

  it('failed probes in a row confirm it: its dispatches end, once', async () => {
    const { hung, abandoned } = harness();
    hung.found('w', 'overdue');
    await hung.probed('w', failedProbe());
    expect(await hung.probed('w', Promise.resolve(false))).toBe(false);
    expect(abandoned).toEqual(['w']);
    expect(hung.isSuspected('w')).toBe(false);
    await hung.probed('w', failedProbe());
    expect(abandoned).toEqual(['w']);
  });

  it('a first-byte timeout takes it out and counts as a failed probe', async () => {
    const { hung, down, abandoned } = harness();
    hung.found('w', 'first-byte-timeout');
    expect(down).toEqual(new Set(['w']));
    expect(abandoned).toEqual([]);
    await hung.probed('w', failedProbe());
    expect(abandoned).toEqual(['w']);
    hung.found('v', 'overdue');
    hung.found('v', 'first-byte-timeout');
    hung.found('v', 'first-byte-timeout');
    expect(abandoned).toEqual(['w', 'v']);
  });

  it('a worker down on its probes already: an overdue dispatch changes nothing', () => {
    const { hung, down, abandoned } = harness();
    down.add('w');
    hung.found('w', 'overdue');
    hung.found('w', 'first-byte-timeout');
    expect(hung.isSuspected('w')).toBe(false);
    expect(abandoned).toEqual([]);
    hung.down('w'); // a later down on probes ends its dispatches as before
    expect(abandoned).toEqual(['w']);
  });
});
