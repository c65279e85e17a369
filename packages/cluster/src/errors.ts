/**
 * Local errors of the cluster state layer. They never cross the wire: callers map them
 * (usually to -32603 or a 404) at the transport boundary.
 */
import { KindedError, ProtocolError, RpcError } from '@mcp-cluster/protocol';

export type ClusterStateErrorKind =
  /** A value read from the store failed validation. */
  | 'corrupt'
  /** create() for an id that is already live or ended. */
  | 'exists';

export class ClusterStateError extends KindedError<ClusterStateErrorKind> {
  override readonly name = 'ClusterStateError';
}

/** Parses JSON read from the store; malformed text becomes a typed 'corrupt' error. */
export function parseStored(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new ClusterStateError('corrupt', `${what}: stored value is not JSON`, { cause });
  }
}

/** `redis://user:secret@host` -> `redis://user:***@host`: URLs in messages never carry a password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = '***';
    return u.href;
  } catch {
    // Not a parsable URL: drop anything that looks like credentials before an '@'.
    return url.replace(/\/\/[^/@]*@/, '//***@');
  }
}

/** Redis or NATS could not be reached at startup; the message names it and its (redacted) URL. */
export class ServiceUnreachableError extends Error {
  override readonly name = 'ServiceUnreachableError';
  /** The URL with any password redacted. */
  readonly url: string;

  constructor(
    readonly service: 'Redis' | 'NATS',
    url: string,
    cause: unknown,
  ) {
    const safe = redactUrl(url);
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${service} at ${safe} unreachable${reason ? ` (${reason})` : ''}`, { cause });
    this.url = safe;
  }
}

/** How long a client is told to wait (Retry-After) when the state store could not answer. */
export const STORE_RETRY_AFTER_MS = 1_000;

/**
 * -32016 "Session store unavailable" with `data.retryAfterMs`: the transports answer it with
 * 503, Retry-After and the request's id. `cause` is the store's own error (for logs only).
 */
export function storeUnavailable(cause?: unknown): ProtocolError {
  return new ProtocolError(
    RpcError.Unavailable.code,
    'Session store unavailable',
    { retryAfterMs: STORE_RETRY_AFTER_MS },
    { cause },
  );
}

/**
 * `store` whose rejected calls become {@link storeUnavailable} when the store could not answer
 * (connection closed, command timed out, retries exhausted). A typed ClusterStateError (a
 * corrupt value, a duplicate create) and a ProtocolError pass unchanged: they are answers.
 */
export function outageAsUnavailable<T extends object>(store: T, options: OutageOptions = {}): T {
  const answer = (err: unknown): boolean =>
    err instanceof ClusterStateError || err instanceof ProtocolError;
  const mapped = (err: unknown): never => {
    if (answer(err)) throw err;
    throw storeUnavailable(err);
  };
  const rideThrough = new Set<PropertyKey>(options.rideThrough?.methods ?? []);
  const budgetMs = options.rideThrough?.forMs ?? 0;
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (budgetMs > 0 && rideThrough.has(prop)) {
        return async (...args: unknown[]): Promise<unknown> => {
          const until = Date.now() + budgetMs;
          for (let pause = RIDE_THROUGH_FIRST_PAUSE_MS; ; pause *= 2) {
            try {
              return await method.apply(target, args);
            } catch (err) {
              if (answer(err) || Date.now() + pause >= until) return mapped(err);
            }
            await new Promise((resolve) => setTimeout(resolve, pause));
          }
        };
      }
      return (...args: unknown[]): unknown => {
        const result = method.apply(target, args);
        return result instanceof Promise ? result.catch(mapped) : result;
      };
    },
  });
}

/** The first pause between two tries of a read riding through an outage (then doubled). */
const RIDE_THROUGH_FIRST_PAUSE_MS = 100;

/**
 * How long a gateway's reads of the session store (a session's record, its pin) keep trying
 * while Redis cannot answer, before the request gets -32016 "Session store unavailable": a
 * Redis restart (seconds) costs those requests latency, not an error. Reads only: nothing has
 * run yet, so trying again is harmless. Each try gives up within the Redis command timeout.
 */
export const STORE_RIDE_THROUGH_MS = 4_000;

export interface OutageOptions {
  /** Methods (reads) tried again, with doubling pauses, for up to `forMs` in all. */
  readonly rideThrough?: { readonly methods: readonly string[]; readonly forMs: number };
}
