/**
 * How a target child tells the parent it is ready: one JSON line on stdout. The parent
 * reads only this line from stdout; logs belong on stderr.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

export interface ReadyLine {
  readonly ready: true;
  readonly url: string;
  readonly note?: string;
}

export interface FailedLine {
  readonly ready: false;
  readonly reason: string;
}

export function announce(line: ReadyLine | FailedLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** The loopback URL a node:http server listens on (after listen(0, '127.0.0.1')). */
export function urlOf(server: Server, path: string): string {
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}${path}`;
}

/** Stops the child when the parent says so or goes away. */
export function exitOnSignals(close: () => Promise<void> | void): void {
  const stop = (): void => {
    void Promise.resolve(close()).finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.once('end', stop);
  process.stdin.resume();
}
