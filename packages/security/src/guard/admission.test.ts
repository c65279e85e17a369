import type { Socket } from 'node:net';
import { RpcError } from '@mcp-cluster/protocol';
import type { Admission, GuardRequest, TransportGuard } from '@mcp-cluster/transports';
import { describe, expect, it, vi } from 'vitest';
import { AuthnError } from '../authn/errors.js';
import type { AuthProvider, AuthRequest, AuthResult } from '../authn/types.js';
import type { Principal } from '../principal.js';
import { MemoryLockoutStore, MemoryRateLimiter } from '../stores/memory.js';
import { createAdmission } from './admission.js';
import type { AdmissionOptions } from './admission.js';
import type { AuditEvent } from './audit.js';
import { Revalidator } from './revalidation.js';

const INVALID = 'Bearer error="invalid_token"';
const PASSWORD = 'right-password-0123';
const TOKEN_SECRET = 'super-secret-bearer-token';
const user = (id: string): Principal => ({ id, kind: 'user', roles: ['reader'] });

/**
 * A provider with a fixed credential table: `Bearer good-<id>` is user <id>, `Bearer denied`
 * is 403, any other bearer token 401; Basic `<user>:PASSWORD` is that user, else 401.
 */
function fakeProvider(challenge?: string) {
  const seen: AuthRequest[] = [];
  const provider: AuthProvider = {
    name: 'fake',
    ...(challenge === undefined ? {} : { challenge }),
    authenticate(req): Promise<AuthResult> {
      seen.push(req);
      const header = req.headers['authorization'];
      if (header === undefined) return Promise.resolve({ type: 'skip' });
      const [scheme, value = ''] = header.split(' ');
      if (scheme === 'Basic') {
        const [name = '', password] = Buffer.from(value, 'base64').toString('utf8').split(':');
        return Promise.resolve(
          password === PASSWORD
            ? { type: 'authenticated', principal: user(name) }
            : { type: 'rejected', status: 401, reason: 'invalid credentials' },
        );
      }
      if (value.startsWith('good-')) {
        return Promise.resolve({ type: 'authenticated', principal: user(value.slice(5)) });
      }
      if (value === 'denied') {
        return Promise.resolve({ type: 'rejected', status: 403, reason: 'account disabled' });
      }
      return Promise.resolve({
        type: 'rejected',
        status: 401,
        reason: 'invalid token',
        wwwAuthenticate: INVALID,
      });
    },
  };
  return { provider, seen };
}

const throwing = (err: Error): AuthProvider => ({
  name: 'throwing',
  authenticate: () => Promise.reject(err),
});

function request(authorization?: string, remoteAddress = '10.0.0.1', socket = {}): GuardRequest {
  return {
    method: 'POST',
    url: '/mcp',
    headers: authorization === undefined ? {} : { authorization },
    remoteAddress,
    socket: socket as Socket,
  };
}

const basic = (name: string, password: string): string =>
  `Basic ${Buffer.from(`${name}:${password}`, 'utf8').toString('base64')}`;

interface SetupOptions extends Partial<AdmissionOptions> {
  /** A memory lockout store: 3 failures in a minute lock for 30 s. */
  readonly withLockout?: boolean;
  /** A memory per-principal limiter with these limits. */
  readonly limit?: { readonly capacity: number; readonly refillPerSecond: number };
}

function setup({ withLockout = false, limit, ...extra }: SetupOptions = {}) {
  const clock = { ms: 1_000_000 };
  const now = (): number => clock.ms;
  const events: AuditEvent[] = [];
  const onError = vi.fn();
  const fake = fakeProvider();
  const guard = createAdmission({
    provider: fake.provider,
    allowAnonymous: false,
    anonymousRoles: ['guest'],
    maxStreamsPerPrincipal: 2,
    challenge: 'Bearer resource_metadata="https://h/.well-known/oauth-protected-resource/mcp"',
    audit: (e) => events.push(e),
    onError,
    ...(withLockout
      ? {
          lockout: new MemoryLockoutStore({
            maxFailures: 3,
            windowMs: 60_000,
            lockMs: 30_000,
            now,
          }),
        }
      : {}),
    ...(limit === undefined ? {} : { rateLimiter: new MemoryRateLimiter({ ...limit, now }) }),
    ...extra,
  });
  return { guard, clock, events, onError, seen: fake.seen };
}

function refusal(a: Admission): { status: number; code: number; headers: Record<string, string> } {
  if (a.ok) throw new Error(`admitted ${a.principal.id}`);
  return { status: a.status, code: a.error.code, headers: { ...a.headers } };
}

function principalOf(a: Admission): Principal {
  if (!a.ok) throw new Error(`refused ${a.status}: ${a.error.message}`);
  return a.principal;
}

describe('createAdmission: credentials', () => {
  it('admits an authenticated principal; a plain socket passes no TLS peer', async () => {
    const { guard, seen, events } = setup();
    expect(principalOf(await guard.admit(request('Bearer good-alice')))).toEqual(user('alice'));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual({
      headers: { authorization: 'Bearer good-alice' },
      remoteAddress: '10.0.0.1',
    });
    expect(events).toEqual([]);
  });

  it("hands a TLS socket's peer to the provider", async () => {
    const { guard, seen } = setup();
    const tlsSocket = {
      authorized: false,
      authorizationError: 'UNABLE_TO_GET_ISSUER_CERT',
      getPeerCertificate: () => ({}),
    };
    await guard.admit(request('Bearer good-alice', '10.0.0.1', tlsSocket));
    expect(seen[0]?.tls).toEqual({
      authorized: false,
      authorizationError: 'UNABLE_TO_GET_ISSUER_CERT',
    });
  });

  it('admits a request without credentials as anonymous when allowed', async () => {
    const { guard, events } = setup({ allowAnonymous: true });
    const p = principalOf(await guard.admit(request()));
    expect(p).toEqual({ id: 'anonymous', kind: 'anonymous', roles: ['guest'] });
    expect(Object.isFrozen(p) && Object.isFrozen(p.roles)).toBe(true);
    expect(events).toEqual([]);
  });

  it('refuses a request without credentials with 401 and the challenge otherwise', async () => {
    const { guard, events } = setup();
    const a = await guard.admit(request());
    expect(refusal(a)).toEqual({
      status: 401,
      code: RpcError.Unauthorized.code,
      headers: {
        'www-authenticate':
          'Bearer resource_metadata="https://h/.well-known/oauth-protected-resource/mcp"',
      },
    });
    expect(a.ok ? '' : a.error.message).toBe('Unauthorized: no credentials');
    expect(events).toEqual([
      { event: 'unauthenticated', reason: 'no credentials', remoteAddress: '10.0.0.1' },
    ]);
  });

  it("uses the given challenge, else the provider's; no header when nobody has one", async () => {
    const given = createAdmission({
      provider: fakeProvider('Basic realm="x"').provider,
      allowAnonymous: false,
      anonymousRoles: [],
      maxStreamsPerPrincipal: 1,
      challenge: 'Bearer, Basic realm="x"',
    });
    expect(refusal(await given.admit(request())).headers).toEqual({
      'www-authenticate': 'Bearer, Basic realm="x"',
    });
    const providers = createAdmission({
      provider: fakeProvider('Basic realm="x"').provider,
      allowAnonymous: false,
      anonymousRoles: [],
      maxStreamsPerPrincipal: 1,
    });
    expect(refusal(await providers.admit(request())).headers).toEqual({
      'www-authenticate': 'Basic realm="x"',
    });
    const bare = createAdmission({
      provider: undefined,
      allowAnonymous: false,
      anonymousRoles: [],
      maxStreamsPerPrincipal: 1,
    });
    expect(refusal(await bare.admit(request('Bearer good-alice')))).toEqual({
      status: 401,
      code: RpcError.Unauthorized.code,
      headers: {},
    });
  });

  it("keeps a 401 rejection's own WWW-Authenticate, else uses the challenge", async () => {
    const { guard } = setup();
    expect(refusal(await guard.admit(request('Bearer wrong'))).headers).toEqual({
      'www-authenticate': INVALID,
    });
    const b = refusal(await guard.admit(request(basic('alice', 'nope'))));
    expect(b.headers['www-authenticate']).toContain('resource_metadata=');
  });

  it('maps a 403 rejection to -32014', async () => {
    const { guard } = setup();
    const a = await guard.admit(request('Bearer denied'));
    expect(refusal(a)).toMatchObject({ status: 403, code: RpcError.Forbidden.code });
    expect(a.ok ? '' : a.error.message).toBe('Forbidden: account disabled');
  });

  it('answers 503 -32016 when the provider fails with AuthnError, and reports it', async () => {
    const err = new AuthnError('keys_unavailable', 'JWKS endpoint down');
    const { guard, onError } = setup({ provider: throwing(err) });
    const a = await guard.admit(request('Bearer x'));
    expect(refusal(a)).toEqual({ status: 503, code: RpcError.Unavailable.code, headers: {} });
    expect(a.ok ? '' : a.error.message).not.toContain('JWKS');
    expect(onError).toHaveBeenCalledWith(err, 'authentication unavailable');
  });

  it('lets any other provider error propagate', async () => {
    const err = new TypeError('bug');
    const { guard } = setup({ provider: throwing(err) });
    await expect(guard.admit(request('Bearer x'))).rejects.toBe(err);
  });
});

describe('createAdmission: lockout', () => {
  it('locks an address after N failures, even against valid credentials', async () => {
    const { guard: locked, clock, events, seen } = setup({ withLockout: true });
    for (let i = 0; i < 2; i++) {
      expect(refusal(await locked.admit(request('Bearer wrong'))).status).toBe(401);
    }
    expect(refusal(await locked.admit(request('Bearer wrong')))).toEqual({
      status: 429,
      code: RpcError.RateLimited.code,
      headers: { 'retry-after': '30' },
    });
    seen.length = 0;
    clock.ms += 10_000;
    expect(refusal(await locked.admit(request('Bearer good-alice')))).toEqual({
      status: 429,
      code: RpcError.RateLimited.code,
      headers: { 'retry-after': '20' },
    });
    expect(seen).toEqual([]); // refused before any credential is checked
    expect(events.at(-1)).toEqual({ event: 'locked_out', remoteAddress: '10.0.0.1' });
    // Another address is not affected; the lock ends after lockMs.
    expect(principalOf(await locked.admit(request('Bearer good-bob', '10.0.0.2'))).id).toBe('bob');
    clock.ms += 20_000;
    expect(principalOf(await locked.admit(request('Bearer good-alice'))).id).toBe('alice');
  });

  it('does not count a request without credentials as a failure', async () => {
    const { guard } = setup({ withLockout: true });
    for (let i = 0; i < 5; i++) expect(refusal(await guard.admit(request())).status).toBe(401);
  });

  it('locks a Basic user name across addresses', async () => {
    const { guard } = setup({ withLockout: true });
    expect(refusal(await guard.admit(request(basic('alice', 'x'), '10.0.0.1'))).status).toBe(401);
    expect(refusal(await guard.admit(request(basic('alice', 'x'), '10.0.0.2'))).status).toBe(401);
    expect(refusal(await guard.admit(request(basic('alice', 'x'), '10.0.0.3'))).status).toBe(429);
    // The right password from a fresh address: still locked (the user name is).
    const again = await guard.admit(request(basic('alice', PASSWORD), '10.0.0.4'));
    expect(refusal(again).status).toBe(429);
    // The address itself is not locked: another user passes from it.
    expect(principalOf(await guard.admit(request(basic('bob', PASSWORD), '10.0.0.4'))).id).toBe(
      'bob',
    );
  });

  it("a success resets the user name's count, not the address's", async () => {
    const { guard } = setup({ withLockout: true });
    const from = (name: string, password: string, ip: string) =>
      guard.admit(request(basic(name, password), ip));
    expect(refusal(await from('alice', 'x', '10.0.0.1')).status).toBe(401);
    expect(refusal(await from('alice', 'x', '10.0.0.1')).status).toBe(401);
    expect(principalOf(await from('alice', PASSWORD, '10.0.0.1')).id).toBe('alice');
    // alice starts from zero: two failures elsewhere do not lock her.
    expect(refusal(await from('alice', 'x', '10.0.0.7')).status).toBe(401);
    expect(refusal(await from('alice', 'x', '10.0.0.8')).status).toBe(401);
    expect(principalOf(await from('alice', PASSWORD, '10.0.0.9')).id).toBe('alice');
    // 10.0.0.1 kept its two failures: the third locks it.
    expect(refusal(await from('carol', 'x', '10.0.0.1')).status).toBe(429);
  });
});

describe('createAdmission: rate limit and audit', () => {
  it("refuses 429 with Retry-After past the principal's capacity", async () => {
    const limit = { capacity: 2, refillPerSecond: 0.5 };
    const { guard, clock, events } = setup({ limit, allowAnonymous: true });
    for (let i = 0; i < 2; i++) {
      expect(principalOf(await guard.admit(request('Bearer good-alice'))).id).toBe('alice');
    }
    expect(refusal(await guard.admit(request('Bearer good-alice')))).toEqual({
      status: 429,
      code: RpcError.RateLimited.code,
      headers: { 'retry-after': '2' },
    });
    expect(events).toEqual([
      { event: 'rate_limited', principal: 'alice', remoteAddress: '10.0.0.1' },
    ]);
    // Buckets are per principal, and anonymous callers have one too.
    expect(principalOf(await guard.admit(request('Bearer good-bob'))).id).toBe('bob');
    expect(principalOf(await guard.admit(request())).id).toBe('anonymous');
    clock.ms += 2_000;
    expect(principalOf(await guard.admit(request('Bearer good-alice'))).id).toBe('alice');
  });

  it('never puts a credential in an audit event', async () => {
    const limit = { capacity: 1, refillPerSecond: 1 };
    const { guard, events } = setup({ withLockout: true, limit });
    await guard.admit(request('Bearer good-alice'));
    await guard.admit(request('Bearer good-alice'));
    for (let i = 0; i < 4; i++) await guard.admit(request(basic('mallory', 'hunter2-secret')));
    await guard.admit(request(`Bearer ${TOKEN_SECRET}`, '10.0.0.5'));
    expect(events.map((e) => e.event)).toEqual([
      'rate_limited',
      'unauthenticated',
      'unauthenticated',
      'unauthenticated',
      'locked_out',
      'unauthenticated',
    ]);
    const text = JSON.stringify(events);
    for (const secret of [TOKEN_SECRET, 'hunter2-secret', 'Basic ', 'Bearer ']) {
      expect(text).not.toContain(secret);
    }
    const encoded = Buffer.from('mallory:hunter2-secret').toString('base64');
    expect(text).not.toContain(encoded);
  });
});

describe('createAdmission: per-message spend', () => {
  const caller = (id: string) => ({ principal: user(id), remoteAddress: '10.0.0.9' });

  it('is absent when no per-principal bucket is configured (messages are not counted)', () => {
    expect(setup().guard).not.toHaveProperty('spend');
  });

  it('spends from the same bucket as admission; over it -32012 with retryAfterMs, audited', async () => {
    const limit = { capacity: 3, refillPerSecond: 0.5 };
    const { guard, clock, events } = setup({ limit });
    const spend = guard.spend?.bind(guard);
    if (spend === undefined) throw new Error('spend expected');
    // One request (its token pays for its first message) and two more messages: 3 tokens.
    principalOf(await guard.admit(request('Bearer good-alice')));
    expect(await spend(caller('alice'))).toEqual({ ok: true });
    expect(await spend(caller('alice'))).toEqual({ ok: true });
    const refused = await spend(caller('alice'));
    if (refused.ok) throw new Error('expected a refusal');
    expect(refused.error.code).toBe(RpcError.RateLimited.code);
    expect(refused.error.message).toBe('Rate limit exceeded');
    expect(refused.error.data).toEqual({ retryAfterMs: 2000 });
    expect(events).toEqual([
      { event: 'rate_limited', principal: 'alice', remoteAddress: '10.0.0.9' },
    ]);
    // The next request is refused at admission: the bucket is shared.
    expect(refusal(await guard.admit(request('Bearer good-alice'))).status).toBe(429);
    // Other principals have their own; time refills.
    expect(await spend(caller('bob'))).toEqual({ ok: true });
    clock.ms += 2_000;
    expect(await spend(caller('alice'))).toEqual({ ok: true });
  });

  it('a store fault refuses the message with -32016 and reports it', async () => {
    const down = { take: () => Promise.reject(new Error('redis down')) };
    const { guard, onError } = setup({ rateLimiter: down });
    const r = await guard.spend?.(caller('alice'));
    expect(r?.ok === false && r.error.code).toBe(RpcError.Unavailable.code);
    expect(onError).toHaveBeenCalledWith(expect.any(Error), 'rate limit unavailable');
  });

  it('principals with buckets of their own use them, at admission and per message', async () => {
    const clock = { ms: 0 };
    const small = new MemoryRateLimiter({
      capacity: 2,
      refillPerSecond: 0.001,
      now: () => clock.ms,
    });
    // Only the listed principal is counted when there is no general bucket.
    const { guard } = setup({ principalLimiters: new Map([['flood', small]]) });
    const spend = guard.spend?.bind(guard);
    if (spend === undefined) throw new Error('spend expected');
    principalOf(await guard.admit(request('Bearer good-flood')));
    expect(await spend(caller('flood'))).toEqual({ ok: true });
    expect((await spend(caller('flood'))).ok).toBe(false);
    expect(refusal(await guard.admit(request('Bearer good-flood'))).status).toBe(429);
    for (let i = 0; i < 5; i++) expect(await spend(caller('alice'))).toEqual({ ok: true });
    expect(principalOf(await guard.admit(request('Bearer good-alice'))).id).toBe('alice');
  });
});

describe('createAdmission: openStream', () => {
  const open = (guard: TransportGuard, p: Principal) => {
    if (guard.openStream === undefined) throw new Error('no openStream');
    return guard.openStream(p);
  };

  it('caps the streams of a principal; releases are idempotent', async () => {
    const { guard } = setup();
    const alice = user('alice');
    const first = await open(guard, alice);
    const second = await open(guard, alice);
    expect(first).toBeTypeOf('function');
    expect(second).toBeTypeOf('function');
    expect(await open(guard, alice)).toBeUndefined();
    expect(await open(guard, user('bob'))).toBeTypeOf('function');

    first?.();
    const third = await open(guard, alice);
    expect(third).toBeTypeOf('function');
    first?.(); // a second release of the same stream frees nothing
    expect(await open(guard, alice)).toBeUndefined();

    second?.();
    third?.();
    expect(await open(guard, alice)).toBeTypeOf('function');
    expect(await open(guard, alice)).toBeTypeOf('function');
    expect(await open(guard, alice)).toBeUndefined();
  });
});

describe('createAdmission: credentials that can end', () => {
  const expiring: AuthProvider = {
    name: 'expiring',
    authenticate: (req) =>
      Promise.resolve(
        req.headers['authorization'] === 'Bearer static'
          ? { type: 'authenticated', principal: user('ops') }
          : {
              type: 'authenticated',
              principal: user('temp'),
              credential: { key: 'jwt:x', expiresAt: Date.now() - 1 },
            },
      ),
  };

  it('hands the transports a followable credential when a revalidator is given', async () => {
    const revalidator = new Revalidator();
    try {
      const { guard } = setup({ provider: expiring, revalidator });
      const admitted = await guard.admit(request('Bearer short-lived'));
      if (!admitted.ok) throw new Error('refused');
      expect(admitted.credential?.current()).toBe('expired');
      // A credential that cannot end comes without one: nothing to follow.
      const fixed = await guard.admit(request('Bearer static'));
      expect(fixed.ok && fixed.credential).toBe(undefined);
    } finally {
      revalidator.close();
    }
  });

  it('without a revalidator the credential is checked at admission only', async () => {
    const { guard } = setup({ provider: expiring });
    const admitted = await guard.admit(request('Bearer short-lived'));
    expect(admitted.ok && admitted.credential).toBe(undefined);
  });
});
