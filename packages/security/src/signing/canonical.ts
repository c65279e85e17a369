/**
 * The bytes a request signature covers. Client and gateway must build them identically from
 * JSON that may have been re-serialized on the way (key order, whitespace, number spelling),
 * so params are written as canonical JSON: object keys sorted by UTF-16 code units, no
 * whitespace, strings and numbers as JSON.stringify writes them (ECMAScript Number-to-String).
 * For I-JSON input this is the RFC 8785 (JCS) serialization, so other languages can sign too.
 *
 *   MCP-SIG-V1\n<alg>\n<keyId>\n<method>\n<ts>\n<nonce>\n<canonical JSON of params>
 *
 * The params are taken without the signature entry (it cannot sign itself), and without
 * `_meta` when that leaves it empty; every other `_meta` entry is covered.
 */
import { SigningError } from './errors.js';
import { isPlainObject, NONCE_PATTERN, SIGNATURE_META_KEY } from './envelope.js';
import { isSigningAlgorithm, KEY_ID_PATTERN, type SigningAlgorithm } from './keys.js';

/** First line of the canonical form; a new format gets a new version, never a changed meaning. */
export const SIGNATURE_VERSION = 'MCP-SIG-V1';

/** Deepest nesting of objects/arrays in params (same default as the HTTP body's maxJsonDepth). */
export const DEFAULT_CANONICAL_MAX_DEPTH = 64;
/** Largest canonical JSON of params, in UTF-8 bytes (same default as the HTTP body limit). */
export const DEFAULT_CANONICAL_MAX_BYTES = 4 * 1024 * 1024;
/** Longest method name signed. */
export const MAX_SIGNED_METHOD_LENGTH = 1024;

export interface CanonicalLimits {
  /** Default DEFAULT_CANONICAL_MAX_DEPTH; `{}` has depth 1, `{"a":[]}` depth 2. */
  readonly maxDepth?: number;
  /** Default DEFAULT_CANONICAL_MAX_BYTES. */
  readonly maxBytes?: number;
}

export interface CanonicalFields {
  readonly alg: SigningAlgorithm;
  readonly keyId: string;
  readonly method: string;
  /** Unix time in milliseconds. */
  readonly ts: number;
  readonly nonce: string;
  /** The request's params, signature entry included or not: it is removed here. */
  readonly params: Readonly<Record<string, unknown>> | undefined;
}

const invalid = (message: string): never => {
  throw new SigningError('invalid_argument', `canonical form: ${message}`);
};

/** Fills in defaults and validates; throws SigningError('invalid_argument'). */
export function resolveCanonicalLimits(limits: CanonicalLimits = {}): Required<CanonicalLimits> {
  const maxDepth = limits.maxDepth ?? DEFAULT_CANONICAL_MAX_DEPTH;
  const maxBytes = limits.maxBytes ?? DEFAULT_CANONICAL_MAX_BYTES;
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1) invalid('maxDepth must be >= 1');
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 2) invalid('maxBytes must be >= 2');
  return { maxDepth, maxBytes };
}

/** Appends pieces while counting UTF-8 bytes, so oversized input stops early. */
class Writer {
  private readonly parts: string[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** `ascii` pieces (punctuation, literals, numbers) are one byte per character. */
  push(piece: string, ascii: boolean): void {
    this.bytes += ascii ? piece.length : Buffer.byteLength(piece, 'utf8');
    if (this.bytes > this.maxBytes) invalid(`larger than ${this.maxBytes} bytes`);
    this.parts.push(piece);
  }

  toString(): string {
    return this.parts.join('');
  }
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function write(value: unknown, depth: number, maxDepth: number, out: Writer): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value), false);
      return;
    case 'number':
      if (!Number.isFinite(value)) invalid('number is not finite');
      out.push(JSON.stringify(value), true);
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false', true);
      return;
    case 'object':
      break;
    default:
      // undefined, bigint, symbol, function: JSON has no spelling (or a lossy one) for them.
      return invalid(`unsupported value of type ${typeof value}`);
  }
  if (value === null) {
    out.push('null', true);
    return;
  }
  if (depth > maxDepth) invalid(`nested deeper than ${maxDepth} levels`);
  if (Array.isArray(value)) {
    out.push('[', true);
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',', true);
      // A hole or undefined would be written as null by JSON.stringify: refuse the ambiguity.
      write(value[i] as unknown, depth + 1, maxDepth, out);
    }
    out.push(']', true);
    return;
  }
  // Dates, Maps, Buffers and class instances serialize through toJSON or lose data.
  if (!isPlainObject(value)) return invalid('unsupported object (not a plain object)');
  // Properties set to undefined are left out, as JSON.stringify leaves them out on the wire.
  const keys = Object.keys(value)
    .filter((k) => value[k] !== undefined)
    .sort(byCodeUnits);
  out.push('{', true);
  keys.forEach((key, i) => {
    if (i > 0) out.push(',', true);
    out.push(JSON.stringify(key), false);
    out.push(':', true);
    write(value[key], depth + 1, maxDepth, out);
  });
  out.push('}', true);
}

/**
 * Canonical JSON of a JSON value (see the module comment). Throws
 * SigningError('invalid_argument') on non-JSON values, non-finite numbers, nesting deeper
 * than `maxDepth` (cycles included) and output larger than `maxBytes`.
 */
export function canonicalJson(value: unknown, limits: CanonicalLimits = {}): string {
  const { maxDepth, maxBytes } = resolveCanonicalLimits(limits);
  const out = new Writer(maxBytes);
  write(value, 1, maxDepth, out);
  return out.toString();
}

/**
 * `params` without the signature entry, and without `_meta` if that leaves it empty (an empty
 * `_meta` is not told apart from none). Never mutates its input; returns it as is when there
 * is nothing to remove. The gateway may use it to drop the entry before dispatching.
 */
export function stripSignature(
  params: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>>;
export function stripSignature(
  params: Readonly<Record<string, unknown>> | undefined,
): Readonly<Record<string, unknown>> | undefined;
export function stripSignature(
  params: Readonly<Record<string, unknown>> | undefined,
): Readonly<Record<string, unknown>> | undefined {
  const meta = params?._meta;
  if (params === undefined || !isPlainObject(meta)) return params;
  const rest = Object.entries(meta).filter(([k]) => k !== SIGNATURE_META_KEY);
  if (rest.length > 0 && rest.length === Object.keys(meta).length) return params;
  // Object.fromEntries defines properties, so a `__proto__` key stays a plain key.
  const entries = Object.entries(params).filter(([k]) => k !== '_meta');
  if (rest.length > 0) entries.push(['_meta', Object.fromEntries(rest)]);
  return Object.fromEntries(entries);
}

function checkMethod(method: string): void {
  if (
    typeof method !== 'string' ||
    method.length === 0 ||
    method.length > MAX_SIGNED_METHOD_LENGTH
  ) {
    invalid(`method must be 1-${MAX_SIGNED_METHOD_LENGTH} characters`);
  }
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i);
    // Control characters (newline above all) would blur the line-separated fields.
    if (c < 0x20 || c === 0x7f) invalid('method contains a control character');
  }
}

/**
 * The string a signature is the HMAC of (as UTF-8). Validates every field, so no field can
 * contain the newline separating them: the form is unambiguous.
 */
export function canonicalSigningInput(
  fields: CanonicalFields,
  limits: CanonicalLimits = {},
): string {
  const { alg, keyId, method, ts, nonce, params } = fields;
  if (!isSigningAlgorithm(alg)) invalid('unsupported algorithm');
  if (typeof keyId !== 'string' || !KEY_ID_PATTERN.test(keyId)) {
    invalid('keyId must be 1-128 visible ASCII characters');
  }
  checkMethod(method);
  if (!Number.isSafeInteger(ts) || ts < 0) invalid('ts must be a non-negative integer (unix ms)');
  if (typeof nonce !== 'string' || !NONCE_PATTERN.test(nonce)) {
    invalid('nonce must be 16-128 characters of [A-Za-z0-9_-]');
  }
  if (params !== undefined && !isPlainObject(params)) invalid('params must be an object');
  const json = canonicalJson(stripSignature(params) ?? {}, limits);
  return [SIGNATURE_VERSION, alg, keyId, method, String(ts), nonce, json].join('\n');
}
