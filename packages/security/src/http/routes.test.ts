import { Fastify } from '@mcp-cluster/transports';
import type { FastifyInstance } from '@mcp-cluster/transports';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLockoutStore } from '../stores/memory.js';
import type { LockoutStore } from '../stores/types.js';
import type { AuditEvent } from '../guard/audit.js';
import type { TokenCredential } from '../tokens/service.js';
import {
  authenticate,
  CLIENT_ID,
  CLIENT_SECRET,
  ISSUER,
  fixture,
} from '../tokens/tokens.testkit.js';
import { AS_METADATA_PATH, METADATA_PATH } from './metadata.js';
import { registerSecurityRoutes, REVOKE_PATH, TOKEN_PATH } from './routes.js';
import type { SecurityRoutesOptions } from './routes.js';

const FORM = 'application/x-www-form-urlencoded';
const apps: FastifyInstance[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function appWith(options: Partial<SecurityRoutesOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  apps.push(app);
  await registerSecurityRoutes(app, { path: '/mcp', authorizationServers: [], ...options });
  await app.ready();
  return app;
}

const getJson = async (app: FastifyInstance, url: string, host = 'mcp.example:8080') => {
  const res = await app.inject({ method: 'GET', url, headers: { host } });
  expect(res.statusCode).toBe(200);
  return res.json<Record<string, unknown>>();
};

function post(
  app: FastifyInstance,
  url: string,
  params: Record<string, string>,
  remoteAddress = '10.0.0.1',
) {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': FORM },
    payload: new URLSearchParams(params).toString(),
    remoteAddress,
  });
}

const clientCredentials = (secret = CLIENT_SECRET) => ({
  grant_type: 'client_credentials',
  client_id: CLIENT_ID,
  client_secret: secret,
});

describe('metadata routes', () => {
  it('serves the same document at both well-known paths, derived from Host', async () => {
    const app = await appWith();
    const expected = {
      resource: 'http://mcp.example:8080/mcp',
      bearer_methods_supported: ['header'],
    };
    expect(await getJson(app, METADATA_PATH)).toEqual(expected);
    expect(await getJson(app, `${METADATA_PATH}/mcp`)).toEqual(expected);
    expect((await getJson(app, METADATA_PATH, 'other.example')).resource).toBe(
      'http://other.example/mcp',
    );
  });

  it('prefers the configured resource, servers and scopes', async () => {
    const app = await appWith({
      resource: 'https://mcp.example/mcp',
      authorizationServers: ['https://as.example'],
      scopesSupported: ['tools:call'],
      tokens: fixture().service,
    });
    expect(await getJson(app, `${METADATA_PATH}/mcp`, 'attacker.example')).toEqual({
      resource: 'https://mcp.example/mcp',
      bearer_methods_supported: ['header'],
      authorization_servers: ['https://as.example'],
      scopes_supported: ['tools:call'],
    });
  });

  it('advertises the token service as authorization server when it issues tokens', async () => {
    const app = await appWith({ tokens: fixture().service });
    const doc = await getJson(app, METADATA_PATH);
    expect(doc['authorization_servers']).toEqual([ISSUER]);
    // An issuer that is no URL cannot be discovered: this server, as reached, is named.
    const opaque = await appWith({ tokens: fixture({ issuer: 'mcp-cluster' }).service });
    expect((await getJson(opaque, METADATA_PATH))['authorization_servers']).toEqual([
      'http://mcp.example:8080',
    ]);
  });

  it('serves RFC 8414 metadata naming the token and revocation endpoints', async () => {
    const app = await appWith({ tokens: fixture().service });
    expect(await getJson(app, AS_METADATA_PATH, 'attacker.example')).toEqual({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}${TOKEN_PATH}`,
      revocation_endpoint: `${ISSUER}${REVOKE_PATH}`,
      grant_types_supported: ['client_credentials', 'refresh_token'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
    // An issuer with a path: its metadata lives at the path-suffixed location (RFC 8414 §3.1).
    const tenant = await appWith({
      tokens: fixture({ issuer: 'https://gw.example/tenant-a' }).service,
    });
    const doc = await getJson(tenant, `${AS_METADATA_PATH}/tenant-a`);
    expect(doc).toMatchObject({
      issuer: 'https://gw.example/tenant-a',
      token_endpoint: `https://gw.example${TOKEN_PATH}`,
    });
    const root = await tenant.inject({ method: 'GET', url: AS_METADATA_PATH });
    expect(root.statusCode).toBe(404);
  });

  it('has no token routes without a token service', async () => {
    const app = await appWith();
    expect((await app.inject({ method: 'GET', url: AS_METADATA_PATH })).statusCode).toBe(404);
    expect((await post(app, TOKEN_PATH, clientCredentials())).statusCode).toBe(404);
    expect((await post(app, REVOKE_PATH, { token: 'x' })).statusCode).toBe(404);
  });
});

describe('token routes', () => {
  async function setup(lockout?: LockoutStore) {
    const clock = { ms: 2_000_000 };
    const tokens = fixture();
    const store =
      lockout ??
      new MemoryLockoutStore({
        maxFailures: 3,
        windowMs: 60_000,
        lockMs: 30_000,
        now: () => clock.ms,
      });
    return { clock, tokens, app: await appWith({ tokens: tokens.service, lockout: store }) };
  }

  it('issues a token for a form-encoded client_credentials request', async () => {
    const { tokens, app } = await setup();
    const res = await post(app, TOKEN_PATH, clientCredentials());
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<Record<string, unknown>>();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    const verified = await tokens.verify(String(body['access_token']));
    expect(verified).toMatchObject({
      type: 'authenticated',
      principal: { id: `basic:${CLIENT_ID}` },
    });
  });

  it('locks an address out after repeated wrong client secrets', async () => {
    const { clock, app } = await setup();
    for (let i = 0; i < 3; i++) {
      const res = await post(app, TOKEN_PATH, clientCredentials('wrong-secret'));
      expect(res.statusCode).toBe(401);
      expect(res.json<Record<string, unknown>>()['error']).toBe('invalid_client');
    }
    // Locked: even the right secret is refused, without being checked.
    const locked = await post(app, TOKEN_PATH, clientCredentials());
    expect(locked.statusCode).toBe(429);
    expect(locked.headers['retry-after']).toBe('30');
    expect(locked.headers['cache-control']).toBe('no-store');
    expect(locked.json<Record<string, unknown>>()['error']).toBe('slow_down');
    expect(JSON.stringify(locked.json())).not.toContain(CLIENT_SECRET);
    // Revocation shares the lock; so does the client id, from any address (as on /mcp).
    expect((await post(app, REVOKE_PATH, { token: 'x' })).statusCode).toBe(429);
    expect((await post(app, TOKEN_PATH, clientCredentials(), '10.0.0.2')).statusCode).toBe(429);
    clock.ms += 30_000;
    expect((await post(app, TOKEN_PATH, clientCredentials())).statusCode).toBe(200);
  });

  it('locks only the address for a client id that did not fail', async () => {
    const { app } = await setup();
    const intruder = { ...clientCredentials('wrong'), client_id: 'intruder' };
    for (let i = 0; i < 3; i++)
      expect((await post(app, TOKEN_PATH, intruder)).statusCode).toBe(401);
    expect((await post(app, TOKEN_PATH, clientCredentials())).statusCode).toBe(429);
    expect((await post(app, TOKEN_PATH, clientCredentials(), '10.0.0.2')).statusCode).toBe(200);
  });

  it('checks at most the threshold of concurrent wrong secrets; the rest 429 unchecked', async () => {
    let checks = 0;
    const events: AuditEvent[] = [];
    const counting = (credential: TokenCredential) => {
      checks++;
      return authenticate(credential);
    };
    const app = await appWith({
      tokens: fixture({ authenticate: counting }).service,
      lockout: new MemoryLockoutStore({ maxFailures: 3, maxConcurrent: 10, lockMs: 30_000 }),
      audit: (e) => events.push(e),
    });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post(app, i % 2 === 0 ? TOKEN_PATH : REVOKE_PATH, {
          ...clientCredentials(`wrong-${i}`),
          token: 'x',
        }),
      ),
    );
    const failed = answers.filter((r) => r.statusCode === 401);
    const refused = answers.filter((r) => r.statusCode === 429);
    expect(checks).toBe(3);
    expect(failed).toHaveLength(3);
    expect(refused).toHaveLength(37);
    for (const r of refused) {
      expect(r.json<Record<string, unknown>>()['error']).toBe('slow_down');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(events.filter((e) => e.event === 'unauthenticated')).toEqual(
      Array.from({ length: 3 }, () => ({
        event: 'unauthenticated',
        reason: 'invalid credentials',
        remoteAddress: '10.0.0.1',
      })),
    );
    expect(events.filter((e) => e.event === 'locked_out')).toHaveLength(37);
  });

  it('gives a check its reservation back on success and when the check throws', async () => {
    let fail = true;
    const flaky = (credential: TokenCredential) =>
      fail ? Promise.reject(new Error('store down')) : authenticate(credential);
    const app = await appWith({
      tokens: fixture({ authenticate: flaky }).service,
      lockout: new MemoryLockoutStore({ maxFailures: 3, maxConcurrent: 1 }),
    });
    for (let i = 0; i < 5; i++) {
      expect((await post(app, TOKEN_PATH, clientCredentials())).statusCode).toBe(503);
    }
    fail = false;
    for (let i = 0; i < 5; i++) {
      expect((await post(app, TOKEN_PATH, clientCredentials())).statusCode).toBe(200);
    }
  });

  it('counts a bad refresh token as a failed attempt', async () => {
    const { app } = await setup();
    const refresh = (token: string) =>
      post(app, TOKEN_PATH, {
        ...clientCredentials(),
        grant_type: 'refresh_token',
        refresh_token: token,
      });
    for (let i = 0; i < 3; i++) {
      const res = await refresh('not-a-refresh-token');
      expect(res.json<Record<string, unknown>>()['error']).toBe('invalid_grant');
    }
    expect((await refresh('not-a-refresh-token')).statusCode).toBe(429);
  });

  it('revokes a refresh token with 200', async () => {
    const { app } = await setup();
    const issued = (await post(app, TOKEN_PATH, clientCredentials())).json<
      Record<string, string>
    >();
    const refreshToken = issued['refresh_token'] ?? '';
    const res = await post(app, REVOKE_PATH, { ...clientCredentials(), token: refreshToken });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const reuse = await post(app, TOKEN_PATH, {
      ...clientCredentials(),
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
    expect(reuse.json<Record<string, unknown>>()['error']).toBe('invalid_grant');
  });

  it('answers 503 temporarily_unavailable when the lockout store fails', async () => {
    const fault = 'redis password=hunter2 unreachable';
    const broken: LockoutStore = {
      isLocked: () => Promise.reject(new Error(fault)),
      fail: () => Promise.reject(new Error(fault)),
      begin: () => Promise.reject(new Error(fault)),
      finish: () => Promise.reject(new Error(fault)),
      reset: () => Promise.resolve(),
    };
    const { app } = await setup(broken);
    const res = await post(app, TOKEN_PATH, clientCredentials());
    expect(res.statusCode).toBe(503);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ error: 'temporarily_unavailable' });
  });
});
