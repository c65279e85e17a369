/**
 * The authentication contract: a provider looks at one request's headers and either
 * authenticates it, says its kind of credential is absent (`skip`), or rejects it.
 */
import type { Principal } from '../principal.js';

/** What a provider may look at. Header names are matched case-insensitively. */
export interface AuthRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly remoteAddress?: string;
  /** The TLS peer of the connection (tlsPeerOf in src/tls/peer.ts); absent on plain HTTP. */
  readonly tls?: TlsPeer;
}

/**
 * What the TLS layer learnt about the client. The certificate fields are present only when
 * the client presented a certificate (`fingerprint256` is present exactly then); values are
 * as Node reports them, normalized by tlsPeerOf (see there for repeated subject attributes).
 */
export interface TlsPeer {
  /** The certificate chains to a configured CA (always false without a certificate). */
  readonly authorized: boolean;
  /** OpenSSL's reason when not authorized, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`. */
  readonly authorizationError?: string;
  /** Subject attributes by short name (`CN`, `O`, `OU`, …). */
  readonly subject?: Readonly<Record<string, string>>;
  /** `DNS:…`, `IP Address:…`, `URI:…`, `email:…` entries. */
  readonly subjectAltNames?: readonly string[];
  /** SHA-256 of the DER certificate, `AA:BB:…` (uppercase hex). */
  readonly fingerprint256?: string;
  readonly serialNumber?: string;
}

/**
 * What a provider knows about a credential it accepted that can end later: long-lived
 * connections opened with it are closed when it does (see guard/revalidation.ts). Nothing in
 * it is secret: it is safe to keep for as long as the connection lives.
 */
export interface CredentialInfo {
  /**
   * Names the credential: connections sharing one share its re-checks (`token:<jti>`,
   * `apikey:<id>`, `jwt:<iss>#<jti>`).
   */
  readonly key: string;
  /** Epoch milliseconds from which it is no longer valid (a JWT's `exp`, a key's expiry). */
  readonly expiresAt?: number | undefined;
  /**
   * The identifiers a revocation names (`token:<jti>`, `grant:<family>`, `apikey:<id>`): a
   * revocation event carrying one of them re-checks the credential at once.
   */
  readonly revocationIds?: readonly string[] | undefined;
  /**
   * Asks the credential's source whether it was revoked since (or removed). Absent: it cannot
   * be revoked, only expire. Rejects when the source cannot be asked (its store is down).
   */
  readonly isRevoked?: (() => Promise<boolean>) | undefined;
  /** Drops what the provider cached about it; called once it was found revoked. */
  readonly forget?: (() => void) | undefined;
}

export type AuthResult =
  | {
      readonly type: 'authenticated';
      readonly principal: Principal;
      /** Present when the credential can expire or be revoked. */
      readonly credential?: CredentialInfo | undefined;
    }
  /** This provider does not apply: no credential of its kind was presented. */
  | { readonly type: 'skip' }
  | {
      readonly type: 'rejected';
      readonly status: 401 | 403;
      /** Safe to log and to show the client: never contains a credential. */
      readonly reason: string;
      readonly wwwAuthenticate?: string;
    };

export interface AuthProvider {
  readonly name: string;
  /**
   * The challenge this provider wants in a 401 when nobody presented any credential
   * (e.g. `Bearer resource_metadata="…"`); chainProviders joins them.
   */
  readonly challenge?: string;
  /**
   * Resolves to a result for credential problems; throws only for faults that are not the
   * caller's (misconfiguration, JWKS endpoint unreachable), which the transport maps to 5xx.
   */
  authenticate(req: AuthRequest): Promise<AuthResult>;
  /**
   * True when authenticating `req` runs a deliberately slow check (a password hash): the
   * admission then reserves the attempt in the lockout before calling `authenticate`, so a
   * storm of wrong guesses costs at most the lockout threshold in checks. Absent: false.
   */
  costly?(req: AuthRequest): boolean;
}

/** Reads one header, case-insensitively (Node lowercases, other callers may not). */
export function headerValue(req: AuthRequest, name: string): string | undefined {
  const lower = name.toLowerCase();
  const direct = req.headers[lower];
  if (direct !== undefined) return direct;
  for (const [key, value] of Object.entries(req.headers)) {
    if (key.toLowerCase() === lower) return value;
  }
  return undefined;
}

/**
 * Splits `Authorization: <scheme> <credentials>`; the scheme compares case-insensitively
 * (RFC 9110 §11.1). Returns undefined when the header is absent or of another scheme, and
 * `''` when the scheme matches but no credentials follow.
 */
export function authorizationCredentials(req: AuthRequest, scheme: string): string | undefined {
  const header = headerValue(req, 'authorization');
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  const space = trimmed.search(/\s/);
  const given = space === -1 ? trimmed : trimmed.slice(0, space);
  if (given.toLowerCase() !== scheme.toLowerCase()) return undefined;
  return space === -1 ? '' : trimmed.slice(space).trim();
}

export function rejected(
  status: 401 | 403,
  reason: string,
  wwwAuthenticate?: string,
): Extract<AuthResult, { type: 'rejected' }> {
  return wwwAuthenticate === undefined
    ? { type: 'rejected', status, reason }
    : { type: 'rejected', status, reason, wwwAuthenticate };
}

export const SKIP: AuthResult = Object.freeze({ type: 'skip' });

/** Quotes a value for an auth-param (RFC 9110 §5.6.4 quoted-string). */
export function quoteParam(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
