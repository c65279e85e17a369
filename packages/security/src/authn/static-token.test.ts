import { describe, expect, it } from 'vitest';
import { AuthnError } from './errors.js';
import { staticTokenProvider } from './static-token.js';

const TOKEN_A = 'a'.repeat(8) + '-static-token-one';
const TOKEN_B = 'b'.repeat(8) + '-static-token-two';
const provider = staticTokenProvider({
  tokens: [
    { token: TOKEN_A, principal: { id: 'svc-a', kind: 'service', roles: ['reader'] } },
    { token: TOKEN_B, principal: { id: 'svc-b', kind: 'service', roles: [] } },
  ],
});
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('staticTokenProvider', () => {
  it('authenticates each configured token as its principal', async () => {
    const a = await provider.authenticate(bearer(TOKEN_A));
    expect(a).toEqual({
      type: 'authenticated',
      principal: { id: 'static:svc-a', kind: 'service', roles: ['reader'] },
    });
    const b = await provider.authenticate({ headers: { Authorization: `bearer ${TOKEN_B}` } });
    expect(b.type === 'authenticated' && b.principal.id).toBe('static:svc-b');
  });

  it('rejects a wrong token of the same length, and tokens of other lengths', async () => {
    for (const wrong of [
      TOKEN_A.slice(0, -1) + 'X',
      TOKEN_A.slice(0, -1),
      TOKEN_A + 'x',
      'x',
      TOKEN_A.repeat(20),
    ]) {
      const result = await provider.authenticate(bearer(wrong));
      expect(result).toEqual({
        type: 'rejected',
        status: 401,
        reason: 'invalid token',
        wwwAuthenticate: 'Bearer error="invalid_token"',
      });
    }
  });

  it('skips requests without a bearer token', async () => {
    expect(await provider.authenticate({ headers: {} })).toEqual({ type: 'skip' });
    expect(await provider.authenticate({ headers: { authorization: 'Basic eDp5' } })).toEqual({
      type: 'skip',
    });
  });

  it('refuses short, duplicate or missing tokens in configuration, without echoing them', () => {
    const principal = { id: 'p', kind: 'service' as const, roles: [] };
    expect(() => staticTokenProvider({ tokens: [] })).toThrow(AuthnError);
    expect(() => staticTokenProvider({ tokens: [{ token: 'short', principal }] })).toThrow(
      /shorter/,
    );
    try {
      staticTokenProvider({ tokens: [{ token: 'short', principal }] });
    } catch (err) {
      expect((err as Error).message).not.toContain('short,');
      expect((err as Error).message).not.toMatch(/\bshort\b(?! than)/);
    }
    expect(() =>
      staticTokenProvider({
        tokens: [
          { token: TOKEN_A, principal },
          { token: TOKEN_A, principal },
        ],
      }),
    ).toThrow(/twice/);
  });
});
