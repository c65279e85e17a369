/**
 * `mcp-cluster` command line: `serve` (embedded node, HTTP + WebSocket) and `stdio`.
 * Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.
 */
import { ComponentError } from '@mcp-cluster/components';
import { ConfigError, loadConfig } from '@mcp-cluster/config';
import type { Config } from '@mcp-cluster/config';
import { serveStdio } from '@mcp-cluster/transports';
import { createNodeEngine } from './engine.js';
import { errorFields, processLogger } from './log.js';
import { closeOnSignals, startNode } from './server.js';
import { EXIT_USAGE, USAGE, UsageError, parseCommandLine } from './main-args.js';
import type { Parsed } from './main-args.js';

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
    // A pack that cannot be found or loaded is a configuration problem, not a crash.
    if (err instanceof ComponentError) {
      process.stderr.write(`mcp-cluster: ${err.message}\n`);
      process.exit(EXIT_USAGE);
    }
    processLogger(config.logLevel).error('failed to start', errorFields(err));
    process.exit(1);
  }
}

await main(process.argv.slice(2));
