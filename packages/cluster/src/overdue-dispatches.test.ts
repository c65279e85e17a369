/**
 * The overdue check on an injected clock: a dispatch still without headers past its
 * worker's ack delay plus the margin reports its worker once; one whose headers came never
 * does; the sweep stops when nothing waits.
 */
import { describe, expect, it } from 'vitest';
import { ackDelayMs } from './dispatch.js';
import { MIN_ACK_MARGIN_MS, OverdueDispatches, overdueAfterMs } from './overdue-dispatches.js';

/** A detector on a manual clock; its interval never fires within a test (swept by hand). */
function detector(): { d: OverdueDispatches; reported: string[]; advance: (ms: number) => void } {
  let t = 1_000;
  const reported: string[] = [];
  const d = new OverdueDispatches({
    onOverdue: (id) => reported.push(id),
    sweepMs: 3_600_000,
    now: () => t,
  });
  return { d, reported, advance: (ms) => (t += ms) };
}

describe('overdueAfterMs', () => {
  it("is the worker's ack delay plus half of it, at least the minimum margin", () => {
    // The chaos setup: a 1500 ms first-byte timeout, acked after 375 ms.
    expect(overdueAfterMs(ackDelayMs('1500') ?? 0)).toBe(375 + 187);
    expect(overdueAfterMs(ackDelayMs('1000') ?? 0)).toBe(250 + 125);
    expect(overdueAfterMs(50)).toBe(50 + MIN_ACK_MARGIN_MS);
  });
});

describe('OverdueDispatches', () => {
  it('reports a worker once its oldest header-less dispatch is overdue, and only that worker', () => {
    const { d, reported, advance } = detector();
    d.watch('w-hung', 375);
    const answered = d.watch('w-ok', 375);
    advance(overdueAfterMs(375) - 1);
    d.sweep();
    expect(reported).toEqual([]);
    d.settle(answered); // its headers came in time
    advance(1);
    d.sweep();
    expect(reported).toEqual(['w-hung']);
    expect(d.size).toBe(0);
    d.stop();
  });

  it('reports each overdue dispatch once, and a worker at most once per sweep', () => {
    const { d, reported, advance } = detector();
    d.watch('w', 375);
    d.watch('w', 375);
    advance(100);
    const later = d.watch('w', 375);
    advance(overdueAfterMs(375) - 100);
    d.sweep();
    expect(reported).toEqual(['w']);
    expect(d.size).toBe(1); // the later one is not due yet
    d.sweep();
    expect(reported).toEqual(['w']);
    advance(100);
    d.sweep();
    expect(reported).toEqual(['w', 'w']);
    // Settling a dispatch already reported (its headers came after all) is a no-op.
    d.settle(later);
    expect(d.size).toBe(0);
    d.stop();
  });

  it('never reports a dispatch whose headers came, however long it then runs', () => {
    const { d, reported, advance } = detector();
    const w = d.watch('w', 375);
    advance(10);
    d.settle(w);
    d.settle(w);
    advance(60_000);
    d.sweep();
    expect(reported).toEqual([]);
    expect(d.size).toBe(0);
    d.stop();
  });

  it('sweeps on its own interval only while dispatches wait', async () => {
    const reported: string[] = [];
    const d = new OverdueDispatches({ onOverdue: (id) => reported.push(id), sweepMs: 10 });
    const started = performance.now();
    d.watch('w', 50);
    const deadline = started + 5_000;
    while (reported.length === 0 && performance.now() < deadline) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(reported).toEqual(['w']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(overdueAfterMs(50) - 1);
    expect(d.size).toBe(0);
    d.stop();
  });
});
