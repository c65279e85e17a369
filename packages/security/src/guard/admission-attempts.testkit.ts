/**
 * The admission's attempt budget with the real Basic provider: however many wrong passwords
 * arrive at once, at most `maxFailures` are hashed, per address and per user name, across
 * admissions sharing one lockout store (gateways). Hashes are counted through the provider's
 * `verify` hook, never by timing. Run against memory (admission-attempts.test.ts) and Redis
 * (admission-attempts.redis.test.ts).
 */
import type { Socket } from 'node:net';
import { RpcError } from '@mcp-cluster/protocol';
import type { Admission, GuardRequest, TransportGuard } from '@mcp-cluster/transports';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { basicProvider } from '../authn/basic.js';
import { chainProviders } from '../authn/chain.js';
import { AuthnError } from '../authn/errors.js';
import { hashPassword, verifyPassword, type ParsedScryptHash } from '../authn/password.js';
import type { AuthProvider } from '../authn/types.js';
import type { LockoutOptions, LockoutStore } from '../stores/types.js';
import { createAdmission } from './admission.js';
import type { AuditEvent } from './audit.js';

export interface AttemptsHarness {
  /** One lockout store per gateway; every call shares the state of this harness. */
  lockout(options: LockoutOptions): LockoutStore;
  /**
   * Resolves once `check` holds after `ms` passed. Memory advances a fake clock; Redis polls
   * real time, bounded.
   */
  elapse(ms: number, check: () => Promise<boolean>): Promise<void>;
  close(): Promise<void>;
}

const FAST = { N: 2 ** 10, r: 8, p: 1 } as const;
const PASSWORDS = { alice: 'alice-right-password', bob: 'bob-right-password' } as const;
const THRESHOLD = 5;
const STORM = 80;

const basic = (name: string, password: string): string =>
  `Basic ${Buffer.from(`${name}:${password}`, 'utf8').toString('base64')}`;

function request(authorization: string | undefined, remoteAddress: string): GuardRequest {
  return {
    method: 'POST',
    url: '/mcp',
    headers: authorization === undefined ? {} : { authorization },
    remoteAddress,
    socket: {} as Socket,
  };
}

function statusOf(a: Admission): number {
  return a.ok ? 200 : a.status;
}

export function describeAttemptBudget(name: string, make: () => Promise<AttemptsHarness>): void {
  describe(`${name}: admission reserves the attempt before hashing`, () => {
    let users: { username: string; hash: string; roles: string[] }[];
    let h: AttemptsHarness;
    let hashes: ParsedScryptHash[];
    let events: AuditEvent[];
    let basicAuth: AuthProvider;

    beforeAll(async () => {
      users = [
        { username: 'alice', hash: await hashPassword(PASSWORDS.alice, FAST), roles: [] },
        { username: 'bob', hash: await hashPassword(PASSWORDS.bob, FAST), roles: [] },
      ];
    });
    beforeEach(async () => {
      h = await make();
      hashes = [];
      events = [];
      basicAuth = basicProvider({
        users,
        verify: (password, stored) => {
          hashes.push(stored);
          return verifyPassword(password, stored);
        },
      });
    });
    afterEach(async () => {
      await h.close();
    });

    /** A gateway: its own store instance over the shared state. */
    function gateway(options: LockoutOptions = {}, provider: AuthProvider = basicAuth) {
      return createAdmission({
        provider: chainProviders([provider]),
        allowAnonymous: false,
        anonymousRoles: [],
        maxStreamsPerPrincipal: 1,
        lockout: h.lockout({
          maxFailures: THRESHOLD,
          windowMs: 60_000,
          lockMs: 60_000,
          ...options,
        }),
        audit: (e) => events.push(e),
      });
    }

    /** Fires every request at once; checks each answer is a 401 or a 429 -32012 with Retry-After. */
    async function storm(
      requests: readonly { guard: TransportGuard; req: GuardRequest }[],
    ): Promise<void> {
      const answers = await Promise.all(requests.map(({ guard, req }) => guard.admit(req)));
      for (const a of answers) {
        if (a.ok) throw new Error(`admitted ${a.principal.id}`);
        expect([401, 429]).toContain(a.status);
        if (a.status === 429) {
          expect(a.error.code).toBe(RpcError.RateLimited.code);
          expect(Number(a.headers?.['retry-after'])).toBeGreaterThan(0);
        }
      }
      // One audit line per request: a hash that failed, or a refusal without one.
      const failed = events.filter((e) => e.event === 'unauthenticated');
      expect(failed).toHaveLength(hashes.length);
      expect(events.filter((e) => e.event === 'locked_out')).toHaveLength(
        requests.length - hashes.length,
      );
    }

    it('hashes at most the threshold of 80 concurrent wrong passwords, across two gateways', async () => {
      const [g1, g2] = [gateway({ maxConcurrent: 100 }), gateway({ maxConcurrent: 100 })];
      await storm(
        Array.from({ length: STORM }, (_, i) => ({
          guard: i % 2 === 0 ? g1 : g2,
          req: request(basic('alice', `wrong-${i}`), '10.0.0.1'),
        })),
      );
      expect(hashes.length).toBeGreaterThan(0);
      expect(hashes.length).toBeLessThanOrEqual(THRESHOLD);
      // Then locked: even the right password is refused without a hash.
      const before = hashes.length;
      const locked = await g2.admit(request(basic('alice', PASSWORDS.alice), '10.0.0.1'));
      expect(statusOf(locked)).toBe(429);
      expect(hashes).toHaveLength(before);
      // Another user from another address logs in.
      const bob = await g1.admit(request(basic('bob', PASSWORDS.bob), '10.0.0.2'));
      expect(bob.ok && bob.principal.id).toBe('basic:bob');
    });

    it('bounds a storm over many user names from one address by the address budget', async () => {
      const g = gateway();
      await storm(
        Array.from({ length: STORM }, (_, i) => ({
          guard: g,
          req: request(basic(`user-${i % 10}`, 'wrong'), '10.0.0.3'),
        })),
      );
      expect(hashes.length).toBeLessThanOrEqual(THRESHOLD);
    });

    it('bounds a storm of one user name from many addresses by the user budget', async () => {
      const g = gateway();
      await storm(
        Array.from({ length: STORM }, (_, i) => ({
          guard: g,
          req: request(basic('nobody', 'wrong'), `10.0.1.${i % 10}`),
        })),
      );
      expect(hashes.length).toBeLessThanOrEqual(THRESHOLD);
    });

    it('caps verifications in flight at maxConcurrent, refused as concurrent attempts', async () => {
      const g = gateway({ maxConcurrent: 2 });
      const answers = await Promise.all(
        Array.from({ length: 6 }, () =>
          g.admit(request(basic('alice', PASSWORDS.alice), '10.0.0.4')),
        ),
      );
      expect(answers.filter((a) => a.ok)).toHaveLength(2);
      expect(hashes).toHaveLength(2);
      for (const a of answers) {
        if (a.ok) continue;
        expect(a).toMatchObject({
          status: 429,
          headers: { 'retry-after': '1' },
          error: { code: RpcError.RateLimited.code, message: 'Too many concurrent attempts' },
        });
      }
      expect(events).toEqual(
        Array.from({ length: 4 }, () => ({
          event: 'locked_out',
          reason: 'too many attempts in flight',
          remoteAddress: '10.0.0.4',
        })),
      );
      // Successes give their reservations back and count nothing: logins keep working.
      for (let i = 0; i < 3 * THRESHOLD; i++) {
        const a = await g.admit(request(basic('alice', PASSWORDS.alice), '10.0.0.4'));
        expect(a.ok).toBe(true);
      }
    });

    it('gives the reservation back when the check throws (not the caller’s fault)', async () => {
      const broken: AuthProvider = {
        name: 'broken',
        costly: () => true,
        authenticate: () => Promise.reject(new AuthnError('keys_unavailable', 'down')),
      };
      const g = gateway({ maxConcurrent: 1 }, broken);
      for (let i = 0; i < 2 * THRESHOLD; i++) {
        expect(statusOf(await g.admit(request(basic('alice', 'x'), '10.0.0.5')))).toBe(503);
      }
    });

    it('does not reserve cheap checks: bearer requests are not capped', async () => {
      const bearer: AuthProvider = {
        name: 'bearer',
        authenticate: (req) =>
          Promise.resolve(
            req.headers['authorization'] === 'Bearer good'
              ? { type: 'authenticated', principal: { id: 'svc', kind: 'service', roles: [] } }
              : { type: 'rejected', status: 401, reason: 'invalid token' },
          ),
      };
      const g = gateway({ maxConcurrent: 1 }, bearer);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => g.admit(request('Bearer good', '10.0.0.6'))),
      );
      expect(answers.every((a) => a.ok)).toBe(true);
    });

    it('a reservation that is never finished (a dead gateway) lapses', async () => {
      const options = { maxConcurrent: 1, reservationMs: 300 };
      const store = h.lockout({
        maxFailures: THRESHOLD,
        windowMs: 60_000,
        lockMs: 60_000,
        ...options,
      });
      const ids = ['ip:10.0.0.7'];
      expect((await store.begin(ids)).granted).toBe(true); // its gateway died here
      const g = gateway(options);
      const login = () => g.admit(request(basic('bob', PASSWORDS.bob), '10.0.0.7'));
      expect(statusOf(await login())).toBe(429);
      expect(hashes).toHaveLength(0);
      await h.elapse(300, async () => (await login()).ok);
    });
  });
}
