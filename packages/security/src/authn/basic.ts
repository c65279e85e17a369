import { randomBytes } from 'node:crypto';
import type { Principal } from '../principal.js';
import { principalId } from '../principal-ids.js';
import { AuthnError } from './errors.js';
import {
  parseScryptHash,
  verifyPassword,
  type ParsedScryptHash,
  type ScryptParams,
} from './password.js';
import {
  authorizationCredentials,
  quoteParam,
  rejected,
  SKIP,
  type AuthProvider,
  type AuthResult,
} from './types.js';

export interface BasicUser {
  readonly username: string;
  /** A hash from hashPassword() (format documented in password.ts). */
  readonly hash: string;
  readonly roles: readonly string[];
}

export interface BasicOptions {
  readonly users: readonly BasicUser[];
  /** The realm in the `WWW-Authenticate: Basic` challenge; defaults to DEFAULT_BASIC_REALM. */
  readonly realm?: string;
  readonly name?: string;
  /** The password check (default verifyPassword); tests observe it. */
  readonly verify?: (password: string, stored: ParsedScryptHash) => Promise<boolean>;
}

export const DEFAULT_BASIC_REALM = 'mcp-cluster';
/** Longest base64 credentials read; a longer header is rejected before decoding. */
export const MAX_BASIC_CREDENTIALS_LENGTH = 4096;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

interface UserRecord {
  readonly stored: ParsedScryptHash;
  readonly principal: Principal;
}

/** Decodes `user:password`; undefined when the credentials are not well-formed. */
function decodeCredentials(encoded: string): { user: string; password: string } | undefined {
  if (encoded.length > MAX_BASIC_CREDENTIALS_LENGTH || !BASE64.test(encoded)) return undefined;
  if (encoded.length % 4 !== 0) return undefined;
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64'));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** scrypt's work grows with N * r * p (memory and time alike). */
const cost = ({ N, r, p }: ScryptParams): number => N * r * p;

/**
 * A hash no password matches (random bytes) with the costliest parameters and longest key
 * of the configured ones: an unknown user never verifies faster than any real one.
 */
function decoyHash(records: Iterable<UserRecord>): ParsedScryptHash {
  let strongest: ParsedScryptHash | undefined;
  for (const { stored } of records) {
    if (
      strongest === undefined ||
      cost(stored.params) > cost(strongest.params) ||
      (cost(stored.params) === cost(strongest.params) && stored.hash.length > strongest.hash.length)
    ) {
      strongest = stored;
    }
  }
  if (strongest === undefined) throw new AuthnError('config', 'basicProvider: no users configured');
  return Object.freeze({
    params: strongest.params,
    salt: randomBytes(strongest.salt.length),
    hash: randomBytes(strongest.hash.length),
  });
}

/**
 * HTTP Basic (RFC 7617) against scrypt hashes from configuration; the principal is
 * `basic:<username>` (principal-ids.ts). An unknown user runs the
 * scrypt work of the costliest configured user against a random decoy hash, so the response
 * time does not tell which usernames exist; both failures give the same reason.
 */
export function basicProvider(options: BasicOptions): AuthProvider {
  if (options.users.length === 0) {
    throw new AuthnError('config', 'basicProvider: no users configured');
  }
  const users = new Map<string, UserRecord>();
  for (const user of options.users) {
    if (user.username === '' || user.username.includes(':')) {
      throw new AuthnError('config', 'basicProvider: a username is empty or contains ":"');
    }
    if (users.has(user.username)) {
      throw new AuthnError('config', `basicProvider: user ${user.username} configured twice`);
    }
    let stored: ParsedScryptHash;
    try {
      stored = parseScryptHash(user.hash);
    } catch (cause) {
      throw new AuthnError('config', `basicProvider: bad password hash for ${user.username}`, {
        cause,
      });
    }
    const principal: Principal = Object.freeze({
      id: principalId.basic(user.username),
      kind: 'user',
      roles: Object.freeze([...user.roles]),
    });
    users.set(user.username, { stored, principal });
  }
  const decoy = decoyHash(users.values());
  const verify = options.verify ?? verifyPassword;
  const challenge = `Basic realm=${quoteParam(options.realm ?? DEFAULT_BASIC_REALM)}, charset="UTF-8"`;

  return {
    name: options.name ?? 'basic',
    challenge,
    // Well-formed credentials are hashed; malformed ones are refused without it.
    costly(req): boolean {
      const encoded = authorizationCredentials(req, 'basic');
      return encoded !== undefined && decodeCredentials(encoded) !== undefined;
    },
    async authenticate(req): Promise<AuthResult> {
      const encoded = authorizationCredentials(req, 'basic');
      if (encoded === undefined) return SKIP;
      const credentials = decodeCredentials(encoded);
      if (credentials === undefined) {
        return rejected(401, 'malformed basic credentials', challenge);
      }
      const record = users.get(credentials.user);
      const ok = await verify(credentials.password, record?.stored ?? decoy);
      if (!ok || record === undefined) return rejected(401, 'invalid credentials', challenge);
      return { type: 'authenticated', principal: record.principal };
    },
  };
}
