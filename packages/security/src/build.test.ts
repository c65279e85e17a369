import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonRpcRequest, JsonRpcResponse } from '@mcp-cluster/protocol';
import { RpcError } from '@mcp-cluster/protocol';
import { ANONYMOUS, modernOutbound, modernRequestContext } from '@mcp-cluster/server';
import type { Engine, Principal } from '@mcp-cluster/server';
import { Fastify } from '@mcp-cluster/transports';
import type { Admission, GuardRequest, TransportGuard } from '@mcp-cluster/transports';
import { describe, expect, it, vi } from 'vitest';
import { AuthnError } from './authn/errors.js';
import { hashPassword } from './authn/password.js';
import { createSecurity } from './build.js';
import type { SecurityContext } from './build.js';
import { AuthConfigSchema } from './config.js';
import type { AuthConfigInput } from './config.js';

const TOKEN = 'static-token-for-build-tests-0123';
const RESOURCE = 'https://mcp.example/mcp';
const METADATA = 'https://mcp.example/.well-known/oauth-protected-resource/mcp';
const JWT = {
  issuer: 'https://issuer.example',
  keys: [{ type: 'jwk' as const, jwk: { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' } }],
  algorithms: ['HS256'],
};
const STATIC = {
  staticTokens: [{ token: TOKEN, principal: { id: 'svc', roles: ['reader'] } }],
} satisfies AuthConfigInput;

const context = (extra: Partial<SecurityContext> = {}): SecurityContext => ({
  mode: 'cluster',
  prefix: 'build-test',
  path: '/mcp',
  writeAudit: () => undefined,
  ...extra,
});
const parse = (input: AuthConfigInput) => AuthConfigSchema.parse(input);

function request(authorization?: string, remoteAddress = '10.1.0.1'): GuardRequest {
  return {
    method: 'POST',
    url: '/mcp',
    headers: authorization === undefined ? {} : { authorization },
    remoteAddress,
    socket: {} as Socket,
  };
}

function guardOf(guard: TransportGuard | undefined): TransportGuard {
  if (guard === undefined) throw new Error('expected a guard');
  return guard;
}

function principalOf(a: Admission): Principal {
  if (!a.ok) throw new Error(`refused ${a.status}: ${a.error.message}`);
  return a.principal;
}

function refusal(a: Admission) {
  if (a.ok) throw new Error(`admitted ${a.principal.id}`);
  return { status: a.status, code: a.error.code, headers: { ...a.headers } };
}

/** An engine answering every request with an empty result, counting them. */
function fakeEngine() {
  const seen: JsonRpcRequest[] = [];
  const engine = {
    handleRequest: (r: JsonRpcRequest): Promise<JsonRpcResponse> => {
      seen.push(r);
      return Promise.resolve({ jsonrpc: '2.0', id: r.id, result: {} });
    },
  } as unknown as Engine;
  return { engine, seen };
}

const ctxOf = (principal: Principal) =>
  modernRequestContext(
    { protocolVersion: '2026-07-28', clientCapabilities: {} },
    1,
    new AbortController().signal,
    modernOutbound(() => undefined),
    { principal },
  );

describe('createSecurity: no auth section', () => {
  it('embedded: no guard, the engine unwrapped, no routes', async () => {
    const security = await createSecurity(undefined, context({ mode: 'embedded' }));
    expect(security.guard).toBeUndefined();
    const { engine } = fakeEngine();
    expect(security.wrap(engine)).toBe(engine);
    const app = Fastify({ logger: false });
    await security.registerRoutes(app);
    const res = await app.inject({ method: 'GET', url: '/.well-known/oauth-protected-resource' });
    expect(res.statusCode).toBe(404);
    await app.close();
    await security.close();
  });

  it('cluster: every request is refused 401 with a Bearer challenge', async () => {
    await using security = await createSecurity(undefined, context());
    const guard = guardOf(security.guard);
    expect(refusal(await guard.admit(request()))).toEqual({
      status: 401,
      code: RpcError.Unauthorized.code,
      headers: { 'www-authenticate': 'Bearer' },
    });
    expect(refusal(await guard.admit(request(`Bearer ${TOKEN}`))).status).toBe(401);
  });

  it('cluster with allowAnonymous: requests pass as anonymous', async () => {
    await using security = await createSecurity(parse({ allowAnonymous: true }), context());
    const p = principalOf(await guardOf(security.guard).admit(request()));
    expect(p).toMatchObject({ id: ANONYMOUS.id, kind: 'anonymous' });
  });
});

describe('createSecurity: providers', () => {
  it('admits a static token as its configured principal; refuses a wrong one', async () => {
    await using security = await createSecurity(parse(STATIC), context());
    const guard = guardOf(security.guard);
    expect(principalOf(await guard.admit(request(`Bearer ${TOKEN}`)))).toEqual({
      id: 'static:svc',
      kind: 'service',
      roles: ['reader'],
    });
    const wrong = refusal(await guard.admit(request('Bearer wrong-token-0123456789')));
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('invalid_token');
  });

  it('lets requests without credentials pass as anonymous beside providers when allowed', async () => {
    await using security = await createSecurity(
      parse({ ...STATIC, allowAnonymous: true }),
      context(),
    );
    const guard = guardOf(security.guard);
    expect(principalOf(await guard.admit(request())).id).toBe('anonymous');
    expect(principalOf(await guard.admit(request(`Bearer ${TOKEN}`))).id).toBe('static:svc');
    expect(refusal(await guard.admit(request('Bearer wrong-token-0123456789'))).status).toBe(401);
  });

  it('advertises the metadata URL in the challenge, once per scheme', async () => {
    const challengeOf = async (input: AuthConfigInput) => {
      await using security = await createSecurity(parse(input), context());
      return refusal(await guardOf(security.guard).admit(request())).headers['www-authenticate'];
    };
    const bearer = `Bearer resource_metadata="${METADATA}"`;
    expect(await challengeOf({ ...STATIC, resource: RESOURCE })).toBe(bearer);
    expect(await challengeOf({ ...STATIC, resource: RESOURCE, jwt: JWT })).toBe(bearer);
    const hash = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
    const basic = { users: [{ username: 'u', hash }] };
    expect(await challengeOf({ ...STATIC, basic })).toBe(
      'Bearer, Basic realm="mcp-cluster", charset="UTF-8"',
    );
  });

  it('does not count requests without credentials towards the lockout', async () => {
    const config = parse({ ...STATIC, lockout: { maxFailures: 2 } });
    await using security = await createSecurity(config, context());
    const guard = guardOf(security.guard);
    for (let i = 0; i < 3; i++) {
      expect(refusal(await guard.admit(request(undefined, '10.1.0.8'))).status).toBe(401);
    }
    expect(principalOf(await guard.admit(request(`Bearer ${TOKEN}`, '10.1.0.8'))).id).toBe(
      'static:svc',
    );
  });

  it('locks out an address after the configured failures (on by default with providers)', async () => {
    const config = parse({ ...STATIC, lockout: { maxFailures: 2 } });
    await using security = await createSecurity(config, context());
    const guard = guardOf(security.guard);
    const bad = request('Bearer wrong-token-0123456789', '10.1.0.9');
    expect(refusal(await guard.admit(bad)).status).toBe(401);
    expect(refusal(await guard.admit(bad)).status).toBe(429);
    const good = refusal(await guard.admit(request(`Bearer ${TOKEN}`, '10.1.0.9')));
    expect(good.status).toBe(429);
    expect(Number(good.headers['retry-after'])).toBeGreaterThan(0);
    expect(principalOf(await guard.admit(request(`Bearer ${TOKEN}`, '10.1.0.10'))).id).toBe(
      'static:svc',
    );
  });

  it('applies the per-principal rate limit', async () => {
    const rateLimit = { perPrincipal: { capacity: 2, refillPerSecond: 0.001 } };
    await using security = await createSecurity(parse({ ...STATIC, rateLimit }), context());
    const guard = guardOf(security.guard);
    await guard.admit(request(`Bearer ${TOKEN}`));
    await guard.admit(request(`Bearer ${TOKEN}`));
    expect(refusal(await guard.admit(request(`Bearer ${TOKEN}`))).status).toBe(429);
  });

  it('counts messages beyond the first of a request from the same bucket (spend)', async () => {
    const rateLimit = { perPrincipal: { capacity: 2, refillPerSecond: 0.001 } };
    await using security = await createSecurity(parse({ ...STATIC, rateLimit }), context());
    const guard = guardOf(security.guard);
    const principal = principalOf(await guard.admit(request(`Bearer ${TOKEN}`)));
    expect(await guard.spend?.({ principal })).toEqual({ ok: true });
    const over = await guard.spend?.({ principal });
    expect(over?.ok === false && over.error.code).toBe(RpcError.RateLimited.code);
    // Without a per-principal bucket, messages are not counted at all.
    await using open = await createSecurity(parse(STATIC), context());
    expect(guardOf(open.guard)).not.toHaveProperty('spend');
  });

  it('gives principals listed in rateLimit.principals buckets of their own', async () => {
    const rateLimit = {
      perPrincipal: { capacity: 100, refillPerSecond: 100 },
      principals: { 'static:svc': { capacity: 1, refillPerSecond: 0.001 } },
    };
    const tokens = [
      ...STATIC.staticTokens,
      { token: `${TOKEN}-other`, principal: { id: 'other', roles: [] } },
    ];
    await using security = await createSecurity(
      parse({ staticTokens: tokens, rateLimit }),
      context(),
    );
    const guard = guardOf(security.guard);
    principalOf(await guard.admit(request(`Bearer ${TOKEN}`)));
    expect(refusal(await guard.admit(request(`Bearer ${TOKEN}`))).status).toBe(429);
    for (let i = 0; i < 5; i++) {
      expect(principalOf(await guard.admit(request(`Bearer ${TOKEN}-other`))).id).toBe(
        'static:other',
      );
    }
  });

  it('refuses jwt without a resource (the token audience) with AuthnError(config)', async () => {
    const err: unknown = await createSecurity(parse({ jwt: JWT }), context()).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthnError);
    expect((err as AuthnError).kind).toBe('config');
    expect((err as AuthnError).message).toContain('auth.resource');
  });
});

describe('createSecurity: engine guard, audit, close', () => {
  it('wraps the engine with the configured authorization and audits refusals', async () => {
    const lines: string[] = [];
    const config = parse({ ...STATIC, authz: { roles: { reader: ['tools:call:echo'] } } });
    await using security = await createSecurity(
      config,
      context({ writeAudit: (l) => lines.push(l) }),
    );
    const { engine, seen } = fakeEngine();
    const wrapped = security.wrap(engine);
    expect(wrapped).not.toBe(engine);
    const svc = principalOf(await guardOf(security.guard).admit(request(`Bearer ${TOKEN}`)));
    const call = (name: string): JsonRpcRequest => ({
      jsonrpc: '2.0',
      id: name,
      method: 'tools/call',
      params: { name },
    });
    expect('result' in (await wrapped.handleRequest(call('echo'), ctxOf(svc)))).toBe(true);
    const denied = await wrapped.handleRequest(call('delete_db'), ctxOf(svc));
    expect('error' in denied && denied.error.code).toBe(RpcError.Forbidden.code);
    expect(seen.map((r) => r.id)).toEqual(['echo']);
    const audit = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit).toEqual([
      expect.objectContaining({ audit: true, event: 'forbidden', principal: 'static:svc' }),
    ]);
    expect(lines.join('')).not.toContain(TOKEN);
  });

  it('rate policies hold a bucket per principal and action; over it is -32012, nothing runs', async () => {
    const lines: string[] = [];
    const config = parse({
      ...STATIC,
      authz: {
        roles: { reader: ['tools:call:*'] },
        policies: [
          {
            type: 'rate',
            name: 'search',
            capacity: 2,
            refillPerSecond: 0.001,
            permissions: ['tools:call:search'],
          },
        ],
      },
    });
    await using security = await createSecurity(
      config,
      context({ writeAudit: (l) => lines.push(l) }),
    );
    const { engine, seen } = fakeEngine();
    const wrapped = security.wrap(engine);
    const svc = principalOf(await guardOf(security.guard).admit(request(`Bearer ${TOKEN}`)));
    const other: Principal = { id: 'static:other', kind: 'service', roles: ['reader'] };
    const call = (name: string, i: number): JsonRpcRequest => ({
      jsonrpc: '2.0',
      id: `${name}-${i}`,
      method: 'tools/call',
      params: { name },
    });
    const codes: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await wrapped.handleRequest(call('search', i), ctxOf(svc));
      codes.push('error' in r ? r.error.code : undefined);
    }
    expect(codes).toEqual([undefined, undefined, RpcError.RateLimited.code]);
    // Another action of the same principal, and the same action of another, have their own.
    expect('result' in (await wrapped.handleRequest(call('echo', 0), ctxOf(svc)))).toBe(true);
    expect('result' in (await wrapped.handleRequest(call('search', 9), ctxOf(other)))).toBe(true);
    expect(seen.map((r) => r.id)).toEqual(['search-0', 'search-1', 'echo-0', 'search-9']);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({
        event: 'rate_limited',
        principal: 'static:svc',
        reason: 'policy search',
      }),
    ]);
  });

  it('refuses two rate policies with one name', async () => {
    const policy = { type: 'rate', name: 'x', capacity: 1, refillPerSecond: 1 } as const;
    const config = parse({ ...STATIC, authz: { roles: {}, policies: [policy, policy] } });
    const err: unknown = await createSecurity(config, context()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthnError);
    expect((err as Error).message).toMatch(/two rate policies are named x/);
  });

  it('writes no audit line when audit is off', async () => {
    const writeAudit = vi.fn();
    await using security = await createSecurity(
      parse({ ...STATIC, audit: false }),
      context({ writeAudit }),
    );
    await guardOf(security.guard).admit(request('Bearer wrong-token-0123456789'));
    expect(writeAudit).not.toHaveBeenCalled();
  });

  it('can be closed twice', async () => {
    const security = await createSecurity(parse(STATIC), context());
    await security.close();
    await expect(security.close()).resolves.toBeUndefined();
    await expect(security[Symbol.asyncDispose]()).resolves.toBeUndefined();
  });
});

describe('createSecurity: audit destinations', () => {
  it('appends one JSON line per refusal to the audit file, closed with the wiring', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-'));
    try {
      const file = join(dir, 'audit.jsonl');
      writeFileSync(file, '{"earlier":true}\n');
      const security = await createSecurity(parse({ ...STATIC, audit: { file } }), context());
      const guard = guardOf(security.guard);
      refusal(await guard.admit(request('Bearer wrong-token-0123456789', '10.9.0.1')));
      refusal(await guard.admit(request(undefined, '10.9.0.2')));
      await security.close();
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      expect(JSON.parse(lines[0] ?? '')).toEqual({ earlier: true });
      expect(JSON.parse(lines[1] ?? '')).toMatchObject({
        audit: true,
        event: 'unauthenticated',
        remoteAddress: '10.9.0.1',
      });
      expect(lines[1]).not.toContain('wrong-token');
      expect(JSON.parse(lines[2] ?? '')).toMatchObject({ remoteAddress: '10.9.0.2' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an audit file that cannot be opened fails at startup, naming it', async () => {
    const file = join(tmpdir(), `no-such-dir-${process.pid}`, 'audit.jsonl');
    const err: unknown = await createSecurity(
      parse({ ...STATIC, audit: { file } }),
      context(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthnError);
    expect((err as Error).message).toContain(file);
  });
});

describe('createSecurity: connections follow their credential', () => {
  const PASSWORD = 'build-test-password-0123';

  async function tokenConfig(): Promise<AuthConfigInput> {
    return {
      basic: {
        users: [
          {
            username: 'bob',
            hash: await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 }),
            roles: ['reader'],
          },
        ],
      },
      tokenService: {
        issuer: 'https://tokens.example',
        audience: RESOURCE,
        signingKey: { alg: 'HS256', secret: 'build-test-token-secret-0123456789abcdef', kid: 't' },
      },
    };
  }

  /** A channel standing in for the cluster bus: records publishes, lets the test deliver. */
  function fakeChannel() {
    const published: (readonly string[])[] = [];
    let deliver: ((ids: readonly string[]) => void) | undefined;
    let unsubscribed = false;
    return {
      published,
      deliver: (ids: readonly string[]) => deliver?.(ids),
      get unsubscribed() {
        return unsubscribed;
      },
      channel: {
        publish: (ids: readonly string[]) => void published.push(ids),
        subscribe: (on: (ids: readonly string[]) => void) => {
          deliver = on;
          return Promise.resolve({
            unsubscribe: () => {
              unsubscribed = true;
              return Promise.resolve();
            },
          });
        },
      },
    };
  }

  async function issue(app: ReturnType<typeof Fastify>): Promise<string> {
    const res = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`bob:${PASSWORD}`).toString('base64')}`,
      },
      payload: 'grant_type=client_credentials',
    });
    expect(res.statusCode).toBe(200);
    return String((res.json() as { access_token: string }).access_token);
  }

  it('a token revoked here ends its connections at once and is announced to the other nodes', async () => {
    const bus = fakeChannel();
    const security = await createSecurity(
      parse(await tokenConfig()),
      context({ revocations: bus.channel }),
    );
    const app = Fastify();
    try {
      await security.registerRoutes(app);
      const token = await issue(app);
      const admitted = await guardOf(security.guard).admit(request(`Bearer ${token}`));
      if (!admitted.ok || admitted.credential === undefined) throw new Error('no credential');
      const ended = new Promise((resolve) => admitted.credential?.watch(resolve));
      const res = await app.inject({
        method: 'POST',
        url: '/oauth/revoke',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `token=${token}`,
      });
      expect(res.statusCode).toBe(200);
      expect(await ended).toBe('revoked');
      const jti = String(principalOf(admitted).claims?.['jti']);
      expect(bus.published).toEqual([[`token:${jti}`]]);
    } finally {
      await app.close();
      await security.close();
    }
    expect(bus.unsubscribed).toBe(true);
  });
});
