/**
 * Reads configuration sources once, at boot: JSON file < environment < explicit overrides
 * (CLI flags), then `resolveConfig`.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, dropUndefined, resolveConfig } from './config.js';
import type { Config, ConfigInput } from './config.js';

/** Environment variables and the field each one sets. */
export const ENV_VARS = {
  MCP_HOST: 'host',
  MCP_PORT: 'port',
  MCP_PATH: 'path',
  MCP_PACKS: 'packs',
  MCP_ALLOWED_HOSTS: 'allowedHosts',
  MCP_ALLOWED_ORIGINS: 'allowedOrigins',
  MCP_BODY_LIMIT_BYTES: 'bodyLimitBytes',
  MCP_MAX_JSON_DEPTH: 'maxJsonDepth',
  MCP_MAX_STRING_LENGTH: 'maxStringLength',
  MCP_MAX_BATCH_LENGTH: 'maxBatchLength',
  MCP_SESSION_IDLE_MS: 'sessionIdleMs',
  MCP_STATE_KEYS: 'stateKeys',
  MCP_LOG_LEVEL: 'logLevel',
  MCP_SERVER_NAME: 'serverName',
  MCP_SERVER_VERSION: 'serverVersion',
  MCP_SSE_RETRY_MS: 'sseRetryMs',
  MCP_MAX_EVENT_LOG: 'maxEventLog',
  MCP_KEEP_ALIVE_MS: 'keepAliveMs',
  MCP_MAX_SESSIONS_PER_PRINCIPAL: 'maxSessionsPerPrincipal',
  MCP_MAX_SESSIONS: 'maxSessions',
  MCP_HEADERS_TIMEOUT_MS: 'headersTimeoutMs',
  MCP_REQUEST_TIMEOUT_MS: 'requestTimeoutMs',
  MCP_MAX_CONNECTIONS_PER_ADDRESS: 'maxConnectionsPerAddress',
  MCP_TRUST_PROXY: 'trustProxy',
  MCP_METRICS_ENABLED: 'metricsEnabled',
  MCP_METRICS_PORT: 'metricsPort',
  // The conventional names, unprefixed: what every Redis/NATS deployment already sets.
  REDIS_URL: 'redisUrl',
  NATS_URL: 'natsUrl',
  MCP_CLUSTER_PREFIX: 'clusterPrefix',
  MCP_NODE_ID: 'nodeId',
  MCP_ADVERTISE_URL: 'advertiseUrl',
  MCP_STRATEGY: 'strategy',
  MCP_WEIGHT: 'weight',
  MCP_MAX_CONCURRENCY: 'maxConcurrency',
  MCP_GATEWAY_QUEUE_MAX: 'gatewayQueueMax',
  MCP_GATEWAY_QUEUE_TIMEOUT_MS: 'gatewayQueueTimeoutMs',
  MCP_HEARTBEAT_MS: 'heartbeatMs',
  MCP_DRAIN_MS: 'drainMs',
  MCP_GATEWAY_DRAIN_DELAY_MS: 'gatewayDrainDelayMs',
  MCP_GATEWAY_DRAIN_TIMEOUT_MS: 'gatewayDrainTimeoutMs',
  MCP_DISPATCH_TIMEOUT_MS: 'dispatchTimeoutMs',
  MCP_DISPATCH_CONNECT_TIMEOUT_MS: 'dispatchConnectTimeoutMs',
  MCP_DISPATCH_FIRST_BYTE_TIMEOUT_MS: 'dispatchFirstByteTimeoutMs',
  MCP_WORKER_PROBE_INTERVAL_MS: 'workerProbeIntervalMs',
  MCP_BREAKER_ENABLED: 'breakerEnabled',
  MCP_BREAKER_ERROR_RATE: 'breakerErrorRate',
  MCP_BREAKER_MIN_REQUESTS: 'breakerMinRequests',
  MCP_BREAKER_WINDOW_MS: 'breakerWindowMs',
  MCP_BREAKER_RESET_MS: 'breakerResetMs',
  MCP_TASK_LOCK_MS: 'taskLockMs',
  MCP_DISPATCH_SECRETS: 'dispatchSecrets',
  MCP_DISPATCH_SIGNATURE_VALIDITY_MS: 'dispatchSignatureValidityMs',
  MCP_DISPATCH_CLOCK_SKEW_MS: 'dispatchClockSkewMs',
} as const satisfies Record<string, keyof ConfigInput>;

/** Environment variables that set one field of the `auth` section. */
export const AUTH_ENV_VARS = {
  /** `true` / `false`: admit requests without credentials as `anonymous`. */
  MCP_AUTH_ALLOW_ANONYMOUS: 'allowAnonymous',
  /** The embedded node's API key file (the cluster keeps keys in Redis). */
  MCP_API_KEYS_FILE: 'apiKeys.file',
} as const;

/** Names the config file; `--config` wins over it. */
export const CONFIG_FILE_ENV = 'MCP_CONFIG';

type Env = Readonly<Record<string, string | undefined>>;

const LIST_FIELDS = new Set<string>([
  'packs',
  'allowedHosts',
  'allowedOrigins',
  'dispatchSecrets',
  'trustProxy',
]);
const INT_FIELDS = new Set<string>([
  'port',
  'bodyLimitBytes',
  'maxJsonDepth',
  'maxStringLength',
  'maxBatchLength',
  'sessionIdleMs',
  'sseRetryMs',
  'maxEventLog',
  'keepAliveMs',
  'maxSessionsPerPrincipal',
  'maxSessions',
  'headersTimeoutMs',
  'requestTimeoutMs',
  'maxConnectionsPerAddress',
  'weight',
  'maxConcurrency',
  'gatewayQueueMax',
  'gatewayQueueTimeoutMs',
  'heartbeatMs',
  'drainMs',
  'gatewayDrainDelayMs',
  'gatewayDrainTimeoutMs',
  'dispatchTimeoutMs',
  'dispatchConnectTimeoutMs',
  'dispatchFirstByteTimeoutMs',
  'workerProbeIntervalMs',
  'breakerMinRequests',
  'breakerWindowMs',
  'breakerResetMs',
  'taskLockMs',
  'dispatchSignatureValidityMs',
  'dispatchClockSkewMs',
  'metricsPort',
]);
/** Fractions (0..1). */
const RATIO_FIELDS = new Set<string>(['breakerErrorRate']);
const BOOL_FIELDS = new Set<string>(['breakerEnabled', 'metricsEnabled']);

/** Parses the `MCP_*` variables into a partial input; malformed values throw ConfigError. */
export function configFromEnv(env: Env, cwd = process.cwd()): ConfigInput {
  const out: Record<string, unknown> = {};
  const issues: string[] = [];
  for (const [name, field] of Object.entries(ENV_VARS)) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    if (INT_FIELDS.has(field)) {
      if (!/^\d+$/.test(raw)) issues.push(`${name}: expected a non-negative integer, got "${raw}"`);
      else out[field] = Number(raw);
    } else if (RATIO_FIELDS.has(field)) {
      if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(raw))
        issues.push(`${name}: expected a number in [0, 1], got "${raw}"`);
      else out[field] = Number(raw);
    } else if (BOOL_FIELDS.has(field)) {
      if (raw !== 'true' && raw !== 'false')
        issues.push(`${name}: expected true or false, got "${raw}"`);
      else out[field] = raw === 'true';
    } else if (LIST_FIELDS.has(field)) {
      out[field] = splitList(raw);
    } else if (field === 'stateKeys') {
      const keys = parseStateKeys(raw);
      if (keys === undefined) issues.push(`${name}: expected "id:secret,id:secret,..."`);
      else out[field] = keys;
    } else {
      out[field] = raw;
    }
  }
  const auth = authFromEnv(env, issues);
  if (auth !== undefined) out.auth = auth;
  if (issues.length) throw new ConfigError(issues);
  if (Array.isArray(out.packs)) out.packs = (out.packs as string[]).map((p) => resolvePack(p, cwd));
  return out;
}

/** Reads a JSON config file; relative pack paths in it are relative to the file. */
export function configFromFile(file: string): ConfigInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError([`config file ${file}: cannot be read`], { cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError([`config file ${file}: not valid JSON`], { cause });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([`config file ${file}: must hold a JSON object`]);
  }
  const input = parsed as Record<string, unknown>;
  if (Array.isArray(input.packs)) {
    const base = dirname(resolve(file));
    input.packs = input.packs.map((p: unknown) =>
      typeof p === 'string' ? resolvePack(p, base) : p,
    );
  }
  return input;
}

export interface LoadOptions {
  readonly env?: Env;
  /** Explicit config file (`--config`); falls back to `MCP_CONFIG`. */
  readonly file?: string;
  /** Highest-precedence values (CLI flags). Relative pack paths resolve against `cwd`. */
  readonly overrides?: ConfigInput;
  readonly cwd?: string;
}

/** file < env < overrides, then validated and frozen. Throws ConfigError. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ?? env[CONFIG_FILE_ENV];
  const fromFile = file ? configFromFile(resolve(cwd, file)) : {};
  const overrides = dropUndefined({ ...options.overrides });
  if (overrides.packs) overrides.packs = overrides.packs.map((p) => resolvePack(p, cwd));
  const fromEnv = configFromEnv(env, cwd);
  const auth = mergeAuth(fromFile.auth, fromEnv.auth, overrides.auth);
  return resolveConfig({
    ...fromFile,
    ...fromEnv,
    ...overrides,
    ...(auth === undefined ? {} : { auth }),
  });
}

function authFromEnv(env: Env, issues: string[]): Record<string, unknown> | undefined {
  let auth: Record<string, unknown> | undefined;
  const anonymous = env.MCP_AUTH_ALLOW_ANONYMOUS?.trim();
  if (anonymous !== undefined && anonymous !== '') {
    if (anonymous !== 'true' && anonymous !== 'false') {
      issues.push(`MCP_AUTH_ALLOW_ANONYMOUS: expected true or false, got "${anonymous}"`);
    } else {
      (auth ??= {}).allowAnonymous = anonymous === 'true';
    }
  }
  const keysFile = env.MCP_API_KEYS_FILE?.trim();
  if (keysFile !== undefined && keysFile !== '') (auth ??= {}).apiKeys = { file: keysFile };
  return auth;
}

/** The auth section from file, env and overrides, merged one level deep (env wins). */
export function mergeAuth(...layers: (ConfigInput['auth'] | undefined)[]): ConfigInput['auth'] {
  let out: Record<string, unknown> | undefined;
  for (const layer of layers) {
    if (layer === undefined) continue;
    out ??= {};
    for (const [k, v] of Object.entries(layer)) {
      const prev = out[k];
      out[k] =
        k === 'apiKeys' && typeof prev === 'object' && typeof v === 'object'
          ? { ...prev, ...v }
          : v;
    }
  }
  return out;
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseStateKeys(raw: string): { id: string; secret: string }[] | undefined {
  const keys: { id: string; secret: string }[] = [];
  for (const entry of splitList(raw)) {
    const colon = entry.indexOf(':');
    if (colon <= 0 || colon === entry.length - 1) return undefined;
    keys.push({ id: entry.slice(0, colon), secret: entry.slice(colon + 1) });
  }
  return keys;
}

/** Paths (./x, ../x, /x) become absolute; bare names stay module specifiers. */
function resolvePack(ref: string, base: string): string {
  if (ref.startsWith('.') || isAbsolute(ref)) return resolve(base, ref);
  return ref;
}
