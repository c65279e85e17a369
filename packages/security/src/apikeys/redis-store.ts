/**
 * API keys in Redis, shared by every gateway of a cluster. One JSON string per key
 * (`keys.apiKey(id)`, no TTL: revoked and expired records stay listed) plus a set of ids
 * (`keys.apiKeyIndex`) for listing. Every read goes to Redis, so a revocation made through any
 * connection is seen by the next lookup on every other one. The caller owns the client.
 */
import type { Redis } from 'ioredis';

import type { SecurityKeys } from '../stores/keys.js';
import { SecurityStoreError } from '../stores/types.js';
import { isApiKeyId } from './format.js';
import {
  type ApiKeyInput,
  type ApiKeyRecord,
  type ApiKeyStore,
  type ApiKeyStoreOptions,
  byCreation,
  type CreatedApiKey,
  MAX_CREATE_ATTEMPTS,
  newApiKey,
  parseStoredApiKey,
  publicRecord,
  revokedCopy,
  type StoredApiKey,
} from './store.js';

/** Ids fetched per MGET when listing. */
export const LIST_BATCH = 500;

export class RedisApiKeyStore implements ApiKeyStore {
  private readonly now: () => number;
  private readonly onError: ((err: Error) => void) | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: SecurityKeys,
    options: ApiKeyStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.onError = options.onError;
  }

  async create(input: ApiKeyInput): Promise<CreatedApiKey> {
    for (let attempt = 0; attempt < MAX_CREATE_ATTEMPTS; attempt++) {
      const { key, stored } = newApiKey(input, this.now());
      // One transaction: the record and its index entry appear together. When SET NX loses
      // (id taken), SADD re-adds an id already indexed: a no-op.
      const replies = await this.redis
        .multi()
        .set(this.keys.apiKey(stored.id), JSON.stringify(stored), 'NX')
        .sadd(this.keys.apiKeyIndex, stored.id)
        .exec();
      if (replies === null) {
        throw new SecurityStoreError('bad_reply', 'api key: create transaction was discarded');
      }
      for (const [err] of replies) if (err) throw err;
      if (replies[0]?.[1] === 'OK') return { key, record: publicRecord(stored) };
    }
    throw new SecurityStoreError('bad_reply', 'api key: could not draw an unused id');
  }

  async get(id: string): Promise<StoredApiKey | undefined> {
    // Checked before any command: an arbitrary string never becomes a Redis key here.
    if (!isApiKeyId(id)) return undefined;
    const raw = await this.redis.get(this.keys.apiKey(id));
    return raw === null ? undefined : this.decode(id, raw);
  }

  async list(): Promise<ApiKeyRecord[]> {
    const ids = (await this.redis.smembers(this.keys.apiKeyIndex)).filter(isApiKeyId);
    const records: ApiKeyRecord[] = [];
    for (let i = 0; i < ids.length; i += LIST_BATCH) {
      const batch = ids.slice(i, i + LIST_BATCH);
      const values = await this.redis.mget(...batch.map((id) => this.keys.apiKey(id)));
      batch.forEach((id, j) => {
        const raw = values[j];
        // An indexed id without a record was deleted by hand: nothing to show.
        if (raw === null || raw === undefined) return;
        const stored = this.decode(id, raw);
        if (stored !== undefined) records.push(publicRecord(stored));
      });
    }
    return records.sort(byCreation);
  }

  async revoke(id: string): Promise<boolean> {
    const stored = await this.get(id);
    if (stored === undefined) return false;
    if (stored.revokedAt !== undefined) return true;
    // GET then SET XX: the only concurrent writer of a record is another revoke, and either
    // one's revokedAt will do.
    const reply = await this.redis.set(
      this.keys.apiKey(id),
      JSON.stringify(revokedCopy(stored, this.now())),
      'XX',
    );
    return reply === 'OK';
  }

  /** Parses and validates one value; a corrupt one is reported and treated as absent. */
  private decode(id: string, raw: string): StoredApiKey | undefined {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      // No cause: V8's JSON errors quote the input, which holds the hash.
      this.onError?.(new SecurityStoreError('bad_reply', `api key record ${id} is not JSON`));
      return undefined;
    }
    const parsed = parseStoredApiKey(id, value);
    if (parsed.ok) return parsed.stored;
    this.onError?.(parsed.error);
    return undefined;
  }
}
