import { createHash, generateKeyPairSync } from 'node:crypto';

import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';

import { AuthnError } from '../authn/errors.js';
import { TokenError } from './errors.js';
import { createTokenService, type TokenServiceOptions } from './service.js';
import { MemoryTokenStore, type TokenStore } from './store.js';
import {
  AUDIENCE,
  authenticate,
  bearer,
  fixture,
  HS_SECRET,
  ISSUER,
  reasonOf,
  SERVICE_PRINCIPAL,
  START_MS,
} from './tokens.testkit.js';

const REFRESH_SHAPE = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;

/** Replaces the payload of a signed JWT, keeping header and signature. */
function withPayload(token: string, change: (p: Record<string, unknown>) => void): string {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
  change(claims);
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

async function expectGrantError(promise: Promise<unknown>, code: string, message: RegExp) {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TokenError);
  expect((err as TokenError).code).toBe(code);
  expect((err as TokenError).message).toMatch(message);
}

function pem(type: 'ec' | 'rsa' | 'ed25519'): string {
  const options =
    type === 'ec' ? { namedCurve: 'P-256' } : type === 'rsa' ? { modulusLength: 2048 } : {};
  const { privateKey } = generateKeyPairSync(type as 'ec', options as { namedCurve: string });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

describe('token service: issue and verify', () => {
  it('issues an access token the verifier accepts, with the documented claims', async () => {
    const { service, verify } = fixture();
    const tokens = await service.issue(SERVICE_PRINCIPAL);
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    expect(tokens.scope).toBeUndefined();
    expect(tokens.refresh_token).toMatch(REFRESH_SHAPE);
    expect(decodeProtectedHeader(tokens.access_token)).toEqual({
      alg: 'HS256',
      kid: 'k1',
      typ: 'at+jwt',
    });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'basic:svc-reporter',
      kind: 'service',
      roles: ['tools:read', 'tools:call'],
      iat: START_MS / 1000,
      exp: START_MS / 1000 + 300,
    });
    expect(typeof claims.jti).toBe('string');
    expect(typeof claims['fam']).toBe('string');

    const result = await verify(tokens.access_token);
    expect(result.type).toBe('authenticated');
    if (result.type !== 'authenticated') return;
    expect(result.principal).toMatchObject({
      id: 'basic:svc-reporter',
      kind: 'service',
      roles: ['tools:read', 'tools:call'],
    });
    expect(result.principal.claims?.['jti']).toBe(claims.jti);
  });

  it.each([
    ['HS512', { secret: HS_SECRET + HS_SECRET }],
    ['ES256', { privateKeyPem: pem('ec') }],
    ['RS256', { privateKeyPem: pem('rsa') }],
    ['EdDSA', { privateKeyPem: pem('ed25519') }],
  ] as const)('signs and verifies with %s', async (alg, material) => {
    const { service, verify } = fixture({ signingKey: { alg, kid: 'k2', ...material } });
    const { access_token } = await service.issue(SERVICE_PRINCIPAL);
    expect(decodeProtectedHeader(access_token).alg).toBe(alg);
    expect((await verify(access_token)).type).toBe('authenticated');
  });

  it('rejects an access token once expired, allowing the clock tolerance', async () => {
    const { service, verify, clock } = fixture({ clockToleranceSec: 5 });
    const { access_token } = await service.issue(SERVICE_PRINCIPAL);
    clock.ms = START_MS + (300 + 4) * 1000;
    expect((await verify(access_token)).type).toBe('authenticated');
    clock.ms = START_MS + (300 + 5) * 1000;
    expect(reasonOf(await verify(access_token))).toBe('token expired');
  });

  it('rejects a tampered token, another key, a wrong audience, alg none and a foreign typ', async () => {
    const { service, verify } = fixture();
    const { access_token } = await service.issue(SERVICE_PRINCIPAL);
    const tampered = withPayload(access_token, (p) => (p['roles'] = ['admin']));
    expect(reasonOf(await verify(tampered))).toBe('token signature invalid');

    const other = fixture({ signingKey: { alg: 'HS256', secret: 'x'.repeat(40), kid: 'k1' } });
    const foreignKey = (await other.service.issue(SERVICE_PRINCIPAL)).access_token;
    expect(reasonOf(await verify(foreignKey))).toBe('token signature invalid');

    const otherAudience = fixture({ audience: 'https://elsewhere.example' });
    const wrongAud = (await otherAudience.service.issue(SERVICE_PRINCIPAL)).access_token;
    expect(reasonOf(await verify(wrongAud))).toMatch(/claim check failed: aud/);

    const [, payload = ''] = access_token.split('.');
    const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${payload}.`;
    // Not a three-segment JWS with a signature: nothing of ours, so it is left to others.
    expect((await verify(none)).type).toBe('skip');
    const noneSigned = `${Buffer.from('{"alg":"none","kid":"k1","typ":"at+jwt"}').toString('base64url')}.${payload}.AAAA`;
    expect(reasonOf(await verify(noneSigned))).toBe('token algorithm not allowed');

    const key = new TextEncoder().encode(HS_SECRET);
    const idToken = await new SignJWT({ roles: [], kind: 'user', fam: 'f' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('alice')
      .setIssuedAt(START_MS / 1000)
      .setExpirationTime(START_MS / 1000 + 60)
      .setJti('j')
      .sign(key);
    expect(reasonOf(await verify(idToken))).toMatch(/claim check failed: typ/);
  });

  it('skips what is not its own: no credential, Basic, opaque bearer, another issuer', async () => {
    const { verify, service } = fixture();
    const provider = service.verifier({ name: 'issuer' });
    expect(provider.name).toBe('issuer');
    expect((await provider.authenticate({ headers: {} })).type).toBe('skip');
    expect((await provider.authenticate({ headers: { authorization: 'Basic YTpi' } })).type).toBe(
      'skip',
    );
    expect((await verify('opaque-static-token-value')).type).toBe('skip');
    expect((await verify('a.b.c')).type).toBe('skip');
    const other = fixture({ issuer: 'https://auth.other.example' });
    const foreign = (await other.service.issue(SERVICE_PRINCIPAL)).access_token;
    expect((await verify(foreign)).type).toBe('skip');
    // A refresh token presented as a bearer token is not an access token.
    const { refresh_token } = await service.issue(SERVICE_PRINCIPAL);
    expect((await verify(refresh_token)).type).toBe('skip');
    const empty = await provider.authenticate(bearer(''));
    expect(empty).toMatchObject({ type: 'rejected', status: 401 });
  });

  it('narrows roles to a requested scope and refuses one beyond the grant', async () => {
    const { service, verify } = fixture();
    const tokens = await service.issue(SERVICE_PRINCIPAL, { scope: ['tools:read'] });
    expect(tokens.scope).toBe('tools:read');
    const result = await verify(tokens.access_token);
    expect(result.type === 'authenticated' && result.principal.roles).toEqual(['tools:read']);
    // The scoped grant cannot be widened on refresh, and asking does not cost the grant.
    await expectGrantError(
      service.refresh(tokens.refresh_token, { scope: ['tools:call'] }),
      'invalid_scope',
      /exceeds/,
    );
    const next = await service.refresh(tokens.refresh_token);
    expect(next.scope).toBeUndefined();
    const refreshed = await verify(next.access_token);
    expect(refreshed.type === 'authenticated' && refreshed.principal.roles).toEqual(['tools:read']);
    await expectGrantError(
      service.issue(SERVICE_PRINCIPAL, { scope: ['admin'] }),
      'invalid_scope',
      /exceeds/,
    );
  });
});

describe('token service: signing key rotation', () => {
  const k1 = { alg: 'HS256', secret: HS_SECRET, kid: 'k1' } as const;
  const k2 = { alg: 'ES256', privateKeyPem: pem('ec'), kid: 'k2' } as const;

  it('verifies tokens of a previous key while signing new ones with the current key', async () => {
    const before = fixture({ signingKey: k1 });
    const old = (await before.service.issue(SERVICE_PRINCIPAL)).access_token;
    // The same store: one deployment whose configuration moved on to k2.
    const after = fixture({ signingKey: k2, previousKeys: [k1] });
    expect((await after.verify(old)).type).toBe('authenticated');
    const fresh = (await after.service.issue(SERVICE_PRINCIPAL)).access_token;
    expect(decodeProtectedHeader(fresh)).toMatchObject({ alg: 'ES256', kid: 'k2' });
    expect((await after.verify(fresh)).type).toBe('authenticated');
    // Once k1 is dropped, its tokens are refused; a token naming no known kid is too.
    const retired = fixture({ signingKey: k2 });
    expect(reasonOf(await retired.verify(old))).toBe('no key matches the token');
    expect(reasonOf(await before.verify(fresh))).toBe('no key matches the token');
  });

  it('a previous kid does not let a token switch to another algorithm or key', async () => {
    const { service } = fixture({ signingKey: k1 });
    const old = (await service.issue(SERVICE_PRINCIPAL)).access_token;
    const after = fixture({ signingKey: k2, previousKeys: [k1] });
    // k1's token relabelled k2: the k2 key (ES256) cannot verify an HS256 signature.
    const [header = '', rest = ''] = [old.slice(0, old.indexOf('.')), old.slice(old.indexOf('.'))];
    const parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as object;
    const relabelled = `${Buffer.from(JSON.stringify({ ...parsed, kid: 'k2' })).toString('base64url')}${rest}`;
    expect(reasonOf(await after.verify(relabelled))).toBe('token algorithm not allowed');
  });

  it('refuses two keys with one kid', () => {
    expect(() => fixture({ signingKey: k1, previousKeys: [{ ...k2, kid: 'k1' }] })).toThrow(
      /distinct kids/,
    );
  });
});

describe('token service: grant lifetime', () => {
  it('rotation never carries a grant past grantTtlSec; then the client must authenticate', async () => {
    const { service, verify, clock } = fixture({ refreshTtlSec: 60, grantTtlSec: 100 });
    let tokens = await service.issue(SERVICE_PRINCIPAL);
    // Refreshing every 40 s would keep a grant alive forever without the absolute end.
    clock.ms = START_MS + 40_000;
    tokens = await service.refresh(tokens.refresh_token);
    clock.ms = START_MS + 80_000;
    tokens = await service.refresh(tokens.refresh_token);
    expect((await verify(tokens.access_token)).type).toBe('authenticated');
    // This refresh token was capped at the grant's end (START + 100 s), not 80 + 60 s.
    clock.ms = START_MS + 100_000;
    await expectGrantError(
      service.refresh(tokens.refresh_token),
      'invalid_grant',
      /invalid or expired/,
    );
    // A new grant starts a new lifetime.
    const again = await service.issue(SERVICE_PRINCIPAL);
    expect((await verify(again.access_token)).type).toBe('authenticated');
  });

  it('defaults to 30 days, or refreshTtlSec when that is longer', async () => {
    const month = fixture();
    let tokens = await month.service.issue(SERVICE_PRINCIPAL);
    // Refreshed twice a day, well within the 1-day refresh token lifetime.
    for (let halfDay = 1; halfDay < 60; halfDay++) {
      month.clock.ms = START_MS + halfDay * 43_200_000;
      tokens = await month.service.refresh(tokens.refresh_token);
    }
    month.clock.ms = START_MS + 30 * 86_400_000;
    await expectGrantError(
      month.service.refresh(tokens.refresh_token),
      'invalid_grant',
      /invalid or expired/,
    );
    const long = fixture({ refreshTtlSec: 90 * 86_400 });
    const first = await long.service.issue(SERVICE_PRINCIPAL);
    long.clock.ms = START_MS + 89 * 86_400_000;
    expect((await long.service.refresh(first.refresh_token)).access_token).toBeTruthy();
  });
});

describe('token service: refresh and revocation', () => {
  it('rotates the refresh token: the old one is refused, the new one works', async () => {
    const { service, verify } = fixture();
    const first = await service.issue(SERVICE_PRINCIPAL);
    const second = await service.refresh(first.refresh_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.access_token)['fam']).toBe(decodeJwt(first.access_token)['fam']);
    expect((await verify(second.access_token)).type).toBe('authenticated');
    const third = await service.refresh(second.refresh_token);
    expect((await verify(third.access_token)).type).toBe('authenticated');
  });

  it('reuse of a rotated refresh token revokes the whole family', async () => {
    const { service, verify } = fixture();
    const bystander = await service.issue(SERVICE_PRINCIPAL);
    const first = await service.issue(SERVICE_PRINCIPAL);
    const second = await service.refresh(first.refresh_token);
    await expectGrantError(service.refresh(first.refresh_token), 'invalid_grant', /already used/);
    expect(reasonOf(await verify(second.access_token))).toBe('token revoked');
    expect(reasonOf(await verify(first.access_token))).toBe('token revoked');
    await expectGrantError(service.refresh(second.refresh_token), 'invalid_grant', /revoked/);
    // Another grant of the same principal is untouched.
    expect((await verify(bystander.access_token)).type).toBe('authenticated');
    expect((await service.refresh(bystander.refresh_token)).token_type).toBe('Bearer');
  });

  it('two concurrent refreshes of one token leave no usable grant behind', async () => {
    const { service, verify } = fixture();
    const { refresh_token, access_token } = await service.issue(SERVICE_PRINCIPAL);
    const results = await Promise.allSettled([
      service.refresh(refresh_token),
      service.refresh(refresh_token),
    ]);
    // At most one consume wins; the other is reuse and revokes the whole family.
    expect(results.filter((r) => r.status === 'rejected')).not.toHaveLength(0);
    for (const r of results) {
      if (r.status !== 'fulfilled') continue;
      expect(reasonOf(await verify(r.value.access_token))).toBe('token revoked');
      await expectGrantError(service.refresh(r.value.refresh_token), 'invalid_grant', /revoked/);
    }
    expect(reasonOf(await verify(access_token))).toBe('token revoked');
  });

  it('refuses malformed, unknown, wrong-secret and expired refresh tokens', async () => {
    const { service, clock } = fixture({ refreshTtlSec: 600 });
    await expectGrantError(service.refresh('nope'), 'invalid_grant', /malformed/);
    const unknown = `${'a'.repeat(22)}.${'b'.repeat(43)}`;
    await expectGrantError(service.refresh(unknown), 'invalid_grant', /invalid or expired/);
    const { refresh_token } = await service.issue(SERVICE_PRINCIPAL);
    const [jti] = refresh_token.split('.');
    // The right jti with a wrong secret neither works nor burns the real token.
    await expectGrantError(
      service.refresh(`${jti}.${'c'.repeat(43)}`),
      'invalid_grant',
      /invalid or expired/,
    );
    const next = await service.refresh(refresh_token);
    clock.ms += 600 * 1000;
    await expectGrantError(service.refresh(next.refresh_token), 'invalid_grant', /invalid/);
  });

  it('revoking an access token refuses it; its grant lives on; the entry expires', async () => {
    const { service, verify, store, clock } = fixture({ clockToleranceSec: 5 });
    const tokens = await service.issue(SERVICE_PRINCIPAL);
    await service.revoke(tokens.access_token);
    expect(reasonOf(await verify(tokens.access_token))).toBe('token revoked');
    const next = await service.refresh(tokens.refresh_token);
    expect((await verify(next.access_token)).type).toBe('authenticated');
    const jti = decodeJwt(tokens.access_token).jti ?? '';
    expect(await store.isRevoked({ jti })).toBe(true);
    clock.ms = START_MS + (300 + 5) * 1000;
    expect(await store.isRevoked({ jti })).toBe(false);
  });

  it('revoking a refresh token ends its grant, access tokens included', async () => {
    const { service, verify } = fixture();
    const tokens = await service.issue(SERVICE_PRINCIPAL);
    await service.revoke(tokens.refresh_token);
    expect(reasonOf(await verify(tokens.access_token))).toBe('token revoked');
    await expectGrantError(service.refresh(tokens.refresh_token), 'invalid_grant', /revoked/);
  });

  it('describes an accepted token for open connections: exp, jti and grant, a store re-check', async () => {
    const { service, verify } = fixture();
    const tokens = await service.issue(SERVICE_PRINCIPAL);
    const { jti, fam } = decodeJwt(tokens.access_token) as { jti: string; fam: string };
    const result = await verify(tokens.access_token);
    const credential = result.type === 'authenticated' ? result.credential : undefined;
    expect(credential).toMatchObject({
      key: `token:${jti}`,
      // The token's own exp: the clock tolerance does not extend an open connection.
      expiresAt: START_MS + 300 * 1000,
      revocationIds: [`token:${jti}`, `grant:${fam}`],
    });
    expect(JSON.stringify(credential)).not.toContain(tokens.access_token);
    expect(await credential?.isRevoked?.()).toBe(false);
    await service.revoke(tokens.refresh_token);
    expect(await credential?.isRevoked?.()).toBe(true);
  });

  it('announces every stored revocation by its non-secret ids', async () => {
    const announced: (readonly string[])[] = [];
    const { service } = fixture({ onRevoked: (ids) => void announced.push(ids) });
    const one = await service.issue(SERVICE_PRINCIPAL);
    const { jti, fam } = decodeJwt(one.access_token) as { jti: string; fam: string };
    await service.revoke(one.access_token);
    await service.revoke(one.refresh_token);
    expect(announced).toEqual([[`token:${jti}`], [`grant:${fam}`]]);
    // Reuse of a rotated refresh token revokes its grant: announced too.
    const two = await service.issue(SERVICE_PRINCIPAL);
    const fam2 = decodeJwt(two.access_token)['fam'];
    await service.refresh(two.refresh_token);
    await expectGrantError(service.refresh(two.refresh_token), 'invalid_grant', /already used/);
    expect(announced.at(-1)).toEqual([`grant:${String(fam2)}`]);
    // Unknown tokens announce nothing; a failing listener never fails the revocation.
    const count = announced.length;
    await service.revoke('garbage');
    expect(announced).toHaveLength(count);
    const throwing = fixture({
      onRevoked: () => {
        throw new Error('bus down');
      },
    });
    const three = await throwing.service.issue(SERVICE_PRINCIPAL);
    await expect(throwing.service.revoke(three.access_token)).resolves.toBeUndefined();
    expect(reasonOf(await throwing.verify(three.access_token))).toBe('token revoked');
  });

  it('revoke ignores what it does not know', async () => {
    const { service, verify } = fixture();
    const tokens = await service.issue(SERVICE_PRINCIPAL);
    const other = fixture({ issuer: 'https://auth.other.example' });
    const foreign = (await other.service.issue(SERVICE_PRINCIPAL)).access_token;
    for (const token of ['garbage', `${'a'.repeat(22)}.${'b'.repeat(43)}`, foreign, 'a.b.c']) {
      await expect(service.revoke(token)).resolves.toBeUndefined();
    }
    expect((await verify(tokens.access_token)).type).toBe('authenticated');
    expect((await service.refresh(tokens.refresh_token)).token_type).toBe('Bearer');
  });

  it('a store that cannot answer is a server fault, not a 401', async () => {
    const { service } = fixture();
    const { access_token } = await service.issue(SERVICE_PRINCIPAL);
    const broken: TokenStore = {
      saveRefresh: () => Promise.resolve(),
      consumeRefresh: () => Promise.resolve({ status: 'unknown' }),
      revokeFamily: () => Promise.resolve(),
      revokeAccess: () => Promise.resolve(),
      isRevoked: () => Promise.reject(new Error('connection lost')),
    };
    const verifier = fixture({ store: broken, now: () => START_MS }).service.verifier();
    const err: unknown = await verifier.authenticate(bearer(access_token)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthnError);
    expect((err as AuthnError).kind).toBe('keys_unavailable');
  });
});

describe('token service: principal namespaces', () => {
  /** An access token of ours for `sub`, as the service minted them before namespacing. */
  async function legacyToken(sub: string): Promise<string> {
    return new SignJWT({ roles: ['tools:read'], kind: 'service', fam: 'fam-legacy' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(sub)
      .setIssuedAt(START_MS / 1000)
      .setExpirationTime(START_MS / 1000 + 60)
      .setJti('jti-legacy')
      .sign(new TextEncoder().encode(HS_SECRET));
  }

  it('carries the namespaced id of the principal it was issued to as sub, verbatim', async () => {
    const { service, verify } = fixture();
    for (const id of ['basic:alice', 'apikey:ci-bot', 'static:ops', 'jwt:https://idp#x']) {
      const { access_token } = await service.issue({ id, kind: 'service', roles: [] });
      expect(decodeJwt(access_token).sub).toBe(id);
      const result = await verify(access_token);
      expect(result.type === 'authenticated' && result.principal.id).toBe(id);
    }
  });

  it('refuses a token of ours whose sub names no provider (minted before namespacing)', async () => {
    const { verify } = fixture();
    expect(reasonOf(await verify(await legacyToken('basic:svc-reporter')))).toBe('<authenticated>');
    for (const sub of ['svc-reporter', 'anonymous', 'cert:alice', 'jwt:no-subject']) {
      expect(reasonOf(await verify(await legacyToken(sub)))).toBe(
        'token claim check failed: sub (names no provider; request a new token)',
      );
    }
  });

  it('issues no token for a principal id without a namespace', async () => {
    const { service } = fixture();
    const err: unknown = await service
      .issue({ id: 'svc-reporter', kind: 'service', roles: [] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthnError);
    expect((err as AuthnError).message).toMatch(/without a provider namespace/);
  });

  it('a grant from before namespacing does not rotate: invalid_grant, authenticate again', async () => {
    const { service, store, clock } = fixture();
    const jti = 'j'.repeat(22);
    const secret = 's'.repeat(43);
    await store.saveRefresh(jti, {
      principal: { id: 'svc-reporter', kind: 'service', roles: ['tools:read'] },
      familyId: 'fam-legacy',
      expiresAt: clock.ms + 60_000,
      grantExpiresAt: clock.ms + 60_000,
      secretHash: createHash('sha256').update(secret, 'utf8').digest('base64url'),
    });
    await expectGrantError(
      service.refresh(`${jti}.${secret}`),
      'invalid_grant',
      /predates principal namespaces/,
    );
  });
});

describe('token service: configuration', () => {
  const base: TokenServiceOptions = {
    issuer: ISSUER,
    audience: AUDIENCE,
    signingKey: { alg: 'HS256', secret: HS_SECRET, kid: 'k1' },
    store: new MemoryTokenStore(),
    authenticate,
  };
  const configError = (options: Partial<TokenServiceOptions>): AuthnError => {
    try {
      createTokenService({ ...base, ...options });
    } catch (err) {
      if (err instanceof AuthnError) return err;
      throw err;
    }
    throw new Error('expected a configuration error');
  };

  it('refuses weak or mismatched keys without echoing the secret', () => {
    const short = configError({ signingKey: { alg: 'HS256', secret: 'short-secret', kid: 'k' } });
    expect(short.kind).toBe('config');
    expect(short.message).not.toContain('short-secret');
    expect(
      configError({ signingKey: { alg: 'ES256', privateKeyPem: pem('rsa'), kid: 'k' } }).message,
    ).toMatch(/does not fit ES256/);
    expect(
      configError({ signingKey: { alg: 'RS256', privateKeyPem: 'not a pem', kid: 'k' } }).message,
    ).toMatch(/not a readable private key/);
    expect(
      configError({ signingKey: { alg: 'ES256', secret: HS_SECRET, kid: 'k' } }).message,
    ).toMatch(/not a secret/);
    expect(
      configError({ signingKey: { alg: 'HS256', secret: HS_SECRET, kid: '' } }).message,
    ).toMatch(/kid/);
  });

  it('refuses empty issuer/audience, out-of-range lifetimes and unknown grants', () => {
    expect(configError({ issuer: '' }).message).toMatch(/issuer/);
    expect(configError({ audience: [] }).message).toMatch(/audience/);
    expect(configError({ accessTtlSec: 0 }).message).toMatch(/accessTtlSec/);
    expect(configError({ refreshTtlSec: 1.5 }).message).toMatch(/refreshTtlSec/);
    expect(configError({ clockToleranceSec: -1 }).message).toMatch(/clockToleranceSec/);
    expect(configError({ grantTypes: ['implicit' as never] }).message).toMatch(/grant type/);
  });
});
