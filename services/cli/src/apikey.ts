/**
 * `mcp-cluster apikey <create|list|revoke>`: the operator's side of API keys. The store is the
 * one the nodes read: Redis when the configuration has a Redis URL (every gateway of the
 * cluster), otherwise a JSON file (the embedded node). `runApiKeyCommand` takes the store and
 * the output streams, so tests run it without spawning a process.
 * Exit codes: 0 ok, 1 unknown key or store failure, 2 invalid input.
 */
import {
  API_KEYS_FILE_ENV,
  type ApiKeyRecord,
  type ApiKeyStore,
  type ApiKeyStoreConfig,
  DEFAULT_API_KEYS_FILE,
  openApiKeyStore,
  principalId,
} from '@mcp-cluster/security';
import { SecurityStoreError } from '@mcp-cluster/security';
import { EXIT_USAGE, type ApiKeyArgs } from './main-args.js';
import { startupFailure } from './startup-errors.js';

/** Where the command writes; process.stdout / process.stderr fit. */
export interface Writer {
  write(text: string): unknown;
}

export interface ApiKeyIo {
  /** Results only: the created key and id, the listing, the revoked id. */
  readonly stdout: Writer;
  /** Messages for the operator. */
  readonly stderr: Writer;
  /** Milliseconds clock for --expires-in and the listing's status (default Date.now). */
  readonly now?: () => number;
}

/** The settings apikey reads from the loaded configuration. */
export interface ApiKeyConfig {
  readonly redisUrl?: string;
  readonly clusterPrefix: string;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;

/** A value shown verbatim when plain, JSON-quoted when it has spaces, quotes or controls. */
const field = (value: string): string =>
  /^[\x21-\x7e]+$/.test(value) && !value.includes('"') ? value : JSON.stringify(value);

const iso = (ms: number): string => new Date(ms).toISOString();

/** One listing line; never the hash (records do not carry it anyway). */
export function formatApiKey(record: ApiKeyRecord, now: number): string {
  const status =
    record.revokedAt !== undefined
      ? 'revoked'
      : record.expiresAt !== undefined && record.expiresAt <= now
        ? 'expired'
        : 'active';
  const parts = [
    record.id,
    status,
    `principal=${field(record.principal)}`,
    `kind=${record.kind}`,
    `roles=${record.roles.length === 0 ? '-' : record.roles.map(field).join(',')}`,
    `created=${iso(record.createdAt)}`,
  ];
  if (record.expiresAt !== undefined) parts.push(`expires=${iso(record.expiresAt)}`);
  if (record.revokedAt !== undefined) parts.push(`revoked=${iso(record.revokedAt)}`);
  if (record.name !== undefined) parts.push(`name=${JSON.stringify(record.name)}`);
  return parts.join('  ');
}

/** Runs one action against a store; resolves to the exit code. Store failures are reported. */
export async function runApiKeyCommand(
  args: ApiKeyArgs,
  store: ApiKeyStore,
  io: ApiKeyIo,
  /** Where the keys are (file path, Redis prefix), named in the create message. */
  location?: string,
): Promise<number> {
  const now = io.now ?? Date.now;
  try {
    switch (args.action) {
      case 'create': {
        const { key, record } = await store.create({
          principal: args.principal,
          kind: args.kind,
          roles: args.roles,
          name: args.name,
          expiresAt: args.expiresInSec === undefined ? undefined : now() + args.expiresInSec * 1000,
        });
        io.stdout.write(`id: ${record.id}\nkey: ${key}\n`);
        io.stderr.write(
          `mcp-cluster: api key ${record.id} created for ${field(record.principal)}` +
            ` (principal id ${field(principalId.apiKey(record.principal))})` +
            `${location === undefined ? '' : ` in ${location}`}; ` +
            'the key is shown only this once: store it now\n',
        );
        return EXIT_OK;
      }
      case 'list': {
        const at = now();
        for (const record of await store.list()) {
          io.stdout.write(`${formatApiKey(record, at)}\n`);
        }
        return EXIT_OK;
      }
      case 'revoke':
        if (await store.revoke(args.id)) {
          io.stdout.write(`revoked ${args.id}\n`);
          return EXIT_OK;
        }
        io.stderr.write(`mcp-cluster: no api key ${field(args.id)}\n`);
        return EXIT_FAILED;
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`mcp-cluster: ${message}\n`);
    return err instanceof SecurityStoreError && err.kind === 'invalid_argument'
      ? EXIT_USAGE
      : EXIT_FAILED;
  }
}

/**
 * Which store: `--file` names a file and wins; otherwise Redis when configured, else the file
 * from MCP_API_KEYS_FILE or DEFAULT_API_KEYS_FILE (relative to the working directory).
 */
export function apiKeyStoreConfig(
  args: ApiKeyArgs,
  config: ApiKeyConfig,
  env: Readonly<Record<string, string | undefined>>,
  onError: (err: Error) => void,
): ApiKeyStoreConfig {
  const fromEnv = env[API_KEYS_FILE_ENV];
  const file = args.keysFile ?? (fromEnv === undefined || fromEnv === '' ? undefined : fromEnv);
  return {
    redisUrl: args.keysFile === undefined ? config.redisUrl : undefined,
    prefix: config.clusterPrefix,
    file: file ?? DEFAULT_API_KEYS_FILE,
    onError,
  };
}

/** Opens the configured store, runs the action, closes the store. */
export async function runApiKey(
  args: ApiKeyArgs,
  config: ApiKeyConfig,
  io: ApiKeyIo,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  // Corrupt records are skipped by the store; the operator should hear about them.
  const warn = (err: Error): void => void io.stderr.write(`mcp-cluster: warning: ${err.message}\n`);
  let opened;
  try {
    opened = await openApiKeyStore(apiKeyStoreConfig(args, config, env, warn));
  } catch (err) {
    io.stderr.write(
      `mcp-cluster: cannot open the api key store: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    // Redis unreachable: the same exit code as any other command (5).
    return startupFailure(err)?.code ?? EXIT_FAILED;
  }
  try {
    return await runApiKeyCommand(args, opened.store, io, opened.location);
  } finally {
    await opened.close();
  }
}
