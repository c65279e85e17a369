import { createHash } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  importSPKI,
  jwtVerify,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Principal, PrincipalKind } from '../principal.js';
import { principalId } from '../principal-ids.js';
import { AuthnError } from './errors.js';
import { joseCredentialReason } from './jose-errors.js';
import {
  authorizationCredentials,
  quoteParam,
  rejected,
  SKIP,
  type AuthProvider,
  type AuthResult,
  type CredentialInfo,
} from './types.js';

/** A verification key given in configuration instead of a JWKS URL. */
export type StaticJwtKey =
  | { readonly type: 'jwk'; readonly jwk: JWK }
  | { readonly type: 'spki'; readonly pem: string; readonly alg: string; readonly kid?: string };

export interface JwtOptions {
  /** Expected `iss`, exactly. */
  readonly issuer: string;
  /** Expected `aud` (this server's resource identifier); any one of a list matches. */
  readonly audience: string | readonly string[];
  /** https (or http on a loopback host); fetched by jose, cached, refetched on unknown kid. */
  readonly jwksUrl?: string;
  /** Minimum time between JWKS refetches triggered by an unknown kid (jose's default: 30 s). */
  readonly jwksCooldownMs?: number;
  /** How long a fetched JWKS is trusted before a refetch (jose's default: 10 min). */
  readonly jwksCacheMaxAgeMs?: number;
  /** Static keys; exactly one of jwksUrl and keys. */
  readonly keys?: readonly StaticJwtKey[];
  /** Allow-list of JWS algorithms; required, never `none`. */
  readonly algorithms: readonly string[];
  readonly clockToleranceSec?: number;
  /** Claim holding roles: an array of strings or a space-separated string. */
  readonly rolesClaim?: string;
  /** Claim holding OAuth scopes, space-separated (RFC 8693 §4.2); each becomes a role. */
  readonly scopeClaim?: string;
  /** RFC 9728 metadata URL advertised in every 401 challenge. */
  readonly resourceMetadataUrl: string;
  /** Scopes advertised in the challenge's `scope="…"` (MCP authorization spec). */
  readonly challengeScopes?: readonly string[];
  /** Principal kind for a verified token; defaults to 'user'. */
  readonly principalKind?: (payload: Readonly<JWTPayload>) => PrincipalKind;
  readonly name?: string;
}

export const DEFAULT_JWT_CLOCK_TOLERANCE_SEC = 30;
export const DEFAULT_ROLES_CLAIM = 'roles';
export const DEFAULT_SCOPE_CLAIM = 'scope';
/** Longest bearer token verified; longer ones are refused before any parsing. */
export const MAX_JWT_LENGTH = 16 * 1024;

/** JWS algorithms jose verifies; anything else (notably `none`) is refused at construction. */
export const SUPPORTED_JWS_ALGORITHMS: ReadonlySet<string> = new Set([
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const JWS_COMPACT = /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

function resolveOptions(options: JwtOptions) {
  const fail = (message: string): never => {
    throw new AuthnError('config', `jwtProvider: ${message}`);
  };
  if (options.issuer === '') fail('issuer is empty');
  // Principal ids are `jwt:<iss>#<sub>`; an issuer identifier has no fragment anyway.
  if (options.issuer.includes('#')) fail('issuer must not contain "#"');
  const audience =
    typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  if (audience.length === 0 || audience.some((a) => a === '')) fail('audience is empty');
  if (options.algorithms.length === 0) fail('algorithms allow-list is empty');
  for (const alg of options.algorithms) {
    if (alg.toLowerCase() === 'none') fail('algorithm "none" is never allowed');
    if (!SUPPORTED_JWS_ALGORITHMS.has(alg)) fail(`unsupported algorithm ${alg}`);
  }
  if ((options.jwksUrl === undefined) === (options.keys === undefined)) {
    fail('give exactly one of jwksUrl and keys');
  }
  if (options.keys?.length === 0) fail('keys is empty');
  let jwksUrl: URL | undefined;
  if (options.jwksUrl !== undefined) {
    jwksUrl = parseUrl(options.jwksUrl, 'jwksUrl');
    const secure =
      jwksUrl.protocol === 'https:' ||
      (jwksUrl.protocol === 'http:' && LOOPBACK_HOSTS.has(jwksUrl.hostname));
    if (!secure) fail('jwksUrl must be https (http only on a loopback host)');
  }
  const metadata = parseUrl(options.resourceMetadataUrl, 'resourceMetadataUrl');
  const clockTolerance = options.clockToleranceSec ?? DEFAULT_JWT_CLOCK_TOLERANCE_SEC;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0) {
    fail('clockToleranceSec must be a non-negative number');
  }
  return Object.freeze({
    issuer: options.issuer,
    audience,
    algorithms: [...options.algorithms],
    jwksUrl,
    keys: options.keys,
    jwksCooldownMs: options.jwksCooldownMs,
    jwksCacheMaxAgeMs: options.jwksCacheMaxAgeMs,
    clockTolerance,
    rolesClaim: options.rolesClaim ?? DEFAULT_ROLES_CLAIM,
    scopeClaim: options.scopeClaim ?? DEFAULT_SCOPE_CLAIM,
    resourceMetadataUrl: metadata.href,
    challengeScopes: options.challengeScopes ?? [],
    principalKind: options.principalKind ?? (() => 'user' as const),
    name: options.name ?? 'jwt',
  });
}

function parseUrl(text: string, what: string): URL {
  try {
    return new URL(text);
  } catch (cause) {
    throw new AuthnError('config', `jwtProvider: ${what} is not a URL`, { cause });
  }
}

/** Builds a local JWKS from static keys (SPKI PEMs are converted to JWKs). */
async function staticKeySet(
  keys: readonly StaticJwtKey[],
  algorithms: readonly string[],
): Promise<JWTVerifyGetKey> {
  const jwks: JWK[] = [];
  for (const [index, key] of keys.entries()) {
    if (key.type === 'jwk') {
      jwks.push({ ...key.jwk });
      continue;
    }
    if (!algorithms.includes(key.alg)) {
      throw new AuthnError('config', `jwtProvider: key #${index} alg is not in the allow-list`);
    }
    try {
      const imported = await importSPKI(key.pem, key.alg, { extractable: true });
      const jwk = await exportJWK(imported);
      jwks.push(
        key.kid === undefined ? { ...jwk, alg: key.alg } : { ...jwk, alg: key.alg, kid: key.kid },
      );
    } catch (cause) {
      throw new AuthnError('config', `jwtProvider: key #${index} is not a valid SPKI PEM`, {
        cause,
      });
    }
  }
  return createLocalJWKSet({ keys: jwks });
}

/** Reads a claim holding strings: an array of strings or one space-separated string. */
function stringsClaim(payload: JWTPayload, claim: string): string[] {
  const value = payload[claim];
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * Bearer JWT provider (OAuth 2.1 resource server). Skips requests without a Bearer token
 * and Bearer tokens that are not JWS compact serializations (so a static-token provider
 * later in the chain can take them); verifies signature, alg allow-list, iss, aud, exp
 * (required) and nbf; the principal id is `jwt:<iss>#<sub>` (principal-ids.ts: another
 * provider's principal of the same name is someone else) and roles ∪ scopes its roles.
 */
export function jwtProvider(input: JwtOptions): AuthProvider {
  const options = resolveOptions(input);
  const challengeParams = [`resource_metadata=${quoteParam(options.resourceMetadataUrl)}`];
  if (options.challengeScopes.length > 0) {
    challengeParams.push(`scope=${quoteParam(options.challengeScopes.join(' '))}`);
  }
  const challenge = `Bearer ${challengeParams.join(', ')}`;
  const invalid = (reason: string): AuthResult =>
    rejected(401, reason, `${challenge}, error="invalid_token"`);

  let keySet: Promise<JWTVerifyGetKey> | undefined;
  const getKeySet = (): Promise<JWTVerifyGetKey> => {
    if (keySet !== undefined) return keySet;
    if (options.jwksUrl !== undefined) {
      keySet = Promise.resolve(
        createRemoteJWKSet(options.jwksUrl, {
          ...(options.jwksCooldownMs === undefined
            ? {}
            : { cooldownDuration: options.jwksCooldownMs }),
          ...(options.jwksCacheMaxAgeMs === undefined
            ? {}
            : { cacheMaxAge: options.jwksCacheMaxAgeMs }),
        }),
      );
    } else {
      keySet = staticKeySet(options.keys ?? [], options.algorithms);
      // A failed import is reported on every call, not cached as a rejected promise forever.
      keySet.catch(() => (keySet = undefined));
    }
    return keySet;
  };

  return {
    name: options.name,
    challenge,
    async authenticate(req): Promise<AuthResult> {
      const token = authorizationCredentials(req, 'bearer');
      if (token === undefined) return SKIP;
      if (token === '') {
        return rejected(
          401,
          'malformed bearer credentials',
          `${challenge}, error="invalid_request"`,
        );
      }
      if (!JWS_COMPACT.test(token)) return SKIP;
      if (token.length > MAX_JWT_LENGTH) return invalid('token too long');
      const getKey = await getKeySet();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: options.algorithms,
          clockTolerance: options.clockTolerance,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (err) {
        const reason = joseCredentialReason(err);
        if (reason !== undefined) return invalid(reason);
        // Not the token's fault (JWKS fetch, timeout, bad key material): the keys are.
        throw new AuthnError('keys_unavailable', 'jwtProvider: could not verify with the key set', {
          cause: err,
        });
      }
      if (typeof payload.sub !== 'string' || payload.sub === '') {
        return invalid('token claim check failed: sub (missing)');
      }
      const roles = new Set([
        ...stringsClaim(payload, options.rolesClaim),
        ...stringsClaim(payload, options.scopeClaim),
      ]);
      const principal: Principal = Object.freeze({
        id: principalId.jwt(options.issuer, payload.sub),
        kind: options.principalKind(payload),
        roles: Object.freeze([...roles]),
        claims: Object.freeze({ ...payload }),
      });
      // Connections opened with the token end at its own `exp` (required above); an outside
      // issuer's token cannot be revoked here.
      const credential: CredentialInfo | undefined =
        typeof payload.exp === 'number'
          ? {
              key: `jwt:${createHash('sha256').update(token).digest('base64url')}`,
              expiresAt: payload.exp * 1000,
            }
          : undefined;
      return { type: 'authenticated', principal, credential };
    },
  };
}
