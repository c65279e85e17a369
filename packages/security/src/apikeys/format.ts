/**
 * API key format and hashing. A key is `mcpk_<id>_<secret>`:
 *
 * - `id`: 12 lowercase hex characters (48 random bits). Not secret: it names the record (logs,
 *   `apikey revoke <id>`), so a lookup is one read, never a scan over every hash.
 * - `secret`: 32 random bytes, unpadded base64url (43 characters).
 *
 * Only the SHA-256 of the secret is stored. A fast hash is right here, unlike for passwords
 * (password.ts uses scrypt): a slow KDF only helps against guessing low-entropy inputs, and
 * 256 random bits cannot be guessed at any hash rate. A slow hash would instead cost CPU on
 * every request and hand attackers a cheap way to load the gateways.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'mcpk';
/** Random bytes in an id (hex: twice as many characters). */
export const API_KEY_ID_BYTES = 6;
/** Random bytes in a secret. */
export const API_KEY_SECRET_BYTES = 32;

const ID_PATTERN = /^[0-9a-f]{12}$/;
const KEY_PATTERN = /^mcpk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** A key split into its parts; `secret` is plaintext and must not be logged or stored. */
export interface ParsedApiKey {
  readonly id: string;
  readonly secret: string;
}

export interface GeneratedApiKey extends ParsedApiKey {
  /** The full `mcpk_<id>_<secret>` string the client presents. */
  readonly key: string;
  /** Hex SHA-256 of the secret: the only part of the secret that is stored. */
  readonly secretHash: string;
}

export function isApiKeyId(value: string): boolean {
  return ID_PATTERN.test(value);
}

export function isSecretHash(value: string): boolean {
  return HASH_PATTERN.test(value);
}

/** True when the value claims to be an API key (starts with `mcpk_`), well-formed or not. */
export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(`${API_KEY_PREFIX}_`);
}

/**
 * Splits a key by fixed positions (the secret's base64url may itself contain `_`);
 * undefined when it is not exactly of the format.
 */
export function parseApiKey(value: string): ParsedApiKey | undefined {
  const match = KEY_PATTERN.exec(value);
  if (match === null) return undefined;
  const [, id, secret] = match;
  if (id === undefined || secret === undefined) return undefined;
  return { id, secret };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of the secret's digest with a stored hex digest. */
export function secretMatches(secret: string, secretHash: string): boolean {
  const given = createHash('sha256').update(secret, 'utf8').digest();
  const stored = Buffer.from(secretHash, 'hex');
  // A malformed stored hash (not 32 bytes) never matches; timingSafeEqual would throw.
  if (stored.length !== given.length) return false;
  return timingSafeEqual(given, stored);
}

/** A fresh id and secret from the CSPRNG. */
export function generateApiKey(): GeneratedApiKey {
  const id = randomBytes(API_KEY_ID_BYTES).toString('hex');
  const secret = randomBytes(API_KEY_SECRET_BYTES).toString('base64url');
  return { id, secret, key: `${API_KEY_PREFIX}_${id}_${secret}`, secretHash: hashSecret(secret) };
}
