/**
 * `mcp-cluster --help` and `mcp-cluster <command> --help`. The environment variables and their
 * defaults come from packages/config (ENV_VARS, AUTH_ENV_VARS and the schema's defaults), so
 * the help lists exactly what the loader reads; only the one-line descriptions live here, in a
 * table the type checker keeps complete.
 */
import { readFileSync } from 'node:fs';
import { ENV_VARS, resolveConfig } from '@mcp-cluster/config';
import type { AUTH_ENV_VARS, CONFIG_FILE_ENV } from '@mcp-cluster/config';
import { COMMANDS } from './main-args.js';
import type { APIKEY_OPTIONS, Command, INIT_OPTIONS, NODE_OPTIONS } from './main-args.js';

type EnvVar = keyof typeof ENV_VARS | keyof typeof AUTH_ENV_VARS | typeof CONFIG_FILE_ENV;

interface EnvDoc {
  /** Commands that read the variable. */
  readonly commands: readonly Command[];
  readonly description: string;
  /** Shown instead of the schema's default (absent, empty or command-dependent defaults). */
  readonly default?: string;
}

const NODES: readonly Command[] = ['serve', 'stdio', 'gateway', 'worker'];
const HTTP: readonly Command[] = ['serve', 'gateway'];
const CLUSTER: readonly Command[] = ['gateway', 'worker'];
const ENGINE: readonly Command[] = ['serve', 'stdio', 'worker'];

/** Every variable the config loader reads, with the commands that use it. */
export const ENV_DOCS: Readonly<Record<EnvVar, EnvDoc>> = {
  MCP_CONFIG: {
    commands: [...NODES, 'apikey'],
    description: 'JSON config file (--config wins); its settings are the lowest layer',
    default: 'none',
  },
  MCP_HOST: { commands: ['serve', 'gateway', 'worker'], description: 'bind address' },
  MCP_PORT: { commands: ['serve', 'gateway', 'worker'], description: 'TCP port (0: any free)' },
  MCP_PATH: { commands: HTTP, description: 'Streamable HTTP endpoint path' },
  MCP_PACKS: {
    commands: ENGINE,
    description: 'packs to load, comma-separated paths or package names',
    default: 'none',
  },
  MCP_ALLOWED_HOSTS: { commands: HTTP, description: 'hostnames accepted in Host (* = any)' },
  MCP_ALLOWED_ORIGINS: { commands: HTTP, description: 'hostnames accepted in Origin (* = any)' },
  MCP_BODY_LIMIT_BYTES: { commands: NODES, description: 'largest request body / message' },
  MCP_MAX_JSON_DEPTH: { commands: NODES, description: 'deepest JSON nesting accepted' },
  MCP_MAX_STRING_LENGTH: { commands: HTTP, description: 'longest JSON string accepted' },
  MCP_MAX_BATCH_LENGTH: {
    commands: ['serve', 'stdio', 'gateway'],
    description: 'most messages in one JSON-RPC batch',
  },
  MCP_SESSION_IDLE_MS: { commands: NODES, description: 'idle legacy sessions expire after' },
  MCP_STATE_KEYS: {
    commands: ENGINE,
    description: 'keys sealing request state, "id:secret,..." (first one seals)',
    default: 'one random key per process',
  },
  MCP_LOG_LEVEL: {
    commands: NODES,
    description: 'fatal, error, warn, info, debug, trace or silent',
  },
  MCP_SERVER_NAME: { commands: NODES, description: 'serverInfo.name' },
  MCP_SERVER_VERSION: { commands: NODES, description: 'serverInfo.version' },
  MCP_SSE_RETRY_MS: { commands: HTTP, description: 'retry: advertised on SSE streams' },
  MCP_MAX_EVENT_LOG: { commands: HTTP, description: 'events kept per SSE stream for replay' },
  MCP_KEEP_ALIVE_MS: { commands: HTTP, description: 'keep-alive interval on SSE streams' },
  MCP_MAX_SESSIONS_PER_PRINCIPAL: {
    commands: ['serve', 'stdio', 'gateway'],
    description: 'legacy sessions one principal may hold',
  },
  MCP_MAX_SESSIONS: {
    commands: ['serve', 'stdio', 'gateway'],
    description: 'legacy sessions held at once (cluster-wide for gateways)',
  },
  MCP_HEADERS_TIMEOUT_MS: { commands: HTTP, description: 'time to send request headers' },
  MCP_REQUEST_TIMEOUT_MS: { commands: HTTP, description: 'time to send a whole request' },
  MCP_MAX_CONNECTIONS_PER_ADDRESS: {
    commands: HTTP,
    description: 'open connections per client address',
  },
  MCP_TRUST_PROXY: {
    commands: HTTP,
    description: 'proxies (addresses/CIDRs) whose X-Forwarded-For is trusted',
    default: 'none',
  },
  MCP_METRICS_ENABLED: {
    commands: HTTP,
    description: 'Prometheus metrics on /metrics (false: none recorded)',
    default: 'true',
  },
  MCP_METRICS_PORT: {
    commands: HTTP,
    description: 'serve /metrics on this port of its own instead of beside /mcp',
    default: 'none',
  },
  REDIS_URL: {
    commands: ['gateway', 'worker', 'apikey'],
    description: 'redis://host:port (apikey: keep keys in Redis)',
    default: 'none (gateway and worker require it)',
  },
  NATS_URL: {
    commands: CLUSTER,
    description: 'nats://host:port',
    default: 'none (gateway and worker require it)',
  },
  MCP_CLUSTER_PREFIX: {
    commands: ['gateway', 'worker', 'apikey'],
    description: 'Redis key and NATS subject prefix (one cluster per prefix)',
  },
  MCP_NODE_ID: { commands: CLUSTER, description: 'gateway or worker id', default: 'random' },
  MCP_ADVERTISE_URL: {
    commands: ['worker'],
    description: 'URL gateways use to reach this worker',
    default: 'http://<host>:<port>',
  },
  MCP_STRATEGY: {
    commands: ['gateway'],
    description:
      'routing: round-robin, least-connections, weighted-round-robin, least-response-time, consistent-hash, client-affinity',
  },
  MCP_WEIGHT: { commands: ['worker'], description: 'weight for weighted-round-robin' },
  MCP_MAX_CONCURRENCY: {
    commands: ['worker', 'gateway'],
    description:
      'worker: requests run at once (published; more are refused, 503); gateway: limit of a worker that publishes none; 0: unlimited',
    default: '128',
  },
  MCP_GATEWAY_QUEUE_MAX: {
    commands: ['gateway'],
    description: 'requests waiting for a worker slot at once; more get 503 + Retry-After',
    default: '1000',
  },
  MCP_GATEWAY_QUEUE_TIMEOUT_MS: {
    commands: ['gateway'],
    description: 'longest wait for a worker slot, then 503 + Retry-After',
    default: '2000',
  },
  MCP_HEARTBEAT_MS: { commands: CLUSTER, description: 'registry heartbeat / poll interval' },
  MCP_DRAIN_MS: {
    commands: ['worker'],
    description: 'in-flight requests get this long on SIGTERM',
  },
  MCP_GATEWAY_DRAIN_DELAY_MS: {
    commands: ['gateway'],
    description: 'on SIGTERM, keep serving this long with /readyz at 503 before closing',
    default: '0',
  },
  MCP_GATEWAY_DRAIN_TIMEOUT_MS: {
    commands: ['gateway'],
    description: 'after the drain delay, in-flight requests get this long before streams close',
    default: '20000',
  },
  MCP_DISPATCH_TIMEOUT_MS: { commands: ['gateway'], description: 'longest dispatch to a worker' },
  MCP_DISPATCH_CONNECT_TIMEOUT_MS: {
    commands: ['gateway'],
    description: 'a worker that takes longer to accept a connection counts as gone',
  },
  MCP_DISPATCH_FIRST_BYTE_TIMEOUT_MS: {
    commands: ['gateway'],
    description: 'a worker silent this long after a dispatch counts as hung (workers ack sooner)',
  },
  MCP_WORKER_PROBE_INTERVAL_MS: {
    commands: ['gateway'],
    description: "period of each worker's health probe (2 failures: down, its calls end)",
  },
  MCP_BREAKER_ENABLED: {
    commands: ['gateway'],
    description: 'a circuit breaker per worker, its state shared by every gateway',
  },
  MCP_BREAKER_ERROR_RATE: {
    commands: ['gateway'],
    description: "failure ratio (0-1] of a worker's dispatches that opens its breaker",
  },
  MCP_BREAKER_MIN_REQUESTS: {
    commands: ['gateway'],
    description: 'dispatches within the window before the failure ratio counts',
  },
  MCP_BREAKER_WINDOW_MS: {
    commands: ['gateway'],
    description: 'rolling window of the failure ratio',
  },
  MCP_BREAKER_RESET_MS: {
    commands: ['gateway'],
    description: 'an open breaker holds its worker back this long, then one trial goes',
  },
  MCP_TASK_LOCK_MS: {
    commands: ['worker'],
    description: "a crashed worker's task is taken over after",
  },
  MCP_DISPATCH_SECRETS: {
    commands: CLUSTER,
    description: 'comma-separated dispatch signing secrets (first signs, all verify)',
    default: 'one random secret per cluster, kept in Redis',
  },
  MCP_DISPATCH_SIGNATURE_VALIDITY_MS: {
    commands: ['worker'],
    description: 'a signed dispatch runs at most this long after signing',
  },
  MCP_DISPATCH_CLOCK_SKEW_MS: {
    commands: ['worker'],
    description: 'clock difference tolerated with gateways',
  },
  MCP_AUTH_ALLOW_ANONYMOUS: {
    commands: HTTP,
    description: 'true/false: admit callers without credentials as anonymous',
    default: 'serve: true without an auth section; gateway: false',
  },
  MCP_API_KEYS_FILE: {
    commands: ['serve', 'apikey'],
    description: 'API key file of the embedded node (and of apikey without REDIS_URL)',
    default: 'none (apikey: ./.mcp-cluster/api-keys.json)',
  },
};

interface Flag {
  readonly usage: string;
  readonly description: string;
  /** The variable the flag overrides, if any. */
  readonly env?: EnvVar;
}

const NODE_FLAGS: Readonly<Record<keyof typeof NODE_OPTIONS, Flag>> = {
  host: { usage: '--host <addr>', description: 'bind address', env: 'MCP_HOST' },
  port: { usage: '--port <n>', description: 'TCP port (0: any free port)', env: 'MCP_PORT' },
  pack: {
    usage: '--pack <ref>',
    description: 'a pack to load (path or package name); repeat for several',
    env: 'MCP_PACKS',
  },
  config: { usage: '--config <file>', description: 'JSON config file', env: 'MCP_CONFIG' },
  help: { usage: '-h, --help', description: 'this help' },
};

const APIKEY_FLAGS: Readonly<Record<keyof typeof APIKEY_OPTIONS, Flag>> = {
  principal: { usage: '--principal <id>', description: 'create: the principal the key acts as' },
  role: { usage: '--role <r>', description: 'create: a role of the key; repeat for several' },
  kind: { usage: '--kind user|service', description: 'create: kind of principal (user)' },
  name: { usage: '--name <label>', description: 'create: a label shown by list' },
  'expires-in': { usage: '--expires-in <seconds>', description: 'create: lifetime of the key' },
  file: {
    usage: '--file <path>',
    description: 'keep keys in this JSON file (even with REDIS_URL)',
    env: 'MCP_API_KEYS_FILE',
  },
  config: { usage: '--config <file>', description: 'JSON config file', env: 'MCP_CONFIG' },
  help: { usage: '-h, --help', description: 'this help' },
};

const INIT_FLAGS: Readonly<Record<keyof typeof INIT_OPTIONS, Flag>> = {
  packages: {
    usage: '--packages <dir>',
    description:
      'the package tarballs to vendor (default: build them in the repository this command runs from)',
  },
  help: { usage: '-h, --help', description: 'this help' },
};

interface CommandDoc {
  readonly synopsis: readonly string[];
  readonly summary: string;
  readonly flags: readonly Flag[];
  readonly notes?: string;
}

const nodeFlags = (...names: (keyof typeof NODE_OPTIONS)[]): Flag[] =>
  names.map((n) => NODE_FLAGS[n]);

/** Per command; a command without an entry gets the general help. */
export const COMMAND_DOCS: Readonly<Partial<Record<Command, CommandDoc>>> = {
  serve: {
    synopsis: [
      'mcp-cluster serve [--host <addr>] [--port <n>] [--pack <ref>]... [--config <file>]',
    ],
    summary:
      'One embedded node (gateway + worker in one process, no Redis or NATS): Streamable HTTP,\nWebSocket and HTTP+SSE on one port.',
    flags: nodeFlags('host', 'port', 'pack', 'config', 'help'),
  },
  stdio: {
    synopsis: ['mcp-cluster stdio [--pack <ref>]... [--config <file>]'],
    summary:
      "An embedded node serving one client on stdin/stdout. stdout carries only protocol\nmessages; logs (and a pack's console.log) go to stderr. Through pnpm, run\n`pnpm --silent stdio`: pnpm otherwise prints its own header on stdout.",
    flags: nodeFlags('pack', 'config', 'help'),
  },
  gateway: {
    synopsis: ['mcp-cluster gateway [--host <addr>] [--port <n>] [--config <file>]'],
    summary:
      'A cluster gateway: client transports, routing to workers. Needs REDIS_URL and NATS_URL;\nthe workers load the packs. Refuses unauthenticated requests unless configured.',
    flags: nodeFlags('host', 'port', 'config', 'help'),
  },
  worker: {
    synopsis: [
      'mcp-cluster worker [--host <addr>] [--port <n>] [--pack <ref>]... [--config <file>]',
    ],
    summary:
      "A cluster worker: runs the packs' components for the gateways. Needs REDIS_URL and\nNATS_URL.",
    flags: nodeFlags('host', 'port', 'pack', 'config', 'help'),
  },
  apikey: {
    synopsis: [
      'mcp-cluster apikey create --principal <id> [--role <r>]... [--kind user|service]',
      '                          [--name <label>] [--expires-in <seconds>] [--file <path>]',
      'mcp-cluster apikey list [--file <path>]',
      'mcp-cluster apikey revoke <id> [--file <path>]',
    ],
    summary:
      'Create (the key is printed once), list or revoke API keys. Keys live in Redis when\nREDIS_URL is set (under MCP_CLUSTER_PREFIX); otherwise, or with --file, in a JSON file:\n--file, else MCP_API_KEYS_FILE, else ./.mcp-cluster/api-keys.json.',
    flags: Object.values(APIKEY_FLAGS),
  },
  init: {
    synopsis: ['mcp-cluster init <dir> [--packages <dir>]'],
    summary:
      'Writes a pack project into <dir> (new or empty): package.json, tsconfig.json, an example\ntool in src/pack.ts and its test, and the mcp-cluster packages as tarballs in vendor/.\nThen: cd <dir> && npm install && npm test && npm start.',
    flags: Object.values(INIT_FLAGS),
  },
};

const SUMMARIES: Readonly<Record<Command, string>> = {
  serve: 'one embedded node (gateway + worker in one process, no Redis or NATS)',
  stdio: 'an embedded node serving one client on stdin/stdout',
  gateway: 'a cluster gateway: client transports, routing to workers',
  worker: "a cluster worker: runs the packs' components for the gateways",
  apikey: 'create (the key is printed once), list or revoke API keys',
  init: 'write a pack project (example tool, test, packages) into a new folder',
};

/** The version of the `mcp-cluster` command (services/cli/package.json). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** `mcp-cluster --help`. */
export function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.length)) + 2;
  const lines = [
    `mcp-cluster ${version()}: a horizontally scaled MCP server`,
    '',
    'Usage: mcp-cluster <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.padEnd(width)}${SUMMARIES[c] ?? ''}`),
    '',
    'Options:',
    '  -h, --help     this help; `mcp-cluster <command> --help` for a command',
    '  -V, --version  print the version',
    '',
    'Settings: flags > MCP_* environment variables > the JSON file of --config or MCP_CONFIG',
    '> defaults. `mcp-cluster <command> --help` lists the variables each command reads.',
    '',
  ];
  return lines.join('\n');
}

/** The default of the field a variable sets, as shown in help. */
function defaultOf(name: EnvVar): string {
  const doc = ENV_DOCS[name];
  if (doc.default !== undefined) return doc.default;
  const field = (ENV_VARS as Readonly<Record<string, string>>)[name];
  if (field === undefined) return 'none';
  const value = (resolveConfig({}) as unknown as Record<string, unknown>)[field];
  if (value === undefined) return 'none';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(',');
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value);
}

/** The variables `command` reads, in the loader's order. */
export function envVarsOf(command: Command): EnvVar[] {
  return (Object.keys(ENV_DOCS) as EnvVar[]).filter((name) =>
    ENV_DOCS[name].commands.includes(command),
  );
}

/** Joins words the wrapping keeps on one line. */
const NBSP = '\u00a0';

/** Help lines stay within this many columns (long descriptions wrap under themselves). */
const COLUMNS = 100;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/** Two columns: the left one as wide as its widest entry, the right one wrapped. */
function table(rows: readonly (readonly [string, string])[], indent = '  '): string[] {
  const width = Math.max(...rows.map(([a]) => a.length)) + 2;
  const pad = ' '.repeat(indent.length + width);
  return rows.flatMap(([a, b]) => {
    const [first = '', ...rest] = wrap(b, Math.max(COLUMNS - pad.length, 30));
    return [`${indent}${a.padEnd(width)}${first}`, ...rest.map((l) => `${pad}${l}`)].map((l) =>
      l.replaceAll(NBSP, ' '),
    );
  });
}

/** `mcp-cluster <command> --help`; the general help for an unknown command. */
export function commandHelp(command: string | undefined): string {
  const doc = (COMMAND_DOCS as Readonly<Record<string, CommandDoc | undefined>>)[command ?? ''];
  if (command === undefined || doc === undefined) return generalHelp();
  const cmd = command as Command;
  const flagRows = doc.flags.map(
    (f) => [f.usage, f.env === undefined ? f.description : `${f.description} (${f.env})`] as const,
  );
  const envRows = envVarsOf(cmd).map(
    (name) =>
      [
        name,
        `${ENV_DOCS[name].description}; default:${NBSP}${defaultOf(name).replaceAll(' ', NBSP)}`,
      ] as const,
  );
  return [
    'Usage:',
    ...doc.synopsis.map((s) => `  ${s}`),
    '',
    doc.summary,
    '',
    'Options:',
    ...table(flagRows),
    '',
    ...(envRows.length === 0
      ? []
      : [
          'Environment (flags win over variables, variables over the config file):',
          ...table(envRows),
          '',
        ]),
  ].join('\n');
}
