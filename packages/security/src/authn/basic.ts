import { randomBytes } from 'node:crypto';
import type { Principal } from '../principal.js';
import { AuthnError } from './errors.js';
import { parseScryptHash, verifyPassword, type ParsedScryptHash } from './password.js';
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

/**
 * HTTP Basic (RFC 7617) against scrypt hashes from configuration. An unknown user runs the
 * same scrypt work against a random decoy hash, so the response time does not tell which
 * usernames exist; both failures give the same reason.
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
      id: user.username,
      kind: 'user',
      roles: Object.freeze([...user.roles]),
    });
    users.set(user.username, { stored, principal });
  }
  // Same cost as the first configured user; random bytes match no password.
  const first = users.values().next().value as UserRecord;
  const decoy: ParsedScryptHash = Object.freeze({
    params: first.stored.params,
    salt: randomBytes(first.stored.salt.length),
    hash: randomBytes(first.stored.hash.length),
  });
  const challenge = `Basic realm=${quoteParam(options.realm ?? DEFAULT_BASIC_REALM)}, charset="UTF-8"`;

  return {
    name: options.name ?? 'basic',
    challenge,
    async authenticate(req): Promise<AuthResult> {
      const encoded = authorizationCredentials(req, 'basic');
      if (encoded === undefined) return SKIP;
      const credentials = decodeCredentials(encoded);
      if (credentials === undefined) {
        return rejected(401, 'malformed basic credentials', challenge);
      }
      const record = users.get(credentials.user);
      const ok = await verifyPassword(credentials.password, record?.stored ?? decoy);
      if (!ok || record === undefined) return rejected(401, 'invalid credentials', challenge);
      return { type: 'authenticated', principal: record.principal };
    },
  };
}
