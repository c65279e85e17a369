import { describe, expect, it } from 'vitest';
import { basicProvider } from './authn/basic.js';
import { chainProviders } from './authn/chain.js';
import { hashPassword } from './authn/password.js';
import { staticTokenProvider } from './authn/static-token.js';
import type { AuthRequest } from './authn/types.js';
import { AuthConfigSchema } from './config.js';
import type { AuthConfigInput } from './config.js';
import { principalId, principalReferenceProblem, providerOf } from './principal-ids.js';

describe('principal ids', () => {
  it('builds one namespace per provider', () => {
    expect(principalId.static('ops')).toBe('static:ops');
    expect(principalId.basic('ops')).toBe('basic:ops');
    expect(principalId.apiKey('ops')).toBe('apikey:ops');
    expect(principalId.jwt('https://idp.example', 'ops')).toBe('jwt:https://idp.example#ops');
    expect(principalId.mtls('ops')).toBe('mtls:ops');
    expect(principalId.mtlsCommonName('ops')).toBe('mtls:cn:ops');
  });

  it('tells the provider of an id; bare ids and anonymous have none', () => {
    const cases: [string, string | undefined][] = [
      ['static:ops', 'static'],
      ['static:a:b', 'static'],
      ['basic:alice', 'basic'],
      ['apikey:ci-bot', 'apikey'],
      ['jwt:https://idp.example#ops', 'jwt'],
      ['jwt:https://idp.example#a#b', 'jwt'],
      ['mtls:worker-1', 'mtls'],
      ['mtls:cn:alice', 'mtls'],
      ['ops', undefined],
      ['anonymous', undefined],
      ['static:', undefined],
      [':ops', undefined],
      ['cert:alice', undefined],
      ['jwt:ops', undefined],
      ['jwt:#ops', undefined],
      ['jwt:https://idp.example#', undefined],
      ['mtls:cn:', undefined],
      ['STATIC:ops', undefined],
    ];
    for (const [id, provider] of cases)
      expect({ id, provider: providerOf(id) }).toEqual({ id, provider });
  });

  it('names the spellings a bare configuration reference may mean', () => {
    expect(principalReferenceProblem('static:burst')).toBeUndefined();
    expect(principalReferenceProblem('anonymous')).toBeUndefined();
    expect(principalReferenceProblem('burst')).toBe(
      '"burst" names no provider: write "static:burst", "basic:burst", "apikey:burst", "jwt:<issuer>#burst" or "mtls:burst"',
    );
    expect(principalReferenceProblem('burst', 'https://idp.example')).toContain(
      '"jwt:https://idp.example#burst"',
    );
    expect(principalReferenceProblem('cert:alice')).toBe(
      '"cert:alice" names no provider: write "mtls:cn:alice"',
    );
    expect(principalReferenceProblem('jwt:ops')).toContain('"jwt:<issuer>#ops"');
  });

  it('keeps a static token principal and a Basic user of the same name apart', async () => {
    const chain = chainProviders([
      staticTokenProvider({
        tokens: [
          {
            token: 'static-ops-token-0123456789',
            principal: { id: 'ops', kind: 'service', roles: [] },
          },
        ],
      }),
      basicProvider({
        users: [
          { username: 'ops', hash: await hashPassword('pw', { N: 1024, r: 8, p: 1 }), roles: [] },
        ],
      }),
    ]);
    const idOf = async (authorization: string): Promise<string | undefined> => {
      const req: AuthRequest = { headers: { authorization } };
      const r = await chain.authenticate(req);
      return r.type === 'authenticated' ? r.principal.id : undefined;
    };
    expect(await idOf('Bearer static-ops-token-0123456789')).toBe('static:ops');
    expect(await idOf(`Basic ${Buffer.from('ops:pw').toString('base64')}`)).toBe('basic:ops');
  });
});

describe('configuration names principals by namespaced id', () => {
  const issues = (input: AuthConfigInput): string[] => {
    const parsed = AuthConfigSchema.safeParse(input);
    return parsed.success
      ? []
      : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  const bucket = { capacity: 1, refillPerSecond: 1 };
  const key = { id: 'k1', secret: 's'.repeat(32) };

  it('accepts namespaced ids and anonymous everywhere', () => {
    expect(
      issues({
        authz: {
          policies: [
            {
              type: 'rate',
              capacity: 1,
              refillPerSecond: 1,
              principals: ['static:burst', 'anonymous'],
            },
          ],
        },
        signing: { clients: [{ principal: 'basic:signer', keys: [key] }] },
        rateLimit: { principals: { 'jwt:https://idp.example#ci': bucket, 'apikey:ci': bucket } },
        mtls: { subjects: [{ match: { CN: 'w' }, principal: { id: 'worker' } }] },
      }),
    ).toEqual([]);
  });

  it('refuses bare names with a message naming the new spellings, at their exact place', () => {
    expect(
      issues({
        jwt: {
          issuer: 'https://idp.example',
          keys: [{ type: 'jwk', jwk: {} }],
          algorithms: ['ES256'],
        },
        authz: {
          policies: [
            { type: 'rate', capacity: 1, refillPerSecond: 1, principals: ['static:ok', 'burst'] },
          ],
        },
        signing: { clients: [{ principal: 'signer', keys: [key] }] },
        rateLimit: { principals: { 'flood-ws': bucket, 'cert:edge': bucket } },
      }),
    ).toEqual([
      'authz.policies.0.principals.1: "burst" names no provider: write "static:burst", "basic:burst", "apikey:burst", "jwt:https://idp.example#burst" or "mtls:burst"',
      'signing.clients.0.principal: "signer" names no provider: write "static:signer", "basic:signer", "apikey:signer", "jwt:https://idp.example#signer" or "mtls:signer"',
      'rateLimit.principals.flood-ws: "flood-ws" names no provider: write "static:flood-ws", "basic:flood-ws", "apikey:flood-ws", "jwt:https://idp.example#flood-ws" or "mtls:flood-ws"',
      'rateLimit.principals.cert:edge: "cert:edge" names no provider: write "mtls:cn:edge"',
    ]);
  });

  it('refuses an mTLS rule id in the CN namespace and a JWT issuer with "#"', () => {
    expect(
      issues({ mtls: { subjects: [{ match: { CN: 'w' }, principal: { id: 'cn:alice' } }] } }),
    ).toEqual([
      'mtls.subjects.0.principal.id: must not start with "cn:" (mtls:cn:<CN> names fromCommonName principals)',
    ]);
    expect(
      issues({
        jwt: {
          issuer: 'https://idp.example/#x',
          keys: [{ type: 'jwk', jwk: {} }],
          algorithms: ['ES256'],
        },
      }),
    ).toEqual(['jwt.issuer: an issuer identifier has no "#"']);
  });
});
