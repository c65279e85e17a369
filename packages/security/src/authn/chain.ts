import { SKIP, type AuthProvider, type AuthResult } from './types.js';

/**
 * Tries providers in order; the first result that is not `skip` wins (a rejection is
 * final, it does not fall through). When every provider skips, so does the chain: the
 * caller (admission) decides between anonymous access and a 401 carrying `challenge` (the
 * providers' challenges joined), and a request without credentials is no failed attempt.
 */
export function chainProviders(providers: readonly AuthProvider[]): AuthProvider {
  const list = [...providers];
  const challenges = list.flatMap((p) => (p.challenge === undefined ? [] : [p.challenge]));
  const challenge = challenges.length === 0 ? undefined : challenges.join(', ');
  const base = {
    name: `chain(${list.map((p) => p.name).join(',')})`,
    async authenticate(req: Parameters<AuthProvider['authenticate']>[0]): Promise<AuthResult> {
      for (const provider of list) {
        const result = await provider.authenticate(req);
        if (result.type !== 'skip') return result;
      }
      return SKIP;
    },
    costly: (req: Parameters<AuthProvider['authenticate']>[0]): boolean =>
      list.some((p) => p.costly?.(req) === true),
  };
  return challenge === undefined ? base : { ...base, challenge };
}
