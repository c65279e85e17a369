/**
 * The gateway -> worker context envelope: what a worker must know about one client message
 * besides its JSON-RPC body. It travels as HTTP headers on the dispatch POST, all under one
 * prefix so a proxy or a log filter can spot (and strip) them in one rule.
 *
 * Scalar fields are plain header values checked by hand (cheap); the two JSON-valued fields
 * (principal, client capabilities) are base64url JSON validated with zod. Everything is size
 * bounded before it is decoded, so a hostile or buggy peer cannot make a worker parse
 * megabytes. This runs once per request: no per-call closures, small caches for the values
 * that repeat (a session's capabilities, a service's principal).
 */
import type { ClientCapabilities, JsonObject } from '@mcp-cluster/protocol';
import { isLegacyVersion, isModernVersion } from '@mcp-cluster/protocol';
import { z } from 'zod';

export type EnvelopeEra = 'legacy' | 'modern';

/** Same shape as Principal in @mcp-cluster/server's context.ts (cluster must not depend on it). */
export interface EnvelopePrincipal {
  readonly id: string;
  readonly kind: 'anonymous' | 'user' | 'service';
  readonly roles: readonly string[];
  readonly claims?: Readonly<JsonObject>;
}

export interface DispatchEnvelope {
  readonly principal: EnvelopePrincipal;
  /** Legacy era only (a modern request never carries one). */
  readonly sessionId?: string;
  readonly protocolVersion: string;
  readonly era: EnvelopeEra;
  /** Modern: this request's `_meta` capabilities; legacy: the session's. */
  readonly clientCapabilities: ClientCapabilities;
  /** W3C trace context. */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** Absolute deadline, epoch milliseconds. */
  readonly deadline: number;
  /** The gateway the client message arrived at (for routing answers and logs). */
  readonly gatewayId: string;
}

export type EnvelopeField = keyof DispatchEnvelope;

export const ENVELOPE_HEADER_PREFIX = 'x-mcp-cluster-';

/** Every envelope header name (lower case, as Node's http exposes them). */
export const ENVELOPE_HEADERS = Object.freeze({
  principal: 'x-mcp-cluster-principal',
  sessionId: 'x-mcp-cluster-session-id',
  protocolVersion: 'x-mcp-cluster-protocol-version',
  era: 'x-mcp-cluster-era',
  clientCapabilities: 'x-mcp-cluster-client-capabilities',
  traceparent: 'x-mcp-cluster-traceparent',
  tracestate: 'x-mcp-cluster-tracestate',
  deadline: 'x-mcp-cluster-deadline',
  gatewayId: 'x-mcp-cluster-gateway-id',
} as const satisfies Record<EnvelopeField, `${typeof ENVELOPE_HEADER_PREFIX}${string}`>);

/** Size bounds, in header-value characters (base64url length for JSON fields). */
export const ENVELOPE_LIMITS = Object.freeze({
  principal: 4096,
  clientCapabilities: 8192,
  sessionId: 256,
  gatewayId: 128,
  protocolVersion: 32,
  /** W3C: vendors must propagate at least 512 characters; we accept no more. */
  tracestate: 512,
  tracestateMembers: 32,
  principalId: 256,
  roles: 64,
  role: 128,
});

/** Local error: never serialized; the worker answers it with a generic 400/-32603. */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  readonly code = 'INVALID_ENVELOPE';

  constructor(
    readonly field: EnvelopeField,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid envelope field ${field}: ${reason}`, options);
  }
}

const principalSchema = z.strictObject({
  id: z.string().min(1).max(ENVELOPE_LIMITS.principalId),
  kind: z.enum(['anonymous', 'user', 'service']),
  roles: z.array(z.string().min(1).max(ENVELOPE_LIMITS.role)).max(ENVELOPE_LIMITS.roles),
  claims: z.record(z.string(), z.unknown()).optional(),
});

const capabilitiesSchema = z.record(z.string(), z.unknown());

// Visible ASCII (0x21-0x7E), as MCP requires of session ids.
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const DIGITS = /^[0-9]{1,16}$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);
// Printable ASCII including space (W3C tracestate values may hold spaces, not at the end).
const TRACESTATE_CHARS = /^[\x20-\x7e]*$/;

/** Checks a W3C traceparent (version-traceid-parentid-flags); returns why it is invalid. */
export function traceparentProblem(value: string): string | undefined {
  const m = TRACEPARENT.exec(value);
  if (m === null) return 'not version-traceid-parentid-flags in lower-case hex';
  const version = m[1];
  if (version === 'ff') return 'version ff is invalid';
  // Version 00 is exactly 55 characters; later versions may append '-'-separated fields.
  if (version === '00' ? value.length !== 55 : value.length > 55 && value[55] !== '-') {
    return 'trailing data';
  }
  if (m[2] === ZERO_TRACE_ID) return 'all-zero trace id';
  if (m[3] === ZERO_PARENT_ID) return 'all-zero parent id';
  return undefined;
}

function tracestateProblem(value: string): string | undefined {
  if (value.length > ENVELOPE_LIMITS.tracestate) return 'too long';
  if (!TRACESTATE_CHARS.test(value)) return 'non-printable characters';
  const members = value.split(',');
  if (members.length > ENVELOPE_LIMITS.tracestateMembers) return 'too many list members';
  for (const member of members) {
    const m = member.trim();
    // Empty members are allowed by W3C (e.g. "a=1,,b=2"); a non-empty one needs key=value.
    if (m.length > 0 && m.indexOf('=') <= 0) return 'list member is not key=value';
  }
  return undefined;
}

function checkToken(field: 'sessionId' | 'gatewayId', value: string, max: number): string {
  if (value.length === 0) throw new EnvelopeError(field, 'empty');
  if (value.length > max) throw new EnvelopeError(field, 'too long');
  if (!VISIBLE_ASCII.test(value)) throw new EnvelopeError(field, 'not visible ASCII');
  return value;
}

function checkVersion(version: string, era: EnvelopeEra): void {
  if (version.length > ENVELOPE_LIMITS.protocolVersion) {
    throw new EnvelopeError('protocolVersion', 'too long');
  }
  const ok = era === 'legacy' ? isLegacyVersion(version) : isModernVersion(version);
  if (!ok) throw new EnvelopeError('protocolVersion', `not a supported ${era} revision`);
}

function checkTrace(traceparent: string | undefined, tracestate: string | undefined): void {
  if (traceparent !== undefined) {
    const problem = traceparentProblem(traceparent);
    if (problem !== undefined) throw new EnvelopeError('traceparent', problem);
  }
  if (tracestate !== undefined) {
    // W3C: tracestate is meaningless (and must be dropped) without a valid traceparent.
    if (traceparent === undefined) throw new EnvelopeError('tracestate', 'without traceparent');
    const problem = tracestateProblem(tracestate);
    if (problem !== undefined) throw new EnvelopeError('tracestate', problem);
  }
}

function checkDeadline(deadline: number, now: number): void {
  if (!Number.isSafeInteger(deadline) || deadline <= 0) {
    throw new EnvelopeError('deadline', 'not a positive integer of epoch milliseconds');
  }
  if (deadline <= now) throw new EnvelopeError('deadline', 'already passed');
}

// Encoded JSON per object: a session's capabilities and a service's principal are the same
// object on every request, so they are serialized once.
const encodedJson = new WeakMap<object, string>();

function encodeJson(field: 'principal' | 'clientCapabilities', value: object): string {
  let encoded = encodedJson.get(value);
  if (encoded === undefined) {
    encoded = Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    encodedJson.set(value, encoded);
  }
  if (encoded.length > ENVELOPE_LIMITS[field]) throw new EnvelopeError(field, 'too large');
  return encoded;
}

/**
 * Builds the dispatch headers. Validates scalar fields with the same rules as decode so a
 * gateway never sends what a worker would reject. (The JSON fields are only size-checked here:
 * the gateway built them itself.)
 */
export function encodeEnvelope(
  env: DispatchEnvelope,
  now: number = Date.now(),
): Record<string, string> {
  if (env.era !== 'legacy' && env.era !== 'modern') throw new EnvelopeError('era', 'unknown era');
  checkVersion(env.protocolVersion, env.era);
  checkToken('gatewayId', env.gatewayId, ENVELOPE_LIMITS.gatewayId);
  checkDeadline(env.deadline, now);
  checkTrace(env.traceparent, env.tracestate);
  const headers: Record<string, string> = {
    [ENVELOPE_HEADERS.principal]: encodeJson('principal', env.principal),
    [ENVELOPE_HEADERS.protocolVersion]: env.protocolVersion,
    [ENVELOPE_HEADERS.era]: env.era,
    [ENVELOPE_HEADERS.clientCapabilities]: encodeJson('clientCapabilities', env.clientCapabilities),
    [ENVELOPE_HEADERS.deadline]: String(env.deadline),
    [ENVELOPE_HEADERS.gatewayId]: env.gatewayId,
  };
  if (env.sessionId !== undefined) {
    if (env.era === 'modern')
      throw new EnvelopeError('sessionId', 'modern requests have no session');
    headers[ENVELOPE_HEADERS.sessionId] = checkToken(
      'sessionId',
      env.sessionId,
      ENVELOPE_LIMITS.sessionId,
    );
  }
  if (env.traceparent !== undefined) headers[ENVELOPE_HEADERS.traceparent] = env.traceparent;
  if (env.tracestate !== undefined) headers[ENVELOPE_HEADERS.tracestate] = env.tracestate;
  return headers;
}

// Decoded JSON per header value, bounded: the same few principals and capability sets repeat.
// Values are deep-frozen so sharing them between requests is safe.
const DECODE_CACHE_MAX = 256;
const decodedPrincipals = new Map<string, EnvelopePrincipal>();
const decodedCapabilities = new Map<string, ClientCapabilities>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function decodeJson<T>(
  field: 'principal' | 'clientCapabilities',
  raw: string | undefined,
  schema: z.ZodType<T>,
  cache: Map<string, T>,
): T {
  if (raw === undefined) throw new EnvelopeError(field, 'missing');
  const hit = cache.get(raw);
  if (hit !== undefined) return hit;
  if (raw.length > ENVELOPE_LIMITS[field]) throw new EnvelopeError(field, 'too large');
  if (!BASE64URL.test(raw)) throw new EnvelopeError(field, 'not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new EnvelopeError(field, 'not JSON', { cause });
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new EnvelopeError(field, 'wrong shape', { cause: result.error });
  const value = deepFreeze(result.data);
  if (cache.size >= DECODE_CACHE_MAX) cache.clear();
  cache.set(raw, value);
  return value;
}

function required(field: EnvelopeField, get: (name: string) => string | undefined): string {
  const value = get(ENVELOPE_HEADERS[field]);
  if (value === undefined) throw new EnvelopeError(field, 'missing');
  return value;
}

/**
 * Reads and validates an envelope. `get` looks a lower-case header name up (e.g.
 * `(n) => req.headers[n]` narrowed to string). Throws EnvelopeError on the first bad field,
 * including a deadline that is not after `now`.
 */
export function decodeEnvelope(
  get: (name: string) => string | undefined,
  now: number = Date.now(),
): DispatchEnvelope {
  const era = required('era', get);
  if (era !== 'legacy' && era !== 'modern') throw new EnvelopeError('era', 'unknown era');
  const protocolVersion = required('protocolVersion', get);
  checkVersion(protocolVersion, era);

  const deadlineText = required('deadline', get);
  if (!DIGITS.test(deadlineText)) throw new EnvelopeError('deadline', 'not decimal digits');
  const deadline = Number(deadlineText);
  checkDeadline(deadline, now);

  const gatewayId = checkToken('gatewayId', required('gatewayId', get), ENVELOPE_LIMITS.gatewayId);

  const sessionIdRaw = get(ENVELOPE_HEADERS.sessionId);
  if (sessionIdRaw !== undefined && era === 'modern') {
    throw new EnvelopeError('sessionId', 'modern requests have no session');
  }
  const traceparent = get(ENVELOPE_HEADERS.traceparent);
  const tracestate = get(ENVELOPE_HEADERS.tracestate);
  checkTrace(traceparent, tracestate);

  const principal = decodeJson(
    'principal',
    get(ENVELOPE_HEADERS.principal),
    principalSchema as z.ZodType<EnvelopePrincipal>,
    decodedPrincipals,
  );
  const clientCapabilities = decodeJson(
    'clientCapabilities',
    get(ENVELOPE_HEADERS.clientCapabilities),
    capabilitiesSchema as z.ZodType<ClientCapabilities>,
    decodedCapabilities,
  );

  // A fixed key order keeps every envelope the same hidden class.
  return {
    principal,
    sessionId:
      sessionIdRaw === undefined
        ? undefined
        : checkToken('sessionId', sessionIdRaw, ENVELOPE_LIMITS.sessionId),
    protocolVersion,
    era,
    clientCapabilities,
    traceparent,
    tracestate,
    deadline,
    gatewayId,
  };
}

/** Milliseconds left before the envelope's deadline (0 once it has passed). */
export function remainingMs(
  env: Pick<DispatchEnvelope, 'deadline'>,
  now: number = Date.now(),
): number {
  const left = env.deadline - now;
  return left > 0 ? left : 0;
}
