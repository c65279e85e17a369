/**
 * `pnpm bench`: one run, one load generator (autocannon, in this process), loopback only.
 * Each target runs in its own child process (a cluster target: its own gateway and worker
 * processes); each is verified before it is loaded (a wrong answer aborts the bench) and
 * again after. After its load, each of (a), (b), (e), (f), (g), (h) gets the latency step
 * (latency.ts: µs round trips on 1 and on a few connections). Prints the tables (with each
 * target process's CPU per request), the ratios with PASS/FAIL against the performance targets
 * (never failing the process for a missed target), and the RSS of our server idle and after N
 * idle legacy sessions. Options: see options.ts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { stopClusterServices } from './cluster.js';
import { describeLatency, measureLatencies, medianLatency, type LatencyResult } from './latency.js';
import { measure } from './load.js';
import { resolveOptions, type BenchOptions, type TargetId } from './options.js';
import {
  formatCpuTable,
  formatLatencyTable,
  formatMemory,
  formatNotes,
  formatTable,
  formatVerdicts,
  type Row,
} from './report.js';
import { measureSessionMemory, type MemoryFigures } from './sessions.js';
import { describeSettle, settle, SETTLE_STABLE_MS } from './settle.js';
import { cpuSeconds, pinSelf, pinTargets, TargetStartError, type TargetProcess } from './spawn.js';
import { launchOurs, TARGETS, WrongAnswerError, type TargetDef } from './targets.js';
import { modernCall } from './wire.js';

const progress = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return match?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const loadavgText = (): string =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

const rpsOfRow = (row: Row): number =>
  row.outcome.type === 'measured' ? row.outcome.figures.rps : -1;

/**
 * Targets that get the latency step: the two embedded and the two cluster targets (the hop is
 * their difference), the echo, the floor of one loopback HTTP round trip, and the bare proxy
 * hop (h), the floor of one proxied round trip.
 */
const LATENCY_TARGETS: ReadonlySet<TargetId> = new Set(['a', 'b', 'e', 'f', 'g', 'h']);

const latencyOfRow = (row: Row): LatencyResult | undefined =>
  row.outcome.type === 'measured' ? row.outcome.latency : undefined;

/** With several rounds each target's row gets its median round of the latency step. */
function withLatency(row: Row, latency: LatencyResult | undefined): Row {
  if (row.outcome.type !== 'measured' || latency === undefined) return row;
  return { ...row, outcome: { ...row.outcome, latency } };
}

/** Verifies and loads a started target, then (for some targets) runs the latency step. */
async function measureTarget(
  def: TargetDef,
  proc: TargetProcess,
  opts: BenchOptions,
): Promise<Row> {
  try {
    const spec = await def.prepare(proc.url);
    await def.verify(proc.url, spec);
    progress(`(${def.id}) verified at ${proc.url}${proc.note ? ` [${proc.note}]` : ''}; loading`);
    const pids = proc.pids;
    const serverCpu = (): number[] => pids.map(cpuSeconds);
    // After a load run the target must answer right again before it is measured or passed.
    const waits: string[] = [];
    const settled = async (when: string, stableMs: number): Promise<void> => {
      const result = await settle(() => def.verify(proc.url, spec), { stableMs });
      const line = describeSettle(when, result);
      if (line === undefined) return;
      waits.push(line);
      progress(`(${def.id}) ${line}`);
    };
    const figures = await measure(proc.url, spec, opts, def.verifyBody, serverCpu, () =>
      opts.warmupS > 0 ? settled('after the warm-up', SETTLE_STABLE_MS) : Promise.resolve(),
    );
    // Where a multi-process target spends its CPU (which node is the bottleneck).
    const perProcess =
      pids.length > 1
        ? `server CPU per process: ${figures.processCores.map((c, i) => `${proc.processes[i]?.name ?? `#${i + 1}`} ${(c * 100).toFixed(0)}%`).join(' + ')}`
        : undefined;
    progress(
      `(${def.id}) ${figures.rps.toFixed(0)} req/s, server ${figures.serverCores.toFixed(2)} cores${perProcess === undefined ? '' : ` (${perProcess})`}, generator ${figures.generatorCores.toFixed(2)} cores, ${figures.detail}`,
    );
    await settled('after the measured run', 0);
    let latency: LatencyResult | undefined;
    if (LATENCY_TARGETS.has(def.id) && opts.latencyRequests > 0) {
      latency = await measureLatencies(proc.url, spec, def.verifyBody, {
        requests: opts.latencyRequests,
        warmupMs: opts.latencyWarmupMs,
        connections: opts.latencyConnections,
      });
      for (const f of [latency.unloaded, latency.concurrent]) {
        if (f !== undefined) progress(`(${def.id}) latency, ${describeLatency(f)}`);
      }
    }
    const notes = [
      ...(proc.note === undefined ? [] : [proc.note]),
      ...(perProcess === undefined ? [] : [perProcess]),
      ...waits,
    ];
    const outcome = {
      type: 'measured',
      figures,
      processes: proc.processes,
      ...(notes.length > 0 && { note: notes.join('\n    ') }),
      ...(latency !== undefined && { latency }),
    } as const;
    return { id: def.id, label: def.label, outcome };
  } catch (err) {
    // The v2 SDK target is optional: say why it is missing and go on.
    if (def.id === 'd') {
      const reason = `${err instanceof Error ? err.message : String(err)}\n${proc.stderrTail()}`;
      return { id: def.id, label: def.label, outcome: { type: 'skipped', reason } };
    }
    if (err instanceof WrongAnswerError) {
      throw new WrongAnswerError(`(${def.id}) ${def.label}: ${err.message}\n${proc.stderrTail()}`);
    }
    throw err;
  }
}

/** One target's row; the OTLP sink's counts are read once the target has stopped (flushed). */
async function benchTarget(def: TargetDef, opts: BenchOptions): Promise<Row> {
  progress(`(${def.id}) ${def.label}: starting`);
  let proc: TargetProcess;
  try {
    proc = await def.launch();
  } catch (err) {
    if (!(err instanceof TargetStartError)) throw err;
    return { id: def.id, label: def.label, outcome: { type: 'skipped', reason: err.message } };
  }
  let row: Row;
  try {
    row = await measureTarget(def, proc, opts);
  } finally {
    await proc.stop();
  }
  if (row.outcome.type !== 'measured' || proc.spanExports === undefined) return row;
  const spanExports = proc.spanExports();
  progress(
    `(${def.id}) OTLP sink: ${spanExports.requests} span exports, ${spanExports.bytes} bytes`,
  );
  return { ...row, outcome: { ...row.outcome, spanExports } };
}

const withBlankAfter = (lines: readonly string[]): string[] =>
  lines.length === 0 ? [] : [...lines, ''];

async function memoryStep(opts: BenchOptions): Promise<MemoryFigures | string> {
  progress(`RSS step: fresh server of ours, then ${opts.sessions} idle legacy sessions`);
  let proc: TargetProcess;
  try {
    proc = await launchOurs();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  try {
    const ours = TARGETS.find((t) => t.id === 'a');
    await ours?.verify(proc.url, modernCall);
    return await measureSessionMemory(proc, opts.sessions, opts.connections);
  } catch (err) {
    return `${err instanceof Error ? err.message : String(err)}\n${proc.stderrTail()}`;
  } finally {
    await proc.stop();
  }
}

async function main(): Promise<void> {
  const opts = resolveOptions(process.argv.slice(2), process.env);
  // Read before pinning: a pinned process sees one CPU.
  const cpus = availableParallelism();
  if (opts.pin) {
    if (cpus < 2) throw new Error('--pin needs at least 2 CPUs');
    pinSelf(0);
    pinTargets(1);
  }
  const header = [
    `mcp-cluster bench — ${new Date().toISOString()} — commit ${gitCommit()}`,
    `machine: ${cpuModel()}, ${cpus} CPUs; node ${process.version}`,
    `load: autocannon, ${opts.connections} connections, ${opts.warmupS} s warm-up + ${opts.durationS} s measured per target, ${opts.rounds} round(s) (best kept), ${opts.pin ? 'generator pinned to CPU 0 and targets to CPU 1' : 'no CPU pinning'}, POST tools/call "echo", loopback`,
    opts.latencyRequests > 0
      ? `latency step (${[...LATENCY_TARGETS].join(', ')}, after their load): node:http keep-alive, closed loop, ${opts.latencyWarmupMs} ms untimed then ${opts.latencyRequests} timed requests on 1 connection${opts.latencyConnections > 1 ? ` and again on ${opts.latencyConnections}` : ''}, performance.now()`
      : 'latency step: off',
    `host load average at start: ${loadavgText()}`,
  ];
  progress(header.join('\n[bench] '));

  // Rounds interleave the targets so a load spike on a shared host hits all of them alike.
  const best = new Map<string, Row>();
  const latencies = new Map<string, LatencyResult[]>();
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      if (opts.rounds > 1) progress(`round ${round} of ${opts.rounds}`);
      for (const def of TARGETS.filter((t) => opts.targets.includes(t.id))) {
        const row = await benchTarget(def, opts);
        const previous = best.get(def.id);
        if (previous === undefined || rpsOfRow(row) > rpsOfRow(previous)) best.set(def.id, row);
        const latency = latencyOfRow(row);
        if (latency !== undefined)
          latencies.set(def.id, [...(latencies.get(def.id) ?? []), latency]);
      }
    }
  } finally {
    await stopClusterServices();
  }
  const rows = [...best.values()].map((r) =>
    withLatency(r, medianLatency(latencies.get(r.id) ?? [])),
  );
  const wantsOurs = opts.targets.includes('a') || opts.targets.includes('b');
  const memory = wantsOurs && opts.sessions > 0 ? await memoryStep(opts) : undefined;

  const out = [
    '',
    ...header,
    '',
    formatTable(rows),
    '',
    ...formatNotes(rows),
    '',
    ...withBlankAfter(formatCpuTable(rows)),
    ...withBlankAfter(formatLatencyTable(rows)),
    ...formatVerdicts(rows, opts.connections),
    `host load average at end: ${loadavgText()}`,
    ...(memory === undefined
      ? []
      : typeof memory === 'string'
        ? [`RSS step not measured: ${memory}`]
        : formatMemory(memory)),
    '',
  ];
  process.stdout.write(out.join('\n'));
}

try {
  await main();
} catch (err) {
  process.stderr.write(
    `[bench] ABORTED: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`,
  );
  process.exitCode = 1;
}
