/**
 * Where API keys live: one interface, three implementations (memory here, Redis in
 * redis-store.ts for a cluster, a JSON file in file-store.ts for the embedded node). Every
 * implementation stores the SHA-256 of the secret, never the secret; the plaintext key exists
 * only in `create`'s answer, shown once.
 */
import { z } from 'zod';

import { SecurityStoreError } from '../stores/types.js';
import { generateApiKey, isApiKeyId, isSecretHash } from './format.js';

export type ApiKeyKind = 'user' | 'service';

/** What `list` shows: everything but the hash. Times are epoch milliseconds. */
export interface ApiKeyRecord {
  readonly id: string;
  /** Principal id the key authenticates as. */
  readonly principal: string;
  readonly kind: ApiKeyKind;
  readonly roles: readonly string[];
  /** Free label, e.g. `ci deploy bot`. */
  readonly name?: string;
  readonly createdAt: number;
  /** Set once by `revoke`; the record stays so listings show it. */
  readonly revokedAt?: number;
  readonly expiresAt?: number;
}

/** A record as stored, with the hex SHA-256 of the secret; what `get` answers. */
export interface StoredApiKey extends ApiKeyRecord {
  readonly secretHash: string;
}

export interface ApiKeyInput {
  readonly principal: string;
  /** Default 'user'. */
  readonly kind?: ApiKeyKind;
  readonly roles?: readonly string[];
  readonly name?: string;
  /** Epoch ms, after the creation time; absent = never expires. */
  readonly expiresAt?: number;
}

export interface CreatedApiKey {
  /** The plaintext `mcpk_<id>_<secret>`: shown once, recoverable from nowhere. */
  readonly key: string;
  readonly record: ApiKeyRecord;
}

export interface ApiKeyStore {
  /** Throws SecurityStoreError('invalid_argument') for invalid input. */
  create(input: ApiKeyInput): Promise<CreatedApiKey>;
  /** The stored record, revoked or expired ones included; undefined when unknown or corrupt. */
  get(id: string): Promise<StoredApiKey | undefined>;
  /** Every readable record, oldest first, without hashes. */
  list(): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked (the first revocation time is kept); false when unknown. */
  revoke(id: string): Promise<boolean>;
}

export interface ApiKeyStoreOptions {
  /** Milliseconds clock for createdAt / revokedAt (default Date.now); tests inject one. */
  readonly now?: () => number;
  /** Corrupt records (treated as absent) are reported here; quiet without it. */
  readonly onError?: (err: Error) => void;
}

export const MAX_PRINCIPAL_LENGTH = 256;
export const MAX_ROLE_LENGTH = 128;
export const MAX_ROLES = 64;
export const MAX_NAME_LENGTH = 200;
/** Fresh ids collide with probability ~n/2^48; a few retries make it a non-event. */
export const MAX_CREATE_ATTEMPTS = 3;

const noControl = /^[^\p{Cc}]*$/u;

const inputSchema = z.object({
  principal: z.string().min(1).max(MAX_PRINCIPAL_LENGTH).regex(noControl, 'no control characters'),
  kind: z.enum(['user', 'service']).default('user'),
  // Roles travel space-separated (scopes) elsewhere: no whitespace inside one.
  roles: z
    .array(z.string().min(1).max(MAX_ROLE_LENGTH).regex(/^\S+$/, 'no whitespace'))
    .max(MAX_ROLES)
    .default([]),
  name: z.string().min(1).max(MAX_NAME_LENGTH).regex(noControl, 'no control characters').optional(),
  expiresAt: z.number().int().positive().optional(),
});

/** What a store reads back; laxer than the input (no length caps), strict on the hash. */
const storedSchema = z.object({
  id: z.string().refine(isApiKeyId, 'not an api key id'),
  secretHash: z.string().refine(isSecretHash, 'not a sha-256 hex digest'),
  principal: z.string().min(1),
  kind: z.enum(['user', 'service']),
  roles: z.array(z.string().min(1)),
  name: z.string().optional(),
  createdAt: z.number().int().nonnegative(),
  revokedAt: z.number().int().nonnegative().optional(),
  expiresAt: z.number().int().nonnegative().optional(),
});

/** Validates a stored value read under `id`; the error names the id, never the contents. */
export function parseStoredApiKey(
  id: string,
  value: unknown,
): { ok: true; stored: StoredApiKey } | { ok: false; error: SecurityStoreError } {
  const parsed = storedSchema.safeParse(value);
  if (!parsed.success || parsed.data.id !== id) {
    const cause = parsed.success ? undefined : parsed.error;
    return {
      ok: false,
      error: new SecurityStoreError('bad_reply', `api key record ${id} is corrupt`, { cause }),
    };
  }
  return { ok: true, stored: freezeStored(parsed.data) };
}

function freezeStored(s: z.infer<typeof storedSchema>): StoredApiKey {
  return Object.freeze({
    id: s.id,
    secretHash: s.secretHash,
    principal: s.principal,
    kind: s.kind,
    roles: Object.freeze([...s.roles]),
    ...(s.name === undefined ? {} : { name: s.name }),
    createdAt: s.createdAt,
    ...(s.revokedAt === undefined ? {} : { revokedAt: s.revokedAt }),
    ...(s.expiresAt === undefined ? {} : { expiresAt: s.expiresAt }),
  });
}

/** Drops the hash: what list/create hand out. */
export function publicRecord(stored: StoredApiKey): ApiKeyRecord {
  const { secretHash: _hash, ...record } = stored;
  return Object.freeze(record);
}

/** The stored record with revokedAt set (kept when already set). */
export function revokedCopy(stored: StoredApiKey, now: number): StoredApiKey {
  return stored.revokedAt === undefined ? Object.freeze({ ...stored, revokedAt: now }) : stored;
}

/**
 * Validates the input and draws a fresh key. Throws SecurityStoreError('invalid_argument')
 * with the first problem; the message never contains input values.
 */
export function newApiKey(input: ApiKeyInput, now: number): { key: string; stored: StoredApiKey } {
  const parsed = inputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? 'input' : issue.path.join('.') || 'input';
    throw new SecurityStoreError(
      'invalid_argument',
      `api key: invalid ${where}: ${issue?.message ?? 'invalid'}`,
      { cause: parsed.error },
    );
  }
  const { expiresAt } = parsed.data;
  if (expiresAt !== undefined && expiresAt <= now) {
    throw new SecurityStoreError('invalid_argument', 'api key: expiresAt must be in the future');
  }
  const generated = generateApiKey();
  const stored = freezeStored({
    ...parsed.data,
    roles: [...new Set(parsed.data.roles)],
    id: generated.id,
    secretHash: generated.secretHash,
    createdAt: now,
  });
  return { key: generated.key, stored };
}

export function byCreation(a: ApiKeyRecord, b: ApiKeyRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Runs `decide` as an async call: a throw becomes a rejection, as it would on Redis. */
const settle = <T>(decide: () => T): Promise<T> => new Promise<T>((resolve) => resolve(decide()));

/** In-process store for tests and single-process use; forgets everything on exit. */
export class MemoryApiKeyStore implements ApiKeyStore {
  private readonly records = new Map<string, StoredApiKey>();
  private readonly now: () => number;

  constructor(options: ApiKeyStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  create(input: ApiKeyInput): Promise<CreatedApiKey> {
    return settle(() => {
      for (let attempt = 0; attempt < MAX_CREATE_ATTEMPTS; attempt++) {
        const { key, stored } = newApiKey(input, this.now());
        if (this.records.has(stored.id)) continue;
        this.records.set(stored.id, stored);
        return { key, record: publicRecord(stored) };
      }
      throw new SecurityStoreError('bad_reply', 'api key: could not draw an unused id');
    });
  }

  get(id: string): Promise<StoredApiKey | undefined> {
    return Promise.resolve(this.records.get(id));
  }

  list(): Promise<ApiKeyRecord[]> {
    return Promise.resolve([...this.records.values()].map(publicRecord).sort(byCreation));
  }

  revoke(id: string): Promise<boolean> {
    const stored = this.records.get(id);
    if (stored === undefined) return Promise.resolve(false);
    this.records.set(id, revokedCopy(stored, this.now()));
    return Promise.resolve(true);
  }
}
