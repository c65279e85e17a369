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
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly total: number;
  /** Socket errors + timeouts + non-2xx + answers that were not the echo result. */
  readonly errors: number;
  /** CPU the target process used during the measured run, in cores (1 = one core busy). */
  readonly serverCores: number;
  /** Requests per CPU-second of the target: its efficiency, whatever the generator's share. */
  readonly perCpuSecond: number;
  /** CPU the load generator (this process) used during the measured run, in cores. */
  readonly generatorCores: number;
  readonly detail: string;
}

function run(
  url: string,
  spec: RequestSpec,
  connections: number,
  durationS: number,
  verifyBody: (body: string) => boolean,
): PromiseLike<Result> {
  // A fresh id per request, spliced into the body text once serialized. (autocannon's own
  // idReplacement sends a wrong Content-Length with its hyperids, so it is not used.)
  const [head, tail] = spec.body(ID_PLACEHOLDER).split(ID_PLACEHOLDER) as [string, string];
  let seq = 0;
  return autocannon({
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
    verifyBody,
  });
}

export async function measure(
  url: string,
  spec: RequestSpec,
  settings: LoadSettings,
  verifyBody: (body: string) => boolean,
  cpuSeconds: () => number,
  beforeMeasuring: () => Promise<void>,
): Promise<LoadFigures> {
  if (settings.warmupS > 0) {
    await run(url, spec, settings.connections, settings.warmupS, verifyBody);
  }
  await beforeMeasuring();
  const cpuBefore = cpuSeconds();
  const ownBefore = process.cpuUsage();
  const r = await run(url, spec, settings.connections, settings.durationS, verifyBody);
  const cpu = cpuSeconds() - cpuBefore;
  const own = process.cpuUsage(ownBefore);
  const errors = r.errors + r.non2xx + r.mismatches;
  return {
    serverCores: cpu / r.duration,
    generatorCores: (own.user + own.system) / 1e6 / r.duration,
    perCpuSecond: cpu > 0 ? r.requests.total / cpu : 0,
    rps: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    total: r.requests.total,
    errors,
    detail:
      `errors=${r.errors} timeouts=${r.timeouts} non2xx=${r.non2xx} mismatches=${r.mismatches}` +
      ` status=${JSON.stringify(Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count])))}`,
  };
}
