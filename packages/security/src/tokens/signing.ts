/**
 * The token service's one signing key, resolved once at construction: HMAC secrets become
 * bytes, PEM private keys are parsed by node:crypto (so a bad key fails at startup, not on the
 * first token) and checked against the algorithm, and the verification key is derived.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

import { MIN_HMAC_SECRET_LENGTH } from '@mcp-cluster/config';

import { AuthnError } from '../authn/errors.js';

export const TOKEN_SIGNING_ALGORITHMS = ['HS256', 'HS512', 'ES256', 'RS256', 'EdDSA'] as const;
export type TokenSigningAlgorithm = (typeof TOKEN_SIGNING_ALGORITHMS)[number];

/** Shortest HMAC secret accepted (characters); the configuration checks it at load time. */
export { MIN_HMAC_SECRET_LENGTH };
/** Smallest RSA modulus accepted for RS256. */
export const MIN_RSA_MODULUS_BITS = 2048;

export interface TokenSigningKey {
  readonly alg: TokenSigningAlgorithm;
  /** HS256/HS512: the shared secret, at least MIN_HMAC_SECRET_LENGTH characters. */
  readonly secret?: string;
  /** ES256 (P-256), RS256 (RSA >= 2048 bits), EdDSA (Ed25519): a PEM private key (PKCS#8). */
  readonly privateKeyPem?: string;
  /** Key id written in every token's header (`kid`), so keys can be rotated later. */
  readonly kid: string;
}

export interface ResolvedSigningKey {
  readonly alg: TokenSigningAlgorithm;
  readonly kid: string;
  readonly signKey: Uint8Array | KeyObject;
  readonly verifyKey: Uint8Array | KeyObject;
}

function fail(message: string, cause?: unknown): never {
  throw new AuthnError('config', `tokenService: signingKey ${message}`, { cause });
}

/** Checks that a parsed private key is of the type (and size) its algorithm needs. */
function checkKeyType(alg: TokenSigningAlgorithm, key: KeyObject): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  const ok =
    (alg === 'ES256' && type === 'ec' && details?.namedCurve === 'prime256v1') ||
    (alg === 'RS256' && type === 'rsa' && (details?.modulusLength ?? 0) >= MIN_RSA_MODULUS_BITS) ||
    (alg === 'EdDSA' && type === 'ed25519');
  if (!ok) {
    fail(
      `privateKeyPem does not fit ${alg} (ES256: P-256, RS256: RSA >= ${MIN_RSA_MODULUS_BITS} bits, EdDSA: Ed25519)`,
    );
  }
}

export function resolveSigningKey(input: TokenSigningKey): ResolvedSigningKey {
  if (!(TOKEN_SIGNING_ALGORITHMS as readonly string[]).includes(input.alg)) {
    fail(`alg must be one of ${TOKEN_SIGNING_ALGORITHMS.join(', ')}`);
  }
  if (input.kid === '') fail('kid is empty');
  if (input.alg === 'HS256' || input.alg === 'HS512') {
    if (input.privateKeyPem !== undefined) fail(`${input.alg} takes a secret, not a PEM`);
    if (input.secret === undefined || input.secret.length < MIN_HMAC_SECRET_LENGTH) {
      fail(`${input.alg} needs a secret of at least ${MIN_HMAC_SECRET_LENGTH} characters`);
    }
    const bytes = new Uint8Array(Buffer.from(input.secret, 'utf8'));
    return Object.freeze({ alg: input.alg, kid: input.kid, signKey: bytes, verifyKey: bytes });
  }
  if (input.secret !== undefined) fail(`${input.alg} takes a privateKeyPem, not a secret`);
  if (input.privateKeyPem === undefined) fail(`${input.alg} needs a privateKeyPem`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(input.privateKeyPem);
  } catch (cause) {
    fail('privateKeyPem is not a readable private key', cause);
  }
  checkKeyType(input.alg, privateKey);
  return Object.freeze({
    alg: input.alg,
    kid: input.kid,
    signKey: privateKey,
    verifyKey: createPublicKey(privateKey),
  });
}
