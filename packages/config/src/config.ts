/**
 * The one configuration of an mcp-cluster node: named defaults, one zod schema, and
 * `resolveConfig` (normalize, merge over defaults, validate, freeze).
 */
import { CidrSchema } from './auth/authz.js';
import { AuthConfigSchema } from './auth/schema.js';
import { TlsConfigSchema } from './auth/tls.js';
import { SamplingConfigSchema } from './sampling.js';
import { z } from 'zod';

/** Bind address; loopback unless configured (DNS-rebinding hygiene). */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 3000;
/** The Streamable HTTP endpoint. */
export const DEFAULT_PATH = '/mcp';
/** Hostnames accepted in `Host` (any port). `*` accepts every host. */
export const DEFAULT_ALLOWED_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];
/** Hostnames accepted in `Origin` (any scheme and port). `*` accepts every origin. */
export const DEFAULT_ALLOWED_ORIGINS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];
export const DEFAULT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_JSON_DEPTH = 64;
/** Longest string in a JSON message (key or value), in characters of JSON text. */
export const DEFAULT_MAX_STRING_LENGTH = 1024 * 1024;
/** Most messages in one JSON-RPC batch (2025-03-26 sessions); a longer batch is refused whole. */
export const DEFAULT_MAX_BATCH_LENGTH = 100;
export const DEFAULT_SESSION_IDLE_MS = 30 * 60 * 1000;
export const DEFAULT_LOG_LEVEL = 'info';
export const DEFAULT_SERVER_NAME = 'mcp-cluster';
export const DEFAULT_SERVER_VERSION = '0.1.0';
/** `retry:` advertised on SSE streams of sessions at >= 2025-11-25. */
export const DEFAULT_SSE_RETRY_MS = 5000;
/** Events kept per SSE stream for Last-Event-ID replay. */
export const DEFAULT_MAX_EVENT_LOG = 256;
/** Keep-alive comment interval on long-lived SSE streams (GET, subscriptions/listen). */
export const DEFAULT_KEEP_ALIVE_MS = 15_000;
/**
 * Legacy sessions one principal may hold at once (the anonymous caller is one principal);
 * `initialize` beyond it is refused with 429 / -32012.
 */
export const DEFAULT_MAX_SESSIONS_PER_PRINCIPAL = 100;
/**
 * Legacy sessions held at once by an embedded node, or by a whole cluster (counted in Redis,
 * across every gateway); `initialize` beyond it is refused with 503 / -32016.
 */
export const DEFAULT_MAX_SESSIONS = 10_000;
/** Time a client gets to send a request's head (request line + headers); 408 after. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Time a client gets to send a whole request (head + body); 408 after. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Connections one client address may hold open at once; more are refused (503). */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;

/** Key prefix in Redis and subject prefix on NATS (one cluster per prefix). */
export const DEFAULT_CLUSTER_PREFIX = 'mcp';
/** Router strategy of a gateway. */
export const DEFAULT_STRATEGY = 'round-robin';
/** How often a worker renews its registry record (the record lives 15 s). */
export const DEFAULT_HEARTBEAT_MS = 3_000;
/** How long a draining worker lets in-flight requests finish on SIGTERM. */
export const DEFAULT_DRAIN_MS = 8_000;
/**
 * How long a draining gateway lets in-flight requests finish: with the default delay (0) and
 * the few seconds closing takes, inside Kubernetes' default terminationGracePeriodSeconds (30).
 */
export const DEFAULT_GATEWAY_DRAIN_TIMEOUT_MS = 20_000;
/** Upper bound a gateway gives one dispatch to a worker (the envelope's deadline). */
export const DEFAULT_DISPATCH_TIMEOUT_MS = 300_000;
/** BullMQ lock of a running task: a crashed worker's task is taken over after this long. */
export const DEFAULT_TASK_LOCK_MS = 10_000;
/** Gateway: connecting to a worker takes longer than this: it is not there. */
export const DEFAULT_DISPATCH_CONNECT_TIMEOUT_MS = 2_000;
/** Gateway: a worker sends no byte of its answer for this long after a dispatch: hung. */
export const DEFAULT_DISPATCH_FIRST_BYTE_TIMEOUT_MS = 5_000;
/** Gateway: period of the active health probe of each worker. */
export const DEFAULT_WORKER_PROBE_INTERVAL_MS = 2_000;
/**
 * Requests one worker runs at once. Plenty for a Node process serving I/O-bound tools, low
 * enough that a flood waits at the gateway (bounded) instead of inside one event loop; and
 * equal to a gateway's connections per worker, so an admitted dispatch never waits inside the
 * HTTP client for a connection (where its signature ages and the first-byte timeout runs).
 */
export const DEFAULT_MAX_CONCURRENCY = 128;
/** Requests a gateway holds waiting for a worker slot: a few seconds of a busy cluster's load. */
export const DEFAULT_GATEWAY_QUEUE_MAX = 1_000;
/**
 * Longest wait for a worker slot: most tool calls end well within it, and a client told to
 * retry after it (Retry-After: 1) has not waited for a timeout of its own.
 */
export const DEFAULT_GATEWAY_QUEUE_TIMEOUT_MS = 2_000;
/** Shortest dispatch secret accepted (32 characters: 192 bits or more of base64url). */
export const MIN_DISPATCH_SECRET_LENGTH = 32;
/**
 * Worker: how long after the gateway signed it a dispatch still runs (once: its nonce is then
 * remembered). Independent of the request deadline; only bounds a dispatch's way to a worker.
 */
export const DEFAULT_DISPATCH_SIGNATURE_VALIDITY_MS = 30_000;
/** Worker: how far its clock may be from a gateway's, either way, when it checks an issue time. */
export const DEFAULT_DISPATCH_CLOCK_SKEW_MS = 5_000;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const hostname = z.string().trim().min(1).toLowerCase();

const stateKey = z.object({
  id: z.string().min(1),
  secret: z.string().min(16, 'state key secrets must be at least 16 characters'),
});

export const ConfigSchema = z.strictObject({
  host: z.string().trim().min(1).default(DEFAULT_HOST),
  port: z.number().int().min(0).max(65535).default(DEFAULT_PORT),
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\-/]*$/, 'path must start with "/" and be URL-safe')
    .default(DEFAULT_PATH),
  packs: z.array(z.string().trim().min(1)).default([]),
  allowedHosts: z
    .array(hostname)
    .min(1)
    .default([...DEFAULT_ALLOWED_HOSTS]),
  allowedOrigins: z
    .array(hostname)
    .min(1)
    .default([...DEFAULT_ALLOWED_ORIGINS]),
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(DEFAULT_BODY_LIMIT_BYTES),
  maxJsonDepth: z.number().int().min(2).max(10_000).default(DEFAULT_MAX_JSON_DEPTH),
  maxStringLength: z.number().int().min(64).default(DEFAULT_MAX_STRING_LENGTH),
  maxBatchLength: z.number().int().min(1).max(100_000).default(DEFAULT_MAX_BATCH_LENGTH),
  sessionIdleMs: z.number().int().min(1000).default(DEFAULT_SESSION_IDLE_MS),
  stateKeys: z.array(stateKey).default([]),
  logLevel: z.enum(LOG_LEVELS).default(DEFAULT_LOG_LEVEL),
  serverName: z.string().min(1).default(DEFAULT_SERVER_NAME),
  serverVersion: z.string().min(1).default(DEFAULT_SERVER_VERSION),
  sseRetryMs: z.number().int().min(0).default(DEFAULT_SSE_RETRY_MS),
  maxEventLog: z.number().int().min(0).max(100_000).default(DEFAULT_MAX_EVENT_LOG),
  keepAliveMs: z.number().int().min(100).default(DEFAULT_KEEP_ALIVE_MS),
  maxSessionsPerPrincipal: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(DEFAULT_MAX_SESSIONS_PER_PRINCIPAL),
  maxSessions: z.number().int().min(1).max(100_000_000).default(DEFAULT_MAX_SESSIONS),
  headersTimeoutMs: z.number().int().min(100).max(3_600_000).default(DEFAULT_HEADERS_TIMEOUT_MS),
  requestTimeoutMs: z.number().int().min(100).max(3_600_000).default(DEFAULT_REQUEST_TIMEOUT_MS),
  maxConnectionsPerAddress: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
  /**
   * Authentication, authorization, rate limits, request signing (packages/security/README.md).
   * Absent: `serve` admits anonymous callers with every permission; `gateway` refuses them.
   */
  auth: AuthConfigSchema.optional(),
  /** HTTPS instead of HTTP (and client certificates for mTLS). */
  tls: TlsConfigSchema.optional(),
  /**
   * Model providers that answer `ctx.sample` for clients that cannot sample, or for every
   * client (`mode: 'server'`): packages/sampling/README.md. Absent: only clients sample.
   */
  sampling: SamplingConfigSchema.optional(),
  /**
   * Reverse proxies (addresses / CIDR ranges) whose `X-Forwarded-For` names the client: the
   * address lockouts, rate limits, cidr policies and audit lines use. Empty: the socket's peer,
   * and forwarding headers are ignored (anyone could write them).
   */
  trustProxy: z.array(CidrSchema).default([]),
  /** Prometheus metrics: recorded and served on `/metrics` unless false. */
  metricsEnabled: z.boolean().default(true),
  /**
   * Serve `/metrics` on a listener of its own at this port (same host), not on the MCP
   * port: keeps it off a public endpoint. Absent: `/metrics` beside `/mcp`.
   */
  metricsPort: z.number().int().min(0).max(65_535).optional(),
  // --- cluster (gateway / worker); `serve` and `stdio` ignore these ---
  /** redis://host:port; required by `gateway` and `worker`. */
  redisUrl: z.string().trim().min(1).optional(),
  /** nats://host:port; required by `gateway` and `worker`. */
  natsUrl: z.string().trim().min(1).optional(),
  clusterPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'clusterPrefix: letters, digits, _ and - only')
    .default(DEFAULT_CLUSTER_PREFIX),
  /** Gateway id or worker id; random when absent. Visible ASCII without spaces, ':' or '/'. */
  nodeId: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'nodeId: 1-64 of letters, digits, _ . -')
    .optional(),
  /** URL gateways use to reach this worker; http://<host>:<port> when absent. */
  advertiseUrl: z.string().url().optional(),
  strategy: z
    .enum([
      'round-robin',
      'least-connections',
      'weighted-round-robin',
      'least-response-time',
      'consistent-hash',
      'client-affinity',
    ])
    .default(DEFAULT_STRATEGY),
  /** Worker weight for weighted round robin. */
  weight: z.number().int().min(1).max(1000).default(1),
  /**
   * Worker: requests it runs at once, published in its registry record so gateways send it no
   * more (one beyond, e.g. from a gateway that counts only its own, is refused with 503
   * `saturated`, nothing run). Gateway: the limit of a worker whose record publishes none.
   * 0: unlimited.
   */
  maxConcurrency: z.number().int().min(0).max(1_000_000).default(DEFAULT_MAX_CONCURRENCY),
  /**
   * Gateway: requests that may wait at once for a slot on a worker at its limit; beyond it a
   * request is refused at once (503 + Retry-After, -32016). 0: none waits.
   */
  gatewayQueueMax: z.number().int().min(0).max(1_000_000).default(DEFAULT_GATEWAY_QUEUE_MAX),
  /** Gateway: longest wait for a worker slot before the request is refused (503, -32016). */
  gatewayQueueTimeoutMs: z
    .number()
    .int()
    .min(0)
    .max(600_000)
    .default(DEFAULT_GATEWAY_QUEUE_TIMEOUT_MS),
  heartbeatMs: z.number().int().min(100).default(DEFAULT_HEARTBEAT_MS),
  drainMs: z.number().int().min(0).default(DEFAULT_DRAIN_MS),
  /**
   * Gateway: on SIGTERM, how long it keeps serving with /readyz at 503 before it closes, so a
   * load balancer stops sending it new clients first (Kubernetes: below
   * terminationGracePeriodSeconds, with no preStop sleep needed). 0: close at once.
   */
  gatewayDrainDelayMs: z.number().int().min(0).max(600_000).default(0),
  /**
   * Gateway: after the drain delay, how long requests in flight may finish (new ones are
   * refused, idle SSE streams end with `retry:`) before everything still open is closed.
   * Delay + timeout + a few seconds must stay below terminationGracePeriodSeconds (30 s).
   */
  gatewayDrainTimeoutMs: z
    .number()
    .int()
    .min(0)
    .max(600_000)
    .default(DEFAULT_GATEWAY_DRAIN_TIMEOUT_MS),
  dispatchTimeoutMs: z.number().int().min(100).default(DEFAULT_DISPATCH_TIMEOUT_MS),
  /** Gateway: how long opening a connection to a worker may take before it counts as gone. */
  dispatchConnectTimeoutMs: z
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(DEFAULT_DISPATCH_CONNECT_TIMEOUT_MS),
  /**
   * Gateway: how long a worker may take to send the first byte of its answer (its response
   * headers) once a dispatch was sent. Workers acknowledge a request still running after a
   * quarter of this (the gateway tells them in the signed dispatch headers), so only a hung
   * worker (stopped, or its event loop blocked) hits it: the dispatch then counts as broken
   * (it may have run). Bounds how long a hung worker holds a request, seconds rather than
   * `dispatchTimeoutMs`. undici checks it on a coarse clock (half-second ticks): it fires
   * from about half a second before to about a second after this, hence the 1 s minimum
   * (a worker's ack, at a quarter of it, must come before the earliest firing).
   */
  dispatchFirstByteTimeoutMs: z
    .number()
    .int()
    .min(1_000)
    .max(600_000)
    .default(DEFAULT_DISPATCH_FIRST_BYTE_TIMEOUT_MS),
  /**
   * Gateway: how often each worker's /healthz is probed (each probe times out after this, 250
   * ms to 2 s). Two failed probes in a row (a first-byte timeout counts as one) mark it down
   * and end the dispatches in flight to it (unless it sent answers within the last interval:
   * then it is slow, not gone); a worker whose dispatch is overdue for its
   * acknowledgement leaves routing at once, until a probe answers.
   */
  workerProbeIntervalMs: z
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(DEFAULT_WORKER_PROBE_INTERVAL_MS),
  /**
   * Gateway: a circuit breaker per worker, its state shared by every gateway (Redis + the
   * bus): a worker whose dispatches fail above `breakerErrorRate` (of at least
   * `breakerMinRequests` within `breakerWindowMs`) is held back by every gateway for
   * `breakerResetMs`, then one gateway of the cluster sends it one trial dispatch.
   */
  breakerEnabled: z.boolean().default(true),
  breakerErrorRate: z.number().gt(0).max(1).default(0.5),
  breakerMinRequests: z.number().int().min(1).max(100_000).default(10),
  breakerWindowMs: z.number().int().min(100).max(600_000).default(10_000),
  breakerResetMs: z.number().int().min(100).max(600_000).default(5_000),
  /** Worker: how long a task of a crashed worker waits before another worker takes it over. */
  taskLockMs: z.number().int().min(500).default(DEFAULT_TASK_LOCK_MS),
  /**
   * Secrets gateways sign dispatches to workers with; the first signs, all verify (rotation).
   * Empty: one random secret per cluster, kept in Redis.
   */
  dispatchSecrets: z
    .array(
      z
        .string()
        .min(
          MIN_DISPATCH_SECRET_LENGTH,
          `dispatchSecrets: at least ${MIN_DISPATCH_SECRET_LENGTH} characters each`,
        ),
    )
    .default([]),
  dispatchSignatureValidityMs: z
    .number()
    .int()
    .min(1_000)
    .max(10 * 60_000)
    .default(DEFAULT_DISPATCH_SIGNATURE_VALIDITY_MS),
  dispatchClockSkewMs: z.number().int().min(0).max(60_000).default(DEFAULT_DISPATCH_CLOCK_SKEW_MS),
});

/** What callers may pass: every field optional. */
export type ConfigInput = z.input<typeof ConfigSchema>;

/** The resolved, frozen configuration. */
export type Config = Readonly<
  Omit<
    z.output<typeof ConfigSchema>,
    'packs' | 'allowedHosts' | 'allowedOrigins' | 'stateKeys' | 'dispatchSecrets' | 'trustProxy'
  > & {
    readonly trustProxy: readonly string[];
    readonly dispatchSecrets: readonly string[];
    readonly packs: readonly string[];
    readonly allowedHosts: readonly string[];
    readonly allowedOrigins: readonly string[];
    readonly stateKeys: readonly Readonly<{ id: string; secret: string }>[];
  }
>;

/** A configuration that does not validate. `issues` are human-readable, one per problem. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  readonly issues: readonly string[];

  constructor(issues: readonly string[], options?: { cause?: unknown }) {
    super(`invalid configuration:\n  - ${issues.join('\n  - ')}`, options);
    this.issues = issues;
  }
}

/** Validates `input` over the defaults and returns a deeply frozen Config; throws ConfigError. */
export function resolveConfig(input: ConfigInput = {}): Config {
  const parsed = ConfigSchema.safeParse(dropUndefined(input));
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`,
      ),
      { cause: parsed.error },
    );
  }
  const c = parsed.data;
  if (c.headersTimeoutMs > c.requestTimeoutMs) {
    throw new ConfigError([
      `headersTimeoutMs: must not exceed requestTimeoutMs (${c.requestTimeoutMs}), the time for the whole request`,
    ]);
  }
  return Object.freeze({
    ...c,
    packs: Object.freeze([...c.packs]),
    allowedHosts: Object.freeze([...new Set(c.allowedHosts)]),
    allowedOrigins: Object.freeze([...new Set(c.allowedOrigins)]),
    stateKeys: Object.freeze(c.stateKeys.map((k) => Object.freeze({ ...k }))),
    dispatchSecrets: Object.freeze([...c.dispatchSecrets]),
    trustProxy: Object.freeze([...c.trustProxy]),
  });
}

/** Undefined means "not set", so it must not override a default or an earlier layer. */
export function dropUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** The cluster settings a gateway or worker cannot run without. */
export function requireCluster(config: Config): { redisUrl: string; natsUrl: string } {
  const missing = [
    config.redisUrl === undefined ? 'redisUrl (REDIS_URL)' : undefined,
    config.natsUrl === undefined ? 'natsUrl (NATS_URL)' : undefined,
  ].filter((m): m is string => m !== undefined);
  if (missing.length > 0 || config.redisUrl === undefined || config.natsUrl === undefined) {
    throw new ConfigError(missing.map((m) => `${m}: required in cluster mode`));
  }
  return { redisUrl: config.redisUrl, natsUrl: config.natsUrl };
}
