/**
 * Verification of the token service's own access tokens: signature with the key the `kid`
 * names (the current signing key or a previous one still accepted during a rotation), its
 * algorithm pinned, `typ` at+jwt (RFC 9068, so no other JWT of the issuer passes
 * as an access token), iss, aud, exp with a small skew, then the shared revocation list.
 * Bearer tokens that are not JWS, or whose (unverified) `iss` is another issuer, are skipped
 * so other providers of a chain (an external OAuth server's jwtProvider, static tokens) can
 * take them. `sub` is the principal id, verbatim: the service issues tokens to principals of
 * the other providers, whose ids carry their namespace (`basic:alice`, principal-ids.ts); a
 * `sub` without one was minted before namespacing and is refused (the client gets a new token).
 */
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';

import { AuthnError } from '../authn/errors.js';
import { joseCredentialReason } from '../authn/jose-errors.js';
import {
  authorizationCredentials,
  rejected,
  SKIP,
  type AuthProvider,
  type AuthResult,
  type CredentialInfo,
} from '../authn/types.js';
import type { Principal, PrincipalKind } from '../principal.js';
import { providerOf } from '../principal-ids.js';
import type { ResolvedSigningKey } from './signing.js';
import type { TokenStore } from './store.js';

/** JWT `typ` header of access tokens (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** Longest bearer value looked at; this service never issues one nearly as long. */
export const MAX_ACCESS_TOKEN_LENGTH = 8 * 1024;

export interface VerifierOptions {
  /** Provider name in logs and chain names (default `token-service`). */
  readonly name?: string;
}

export interface VerifierConfig {
  readonly issuer: string;
  readonly audience: readonly string[];
  /** The current signing key first, then previous ones still accepted; distinct `kid`s. */
  readonly keys: readonly ResolvedSigningKey[];
  readonly clockToleranceSec: number;
  readonly store: TokenStore;
  readonly now: () => number;
}

/** The verified claims the service relies on. */
export interface AccessClaims {
  readonly sub: string;
  readonly jti: string;
  readonly fam: string;
  readonly exp: number;
  readonly kind: PrincipalKind;
  readonly roles: readonly string[];
  readonly payload: Readonly<JWTPayload>;
}

const CHALLENGE = 'Bearer';
const INVALID = 'Bearer error="invalid_token"';
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const KINDS: ReadonlySet<string> = new Set(['anonymous', 'user', 'service']);

/** A jose failure as a reason naming the check, never the token; undefined = not jose's. */
function credentialReason(err: unknown): string | undefined {
  if (!(err instanceof errors.JOSEError)) return undefined;
  // With a local key every jose failure is the token's, even one the shared table does not name.
  return joseCredentialReason(err) ?? 'token invalid';
}

/** Reads `iss` without trusting it: undefined when the value is not a decodable JWT. */
function unverifiedIssuer(token: string): string | undefined {
  try {
    const { iss } = decodeJwt(token);
    return iss;
  } catch {
    return undefined;
  }
}

type Verified = { readonly claims: AccessClaims } | { readonly reason: string };

/** The identifier a revocation of one access token carries (never the token itself). */
export const tokenRevocationId = (jti: string): string => `token:${jti}`;
/** The identifier a revocation of a whole grant (token family) carries. */
export const grantRevocationId = (familyId: string): string => `grant:${familyId}`;

export function accessTokenVerifier(config: VerifierConfig) {
  const { issuer } = config;
  const byKid = new Map(config.keys.map((k) => [k.kid, k]));

  /** The accepted key the token's `kid` names; undefined when none (or no readable header). */
  function keyOf(token: string): ResolvedSigningKey | undefined {
    try {
      const { kid } = decodeProtectedHeader(token);
      return typeof kid === 'string' ? byKid.get(kid) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Full verification of a token known to claim our issuer. */
  async function verify(token: string): Promise<Verified> {
    const key = keyOf(token);
    if (key === undefined) return { reason: 'no key matches the token' };
    let payload: JWTPayload;
    try {
      const result = await jwtVerify(token, key.verifyKey, {
        issuer,
        audience: [...config.audience],
        algorithms: [key.alg],
        typ: ACCESS_TOKEN_TYP,
        clockTolerance: config.clockToleranceSec,
        currentDate: new Date(config.now()),
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      });
      payload = result.payload;
    } catch (err) {
      const reason = credentialReason(err);
      if (reason !== undefined) return { reason };
      // With a local key, anything but a jose verdict is a fault of ours, not the caller's.
      throw new AuthnError('config', 'tokenService: could not verify with the signing key', {
        cause: err,
      });
    }
    const { sub, jti, exp, fam, kind, roles } = payload;
    const bad = (claim: string): Verified => ({ reason: `token claim check failed: ${claim}` });
    if (typeof sub !== 'string' || sub === '') return bad('sub');
    if (providerOf(sub) === undefined) {
      return { reason: 'token claim check failed: sub (names no provider; request a new token)' };
    }
    if (typeof jti !== 'string' || jti === '') return bad('jti');
    if (typeof exp !== 'number') return bad('exp');
    if (typeof fam !== 'string' || fam === '') return bad('fam');
    if (typeof kind !== 'string' || !KINDS.has(kind)) return bad('kind');
    if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) return bad('roles');
    return {
      claims: Object.freeze({
        sub,
        jti,
        fam,
        exp,
        kind: kind as PrincipalKind,
        roles: Object.freeze([...roles]),
        payload: Object.freeze({ ...payload }),
      }),
    };
  }

  async function isRevoked(claims: AccessClaims): Promise<boolean> {
    try {
      return await config.store.isRevoked({ jti: claims.jti, familyId: claims.fam });
    } catch (cause) {
      throw new AuthnError('keys_unavailable', 'tokenService: revocation list unavailable', {
        cause,
      });
    }
  }

  /**
   * What open connections need to follow the token: it ends at its own `exp` (the clock
   * tolerance admits requests, it does not extend connections) or when its id or its grant is
   * revoked (`token:<jti>`, `grant:<fam>`).
   */
  function credentialOf(claims: AccessClaims): CredentialInfo {
    const key = tokenRevocationId(claims.jti);
    return Object.freeze({
      key,
      expiresAt: claims.exp * 1000,
      revocationIds: Object.freeze([key, grantRevocationId(claims.fam)]),
      isRevoked: () => isRevoked(claims),
    });
  }

  /** True when `token` is shaped like a JWS and claims to be ours (nothing verified yet). */
  const ours = (token: string): boolean =>
    token.length <= MAX_ACCESS_TOKEN_LENGTH &&
    JWS_COMPACT.test(token) &&
    unverifiedIssuer(token) === issuer;

  return {
    /** Claims of a valid (possibly revoked) access token of ours; undefined otherwise. */
    async verifiedClaims(token: string): Promise<AccessClaims | undefined> {
      if (!ours(token)) return undefined;
      const result = await verify(token);
      return 'claims' in result ? result.claims : undefined;
    },

    provider(options: VerifierOptions = {}): AuthProvider {
      return {
        name: options.name ?? 'token-service',
        challenge: CHALLENGE,
        async authenticate(req): Promise<AuthResult> {
          const token = authorizationCredentials(req, 'bearer');
          if (token === undefined) return SKIP;
          if (token === '') {
            return rejected(401, 'malformed bearer credentials', 'Bearer error="invalid_request"');
          }
          if (!ours(token)) return SKIP;
          const result = await verify(token);
          if ('reason' in result) return rejected(401, result.reason, INVALID);
          const { claims } = result;
          if (await isRevoked(claims)) return rejected(401, 'token revoked', INVALID);
          const principal: Principal = Object.freeze({
            id: claims.sub,
            kind: claims.kind,
            roles: claims.roles,
            claims: claims.payload,
          });
          return { type: 'authenticated', principal, credential: credentialOf(claims) };
        },
      };
    },
  };
}

export type AccessTokenVerifier = ReturnType<typeof accessTokenVerifier>;
