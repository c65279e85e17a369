import { decodeJwt } from 'jose';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { type SecurityKeys, securityKeys } from '../stores/keys.js';
import { TokenError } from './errors.js';
import { createTokenService, FAMILY_REVOCATION_SLACK_SEC, type TokenService } from './service.js';
import { RedisTokenStore } from './store.js';
import { describeTokenStoreContract } from './store.testkit.js';
import {
  authenticate,
  AUDIENCE,
  bearer,
  HS_SECRET,
  ISSUER,
  reasonOf,
  SERVICE_PRINCIPAL,
} from './tokens.testkit.js';
import {
  testRedisUrl as redisUrl,
  testKeyPrefix as testPrefix,
  purgePrefix as purge,
} from '@mcp-cluster/test-support';

describeTokenStoreContract('redis', () => {
  const redis = new Redis(redisUrl());
  const keys = securityKeys(testPrefix());
  return Promise.resolve({
    store: new RedisTokenStore(redis, keys),
    now: Date.now,
    close: async () => {
      await purge(redis, keys.prefix);
      await redis.quit();
    },
  });
});

const ACCESS_TTL_SEC = 300;
const REFRESH_TTL_SEC = 3_600;

/** One "gateway": its own connection, store and service, sharing the key and the prefix. */
function gateway(redis: Redis, keys: SecurityKeys): TokenService {
  return createTokenService({
    issuer: ISSUER,
    audience: AUDIENCE,
    signingKey: { alg: 'HS256', secret: HS_SECRET, kid: 'k1' },
    accessTtlSec: ACCESS_TTL_SEC,
    refreshTtlSec: REFRESH_TTL_SEC,
    store: new RedisTokenStore(redis, keys),
    authenticate,
  });
}

async function grantError(promise: Promise<unknown>): Promise<TokenError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof TokenError)) throw new Error('expected a TokenError');
  return err;
}

describe('token service across two gateways (Redis)', () => {
  let a: Redis;
  let b: Redis;
  let keys: SecurityKeys;
  let g1: TokenService;
  let g2: TokenService;
  const verify = (g: TokenService, token: string) => g.verifier().authenticate(bearer(token));

  beforeAll(() => {
    a = new Redis(redisUrl());
    b = new Redis(redisUrl());
  });
  beforeEach(() => {
    keys = securityKeys(testPrefix());
    g1 = gateway(a, keys);
    g2 = gateway(b, keys);
  });
  afterEach(async () => {
    await purge(a, keys.prefix);
  });
  afterAll(async () => {
    await a.quit();
    await b.quit();
  });

  it('a refresh token rotated on one gateway is refused on the other (and the reuse revokes the grant there too)', async () => {
    const first = await g1.issue(SERVICE_PRINCIPAL);
    const second = await g1.refresh(first.refresh_token);
    expect((await verify(g2, second.access_token)).type).toBe('authenticated');
    const reused = await grantError(g2.refresh(first.refresh_token));
    expect(reused.code).toBe('invalid_grant');
    expect(reused.message).toMatch(/already used/);
    expect(reasonOf(await verify(g1, second.access_token))).toBe('token revoked');
    expect(reasonOf(await verify(g2, second.access_token))).toBe('token revoked');
    expect((await grantError(g1.refresh(second.refresh_token))).message).toMatch(/revoked/);
  });

  it('a refresh token issued on one gateway rotates on the other', async () => {
    const first = await g1.issue(SERVICE_PRINCIPAL);
    const second = await g2.refresh(first.refresh_token);
    expect((await verify(g1, second.access_token)).type).toBe('authenticated');
    expect((await g1.refresh(second.refresh_token)).token_type).toBe('Bearer');
  });

  it('racing refreshes of one token on two gateways leave no usable grant behind', async () => {
    const first = await g1.issue(SERVICE_PRINCIPAL);
    const results = await Promise.allSettled([
      g1.refresh(first.refresh_token),
      g2.refresh(first.refresh_token),
    ]);
    // One consume wins, the other is reuse and revokes the family; depending on the
    // interleaving the winner sees that revocation itself or hands out revoked tokens.
    expect(results.filter((r) => r.status === 'rejected')).not.toHaveLength(0);
    for (const r of results) {
      if (r.status !== 'fulfilled') continue;
      expect(reasonOf(await verify(g2, r.value.access_token))).toBe('token revoked');
      expect((await grantError(g1.refresh(r.value.refresh_token))).code).toBe('invalid_grant');
    }
    expect(reasonOf(await verify(g1, first.access_token))).toBe('token revoked');
  });

  it('a refresh token revoked on one gateway is refused on the other', async () => {
    const tokens = await g1.issue(SERVICE_PRINCIPAL);
    await g2.revoke(tokens.refresh_token);
    expect((await grantError(g1.refresh(tokens.refresh_token))).code).toBe('invalid_grant');
    expect(reasonOf(await verify(g1, tokens.access_token))).toBe('token revoked');
  });

  it('an access token revoked on one gateway is refused on the other', async () => {
    const tokens = await g1.issue(SERVICE_PRINCIPAL);
    const other = await g1.issue(SERVICE_PRINCIPAL);
    expect((await verify(g2, tokens.access_token)).type).toBe('authenticated');
    await g1.revoke(tokens.access_token);
    expect(reasonOf(await verify(g2, tokens.access_token))).toBe('token revoked');
    expect((await verify(g2, other.access_token)).type).toBe('authenticated');
  });

  it('a later, shorter revocation never cuts an earlier one short', async () => {
    const store = new RedisTokenStore(b, keys);
    await store.revokeAccess('j1', Date.now() + 60_000);
    await store.revokeAccess('j1', Date.now() + 1_000);
    expect(await a.pttl(keys.revokedToken('j1'))).toBeGreaterThan(30_000);
    await store.revokeFamily('f1', Date.now() + 1_000);
    await store.revokeFamily('f1', Date.now() + 60_000);
    expect(await a.pttl(keys.revokedFamily('f1'))).toBeGreaterThan(30_000);
  });

  it('every key carries a TTL bounded by the lifetime of what it is about', async () => {
    const tokens = await g1.issue(SERVICE_PRINCIPAL);
    const [jti = ''] = tokens.refresh_token.split('.');
    const refreshTtl = await a.pttl(keys.refreshToken(jti));
    expect(refreshTtl).toBeGreaterThan(0);
    expect(refreshTtl).toBeLessThanOrEqual(REFRESH_TTL_SEC * 1000);
    // Stored hashed: the secret part of the token is nowhere in Redis.
    const [, secret = ''] = tokens.refresh_token.split('.');
    expect(JSON.stringify(await a.hgetall(keys.refreshToken(jti)))).not.toContain(secret);

    await g2.refresh(tokens.refresh_token);
    expect(await a.exists(keys.refreshToken(jti))).toBe(0);
    const usedTtl = await a.pttl(keys.refreshUsed(jti));
    expect(usedTtl).toBeGreaterThan(0);
    expect(usedTtl).toBeLessThanOrEqual(refreshTtl);

    await g1.revoke(tokens.access_token);
    const access = decodeJwt(tokens.access_token);
    const revokedTtl = await a.pttl(keys.revokedToken(access.jti ?? ''));
    expect(revokedTtl).toBeGreaterThan(0);
    expect(revokedTtl).toBeLessThanOrEqual((ACCESS_TTL_SEC + 5) * 1000);

    await g1.refresh(tokens.refresh_token).catch(() => undefined);
    const familyTtl = await a.pttl(keys.revokedFamily(String(access['fam'])));
    expect(familyTtl).toBeGreaterThan(0);
    expect(familyTtl).toBeGreaterThan(REFRESH_TTL_SEC * 1000);
    expect(familyTtl).toBeLessThanOrEqual((REFRESH_TTL_SEC + FAMILY_REVOCATION_SLACK_SEC) * 1000);
  });
});
