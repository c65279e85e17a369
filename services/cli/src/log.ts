/**
 * A minimal structured logger for the process itself (the fastify app has pino): one JSON
 * object per line on stderr, so stdout stays free for the stdio transport.
 */
import type { LogLevel } from '@mcp-cluster/config';

const RANK: Readonly<Record<LogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

export interface ProcessLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function processLogger(
  level: LogLevel,
  write: (line: string) => void = (l) => void process.stderr.write(l),
): ProcessLogger {
  const min = RANK[level];
  const emit = (lvl: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    write(
      `${JSON.stringify({ level: RANK[lvl], time: Date.now(), pid: process.pid, ...fields, msg })}\n`,
    );
  };
  return {
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

/** An error as log fields, without leaking anything to clients (logs stay local). */
export function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof Error
    ? { err: { name: err.name, message: err.message, stack: err.stack } }
    : { err: String(err) };
}

/** What the `listening` line carries besides the fixed fields. */
export interface ListeningFields {
  readonly url: string;
  readonly id?: string;
  readonly role?: 'gateway' | 'worker';
  /** The banner's facts (banner.ts: endpoints, packs, component counts). */
  readonly [field: string]: unknown;
}

/**
 * The one `listening` line a node writes once it accepts connections. Always written,
 * whatever the log level: tests, launchers and scripts wait for it and read `url` from it.
 */
export function writeListening(
  fields: ListeningFields,
  write: (line: string) => void = (l) => void process.stderr.write(l),
): void {
  write(
    `${JSON.stringify({ level: RANK.info, time: Date.now(), pid: process.pid, msg: 'listening', ...fields })}\n`,
  );
}
