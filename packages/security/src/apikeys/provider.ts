/**
 * Authenticates `Authorization: Bearer mcpk_…` or `X-API-Key: mcpk_…` against an
 * ApiKeyStore. Anything else is skipped, so a JWT or static-token provider later in the chain
 * takes other bearer tokens.
 */
import type { Principal } from '../principal.js';
import { principalId } from '../principal-ids.js';
import { AuthnError } from '../authn/errors.js';
import {
  authorizationCredentials,
  headerValue,
  rejected,
  SKIP,
  type AuthProvider,
  type AuthRequest,
  type AuthResult,
  type CredentialInfo,
} from '../authn/types.js';
import { hashSecret, looksLikeApiKey, parseApiKey, secretMatches } from './format.js';
import type { ApiKeyStore, StoredApiKey } from './store.js';

export interface ApiKeyProviderOptions {
  readonly store: ApiKeyStore;
  /**
   * How long a valid key's record may be reused in this process without asking the store
   * (default DEFAULT_API_KEY_CACHE_MS, at most MAX_API_KEY_CACHE_MS, 0 = always ask). This
   * bounds how long a revocation takes to reach every gateway. Failures are never cached.
   */
  readonly cacheMs?: number;
  /** Milliseconds clock for expiry and the cache (default Date.now); tests inject one. */
  readonly now?: () => number;
  readonly name?: string;
}

export const DEFAULT_API_KEY_CACHE_MS = 500;
/** "A revocation takes effect on every gateway within a second." */
export const MAX_API_KEY_CACHE_MS = 1_000;
/** Records cached at most; the oldest entry goes first. */
export const MAX_CACHED_API_KEYS = 10_000;
export const API_KEY_HEADER = 'x-api-key';

const INVALID = 'Bearer error="invalid_token"';
/** One reason for unknown, wrong, revoked and expired keys: the answer tells nothing. */
const INVALID_REASON = 'invalid api key';
/** Compared against when the id is unknown, so that path costs the same hashing. */
const DECOY_HASH = hashSecret('decoy');

interface CacheEntry {
  readonly stored: StoredApiKey;
  readonly principal: Principal;
  readonly credential: CredentialInfo;
  readonly until: number;
}

/** An API key provider; `forget` drops a key's cached record (it was found revoked). */
export interface ApiKeyProvider extends AuthProvider {
  forget(id: string): void;
}

/** The identifier a revocation of an API key carries (its id, never the secret). */
export const apiKeyRevocationId = (id: string): string => `apikey:${id}`;

function resolveOptions(options: ApiKeyProviderOptions) {
  const cacheMs = options.cacheMs ?? DEFAULT_API_KEY_CACHE_MS;
  if (!Number.isSafeInteger(cacheMs) || cacheMs < 0 || cacheMs > MAX_API_KEY_CACHE_MS) {
    throw new AuthnError(
      'config',
      `apiKeyProvider: cacheMs must be an integer from 0 to ${MAX_API_KEY_CACHE_MS} (got ${cacheMs})`,
    );
  }
  return Object.freeze({
    store: options.store,
    cacheMs,
    now: options.now ?? Date.now,
    name: options.name ?? 'api-key',
  });
}

type Presented = { readonly key: string } | { readonly conflict: true };

/** The presented key, if any, or a conflict when two different keys are presented. */
function presentedKey(req: AuthRequest): Presented | undefined {
  const bearer = authorizationCredentials(req, 'bearer');
  const header = headerValue(req, API_KEY_HEADER)?.trim();
  const fromBearer = bearer !== undefined && looksLikeApiKey(bearer) ? bearer : undefined;
  const fromHeader = header !== undefined && looksLikeApiKey(header) ? header : undefined;
  if (fromBearer !== undefined && fromHeader !== undefined && fromBearer !== fromHeader) {
    return { conflict: true };
  }
  const key = fromBearer ?? fromHeader;
  return key === undefined ? undefined : { key };
}

/** The key's principal: `apikey:<the principal name of its record>` (principal-ids.ts). */
function principalOf(stored: StoredApiKey): Principal {
  return Object.freeze({
    id: principalId.apiKey(stored.principal),
    kind: stored.kind,
    roles: Object.freeze([...stored.roles]),
    claims: Object.freeze({ apiKeyId: stored.id }),
  });
}

export function apiKeyProvider(options: ApiKeyProviderOptions): ApiKeyProvider {
  const { store, cacheMs, now, name } = resolveOptions(options);
  const cache = new Map<string, CacheEntry>();

  /** The stored record, from the store itself (never the cache). */
  async function read(id: string): Promise<StoredApiKey | undefined> {
    try {
      return await store.get(id);
    } catch (cause) {
      // The store is down: not the caller's fault, so a 5xx rather than a 401.
      throw new AuthnError('keys_unavailable', 'apiKeyProvider: the key store is unavailable', {
        cause,
      });
    }
  }

  async function lookup(id: string, at: number): Promise<StoredApiKey | undefined> {
    const hit = cache.get(id);
    if (hit !== undefined && hit.until > at) return hit.stored;
    cache.delete(id);
    return read(id);
  }

  /**
   * What open connections need to follow the key: its expiry, and a re-read of its record
   * (past the cache) that finds it revoked, removed or replaced.
   */
  function credentialOf(stored: StoredApiKey): CredentialInfo {
    const key = apiKeyRevocationId(stored.id);
    return Object.freeze({
      key,
      expiresAt: stored.expiresAt,
      revocationIds: Object.freeze([key]),
      isRevoked: async () => {
        const now = await read(stored.id);
        return (
          now === undefined || now.revokedAt !== undefined || now.secretHash !== stored.secretHash
        );
      },
      forget: () => cache.delete(stored.id),
    });
  }

  function remember(stored: StoredApiKey, at: number): CacheEntry {
    const hit = cache.get(stored.id);
    if (hit !== undefined && hit.stored === stored) return hit;
    const entry = {
      stored,
      principal: principalOf(stored),
      credential: credentialOf(stored),
      until: at + cacheMs,
    };
    if (cacheMs > 0) {
      if (cache.size >= MAX_CACHED_API_KEYS) {
        const oldest = cache.keys().next();
        if (oldest.done !== true) cache.delete(oldest.value);
      }
      cache.set(stored.id, entry);
    }
    return entry;
  }

  return {
    name,
    forget: (id) => void cache.delete(id),
    challenge: 'Bearer',
    async authenticate(req): Promise<AuthResult> {
      const presented = presentedKey(req);
      if (presented === undefined) return SKIP;
      if ('conflict' in presented) {
        return rejected(401, 'conflicting api keys', 'Bearer error="invalid_request"');
      }
      const parsed = parseApiKey(presented.key);
      if (parsed === undefined) return rejected(401, INVALID_REASON, INVALID);
      const at = now();
      const stored = await lookup(parsed.id, at);
      const matches = secretMatches(parsed.secret, stored?.secretHash ?? DECOY_HASH);
      if (
        stored === undefined ||
        !matches ||
        stored.revokedAt !== undefined ||
        (stored.expiresAt !== undefined && stored.expiresAt <= at)
      ) {
        return rejected(401, INVALID_REASON, INVALID);
      }
      const { principal, credential } = remember(stored, at);
      return { type: 'authenticated', principal, credential };
    },
  };
}
