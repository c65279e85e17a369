/**
 * The signature as it travels: one entry of `params._meta`, so the same request signs alike
 * over HTTP, WebSocket and stdio (no transport header needed).
 */
import { DIGEST_BYTES, isSigningAlgorithm, KEY_ID_PATTERN, type SigningAlgorithm } from './keys.js';

/** The `_meta` entry holding the signature (a reverse-DNS key, as MCP reserves bare names). */
export const SIGNATURE_META_KEY = 'dev.mcp-cluster/signature';

/** Nonces: 16-128 base64url characters (the signer uses 16 random bytes = 22 characters). */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const FIELDS: ReadonlySet<string> = new Set(['keyId', 'alg', 'ts', 'nonce', 'sig']);

export interface RequestSignature {
  readonly keyId: string;
  readonly alg: SigningAlgorithm;
  /** Unix time in milliseconds when the client signed. */
  readonly ts: number;
  readonly nonce: string;
  /** Unpadded base64url of the HMAC of the canonical form. */
  readonly sig: string;
}

export type SignatureRead =
  | { readonly type: 'absent' }
  /** `field` names what is wrong (never its value), e.g. `nonce`. */
  | { readonly type: 'malformed'; readonly field: string }
  | { readonly type: 'present'; readonly signature: RequestSignature };

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Unpadded base64url length of `bytes` bytes. */
const encodedLength = (bytes: number): number => Math.ceil((bytes * 4) / 3);

/**
 * Reads and shape-checks the signature entry of `params._meta`. Strict: unknown fields are
 * malformed (they would not be signed), `sig` must be the canonical unpadded base64url of a
 * digest of the named algorithm's size (so one signature has one spelling).
 */
export function readSignature(
  params: Readonly<Record<string, unknown>> | undefined,
): SignatureRead {
  const meta = params?._meta;
  if (!isPlainObject(meta) || !Object.hasOwn(meta, SIGNATURE_META_KEY)) return { type: 'absent' };
  const raw = meta[SIGNATURE_META_KEY];
  const malformed = (field: string): SignatureRead => ({ type: 'malformed', field });
  if (!isPlainObject(raw)) return malformed('signature');
  for (const field of Object.keys(raw)) if (!FIELDS.has(field)) return malformed('signature');
  const { keyId, alg, ts, nonce, sig } = raw;
  if (typeof keyId !== 'string' || !KEY_ID_PATTERN.test(keyId)) return malformed('keyId');
  if (!isSigningAlgorithm(alg)) return malformed('alg');
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) return malformed('ts');
  if (typeof nonce !== 'string' || !NONCE_PATTERN.test(nonce)) return malformed('nonce');
  if (
    typeof sig !== 'string' ||
    sig.length !== encodedLength(DIGEST_BYTES[alg]) ||
    !BASE64URL.test(sig) ||
    Buffer.from(sig, 'base64url').toString('base64url') !== sig
  ) {
    return malformed('sig');
  }
  return { type: 'present', signature: { keyId, alg, ts, nonce, sig } };
}
