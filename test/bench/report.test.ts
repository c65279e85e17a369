import { describe, expect, it } from 'vitest';
import type { LatencyFigures, LatencyResult } from './latency.js';
import type { LoadFigures } from './load.js';
import type { TargetId } from './options.js';
import { formatLatencyTable, formatVerdicts, type Row } from './report.js';

const load = (rps: number, p50Ms: number): LoadFigures => ({
  rps,
  p50Ms,
  p99Ms: p50Ms * 3,
  total: rps * 10,
  errors: 0,
  serverCores: 1,
  processCores: [1],
  perCpuSecond: rps,
  generatorCores: 0.2,
  detail: '',
});

const lat = (connections: number, p50Us: number, extra: Partial<LatencyFigures> = {}) =>
  ({
    connections,
    warmupRequests: 5000,
    samples: 2000,
    p50Us,
    p90Us: p50Us * 1.5,
    p99Us: p50Us * 4,
    errors: 0,
    firstError: undefined,
    sockets: connections,
    ...extra,
  }) satisfies LatencyFigures;

const row = (id: TargetId, figures: LoadFigures, latency?: LatencyResult): Row => ({
  id,
  label: `label ${id}`,
  outcome: { type: 'measured', figures, ...(latency !== undefined && { latency }) },
});

const rows: Row[] = [
  row('a', load(30_000, 1), { unloaded: lat(1, 140), concurrent: lat(4, 280) }),
  row('b', load(30_000, 1), { unloaded: lat(1, 120), concurrent: lat(4, 200) }),
  row('d', load(2_500, 17)),
  row('f', load(9_000, 5), { unloaded: lat(1, 350), concurrent: lat(4, 600) }),
  row('g', load(6_000, 8), { unloaded: lat(1, 1_300), concurrent: lat(4, 2_000) }),
];

describe('formatVerdicts: the gateway hop', () => {
  const lines = formatVerdicts(rows, 50);
  const hop = lines.filter((l) => l.includes('gateway hop'));

  it('judges the unloaded hop in µs against 1 ms', () => {
    expect(hop).toContain(
      'PASS gateway hop, modern: p50 unloaded (f) - (a) = 350 µs - 140 µs = 210 µs (target <= 1 ms); p90 +315 µs, p99 +840 µs',
    );
    expect(hop).toContain(
      'FAIL gateway hop, legacy: p50 unloaded (g) - (b) = 1300 µs - 120 µs = 1180 µs (target <= 1 ms); p90 +1770 µs, p99 +4720 µs',
    );
  });

  it('prints the few-connections hop and the under-load hop too, passing or not', () => {
    expect(hop).toContain(
      'PASS gateway hop, modern, 4 connections: p50 (f) - (a) = 600 µs - 280 µs = 320 µs (target <= 1 ms); p90 +480 µs, p99 +1280 µs',
    );
    expect(hop).toContain(
      'FAIL gateway hop, modern, under load, 50 connections: p50 cluster(f) - ours(a) = 5.0 - 1.0 = 4.0 ms (target <= 1 ms; autocannon, 1 ms resolution)',
    );
    expect(hop).toHaveLength(6);
    // Per era: unloaded, few connections, under load, in that order, after the req/s line.
    expect(lines.findIndex((l) => l.includes('cluster(f)/best-SDK'))).toBeLessThan(
      lines.findIndex((l) => l.includes('p50 unloaded (f)')),
    );
  });

  it('says when a target has no latency step, and when answers were left out', () => {
    const noLatency = rows.map((r) => (r.id === 'a' ? row('a', load(30_000, 1)) : r));
    expect(formatVerdicts(noLatency, 50)).toContain(
      'gateway hop, modern, unloaded: not measured (no latency step)',
    );
    const withErrors = rows.map((r) =>
      r.id === 'f'
        ? row('f', load(9_000, 5), { unloaded: lat(1, 350, { errors: 3 }), concurrent: undefined })
        : r,
    );
    const line = formatVerdicts(withErrors, 50).find((l) => l.includes('p50 unloaded (f)'));
    expect(line).toMatch(/; 3 error answers left out$/);
    expect(formatVerdicts(withErrors, 50).some((l) => l.includes('modern, 4 connections'))).toBe(
      false,
    );
  });

  it('fails a hop without figures (every answer wrong)', () => {
    const broken = rows.map((r) =>
      r.id === 'f'
        ? row('f', load(9_000, 5), {
            unloaded: lat(1, Number.NaN, { samples: 0, errors: 2000 }),
            concurrent: undefined,
          })
        : r,
    );
    const line = formatVerdicts(broken, 50).find((l) => l.includes('p50 unloaded (f)'));
    expect(line).toMatch(/^FAIL /);
  });
});

describe('formatLatencyTable', () => {
  it('has one line per target and number of connections, in µs', () => {
    const table = formatLatencyTable(rows);
    expect(table[0]).toMatch(/^\| target, connections \(closed loop\) +\| +p50 µs \|/);
    expect(table.filter((l) => l.startsWith('| ('))).toHaveLength(8);
    expect(table).toContainEqual(
      expect.stringMatching(/^\| \(f\) label f, 4 connections +\| +600 \| +900 \| +2400 \| +0 \|$/),
    );
    expect(table.every((l) => l.length === table[0]?.length)).toBe(true);
  });

  it('is empty when no target ran the step', () => {
    expect(formatLatencyTable([row('d', load(2_500, 17))])).toEqual([]);
  });

  it('notes broken connections and the first error', () => {
    const f = lat(1, 350, { sockets: 2, errors: 1, firstError: 'socket hang up' });
    const table = formatLatencyTable([
      row('f', load(9_000, 5), { unloaded: f, concurrent: undefined }),
    ]);
    expect(table).toContain('(f) label f: 2 sockets for 1 connection (a connection broke)');
    expect(table).toContain('(f) label f: first error: socket hang up');
  });
});

describe('formatVerdicts: a subset of targets', () => {
  const skipped = (id: TargetId): Row => ({
    id,
    label: `label ${id}`,
    outcome: { type: 'skipped', reason: 'did not start' },
  });

  it('prints no FAIL for comparisons whose targets were not in the run', () => {
    // `pnpm bench --targets a,f`: no SDK, no echo, no (b)/(g).
    const subset = [row('a', load(30_000, 1)), row('f', load(9_000, 1.5))];
    const lines = formatVerdicts(subset, 50);
    expect(lines.some((l) => l.startsWith('FAIL'))).toBe(false);
    expect(lines).toContain(
      'ours(a): ours(a)/best-SDK not run: (c) or (d) not in this run; ours(a)/echo not run: (e) not in this run',
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^cluster\(f\): cluster\(f\)\/best-SDK not run: \(c\) or \(d\) not in this run; /,
      ),
    );
    // Targets left out are not mentioned at all.
    expect(lines.some((l) => l.includes('ours(b)') || l.includes('cluster(g)'))).toBe(false);
  });

  it('judges only the comparisons that ran', () => {
    const withSdk = [row('a', load(30_000, 1)), row('c', load(3_000, 10))];
    expect(formatVerdicts(withSdk, 50)).toEqual([
      'PASS ours(a): ours(a)/best-SDK(c) = 10.00x (target >= 5x); ours(a)/echo not run: (e) not in this run',
    ]);
    const slow = [row('a', load(30_000, 1)), row('e', load(200_000, 1))];
    expect(formatVerdicts(slow, 50)).toEqual([
      'FAIL ours(a): ours(a)/echo = 15.0% (target >= 30%); ours(a)/best-SDK not run: (c) or (d) not in this run',
    ]);
  });

  it('says "not measured" when a target was asked for but could not be measured', () => {
    const lines = formatVerdicts([row('a', load(30_000, 1)), skipped('d'), skipped('b')], 50);
    expect(lines).toContain(
      'ours(a): ours(a)/best-SDK not run: (c) or (d) not measured; ours(a)/echo not run: (e) not in this run',
    );
    expect(lines).toContain('ours(b): not measured');
  });

  it('does not judge the gateway hop without the embedded target of its era', () => {
    const lines = formatVerdicts([row('c', load(3_000, 10)), row('g', load(12_000, 4))], 50);
    expect(lines).toContain(
      'gateway hop, legacy: not run: (b) not in this run (the hop needs ours(b))',
    );
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(lines).toContain('PASS cluster(g): cluster(g)/best-SDK(c) = 4.00x (target >= 3x)');
  });
});
