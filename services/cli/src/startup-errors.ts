/**
 * Startup failures an operator can act on: one line naming the thing, and an exit code per
 * kind (documented in the README's "Exit codes"). Anything else is a crash (exit 1, logged
 * with its stack).
 */
import { ComponentError } from '@mcp-cluster/components';
import { EXIT_USAGE } from './main-args.js';

/** Exit codes of `mcp-cluster`; 0 is success, 1 an unexpected failure. */
export const EXIT = {
  ok: 0,
  failed: 1,
  /** Bad usage or configuration. */
  usage: EXIT_USAGE,
  /** A pack could not be found or loaded, or is not a pack. */
  pack: 3,
  /** The listen address is in use, not permitted or not available. */
  listen: 4,
  /** Redis unreachable. */
  redis: 5,
  /** NATS unreachable. */
  nats: 6,
} as const;

export interface StartupFailure {
  readonly code: number;
  /** One line, without the `mcp-cluster: ` prefix. */
  readonly message: string;
}

/** The failure `err` stands for, or undefined when it is not an expected startup failure. */
export function startupFailure(err: unknown): StartupFailure | undefined {
  if (err instanceof ComponentError) return { code: EXIT.pack, message: oneLine(err.message) };
  if (!(err instanceof Error)) return undefined;
  // ServiceUnreachableError (@mcp-cluster/cluster), matched by shape: the URL is redacted.
  const service = (err as { service?: unknown }).service;
  if (err.name === 'ServiceUnreachableError' && (service === 'Redis' || service === 'NATS')) {
    return { code: service === 'Redis' ? EXIT.redis : EXIT.nats, message: oneLine(err.message) };
  }
  const e = err as NodeJS.ErrnoException & { address?: unknown; port?: unknown };
  if (e.syscall === 'listen' || e.code === 'EADDRINUSE') {
    const where = listenAddress(e.address, e.port);
    switch (e.code) {
      case 'EADDRINUSE':
        return {
          code: EXIT.listen,
          message: `${where} is already in use (EADDRINUSE): stop the other process or choose another --port`,
        };
      case 'EACCES':
        return {
          code: EXIT.listen,
          message: `not permitted to listen on ${where} (EACCES): choose a port above 1023 or grant the permission`,
        };
      case 'EADDRNOTAVAIL':
        return {
          code: EXIT.listen,
          message: `cannot listen on ${where} (EADDRNOTAVAIL): the host is not an address of this machine`,
        };
      default:
        return {
          code: EXIT.listen,
          message: `cannot listen on ${where}: ${oneLine(err.message)}`,
        };
    }
  }
  return undefined;
}

function listenAddress(address: unknown, port: unknown): string {
  const host = typeof address === 'string' ? address : '?';
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return typeof port === 'number' ? `${h}:${port}` : h;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
