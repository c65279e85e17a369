import { describe, expect, it } from 'vitest';
import type { LatencyFigures, LatencyResult } from './latency.js';
import type { LoadFigures } from './load.js';
import type { TargetId } from './options.js';
import {
  clusterRatios,
  formatCpuTable,
  formatLatencyTable,
  formatTable,
  formatVerdicts,
  usPerRequestOf,
  type Row,
} from './report.js';
import { SINGLE_SERVER, type ProcessLabel } from './spawn.js';

/** Load figures of a target; `usPerRequest` gives each process's CPU µs per request. */
const load = (rps: number, p50Ms: number, usPerRequest: readonly number[] = [30]): LoadFigures => ({
  rps,
  p50Ms,
  p99Ms: p50Ms * 3,
  total: rps * 10,
  errors: 0,
  serverCores: usPerRequest.reduce((sum, us) => sum + (us * rps) / 1e6, 0),
  processCores: usPerRequest.map((us) => (us * rps) / 1e6),
  processUsPerRequest: usPerRequest,
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

const CLUSTER_PROCESSES: readonly ProcessLabel[] = [
  { role: 'gateway', name: 'gateway g1' },
  { role: 'worker', name: 'worker w1' },
  { role: 'worker', name: 'worker w2' },
];
const PROXY_PROCESSES: readonly ProcessLabel[] = [
  { role: 'proxy', name: 'proxy' },
  { role: 'upstream', name: 'upstream echo' },
];

/** The process labels the launcher gives each target (run.ts puts them in the row). */
const processesOf = (id: TargetId): readonly ProcessLabel[] =>
  id === 'f' || id === 'g' ? CLUSTER_PROCESSES : id === 'h' ? PROXY_PROCESSES : SINGLE_SERVER;

const row = (id: TargetId, figures: LoadFigures, latency?: LatencyResult): Row => ({
  id,
  label: `label ${id}`,
  outcome: {
    type: 'measured',
    figures,
    processes: processesOf(id),
    ...(latency !== undefined && { latency }),
  },
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
      'FAIL ours(a): ours(a)/echo = 15.0% (target >= 60%); ours(a)/best-SDK not run: (c) or (d) not in this run',
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
    expect(lines).toContain(
      'PASS cluster(g): cluster(g)/best-SDK(c) = 4.00x (target >= 3x); cluster(g)/proxy-hop not run: (h) not in this run',
    );
    expect(lines).toContain(
      'gateway CPU, legacy: not run: (h) not in this run (the bar is the proxy of (h))',
    );
  });

  it('judges against the proxy hop alone when no SDK ran (--targets a,e,h,f)', () => {
    const subset = [
      row('a', load(30_000, 1)),
      row('e', load(50_000, 1)),
      row('f', load(12_000, 3, [60, 25, 25])),
      row('h', load(18_000, 2, [35, 20])),
    ];
    const lines = formatVerdicts(subset, 50);
    expect(lines).toContain(
      'PASS cluster(f): cluster(f)/proxy-hop(h) = 66.7% (target >= 60%); cluster(f)/best-SDK not run: (c) or (d) not in this run; cluster(f)/ours(a) = 0.40x',
    );
    expect(lines).toContainEqual(expect.stringMatching(/^PASS gateway CPU, modern: /));
    expect(lines.some((l) => l.includes('cluster(g)'))).toBe(false);
  });

  it('says "not measured" when (h) was asked for but could not be measured', () => {
    const lines = formatVerdicts([row('f', load(12_000, 3, [60, 25, 25])), skipped('h')], 50);
    expect(lines).toContain(
      'cluster(f): cluster(f)/best-SDK not run: (c) or (d) not in this run; cluster(f)/proxy-hop not run: (h) not measured',
    );
    expect(lines).toContain(
      'gateway CPU, modern: not run: (h) not measured (the bar is the proxy of (h))',
    );
    expect(lines.some((l) => l.startsWith('FAIL'))).toBe(false);
  });
});

/** A full run: SDK (d) at 2,500 req/s, the proxy hop (h) at 18,000 with 35 µs in the proxy. */
const full = (over: Partial<Record<TargetId, LoadFigures>> = {}): Row[] =>
  (
    [
      ['a', load(30_000, 1)],
      ['b', load(29_000, 1)],
      ['d', load(2_500, 17)],
      ['e', load(50_000, 1)],
      ['f', load(12_000, 3, [60, 25, 25])],
      ['g', load(9_000, 5, [70, 0, 40])],
      ['h', load(18_000, 2, [35, 20])],
    ] as const
  ).map(([id, figures]) => row(id, over[id] ?? figures));

describe('cluster against the bare proxy hop (h) and the best SDK', () => {
  it('computes the two req/s ratios of a cluster row', () => {
    const { ofProxy, sdk } = clusterRatios(full(), 'f');
    expect(ofProxy).toBeCloseTo(12_000 / 18_000);
    expect(sdk).toEqual({ id: 'd', ratio: 12_000 / 2_500 });
    expect(clusterRatios([row('f', load(12_000, 3))], 'f')).toEqual({
      ofProxy: undefined,
      sdk: undefined,
    });
  });

  it('passes modern at >= 60% of (h) and >= 4x the SDK, legacy at >= 50% and >= 3x', () => {
    const lines = formatVerdicts(full(), 50);
    expect(lines).toContain(
      'PASS cluster(f): cluster(f)/best-SDK(d) = 4.80x (target >= 4x); cluster(f)/proxy-hop(h) = 66.7% (target >= 60%); cluster(f)/ours(a) = 0.40x',
    );
    expect(lines).toContain(
      'PASS cluster(g): cluster(g)/best-SDK(d) = 3.60x (target >= 3x); cluster(g)/proxy-hop(h) = 50.0% (target >= 50%); cluster(g)/ours(b) = 0.31x',
    );
  });

  it('fails a cluster row when either bar is missed', () => {
    const slowModern = formatVerdicts(full({ f: load(9_500, 3, [60, 25, 25]) }), 50);
    // 3.80x the SDK (< 4x) though 52.8% of (h) would pass legacy's bar.
    expect(slowModern).toContainEqual(
      expect.stringMatching(
        /^FAIL cluster\(f\): cluster\(f\)\/best-SDK\(d\) = 3\.80x \(target >= 4x\); cluster\(f\)\/proxy-hop\(h\) = 52\.8% \(target >= 60%\)/,
      ),
    );
    const fastProxy = formatVerdicts(full({ h: load(20_000, 2, [35, 20]) }), 50);
    expect(fastProxy).toContainEqual(expect.stringMatching(/^FAIL cluster\(g\): .*= 45\.0% /));
    expect(fastProxy).toContainEqual(expect.stringMatching(/^PASS cluster\(f\): .*= 60\.0% /));
  });

  it("judges the gateway's CPU per request against 2x the proxy's", () => {
    const lines = formatVerdicts(full(), 50);
    expect(lines).toContain(
      'PASS gateway CPU, modern: per request gateway(f) / proxy(h) = 60.0 µs / 35.0 µs = 1.71x (target <= 2x)',
    );
    expect(lines).toContain(
      'PASS gateway CPU, legacy: per request gateway(g) / proxy(h) = 70.0 µs / 35.0 µs = 2.00x (target <= 2x)',
    );
    const heavy = formatVerdicts(full({ f: load(12_000, 3, [80, 25, 25]) }), 50);
    expect(heavy).toContain(
      'FAIL gateway CPU, modern: per request gateway(f) / proxy(h) = 80.0 µs / 35.0 µs = 2.29x (target <= 2x)',
    );
    // No request completed: no figure, and no PASS.
    const none = formatVerdicts(full({ f: load(0, 3, [Number.NaN, 0, 0]) }), 50);
    expect(none).toContainEqual(expect.stringMatching(/^FAIL gateway CPU, modern: /));
  });

  it('finds the process of a role', () => {
    expect(usPerRequestOf(full(), 'f', 'gateway')).toBe(60);
    expect(usPerRequestOf(full(), 'h', 'upstream')).toBe(20);
    expect(usPerRequestOf(full(), 'a', 'gateway')).toBeUndefined();
    expect(usPerRequestOf(full(), 'c', 'server')).toBeUndefined();
  });

  it('bars the embedded modern target at 60% of the echo, legacy at 30%', () => {
    const lines = formatVerdicts(full({ a: load(29_000, 1) }), 50);
    expect(lines).toContain(
      'FAIL ours(a): ours(a)/best-SDK(d) = 11.60x (target >= 5x); ours(a)/echo = 58.0% (target >= 60%)',
    );
    expect(lines).toContain(
      'PASS ours(b): ours(b)/best-SDK(d) = 11.60x (target >= 5x); ours(b)/echo = 58.0% (target >= 30%)',
    );
    expect(formatVerdicts(full(), 50)).toContainEqual(
      expect.stringMatching(/^PASS ours\(a\): .*ours\(a\)\/echo = 60\.0% \(target >= 60%\)$/),
    );
  });
});

describe('formatVerdicts: the cost of metrics and tracing', () => {
  /** (j)'s row with what the OTLP sink received. */
  const traced = (figures: LoadFigures, requests: number, bytes: number): Row => {
    const r = row('j', figures);
    if (r.outcome.type !== 'measured') throw new Error('unreachable');
    return { ...r, outcome: { ...r.outcome, spanExports: { requests, bytes } } };
  };
  const costLines = (rows: readonly Row[]): string[] =>
    formatVerdicts(rows, 50).filter((l) => /^((PASS|FAIL) )?(metrics|tracing) cost: /.test(l));

  it('passes metrics at exactly 95% of the req/s without them, with CPU per request', () => {
    const lines = costLines([row('a', load(28_500, 1, [31.5])), row('i', load(30_000, 1))]);
    expect(lines).toEqual([
      'PASS metrics cost: ours(a)/ours(i) = 95.0% of the throughput without metrics (target >= 95%); CPU per request ours(a)/ours(i) = 31.5 µs / 30.0 µs = +5.0%',
      'tracing cost: not run: (j) not in this run',
    ]);
  });

  it('fails metrics just under 95%', () => {
    const lines = costLines([row('a', load(28_470, 1)), row('i', load(30_000, 1))]);
    expect(lines[0]).toBe(
      'FAIL metrics cost: ours(a)/ours(i) = 94.9% of the throughput without metrics (target >= 95%); CPU per request ours(a)/ours(i) = 30.0 µs / 30.0 µs = +0.0%',
    );
  });

  it('fails metrics when no request completed without them (no finite ratio)', () => {
    const lines = costLines([row('a', load(28_000, 1)), row('i', load(0, 1, [Number.NaN]))]);
    expect(lines[0]).toMatch(/^FAIL metrics cost: ours\(a\)\/ours\(i\) = Infinity% /);
  });

  it('reports tracing against (i) and (a) with the span exports, without a verdict', () => {
    const lines = costLines([
      row('a', load(28_500, 1, [31.5])),
      row('i', load(30_000, 1, [30])),
      traced(load(15_000, 3, [60]), 40, 3 * 1024 * 1024),
    ]);
    expect(lines).toContain(
      'tracing cost: ours(j)/ours(i) = 50.0% (reported, no target; 40 span exports received (3.0 MiB)); CPU per request ours(j)/ours(i) = 60.0 µs / 30.0 µs = +100.0%; ours(j)/ours(a) = 52.6% (tracing alone); CPU per request ours(j)/ours(a) = 60.0 µs / 31.5 µs = +90.5%',
    );
    // Even a tracing cost of half the throughput is no FAIL: there is no bar.
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
  });

  it('says when the sink received nothing, and leaves out (a) when it did not run', () => {
    const lines = costLines([row('i', load(30_000, 1)), traced(load(15_000, 3), 0, 0)]);
    expect(lines).toEqual([
      'metrics cost: not run: (a) not in this run',
      'tracing cost: ours(j)/ours(i) = 50.0% (reported, no target; 0 span exports received (0.0 MiB): tracing exported nothing); CPU per request ours(j)/ours(i) = 30.0 µs / 30.0 µs = +0.0%',
    ]);
  });

  it('prints neither line for (a) alone, and names what is missing otherwise', () => {
    expect(costLines([row('a', load(30_000, 1))])).toEqual([]);
    expect(costLines([row('j', load(15_000, 3))])).toEqual([
      'tracing cost: not run: (i) not in this run',
    ]);
    const skippedI: Row = { id: 'i', label: 'i', outcome: { type: 'skipped', reason: 'x' } };
    expect(costLines([row('a', load(30_000, 1)), skippedI])).toEqual([
      'metrics cost: not run: (i) not measured',
      'tracing cost: not run: (i) not measured, (j) not in this run',
    ]);
  });

  it('comes after the embedded verdicts and before the cluster ones', () => {
    const lines = formatVerdicts([...full(), row('i', load(30_000, 1))], 50);
    const at = (prefix: RegExp): number => lines.findIndex((l) => prefix.test(l));
    expect(at(/^PASS ours\(b\)/)).toBeLessThan(at(/metrics cost/));
    expect(at(/tracing cost/)).toBeLessThan(at(/cluster\(f\)/));
  });

  it('gives (a), (i) and (j) a line each in the CPU table', () => {
    const table = formatCpuTable([
      row('a', load(28_500, 1, [31.5])),
      row('i', load(30_000, 1, [30])),
      traced(load(15_000, 3, [60]), 40, 1),
    ]);
    expect(table.slice(2)).toEqual([
      expect.stringMatching(/^\| \(a\) label a: server +\| +31\.5 \|/),
      expect.stringMatching(/^\| \(i\) label i: server +\| +30\.0 \|/),
      expect.stringMatching(/^\| \(j\) label j: server +\| +60\.0 \|/),
    ]);
  });
});

describe('formatTable: the reference columns', () => {
  const lineOf = (table: string, id: TargetId): string =>
    table.split('\n').find((l) => l.startsWith(`| (${id}) `)) ?? '';

  it('gives cluster rows % of (h) and x best SDK, other rows blank cells', () => {
    const table = formatTable(full());
    expect(table.split('\n')[0]).toMatch(/\| % of \(h\) \| x best SDK \|$/);
    expect(lineOf(table, 'f')).toMatch(/\| +67% \| +4\.80x \|$/);
    expect(lineOf(table, 'g')).toMatch(/\| +50% \| +3\.60x \|$/);
    expect(lineOf(table, 'h')).toMatch(/\| +\| +\|$/);
    const lines = table.split('\n');
    expect(lines.every((l) => l.length === lines[0]?.length)).toBe(true);
  });

  it("prints '-' when a reference was not run", () => {
    const table = formatTable([row('f', load(12_000, 3, [60, 25, 25]))]);
    expect(lineOf(table, 'f')).toMatch(/\| +- \| +- \|$/);
  });
});

describe('formatCpuTable', () => {
  it('gives each process its CPU µs per request and share of a core, and a sum per target', () => {
    const table = formatCpuTable(full());
    expect(table[0]).toMatch(/^\| target: process +\| CPU µs\/req \| +CPU \|$/);
    expect(table).toContainEqual(
      expect.stringMatching(/^\| \(f\) label f: gateway g1 +\| +60\.0 \| +72% \|$/),
    );
    expect(table).toContainEqual(
      expect.stringMatching(/^\| \(f\) label f: worker w2 +\| +25\.0 \| +30% \|$/),
    );
    expect(table).toContainEqual(
      expect.stringMatching(/^\| \(f\) label f: sum of 3 processes +\| +110\.0 \| +132% \|$/),
    );
    expect(table).toContainEqual(expect.stringMatching(/^\| \(h\) label h: proxy +\| +35\.0 \|/));
    expect(table).toContainEqual(
      expect.stringMatching(/^\| \(h\) label h: upstream echo +\| +20\.0 \|/),
    );
    // One line per process (1+1+1+1+3+3+2) plus a sum for the three multi-process targets.
    expect(table.filter((l) => l.startsWith('| ('))).toHaveLength(15);
    expect(table.every((l) => l.length === table[0]?.length)).toBe(true);
  });

  it("prints '-' where no request completed, and nothing without measured targets", () => {
    const table = formatCpuTable([row('a', load(0, 1, [Number.NaN]))]);
    expect(table).toContainEqual(expect.stringMatching(/^\| \(a\) label a: server +\| +- \|/));
    expect(
      formatCpuTable([{ id: 'd', label: 'd', outcome: { type: 'skipped', reason: 'x' } }]),
    ).toEqual([]);
  });
});
