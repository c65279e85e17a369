/**
 * The ten targets as the parent sees them: how each is launched, the request it is loaded
 * with, and how one answer is checked before (and after) the load.
 */
import { fileURLToPath } from 'node:url';
import { post } from './client.js';
import { launchCluster } from './cluster.js';
import type { TargetId } from './options.js';
import { startOtlpSink } from './otlp-sink.js';
import { startTarget, TargetStartError, type TargetProcess } from './spawn.js';
import {
  checkEchoResult,
  echoCall,
  INITIALIZE_HEADERS,
  INITIALIZED_BODY,
  initializeBody,
  LEGACY_VERSION,
  legacySessionCall,
  looksLikeEcho,
  modernCall,
  statelessCall,
  type RequestSpec,
} from './wire.js';

export const BENCH_PACK = fileURLToPath(new URL('./pack.ts', import.meta.url));
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** A target answered wrongly: the bench must not load it. */
export class WrongAnswerError extends Error {
  override readonly name = 'WrongAnswerError';
}

export interface TargetDef {
  readonly id: TargetId;
  readonly label: string;
  launch(): Promise<TargetProcess>;
  /** Per-process set-up (a session for (b)); returns the request to load with. */
  prepare(url: string): Promise<RequestSpec>;
  /** Throws WrongAnswerError unless one request gets the right answer. */
  verify(url: string, spec: RequestSpec): Promise<void>;
  readonly verifyBody: (body: string) => boolean;
}

/**
 * Env for our server in either launch mode (and every node of a cluster target): long-lived
 * sessions, quiet logs, metrics on (the default) and tracing off, whatever the shell running
 * the bench sets — only (i) and (j) change those two.
 */
export const OURS_ENV: Readonly<Record<string, string>> = {
  MCP_SESSION_IDLE_MS: '3600000',
  MCP_LOG_LEVEL: 'warn',
  // The memory step opens --sessions (10,000) anonymous sessions: a measurement, not a limit.
  MCP_MAX_SESSIONS_PER_PRINCIPAL: '1000000',
  MCP_MAX_SESSIONS: '1000000',
  MCP_METRICS_ENABLED: 'true',
  OTEL_SDK_DISABLED: 'true',
};

/** (i): our embedded server without metrics, the baseline for their cost. */
const METRICS_OFF_ENV: Readonly<Record<string, string>> = { MCP_METRICS_ENABLED: 'false' };

/**
 * (j): tracing on, to `endpoint` (the bench's sink); metrics stay on. The sampler is named
 * (always on for a request without a parent: 100 %), and the variables that would win over
 * the endpoint or turn the exporter off are emptied (empty counts as unset); OTEL_BSP_* stay
 * at their defaults (batches of 512 spans, a queue of 2048, every 5 s).
 */
export const tracingEnv = (endpoint: string): Readonly<Record<string, string>> => ({
  OTEL_SDK_DISABLED: 'false',
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: '',
  OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  OTEL_TRACES_SAMPLER_ARG: '',
});

let oursMode: 'embedded' | 'cli' | undefined;
let embeddedFailure = '';

/**
 * Our server: startEmbedded when the CLI package exports it, else the `serve` command;
 * `env` goes over OURS_ENV.
 */
export async function launchOurs(
  env: Readonly<Record<string, string>> = {},
): Promise<TargetProcess> {
  const fullEnv = { ...OURS_ENV, ...env };
  if (oursMode !== 'cli') {
    try {
      const proc = await startTarget([here('./targets/ours.ts')], fullEnv);
      oursMode = 'embedded';
      return proc;
    } catch (err) {
      if (!(err instanceof TargetStartError) || oursMode === 'embedded') throw err;
      embeddedFailure = err.message;
      oursMode = 'cli';
    }
  }
  try {
    const args = ['services/cli/src/main.ts', 'serve', '--host', '127.0.0.1', '--port', '0'];
    const proc = await startTarget([...args, '--pack', BENCH_PACK], fullEnv);
    return {
      ...proc,
      note: `CLI serve (startEmbedded unavailable: ${embeddedFailure.split('\n')[0]}); metrics ${fullEnv.MCP_METRICS_ENABLED === 'false' ? 'off' : 'on'}; tracing ${fullEnv.OTEL_SDK_DISABLED === 'true' ? 'off' : 'on'}`,
    };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new TargetStartError(`startEmbedded: ${embeddedFailure}\nCLI: ${reason}`);
  }
}

async function verifyCall(url: string, spec: RequestSpec): Promise<void> {
  const id = `verify-${Date.now()}`;
  const answer = await post(url, spec.headers, spec.body(id));
  if (answer.status !== 200) {
    throw new WrongAnswerError(`HTTP ${answer.status}: ${answer.text.slice(0, 500)}`);
  }
  const problem = checkEchoResult(answer.messages, id);
  if (problem !== undefined) throw new WrongAnswerError(problem);
}

/** initialize + notifications/initialized; returns the session id. */
export async function openLegacySession(url: string, id: string): Promise<string> {
  const init = await post(url, INITIALIZE_HEADERS, initializeBody(id));
  const sessionId = init.headers.get('mcp-session-id');
  if (init.status !== 200 || sessionId === null) {
    throw new WrongAnswerError(
      `initialize: HTTP ${init.status}, session ${sessionId}: ${init.text.slice(0, 500)}`,
    );
  }
  return sessionId;
}

const noPrepare = (spec: RequestSpec) => (): Promise<RequestSpec> => Promise.resolve(spec);

/**
 * (a), (i), (j): before the load, `/metrics` beside the MCP endpoint must be served (200) with
 * metrics on and absent (404) with them off, so a cost is never measured against a server
 * that ignored the switch. The load's request is (a)'s.
 */
const prepareOursModern =
  (metrics: boolean) =>
  async (url: string): Promise<RequestSpec> => {
    const response = await fetch(new URL('/metrics', url));
    await response.arrayBuffer();
    const want = metrics ? 200 : 404;
    if (response.status !== want) {
      throw new WrongAnswerError(
        `GET /metrics: HTTP ${response.status} (want ${want}: metrics ${metrics ? 'on' : 'off'})`,
      );
    }
    return modernCall;
  };

/**
 * (j): our server with tracing on, exporting to a sink in this process that is started with
 * it and closed after it (the server flushes its last spans on the way out).
 */
async function launchOursTracing(): Promise<TargetProcess> {
  const sink = await startOtlpSink();
  try {
    const proc = await launchOurs(tracingEnv(sink.url));
    return {
      ...proc,
      note: `${proc.note ?? 'ours'}; spans to the bench's OTLP sink (node:http in the bench process, 200 {} to every POST)`,
      spanExports: () => sink.counts(),
      async stop() {
        await proc.stop();
        await sink.close();
      },
    };
  } catch (err) {
    await sink.close();
    throw err;
  }
}

/** (b), (g): one legacy session for every connection, initialized before the load. */
async function prepareLegacySession(url: string): Promise<RequestSpec> {
  const sessionId = await openLegacySession(url, 'init-1');
  const spec = legacySessionCall(sessionId);
  const ack = await post(url, spec.headers, INITIALIZED_BODY);
  if (ack.status !== 202) {
    throw new WrongAnswerError(`notifications/initialized: HTTP ${ack.status} (want 202)`);
  }
  return spec;
}

/** (f), (g): 1 gateway + 2 workers with the bench pack; ours' env on every node. */
const launchBenchCluster = (): Promise<TargetProcess> => launchCluster(BENCH_PACK, OURS_ENV);

const ECHO_CHILD = here('./targets/echo.ts');

/**
 * (h): the fastify echo (e) as the upstream, then the proxy in front of it, each its own
 * child; CPU is read from both (the proxy first), stop() ends both.
 */
async function launchProxyHop(): Promise<TargetProcess> {
  const upstream = await startTarget([ECHO_CHILD]);
  try {
    const proxy = await startTarget([here('./targets/proxy.ts')], {
      BENCH_UPSTREAM_URL: upstream.url,
    });
    return {
      url: proxy.url,
      pid: proxy.pid,
      pids: [proxy.pid, upstream.pid],
      processes: [
        { role: 'proxy', name: 'proxy' },
        { role: 'upstream', name: 'upstream echo' },
      ],
      note: proxy.note,
      stderrTail: () =>
        `--- proxy:\n${proxy.stderrTail() || '(empty)'}\n--- upstream echo:\n${upstream.stderrTail() || '(empty)'}`,
      async stop() {
        await proxy.stop();
        await upstream.stop();
      },
    };
  } catch (err) {
    await upstream.stop();
    throw err;
  }
}

/** (e), (h): the answer must be the request body itself, re-serialized by the echo. */
async function verifyEchoed(url: string, spec: RequestSpec): Promise<void> {
  const body = spec.body('verify-echo');
  const answer = await post(url, spec.headers, body);
  if (answer.status !== 200 || JSON.stringify(answer.messages[0]) !== body) {
    throw new WrongAnswerError(`echo: HTTP ${answer.status}: ${answer.text.slice(0, 500)}`);
  }
}

export const TARGETS: readonly TargetDef[] = [
  {
    id: 'a',
    label: 'ours, modern 2026-07-28',
    launch: () => launchOurs(),
    prepare: prepareOursModern(true),
    verify: verifyCall,
    verifyBody: looksLikeEcho,
  },
  // Right after (a), so that the three runs of the same server are close in time.
  {
    id: 'i',
    label: 'ours, modern, metrics off',
    launch: () => launchOurs(METRICS_OFF_ENV),
    prepare: prepareOursModern(false),
    verify: verifyCall,
    verifyBody: looksLikeEcho,
  },
  {
    id: 'j',
    label: 'ours, modern, tracing on (100 %)',
    launch: launchOursTracing,
    prepare: prepareOursModern(true),
    verify: verifyCall,
    verifyBody: looksLikeEcho,
  },
  {
    id: 'b',
    label: `ours, legacy session ${LEGACY_VERSION}`,
    launch: () => launchOurs(),
    prepare: prepareLegacySession,
    verify: verifyCall,
    verifyBody: looksLikeEcho,
  },
  {
    id: 'c',
    label: 'SDK v1 stateless (per-request)',
    launch: () => startTarget([here('./targets/sdk-v1.ts')]),
    prepare: noPrepare(statelessCall),
    verify: verifyCall,
    verifyBody: looksLikeEcho,
  },
  {
    id: 'd',
    label: 'SDK v2 createMcpHandler, modern',
    launch: () => startTarget([here('./targets/sdk-v2.ts')]),
    prepare: noPrepare(modernCall),
    verify: verifyCall,
    verifyBody: looksLikeEcho,
  },
  {
    id: 'e',
    label: 'fastify JSON echo (ceiling)',
    launch: () => startTarget([ECHO_CHILD]),
    prepare: noPrepare(echoCall),
    verify: verifyEchoed,
    verifyBody: looksLikeEcho,
  },
  {
    id: 'f',
    label: 'cluster, modern 2026-07-28',
    launch: launchBenchCluster,
    prepare: noPrepare(modernCall),
    verify: verifyCall,
    verifyBody: looksLikeEcho,
  },
  {
    id: 'g',
    label: `cluster, legacy session ${LEGACY_VERSION}`,
    launch: launchBenchCluster,
    prepare: prepareLegacySession,
    verify: verifyCall,
    verifyBody: looksLikeEcho,
  },
  {
    id: 'h',
    label: 'bare Node proxy hop',
    launch: launchProxyHop,
    // (f)'s request exactly (headers and body); the echo behind the proxy returns the body.
    prepare: noPrepare(modernCall),
    verify: verifyEchoed,
    verifyBody: looksLikeEcho,
  },
];
