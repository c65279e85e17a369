import { describe, expect, it } from 'vitest';
import { basicProvider } from './basic.js';
import { AuthnError } from './errors.js';
import {
  hashPassword,
  parseScryptHash,
  verifyPassword,
  type ParsedScryptHash,
  type ScryptParams,
} from './password.js';

/** Cheap parameters: tests check behaviour, not cost. */
const FAST: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };
const basic = (userPass: string) => ({
  headers: { authorization: `Basic ${Buffer.from(userPass).toString('base64')}` },
});
const CHALLENGE = 'Basic realm="mcp-cluster", charset="UTF-8"';

async function makeProvider() {
  return basicProvider({
    users: [
      { username: 'alice', hash: await hashPassword('correct horse', FAST), roles: ['admin'] },
      { username: 'bob', hash: await hashPassword('pä:ss', FAST), roles: [] },
    ],
  });
}

describe('hashPassword / verifyPassword', () => {
  it('produces scrypt$N$r$p$salt$hash that verifies only the right password', async () => {
    const hash = await hashPassword('secret', FAST);
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    const parsed = parseScryptHash(hash);
    expect(await verifyPassword('secret', parsed)).toBe(true);
    expect(await verifyPassword('Secret', parsed)).toBe(false);
    expect(await hashPassword('secret', FAST)).not.toBe(hash); // fresh salt
  });

  it('uses the documented default cost', async () => {
    expect(await hashPassword('x')).toMatch(/^scrypt\$32768\$8\$1\$/);
  });

  it('rejects malformed hashes and unsafe parameters without echoing the hash', () => {
    const bad = [
      'plain',
      'scrypt$1024$8$1$c2FsdHNhbHQ',
      'scrypt$1000$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA',
      'scrypt$4194304$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA',
      'scrypt$1024$8$1$c2Fs$aGFzaGhhc2hoYXNoaGFzaA',
      'scrypt$1024$8$1$c2FsdHNhbHRzYWx0$aGFz',
      'scrypt$1024$8$1$c2Fsd!NhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA',
    ];
    for (const text of bad) {
      expect(() => parseScryptHash(text)).toThrow(AuthnError);
      try {
        parseScryptHash(text);
      } catch (err) {
        expect((err as Error).message).not.toContain(text);
      }
    }
  });
});

describe('basicProvider', () => {
  it('authenticates the right password (password may contain ":" and non-ASCII)', async () => {
    const provider = await makeProvider();
    expect(await provider.authenticate(basic('alice:correct horse'))).toEqual({
      type: 'authenticated',
      principal: { id: 'basic:alice', kind: 'user', roles: ['admin'] },
    });
    const bob = await provider.authenticate(basic('bob:pä:ss'));
    expect(bob.type === 'authenticated' && bob.principal.id).toBe('basic:bob');
  });

  it('rejects a wrong password and an unknown user identically', async () => {
    const provider = await makeProvider();
    const expected = {
      type: 'rejected',
      status: 401,
      reason: 'invalid credentials',
      wwwAuthenticate: CHALLENGE,
    };
    expect(await provider.authenticate(basic('alice:wrong'))).toEqual(expected);
    expect(await provider.authenticate(basic('mallory:correct horse'))).toEqual(expected);
  });

  it('runs the same scrypt work for an unknown user as for a known one', async () => {
    const provider = await makeProvider();
    // Same-path check, not a timing benchmark: the unknown user takes the scrypt path
    // (a bare map miss answers in microseconds, ~1000x faster than scrypt N=1024 r=8).
    const time = async (creds: string) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 5; i++) await provider.authenticate(basic(creds));
      return Number(process.hrtime.bigint() - start) / 5;
    };
    const known = await time('alice:wrong');
    const unknown = await time('nobody:wrong');
    expect(unknown).toBeGreaterThan(known / 10);
  });

  it("verifies an unknown user against a decoy with the costliest user's parameters", async () => {
    // The strongest user is neither first nor last; r and p count as much as N.
    const users = [
      { username: 'cheap', params: FAST },
      { username: 'strong', params: { N: 2 ** 11, r: 8, p: 2 } },
      { username: 'wide', params: { N: 2 ** 12, r: 2, p: 1 } },
    ];
    const seen: ParsedScryptHash[] = [];
    const provider = basicProvider({
      users: await Promise.all(
        users.map(async (u) => ({
          username: u.username,
          hash: await hashPassword('pw', u.params),
          roles: [],
        })),
      ),
      verify: (password, stored) => {
        seen.push(stored);
        return verifyPassword(password, stored);
      },
    });
    expect((await provider.authenticate(basic('nobody:pw'))).type).toBe('rejected');
    expect((await provider.authenticate(basic('cheap:wrong'))).type).toBe('rejected');
    expect(seen.map((s) => s.params)).toEqual([{ N: 2 ** 11, r: 8, p: 2 }, FAST]);
    const [decoy] = seen;
    expect(decoy?.hash).toHaveLength(32);
    expect(decoy?.salt).toHaveLength(16);
  });

  it('says which requests cost a hash: well-formed Basic credentials only', async () => {
    const provider = await makeProvider();
    expect(provider.costly?.(basic('alice:x'))).toBe(true);
    expect(provider.costly?.(basic('nobody:x'))).toBe(true);
    expect(provider.costly?.(basic('no-colon'))).toBe(false);
    expect(provider.costly?.({ headers: { authorization: 'Bearer x.y.z' } })).toBe(false);
    expect(provider.costly?.({ headers: {} })).toBe(false);
  });

  it('rejects malformed Basic credentials with 401 and the challenge', async () => {
    const provider = await makeProvider();
    for (const header of [
      'Basic',
      'Basic !!!notbase64',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      `Basic ${Buffer.from(':emptyuser').toString('base64')}`,
      `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`,
      `Basic ${'A'.repeat(5000)}`,
    ]) {
      expect(await provider.authenticate({ headers: { authorization: header } })).toEqual({
        type: 'rejected',
        status: 401,
        reason: 'malformed basic credentials',
        wwwAuthenticate: CHALLENGE,
      });
    }
  });

  it('skips requests without Basic credentials', async () => {
    const provider = await makeProvider();
    expect(await provider.authenticate({ headers: {} })).toEqual({ type: 'skip' });
    expect(await provider.authenticate({ headers: { authorization: 'Bearer x.y.z' } })).toEqual({
      type: 'skip',
    });
  });

  it('refuses bad configuration without echoing the hash', async () => {
    expect(() => basicProvider({ users: [] })).toThrow(AuthnError);
    const hash = await hashPassword('x', FAST);
    expect(() => basicProvider({ users: [{ username: 'a:b', hash, roles: [] }] })).toThrow(/":"/);
    expect(() =>
      basicProvider({
        users: [
          { username: 'a', hash, roles: [] },
          { username: 'a', hash, roles: [] },
        ],
      }),
    ).toThrow(/twice/);
    const broken = `${hash}$extra`;
    const salt = hash.split('$')[4] ?? '';
    let message = '';
    try {
      basicProvider({ users: [{ username: 'a', hash: broken, roles: [] }] });
    } catch (err) {
      expect(err).toBeInstanceOf(AuthnError);
      message = `${(err as Error).message} ${String((err as Error).cause)}`;
    }
    expect(message).toMatch(/bad password hash for a/);
    expect(message).not.toContain(salt);
  });
});
