/**
 * Admission of one HTTP request at a gateway (or the embedded node): lockout -> credentials
 * -> anonymous fallback -> the principal's rate limit. Everything a refused request costs is
 * bounded: no body is read, no session is touched, nothing is stored but a failure count, and
 * a costly credential check (a password hash) runs only after its attempt was reserved in the
 * lockout, so a storm of wrong passwords costs at most the lockout threshold in hashes.
 */
import { createHash } from 'node:crypto';
import {
  ProtocolError,
  RpcError,
  retryAfterSeconds,
  securityUnavailable,
} from '@mcp-cluster/protocol';
import type { Caller } from '@mcp-cluster/server';
import type {
  Admission,
  GuardRequest,
  MessageAdmission,
  TransportGuard,
} from '@mcp-cluster/transports';
import { AuthnError } from '../authn/errors.js';
import { authorizationCredentials } from '../authn/types.js';
import type { AuthProvider, AuthRequest, AuthResult } from '../authn/types.js';
import type { Principal } from '../principal.js';
import { MemoryStreamSlots } from '../stores/memory.js';
import type { LockoutStore, LockState, RateLimiter, StreamSlots } from '../stores/types.js';
import { tlsPeerOf } from '../tls/peer.js';
import type { AuditSink } from './audit.js';
import type { Revalidator } from './revalidation.js';

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
  /**
   * One bucket per principal (key `p:<id>`): every request takes one token at admission (a
   * POST's pays for its first message) and every further message one through `spend`.
   */
  readonly rateLimiter?: RateLimiter | undefined;
  /** Buckets with limits of their own for some principals (by id), instead of `rateLimiter`. */
  readonly principalLimiters?: ReadonlyMap<string, RateLimiter> | undefined;
  /** Long-lived streams one principal may hold open on this process. */
  readonly maxStreamsPerPrincipal: number;
  /** Where open streams are counted (default: this process only). */
  readonly streams?: StreamSlots | undefined;
  /** The 401 challenge (WWW-Authenticate); the provider's own when not given. */
  readonly challenge?: string | undefined;
  readonly audit?: AuditSink | undefined;
  /**
   * Follows credentials that can expire or be revoked for the long-lived connections opened
   * with them (WebSocket, SSE streams); without it they are checked at admission only.
   */
  readonly revalidator?: Revalidator | undefined;
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

const GRANTED: MessageAdmission = Object.freeze({ ok: true });

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

/**
 * The lockout identifier of a user (or client) name, as the password check sees it. Hashed:
 * names are attacker-chosen and arbitrary in length.
 */
export function userLockoutId(name: string): string {
  return `user:${createHash('sha256').update(name).digest('hex')}`;
}

/** The identifiers whose failures count towards a lockout: the address, and a user name. */
function lockoutIds(req: GuardRequest): string[] {
  const ids = [addressLockoutId(req.remoteAddress)];
  const basic = authorizationCredentials({ headers: req.headers }, 'basic');
  if (basic !== undefined && basic !== '') {
    const user = basicUser(basic);
    if (user !== undefined) ids.push(userLockoutId(user));
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
  const limiterOf = (id: string): RateLimiter | undefined =>
    options.principalLimiters?.get(id) ?? options.rateLimiter;
  const challenge = options.challenge ?? options.provider?.challenge;

  function authRequest(req: GuardRequest): AuthRequest {
    const tls = tlsPeerOf(req.socket);
    return {
      headers: req.headers,
      ...(req.remoteAddress === undefined ? {} : { remoteAddress: req.remoteAddress }),
      ...(tls === undefined ? {} : { tls }),
    };
  }

  /** The lockout's refusal: a locked identifier, or a budget taken by attempts in flight. */
  function lockedOut(req: GuardRequest, locked: boolean, retryAfterMs: number): Admission {
    options.audit?.({
      event: 'locked_out',
      ...(locked ? {} : { reason: 'too many attempts in flight' }),
      remoteAddress: req.remoteAddress,
    });
    return refuse(
      429,
      RpcError.RateLimited.code,
      locked ? 'Too many failed attempts' : 'Too many concurrent attempts',
      retryAfter(retryAfterMs),
    );
  }

  async function admit(req: GuardRequest): Promise<Admission> {
    const lockout = options.lockout;
    const ids = lockout === undefined ? [] : lockoutIds(req);
    const credentials = authRequest(req);
    // A costly check (a password hash) runs only inside the attempt budget, reserved first in
    // the shared store: a storm of guesses costs at most the lockout threshold in hashes.
    let ticket: string | undefined;
    if (lockout !== undefined) {
      if (options.provider?.costly?.(credentials) === true) {
        const attempt = await lockout.begin(ids);
        if (!attempt.granted) return lockedOut(req, attempt.locked, attempt.retryAfterMs);
        ticket = attempt.ticket;
      } else {
        const lock = await lockout.isLocked(ids);
        if (lock.locked) return lockedOut(req, true, lock.retryAfterMs);
      }
    }
    /** Counts a failure, or gives a reservation back (`failed` false). */
    const settle = async (failed: boolean): Promise<LockState | undefined> => {
      if (lockout === undefined) return undefined;
      if (ticket !== undefined) return lockout.finish(ids, ticket, failed);
      return failed ? lockout.fail(ids) : undefined;
    };
    let result: AuthResult;
    try {
      result =
        options.provider === undefined
          ? { type: 'skip' }
          : await options.provider.authenticate(credentials);
    } catch (err) {
      // The reservation goes back (or lapses, when the store is what failed).
      await settle(false).catch((e: unknown) => options.onError?.(e, 'lockout release failed'));
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
      await Promise.all([settle(false), ids.length > 1 ? lockout?.reset(ids.slice(1)) : undefined]);
    } else if (result.type === 'skip' && options.allowAnonymous) {
      principal = anonymous;
      await settle(false);
    } else {
      const status = result.type === 'rejected' ? result.status : 401;
      const reason = result.type === 'rejected' ? result.reason : 'no credentials';
      const www = result.type === 'rejected' ? (result.wwwAuthenticate ?? challenge) : challenge;
      options.audit?.({ event: 'unauthenticated', reason, remoteAddress: req.remoteAddress });
      const failed = result.type === 'rejected';
      const lock = await settle(failed);
      if (failed && lock?.locked === true) {
        return refuse(
          429,
          RpcError.RateLimited.code,
          'Too many failed attempts',
          retryAfter(lock.retryAfterMs),
        );
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
    const limiter = limiterOf(principal.id);
    if (limiter !== undefined) {
      const decision = await limiter.take(`p:${principal.id}`);
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
    // A credential that can end is followed by the connections opened with it.
    const credential =
      result.type === 'authenticated' && result.credential !== undefined
        ? options.revalidator?.track(result.credential, principal.id)
        : undefined;
    return credential === undefined ? { ok: true, principal } : { ok: true, principal, credential };
  }

  function openStream(principal: Principal): Promise<(() => void) | undefined> {
    return streams.acquire(principal.id, options.maxStreamsPerPrincipal);
  }

  /** One message's token from the principal's bucket (see TransportGuard.spend). */
  async function spend(caller: Caller): Promise<MessageAdmission> {
    const { principal, remoteAddress } = caller;
    const limiter = limiterOf(principal.id);
    if (limiter === undefined) return GRANTED;
    let decision;
    try {
      decision = await limiter.take(`p:${principal.id}`);
    } catch (err) {
      // A store fault must not open the door: the message is refused, retryably.
      options.onError?.(err, 'rate limit unavailable');
      return { ok: false, error: securityUnavailable() };
    }
    if (decision.allowed) return GRANTED;
    options.audit?.({ event: 'rate_limited', principal: principal.id, remoteAddress });
    return {
      ok: false,
      error: ProtocolError.of('RateLimited', 'Rate limit exceeded', {
        retryAfterMs: decision.retryAfterMs,
      }),
    };
  }

  const counted = options.rateLimiter !== undefined || (options.principalLimiters?.size ?? 0) > 0;
  return counted ? { admit, openStream, spend } : { admit, openStream };
}
