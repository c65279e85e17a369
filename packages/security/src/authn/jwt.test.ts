import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthnError } from './errors.js';
import { jwtProvider, type JwtOptions } from './jwt.js';
import type { AuthProvider, AuthResult } from './types.js';

const ISSUER = 'https://issuer.example';
const AUDIENCE = 'https://mcp.example/mcp';
const METADATA = 'https://mcp.example/.well-known/oauth-protected-resource';

async function keyPair(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { privateKey, publicKey, jwk, kid };
}
type Pair = Awaited<ReturnType<typeof keyPair>>;

function sign(pair: Pair, claims: JWTPayload = {}, tweak?: (jwt: SignJWT) => SignJWT) {
  let jwt = new SignJWT({ sub: 'alice', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: pair.kid })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m');
  if (tweak) jwt = tweak(jwt);
  return jwt.sign(pair.privateKey);
}

function bearer(token: string) {
  return { headers: { authorization: `Bearer ${token}` } };
}

function staticProvider(pair: Pair, extra: Partial<JwtOptions> = {}): AuthProvider {
  return jwtProvider({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: [{ type: 'jwk', jwk: pair.jwk }],
    algorithms: ['ES256'],
    resourceMetadataUrl: METADATA,
    ...extra,
  });
}

function expectInvalid(result: AuthResult, reason: RegExp) {
  expect(result.type).toBe('rejected');
  if (result.type !== 'rejected') return;
  expect(result.status).toBe(401);
  expect(result.reason).toMatch(reason);
  expect(result.wwwAuthenticate).toBe(
    `Bearer resource_metadata="${METADATA}", error="invalid_token"`,
  );
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('jwtProvider (static keys)', () => {
  it('authenticates a valid token and maps sub, roles and scopes', async () => {
    const pair = await keyPair('k1');
    const provider = staticProvider(pair);
    const token = await sign(pair, { roles: ['admin', 'ops'], scope: 'tools:read ops' });
    const result = await provider.authenticate(bearer(token));
    expect(result.type).toBe('authenticated');
    if (result.type !== 'authenticated') return;
    expect(result.principal.id).toBe(`jwt:${ISSUER}#alice`);
    expect(result.principal.kind).toBe('user');
    expect([...result.principal.roles].sort()).toEqual(['admin', 'ops', 'tools:read']);
    expect(result.principal.claims?.['iss']).toBe(ISSUER);
  });

  it('namespaces the principal id by issuer: a sub spelled like another id stays a JWT sub', async () => {
    const pair = await keyPair('k1');
    const provider = staticProvider(pair);
    for (const sub of ['static:ops', 'basic:alice', 'jwt:https://other#x', 'a#b']) {
      const result = await provider.authenticate(bearer(await sign(pair, { sub })));
      expect(result.type === 'authenticated' && result.principal.id).toBe(`jwt:${ISSUER}#${sub}`);
    }
  });

  it('gives open connections the token exp (no revocation: an outside issuer)', async () => {
    const pair = await keyPair('k1');
    const provider = staticProvider(pair);
    const exp = Math.floor(Date.now() / 1000) + 120;
    const token = await sign(pair, {}, (j) => j.setExpirationTime(exp));
    const result = await provider.authenticate(bearer(token));
    const credential = result.type === 'authenticated' ? result.credential : undefined;
    expect(credential?.expiresAt).toBe(exp * 1000);
    expect(credential?.isRevoked).toBeUndefined();
    expect(credential?.key).toMatch(/^jwt:[A-Za-z0-9_-]{43}$/);
    expect(credential?.key).not.toContain(token);
    // Two tokens, two keys; the same token, the same key (connections share its timer).
    const again = await provider.authenticate(bearer(token));
    expect(again.type === 'authenticated' ? again.credential?.key : '').toBe(credential?.key);
    const other = await provider.authenticate(bearer(await sign(pair, { sub: 'bob' })));
    expect(other.type === 'authenticated' ? other.credential?.key : '').not.toBe(credential?.key);
  });

  it('honours custom roles/scope claim names and a space-separated roles claim', async () => {
    const pair = await keyPair('k1');
    const provider = staticProvider(pair, { rolesClaim: 'groups', scopeClaim: 'scp' });
    const token = await sign(pair, { groups: 'a b', scp: 'c', roles: ['ignored'] });
    const result = await provider.authenticate(bearer(token));
    expect(result.type === 'authenticated' && [...result.principal.roles].sort()).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('accepts an SPKI PEM key; a token kid must match the configured kid', async () => {
    const pair = await keyPair('k1');
    const pem = await exportSPKI(pair.publicKey);
    const provider = staticProvider(pair, {
      keys: [{ type: 'spki', pem, alg: 'ES256', kid: 'k1' }],
    });
    expect((await provider.authenticate(bearer(await sign(pair)))).type).toBe('authenticated');
    const noKid = staticProvider(pair, { keys: [{ type: 'spki', pem, alg: 'ES256' }] });
    expectInvalid(await noKid.authenticate(bearer(await sign(pair))), /no key/);
    const kidless = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(pair.privateKey);
    expect((await noKid.authenticate(bearer(kidless))).type).toBe('authenticated');
  });

  it('refuses an expired token', async () => {
    const pair = await keyPair('k1');
    const now = Math.floor(Date.now() / 1000);
    const token = await sign(pair, {}, (j) => j.setIssuedAt(now - 600).setExpirationTime(now - 60));
    expectInvalid(await staticProvider(pair).authenticate(bearer(token)), /expired/);
  });

  it('allows clock skew within the tolerance only', async () => {
    const pair = await keyPair('k1');
    const now = Math.floor(Date.now() / 1000);
    const token = await sign(pair, {}, (j) => j.setIssuedAt(now - 600).setExpirationTime(now - 10));
    expect((await staticProvider(pair).authenticate(bearer(token))).type).toBe('authenticated');
    const strict = staticProvider(pair, { clockToleranceSec: 0 });
    expectInvalid(await strict.authenticate(bearer(token)), /expired/);
  });

  it('refuses a token that is not yet valid', async () => {
    const pair = await keyPair('k1');
    const now = Math.floor(Date.now() / 1000);
    const token = await sign(pair, {}, (j) => j.setNotBefore(now + 300));
    expectInvalid(await staticProvider(pair).authenticate(bearer(token)), /nbf/);
  });

  it('refuses a wrong audience and a wrong issuer', async () => {
    const pair = await keyPair('k1');
    const provider = staticProvider(pair);
    const wrongAud = await sign(pair, {}, (j) => j.setAudience('https://other.example'));
    expectInvalid(await provider.authenticate(bearer(wrongAud)), /aud/);
    const wrongIss = await sign(pair, {}, (j) => j.setIssuer('https://evil.example'));
    expectInvalid(await provider.authenticate(bearer(wrongIss)), /iss/);
  });

  it('refuses a hand-crafted alg:none token', async () => {
    const pair = await keyPair('k1');
    const now = Math.floor(Date.now() / 1000);
    const payload = { sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now + 300 };
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
    expectInvalid(await staticProvider(pair).authenticate(bearer(token)), /algorithm not allowed/);
  });

  it('refuses a token re-signed with another key under the same kid', async () => {
    const pair = await keyPair('k1');
    const attacker = await keyPair('k1');
    expectInvalid(
      await staticProvider(pair).authenticate(bearer(await sign(attacker))),
      /signature/,
    );
  });

  it('refuses a tampered payload', async () => {
    const pair = await keyPair('k1');
    const [header, , signature] = (await sign(pair)).split('.');
    const now = Math.floor(Date.now() / 1000);
    const forged = b64url({ sub: 'root', iss: ISSUER, aud: AUDIENCE, exp: now + 300 });
    const token = `${header}.${forged}.${signature}`;
    expectInvalid(await staticProvider(pair).authenticate(bearer(token)), /signature/);
  });

  it('refuses a token without sub, and one without exp', async () => {
    const pair = await keyPair('k1');
    const provider = staticProvider(pair);
    const noSub = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(pair.privateKey);
    expectInvalid(await provider.authenticate(bearer(noSub)), /sub/);
    const noExp = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(pair.privateKey);
    expectInvalid(await provider.authenticate(bearer(noExp)), /exp/);
  });

  it('refuses an algorithm outside the allow-list', async () => {
    const pair = await keyPair('k1');
    const provider = staticProvider(pair, { algorithms: ['RS256'] });
    expectInvalid(await provider.authenticate(bearer(await sign(pair))), /algorithm/);
  });

  it('skips requests without a Bearer JWT; challenges an empty bearer', async () => {
    const pair = await keyPair('k1');
    const provider = staticProvider(pair, { challengeScopes: ['tools:read', 'tools:call'] });
    expect(provider.challenge).toBe(
      `Bearer resource_metadata="${METADATA}", scope="tools:read tools:call"`,
    );
    expect(await provider.authenticate({ headers: {} })).toEqual({ type: 'skip' });
    expect(await provider.authenticate({ headers: { authorization: 'Basic eDp5' } })).toEqual({
      type: 'skip',
    });
    expect(await provider.authenticate(bearer('opaque-static-token'))).toEqual({ type: 'skip' });
    const empty = await provider.authenticate({ headers: { Authorization: 'Bearer' } });
    expect(empty.type === 'rejected' && empty.wwwAuthenticate).toMatch(/error="invalid_request"/);
  });

  it('never puts the token into the reason', async () => {
    const pair = await keyPair('k1');
    const token = await sign(pair, {}, (j) => j.setAudience('https://other.example'));
    const result = await staticProvider(pair).authenticate(bearer(token));
    expect(JSON.stringify(result)).not.toContain(token.split('.')[1]);
  });

  it('refuses bad configuration at construction', () => {
    const base = {
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: [{ type: 'jwk' as const, jwk: { kty: 'EC' } }],
      resourceMetadataUrl: METADATA,
    };
    expect(() => jwtProvider({ ...base, algorithms: ['none'] })).toThrow(AuthnError);
    expect(() => jwtProvider({ ...base, algorithms: ['NONE', 'ES256'] })).toThrow(/none/);
    expect(() => jwtProvider({ ...base, algorithms: [] })).toThrow(/allow-list/);
    expect(() =>
      jwtProvider({ ...base, issuer: 'https://idp.example/#x', algorithms: ['ES256'] }),
    ).toThrow(/issuer must not contain "#"/);
    expect(() => jwtProvider({ ...base, algorithms: ['ES256'], jwksUrl: 'https://x/j' })).toThrow(
      /exactly one/,
    );
    const { keys: _keys, ...noKeys } = base;
    expect(() =>
      jwtProvider({ ...noKeys, algorithms: ['ES256'], jwksUrl: 'http://idp.example/jwks' }),
    ).toThrow(/https/);
  });
});

describe('jwtProvider (bad static key material)', () => {
  it('throws a config error (not a 401) when an SPKI key cannot be imported', async () => {
    const pair = await keyPair('k1');
    const provider = staticProvider(pair, {
      keys: [
        {
          type: 'spki',
          pem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
          alg: 'ES256',
        },
      ],
    });
    await expect(provider.authenticate(bearer(await sign(pair)))).rejects.toMatchObject({
      name: 'AuthnError',
      kind: 'config',
    });
  });
});

describe('jwtProvider (JWKS URL)', () => {
  let server: Server | undefined;
  afterEach(async () => {
    const s = server;
    server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  async function serveJwks(initial: JWK[]) {
    const state = { keys: initial, fetches: 0 };
    server = createServer((_req, res) => {
      state.fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: state.keys }));
    });
    const s = server;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const { port } = s.address() as AddressInfo;
    return { state, url: `http://127.0.0.1:${port}/jwks.json` };
  }

  it('fetches once, caches, and refetches when a token names an unknown kid', async () => {
    const k1 = await keyPair('k1');
    const k2 = await keyPair('k2');
    const { state, url } = await serveJwks([k1.jwk]);
    const provider = jwtProvider({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: url,
      jwksCooldownMs: 0,
      algorithms: ['ES256'],
      resourceMetadataUrl: METADATA,
    });
    expect((await provider.authenticate(bearer(await sign(k1)))).type).toBe('authenticated');
    expect((await provider.authenticate(bearer(await sign(k1)))).type).toBe('authenticated');
    expect(state.fetches).toBe(1);

    state.keys = [k2.jwk]; // rotation at the issuer
    const result = await provider.authenticate(bearer(await sign(k2, { sub: 'bob' })));
    expect(result.type === 'authenticated' && result.principal.id).toBe(`jwt:${ISSUER}#bob`);
    expect(state.fetches).toBe(2);

    // The rotated-out key no longer verifies once the set is refetched.
    const unknown = await keyPair('k3');
    expectInvalid(await provider.authenticate(bearer(await sign(unknown))), /no key/);
  });

  it('throws keys_unavailable when the JWKS endpoint is down', async () => {
    const pair = await keyPair('k1');
    const { url } = await serveJwks([pair.jwk]);
    const s = server;
    server = undefined;
    await new Promise<void>((resolve) => s?.close(() => resolve()));
    const provider = jwtProvider({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: url,
      algorithms: ['ES256'],
      resourceMetadataUrl: METADATA,
    });
    await expect(provider.authenticate(bearer(await sign(pair)))).rejects.toMatchObject({
      name: 'AuthnError',
      kind: 'keys_unavailable',
    });
  });
});
