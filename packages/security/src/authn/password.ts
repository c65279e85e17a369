/**
 * scrypt password hashes in a self-describing text format:
 *
 *   scrypt$<N>$<r>$<p>$<salt base64url>$<hash base64url>
 *
 * N (cost, a power of two), r (block size) and p (parallelism) are the scrypt parameters
 * (RFC 7914); salt and hash are unpadded base64url; the hash length is the derived key
 * length. Keeping the parameters in the string lets costs rise without invalidating
 * existing hashes.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { AuthnError } from './errors.js';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** OWASP-recommended minimum (2^17 would be their first choice; 2^15 keeps logins ~50 ms). */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });
export const SCRYPT_SALT_BYTES = 16;
export const SCRYPT_KEY_BYTES = 32;
/** Bounds on parameters read from configuration, so a typo cannot hang every login. */
export const SCRYPT_LIMITS = Object.freeze({
  minN: 2 ** 10,
  maxN: 2 ** 20,
  maxR: 32,
  maxP: 16,
  minKeyBytes: 16,
  maxKeyBytes: 64,
  minSaltBytes: 8,
});

export interface ParsedScryptHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

const PREFIX = 'scrypt';
const B64URL = /^[A-Za-z0-9_-]+$/;

function derive(password: string, salt: Buffer, keyBytes: number, params: ScryptParams) {
  const { N, r, p } = params;
  // Node refuses when 128*N*r exceeds maxmem (32 MiB by default); give it what it needs.
  const maxmem = 128 * N * r * 2 + 128 * r * p + 1024 * 1024;
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyBytes, { N, r, p, maxmem }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

function checkParams(params: ScryptParams): void {
  const { N, r, p } = params;
  const L = SCRYPT_LIMITS;
  const isPow2 = Number.isInteger(N) && N > 1 && (N & (N - 1)) === 0;
  if (!isPow2 || N < L.minN || N > L.maxN) {
    throw new AuthnError('config', `scrypt N must be a power of two in [${L.minN}, ${L.maxN}]`);
  }
  if (!Number.isInteger(r) || r < 1 || r > L.maxR) {
    throw new AuthnError('config', `scrypt r must be an integer in [1, ${L.maxR}]`);
  }
  if (!Number.isInteger(p) || p < 1 || p > L.maxP) {
    throw new AuthnError('config', `scrypt p must be an integer in [1, ${L.maxP}]`);
  }
}

/** Hashes a password into the format above with a fresh random salt. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  checkParams(params);
  const salt = randomBytes(SCRYPT_SALT_BYTES);
  const hash = await derive(password, salt, SCRYPT_KEY_BYTES, params);
  const { N, r, p } = params;
  return [PREFIX, N, r, p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/**
 * Parses a stored hash; throws AuthnError('config') naming what is wrong, never echoing
 * the hash itself.
 */
export function parseScryptHash(text: string): ParsedScryptHash {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) {
    throw new AuthnError('config', 'password hash is not in scrypt$N$r$p$salt$hash format');
  }
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (![n, r, p].every((s) => /^[0-9]+$/.test(s))) {
    throw new AuthnError('config', 'password hash parameters are not decimal integers');
  }
  checkParams(params);
  if (!B64URL.test(salt) || !B64URL.test(hash)) {
    throw new AuthnError('config', 'password hash salt/hash are not base64url');
  }
  const saltBytes = Buffer.from(salt, 'base64url');
  const hashBytes = Buffer.from(hash, 'base64url');
  const L = SCRYPT_LIMITS;
  if (saltBytes.length < L.minSaltBytes) {
    throw new AuthnError('config', `password hash salt is shorter than ${L.minSaltBytes} bytes`);
  }
  if (hashBytes.length < L.minKeyBytes || hashBytes.length > L.maxKeyBytes) {
    throw new AuthnError(
      'config',
      `password hash length must be ${L.minKeyBytes}..${L.maxKeyBytes} bytes`,
    );
  }
  return Object.freeze({ params: Object.freeze(params), salt: saltBytes, hash: hashBytes });
}

/** Constant-time check of a password against a parsed hash. */
export async function verifyPassword(password: string, stored: ParsedScryptHash): Promise<boolean> {
  const derived = await derive(password, stored.salt, stored.hash.length, stored.params);
  return timingSafeEqual(derived, stored.hash);
}
