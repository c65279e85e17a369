import { describe, expect, it } from 'vitest';
import { AuthnError } from './errors.js';
import { MTLS_CN_PRINCIPAL_PREFIX, mtlsProvider, type MtlsOptions } from './mtls.js';
import type { AuthRequest, TlsPeer } from './types.js';

const FP_A = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':');
const FP_B = Array.from({ length: 32 }, () => 'AB').join(':');

function peer(fields: Partial<TlsPeer> = {}): TlsPeer {
  return { authorized: true, fingerprint256: FP_A, ...fields };
}
const req = (tls?: TlsPeer): AuthRequest =>
  tls === undefined ? { headers: {} } : { headers: {}, tls };

const options: MtlsOptions = {
  subjects: [
    {
      match: { O: 'acme', OU: 'workers' },
      principal: { id: 'acme-workers', roles: ['worker'] },
    },
    { match: { CN: 'worker-1' }, principal: { id: 'worker-1', kind: 'user', roles: ['admin'] } },
    {
      match: { fingerprint256: FP_B.replace(/:/g, '').toLowerCase() },
      principal: { id: 'pin', roles: [] },
    },
    { match: { san: 'URI:spiffe://acme/reporter' }, principal: { id: 'reporter', roles: [] } },
    { match: { san: 'IP:2001:db8::1' }, principal: { id: 'v6', roles: [] } },
    { match: { san: 'IP Address:::ffff:10.0.0.1' }, principal: { id: 'mapped', roles: [] } },
    { match: { san: 'IP:10.0.0.1' }, principal: { id: 'v4', roles: [] } },
    { match: { san: 'DNS:Svc.Internal' }, principal: { id: 'svc', roles: [] } },
  ],
};
const provider = mtlsProvider(options);

async function idOf(tls: TlsPeer, p = provider): Promise<string | undefined> {
  const result = await p.authenticate(req(tls));
  return result.type === 'authenticated' ? result.principal.id : result.type;
}

describe('mtlsProvider', () => {
  it('skips without TLS or without a client certificate', async () => {
    expect(await provider.authenticate(req())).toEqual({ type: 'skip' });
    expect(
      await provider.authenticate(
        req({ authorized: false, authorizationError: 'UNABLE_TO_GET_ISSUER_CERT' }),
      ),
    ).toEqual({ type: 'skip' });
  });

  it('rejects 401 an untrusted certificate even when a rule would map it', async () => {
    const result = await provider.authenticate(
      req(peer({ authorized: false, subject: { CN: 'worker-1' } })),
    );
    expect(result).toEqual({
      type: 'rejected',
      status: 401,
      reason: 'client certificate not trusted',
    });
  });

  it('maps by attributes (all named must match), first rule winning, with claims', async () => {
    const subject = { O: 'acme', OU: 'workers', CN: 'worker-1' };
    const result = await provider.authenticate(req(peer({ subject })));
    expect(result).toEqual({
      type: 'authenticated',
      principal: {
        id: 'mtls:acme-workers',
        kind: 'service',
        roles: ['worker'],
        claims: { certSubject: subject, certFingerprint: FP_A },
      },
    });
    expect(Object.isFrozen(result.type === 'authenticated' && result.principal)).toBe(true);
    // O matches but OU differs: the first rule does not apply, the CN rule does.
    expect(await idOf(peer({ subject: { O: 'acme', OU: 'other', CN: 'worker-1' } }))).toBe(
      'mtls:worker-1',
    );
    expect(await idOf(peer({ subject: { CN: 'Worker-1' } }))).toBe('rejected');
  });

  it('never matches an attribute the certificate repeats', async () => {
    // tlsPeerOf joins repeated values with "+"; an escaped "\+" is one value containing "+".
    expect(await idOf(peer({ subject: { CN: 'worker-1+evil' } }))).toBe('rejected');
    expect(await idOf(peer({ subject: { O: 'acme', OU: 'workers+x' } }))).toBe('rejected');
    const plus = mtlsProvider({
      subjects: [{ match: { CN: 'a+b' }, principal: { id: 'ab', roles: [] } }],
    });
    expect(await idOf(peer({ subject: { CN: 'a\\+b' } }), plus)).toBe('mtls:ab');
    expect(await idOf(peer({ subject: { CN: 'a+b' } }), plus)).toBe('rejected');
  });

  it('maps by fingerprint in any notation', async () => {
    expect(await idOf(peer({ fingerprint256: FP_B }))).toBe('mtls:pin');
    expect(await idOf(peer({ fingerprint256: FP_B.toLowerCase() }))).toBe('mtls:pin');
  });

  it('maps by SAN: type-prefixed, DNS case-insensitive, IPv6 canonical', async () => {
    const san = (...names: string[]) => peer({ subjectAltNames: names });
    expect(await idOf(san('DNS:a.example', 'URI:spiffe://acme/reporter'))).toBe('mtls:reporter');
    expect(await idOf(san('URI:spiffe://acme/Reporter'))).toBe('rejected');
    expect(await idOf(san('DNS:svc.internal'))).toBe('mtls:svc');
    expect(await idOf(san('IP Address:2001:DB8:0:0:0:0:0:1'))).toBe('mtls:v6');
    expect(await idOf(san('IP Address:0:0:0:0:0:FFFF:A00:1'))).toBe('mtls:mapped');
    expect(await idOf(san('IP Address:10.0.0.1'))).toBe('mtls:v4');
    expect(await idOf(san('IP Address:10.0.0.10'))).toBe('rejected');
    // The same text under another type is another name.
    expect(await idOf(san('email:svc.internal', 'URI:DNS:svc.internal'))).toBe('rejected');
  });

  it('rejects 403 a trusted certificate that nothing maps', async () => {
    expect(await provider.authenticate(req(peer({ subject: { CN: 'stranger' } })))).toEqual({
      type: 'rejected',
      status: 403,
      reason: 'client certificate not mapped',
    });
  });

  it('falls back to mtls:cn:<CN> after the rules, refusing unusable CNs', async () => {
    const withCn = mtlsProvider({
      ...options,
      fromCommonName: { kind: 'user', roles: ['guest'] },
    });
    const result = await withCn.authenticate(req(peer({ subject: { CN: 'alice' } })));
    expect(result).toMatchObject({
      type: 'authenticated',
      principal: { id: `${MTLS_CN_PRINCIPAL_PREFIX}alice`, kind: 'user', roles: ['guest'] },
    });
    expect(MTLS_CN_PRINCIPAL_PREFIX).toBe('mtls:cn:');
    expect(await idOf(peer({ subject: { CN: 'worker-1' } }), withCn)).toBe('mtls:worker-1');
    expect(await idOf(peer({ subject: { CN: 'a\\+b' } }), withCn)).toBe('mtls:cn:a+b');
    const unusable: Record<string, string>[] = [
      {},
      { CN: 'alice+mallory' },
      { CN: 'x'.repeat(65) },
      { CN: 'a\nb' },
    ];
    for (const subject of unusable) {
      expect(await idOf(peer({ subject }), withCn)).toBe('rejected');
    }
    expect(await idOf(peer(), withCn)).toBe('rejected');
  });

  it('refuses configuration that cannot work, naming the rule', () => {
    const principal = { id: 'p', roles: [] };
    const bad: unknown[] = [
      {},
      { subjects: [] },
      { subjects: [{ match: {}, principal }] },
      { subjects: [{ match: { cn: 'x' }, principal }] },
      { subjects: [{ match: { CN: '' }, principal }] },
      { subjects: [{ match: { fingerprint256: 'AB:CD' }, principal }] },
      { subjects: [{ match: { fingerprint256: FP_A, CN: 'x' }, principal }] },
      { subjects: [{ match: { san: 'localhost' }, principal }] },
      { subjects: [{ match: { san: 'IP:999.1.1.1' }, principal }] },
      { subjects: [{ match: { CN: 'x' }, principal: { id: '', roles: [] } }] },
      { subjects: [{ match: { CN: 'x' }, principal: { id: 'p', kind: 'anonymous', roles: [] } }] },
      { subjects: [{ match: { CN: 'x' }, principal: { id: 'p', roles: 'admin' } }] },
      // A rule cannot claim the ids of CN-derived principals.
      { subjects: [{ match: { CN: 'x' }, principal: { id: 'cn:alice', roles: [] } }] },
      { fromCommonName: { kind: 'robot', roles: [] } },
    ];
    for (const config of bad) {
      expect(() => mtlsProvider(config as MtlsOptions), JSON.stringify(config)).toThrow(AuthnError);
    }
    expect(() => mtlsProvider({ subjects: [{ match: { san: 'dns' }, principal }] })).toThrow(
      /subjects\[0\]\.match\.san/,
    );
    expect(() =>
      mtlsProvider({ subjects: [{ match: { CN: 'x' }, principal: { id: 'cn:x', roles: [] } }] }),
    ).toThrow(/subjects\[0\]\.principal\.id: must not start with "cn:"/);
  });
});
