/**
 * A minimal token issuer for deployments without an OAuth server: a credential (checked by an
 * injected callback) buys a short-lived access token (a JWT any gateway verifies with the
 * shared key) and a refresh token. Refresh tokens are opaque `<jti>.<secret>` strings; only
 * SHA-256 of the secret is stored, so a store dump holds no usable token, and they rotate on
 * every use. Presenting a rotated-out refresh token again revokes its whole family (the
 * grant), as the OAuth 2.1 security BCP asks: either the thief or the victim used it first.
 */
import { createHash, randomBytes } from 'node:crypto';

import {
  DEFAULT_ACCESS_TTL_SEC,
  DEFAULT_GRANT_TYPES,
  DEFAULT_REFRESH_TTL_SEC,
  DEFAULT_TOKEN_CLOCK_TOLERANCE_SEC,
  type GrantType,
  MAX_ACCESS_TTL_SEC,
  MAX_REFRESH_TTL_SEC,
  MAX_TOKEN_CLOCK_TOLERANCE_SEC,
} from '@mcp-cluster/config';
import { SignJWT } from 'jose';

import { AuthnError } from '../authn/errors.js';
import type { AuthProvider } from '../authn/types.js';
import type { Principal } from '../principal.js';
import { providerOf } from '../principal-ids.js';
import { TokenError } from './errors.js';
import { resolveSigningKey, type ResolvedSigningKey, type TokenSigningKey } from './signing.js';
import type { TokenStore } from './store.js';
import {
  ACCESS_TOKEN_TYP,
  accessTokenVerifier,
  grantRevocationId,
  tokenRevocationId,
  type AccessTokenVerifier,
  type VerifierOptions,
} from './verifier.js';

export type TokenCredential =
  | { readonly type: 'client'; readonly clientId: string; readonly clientSecret: string }
  | { readonly type: 'password'; readonly username: string; readonly password: string };

export type { GrantType };

export interface TokenServiceOptions {
  /** `iss` of every token; the verifier skips tokens of any other issuer. */
  readonly issuer: string;
  /** `aud` of every token (this cluster's resource identifier). */
  readonly audience: string | readonly string[];
  readonly signingKey: TokenSigningKey;
  /**
   * Keys that signed tokens before `signingKey` did: their tokens still verify (until they
   * expire) while no new token is signed with them. Each needs its own `kid`.
   */
  readonly previousKeys?: readonly TokenSigningKey[];
  /** Access token lifetime (default DEFAULT_ACCESS_TTL_SEC). */
  readonly accessTtlSec?: number;
  /** Refresh token lifetime, renewed on each rotation (default DEFAULT_REFRESH_TTL_SEC). */
  readonly refreshTtlSec?: number;
  /**
   * Absolute lifetime of a grant (a token family), from its first token: rotation never
   * carries a refresh token past it, so a stolen one kept in use still dies; then the client
   * authenticates again. Default: the larger of DEFAULT_GRANT_TTL_SEC and refreshTtlSec.
   */
  readonly grantTtlSec?: number;
  /** Skew allowed when verifying `exp`/`iat` (default DEFAULT_TOKEN_CLOCK_TOLERANCE_SEC). */
  readonly clockToleranceSec?: number;
  /** Grants the endpoint accepts (default DEFAULT_GRANT_TYPES; `password` is opt-in). */
  readonly grantTypes?: readonly GrantType[];
  readonly store: TokenStore;
  /**
   * Checks a credential; undefined = wrong credential. Throws only for internal faults. The
   * principal's id becomes the tokens' `sub` and must carry a provider namespace
   * (`basic:alice`, `apikey:ci-bot`: principal-ids.ts), as the built-in providers' ids do.
   */
  readonly authenticate: (credential: TokenCredential) => Promise<Principal | undefined>;
  /** Milliseconds clock (default Date.now); tests inject a fake one. */
  readonly now?: () => number;
  /**
   * Told after each revocation was stored, with the identifiers it names (`token:<jti>`,
   * `grant:<family>`; never a token), so connections open with those tokens end now.
   */
  readonly onRevoked?: ((ids: readonly string[]) => void) | undefined;
}

/** RFC 6749 §5.1 access token response. */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly refresh_token: string;
  /** Present when the client asked for a scope: the granted one, space-separated. */
  readonly scope?: string;
}

export interface IssueOptions {
  /** Requested scope (a subset of the principal's roles); the token carries only these. */
  readonly scope?: readonly string[];
}

export interface TokenService {
  readonly issuer: string;
  readonly grantTypes: ReadonlySet<GrantType>;
  authenticate(credential: TokenCredential): Promise<Principal | undefined>;
  /** Starts a new grant (token family) for `principal`. */
  issue(principal: Principal, options?: IssueOptions): Promise<TokenResponse>;
  /** Rotates a refresh token; throws TokenError('invalid_grant') when it is not acceptable. */
  refresh(refreshToken: string, options?: IssueOptions): Promise<TokenResponse>;
  /** RFC 7009: revokes a refresh token's family or an access token; unknown tokens are ignored. */
  revoke(token: string): Promise<void>;
  /** Provider verifying this service's access tokens, revocation list included. */
  verifier(options?: VerifierOptions): AuthProvider;
}

/** Lifetimes, clock tolerance and grant types are bounded by the configuration's schema. */
export {
  DEFAULT_ACCESS_TTL_SEC,
  DEFAULT_GRANT_TYPES,
  DEFAULT_REFRESH_TTL_SEC,
  DEFAULT_TOKEN_CLOCK_TOLERANCE_SEC,
  MAX_ACCESS_TTL_SEC,
  MAX_REFRESH_TTL_SEC,
  MAX_TOKEN_CLOCK_TOLERANCE_SEC,
};
/** 30 days: a grant outlives a month of use only by authenticating again. */
export const DEFAULT_GRANT_TTL_SEC = 30 * 86_400;
/** Extra life of a family revocation past the expiry of the family's last possible token. */
export const FAMILY_REVOCATION_SLACK_SEC = 60;
const ALL_GRANT_TYPES: ReadonlySet<string> = new Set([
  'client_credentials',
  'password',
  'refresh_token',
]);

/** `<jti>.<secret>`: 16 and 32 random bytes, base64url. */
const REFRESH_TOKEN = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const PRINCIPAL_KINDS: ReadonlySet<string> = new Set(['anonymous', 'user', 'service']);

const randomId = (bytes: number): string => randomBytes(bytes).toString('base64url');
const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('base64url');

function resolveOptions(options: TokenServiceOptions) {
  const fail = (message: string): never => {
    throw new AuthnError('config', `tokenService: ${message}`);
  };
  if (options.issuer === '') fail('issuer is empty');
  const audience =
    typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  if (audience.length === 0 || audience.some((a) => a === '')) fail('audience is empty');
  const integer = (value: number, name: string, min: number, max: number): number => {
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      fail(`${name} must be an integer in ${min}..${max} (got ${value})`);
    }
    return value;
  };
  const kids = [options.signingKey, ...(options.previousKeys ?? [])].map((k) => k.kid);
  if (new Set(kids).size !== kids.length) fail('signingKey and previousKeys need distinct kids');
  const grantTypes = new Set(options.grantTypes ?? DEFAULT_GRANT_TYPES);
  for (const grant of grantTypes) {
    if (!ALL_GRANT_TYPES.has(grant)) fail(`unknown grant type ${String(grant)}`);
  }
  return Object.freeze({
    issuer: options.issuer,
    audience,
    key: resolveSigningKey(options.signingKey),
    previousKeys: (options.previousKeys ?? []).map(resolveSigningKey),
    accessTtlSec: integer(
      options.accessTtlSec ?? DEFAULT_ACCESS_TTL_SEC,
      'accessTtlSec',
      1,
      MAX_ACCESS_TTL_SEC,
    ),
    refreshTtlSec: integer(
      options.refreshTtlSec ?? DEFAULT_REFRESH_TTL_SEC,
      'refreshTtlSec',
      1,
      MAX_REFRESH_TTL_SEC,
    ),
    grantTtlSec: integer(
      options.grantTtlSec ??
        Math.max(DEFAULT_GRANT_TTL_SEC, options.refreshTtlSec ?? DEFAULT_REFRESH_TTL_SEC),
      'grantTtlSec',
      1,
      MAX_REFRESH_TTL_SEC,
    ),
    clockToleranceSec: integer(
      options.clockToleranceSec ?? DEFAULT_TOKEN_CLOCK_TOLERANCE_SEC,
      'clockToleranceSec',
      0,
      MAX_TOKEN_CLOCK_TOLERANCE_SEC,
    ),
    grantTypes,
    store: options.store,
    authenticate: options.authenticate,
    now: options.now ?? Date.now,
    onRevoked: options.onRevoked,
  });
}
type Resolved = ReturnType<typeof resolveOptions>;

/** The roles an access token carries: all of the grant's, or the requested subset. */
function grantedRoles(roles: readonly string[], scope: readonly string[] | undefined): string[] {
  if (scope === undefined) return [...new Set(roles)];
  const held = new Set(roles);
  const wanted = [...new Set(scope)];
  if (wanted.length === 0) throw new TokenError('invalid_scope', 'scope is empty');
  if (wanted.some((s) => !held.has(s))) {
    throw new TokenError('invalid_scope', 'requested scope exceeds the granted scope');
  }
  return wanted;
}

/** A principal fit to be a token subject: what the store keeps and the token carries. */
function subject(principal: Principal): Principal {
  if (principal.id === '' || !PRINCIPAL_KINDS.has(principal.kind)) {
    throw new AuthnError('config', 'tokenService: authenticate returned an invalid principal');
  }
  if (providerOf(principal.id) === undefined) {
    throw new AuthnError(
      'config',
      'tokenService: authenticate returned a principal id without a provider namespace',
    );
  }
  return Object.freeze({
    id: principal.id,
    kind: principal.kind,
    roles: Object.freeze([...new Set(principal.roles)]),
  });
}

class Service implements TokenService {
  private readonly access: AccessTokenVerifier;

  constructor(private readonly o: Resolved) {
    this.access = accessTokenVerifier({
      issuer: o.issuer,
      audience: o.audience,
      keys: [o.key, ...o.previousKeys],
      clockToleranceSec: o.clockToleranceSec,
      store: o.store,
      now: o.now,
    });
  }

  get issuer(): string {
    return this.o.issuer;
  }

  get grantTypes(): ReadonlySet<GrantType> {
    return this.o.grantTypes;
  }

  authenticate(credential: TokenCredential): Promise<Principal | undefined> {
    return this.o.authenticate(credential);
  }

  async issue(principal: Principal, options: IssueOptions = {}): Promise<TokenResponse> {
    const grant = subject(principal);
    const roles = grantedRoles(grant.roles, options.scope);
    // A scoped first grant is the whole grant: refreshes cannot widen it again.
    const stored = options.scope === undefined ? grant : { ...grant, roles };
    return this.mint(stored, roles, randomId(16), undefined, options.scope !== undefined);
  }

  async refresh(refreshToken: string, options: IssueOptions = {}): Promise<TokenResponse> {
    const parts = REFRESH_TOKEN.exec(refreshToken);
    if (parts === null) throw new TokenError('invalid_grant', 'refresh token is malformed');
    const [, jti = '', secret = ''] = parts;
    const result = await this.o.store.consumeRefresh(jti, sha256(secret));
    if (result.status === 'unknown') {
      throw new TokenError('invalid_grant', 'refresh token is invalid or expired');
    }
    if (result.status === 'reused') {
      await this.revokeFamily(result.familyId);
      throw new TokenError('invalid_grant', 'refresh token was already used; the grant is revoked');
    }
    const { record } = result;
    if (await this.o.store.isRevoked({ familyId: record.familyId })) {
      throw new TokenError('invalid_grant', 'the grant was revoked');
    }
    if (providerOf(record.principal.id) === undefined) {
      // Granted before principal ids were namespaced (the token stays consumed): its access
      // tokens would name a principal no configuration refers to any more.
      throw new TokenError(
        'invalid_grant',
        'the grant predates principal namespaces; authenticate again',
      );
    }
    let roles: string[];
    try {
      roles = grantedRoles(record.principal.roles, options.scope);
    } catch (err) {
      // A refused scope must not cost the client its grant: put the token back (the live
      // record wins over its tombstone in both stores).
      await this.o.store.saveRefresh(jti, record);
      throw err;
    }
    // A record from before grants had an end starts its grant's clock now.
    return this.mint(
      record.principal,
      roles,
      record.familyId,
      record.grantExpiresAt,
      options.scope !== undefined,
    );
  }

  async revoke(token: string): Promise<void> {
    const parts = REFRESH_TOKEN.exec(token);
    if (parts !== null) {
      const [, jti = '', secret = ''] = parts;
      const result = await this.o.store.consumeRefresh(jti, sha256(secret));
      // Revoking a refresh token ends the grant, its access tokens included (RFC 7009 §2.1).
      if (result.status === 'ok') {
        await this.revokeFamily(result.record.familyId);
      } else if (result.status === 'reused') {
        await this.revokeFamily(result.familyId);
      }
      return;
    }
    const claims = await this.access.verifiedClaims(token);
    if (claims === undefined) return;
    const untilMs = (claims.exp + this.o.clockToleranceSec) * 1000;
    await this.o.store.revokeAccess(claims.jti, untilMs);
    this.revoked(tokenRevocationId(claims.jti));
  }

  private async revokeFamily(familyId: string): Promise<void> {
    await this.o.store.revokeFamily(familyId, this.familyRevocationEnd());
    this.revoked(grantRevocationId(familyId));
  }

  /** Announces a stored revocation; a listener's fault never fails the revocation. */
  private revoked(id: string): void {
    try {
      this.o.onRevoked?.([id]);
    } catch {
      // The revocation is stored: connections still end at the next periodic re-check.
    }
  }

  verifier(options: VerifierOptions = {}): AuthProvider {
    return this.access.provider(options);
  }

  /**
   * Past this moment no token of a family revoked now can still be valid; the slack covers a
   * rotation racing the revocation (its new tokens are minted a moment after "now").
   */
  private familyRevocationEnd(): number {
    const lastAccess = this.o.accessTtlSec + this.o.clockToleranceSec;
    const lastToken = Math.max(lastAccess, this.o.refreshTtlSec);
    return this.o.now() + (lastToken + FAMILY_REVOCATION_SLACK_SEC) * 1000;
  }

  private async mint(
    grant: Principal,
    roles: readonly string[],
    familyId: string,
    /** The grant's end; undefined starts a new grant (now + grantTtlSec). */
    grantEnd: number | undefined,
    scoped: boolean,
  ): Promise<TokenResponse> {
    const now = this.o.now();
    const grantExpiresAt = grantEnd ?? now + this.o.grantTtlSec * 1000;
    const iat = Math.floor(now / 1000);
    const access = await signAccess(this.o.key, {
      issuer: this.o.issuer,
      audience: this.o.audience,
      sub: grant.id,
      claims: { roles: [...roles], kind: grant.kind, fam: familyId },
      iat,
      exp: iat + this.o.accessTtlSec,
      jti: randomId(16),
    });
    const jti = randomId(16);
    const secret = randomId(32);
    await this.o.store.saveRefresh(jti, {
      principal: grant,
      familyId,
      expiresAt: Math.min(now + this.o.refreshTtlSec * 1000, grantExpiresAt),
      grantExpiresAt,
      secretHash: sha256(secret),
    });
    const response: TokenResponse = {
      access_token: access,
      token_type: 'Bearer',
      expires_in: this.o.accessTtlSec,
      refresh_token: `${jti}.${secret}`,
    };
    return scoped ? { ...response, scope: roles.join(' ') } : response;
  }
}

function signAccess(
  key: ResolvedSigningKey,
  t: {
    issuer: string;
    audience: string[];
    sub: string;
    claims: { roles: string[]; kind: string; fam: string };
    iat: number;
    exp: number;
    jti: string;
  },
): Promise<string> {
  return new SignJWT(t.claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP })
    .setIssuer(t.issuer)
    .setAudience(t.audience.length === 1 ? (t.audience[0] ?? '') : t.audience)
    .setSubject(t.sub)
    .setIssuedAt(t.iat)
    .setExpirationTime(t.exp)
    .setJti(t.jti)
    .sign(key.signKey);
}

/** Validates the options (throws AuthnError('config')) and parses the signing key once. */
export function createTokenService(options: TokenServiceOptions): TokenService {
  return new Service(resolveOptions(options));
}
