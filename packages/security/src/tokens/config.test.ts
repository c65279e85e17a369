import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { AuthnError } from '../authn/errors.js';
import { tokenServiceOptions, TokenServiceConfigSchema } from './config.js';
import { createTokenService } from './service.js';
import { MemoryTokenStore } from './store.js';
import { authenticate, fixture, HS_SECRET, SERVICE_PRINCIPAL } from './tokens.testkit.js';

const BASE = { issuer: 'https://gw.example', audience: 'https://gw.example/mcp' };
const deps = { store: new MemoryTokenStore(), authenticate };

describe('TokenServiceConfigSchema', () => {
  it('fills in the defaults', () => {
    const config = TokenServiceConfigSchema.parse({
      ...BASE,
      signingKey: { alg: 'HS256', secret: HS_SECRET, kid: 'k1' },
    });
    expect(config).toMatchObject({
      accessTtlSec: 300,
      refreshTtlSec: 86_400,
      clockToleranceSec: 5,
      grantTypes: ['client_credentials', 'refresh_token'],
    });
  });

  it.each([
    ['a short HMAC secret', { alg: 'HS256', secret: 'too-short', kid: 'k' }],
    ['a PEM for HMAC', { alg: 'HS512', secret: HS_SECRET, privateKeyPem: 'x', kid: 'k' }],
    ['neither PEM nor path', { alg: 'ES256', kid: 'k' }],
    ['both PEM and path', { alg: 'ES256', privateKeyPem: 'x', privateKeyPath: '/x', kid: 'k' }],
    ['an unknown algorithm', { alg: 'none', secret: HS_SECRET, kid: 'k' }],
    ['no kid', { alg: 'HS256', secret: HS_SECRET }],
  ])('refuses %s', (_name, signingKey) => {
    expect(TokenServiceConfigSchema.safeParse({ ...BASE, signingKey }).success).toBe(false);
  });

  it('refuses unknown fields and out-of-range lifetimes', () => {
    const signingKey = { alg: 'HS256', secret: HS_SECRET, kid: 'k' };
    for (const extra of [
      { surprise: 1 },
      { accessTtlSec: 0 },
      { refreshTtlSec: 1.5 },
      { grantTypes: [] },
    ]) {
      expect(TokenServiceConfigSchema.safeParse({ ...BASE, signingKey, ...extra }).success).toBe(
        false,
      );
    }
  });

  it('passes previous keys and the grant lifetime on to the service', async () => {
    const old = { alg: 'HS256', secret: HS_SECRET, kid: 'old' } as const;
    const config = TokenServiceConfigSchema.parse({
      ...BASE,
      signingKey: { alg: 'HS512', secret: `${HS_SECRET}-new`, kid: 'new' },
      previousKeys: [old],
      grantTtlSec: 3_600,
    });
    const options = await tokenServiceOptions(config, deps);
    expect(options).toMatchObject({ previousKeys: [old], grantTtlSec: 3_600 });
    const before = createTokenService({ ...options, signingKey: old, previousKeys: [] });
    const token = (await before.issue(SERVICE_PRINCIPAL)).access_token;
    const result = await createTokenService(options)
      .verifier()
      .authenticate({ headers: { authorization: `Bearer ${token}` } });
    expect(result.type).toBe('authenticated');
    expect(
      TokenServiceConfigSchema.safeParse({ ...BASE, signingKey: old, grantTtlSec: 0 }).success,
    ).toBe(false);
  });

  it('reads an asymmetric key from a PEM path into a working service', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const path = join(tmpdir(), `token-key-${randomUUID()}.pem`);
    await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    try {
      const config = TokenServiceConfigSchema.parse({
        ...BASE,
        accessTtlSec: 60,
        signingKey: { alg: 'ES256', privateKeyPath: path, kid: 'ec-1' },
      });
      const service = createTokenService(await tokenServiceOptions(config, deps));
      const { access_token, expires_in } = await service.issue(SERVICE_PRINCIPAL);
      expect(expires_in).toBe(60);
      const result = await service.verifier().authenticate({
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(result.type).toBe('authenticated');
      // The same configuration on another gateway verifies it too.
      const twin = createTokenService(await tokenServiceOptions(config, deps));
      const again = await twin.verifier().authenticate({
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(again.type).toBe('authenticated');
    } finally {
      await rm(path, { force: true });
    }
  });

  it('an unreadable key path is a configuration error', async () => {
    const config = TokenServiceConfigSchema.parse({
      ...BASE,
      signingKey: {
        alg: 'EdDSA',
        privateKeyPath: join(tmpdir(), `missing-${randomUUID()}`),
        kid: 'k',
      },
    });
    const err: unknown = await tokenServiceOptions(config, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthnError);
    expect((err as AuthnError).kind).toBe('config');
  });

  it('the HMAC configuration gives the same tokens as direct options', async () => {
    const config = TokenServiceConfigSchema.parse({
      ...BASE,
      signingKey: { alg: 'HS256', secret: HS_SECRET, kid: 'k1' },
    });
    const fromConfig = createTokenService(await tokenServiceOptions(config, deps));
    const direct = fixture({ issuer: BASE.issuer, audience: BASE.audience, now: Date.now });
    const { access_token } = await fromConfig.issue(SERVICE_PRINCIPAL);
    expect((await direct.verify(access_token)).type).toBe('authenticated');
  });
});
