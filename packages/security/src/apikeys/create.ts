/**
 * The one wiring point of the API key store: Redis when a URL is configured (every gateway
 * of the cluster sees the same keys), otherwise a file (embedded node). The CLI and the node
 * must pick the same one, so both go through here. The caller owns the result and closes it.
 */
import { connectStoreRedis } from '../stores/connect.js';
import { securityKeys } from '../stores/keys.js';
import { FileApiKeyStore } from './file-store.js';
import { RedisApiKeyStore } from './redis-store.js';
import type { ApiKeyStore } from './store.js';

/** File used without Redis when none is named; relative to the working directory. */
export const DEFAULT_API_KEYS_FILE = '.mcp-cluster/api-keys.json';
/** Environment variable naming the file (until the config schema has `apiKeysFile`). */
export const API_KEYS_FILE_ENV = 'MCP_API_KEYS_FILE';

export interface ApiKeyStoreConfig {
  /** e.g. redis://127.0.0.1:6379; absent or empty = the file store. */
  readonly redisUrl?: string;
  /** Cluster key prefix (config `clusterPrefix`); Redis only. */
  readonly prefix: string;
  /** File store path (default DEFAULT_API_KEYS_FILE); ignored with Redis. */
  readonly file?: string;
  readonly now?: () => number;
  /** Corrupt records and Redis connection errors after startup; quiet without it. */
  readonly onError?: (err: Error) => void;
}

export interface OpenedApiKeyStore extends AsyncDisposable {
  readonly kind: 'redis' | 'file';
  readonly store: ApiKeyStore;
  /** Where the keys are, for messages: the file's absolute path or the Redis key prefix. */
  readonly location: string;
  close(): Promise<void>;
}

export async function openApiKeyStore(config: ApiKeyStoreConfig): Promise<OpenedApiKeyStore> {
  const options = { now: config.now, onError: config.onError };
  if (config.redisUrl === undefined || config.redisUrl === '') {
    const store = new FileApiKeyStore(config.file ?? DEFAULT_API_KEYS_FILE, options);
    const close = (): Promise<void> => Promise.resolve();
    return { kind: 'file', store, location: store.path, close, [Symbol.asyncDispose]: close };
  }
  const { redis, close } = await connectStoreRedis(config.redisUrl, config.onError);
  const keys = securityKeys(config.prefix);
  return {
    kind: 'redis',
    store: new RedisApiKeyStore(redis, keys, options),
    location: `redis ${keys.prefix}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}
