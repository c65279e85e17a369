/**
 * Fastify gives every request a child logger bound to its request id. Creating one (pino
 * child + redaction of its bindings) costs about as much as the rest of a trivial request's
 * routing, and almost every request ends without logging a line. This factory hands out a
 * stand-in that creates the real child on the first line the level lets through, so log
 * lines keep their `reqId` and nothing is created for silent requests.
 */
import type { FastifyBaseLogger, FastifyLogFn } from 'fastify';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildLoggerOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;
type LogFn = FastifyLogFn;

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** The parent's level check, when it has one (pino does). */
function enabled(logger: FastifyBaseLogger, level: Level): boolean {
  const check = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return check === undefined ? true : check.call(logger, level);
}

class LazyChildLogger implements FastifyBaseLogger {
  private real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
  ) {}

  get level(): string {
    return this.real?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.child$().level = level;
  }

  readonly fatal = this.method('fatal');
  readonly error = this.method('error');
  readonly warn = this.method('warn');
  readonly info = this.method('info');
  readonly debug = this.method('debug');
  readonly trace = this.method('trace');
  readonly silent: LogFn = () => undefined;

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.child$().child(bindings, options);
  }

  private child$(): FastifyBaseLogger {
    return (this.real ??= this.parent.child(this.bindings));
  }

  private method(level: Level): LogFn {
    const log = (...args: unknown[]): void => {
      if (this.real === undefined && !enabled(this.parent, level)) return;
      const child = this.child$();
      Reflect.apply(child[level], child, args);
    };
    return log;
  }
}

/**
 * Fastify's `childLoggerFactory`: the lazy stand-in, or the real child at once when the route
 * asks for child options (a route-level log level, serializers).
 */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  if (Object.keys(options).length > 0) return logger.child(bindings, options);
  return new LazyChildLogger(logger, bindings);
}
