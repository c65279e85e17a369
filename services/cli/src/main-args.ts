/** Command-line parsing of `mcp-cluster` (kept apart from main.ts, which runs on import). */
import { parseArgs } from 'node:util';
import type { ConfigInput } from '@mcp-cluster/config';

export const USAGE = `Usage:
  mcp-cluster serve [--host <addr>] [--port <n>] [--pack <ref>]... [--config <file>]
  mcp-cluster stdio [--pack <ref>]... [--config <file>]
  mcp-cluster gateway [--host <addr>] [--port <n>] [--config <file>]
  mcp-cluster worker [--host <addr>] [--port <n>] [--pack <ref>]... [--config <file>]

serve     one embedded node (gateway + worker in one process, no Redis or NATS)
stdio     an embedded node serving one client on stdin/stdout
gateway   a cluster gateway: client transports, routing to workers
worker    a cluster worker: runs the packs' components for the gateways

gateway and worker need REDIS_URL and NATS_URL (or redisUrl/natsUrl in the file).
Settings also come from MCP_* environment variables and the JSON file named by
--config or MCP_CONFIG (see packages/config/README.md).
`;

export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const COMMANDS = ['serve', 'stdio', 'gateway', 'worker'] as const;
export type Command = (typeof COMMANDS)[number];

/** Commands that run as one node of a cluster and need Redis and NATS. */
export const CLUSTER_COMMANDS: ReadonlySet<Command> = new Set(['gateway', 'worker']);

const isCommand = (s: string | undefined): s is Command =>
  (COMMANDS as readonly (string | undefined)[]).includes(s);

export interface Parsed {
  readonly command: Command;
  readonly file: string | undefined;
  readonly overrides: ConfigInput;
}

export function parseCommandLine(argv: readonly string[]): Parsed | 'help' {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        pack: { type: 'string', multiple: true },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help === true) return 'help';
  const [command, ...rest] = positionals;
  if (!isCommand(command)) {
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
