import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SecurityStoreError } from '../stores/types.js';
import { describeApiKeyStoreContract, fakeClock } from './contract.testkit.js';
import { DEFAULT_API_KEYS_FILE, openApiKeyStore } from './create.js';
import { API_KEYS_FILE_MODE, API_KEYS_LOCK_STALE_MS, FileApiKeyStore } from './file-store.js';
import {
  generateApiKey,
  hashSecret,
  isApiKeyId,
  looksLikeApiKey,
  parseApiKey,
  secretMatches,
} from './format.js';
import { apiKeyProvider } from './provider.js';
import { MemoryApiKeyStore } from './store.js';

describe('api key format', () => {
  it('generates mcpk_<12 hex>_<43 base64url> keys that parse back', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const g = generateApiKey();
      expect(g.key).toMatch(/^mcpk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
      expect(g.key).toBe(`mcpk_${g.id}_${g.secret}`);
      expect(parseApiKey(g.key)).toEqual({ id: g.id, secret: g.secret });
      expect(Buffer.from(g.secret, 'base64url')).toHaveLength(32);
      expect(g.secretHash).toBe(hashSecret(g.secret));
      expect(g.secretHash).toMatch(/^[0-9a-f]{64}$/);
      seen.add(g.id);
    }
    expect(seen.size).toBe(200);
  });

  it('splits by position, so a secret containing _ still parses', () => {
    const secret = `ab_cd-${'x'.repeat(37)}`;
    expect(parseApiKey(`mcpk_0123456789ab_${secret}`)).toEqual({ id: '0123456789ab', secret });
  });

  it('refuses anything not exactly of the format', () => {
    const good = generateApiKey().key;
    for (const bad of [
      '',
      'mcpk_',
      good.slice(0, -1),
      `${good}x`,
      good.replace('mcpk_', 'MCPK_'),
      `mcpk_0123456789AB_${'x'.repeat(43)}`,
      `mcpk_0123456789a_${'x'.repeat(44)}`,
      `mcpk_0123456789ab_${'x'.repeat(42)}=`,
      ` ${good}`,
    ]) {
      expect(parseApiKey(bad), bad).toBeUndefined();
    }
    expect(looksLikeApiKey('mcpk_junk')).toBe(true);
    expect(looksLikeApiKey('eyJhbGciOi.x.y')).toBe(false);
    expect(isApiKeyId('0123456789ab')).toBe(true);
    expect(isApiKeyId('0123456789abc')).toBe(false);
  });

  it('matches a secret against its hash only', () => {
    const g = generateApiKey();
    expect(secretMatches(g.secret, g.secretHash)).toBe(true);
    const flipped = `${g.secret.slice(0, -1)}${g.secret.endsWith('A') ? 'B' : 'A'}`;
    expect(secretMatches(flipped, g.secretHash)).toBe(false);
    expect(secretMatches(g.secret, hashSecret('other'))).toBe(false);
    expect(secretMatches(g.secret, 'abcd')).toBe(false);
  });
});

describeApiKeyStoreContract('memory', () => {
  const clock = fakeClock();
  const store = new MemoryApiKeyStore({ now: clock.now });
  return Promise.resolve({
    store,
    other: store,
    ...clock,
    errors: [],
    close: () => Promise.resolve(),
  });
});

describeApiKeyStoreContract('file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-apikeys-'));
  const clock = fakeClock();
  const errors: Error[] = [];
  const path = join(dir, 'nested', 'keys.json');
  const options = { now: clock.now, onError: (err: Error) => errors.push(err) };
  return {
    store: new FileApiKeyStore(path, options),
    other: new FileApiKeyStore(path, options),
    ...clock,
    errors,
    close: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('file store specifics', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-apikeys-'));
    path = join(dir, 'keys.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a mode-0600 JSON file holding hashes only, and leaves no temporary file', async () => {
    const store = new FileApiKeyStore(path);
    const { key, record } = await store.create({ principal: 'alice' });
    await store.revoke(record.id);
    expect((await stat(path)).mode & 0o777).toBe(API_KEYS_FILE_MODE);
    const text = await readFile(path, 'utf8');
    const parsed = parseApiKey(key);
    expect(parsed).toBeDefined();
    expect(text).not.toContain(parsed?.secret);
    expect(JSON.parse(text)).toMatchObject({
      version: 1,
      keys: { [record.id]: { secretHash: hashSecret(parsed?.secret ?? '') } },
    });
    expect(await readdir(dir)).toEqual(['keys.json']);
  });

  it('writers of separate stores (processes) take turns: no update is lost', async () => {
    // Two instances share nothing but the file, like two `mcp-cluster apikey` runs.
    const first = new FileApiKeyStore(path);
    const second = new FileApiKeyStore(path);
    const created = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 === 0 ? first : second).create({ principal: `p${i}` }),
      ),
    );
    const ids = created.map((c) => c.record.id).sort();
    expect((await new FileApiKeyStore(path).list()).map((r) => r.id).sort()).toEqual(ids);
    expect(await readdir(dir)).toEqual(['keys.json']);
  });

  it('breaks a lock a crashed writer left; gives up on a live one after lockWaitMs', async () => {
    const lock = `${path}.lock`;
    await writeFile(lock, '999999\n');
    const old = new Date(Date.now() - API_KEYS_LOCK_STALE_MS - 1_000);
    await utimes(lock, old, old);
    const store = new FileApiKeyStore(path, { lockWaitMs: 200 });
    await store.create({ principal: 'after-crash' });
    expect(await readdir(dir)).toEqual(['keys.json']);
    // A fresh lock: someone is writing right now.
    await writeFile(lock, '999999\n');
    const err: unknown = await store.create({ principal: 'blocked' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecurityStoreError);
    expect((err as Error).message).toMatch(/another writer holds/);
    expect((await store.list()).map((r) => r.principal)).toEqual(['after-crash']);
  });

  it('a missing file is an empty store', async () => {
    const store = new FileApiKeyStore(join(dir, 'absent.json'));
    expect(await store.list()).toEqual([]);
    expect(await store.get('0123456789ab')).toBeUndefined();
    expect(await store.revoke('0123456789ab')).toBe(false);
  });

  it('re-reads the file after another writer replaced it', async () => {
    const reader = new FileApiKeyStore(path);
    const writer = new FileApiKeyStore(path);
    const { record } = await writer.create({ principal: 'alice' });
    expect((await reader.get(record.id))?.revokedAt).toBeUndefined();
    await writer.revoke(record.id);
    expect((await reader.get(record.id))?.revokedAt).toBeDefined();
  });

  it('a corrupt record is reported, absent, refused, and written back untouched', async () => {
    const errors: Error[] = [];
    const store = new FileApiKeyStore(path, { onError: (e) => errors.push(e) });
    const { key, record } = await store.create({ principal: 'alice' });
    const file = JSON.parse(await readFile(path, 'utf8')) as {
      keys: Record<string, Record<string, unknown>>;
    };
    const broken = { ...file.keys[record.id], roles: 'admin' };
    file.keys[record.id] = broken;
    await writeFile(path, JSON.stringify(file));

    expect(await store.get(record.id)).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SecurityStoreError);
    expect(errors[0]?.message).toBe(`api key record ${record.id} is corrupt`);
    const provider = apiKeyProvider({ store, cacheMs: 0 });
    expect((await provider.authenticate({ headers: { 'x-api-key': key } })).type).toBe('rejected');
    // Another write keeps the corrupt entry as it was, for an operator to look at.
    await store.create({ principal: 'bob' });
    const after = JSON.parse(await readFile(path, 'utf8')) as typeof file;
    expect(after.keys[record.id]).toEqual(broken);
    expect(await store.list()).toHaveLength(1);
  });

  it('a file that is not a key file fails every call and is never overwritten', async () => {
    for (const content of ['{not json', '{"version":2,"keys":{}}', '[]']) {
      await writeFile(path, content);
      const store = new FileApiKeyStore(path);
      await expect(store.get('0123456789ab')).rejects.toBeInstanceOf(SecurityStoreError);
      await expect(store.create({ principal: 'a' })).rejects.toBeInstanceOf(SecurityStoreError);
      await expect(store.list()).rejects.toThrow(/not (JSON|a version 1 key file)/);
      expect(await readFile(path, 'utf8')).toBe(content);
    }
  });

  it('a failed write does not block later ones', async () => {
    await writeFile(path, '{not json');
    const store = new FileApiKeyStore(path);
    await expect(store.create({ principal: 'a' })).rejects.toThrow();
    await rm(path);
    expect((await store.create({ principal: 'b' })).record.principal).toBe('b');
  });
});

describe('openApiKeyStore', () => {
  it('is the file store without a Redis URL, at the given path or the default', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-apikeys-'));
    try {
      const path = join(dir, 'k.json');
      await using opened = await openApiKeyStore({ redisUrl: '', prefix: 'p', file: path });
      expect(opened.kind).toBe('file');
      expect(opened.location).toBe(path);
      await opened.store.create({ principal: 'a' });
      expect(await new FileApiKeyStore(path).list()).toHaveLength(1);
      const byDefault = await openApiKeyStore({ prefix: 'p' });
      expect(byDefault.location).toBe(join(process.cwd(), DEFAULT_API_KEYS_FILE));
      await byDefault.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
