/**
 * Admission of one HTTP request at a gateway (or the embedded node): lockout -> credentials
 * -> anonymous fallback -> the principal's rate limit. Everything a refused request costs is
 * bounded: no body is read, no session is touched, nothing is stored but a failure count.
 */
import { createHash } from 'node:crypto';
import { RpcError } from '@mcp-cluster/protocol';
import { retryAfterSeconds } from '@mcp-cluster/transports';
import type { Admission, GuardRequest, TransportGuard } from '@mcp-cluster/transports';
import { AuthnError } from '../authn/errors.js';
import { authorizationCredentials } from '../authn/types.js';
import type { AuthProvider, AuthResult } from '../authn/types.js';
import type { Principal } from '../principal.js';
import { MemoryStreamSlots } from '../stores/memory.js';
import type { LockoutStore, RateLimiter, StreamSlots } from '../stores/types.js';
import { tlsPeerOf } from '../tls/peer.js';
import type { AuditSink } from './audit.js';

export interface AdmissionOptions {
  /**
   * The configured providers, chained (chainProviders); undefined when none. A request none
   * of them applies to comes back `skip`: anonymous when allowed, else 401 with `challenge`.
   */
  readonly provider: AuthProvider | undefined;
  /** Requests without credentials pass as `anonymous`; otherwise they get 401. */
  readonly allowAnonymous: boolean;
  /** Roles the anonymous principal holds (authorization decides what they allow). */
  readonly anonymousRoles: readonly string[];
  /** Failed attempts per client address and per identifier (user name), shared by gateways. */
  readonly lockout?: LockoutStore | undefined;
  /** One bucket per principal (every request of every transport takes one token). */
  readonly rateLimiter?: RateLimiter | undefined;
  /** Long-lived streams one principal may hold open on this process. */
  readonly maxStreamsPerPrincipal: number;
  /** Where open streams are counted (default: this process only). */
  readonly streams?: StreamSlots | undefined;
  /** The 401 challenge (WWW-Authenticate); the provider's own when not given. */
  readonly challenge?: string | undefined;
  readonly audit?: AuditSink | undefined;
  /** Faults that are not the caller's (JWKS down, Redis errors), for the operator's log. */
  readonly onError?: ((err: unknown, what: string) => void) | undefined;
}

const refuse = (
  status: number,
  code: number,
  message: string,
  headers?: Record<string, string>,
): Admission =>
  headers === undefined
    ? { ok: false, status, error: { code, message } }
    : { ok: false, status, headers, error: { code, message } };

const retryAfter = (ms: number): Record<string, string> => ({
  'retry-after': retryAfterSeconds(ms),
});

/**
 * The lockout identifier of a client address. `/mcp` and the token endpoint count failures
 * under the same one, so brute force spread over both still locks the address.
 */
export function addressLockoutId(address: string | undefined): string {
  return `ip:${address ?? 'unknown'}`;
}

/** The identifiers whose failures count towards a lockout: the address, and a user name. */
function lockoutIds(req: GuardRequest): string[] {
  const ids = [addressLockoutId(req.remoteAddress)];
  const basic = authorizationCredentials({ headers: req.headers }, 'basic');
  if (basic !== undefined && basic !== '') {
    const user = basicUser(basic);
    // Hashed: user names are attacker-chosen and arbitrary in length.
    if (user !== undefined) ids.push(`user:${createHash('sha256').update(user).digest('hex')}`);
  }
  return ids;
}

function basicUser(credentials: string): string | undefined {
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon <= 0 ? undefined : decoded.slice(0, colon);
}

export function createAdmission(options: AdmissionOptions): TransportGuard {
  const anonymous: Principal = Object.freeze({
    id: 'anonymous',
    kind: 'anonymous',
    roles: Object.freeze([...options.anonymousRoles]),
  });
  const streams = options.streams ?? new MemoryStreamSlots();
  const challenge = options.challenge ?? options.provider?.challenge;

  async function authenticate(req: GuardRequest): Promise<AuthResult> {
    if (options.provider === undefined) return { type: 'skip' };
    const tls = tlsPeerOf(req.socket);
    return options.provider.authenticate({
      headers: req.headers,
      ...(req.remoteAddress === undefined ? {} : { remoteAddress: req.remoteAddress }),
      ...(tls === undefined ? {} : { tls }),
    });
  }

  async function admit(req: GuardRequest): Promise<Admission> {
    const ids = options.lockout === undefined ? [] : lockoutIds(req);
    if (options.lockout !== undefined) {
      const lock = await options.lockout.isLocked(ids);
      if (lock.locked) {
        options.audit?.({ event: 'locked_out', remoteAddress: req.remoteAddress });
        return refuse(
          429,
          RpcError.RateLimited.code,
          'Too many failed attempts',
          retryAfter(lock.retryAfterMs),
        );
      }
    }
    let result: AuthResult;
    try {
      result = await authenticate(req);
    } catch (err) {
      // Not the caller's fault (bad configuration, key endpoint down): 503, never 401.
      options.onError?.(err, 'authentication unavailable');
      if (err instanceof AuthnError) {
        return refuse(503, RpcError.Unavailable.code, 'Authentication is unavailable');
      }
      throw err;
    }
    let principal: Principal;
    if (result.type === 'authenticated') {
      principal = result.principal;
      // Only the identifier's count: a valid account must not unlock an attacking address.
      if (ids.length > 1) await options.lockout?.reset(ids.slice(1));
    } else if (result.type === 'skip' && options.allowAnonymous) {
      principal = anonymous;
    } else {
      const status = result.type === 'rejected' ? result.status : 401;
      const reason = result.type === 'rejected' ? result.reason : 'no credentials';
      const www = result.type === 'rejected' ? (result.wwwAuthenticate ?? challenge) : challenge;
      options.audit?.({ event: 'unauthenticated', reason, remoteAddress: req.remoteAddress });
      if (options.lockout !== undefined && result.type === 'rejected') {
        const lock = await options.lockout.fail(ids);
        if (lock.locked) {
          return refuse(
            429,
            RpcError.RateLimited.code,
            'Too many failed attempts',
            retryAfter(lock.retryAfterMs),
          );
        }
      }
      const code = status === 403 ? RpcError.Forbidden.code : RpcError.Unauthorized.code;
      const message = status === 403 ? `Forbidden: ${reason}` : `Unauthorized: ${reason}`;
      return refuse(
        status,
        code,
        message,
        www === undefined ? undefined : { 'www-authenticate': www },
      );
    }
    if (options.rateLimiter !== undefined) {
      const decision = await options.rateLimiter.take(`p:${principal.id}`);
      if (!decision.allowed) {
        options.audit?.({
          event: 'rate_limited',
          principal: principal.id,
          remoteAddress: req.remoteAddress,
        });
        return refuse(
          429,
          RpcError.RateLimited.code,
          'Rate limit exceeded',
          retryAfter(decision.retryAfterMs),
        );
      }
    }
    return { ok: true, principal };
  }

  function openStream(principal: Principal): Promise<(() => void) | undefined> {
    return streams.acquire(principal.id, options.maxStreamsPerPrincipal);
  }

  return { admit, openStream };
}
