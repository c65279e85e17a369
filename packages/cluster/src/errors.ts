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
export function outageAsUnavailable<T extends object>(store: T): T {
  const mapped = (err: unknown): never => {
    if (err instanceof ClusterStateError || err instanceof ProtocolError) throw err;
    throw storeUnavailable(err);
  };
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]): unknown => {
        const result = method.apply(target, args);
        return result instanceof Promise ? result.catch(mapped) : result;
      };
    },
  });
}
