/**
 * Shared fixtures of the token service tests: a fake clock, a fixed credential table and a
 * service wired to the memory store.
 */
import type { AuthRequest, AuthResult } from '../authn/types.js';
import type { Principal } from '../principal.js';
import {
  createTokenService,
  type TokenCredential,
  type TokenService,
  type TokenServiceOptions,
} from './service.js';
import { MemoryTokenStore } from './store.js';

export const ISSUER = 'https://gateway.example';
export const AUDIENCE = 'https://mcp.example/mcp';
export const HS_SECRET = 'test-hmac-secret-0123456789-abcdefghij';
export const CLIENT_ID = 'svc-reporter';
export const CLIENT_SECRET = 'client-secret-with-enough-entropy';
export const USERNAME = 'alice';
export const PASSWORD = 'correct horse battery staple';

/** A whole second, so `iat` (seconds) and the clock (ms) line up exactly. */
export const START_MS = 1_900_000_000_000;

/** Namespaced ids, as the built-in providers give them (principal-ids.ts). */
export const SERVICE_PRINCIPAL: Principal = {
  id: `basic:${CLIENT_ID}`,
  kind: 'service',
  roles: ['tools:read', 'tools:call'],
};
export const USER_PRINCIPAL: Principal = {
  id: `basic:${USERNAME}`,
  kind: 'user',
  roles: ['admin'],
};

/** The credential table the endpoint's `authenticate` callback checks. */
export async function authenticate(credential: TokenCredential): Promise<Principal | undefined> {
  await Promise.resolve();
  if (credential.type === 'client') {
    return credential.clientId === CLIENT_ID && credential.clientSecret === CLIENT_SECRET
      ? SERVICE_PRINCIPAL
      : undefined;
  }
  return credential.username === USERNAME && credential.password === PASSWORD
    ? USER_PRINCIPAL
    : undefined;
}

export interface Fixture {
  readonly clock: { ms: number };
  readonly store: MemoryTokenStore;
  readonly service: TokenService;
  readonly verify: (token: string) => Promise<AuthResult>;
}

export function fixture(extra: Partial<TokenServiceOptions> = {}): Fixture {
  const clock = { ms: START_MS };
  const now = (): number => clock.ms;
  const store = new MemoryTokenStore({ now });
  const service = createTokenService({
    issuer: ISSUER,
    audience: AUDIENCE,
    signingKey: { alg: 'HS256', secret: HS_SECRET, kid: 'k1' },
    store,
    authenticate,
    now,
    ...extra,
  });
  const provider = service.verifier();
  return { clock, store, service, verify: (token) => provider.authenticate(bearer(token)) };
}

export function bearer(token: string): AuthRequest {
  return { headers: { authorization: `Bearer ${token}` } };
}

/** The reason of a rejection, or the result type when it is not one. */
export function reasonOf(result: AuthResult): string {
  return result.type === 'rejected' ? result.reason : `<${result.type}>`;
}
