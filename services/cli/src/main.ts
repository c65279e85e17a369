/**
 * `mcp-cluster` command line: `serve` (embedded node, HTTP + WebSocket), `stdio`, the
 * cluster processes `gateway` and `worker`, and `apikey` (API key administration).
 * Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.
 */
import { ComponentError } from '@mcp-cluster/components';
import { ConfigError, loadConfig, requireCluster } from '@mcp-cluster/config';
import type { Config } from '@mcp-cluster/config';
import { startGateway } from '@mcp-cluster/gateway';
import { serveStdio } from '@mcp-cluster/transports';
import { startWorker } from '@mcp-cluster/worker';
import { runApiKey } from './apikey.js';
import { createNodeEngine } from './engine.js';
import { errorFields, processLogger, writeListening } from './log.js';
import type { ProcessLogger } from './log.js';
import { closeOnSignals, startNode } from './server.js';
import { CLUSTER_COMMANDS, EXIT_USAGE, USAGE, UsageError, parseCommandLine } from './main-args.js';
import type { Parsed } from './main-args.js';

async function runServe(config: Config): Promise<void> {
  const log = processLogger(config.logLevel);
  const node = await startNode(config);
  closeOnSignals(
    () => node.close(),
    (err) => log.error('shutdown failed', errorFields(err)),
  );
  // After the signal handlers: whoever reads this line may signal at once.
  writeListening({ url: node.url });
}

/** The `(level, msg, err)` logger gateway and worker take, over the process logger. */
function nodeLog(log: ProcessLogger) {
  return (level: 'info' | 'warn' | 'error', msg: string, err?: unknown): void =>
    log[level](msg, err === undefined ? undefined : errorFields(err));
}

async function runGateway(config: Config): Promise<void> {
  const log = processLogger(config.logLevel);
  const gateway = await startGateway(config, nodeLog(log));
  closeOnSignals(
    () => gateway.close(),
    (err) => log.error('shutdown failed', errorFields(err)),
  );
  writeListening({ url: gateway.url, id: gateway.id, role: 'gateway' });
}

async function runWorker(config: Config): Promise<void> {
  const log = processLogger(config.logLevel);
  const worker = await startWorker(config, nodeLog(log));
  // close() drains: in-flight dispatches get up to config.drainMs before the process exits.
  closeOnSignals(
    () => worker.close(),
    (err) => log.error('shutdown failed', errorFields(err)),
  );
  writeListening({ url: worker.url, id: worker.id, role: 'worker' });
}

async function runStdio(config: Config): Promise<void> {
  const log = processLogger(config.logLevel);
  const engine = await createNodeEngine(config);
  const transport = serveStdio(engine, {
    input: process.stdin,
    output: process.stdout,
    maxJsonDepth: config.maxJsonDepth,
    maxBatchLength: config.maxBatchLength,
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
    // Checked here so a missing REDIS_URL/NATS_URL is a configuration error (exit 2).
    if (CLUSTER_COMMANDS.has(parsed.command)) requireCluster(config);
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
    switch (parsed.command) {
      case 'serve':
        await runServe(config);
        break;
      case 'stdio':
        await runStdio(config);
        break;
      case 'gateway':
        await runGateway(config);
        break;
      case 'worker':
        await runWorker(config);
        break;
      case 'apikey':
        process.exitCode = await runApiKey(parsed.apikey, config, {
          stdout: process.stdout,
          stderr: process.stderr,
        });
        break;
    }
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
