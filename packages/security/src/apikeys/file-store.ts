/**
 * API keys in a JSON file, for the embedded node (no Redis): the `mcp-cluster apikey` command
 * writes it, the node's provider reads it. Layout:
 *
 *   { "version": 1, "keys": { "<id>": { id, secretHash, principal, kind, roles, createdAt, … } } }
 *
 * - Reads stat the file every time and re-read it when its identity (device, inode, size,
 *   mtime, ctime, in nanoseconds) changed, so a revocation written by another process counts
 *   at the next lookup. The stat is one syscall; the parse happens only after a change.
 * - Writes are atomic: a temporary file (mode 0600, in the same directory) is written,
 *   fsynced and renamed over the old one; a reader sees the old file or the new one, never
 *   half of one. Writes of one store instance are serialised, and writers of any process
 *   take turns through a lock file (`<file>.lock`, created exclusively): each reads the
 *   file, changes it and renames its copy in while holding it, so no update is lost. A lock
 *   older than API_KEYS_LOCK_STALE_MS is left over from a crash and broken; a writer that
 *   cannot get the lock within API_KEYS_LOCK_WAIT_MS (option `lockWaitMs`) fails instead of waiting forever.
 * - A record that fails validation is reported (onError), treated as absent, and written
 *   back untouched; a file that is not JSON or not of this layout is an error (nothing is
 *   accepted, and nothing overwrites it).
 */
import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import { z } from 'zod';

import { SecurityStoreError } from '../stores/types.js';
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

export const API_KEYS_FILE_VERSION = 1;
/** Mode of the file: owner read/write only (it holds hashes, but also who may do what). */
export const API_KEYS_FILE_MODE = 0o600;
/** A writer holds the lock for milliseconds; one this old belongs to a crashed process. */
export const API_KEYS_LOCK_STALE_MS = 30_000;
/** How long a writer waits for the lock before it gives up. */
export const API_KEYS_LOCK_WAIT_MS = 10_000;
const LOCK_RETRY_MAX_MS = 50;

const envelopeSchema = z.object({
  version: z.literal(API_KEYS_FILE_VERSION),
  keys: z.record(z.string(), z.unknown()),
});

interface Snapshot {
  /** Entries as read, corrupt ones included, so a write keeps them. */
  readonly raw: Readonly<Record<string, unknown>>;
  readonly records: ReadonlyMap<string, StoredApiKey>;
}

const EMPTY: Snapshot = Object.freeze({ raw: Object.freeze({}), records: new Map() });

const isNotFound = (err: unknown): boolean =>
  err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT';

const signatureOf = (st: BigIntStats): string =>
  `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;

export class FileApiKeyStore implements ApiKeyStore {
  /** Absolute path of the file. */
  readonly path: string;
  private readonly now: () => number;
  private readonly onError: ((err: Error) => void) | undefined;
  private cached: { signature: string; snapshot: Snapshot } | undefined;
  private writes: Promise<unknown> = Promise.resolve();

  private readonly lockWaitMs: number;

  constructor(path: string, options: ApiKeyStoreOptions & { readonly lockWaitMs?: number } = {}) {
    this.path = resolve(path);
    this.lockWaitMs = options.lockWaitMs ?? API_KEYS_LOCK_WAIT_MS;
    this.now = options.now ?? Date.now;
    this.onError = options.onError;
  }

  create(input: ApiKeyInput): Promise<CreatedApiKey> {
    return this.mutate(async (snapshot) => {
      for (let attempt = 0; attempt < MAX_CREATE_ATTEMPTS; attempt++) {
        const { key, stored } = newApiKey(input, this.now());
        if (Object.hasOwn(snapshot.raw, stored.id)) continue;
        await this.write({ ...snapshot.raw, [stored.id]: stored });
        return { key, record: publicRecord(stored) };
      }
      throw new SecurityStoreError('bad_reply', 'api key: could not draw an unused id');
    });
  }

  async get(id: string): Promise<StoredApiKey | undefined> {
    return (await this.load()).records.get(id);
  }

  async list(): Promise<ApiKeyRecord[]> {
    return [...(await this.load()).records.values()].map(publicRecord).sort(byCreation);
  }

  revoke(id: string): Promise<boolean> {
    return this.mutate(async (snapshot) => {
      const stored = snapshot.records.get(id);
      if (stored === undefined) return false;
      if (stored.revokedAt !== undefined) return true;
      await this.write({ ...snapshot.raw, [id]: revokedCopy(stored, this.now()) });
      return true;
    });
  }

  /**
   * Runs `change` on a fresh snapshot, after every earlier write of this instance and while
   * holding the file's lock (no other process writes in between).
   */
  private mutate<T>(change: (snapshot: Snapshot) => Promise<T>): Promise<T> {
    const run = this.writes.then(() => this.locked(async () => change(await this.load())));
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const lock = `${this.path}.lock`;
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const deadline = Date.now() + this.lockWaitMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, LOCK_RETRY_MAX_MS)) {
      try {
        const handle = await open(lock, 'wx', API_KEYS_FILE_MODE);
        await handle.writeFile(`${process.pid}\n`, 'utf8').finally(() => handle.close());
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (await breakStaleLock(lock)) continue;
      if (Date.now() >= deadline) {
        throw new SecurityStoreError(
          'bad_reply',
          `api key file ${this.path}: another writer holds ${lock}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { force: true });
    }
  }

  private async load(): Promise<Snapshot> {
    let signature: string;
    try {
      signature = signatureOf(await stat(this.path, { bigint: true }));
    } catch (err) {
      if (isNotFound(err)) return EMPTY;
      throw err;
    }
    if (this.cached?.signature === signature) return this.cached.snapshot;
    let handle;
    try {
      handle = await open(this.path, 'r');
    } catch (err) {
      if (isNotFound(err)) return EMPTY;
      throw err;
    }
    try {
      // Signature and contents from the same open file: a rename in between cannot mix them.
      const current = signatureOf(await handle.stat({ bigint: true }));
      const snapshot = this.parse(await handle.readFile('utf8'));
      this.cached = { signature: current, snapshot };
      return snapshot;
    } finally {
      await handle.close();
    }
  }

  private parse(text: string): Snapshot {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // No cause: V8's JSON errors quote the input.
      throw new SecurityStoreError('bad_reply', `api key file ${this.path} is not JSON`);
    }
    const envelope = envelopeSchema.safeParse(value);
    if (!envelope.success) {
      throw new SecurityStoreError(
        'bad_reply',
        `api key file ${this.path} is not a version ${API_KEYS_FILE_VERSION} key file`,
        { cause: envelope.error },
      );
    }
    const records = new Map<string, StoredApiKey>();
    for (const [id, entry] of Object.entries(envelope.data.keys)) {
      const parsed = parseStoredApiKey(id, entry);
      if (parsed.ok) records.set(id, parsed.stored);
      else this.onError?.(parsed.error);
    }
    return { raw: envelope.data.keys, records };
  }

  private async write(keys: Record<string, unknown>): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = join(
      dir,
      `.${basename(this.path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
    );
    const text = `${JSON.stringify({ version: API_KEYS_FILE_VERSION, keys }, null, 2)}\n`;
    try {
      const handle = await open(temp, 'wx', API_KEYS_FILE_MODE);
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    this.cached = undefined;
    await syncDirectory(dir);
  }
}

/** Removes a lock file left by a crashed writer; true when it is gone (or was already). */
async function breakStaleLock(lock: string): Promise<boolean> {
  try {
    const st = await stat(lock);
    if (Date.now() - st.mtimeMs < API_KEYS_LOCK_STALE_MS) return false;
    await rm(lock, { force: true });
    return true;
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

/** Makes the rename durable; best effort (not every platform can fsync a directory). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The file itself is synced; only the rename's durability is at stake.
  }
}
