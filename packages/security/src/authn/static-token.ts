import { createHash, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../principal.js';
import { principalId } from '../principal-ids.js';
import { AuthnError } from './errors.js';
import {
  authorizationCredentials,
  rejected,
  SKIP,
  type AuthProvider,
  type AuthResult,
} from './types.js';

export interface StaticTokenEntry {
  readonly token: string;
  /** `principal.id` is the configured name: the principal's id is `static:<id>`. */
  readonly principal: Principal;
}

export interface StaticTokenOptions {
  readonly tokens: readonly StaticTokenEntry[];
  /** Provider name in logs and chain names. */
  readonly name?: string;
}

/** Shortest token accepted in configuration: anything shorter is guessable. */
export const MIN_STATIC_TOKEN_LENGTH = 16;

const CHALLENGE = 'Bearer';
const INVALID = `Bearer error="invalid_token"`;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Authenticates `Authorization: Bearer <token>` against configured tokens; the principal is
 * `static:<configured id>` (principal-ids.ts). Tokens are
 * compared as SHA-256 digests with timingSafeEqual, against every entry, so neither the
 * token's length nor which entry matched shows in the timing.
 */
export function staticTokenProvider(options: StaticTokenOptions): AuthProvider {
  if (options.tokens.length === 0) {
    throw new AuthnError('config', 'staticTokenProvider: no tokens configured');
  }
  const entries = options.tokens.map((entry, index) => {
    if (entry.token.length < MIN_STATIC_TOKEN_LENGTH) {
      throw new AuthnError(
        'config',
        `staticTokenProvider: token #${index} is shorter than ${MIN_STATIC_TOKEN_LENGTH} characters`,
      );
    }
    if (entry.principal.id === '') {
      throw new AuthnError(
        'config',
        `staticTokenProvider: token #${index} has an empty principal id`,
      );
    }
    const principal: Principal = Object.freeze({
      ...entry.principal,
      id: principalId.static(entry.principal.id),
      roles: Object.freeze([...entry.principal.roles]),
    });
    return { digest: digest(entry.token), principal };
  });
  const seen = new Set(entries.map((e) => e.digest.toString('hex')));
  if (seen.size !== entries.length) {
    throw new AuthnError('config', 'staticTokenProvider: the same token is configured twice');
  }

  return {
    name: options.name ?? 'static-token',
    challenge: CHALLENGE,
    authenticate(req): Promise<AuthResult> {
      const token = authorizationCredentials(req, 'bearer');
      if (token === undefined) return Promise.resolve(SKIP);
      if (token === '') {
        return Promise.resolve(rejected(401, 'malformed bearer credentials', INVALID));
      }
      const given = digest(token);
      let match: Principal | undefined;
      for (const entry of entries) {
        // No early exit: every entry is compared whatever matched before.
        if (timingSafeEqual(given, entry.digest)) match = entry.principal;
      }
      return Promise.resolve(
        match === undefined
          ? rejected(401, 'invalid token', INVALID)
          : { type: 'authenticated', principal: match },
      );
    },
  };
}
