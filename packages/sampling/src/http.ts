/**
 * One provider call over undici, and the one place its failures are classified (status,
 * undici / system error codes): what counts against the provider's breaker, what the tool is
 * told. Messages name the provider and what happened, never the key or the provider's body
 * (an auth error body may quote part of the key).
 */
import { request } from 'undici';
import type { Dispatcher } from 'undici';

export type FailureKind =
  /** No connection (refused, reset, DNS): the provider is not there. */
  | 'connect'
  /** No complete answer within the provider's timeout. */
  | 'timeout'
  /** 5xx, or 429: the provider is there and cannot answer now. */
  | 'unavailable'
  /** Another 4xx: the provider refused this request (key, model, body). */
  | 'refused'
  /** A 2xx whose body is not the documented shape. */
  | 'invalid-response'
  /** The caller's signal aborted (the client went away): says nothing about the provider. */
  | 'aborted';

/** A provider call that gave no answer. Local: the service maps it to a ProtocolError. */
export class ProviderFailure extends Error {
  override readonly name = 'ProviderFailure';
  readonly code = 'SAMPLING_PROVIDER_FAILED';

  constructor(
    readonly provider: string,
    readonly kind: FailureKind,
    readonly detail: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`sampling provider ${provider}: ${detail}`, options);
  }

  /** Whether this failure counts against the provider's breaker. */
  get countsAgainstProvider(): boolean {
    return this.kind !== 'refused' && this.kind !== 'aborted';
  }
}

export interface PostOptions {
  readonly provider: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: object;
  readonly timeoutMs: number;
  /** The caller's signal (the MCP request's). */
  readonly signal: AbortSignal;
  readonly dispatcher: Dispatcher;
}

/** POSTs JSON and returns the parsed 2xx body; throws ProviderFailure otherwise. */
export async function postJson(o: PostOptions): Promise<unknown> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const fail = (kind: FailureKind, detail: string, status?: number, cause?: unknown) =>
    new ProviderFailure(o.provider, kind, detail, status, { cause });
  const whyAborted = (err: unknown): ProviderFailure | undefined => {
    if (o.signal.aborted) return fail('aborted', 'the request was cancelled', undefined, err);
    if (timeout.aborted)
      return fail('timeout', `no answer within ${o.timeoutMs} ms`, undefined, err);
    return undefined;
  };
  let status: number;
  let text: string;
  try {
    const res = await request(o.url, {
      method: 'POST',
      headers: o.headers,
      body: JSON.stringify(o.body),
      signal: AbortSignal.any([o.signal, timeout]),
      dispatcher: o.dispatcher,
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    throw whyAborted(err) ?? classifyNetworkError(o.provider, err);
  }
  if (status >= 500 || status === 429) {
    throw fail('unavailable', `HTTP ${status}`, status);
  }
  if (status < 200 || status >= 300)
    throw fail('refused', `refused the request (HTTP ${status})`, status);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw fail('invalid-response', 'answered with a body that is not JSON', status, err);
  }
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function classifyNetworkError(provider: string, err: unknown): ProviderFailure {
  const code = (err as { code?: unknown } | null)?.code;
  const c = typeof code === 'string' ? code : 'unknown';
  if (TIMEOUT_CODES.has(c))
    return new ProviderFailure(provider, 'timeout', `timed out (${c})`, undefined, { cause: err });
  return new ProviderFailure(provider, 'connect', `connection failed (${c})`, undefined, {
    cause: err,
  });
}
