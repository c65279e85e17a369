/**
 * `npx tsx test/bench/http-server.ts`: what serving the worker's dispatch endpoint with
 * fastify 5 would cost against the plain node:http server it uses. Two targets, each in its
 * own child (targets/dispatch-node-http.ts and targets/dispatch-fastify.ts), do the same
 * dispatch-shaped work (bounded raw body, twelve x-mcp-cluster-* headers read, JSON.parse, a
 * small JSON-RPC result); autocannon loads each on loopback for the same warm-up and measured
 * window, in alternating rounds, best kept. Prints req/s and each server process's CPU per
 * request (from /proc, over the measured run). Options: --rounds N, --duration S, --warmup S,
 * --connections N, --pin (generator on CPU 0, targets on CPU 1).
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { measure, type LoadFigures, type LoadSettings } from './load.js';
import { cpuSeconds, pinSelf, pinTargets, startTarget, type TargetProcess } from './spawn.js';
import { DISPATCH_BENCH_TEXT, type DISPATCH_BENCH_HEADERS } from './targets/dispatch-shape.js';
import type { RequestSpec } from './wire.js';

interface ServerDef {
  readonly id: 'A' | 'B';
  readonly label: string;
  readonly script: string;
}

const SERVERS: readonly ServerDef[] = [
  { id: 'A', label: 'node:http', script: 'test/bench/targets/dispatch-node-http.ts' },
  { id: 'B', label: 'fastify 5', script: 'test/bench/targets/dispatch-fastify.ts' },
];

/** Per request answered in time, or the check before measuring fails the run. */
const CHECK_TIMEOUT_MS = 5_000;
/**
 * fastify counts as costing measurably more when its best CPU per request is above
 * node:http's worst by more than this share (and so outside the round-to-round spread).
 */
const MEASURABLE_SHARE = 0.05;

const progress = (line: string): void => {
  process.stderr.write(`[bench:http] ${line}\n`);
};

const base64url = (value: unknown): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * The twelve envelope headers with values of realistic size, as a gateway sends them: a
 * principal with a few claims (~200 characters of base64url), capabilities, trace context,
 * the signature, nonce and issue time.
 */
function dispatchHeaders(): Record<string, string> {
  const now = Date.now();
  const values: Record<(typeof DISPATCH_BENCH_HEADERS)[number], string> = {
    'x-mcp-cluster-principal': base64url({
      id: 'user-4711@example.com',
      kind: 'user',
      roles: ['reader', 'tools:call'],
      claims: { tenant: 'acme', iss: 'https://idp.example.com', scope: 'mcp:tools' },
    }),
    'x-mcp-cluster-session-id': randomBytes(24).toString('base64url'),
    'x-mcp-cluster-protocol-version': '2025-11-25',
    'x-mcp-cluster-era': 'legacy',
    'x-mcp-cluster-client-capabilities': base64url({
      roots: { listChanged: true },
      sampling: {},
      elicitation: { form: {} },
    }),
    'x-mcp-cluster-traceparent': `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
    'x-mcp-cluster-tracestate': 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    'x-mcp-cluster-deadline': String(now + 30_000),
    'x-mcp-cluster-gateway-id': 'gateway-g1-7f3a9c',
    'x-mcp-cluster-signature': `v1=${randomBytes(32).toString('base64url')}`,
    'x-mcp-cluster-nonce': randomBytes(16).toString('base64url'),
    'x-mcp-cluster-issued-at': String(now),
  };
  return { 'content-type': 'application/json', ...values };
}

/** The bench's tools/call body (wire.ts), as the gateway forwards it to a worker. */
const dispatchCall: RequestSpec = {
  headers: dispatchHeaders(),
  body: (id) =>
    JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: DISPATCH_BENCH_TEXT } },
    }),
};

const answerIsRight = (body: string): boolean => body.includes(`"text":"${DISPATCH_BENCH_TEXT}"`);

/** One request before the load: a target that answers wrong aborts the run. */
async function check(url: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: dispatchCall.headers,
    body: dispatchCall.body('check-1'),
    signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
  });
  const text = await res.text();
  if (res.status !== 200 || !answerIsRight(text) || !text.includes('"id":"check-1"')) {
    throw new Error(`${url} answered ${res.status}: ${text.slice(0, 200)}`);
  }
}

interface Round {
  readonly server: ServerDef;
  readonly round: number;
  readonly figures: LoadFigures;
}

const usOf = (f: LoadFigures): number => f.processUsPerRequest[0] ?? Number.NaN;

function describe(r: Round): string {
  const f = r.figures;
  return (
    `round ${r.round} (${r.server.id}) ${r.server.label.padEnd(9)}` +
    ` ${f.rps.toFixed(0).padStart(7)} req/s  ${usOf(f).toFixed(1).padStart(6)} µs/req` +
    `  ${f.serverCores.toFixed(2)} cores  p50 ${f.p50Ms} ms p99 ${f.p99Ms} ms  errors ${f.errors}`
  );
}

async function loadOne(
  server: ServerDef,
  target: TargetProcess,
  round: number,
  settings: LoadSettings,
): Promise<Round> {
  const figures = await measure(
    target.url,
    dispatchCall,
    settings,
    answerIsRight,
    () => [cpuSeconds(target.pid)],
    () => check(target.url),
  );
  if (figures.errors > 0) throw new Error(`(${server.id}) wrong answers: ${figures.detail}`);
  const result = { server, round, figures };
  progress(describe(result));
  return result;
}

/** The round with the most req/s for each server, and its CPU-per-request spread. */
function summarize(rounds: readonly Round[]): string[] {
  const lines: string[] = [];
  const spread = new Map<string, { best: Round; minUs: number; maxUs: number }>();
  for (const server of SERVERS) {
    const mine = rounds.filter((r) => r.server === server);
    const best = mine.reduce((a, b) => (b.figures.rps > a.figures.rps ? b : a));
    const us = mine.map((r) => usOf(r.figures));
    spread.set(server.id, { best, minUs: Math.min(...us), maxUs: Math.max(...us) });
    lines.push(
      `best (${server.id}) ${server.label}: ${best.figures.rps.toFixed(0)} req/s, ` +
        `${usOf(best.figures).toFixed(1)} µs CPU/req (rounds: ${us.map((u) => u.toFixed(1)).join(', ')} µs)`,
    );
  }
  const a = spread.get('A');
  const b = spread.get('B');
  if (a !== undefined && b !== undefined) {
    const costShare = usOf(b.best.figures) / usOf(a.best.figures) - 1;
    const rpsShare = b.best.figures.rps / a.best.figures.rps - 1;
    const measurable = b.minUs > a.maxUs * (1 + MEASURABLE_SHARE);
    lines.push(
      `fastify vs node:http: ${pct(costShare)} CPU/req, ${pct(rpsShare)} req/s (best rounds); ` +
        (measurable
          ? `fastify costs measurably more per request (its best round > node:http's worst + ${MEASURABLE_SHARE * 100}%)`
          : `no measurable extra cost per request (within the rounds' spread or ${MEASURABLE_SHARE * 100}%)`),
    );
  }
  return lines;
}

const pct = (share: number): string => `${share >= 0 ? '+' : ''}${(share * 100).toFixed(1)}%`;

function options(): { settings: LoadSettings; rounds: number; pin: boolean } {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      pin: { type: 'boolean', default: false },
    },
  });
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  return {
    rounds: positive('rounds', values.rounds),
    pin: values.pin,
    settings: {
      durationS: positive('duration', values.duration),
      warmupS: Number(values.warmup),
      connections: positive('connections', values.connections),
    },
  };
}

async function main(): Promise<void> {
  const { settings, rounds, pin } = options();
  const cpus = availableParallelism();
  if (pin) {
    pinSelf(0);
    pinTargets(1);
  }
  progress(
    `${cpus} CPUs, ${settings.connections} connections, ${settings.warmupS} s warm-up + ` +
      `${settings.durationS} s measured, ${rounds} alternating rounds, ` +
      `${pin ? 'generator on CPU 0, targets on CPU 1' : 'no pinning'}, loopback`,
  );
  const targets = new Map<ServerDef, TargetProcess>();
  const stopAll = (): Promise<unknown> => Promise.all([...targets.values()].map((t) => t.stop()));
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  try {
    for (const server of SERVERS) targets.set(server, await startTarget([server.script]));
    const results: Round[] = [];
    for (let round = 1; round <= rounds; round++) {
      // Alternate which server goes first, so neither always runs on a warmer machine.
      const order = round % 2 === 1 ? SERVERS : [...SERVERS].reverse();
      for (const server of order) {
        const target = targets.get(server);
        if (target === undefined) throw new Error(`(${server.id}) not started`);
        results.push(await loadOne(server, target, round, settings));
      }
    }
    for (const line of summarize(results)) process.stdout.write(`${line}\n`);
  } finally {
    await stopAll();
  }
}

await main();
