/**
 * Client side: adds a signature to a request's params. For clients (and tests) of a gateway
 * whose `signing.clients` lists their principal; the gateway never signs.
 */
import { randomBytes } from 'node:crypto';

import type { JsonObject } from '@mcp-cluster/protocol';

import { canonicalSigningInput, type CanonicalLimits } from './canonical.js';
import { isPlainObject, type RequestSignature, SIGNATURE_META_KEY } from './envelope.js';
import { SigningError } from './errors.js';
import { hmac, resolveSigningKey, type SigningKey } from './keys.js';

/** Random bytes of a generated nonce (22 base64url characters). */
export const NONCE_BYTES = 16;

export interface SignableRequest {
  readonly method: string;
  readonly params?: Readonly<JsonObject>;
}

export interface SignOptions extends CanonicalLimits {
  /** Unix time in milliseconds to sign with (default Date.now()). */
  readonly now?: number;
  /** Default: NONCE_BYTES random bytes, base64url. Never reuse one within the gateway's window. */
  readonly nonce?: string;
}

/**
 * Returns new params: the request's params (untouched) with
 * `_meta["dev.mcp-cluster/signature"] = { keyId, alg, ts, nonce, sig }` added (replacing an
 * earlier signature). Send them as the request's params without changing anything else —
 * any change to method, params or `_meta` after signing makes the signature invalid.
 * Throws SigningError('invalid_argument') on a bad key, method, nonce or non-JSON params.
 */
export function signRequest(
  request: SignableRequest,
  key: SigningKey,
  options: SignOptions = {},
): JsonObject {
  const resolved = resolveSigningKey(key, 'signRequest', 'invalid_argument');
  const params = request.params ?? {};
  if (!isPlainObject(params)) {
    throw new SigningError('invalid_argument', 'signRequest: params must be a plain object');
  }
  const meta = params._meta ?? {};
  if (!isPlainObject(meta)) {
    throw new SigningError('invalid_argument', 'signRequest: params._meta must be a plain object');
  }
  const ts = options.now ?? Date.now();
  const nonce = options.nonce ?? randomBytes(NONCE_BYTES).toString('base64url');
  const { maxDepth, maxBytes } = options;
  const canonical = canonicalSigningInput(
    { alg: resolved.alg, keyId: resolved.id, method: request.method, ts, nonce, params },
    { maxDepth, maxBytes },
  );
  const signature: RequestSignature = {
    keyId: resolved.id,
    alg: resolved.alg,
    ts,
    nonce,
    sig: hmac(resolved, canonical).toString('base64url'),
  };
  return { ...params, _meta: { ...meta, [SIGNATURE_META_KEY]: signature } };
}
