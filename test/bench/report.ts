/**
 * Formats the results table, the CPU per request of each target process, the ratios and the
 * PASS/FAIL lines against the performance targets. A comparison whose figures are missing (the target was left out of `--targets`, or
 * could not be measured) is reported as not run, never as FAIL.
 */
import type { TargetId } from './options.js';
import type { LatencyFigures, LatencyResult } from './latency.js';
import type { LoadFigures } from './load.js';
import type { SinkCounts } from './otlp-sink.js';
import type { MemoryFigures } from './sessions.js';
import type { ProcessLabel } from './spawn.js';

export type Outcome =
  | {
      readonly type: 'measured';
      readonly figures: LoadFigures;
      /** What each process of the target does, in the order of `figures.processCores`. */
      readonly processes: readonly ProcessLabel[];
      readonly note?: string;
      /** The latency step, for the targets it runs on (see latency.ts). */
      readonly latency?: LatencyResult;
      /** What the bench's OTLP sink received over the target's life (the tracing target (j)). */
      readonly spanExports?: SinkCounts;
    }
  | { readonly type: 'skipped'; readonly reason: string };

export interface Row {
  readonly id: TargetId;
  readonly label: string;
  readonly outcome: Outcome;
}

/**
 * The embedded server's bar: ours >= 5x the best SDK, and of the echo ceiling (e) modern
 * >= 60%, legacy >= 30%.
 */
export const TARGET_SDK_RATIO = 5;
export const TARGET_ECHO_RATIO = { a: 0.6, b: 0.3 } as const;
/**
 * The cluster's bar: against the best SDK modern >= 4x, legacy >= 3x; against the bare proxy
 * hop (h), a floor for any gateway, modern >= 60% and legacy >= 50% of its req/s; and the
 * gateway hop adds <= 1 ms at p50.
 */
export const TARGET_CLUSTER_SDK_RATIO = { f: 4, g: 3 } as const;
export const TARGET_CLUSTER_PROXY_RATIO = { f: 0.6, g: 0.5 } as const;
export const TARGET_HOP_P50_MS = 1;
/**
 * The gateway process's CPU per request <= 2x that of the proxy process of (h): what the
 * gateway does beyond parsing and forwarding (routing, checks, sessions) may cost at most
 * as much again as the bare hop.
 */
export const TARGET_GATEWAY_CPU_RATIO = 2;

/**
 * The cost of observability on the embedded modern server: with metrics on (a) it keeps >= 95%
 * of the req/s without them (i). Tracing at 100 % sampling (j) has no bar: its cost is reported.
 */
export const TARGET_METRICS_RATIO = 0.95;

const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);

/** `cells` padded to `columns`' widths: the first left-aligned, the rest right-aligned. */
function columnsLine(
  columns: readonly (readonly [string, number])[],
  cells: readonly string[],
): string {
  const padded = cells.map((c, i) => {
    const width = columns[i]?.[1] ?? 0;
    return i === 0 ? pad(c, width) : lpad(c, width);
  });
  return `| ${padded.join(' | ')} |`;
}

const ruleLine = (columns: readonly (readonly [string, number])[]): string =>
  `|${columns.map(([, w], i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;

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
  ['% of (h)', 8],
  ['x best SDK', 10],
] as const;

const isCluster = (id: TargetId): id is 'f' | 'g' => id === 'f' || id === 'g';

/** The two reference columns of a cluster row: '-' when the reference was not measured. */
function referenceCells(rows: readonly Row[], id: TargetId): [string, string] {
  if (!isCluster(id)) return ['', ''];
  const { ofProxy, sdk } = clusterRatios(rows, id);
  return [
    ofProxy === undefined ? '-' : `${(ofProxy * 100).toFixed(0)}%`,
    sdk === undefined ? '-' : `${sdk.ratio.toFixed(2)}x`,
  ];
}

const tableLine = (cells: readonly string[]): string => columnsLine(COLUMNS, cells);

/**
 * The results table; a cluster row also gives its req/s as % of the bare proxy hop (h) and
 * as a multiple of the best SDK.
 */
export function formatTable(rows: readonly Row[]): string {
  const lines = [tableLine(COLUMNS.map(([title]) => title)), ruleLine(COLUMNS)];
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
        ...referenceCells(rows, row.id),
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

export interface ClusterRatios {
  /** req/s of the cluster target over req/s of the bare proxy hop (h). */
  readonly ofProxy: number | undefined;
  /** req/s of the cluster target over the best SDK's (the better of (c), (d)). */
  readonly sdk: { readonly id: 'c' | 'd'; readonly ratio: number } | undefined;
}

/** A cluster target's req/s against its two references; undefined where one is missing. */
export function clusterRatios(rows: readonly Row[], id: 'f' | 'g'): ClusterRatios {
  const rps = rpsOf(rows, id);
  const proxy = rpsOf(rows, 'h');
  const sdk = bestSdk(rows);
  return {
    ofProxy: rps === undefined || proxy === undefined ? undefined : rps / proxy,
    sdk: rps === undefined || sdk === undefined ? undefined : { id: sdk.id, ratio: rps / sdk.rps },
  };
}

/** CPU µs per request of a target's first process in `role`, when that was measured. */
export function usPerRequestOf(
  rows: readonly Row[],
  id: TargetId,
  role: ProcessLabel['role'],
): number | undefined {
  const row = rows.find((r) => r.id === id);
  if (row?.outcome.type !== 'measured') return undefined;
  const i = row.outcome.processes.findIndex((p) => p.role === role);
  return i < 0 ? undefined : row.outcome.figures.processUsPerRequest[i];
}

/**
 * Ratio lines and PASS/FAIL per target of ours, then of the cluster; never fails the process.
 * `loadConnections` labels the hop measured under the load.
 */
export function formatVerdicts(rows: readonly Row[], loadConnections: number): string[] {
  return [
    ...embeddedVerdicts(rows),
    ...observabilityVerdicts(rows),
    ...clusterVerdicts(rows, loadConnections),
  ];
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
    const echoBar = TARGET_ECHO_RATIO[id];
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
      pass &&= ratio >= echoBar;
      ran.push(`ours(${id})/echo = ${(ratio * 100).toFixed(1)}% (target >= ${echoBar * 100}%)`);
    } else {
      notRun.push(`ours(${id})/echo not run: ${missingReason(rows, ['e'])}`);
    }
    const verdict = ran.length === 0 ? '' : `${pass ? 'PASS' : 'FAIL'} `;
    out.push(`${verdict}ours(${id}): ${[...ran, ...notRun].join('; ')}`);
  }
  return out;
}

const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`;
const cpuUs = (n: number): string => `${n.toFixed(1)} µs`;

/** Why each of `ids` has no figure, e.g. "(a) not in this run, (i) not measured". */
const eachMissing = (rows: readonly Row[], ids: readonly TargetId[]): string =>
  ids.map((id) => missingReason(rows, [id])).join(', ');

/** "; CPU per request ours(x)/ours(y) = 31.0 µs / 29.0 µs = +6.9%", or "" without figures. */
function cpuCostText(rows: readonly Row[], id: TargetId, base: TargetId): string {
  const us = usPerRequestOf(rows, id, 'server');
  const baseUs = usPerRequestOf(rows, base, 'server');
  if (us === undefined || baseUs === undefined) return '';
  const change = us / baseUs - 1;
  const changeText = Number.isFinite(change)
    ? `${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%`
    : 'n/a';
  return `; CPU per request ours(${id})/ours(${base}) = ${cpuUs(us)} / ${cpuUs(baseUs)} = ${changeText}`;
}

/** "12 span exports received (3.4 MiB)", or why there is no count. */
function exportsText(rows: readonly Row[]): string {
  const row = rows.find((r) => r.id === 'j');
  const counts = row?.outcome.type === 'measured' ? row.outcome.spanExports : undefined;
  if (counts === undefined) return 'span exports not counted';
  const mib = (counts.bytes / (1024 * 1024)).toFixed(1);
  const none = counts.requests === 0 ? ': tracing exported nothing' : '';
  return `${counts.requests} span exports received (${mib} MiB)${none}`;
}

/**
 * The metrics line, when (i) was asked for: (a)'s req/s over (i)'s, PASS at >= 95%, with the
 * CPU per request of each. Non-finite figures (no request completed in (i)) fail.
 */
function metricsCostLine(rows: readonly Row[]): string {
  const withMetrics = rpsOf(rows, 'a');
  const without = rpsOf(rows, 'i');
  if (withMetrics === undefined || without === undefined) {
    const missing = (['a', 'i'] as const).filter((id) => rpsOf(rows, id) === undefined);
    return `metrics cost: not run: ${eachMissing(rows, missing)}`;
  }
  const ratio = withMetrics / without;
  const pass = Number.isFinite(ratio) && ratio >= TARGET_METRICS_RATIO;
  return (
    `${pass ? 'PASS' : 'FAIL'} metrics cost: ours(a)/ours(i) = ${percent(ratio)} of the throughput without metrics ` +
    `(target >= ${TARGET_METRICS_RATIO * 100}%)${cpuCostText(rows, 'a', 'i')}`
  );
}

/**
 * The tracing line, when (i) or (j) was asked for: (j)'s req/s over (i)'s (metrics and tracing
 * together), reported without a bar, with the sink's count; (j) over (a) (tracing alone) when
 * (a) ran.
 */
function tracingCostLine(rows: readonly Row[]): string {
  const tracing = rpsOf(rows, 'j');
  const without = rpsOf(rows, 'i');
  if (tracing === undefined || without === undefined) {
    const missing = (['i', 'j'] as const).filter((id) => rpsOf(rows, id) === undefined);
    return `tracing cost: not run: ${eachMissing(rows, missing)}`;
  }
  const withMetrics = rpsOf(rows, 'a');
  const alone =
    withMetrics === undefined
      ? ''
      : `; ours(j)/ours(a) = ${percent(tracing / withMetrics)} (tracing alone)${cpuCostText(rows, 'j', 'a')}`;
  return (
    `tracing cost: ours(j)/ours(i) = ${percent(tracing / without)} (reported, no target; ${exportsText(rows)})` +
    `${cpuCostText(rows, 'j', 'i')}${alone}`
  );
}

/**
 * The cost of metrics and of tracing on the embedded modern server. Printed only when a
 * target that exists for them, (i) or (j), was asked for; (a) alone prints neither.
 */
function observabilityVerdicts(rows: readonly Row[]): string[] {
  const asked = (id: TargetId): boolean => rows.some((r) => r.id === id);
  return [
    ...(asked('i') ? [metricsCostLine(rows)] : []),
    ...(asked('i') || asked('j') ? [tracingCostLine(rows)] : []),
  ];
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
 * The req/s line of a cluster target: against the best SDK and against the bare proxy hop
 * (h), one verdict over the comparisons that ran, plus cluster/embedded for context.
 */
function clusterThroughputLine(rows: readonly Row[], id: 'f' | 'g', versus: string): string {
  const { ofProxy, sdk } = clusterRatios(rows, id);
  const sdkBar = TARGET_CLUSTER_SDK_RATIO[id];
  const proxyBar = TARGET_CLUSTER_PROXY_RATIO[id];
  const ran: string[] = [];
  const notRun: string[] = [];
  let pass = true;
  if (sdk !== undefined) {
    pass &&= sdk.ratio >= sdkBar;
    ran.push(
      `cluster(${id})/best-SDK(${sdk.id}) = ${sdk.ratio.toFixed(2)}x (target >= ${sdkBar}x)`,
    );
  } else {
    notRun.push(`cluster(${id})/best-SDK not run: ${missingReason(rows, ['c', 'd'])}`);
  }
  if (ofProxy !== undefined) {
    pass &&= ofProxy >= proxyBar;
    ran.push(
      `cluster(${id})/proxy-hop(h) = ${(ofProxy * 100).toFixed(1)}% (target >= ${proxyBar * 100}%)`,
    );
  } else {
    notRun.push(`cluster(${id})/proxy-hop not run: ${missingReason(rows, ['h'])}`);
  }
  const verdict = ran.length === 0 ? '' : `${pass ? 'PASS' : 'FAIL'} `;
  return `${verdict}cluster(${id}): ${[...ran, ...notRun].join('; ')}${versus}`;
}

/**
 * The gateway's CPU per request against the proxy process's of (h) (the upstream echo's is
 * left out: it stands for the worker). Non-finite figures (no request completed) fail.
 */
function gatewayCpuLine(rows: readonly Row[], id: 'f' | 'g', era: string): string {
  const name = `gateway CPU, ${era}`;
  if (figuresOf(rows, 'h') === undefined) {
    return `${name}: not run: ${missingReason(rows, ['h'])} (the bar is the proxy of (h))`;
  }
  const gateway = usPerRequestOf(rows, id, 'gateway');
  const proxy = usPerRequestOf(rows, 'h', 'proxy');
  if (gateway === undefined) return `${name}: not measured (no gateway process in (${id}))`;
  if (proxy === undefined) return `${name}: not measured (no proxy process in (h))`;
  const ratio = gateway / proxy;
  const pass = Number.isFinite(ratio) && ratio <= TARGET_GATEWAY_CPU_RATIO;
  return (
    `${pass ? 'PASS' : 'FAIL'} ${name}: per request gateway(${id}) / proxy(h) = ` +
    `${cpuUs(gateway)} / ${cpuUs(proxy)} = ${ratio.toFixed(2)}x (target <= ${TARGET_GATEWAY_CPU_RATIO}x)`
  );
}

/**
 * For each cluster target that was asked for: throughput against the best SDK and the bare
 * proxy hop (h), the gateway's CPU per request against the proxy's, then the
 * gateway hop at p50 against the embedded server of the same era — from the latency step
 * (one connection: the hop itself; a few connections: light overlap) and from the load
 * (autocannon's p50, 1 ms resolution, at the load's connections: mostly queueing at a
 * saturated gateway). All are printed, passing or not.
 */
function clusterVerdicts(rows: readonly Row[], loadConnections: number): string[] {
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
    out.push(clusterThroughputLine(rows, id, versus));
    out.push(gatewayCpuLine(rows, id, era));
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

const CPU_COLUMNS = [
  ['target: process', 56],
  ['CPU µs/req', 10],
  ['CPU', 6],
] as const;

const usCell = (n: number | undefined): string =>
  n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(1);

/**
 * CPU time per completed request of each process of each measured target, in µs, over the
 * measured run (with the process's share of a core): where a request's cost lands — for a
 * cluster the gateway against each worker, for (h) the proxy against its upstream echo. A
 * target of several processes also gets their sum. Empty when nothing was measured.
 */
export function formatCpuTable(rows: readonly Row[]): string[] {
  const lines: string[] = [];
  for (const r of rows) {
    if (r.outcome.type !== 'measured') continue;
    const { figures, processes } = r.outcome;
    figures.processCores.forEach((cores, i) => {
      const name = processes[i]?.name ?? `process ${i + 1}`;
      lines.push(
        columnsLine(CPU_COLUMNS, [
          `(${r.id}) ${r.label}: ${name}`,
          usCell(figures.processUsPerRequest[i]),
          `${(cores * 100).toFixed(0)}%`,
        ]),
      );
    });
    if (figures.processCores.length > 1) {
      const total = figures.processUsPerRequest.reduce((sum, us) => sum + us, 0);
      lines.push(
        columnsLine(CPU_COLUMNS, [
          `(${r.id}) ${r.label}: sum of ${figures.processCores.length} processes`,
          usCell(total),
          `${(figures.serverCores * 100).toFixed(0)}%`,
        ]),
      );
    }
  }
  if (lines.length === 0) return [];
  return [
    columnsLine(
      CPU_COLUMNS,
      CPU_COLUMNS.map(([title]) => title),
    ),
    ruleLine(CPU_COLUMNS),
    ...lines,
  ];
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
  const line = (cells: readonly string[]): string => columnsLine(LATENCY_COLUMNS, cells);
  const out = [line(LATENCY_COLUMNS.map(([title]) => title)), ruleLine(LATENCY_COLUMNS)];
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
