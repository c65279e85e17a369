/** Command-line parsing of `mcp-cluster` (kept apart from main.ts, which runs on import). */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { ConfigInput } from '@mcp-cluster/config';
import type { InitArgs } from './init.js';

export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const COMMANDS = ['serve', 'stdio', 'gateway', 'worker', 'apikey', 'init'] as const;
export type Command = (typeof COMMANDS)[number];
/** Commands that run a node (everything but `apikey` and `init`). */
export type NodeCommand = Exclude<Command, 'apikey' | 'init'>;

/** Commands that run as one node of a cluster and need Redis and NATS. */
export const CLUSTER_COMMANDS: ReadonlySet<Command> = new Set(['gateway', 'worker']);

export const isCommand = (s: string | undefined): s is Command =>
  (COMMANDS as readonly (string | undefined)[]).includes(s);

/** `mcp-cluster apikey …`; `keysFile` is `--file` (undefined: see apikey.ts for the default). */
export type ApiKeyArgs =
  | {
      readonly action: 'create';
      readonly principal: string;
      readonly roles: readonly string[];
      readonly kind: 'user' | 'service';
      readonly name: string | undefined;
      readonly expiresInSec: number | undefined;
      readonly keysFile: string | undefined;
    }
  | { readonly action: 'list'; readonly keysFile: string | undefined }
  | { readonly action: 'revoke'; readonly id: string; readonly keysFile: string | undefined };

export type Parsed =
  | {
      readonly command: NodeCommand;
      readonly file: string | undefined;
      readonly overrides: ConfigInput;
    }
  | {
      readonly command: 'apikey';
      readonly file: string | undefined;
      /** Always empty: apikey takes only the file and the environment's settings. */
      readonly overrides: ConfigInput;
      readonly apikey: ApiKeyArgs;
    }
  | { readonly command: 'init'; readonly init: InitArgs };

/** Options of serve, stdio, gateway and worker (help.ts describes each one). */
export const NODE_OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  pack: { type: 'string', multiple: true },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Options of `apikey` (help.ts describes each one). */
export const APIKEY_OPTIONS = {
  principal: { type: 'string' },
  role: { type: 'string', multiple: true },
  kind: { type: 'string' },
  name: { type: 'string' },
  'expires-in': { type: 'string' },
  file: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Options of `init` (help.ts describes each one). */
export const INIT_OPTIONS = {
  packages: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The command word of a command line (its first positional), if any. */
export function commandOf(argv: readonly string[]): string | undefined {
  const at = commandIndex(argv);
  return at === undefined ? undefined : argv[at];
}

/** What `--help` / `--version` ask for, found before any other parsing. */
export type InfoRequest =
  { readonly kind: 'help'; readonly command: string | undefined } | { readonly kind: 'version' };

/**
 * `--help`/`-h` anywhere (with the command it follows, if any), `--version`/`-V`, or no
 * arguments at all (general help); undefined for a command line to run.
 */
export function infoRequest(argv: readonly string[]): InfoRequest | undefined {
  if (argv.length === 0) return { kind: 'help', command: undefined };
  const args = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length);
  const command = commandOf(args);
  if (args.includes('--help') || args.includes('-h')) return { kind: 'help', command };
  if (args.includes('--version') || args.includes('-V')) return { kind: 'version' };
  return undefined;
}

/** parseArgs with positionals, its complaints as UsageErrors. */
function parseOrRefuse<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: O,
) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Index in `argv` of the command (first positional), skipping the values of the node
 * commands' options so `--config c.json apikey list` finds `apikey`.
 */
function commandIndex(argv: readonly string[]): number | undefined {
  const { tokens } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: false,
    tokens: true,
    options: NODE_OPTIONS,
  });
  return tokens.find((t) => t.kind === 'positional')?.index;
}

const CREATE_ONLY = ['principal', 'role', 'kind', 'name', 'expires-in'] as const;

function parseApiKeyCommandLine(argv: readonly string[]): Parsed | 'help' {
  const { values, positionals } = parseOrRefuse(argv, APIKEY_OPTIONS);
  if (values.help === true) return 'help';
  const [action, ...rest] = positionals;
  const common = { command: 'apikey', file: values.config, overrides: {} } as const;
  const keysFile = values.file;
  if (action !== 'create') {
    const misplaced = CREATE_ONLY.find((option) => values[option] !== undefined);
    if (misplaced !== undefined)
      throw new UsageError(`--${misplaced} applies to apikey create only`);
  }
  switch (action) {
    case 'create': {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
      if (values.principal === undefined) throw new UsageError('apikey create needs --principal');
      const kind = values.kind ?? 'user';
      if (kind !== 'user' && kind !== 'service') {
        throw new UsageError('--kind must be user or service');
      }
      let expiresInSec: number | undefined;
      if (values['expires-in'] !== undefined) {
        expiresInSec = Number(values['expires-in']);
        if (
          !/^\d+$/.test(values['expires-in']) ||
          !Number.isSafeInteger(expiresInSec) ||
          expiresInSec <= 0
        ) {
          throw new UsageError('--expires-in must be a positive whole number of seconds');
        }
      }
      const apikey: ApiKeyArgs = {
        action,
        principal: values.principal,
        roles: values.role ?? [],
        kind,
        name: values.name,
        expiresInSec,
        keysFile,
      };
      return { ...common, apikey };
    }
    case 'list':
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
      return { ...common, apikey: { action, keysFile } };
    case 'revoke': {
      const [id, ...extra] = rest;
      if (id === undefined) throw new UsageError('apikey revoke needs the key id');
      if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
      return { ...common, apikey: { action, id, keysFile } };
    }
    default:
      throw new UsageError(
        action === undefined
          ? 'apikey needs create, list or revoke'
          : `unknown apikey action ${action}`,
      );
  }
}

function parseInitCommandLine(argv: readonly string[]): Parsed | 'help' {
  const { values, positionals } = parseOrRefuse(argv, INIT_OPTIONS);
  if (values.help === true) return 'help';
  const [dir, ...rest] = positionals;
  if (dir === undefined) throw new UsageError('init needs the folder to create');
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  return { command: 'init', init: { dir, packages: values.packages } };
}

export function parseCommandLine(argv: readonly string[]): Parsed | 'help' {
  const at = commandIndex(argv);
  if (at !== undefined && argv[at] === 'apikey') {
    return parseApiKeyCommandLine([...argv.slice(0, at), ...argv.slice(at + 1)]);
  }
  if (at !== undefined && argv[at] === 'init') {
    return parseInitCommandLine([...argv.slice(0, at), ...argv.slice(at + 1)]);
  }
  const { values, positionals } = parseOrRefuse(argv, NODE_OPTIONS);
  if (values.help === true) return 'help';
  const [command, ...rest] = positionals;
  if (!isCommand(command) || command === 'apikey' || command === 'init') {
    throw new UsageError(command === undefined ? 'missing command' : `unknown command ${command}`);
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  if (command === 'stdio' && (values.host !== undefined || values.port !== undefined)) {
    throw new UsageError('--host and --port apply to serve, gateway and worker only');
  }
  // A gateway owns no components: the workers load the packs.
  if (command === 'gateway' && values.pack !== undefined) {
    throw new UsageError('--pack does not apply to gateway (workers load the packs)');
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port)) throw new UsageError(`--port must be a number`);
    port = Number(values.port);
  }
  return {
    command,
    file: values.config,
    overrides: { host: values.host, port, packs: values.pack },
  };
}
