/**
 * The embedded node as a process: config -> engine -> app -> listen, one `listening` log
 * line, graceful shutdown on SIGINT/SIGTERM with a hard deadline.
 */
import type { AddressInfo } from 'node:net';
import type { Config } from '@mcp-cluster/config';
import type { Engine } from '@mcp-cluster/server';
import type { FastifyInstance } from '@mcp-cluster/transports';
import { createNodeEngine } from './engine.js';

/** How long a graceful shutdown may take before the process exits anyway. */
export const SHUTDOWN_DEADLINE_MS = 10_000;

export interface RunningNode {
  readonly url: string;
  readonly engine: Engine;
  readonly app: FastifyInstance;
  /** `/metrics` on its own port (`metricsPort`); undefined when it is served beside /mcp or off. */
  readonly metricsUrl: string | undefined;
  close(): Promise<void>;
}

/** The URL clients use: `http://<host>:<port><path>` with IPv6 hosts bracketed. */
export function urlOf(host: string, port: number, path: string, tls = false): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${h}:${port}${path}`;
}

/** Starts an embedded node (HTTP + WebSocket) and returns once it listens. */
export async function startNode(config: Config): Promise<RunningNode> {
  // Imported here, not at the top: main.ts takes closeOnSignals from this module for every
  // command, and only this one needs the HTTP app and the security layer.
  const { buildApp } = await import('./app.js');
  const engine = await createNodeEngine(config);
  let built;
  try {
    built = await buildApp(config, engine);
    await built.app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await built?.app.close();
    await built?.metricsListener?.close();
    await built?.security.close();
    await engine.close();
    throw err;
  }
  const { app, security, metricsListener } = built;
  const { port } = app.server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: urlOf(config.host, port, config.path, config.tls !== undefined),
    engine,
    app,
    metricsUrl: metricsListener?.url,
    close: (): Promise<void> =>
      (closing ??= (async () => {
        // Engine first: it ends listen streams and sessions, so app.close() has nothing to wait on.
        await engine.close();
        await app.close();
        await metricsListener?.close();
        await security.close();
      })()),
  };
}

/**
 * Runs `close` on SIGINT/SIGTERM, then exits; a second signal or the deadline exits at once.
 * `onSignal` hears the first signal (the shutdown line), `onClosed` a clean close.
 */
export function closeOnSignals(
  close: () => Promise<void>,
  onError: (err: unknown) => void,
  hooks: {
    readonly onSignal?: (signal: NodeJS.Signals) => void;
    readonly onClosed?: () => void;
    /** Added to the hard deadline: a gateway's drain delay and drain timeout, which close() waits out first. */
    readonly extraDeadlineMs?: number;
  } = {},
): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    hooks.onSignal?.(signal);
    const deadline = setTimeout(
      () => process.exit(1),
      SHUTDOWN_DEADLINE_MS + (hooks.extraDeadlineMs ?? 0),
    );
    deadline.unref();
    close().then(
      () => {
        hooks.onClosed?.();
        process.exit(0);
      },
      (err: unknown) => {
        onError(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
