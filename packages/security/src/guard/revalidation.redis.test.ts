/**
 * Two nodes sharing Redis (a cluster's gateways, without the processes): a revocation made
 * at one reaches the connections the other holds, by event or by the periodic re-check.
 */
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import type { Admission, AdmittedCredential, CredentialEnd } from '@mcp-cluster/transports';
import { Fastify } from '@mcp-cluster/transports';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgePrefix, testKeyPrefix, testRedisUrl } from '@mcp-cluster/test-support';
import { hashPassword } from '../authn/password.js';
import { RedisApiKeyStore } from '../apikeys/redis-store.js';
import { createSecurity } from '../build.js';
import type { Security } from '../build.js';
import { AuthConfigSchema } from '../config.js';
import type { AuthConfigInput } from '../config.js';
import { securityKeys } from '../stores/keys.js';
import type { RevocationChannel } from './revalidation.js';

const PASSWORD = 'revalidation-password-0123';
const RESOURCE = 'https://mcp.example/mcp';
const prefix = testKeyPrefix();
let redis: Redis;
let config: AuthConfigInput;

beforeAll(async () => {
  redis = new Redis(testRedisUrl());
  config = {
    apiKeys: { enabled: true },
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
      signingKey: { alg: 'HS256', secret: 'revalidation-token-secret-0123456789abc', kid: 't' },
    },
  };
});
afterAll(async () => {
  await purgePrefix(redis, prefix);
  redis.disconnect();
});

async function node(extra: AuthConfigInput, revocations?: RevocationChannel): Promise<Security> {
  return createSecurity(AuthConfigSchema.parse({ ...config, ...extra }), {
    mode: 'cluster',
    redisUrl: testRedisUrl(),
    prefix,
    path: '/mcp',
    writeAudit: () => undefined,
    revocations,
  });
}

async function admit(security: Security, authorization: string): Promise<AdmittedCredential> {
  const admitted: Admission | undefined = await security.guard?.admit({
    method: 'GET',
    url: '/ws',
    headers: { authorization },
    remoteAddress: '10.9.0.1',
    socket: {} as Socket,
  });
  if (admitted?.ok !== true || admitted.credential === undefined) {
    throw new Error('expected a followable credential');
  }
  return admitted.credential;
}

const watched = (c: AdmittedCredential): Promise<CredentialEnd> =>
  new Promise((resolve) => c.watch(resolve));

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('revalidation across nodes sharing Redis', () => {
  it("another node's revocation reaches this node's connections by event, at once", async () => {
    let deliver: ((ids: readonly string[]) => void) | undefined;
    // A long period: only the event can end the connection within the test.
    const a = await node(
      { revalidateStreamsMs: 60_000 },
      {
        publish: () => undefined,
        subscribe: (on) => {
          deliver = on;
          return Promise.resolve({ unsubscribe: () => Promise.resolve() });
        },
      },
    );
    const b = await node({});
    const app = Fastify();
    try {
      await b.registerRoutes(app);
      const issued = await app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: {
          ...form,
          authorization: `Basic ${Buffer.from(`bob:${PASSWORD}`).toString('base64')}`,
        },
        payload: 'grant_type=client_credentials',
      });
      const { access_token: token, refresh_token: refresh } = issued.json<{
        access_token: string;
        refresh_token: string;
      }>();
      const credential = await admit(a, `Bearer ${token}`);
      const ended = watched(credential);
      // Revoked at b (its grant, through the refresh token): a does not know yet.
      await app.inject({
        method: 'POST',
        url: '/oauth/revoke',
        headers: form,
        payload: `token=${refresh}`,
      });
      expect(credential.current()).toBe('valid');
      const fam = String(decodeJwt(token)['fam']);
      deliver?.([`grant:${fam}`]);
      expect(await ended).toBe('revoked');
      expect(credential.current()).toBe('revoked');
    } finally {
      await app.close();
      await b.close();
      await a.close();
    }
  });

  it('an API key revoked straight in the store (the CLI) ends connections at the next re-check', async () => {
    const a = await node({ revalidateStreamsMs: 100 });
    try {
      const store = new RedisApiKeyStore(redis, securityKeys(prefix));
      const { key, record } = await store.create({ principal: 'ci', roles: ['reader'] });
      const credential = await admit(a, `Bearer ${key}`);
      const ended = watched(credential);
      expect(await store.revoke(record.id)).toBe(true);
      expect(await ended).toBe('revoked');
      // Found revoked: this node's requests are refused at once (its key cache is dropped).
      const again = await a.guard?.admit({
        method: 'POST',
        url: '/mcp',
        headers: { authorization: `Bearer ${key}` },
        remoteAddress: '10.9.0.2',
        socket: {} as Socket,
      });
      expect(again?.ok).toBe(false);
    } finally {
      await a.close();
    }
  });
});
