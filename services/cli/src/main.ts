/**
 * `mcp-cluster` command line: `serve` (embedded node, HTTP + WebSocket) and `stdio`.
 * Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@mcp-cluster/config';
import type { Config, ConfigInput } from '@mcp-cluster/config';
import { serveStdio } from '@mcp-cluster/transports';
import { createNodeEngine } from './engine.js';
import { errorFields, processLogger } from './log.js';
import { closeOnSignals, startNode } from './server.js';

export const USAGE = `Usage:
  mcp-cluster serve [--host <addr>] [--port <n>] [--pack <ref>]... [--config <file>]
  mcp-cluster stdio [--pack <ref>]... [--config <file>]

Settings also come from MCP_* environment variables and the JSON file named by
--config or MCP_CONFIG (see packages/config/README.md).
`;

export const EXIT_USAGE = 2;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface Parsed {
  readonly command: 'serve' | 'stdio';
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
  if (command !== 'serve' && command !== 'stdio') {
    throw new UsageError(command === undefined ? 'missing command' : `unknown command ${command}`);
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  if (command === 'stdio' && (values.host !== undefined || values.port !== undefined)) {
    throw new UsageError('--host and --port apply to serve only');
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

async function runServe(config: Config): Promise<void> {
  const log = processLogger(config.logLevel);
  const node = await startNode(config);
  // Always written (whatever the log level): tests and scripts wait for this line.
  process.stderr.write(
    `${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, msg: 'listening', url: node.url })}\n`,
  );
  closeOnSignals(
    () => node.close(),
    (err) => log.error('shutdown failed', errorFields(err)),
  );
}

async function runStdio(config: Config): Promise<void> {
  const log = processLogger(config.logLevel);
  const engine = await createNodeEngine(config);
  const transport = serveStdio(engine, {
    input: process.stdin,
    output: process.stdout,
    maxJsonDepth: config.maxJsonDepth,
    maxMessageBytes: config.bodyLimitBytes,
  });
  log.info('stdio ready', { packs: config.packs });
  const stop = async (): Promise<void> => {
    transport.close();
    await engine.close();
  };
  closeOnSignals(stop, (err) => log.error('shutdown failed', errorFields(err)));
  await transport.closed;
  await engine.close();
  log.info('stdio closed');
  process.exit(0);
}

export async function main(argv: readonly string[]): Promise<void> {
  let parsed: Parsed | 'help';
  let config: Config;
  try {
    parsed = parseCommandLine(argv);
    if (parsed === 'help') {
      process.stderr.write(USAGE);
      return;
    }
    config = loadConfig({ file: parsed.file, overrides: parsed.overrides });
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(
        `mcp-cluster: ${err.message}\n\n${err instanceof UsageError ? USAGE : ''}`,
      );
      process.exit(EXIT_USAGE);
    }
    throw err;
  }
  try {
    if (parsed.command === 'serve') await runServe(config);
    else await runStdio(config);
  } catch (err) {
    processLogger(config.logLevel).error('failed to start', errorFields(err));
    process.exit(1);
  }
}

await main(process.argv.slice(2));
