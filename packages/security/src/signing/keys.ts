/**
 * Signing algorithms and keys. Secrets become node:crypto KeyObjects at once, so they are
 * copied (later changes to a caller's Buffer do not leak in) and do not print in logs or
 * inspection. Each key is pinned to one algorithm: a request naming another is refused, so
 * nobody can pick the algorithm a key is verified with.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

import { SigningError, type SigningErrorKind } from './errors.js';

import {
  KEY_ID_PATTERN,
  MIN_SECRET_LENGTH,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
} from '@mcp-cluster/config';

/** Algorithms, secret and key id rules are the configuration's, which checks them at load. */
export type { SigningAlgorithm } from '@mcp-cluster/config';
export { KEY_ID_PATTERN, MIN_SECRET_LENGTH, SIGNING_ALGORITHMS } from '@mcp-cluster/config';

/** Algorithm of a key that does not name one. */
export const DEFAULT_SIGNING_ALG: SigningAlgorithm = 'HMAC-SHA256';

export interface SigningKey {
  readonly id: string;
  /** At least MIN_SECRET_LENGTH characters (UTF-8) or bytes; share it with the gateway only. */
  readonly secret: string | Buffer;
  /** Default DEFAULT_SIGNING_ALG. */
  readonly alg?: SigningAlgorithm;
}

export interface ResolvedSigningKey {
  readonly id: string;
  readonly alg: SigningAlgorithm;
  readonly key: KeyObject;
}

const NODE_DIGEST: Readonly<Record<SigningAlgorithm, string>> = {
  'HMAC-SHA256': 'sha256',
  'HMAC-SHA512': 'sha512',
};

/** Digest size in bytes: fixed per algorithm, so a signature's length is checked up front. */
export const DIGEST_BYTES: Readonly<Record<SigningAlgorithm, number>> = {
  'HMAC-SHA256': 32,
  'HMAC-SHA512': 64,
};

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return (SIGNING_ALGORITHMS as readonly unknown[]).includes(value);
}

/** Validates a key; `where` names it in the error (never the secret). */
export function resolveSigningKey(
  input: SigningKey,
  where: string,
  kind: SigningErrorKind,
): ResolvedSigningKey {
  const fail = (message: string): never => {
    throw new SigningError(kind, `${where}: ${message}`);
  };
  if (typeof input.id !== 'string' || !KEY_ID_PATTERN.test(input.id)) {
    fail('key id must be 1-128 visible ASCII characters');
  }
  const alg = input.alg ?? DEFAULT_SIGNING_ALG;
  if (!isSigningAlgorithm(alg))
    fail(`unsupported algorithm (use ${SIGNING_ALGORITHMS.join(' or ')})`);
  let material: Buffer;
  if (typeof input.secret === 'string') {
    if (input.secret.length < MIN_SECRET_LENGTH) {
      fail(`secret is shorter than ${MIN_SECRET_LENGTH} characters`);
    }
    material = Buffer.from(input.secret, 'utf8');
  } else if (Buffer.isBuffer(input.secret)) {
    if (input.secret.length < MIN_SECRET_LENGTH) {
      fail(`secret is shorter than ${MIN_SECRET_LENGTH} bytes`);
    }
    material = input.secret;
  } else {
    return fail('secret must be a string or a Buffer');
  }
  // createSecretKey copies the bytes.
  return Object.freeze({ id: input.id, alg, key: createSecretKey(material) });
}

/** HMAC of the canonical form (UTF-8) with the key's algorithm. */
export function hmac(key: ResolvedSigningKey, canonical: string): Buffer {
  return createHmac(NODE_DIGEST[key.alg], key.key).update(canonical, 'utf8').digest();
}
