/**
 * `mcp-cluster` command line: `serve` (embedded node, HTTP + WebSocket), `stdio`, the
 * cluster processes `gateway` and `worker`, and `apikey` (API key administration).
 * Exit codes: 0 ok, 1 unexpected failure, 2 bad usage or configuration, 3 pack, 4 listen
 * address (in use, not permitted), 5 Redis unreachable, 6 NATS unreachable (startup-errors.ts).
 */
import { Console } from 'node:console';
import { hostname } from 'node:os';
import {
  ConfigError,
  errorFields,
  loadConfig,
  nodeLog,
  processLogger,
  requireCluster,
} from '@mcp-cluster/config';
import type { Config, ProcessLogger } from '@mcp-cluster/config';
import type { InitArgs } from './init.js';
import type { BannerInfo } from './banner.js';
import { countComponents } from '@mcp-cluster/server';
import { createNodeEngine, supportTypeScriptPacks } from './engine.js';
import { writeListening } from './log.js';
import { commandHelp, version } from './help.js';
import { traceLogFields } from '@mcp-cluster/observability';
import { closeOnSignals } from './server.js';
import { startupFailure } from './startup-errors.js';
import { releaseYoungGeneration } from './young-generation.js';
import {
  CLUSTER_COMMANDS,
  EXIT_USAGE,
  UsageError,
  commandOf,
  infoRequest,
  isCommand,
  parseCommandLine,
} from './main-args.js';
import type { Parsed } from './main-args.js';

// Each command imports what only it needs when it runs (`await import`): `serve` never loads
// the gateway, the worker or their queue and bus clients, which saves start time and memory.

/** A command's process logger: its lines carry the active trace's ids while tracing is on. */
function nodeLogger(config: Config): ProcessLogger {
  return processLogger(config.logLevel, undefined, { mixin: traceLogFields });
}

/** The shutdown lines: which signal started it, and that it finished. */
function shutdownHooks(log: ProcessLogger, role: string) {
  return {
    onSignal: (signal: NodeJS.Signals) => log.info('shutting down', { role, signal }),
    onClosed: () => log.info('stopped', { role }),
  };
}

/**
 * OpenTelemetry tracing when the standard OTEL_* variables ask for it (nothing is loaded
 * otherwise); started before the node so its engine and dispatch are traced. `close` stops
 * the node, then flushes the spans still buffered.
 */
async function withTracing(
  role: 'serve' | 'gateway' | 'worker',
  config: Config,
  log: ProcessLogger,
): Promise<(close: () => Promise<void>) => () => Promise<void>> {
  const { startTracingFromEnv } = await import('@mcp-cluster/observability');
  const tracing = await startTracingFromEnv({
    serviceName: `mcp-cluster-${role}`,
    serviceVersion: version(),
    nodeId: config.nodeId ?? `${role}-${process.pid}@${hostname()}`,
    role,
  });
  if (tracing !== undefined) log.info('tracing on (OTEL_* variables)', { role });
  return (close) => async () => {
    await close();
    await tracing?.shutdown();
  };
}

/** `serve` and `worker` without a pack have nothing to offer: say so, once. */
function warnNoPacks(log: ProcessLogger, config: Config, role: string): void {
  if (config.packs.length > 0) return;
  log.warn(
    `no packs loaded: this ${role} offers no tools, resources or prompts; add --pack <path> or MCP_PACKS`,
    { role },
  );
}

/** The readable banner when a person watches stderr; scripts read the `listening` line. */
async function writeBanner(info: BannerInfo): Promise<void> {
  const { formatBanner } = await import('./banner.js');
  if (process.stderr.isTTY) process.stderr.write(formatBanner(info));
}

async function runServe(config: Config): Promise<void> {
  const log = nodeLogger(config);
  const { startNode } = await import('./server.js');
  const { bannerFields, endpointsOf } = await import('./banner.js');
  // The app's modules first, so they load without the TypeScript loader in the way.
  await import('./app.js');
  await supportTypeScriptPacks(config.packs);
  const traced = await withTracing('serve', config, log);
  const node = await startNode(config);
  warnNoPacks(log, config, 'serve');
  closeOnSignals(
    traced(() => node.close()),
    (err) => log.error('shutdown failed', errorFields(err)),
    shutdownHooks(log, 'serve'),
  );
  const info: BannerInfo = {
    role: 'serve',
    version: version(),
    endpoints: endpointsOf('serve', node.url, node.app),
    packs: config.packs,
    counts: countComponents(node.engine),
  };
  await writeBanner(info);
  // After the signal handlers: whoever reads this line may signal at once.
  writeListening({ url: node.url, ...bannerFields(info) });
  releaseYoungGeneration();
}

async function runGateway(config: Config): Promise<void> {
  const log = nodeLogger(config);
  const { startGateway } = await import('@mcp-cluster/gateway');
  const { bannerFields, endpointsOf } = await import('./banner.js');
  const traced = await withTracing('gateway', config, log);
  const gateway = await startGateway(config, nodeLog(log));
  closeOnSignals(
    traced(() => gateway.close()),
    (err) => log.error('shutdown failed', errorFields(err)),
    {
      ...shutdownHooks(log, 'gateway'),
      extraDeadlineMs: config.gatewayDrainDelayMs + config.gatewayDrainTimeoutMs,
    },
  );
  const info: BannerInfo = {
    role: 'gateway',
    version: version(),
    id: gateway.id,
    endpoints: endpointsOf('gateway', gateway.url, gateway.app),
  };
  await writeBanner(info);
  writeListening({ url: gateway.url, id: gateway.id, role: 'gateway', ...bannerFields(info) });
  releaseYoungGeneration();
}

async function runWorker(config: Config): Promise<void> {
  const log = nodeLogger(config);
  const { startWorker } = await import('@mcp-cluster/worker');
  const { bannerFields, endpointsOf } = await import('./banner.js');
  await supportTypeScriptPacks(config.packs);
  const traced = await withTracing('worker', config, log);
  const worker = await startWorker(config, nodeLog(log));
  warnNoPacks(log, config, 'worker');
  // close() drains: in-flight dispatches get up to config.drainMs before the process exits.
  closeOnSignals(
    traced(() => worker.close()),
    (err) => log.error('shutdown failed', errorFields(err)),
    shutdownHooks(log, 'worker'),
  );
  const info: BannerInfo = {
    role: 'worker',
    version: version(),
    id: worker.id,
    endpoints: endpointsOf('worker', worker.url, worker.app),
    packs: config.packs,
    counts: countComponents(worker.engine),
  };
  await writeBanner(info);
  writeListening({ url: worker.url, id: worker.id, role: 'worker', ...bannerFields(info) });
  releaseYoungGeneration();
}

async function runStdio(config: Config): Promise<void> {
  const log = nodeLogger(config);
  // stdout carries the protocol only: a pack's console.log / console.info goes to stderr.
  globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });
  const { serveStdio } = await import('@mcp-cluster/transports');
  await supportTypeScriptPacks(config.packs);
  const engine = await createNodeEngine(config);
  const transport = serveStdio(engine, {
    input: process.stdin,
    output: process.stdout,
    maxJsonDepth: config.maxJsonDepth,
    maxBatchLength: config.maxBatchLength,
    maxMessageBytes: config.bodyLimitBytes,
  });
  log.info('stdio ready', { version: version(), packs: config.packs, ...countComponents(engine) });
  releaseYoungGeneration();
  const stop = async (): Promise<void> => {
    transport.close();
    await engine.close();
  };
  closeOnSignals(
    stop,
    (err) => log.error('shutdown failed', errorFields(err)),
    shutdownHooks(log, 'stdio'),
  );
  await transport.closed;
  await engine.close();
  log.info('stdio closed');
  process.exit(0);
}

/** `mcp-cluster init`: next steps on stdout; a failure is one line and exit 1. */
async function runInit(args: InitArgs): Promise<void> {
  const { InitError, initProject } = await import('./init.js');
  try {
    process.stdout.write(`${initProject(args).join('\n')}\n`);
  } catch (err) {
    if (!(err instanceof InitError)) throw err;
    process.stderr.write(`mcp-cluster: ${err.message}\n`);
    process.exit(1);
  }
}

/** A usage mistake: one line naming it, one line saying where help is. */
function usageFailure(message: string, command: string | undefined): never {
  process.stderr.write(
    `mcp-cluster: ${message}\nRun 'mcp-cluster ${isCommand(command) ? `${command} ` : ''}--help' for usage.\n`,
  );
  process.exit(EXIT_USAGE);
}

export async function main(argv: readonly string[]): Promise<void> {
  const info = infoRequest(argv);
  if (info?.kind === 'version') {
    process.stdout.write(`${version()}\n`);
    return;
  }
  if (info?.kind === 'help') {
    if (info.command !== undefined && !isCommand(info.command)) {
      usageFailure(`unknown command ${info.command}`, undefined);
    }
    process.stdout.write(commandHelp(info.command));
    return;
  }
  let parsed: Parsed | 'help';
  let config: Config;
  try {
    parsed = parseCommandLine(argv);
    if (parsed === 'help') {
      process.stdout.write(commandHelp(commandOf(argv)));
      return;
    }
    if (parsed.command === 'init') {
      await runInit(parsed.init);
      return;
    }
    config = loadConfig({ file: parsed.file, overrides: parsed.overrides });
    // Checked here so a missing REDIS_URL/NATS_URL is a configuration error (exit 2).
    if (CLUSTER_COMMANDS.has(parsed.command)) requireCluster(config);
  } catch (err) {
    if (err instanceof UsageError) usageFailure(err.message, commandOf(argv));
    if (err instanceof ConfigError) {
      // One line: every issue, separated by '; '.
      process.stderr.write(`mcp-cluster: invalid configuration: ${err.issues.join('; ')}\n`);
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
      case 'apikey': {
        releaseYoungGeneration();
        const { runApiKey } = await import('./apikey.js');
        process.exitCode = await runApiKey(parsed.apikey, config, {
          stdout: process.stdout,
          stderr: process.stderr,
        });
        break;
      }
    }
  } catch (err) {
    // An expected failure (pack, port, Redis, NATS, ...): one line and its exit code; the
    // stack only at debug.
    const failure = startupFailure(err);
    if (failure !== undefined) {
      processLogger(config.logLevel).debug('startup failure', errorFields(err));
      process.stderr.write(`mcp-cluster: ${failure.message}\n`);
      process.exit(failure.code);
    }
    processLogger(config.logLevel).error('failed to start', errorFields(err));
    process.exit(1);
  }
}

await main(process.argv.slice(2));
