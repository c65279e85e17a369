/**
 * The latency step: round-trip times of the load's own request, timed with
 * `performance.now()` (microseconds) instead of autocannon's whole milliseconds, on a closed
 * loop of a few keep-alive connections: one (no queueing anywhere: what a request costs) and
 * a small fixed number (some overlap, well below the load). This is what the gateway hop is
 * judged on; the load's p50 at 50 connections mostly measures queueing at a saturated server.
 *
 * The client is `node:http` with a keep-alive Agent of `connections` sockets (undici is not a
 * dependency of the bench; the client's own cost is the same for every target and cancels in
 * a difference of two targets).
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { ID_PLACEHOLDER, type RequestSpec } from './wire.js';

/** Bound on one request; past it the request counts as an error (autocannon's own is 10 s). */
export const LATENCY_REQUEST_TIMEOUT_MS = 10_000;

export interface LatencySettings {
  /** Timed requests (right answers and errors alike), after the warm-up. */
  readonly requests: number;
  /**
   * Untimed requests come first, on the same connections, for this long. Time, not a count:
   * right after a load run a server is slow for a while (0.5 s for ours, 1.5 s for the
   * cluster on the bench host), however few requests that is.
   */
  readonly warmupMs: number;
  /** Keep-alive connections, each sending its next request when its answer is in. */
  readonly connections: number;
}

export interface LatencyFigures {
  readonly connections: number;
  /** Untimed requests sent in the warm-up (all connections). */
  readonly warmupRequests: number;
  /** Right answers timed; the percentiles are over these only (as autocannon's over 2xx). */
  readonly samples: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  /** Timed requests whose answer was not the echo result (status, body, socket, timeout). */
  readonly errors: number;
  /** The first of those errors, for the report. */
  readonly firstError: string | undefined;
  /** Distinct sockets used: more than `connections` means a connection broke and was redone. */
  readonly sockets: number;
}

/** Nearest-rank percentile `p` (0 < p <= 100) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

type Outcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      body += chunk;
    });
    res.on('end', () => resolve(body));
    res.on('error', reject);
  });
}

/**
 * Sends requests of `spec` to `url`, each with a fresh id, over `settings.connections`
 * keep-alive connections in a closed loop: untimed for `settings.warmupMs`, then
 * `settings.requests` timed ones, and returns the percentiles of the timed right answers.
 * Every answer is checked with `verifyBody` (the load's check) and must be HTTP 200. Bounded:
 * a warm-up time, a fixed number of timed requests, and a timeout on each request.
 */
export async function measureLatency(
  url: string,
  spec: RequestSpec,
  verifyBody: (body: string) => boolean,
  settings: LatencySettings,
): Promise<LatencyFigures> {
  const [head, tail] = spec.body(ID_PLACEHOLDER).split(ID_PLACEHOLDER) as [string, string];
  const agent = new Agent({
    keepAlive: true,
    maxSockets: settings.connections,
    maxFreeSockets: settings.connections,
  });
  const sockets = new Set<Socket>();
  const target = new URL(url);

  const send = (id: string): Promise<Outcome> =>
    new Promise((resolve) => {
      const body = `${head}${id}${tail}`;
      const req = request(
        target,
        {
          method: 'POST',
          agent,
          headers: { ...spec.headers, 'content-length': Buffer.byteLength(body) },
          timeout: LATENCY_REQUEST_TIMEOUT_MS,
        },
        (res) => {
          readBody(res).then(
            (text) => {
              if (res.statusCode !== 200) {
                resolve({ ok: false, reason: `HTTP ${res.statusCode}: ${text.slice(0, 200)}` });
              } else if (!verifyBody(text)) {
                resolve({ ok: false, reason: `not the echo result: ${text.slice(0, 200)}` });
              } else {
                resolve({ ok: true });
              }
            },
            (err: unknown) => resolve({ ok: false, reason: `reading the body: ${String(err)}` }),
          );
        },
      );
      req.on('socket', (socket) => {
        if (sockets.has(socket)) return;
        sockets.add(socket);
        // A small request written in one piece must not wait for Nagle on any target.
        socket.setNoDelay(true);
      });
      req.on('timeout', () => {
        req.destroy(new Error(`no answer within ${LATENCY_REQUEST_TIMEOUT_MS} ms`));
      });
      req.on('error', (err) => resolve({ ok: false, reason: err.message }));
      req.end(body);
    });

  const timesUs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let warmupSent = 0;
  let next = 0;
  const warmupEnd = performance.now() + settings.warmupMs;
  const loop = async (): Promise<void> => {
    // Warm-up answers are not checked: a wrong one still shows in the timed part if it lasts.
    while (performance.now() < warmupEnd) await send(`lat-w${warmupSent++}`);
    while (next < settings.requests) {
      const n = next++;
      const started = performance.now();
      const outcome = await send(`lat-${n}`);
      const elapsedUs = (performance.now() - started) * 1000;
      if (outcome.ok) {
        timesUs.push(elapsedUs);
      } else {
        errors++;
        firstError ??= outcome.reason;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: settings.connections }, loop));
  } finally {
    agent.destroy();
  }
  timesUs.sort((x, y) => x - y);
  return {
    connections: settings.connections,
    warmupRequests: warmupSent,
    samples: timesUs.length,
    p50Us: percentile(timesUs, 50),
    p90Us: percentile(timesUs, 90),
    p99Us: percentile(timesUs, 99),
    errors,
    firstError,
    sockets: sockets.size,
  };
}

/** The step for one target: one connection, then (when asked for) a few in a closed loop. */
export interface LatencyResult {
  readonly unloaded: LatencyFigures;
  readonly concurrent: LatencyFigures | undefined;
}

export async function measureLatencies(
  url: string,
  spec: RequestSpec,
  verifyBody: (body: string) => boolean,
  opts: LatencySettings,
): Promise<LatencyResult> {
  const base = { requests: opts.requests, warmupMs: opts.warmupMs };
  const unloaded = await measureLatency(url, spec, verifyBody, { ...base, connections: 1 });
  const concurrent =
    opts.connections > 1
      ? await measureLatency(url, spec, verifyBody, { ...base, connections: opts.connections })
      : undefined;
  return { unloaded, concurrent };
}

/** One progress/report line for a measured step. */
export function describeLatency(f: LatencyFigures): string {
  const us = (n: number): string => n.toFixed(0);
  const broken = f.sockets > f.connections ? `, ${f.sockets} sockets used` : '';
  const errs = f.errors > 0 ? `, ${f.errors} errors (first: ${f.firstError ?? '-'})` : '';
  return `${f.connections} conn: p50 ${us(f.p50Us)} µs, p90 ${us(f.p90Us)} µs, p99 ${us(f.p99Us)} µs over ${f.samples} answers (after ${f.warmupRequests} untimed)${broken}${errs}`;
}

/**
 * Of several rounds' results for one target, the one with the median one-connection p50 (the
 * lower middle for an even count; rounds without a right answer count as the slowest). Not the
 * lowest: a one-connection ping-pong is sometimes much faster by luck of scheduling (client and
 * server on one CPU), and the hop is a difference of two targets' figures.
 */
export function medianLatency(results: readonly LatencyResult[]): LatencyResult | undefined {
  const key = (r: LatencyResult): number =>
    Number.isNaN(r.unloaded.p50Us) ? Number.POSITIVE_INFINITY : r.unloaded.p50Us;
  const sorted = [...results].sort((x, y) => key(x) - key(y));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}
