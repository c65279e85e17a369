import { rejected, type AuthProvider, type AuthResult } from './types.js';

/**
 * Tries providers in order; the first result that is not `skip` wins (a rejection is
 * final, it does not fall through). When every provider skips the request is rejected 401
 * with the providers' challenges joined into one WWW-Authenticate value.
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
      return rejected(401, 'no credentials', challenge);
    },
  };
  return challenge === undefined ? base : { ...base, challenge };
}
