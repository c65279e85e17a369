/**
 * The process logger of every node (CLI, gateway, worker): pino, the logger the HTTP app uses
 * too — one JSON object per line on stderr, so stdout stays free for the stdio transport;
 * readable lines on a terminal; credentials redacted; extra fields per line from a mixin (the
 * active trace's ids). Here because every process reads its level from config.
 */
import { pino } from 'pino';
import type { LogLevel } from './config.js';

/** pino's numeric levels, so the process's lines and the HTTP app's sort and filter alike. */
export const LOG_RANK: Readonly<Record<LogLevel, number>> = Object.freeze({
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
});

export interface ProcessLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface ProcessLoggerOptions {
  /** Readable lines instead of JSON; defaults to whether stderr is a terminal. */
  readonly pretty?: boolean;
  /** Fields added to every line when it is written (e.g. the active trace and span ids). */
  readonly mixin?: () => Record<string, unknown> | undefined;
}

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * Field names whose values are credentials, whatever object they sit in (headers, options,
 * error details): their values are replaced before anything is written.
 */
const SECRET_KEYS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'sec-websocket-protocol',
  'password',
  'passphrase',
  'token',
  'accesstoken',
  'access_token',
  'refreshtoken',
  'refresh_token',
  'bearer',
  'apikey',
  'api_key',
  'secret',
  'clientsecret',
  'client_secret',
]);

export const REDACTED = '[redacted]';

/** `value` with every credential-bearing field (and `mcp.bearer.*` subprotocol) replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    return value
      .replace(/mcp\.bearer\.[A-Za-z0-9._~+/=-]+/g, `mcp.bearer.${REDACTED}`)
      .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, `$1 ${REDACTED}`)
      .replace(/(\/\/[^/\s:@]*:)[^/\s@]+@/g, `$1${REDACTED}@`);
  }
  if (typeof value !== 'object' || value === null || depth > 8) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

const LABEL: Readonly<Record<Level, string>> = {
  debug: 'DEBUG',
  info: 'INFO ',
  warn: 'WARN ',
  error: 'ERROR',
};

/** One readable line (plus an error's stack, indented) for a person watching stderr. */
export function formatPretty(
  level: Level,
  time: number,
  msg: string,
  fields: Record<string, unknown>,
): string {
  const { err, ...rest } = fields;
  const pairs = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const clock = new Date(time).toISOString().slice(11, 23);
  let line = `${clock} ${LABEL[level]} ${msg}${pairs.length > 0 ? ` ${pairs.join(' ')}` : ''}\n`;
  if (err !== undefined) {
    const e = err as { stack?: unknown; message?: unknown };
    const text =
      typeof e.stack === 'string'
        ? e.stack
        : typeof e.message === 'string'
          ? e.message
          : JSON.stringify(err);
    line += `${text.replace(/^/gm, '    ')}\n`;
  }
  return line;
}

export function processLogger(
  level: LogLevel,
  write: (line: string) => void = (l) => void process.stderr.write(l),
  options: ProcessLoggerOptions = {},
): ProcessLogger {
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  const mixin = options.mixin;
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      // Any field named like a credential, at any depth (pino's own paths are fixed).
      formatters: { log: (fields) => redact(fields) as Record<string, unknown> },
      ...(mixin === undefined ? {} : { mixin: () => mixin() ?? {} }),
    },
    logStream(pretty, write),
  );
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>): void => {
    if (fields === undefined) logger[lvl](msg);
    else logger[lvl](fields, msg);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

const LEVEL_OF_RANK: ReadonlyMap<number, Level> = new Map([
  [10, 'debug'],
  [20, 'debug'],
  [30, 'info'],
  [40, 'warn'],
  [50, 'error'],
  [60, 'error'],
]);

/**
 * A destination for pino's JSON lines (the HTTP app's logger) that writes readable lines when
 * stderr is a terminal, and passes the JSON through otherwise.
 */
export function logStream(
  pretty: boolean = process.stderr.isTTY === true,
  write: (line: string) => void = (l) => void process.stderr.write(l),
): { write(line: string): void } {
  return {
    write(line) {
      if (!pretty) return write(line);
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        const { level, time, msg, pid: _pid, hostname: _host, ...fields } = entry;
        write(
          formatPretty(
            LEVEL_OF_RANK.get(typeof level === 'number' ? level : 30) ?? 'info',
            typeof time === 'number' ? time : Date.now(),
            typeof msg === 'string' ? msg : '',
            fields,
          ),
        );
      } catch {
        write(line);
      }
    },
  };
}

/** An error as log fields, without leaking anything to clients (logs stay local). */
export function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof Error
    ? { err: { name: err.name, message: err.message, stack: err.stack } }
    : { err: String(err) };
}

/**
 * A node's log call: `err` (an error to show with its stack) and `fields` (plain JSON values)
 * are both optional. What startGateway and startWorker take.
 */
export type NodeLog = (
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  err?: unknown,
  fields?: Record<string, unknown>,
) => void;

/** `log` as a {@link NodeLog}: the error, if any, becomes `err` fields beside the others. */
export function nodeLog(log: ProcessLogger): NodeLog {
  return (level, msg, err, fields) =>
    log[level](msg, { ...fields, ...(err === undefined ? {} : errorFields(err)) });
}
