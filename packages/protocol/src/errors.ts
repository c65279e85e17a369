/**
 * The one table of protocol errors: JSON-RPC code <-> HTTP status <-> retryable.
 * `httpStatus` is the status a transport uses when the error is the whole answer to an HTTP
 * request (modern era, transport-level rejections). Legacy sessions carry in-band errors
 * with HTTP 200.
 */
export const RpcError = {
  ParseError: { code: -32700, httpStatus: 400, retryable: false, message: 'Parse error' },
  InvalidRequest: { code: -32600, httpStatus: 400, retryable: false, message: 'Invalid Request' },
  MethodNotFound: { code: -32601, httpStatus: 404, retryable: false, message: 'Method not found' },
  InvalidParams: { code: -32602, httpStatus: 400, retryable: false, message: 'Invalid params' },
  InternalError: { code: -32603, httpStatus: 500, retryable: true, message: 'Internal error' },
  /** Legacy sessions: the Mcp-Session-Id is unknown or ended. */
  SessionNotFound: {
    code: -32001,
    httpStatus: 404,
    retryable: false,
    message: 'Session not found',
  },
  /** Legacy revisions (2024-11-05 .. 2025-11-25). 2026-07-28 uses InvalidParams instead. */
  ResourceNotFound: {
    code: -32002,
    httpStatus: 404,
    retryable: false,
    message: 'Resource not found',
  },
  /** Implementation-defined range -32000..-32019. */
  RequestCancelled: {
    code: -32010,
    httpStatus: 499,
    retryable: false,
    message: 'Request cancelled',
  },
  RequestTimeout: { code: -32011, httpStatus: 504, retryable: true, message: 'Request timed out' },
  RateLimited: { code: -32012, httpStatus: 429, retryable: true, message: 'Rate limit exceeded' },
  Unauthorized: { code: -32013, httpStatus: 401, retryable: false, message: 'Unauthorized' },
  Forbidden: { code: -32014, httpStatus: 403, retryable: false, message: 'Forbidden' },
  PayloadTooLarge: {
    code: -32015,
    httpStatus: 413,
    retryable: false,
    message: 'Payload too large',
  },
  Unavailable: { code: -32016, httpStatus: 503, retryable: true, message: 'Service unavailable' },
  /** 2026-07-28 header rules. */
  HeaderMismatch: { code: -32020, httpStatus: 400, retryable: false, message: 'Header mismatch' },
  MissingCapability: {
    code: -32021,
    httpStatus: 400,
    retryable: false,
    message: 'Missing required client capability',
  },
  UnsupportedProtocolVersion: {
    code: -32022,
    httpStatus: 400,
    retryable: false,
    message: 'Unsupported protocol version',
  },
  /** 2025-11-25: URL-mode elicitation is required before the request can proceed. */
  UrlElicitationRequired: {
    code: -32042,
    httpStatus: 400,
    retryable: false,
    message: 'URL elicitation required',
  },
} as const;

export type RpcErrorKind = keyof typeof RpcError;
export type RpcErrorCode = (typeof RpcError)[RpcErrorKind]['code'];

const byCode = new Map<number, (typeof RpcError)[RpcErrorKind]>(
  Object.values(RpcError).map((e) => [e.code, e]),
);

/** HTTP status for a JSON-RPC error code; 500 for codes not in the table. */
export function httpStatusForCode(code: number): number {
  return byCode.get(code)?.httpStatus ?? 500;
}

/** Whether a client may retry the same request unchanged. */
export function isRetryableCode(code: number): boolean {
  return byCode.get(code)?.retryable ?? false;
}

/**
 * A protocol error: the only kind of error that is serialized to the wire. Everything else
 * becomes -32603 with a generic message (see `toWireError`).
 */
export class ProtocolError extends Error {
  override readonly name: string = 'ProtocolError';
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.data = data;
  }

  static of(kind: RpcErrorKind, message?: string, data?: unknown): ProtocolError {
    const e = RpcError[kind];
    return new ProtocolError(e.code, message ?? e.message, data);
  }

  get httpStatus(): number {
    return httpStatusForCode(this.code);
  }
}

/**
 * A check security needs could not be made (its store is down): refused, retryably. One
 * answer for the transports' door and the security layer's guards alike.
 */
export function securityUnavailable(): ProtocolError {
  // Retryable: the store behind the checks (Redis) is expected back; 503 + Retry-After.
  return ProtocolError.of('Unavailable', 'Security checks unavailable', {
    retryAfterMs: SECURITY_RETRY_AFTER_MS,
  });
}

/** How long a client is told to wait when the security checks' store could not answer. */
export const SECURITY_RETRY_AFTER_MS = 1_000;

/** A Retry-After value (whole seconds, at least 1) for a wait of `ms` milliseconds. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/** Maps any thrown value to a wire error object. Unknown errors never leak their text. */
export function toWireError(err: unknown): { code: number; message: string; data?: unknown } {
  if (err instanceof ProtocolError) {
    return err.data === undefined
      ? { code: err.code, message: err.message }
      : { code: err.code, message: err.message, data: err.data };
  }
  return { code: RpcError.InternalError.code, message: RpcError.InternalError.message };
}
