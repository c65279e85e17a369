import { describe, expect, it } from 'vitest';
import { chainProviders } from './chain.js';
import type { AuthProvider, AuthResult } from './types.js';

function fixed(name: string, result: AuthResult, calls: string[], challenge?: string) {
  const provider: AuthProvider = {
    name,
    authenticate() {
      calls.push(name);
      return Promise.resolve(result);
    },
  };
  return challenge === undefined ? provider : { ...provider, challenge };
}
const user = (id: string): AuthResult => ({
  type: 'authenticated',
  principal: { id, kind: 'user', roles: [] },
});
const SKIP: AuthResult = { type: 'skip' };

describe('chainProviders', () => {
  it('returns the first non-skip result and does not ask later providers', async () => {
    const calls: string[] = [];
    const chain = chainProviders([
      fixed('a', user('first'), calls),
      fixed('b', user('second'), calls),
    ]);
    expect(await chain.authenticate({ headers: {} })).toEqual(user('first'));
    expect(calls).toEqual(['a']);
  });

  it('falls through skips; a rejection is final', async () => {
    const calls: string[] = [];
    const rejection: AuthResult = { type: 'rejected', status: 401, reason: 'bad' };
    const chain = chainProviders([
      fixed('a', SKIP, calls),
      fixed('b', rejection, calls),
      fixed('c', user('c'), calls),
    ]);
    expect(await chain.authenticate({ headers: {} })).toEqual(rejection);
    expect(calls).toEqual(['a', 'b']);
  });

  it('skips when every provider skips, offering every challenge', async () => {
    const calls: string[] = [];
    const chain = chainProviders([
      fixed('a', SKIP, calls, 'Bearer resource_metadata="https://x/m"'),
      fixed('b', SKIP, calls),
      fixed('c', SKIP, calls, 'Basic realm="r"'),
    ]);
    expect(chain.challenge).toBe('Bearer resource_metadata="https://x/m", Basic realm="r"');
    expect(await chain.authenticate({ headers: {} })).toEqual(SKIP);
    expect(calls).toEqual(['a', 'b', 'c']);
    const empty = chainProviders([]);
    expect(empty.challenge).toBeUndefined();
    expect(await empty.authenticate({ headers: {} })).toEqual(SKIP);
  });
});
