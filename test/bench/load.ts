/**
 * The load generator: autocannon in the parent process, the same settings for every
 * target. A warm-up run is discarded; the measured run follows on fresh connections, once
 * `beforeMeasuring` (the caller's check that the target answers right) has resolved.
 */
import autocannon, { type Result } from 'autocannon';
import { ID_PLACEHOLDER, type RequestSpec } from './wire.js';

export interface LoadSettings {
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
}

export interface LoadFigures {
  /** Right answers per second: an error answer is not throughput. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Every response (right or not). */
  readonly total: number;
  /** Socket errors and timeouts + responses that were not the echo result (non-2xx included). */
  readonly errors: number;
  /** CPU the target process used during the measured run, in cores (1 = one core busy). */
  readonly serverCores: number;
  /** The same per target process, in the order of the target's pids (a cluster: g1, w1, w2). */
  readonly processCores: readonly number[];
  /**
   * CPU time per completed request of each target process, in µs (same order): where each
   * request's cost lands (a cluster: the gateway's share against each worker's). NaN when no
   * request completed.
   */
  readonly processUsPerRequest: readonly number[];
  /** Right answers per CPU-second of the target: its efficiency, whatever the generator's share. */
  readonly perCpuSecond: number;
  /** CPU the load generator (this process) used during the measured run, in cores. */
  readonly generatorCores: number;
  readonly detail: string;
}

/** One autocannon run and the number of responses whose body passed `verifyBody`. */
async function run(
  url: string,
  spec: RequestSpec,
  connections: number,
  durationS: number,
  verifyBody: (body: string) => boolean,
): Promise<{ result: Result; right: number }> {
  // A fresh id per request, spliced into the body text once serialized. (autocannon's own
  // idReplacement sends a wrong Content-Length with its hyperids, so it is not used.)
  const [head, tail] = spec.body(ID_PLACEHOLDER).split(ID_PLACEHOLDER) as [string, string];
  let seq = 0;
  // autocannon calls verifyBody for every response it reads, whatever the status.
  let right = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { ...spec.headers },
    requests: [
      {
        setupRequest: (request) => {
          request.body = `${head}${++seq}${tail}`;
          return request;
        },
      },
    ],
    connections,
    duration: durationS,
    timeout: 10,
    verifyBody: (body) => {
      const ok = verifyBody(body);
      if (ok) right++;
      return ok;
    },
  });
  return { result, right };
}

export async function measure(
  url: string,
  spec: RequestSpec,
  settings: LoadSettings,
  verifyBody: (body: string) => boolean,
  /** CPU seconds used so far by each process of the target. */
  cpuSeconds: () => readonly number[],
  beforeMeasuring: () => Promise<void>,
): Promise<LoadFigures> {
  if (settings.warmupS > 0) {
    await run(url, spec, settings.connections, settings.warmupS, verifyBody);
  }
  await beforeMeasuring();
  const cpuBefore = cpuSeconds();
  const ownBefore = process.cpuUsage();
  const { result: r, right } = await run(
    url,
    spec,
    settings.connections,
    settings.durationS,
    verifyBody,
  );
  const cpuAfter = cpuSeconds();
  const processCpu = cpuAfter.map((s, i) => s - (cpuBefore[i] ?? 0));
  const cpu = processCpu.reduce((sum, s) => sum + s, 0);
  const own = process.cpuUsage(ownBefore);
  // Each wrong response once (a non-2xx is also a body mismatch), plus socket errors/timeouts.
  const errors = r.errors + Math.max(0, r.requests.total - right);
  return {
    serverCores: cpu / r.duration,
    processCores: processCpu.map((s) => s / r.duration),
    processUsPerRequest: processCpu.map((s) =>
      r.requests.total > 0 ? (s * 1e6) / r.requests.total : Number.NaN,
    ),
    generatorCores: (own.user + own.system) / 1e6 / r.duration,
    perCpuSecond: cpu > 0 ? right / cpu : 0,
    rps: right / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    total: r.requests.total,
    errors,
    detail:
      `responses=${r.requests.total} right=${right} errors=${r.errors} timeouts=${r.timeouts} non2xx=${r.non2xx} mismatches=${r.mismatches}` +
      ` status=${JSON.stringify(Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count])))}`,
  };
}
