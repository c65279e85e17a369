/**
 * Formats the results table, the ratios and the PASS/FAIL lines against the performance
 * targets. A comparison whose figures are missing (the target was left out of `--targets`, or
 * could not be measured) is reported as not run, never as FAIL.
 */
import type { TargetId } from './options.js';
import type { LatencyFigures, LatencyResult } from './latency.js';
import type { LoadFigures } from './load.js';
import type { MemoryFigures } from './sessions.js';

export type Outcome =
  | {
      readonly type: 'measured';
      readonly figures: LoadFigures;
      readonly note?: string;
      /** The latency step, for the targets it runs on (see latency.ts). */
      readonly latency?: LatencyResult;
    }
  | { readonly type: 'skipped'; readonly reason: string };

export interface Row {
  readonly id: TargetId;
  readonly label: string;
  readonly outcome: Outcome;
}

/** The embedded server's bar: ours >= 5x the best SDK and >= 30% of the echo ceiling. */
export const TARGET_SDK_RATIO = 5;
export const TARGET_ECHO_RATIO = 0.3;
/** The cluster's bar: >= 3x the best SDK, and the gateway hop adds <= 1 ms at p50. */
export const TARGET_CLUSTER_SDK_RATIO = 3;
export const TARGET_HOP_P50_MS = 1;

const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);

function figuresOf(rows: readonly Row[], id: TargetId): LoadFigures | undefined {
  const row = rows.find((r) => r.id === id);
  return row?.outcome.type === 'measured' ? row.outcome.figures : undefined;
}

const rpsOf = (rows: readonly Row[], id: TargetId): number | undefined => figuresOf(rows, id)?.rps;

const COLUMNS = [
  ['target', 38],
  ['req/s', 9],
  ['p50 ms', 7],
  ['p99 ms', 7],
  ['errors', 7],
  ['server CPU', 10],
  ['req/CPU-s', 9],
] as const;

function tableLine(cells: readonly string[]): string {
  const padded = cells.map((cell, i) => {
    const width = COLUMNS[i]?.[1] ?? 0;
    return i === 0 ? pad(cell, width) : lpad(cell, width);
  });
  return `| ${padded.join(' | ')} |`;
}

export function formatTable(rows: readonly Row[]): string {
  const rule = COLUMNS.map(([, w], i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`));
  const lines = [tableLine(COLUMNS.map(([title]) => title)), `|${rule.join('|')}|`];
  for (const row of rows) {
    const name = `(${row.id}) ${row.label}`;
    if (row.outcome.type === 'skipped') {
      lines.push(tableLine([name, ...COLUMNS.slice(1).map(() => '-')]));
      continue;
    }
    const f = row.outcome.figures;
    lines.push(
      tableLine([
        name,
        f.rps.toFixed(0),
        f.p50Ms.toFixed(1),
        f.p99Ms.toFixed(1),
        String(f.errors),
        `${(f.serverCores * 100).toFixed(0)}%`,
        f.perCpuSecond.toFixed(0),
      ]),
    );
  }
  return lines.join('\n');
}

/** How each target was served (launch notes) and why any was not measured. */
export function formatNotes(rows: readonly Row[]): string[] {
  return rows.flatMap((r) => {
    if (r.outcome.type === 'skipped') return [`(${r.id}) not measured: ${r.outcome.reason}`];
    return r.outcome.note === undefined ? [] : [`(${r.id}) ${r.outcome.note}`];
  });
}

interface SdkFigure {
  readonly id: 'c' | 'd';
  readonly rps: number;
}

/** The better of the two SDK targets, by req/s. */
function bestSdk(rows: readonly Row[]): SdkFigure | undefined {
  return (['c', 'd'] as const)
    .map((id) => ({ id, rps: rpsOf(rows, id) }))
    .filter((x): x is SdkFigure => x.rps !== undefined)
    .sort((x, y) => y.rps - x.rps)[0];
}

/**
 * Ratio lines and PASS/FAIL per target of ours, then of the cluster; never fails the process.
 * `loadConnections` labels the hop measured under the load.
 */
export function formatVerdicts(rows: readonly Row[], loadConnections: number): string[] {
  return [...embeddedVerdicts(rows), ...clusterVerdicts(rows, loadConnections)];
}

/**
 * Why a comparison has no figure for `ids`: none of them was in this run (left out of
 * `--targets`), or they were but none could be measured.
 */
function missingReason(rows: readonly Row[], ids: readonly TargetId[]): string {
  const names = ids.map((id) => `(${id})`).join(ids.length === 2 ? ' or ' : ', ');
  return ids.some((id) => rows.some((r) => r.id === id))
    ? `${names} not measured`
    : `${names} not in this run`;
}

function embeddedVerdicts(rows: readonly Row[]): string[] {
  const sdk = bestSdk(rows);
  const echo = rpsOf(rows, 'e');
  const out: string[] = [];
  for (const id of ['a', 'b'] as const) {
    if (!rows.some((r) => r.id === id)) continue;
    const ours = rpsOf(rows, id);
    if (ours === undefined) {
      out.push(`ours(${id}): not measured`);
      continue;
    }
    const ran: string[] = [];
    const notRun: string[] = [];
    let pass = true;
    if (sdk !== undefined) {
      const ratio = ours / sdk.rps;
      pass &&= ratio >= TARGET_SDK_RATIO;
      ran.push(
        `ours(${id})/best-SDK(${sdk.id}) = ${ratio.toFixed(2)}x (target >= ${TARGET_SDK_RATIO}x)`,
      );
    } else {
      notRun.push(`ours(${id})/best-SDK not run: ${missingReason(rows, ['c', 'd'])}`);
    }
    if (echo !== undefined) {
      const ratio = ours / echo;
      pass &&= ratio >= TARGET_ECHO_RATIO;
      ran.push(
        `ours(${id})/echo = ${(ratio * 100).toFixed(1)}% (target >= ${TARGET_ECHO_RATIO * 100}%)`,
      );
    } else {
      notRun.push(`ours(${id})/echo not run: ${missingReason(rows, ['e'])}`);
    }
    const verdict = ran.length === 0 ? '' : `${pass ? 'PASS' : 'FAIL'} `;
    out.push(`${verdict}ours(${id}): ${[...ran, ...notRun].join('; ')}`);
  }
  return out;
}

/** Each cluster target with the embedded target it adds the gateway hop to. */
const CLUSTER_PAIRS = [
  { cluster: 'f', embedded: 'a', era: 'modern' },
  { cluster: 'g', embedded: 'b', era: 'legacy' },
] as const;

const latencyOf = (rows: readonly Row[], id: TargetId): LatencyResult | undefined => {
  const row = rows.find((r) => r.id === id);
  return row?.outcome.type === 'measured' ? row.outcome.latency : undefined;
};

const connLabel = (n: number): string => `${n} connection${n === 1 ? '' : 's'}`;
const usText = (n: number): string => `${n.toFixed(0)} µs`;
const signedUs = (n: number): string => `${n >= 0 ? '+' : ''}${usText(n)}`;

/**
 * The hop from the latency step: p50(cluster) - p50(embedded) at the same number of
 * connections, in µs, with p90/p99 differences for context. Errors in either step are named,
 * since the percentiles then cover fewer answers.
 */
function latencyHopLine(
  /** "modern" or "legacy", then what the step was: "unloaded" or "4 connections". */
  era: string,
  step: 'unloaded' | number,
  ids: { readonly cluster: TargetId; readonly embedded: TargetId },
  c: LatencyFigures,
  e: LatencyFigures,
): string {
  const hop = c.p50Us - e.p50Us;
  const pass = Number.isFinite(hop) && hop <= TARGET_HOP_P50_MS * 1000;
  const errors = c.errors + e.errors;
  const caveat = errors > 0 ? `; ${errors} error answers left out` : '';
  return (
    `${pass ? 'PASS' : 'FAIL'} gateway hop, ${era}${typeof step === 'number' ? `, ${connLabel(step)}` : ''}: ` +
    `p50${step === 'unloaded' ? ' unloaded' : ''} (${ids.cluster}) - (${ids.embedded}) = ` +
    `${usText(c.p50Us)} - ${usText(e.p50Us)} = ${usText(hop)} (target <= ${TARGET_HOP_P50_MS} ms); ` +
    `p90 ${signedUs(c.p90Us - e.p90Us)}, p99 ${signedUs(c.p99Us - e.p99Us)}${caveat}`
  );
}

/**
 * For each cluster target that was asked for: throughput against the best SDK, then the
 * gateway hop at p50 against the embedded server of the same era — from the latency step
 * (one connection: the hop itself; a few connections: light overlap) and from the load
 * (autocannon's p50, 1 ms resolution, at the load's connections: mostly queueing at a
 * saturated gateway). All are printed, passing or not.
 */
function clusterVerdicts(rows: readonly Row[], loadConnections: number): string[] {
  const sdk = bestSdk(rows);
  const out: string[] = [];
  for (const { cluster: id, embedded, era } of CLUSTER_PAIRS) {
    if (!rows.some((r) => r.id === id)) continue;
    const f = figuresOf(rows, id);
    const base = figuresOf(rows, embedded);
    if (f === undefined) {
      out.push(`cluster(${id}): not measured`);
      continue;
    }
    const versus =
      base === undefined
        ? ''
        : `; cluster(${id})/ours(${embedded}) = ${(f.rps / base.rps).toFixed(2)}x`;
    if (sdk === undefined) {
      out.push(
        `cluster(${id}): cluster(${id})/best-SDK not run: ${missingReason(rows, ['c', 'd'])}${versus}`,
      );
    } else {
      const ratio = f.rps / sdk.rps;
      out.push(
        `${ratio >= TARGET_CLUSTER_SDK_RATIO ? 'PASS' : 'FAIL'} cluster(${id}): cluster(${id})/best-SDK(${sdk.id}) = ${ratio.toFixed(2)}x (target >= ${TARGET_CLUSTER_SDK_RATIO}x)${versus}`,
      );
    }
    if (base === undefined) {
      out.push(
        `gateway hop, ${era}: not run: ${missingReason(rows, [embedded])} (the hop needs ours(${embedded}))`,
      );
      continue;
    }
    const ids = { cluster: id, embedded };
    const lc = latencyOf(rows, id);
    const le = latencyOf(rows, embedded);
    if (lc === undefined || le === undefined) {
      out.push(`gateway hop, ${era}, unloaded: not measured (no latency step)`);
    } else {
      out.push(latencyHopLine(era, 'unloaded', ids, lc.unloaded, le.unloaded));
      if (lc.concurrent !== undefined && le.concurrent !== undefined) {
        const n = lc.concurrent.connections;
        out.push(latencyHopLine(era, n, ids, lc.concurrent, le.concurrent));
      }
    }
    const hop = f.p50Ms - base.p50Ms;
    out.push(
      `${hop <= TARGET_HOP_P50_MS ? 'PASS' : 'FAIL'} gateway hop, ${era}, under load, ${connLabel(loadConnections)}: p50 cluster(${id}) - ours(${embedded}) = ${f.p50Ms.toFixed(1)} - ${base.p50Ms.toFixed(1)} = ${hop.toFixed(1)} ms (target <= ${TARGET_HOP_P50_MS} ms; autocannon, 1 ms resolution)`,
    );
  }
  return out;
}

const LATENCY_COLUMNS = [
  ['target, connections (closed loop)', 53],
  ['p50 µs', 7],
  ['p90 µs', 7],
  ['p99 µs', 7],
  ['errors', 6],
] as const;

/**
 * The latency step's table: per target that ran it, one row per number of connections.
 * Empty when no target ran it.
 */
export function formatLatencyTable(rows: readonly Row[]): string[] {
  const measured = rows.flatMap((r) => {
    const l = r.outcome.type === 'measured' ? r.outcome.latency : undefined;
    if (l === undefined) return [];
    return [l.unloaded, ...(l.concurrent === undefined ? [] : [l.concurrent])].map(
      (f) => [`(${r.id}) ${r.label}`, f] as const,
    );
  });
  if (measured.length === 0) return [];
  const line = (cells: readonly string[]): string => {
    const padded = cells.map((c, i) => {
      const width = LATENCY_COLUMNS[i]?.[1] ?? 0;
      return i === 0 ? pad(c, width) : lpad(c, width);
    });
    return `| ${padded.join(' | ')} |`;
  };
  const rule = LATENCY_COLUMNS.map(([, w], i) =>
    i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`,
  );
  const out = [line(LATENCY_COLUMNS.map(([title]) => title)), `|${rule.join('|')}|`];
  for (const [name, f] of measured) {
    out.push(
      line([
        `${name}, ${connLabel(f.connections)}`,
        f.p50Us.toFixed(0),
        f.p90Us.toFixed(0),
        f.p99Us.toFixed(0),
        String(f.errors),
      ]),
    );
  }
  const notes = measured.flatMap(([name, f]) => [
    ...(f.sockets > f.connections
      ? [`${name}: ${f.sockets} sockets for ${connLabel(f.connections)} (a connection broke)`]
      : []),
    ...(f.firstError === undefined ? [] : [`${name}: first error: ${f.firstError}`]),
  ]);
  return [...out, ...notes];
}

export function formatMemory(m: MemoryFigures): string[] {
  const perSession = ((m.afterMiB - m.idleMiB) * 1024 * 1024) / Math.max(1, m.sessions);
  return [
    `RSS of our embedded server: idle ${m.idleMiB.toFixed(1)} MiB; after ${m.sessions} idle legacy sessions ${m.afterMiB.toFixed(1)} MiB`,
    `  (+${(m.afterMiB - m.idleMiB).toFixed(1)} MiB, ~${(perSession / 1024).toFixed(2)} KiB per session; sessions opened in ${m.openSeconds.toFixed(1)} s)`,
  ];
}
