/** `mcp-cluster apikey`: parsing, the command against memory and file stores, the real process. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  apiKeyProvider,
  DEFAULT_API_KEYS_FILE,
  FileApiKeyStore,
  MemoryApiKeyStore,
} from '@mcp-cluster/security';
import { apiKeyStoreConfig, formatApiKey, runApiKey, runApiKeyCommand } from './apikey.js';
import { type ApiKeyArgs, parseCommandLine } from './main-args.js';

const BIN = fileURLToPath(new URL('../bin/mcp-cluster.js', import.meta.url));
const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);
/** Each spawn transpiles the CLI through tsx (seconds apiece on a loaded machine). */
const SPAWN_TEST_TIMEOUT_MS = 90_000;

function capture() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: { write: (s: string) => (out.stdout += s) },
      stderr: { write: (s: string) => (out.stderr += s) },
      now: () => T0,
    },
  };
}

function apikeyArgs(argv: string[]): ApiKeyArgs {
  const parsed = parseCommandLine(argv);
  if (parsed === 'help' || parsed.command !== 'apikey') throw new Error('not an apikey command');
  return parsed.apikey;
}

const keyOf = (stdout: string): string => /^key: (\S+)$/m.exec(stdout)?.[1] ?? '';
const idOf = (stdout: string): string => /^id: (\S+)$/m.exec(stdout)?.[1] ?? '';

describe('parseCommandLine apikey', () => {
  it('parses create with every option, list and revoke', () => {
    expect(
      parseCommandLine([
        'apikey',
        'create',
        '--principal',
        'deployer',
        '--role',
        'a',
        '--role',
        'b',
        '--kind',
        'service',
        '--name',
        'ci bot',
        '--expires-in',
        '3600',
        '--file',
        'k.json',
      ]),
    ).toEqual({
      command: 'apikey',
      file: undefined,
      overrides: {},
      apikey: {
        action: 'create',
        principal: 'deployer',
        roles: ['a', 'b'],
        kind: 'service',
        name: 'ci bot',
        expiresInSec: 3600,
        keysFile: 'k.json',
      },
    });
    expect(apikeyArgs(['apikey', 'create', '--principal', 'p'])).toEqual({
      action: 'create',
      principal: 'p',
      roles: [],
      kind: 'user',
      name: undefined,
      expiresInSec: undefined,
      keysFile: undefined,
    });
    expect(parseCommandLine(['--config', 'c.json', 'apikey', 'list'])).toEqual({
      command: 'apikey',
      file: 'c.json',
      overrides: {},
      apikey: { action: 'list', keysFile: undefined },
    });
    expect(apikeyArgs(['apikey', 'revoke', '0123456789ab', '--file', 'f'])).toEqual({
      action: 'revoke',
      id: '0123456789ab',
      keysFile: 'f',
    });
    expect(parseCommandLine(['apikey', '--help'])).toBe('help');
  });

  it('refuses bad apikey command lines', () => {
    for (const [argv, message] of [
      [['apikey'], /create, list or revoke/],
      [['apikey', 'rotate'], /unknown apikey action rotate/],
      [['apikey', 'create'], /--principal/],
      [['apikey', 'create', '--principal', 'p', '--kind', 'robot'], /user or service/],
      [['apikey', 'create', '--principal', 'p', '--expires-in', '0'], /--expires-in/],
      [['apikey', 'create', '--principal', 'p', '--expires-in', '1.5'], /--expires-in/],
      [['apikey', 'create', '--principal', 'p', 'extra'], /unexpected argument extra/],
      [['apikey', 'list', '--role', 'r'], /--role applies to apikey create only/],
      [['apikey', 'revoke'], /needs the key id/],
      [['apikey', 'revoke', 'a', 'b'], /unexpected argument b/],
      [['apikey', 'list', '--port', '1'], /port/],
    ] as const) {
      expect(() => parseCommandLine(argv), argv.join(' ')).toThrow(message);
    }
  });
});

describe('runApiKeyCommand', () => {
  it('create prints the id and the key once on stdout, and the key works', async () => {
    const store = new MemoryApiKeyStore({ now: () => T0 });
    const { out, io } = capture();
    const code = await runApiKeyCommand(
      apikeyArgs(['apikey', 'create', '--principal', 'alice', '--role', 'reader']),
      store,
      io,
      '/tmp/k.json',
    );
    expect(code).toBe(0);
    const id = idOf(out.stdout);
    const key = keyOf(out.stdout);
    expect(out.stdout).toBe(`id: ${id}\nkey: ${key}\n`);
    expect(key).toMatch(new RegExp(`^mcpk_${id}_`));
    expect(out.stderr).toContain(
      `api key ${id} created for alice (principal id apikey:alice) in /tmp/k.json`,
    );
    expect(out.stderr).not.toContain(key);
    const provider = apiKeyProvider({ store, cacheMs: 0 });
    expect(await provider.authenticate({ headers: { 'x-api-key': key } })).toMatchObject({
      type: 'authenticated',
      principal: { id: 'apikey:alice', kind: 'user', roles: ['reader'] },
    });
  });

  it('--expires-in sets the expiry from the clock', async () => {
    const store = new MemoryApiKeyStore({ now: () => T0 });
    const { out, io } = capture();
    await runApiKeyCommand(
      apikeyArgs(['apikey', 'create', '--principal', 'a', '--expires-in', '60']),
      store,
      io,
    );
    expect((await store.get(idOf(out.stdout)))?.expiresAt).toBe(T0 + 60_000);
  });

  it('list prints one line per key, with status, never the hash', async () => {
    let now = T0;
    const store = new MemoryApiKeyStore({ now: () => now });
    const a = await store.create({ principal: 'alice', roles: ['r1', 'r2'], name: 'laptop' });
    now += 1000;
    const b = await store.create({ principal: 'svc one', kind: 'service' });
    await store.revoke(b.record.id);
    now += 1000;
    const c = await store.create({ principal: 'carol', expiresAt: now + 1 });
    const { out, io } = capture();
    expect(
      await runApiKeyCommand(apikeyArgs(['apikey', 'list']), store, {
        ...io,
        now: () => now + 1,
      }),
    ).toBe(0);
    expect(out.stdout.split('\n')).toEqual([
      `${a.record.id}  active  principal=alice  kind=user  roles=r1,r2  created=2025-01-02T03:04:05.000Z  name="laptop"`,
      `${b.record.id}  revoked  principal="svc one"  kind=service  roles=-  created=2025-01-02T03:04:06.000Z  revoked=2025-01-02T03:04:06.000Z`,
      `${c.record.id}  expired  principal=carol  kind=user  roles=-  created=2025-01-02T03:04:07.000Z  expires=2025-01-02T03:04:07.001Z`,
      '',
    ]);
    const hash = (await store.get(a.record.id))?.secretHash ?? 'missing';
    expect(out.stdout).not.toContain(hash);
    expect(formatApiKey({ ...a.record, principal: 'a\nb' }, now)).toContain('principal="a\\nb"');
  });

  it('revoke: 0 for a key, 1 with a message for an unknown id', async () => {
    const store = new MemoryApiKeyStore();
    const { record } = await store.create({ principal: 'alice' });
    const ok = capture();
    expect(await runApiKeyCommand(apikeyArgs(['apikey', 'revoke', record.id]), store, ok.io)).toBe(
      0,
    );
    expect(ok.out.stdout).toBe(`revoked ${record.id}\n`);
    expect((await store.get(record.id))?.revokedAt).toBeDefined();
    const unknown = capture();
    expect(
      await runApiKeyCommand(apikeyArgs(['apikey', 'revoke', 'nope']), store, unknown.io),
    ).toBe(1);
    expect(unknown.out).toEqual({ stdout: '', stderr: 'mcp-cluster: no api key nope\n' });
  });

  it('invalid input exits 2, a failing store 1, both with a message', async () => {
    const store = new MemoryApiKeyStore();
    const bad = capture();
    expect(
      await runApiKeyCommand(
        apikeyArgs(['apikey', 'create', '--principal', 'p', '--role', 'two words']),
        store,
        bad.io,
      ),
    ).toBe(2);
    expect(bad.out.stdout).toBe('');
    expect(bad.out.stderr).toMatch(/^mcp-cluster: api key: invalid roles\.0/);
    const broken = capture();
    const failing = {
      create: store.create.bind(store),
      get: store.get.bind(store),
      revoke: store.revoke.bind(store),
      list: () => Promise.reject(new Error('connection lost')),
    };
    expect(await runApiKeyCommand(apikeyArgs(['apikey', 'list']), failing, broken.io)).toBe(1);
    expect(broken.out.stderr).toBe('mcp-cluster: connection lost\n');
  });
});

describe('apikey store selection', () => {
  const config = { redisUrl: 'redis://r:6379', clusterPrefix: 'mcp' };
  const onError = (): void => undefined;
  const list = apikeyArgs(['apikey', 'list']);
  const listFile = apikeyArgs(['apikey', 'list', '--file', 'flag.json']);

  it('Redis when configured, unless --file names a file', () => {
    expect(apiKeyStoreConfig(list, config, {}, onError)).toMatchObject({
      redisUrl: 'redis://r:6379',
      prefix: 'mcp',
    });
    expect(apiKeyStoreConfig(listFile, config, {}, onError)).toMatchObject({
      redisUrl: undefined,
      file: 'flag.json',
    });
  });

  it('the file from --file, else MCP_API_KEYS_FILE, else the default', () => {
    const noRedis = { clusterPrefix: 'mcp' };
    const env = { MCP_API_KEYS_FILE: 'env.json' };
    expect(apiKeyStoreConfig(listFile, noRedis, env, onError).file).toBe('flag.json');
    expect(apiKeyStoreConfig(list, noRedis, env, onError).file).toBe('env.json');
    expect(apiKeyStoreConfig(list, noRedis, { MCP_API_KEYS_FILE: '' }, onError).file).toBe(
      DEFAULT_API_KEYS_FILE,
    );
  });
});

describe('runApiKey on the file store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-cli-apikey-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates in the MCP_API_KEYS_FILE file; list warns about corrupt records', async () => {
    const path = join(dir, 'keys.json');
    const env = { MCP_API_KEYS_FILE: path };
    const created = capture();
    const args = apikeyArgs(['apikey', 'create', '--principal', 'alice']);
    expect(await runApiKey(args, { clusterPrefix: 'mcp' }, created.io, env)).toBe(0);
    const id = idOf(created.out.stdout);
    expect((await new FileApiKeyStore(path).get(id))?.principal).toBe('alice');

    const file = JSON.parse(await readFile(path, 'utf8')) as {
      keys: Record<string, Record<string, unknown>>;
    };
    file.keys[id] = { ...file.keys[id], kind: 'robot' };
    await writeFile(path, JSON.stringify(file));
    const listed = capture();
    expect(
      await runApiKey(apikeyArgs(['apikey', 'list']), { clusterPrefix: 'mcp' }, listed.io, env),
    ).toBe(0);
    expect(listed.out).toEqual({
      stdout: '',
      stderr: `mcp-cluster: warning: api key record ${id} is corrupt\n`,
    });
  });

  it('an unreadable key file exits 1 and is left alone', async () => {
    const path = join(dir, 'keys.json');
    await writeFile(path, 'not json');
    const { out, io } = capture();
    const args = apikeyArgs(['apikey', 'create', '--principal', 'a', '--file', path]);
    expect(await runApiKey(args, { clusterPrefix: 'mcp' }, io, {})).toBe(1);
    expect(out.stderr).toBe(`mcp-cluster: api key file ${path} is not JSON\n`);
    expect(await readFile(path, 'utf8')).toBe('not json');
  });
});

/** Runs the real CLI to completion. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, REDIS_URL: '', MCP_API_KEYS_FILE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('mcp-cluster apikey (real process, file store)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-cli-apikey-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'create, list, revoke: a provider reading the same file refuses the key at once',
    async () => {
      const path = join(dir, 'keys.json');
      const created = await cli([
        'apikey',
        'create',
        '--principal',
        'alice',
        '--role',
        'reader',
        '--file',
        path,
      ]);
      expect(created.code, created.stderr).toBe(0);
      const id = idOf(created.stdout);
      const key = keyOf(created.stdout);
      expect(key).toMatch(new RegExp(`^mcpk_${id}_`));

      // The node's side: a file store and a provider with a cache, on a fake clock.
      let now = Date.now();
      const provider = apiKeyProvider({ store: new FileApiKeyStore(path), now: () => now });
      const req = { headers: { authorization: `Bearer ${key}` } };
      expect(await provider.authenticate(req)).toMatchObject({
        type: 'authenticated',
        principal: { id: 'apikey:alice', roles: ['reader'], claims: { apiKeyId: id } },
      });

      const listed = await cli(['apikey', 'list'], { MCP_API_KEYS_FILE: path });
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(
        new RegExp(`^${id}  active  principal=alice  kind=user  roles=reader  created=`),
      );
      expect(listed.stdout).not.toMatch(/[0-9a-f]{64}/);
      expect(listed.stdout).not.toContain(key.slice(18));

      const revoked = await cli(['apikey', 'revoke', id, '--file', path]);
      expect(revoked).toMatchObject({ code: 0, stdout: `revoked ${id}\n` });
      // Past the provider's cache time: the other process's revocation shows at once.
      now += 1_000;
      expect(await provider.authenticate(req)).toMatchObject({
        type: 'rejected',
        status: 401,
        reason: 'invalid api key',
      });
    },
    SPAWN_TEST_TIMEOUT_MS,
  );

  it(
    'exits 1 on an unknown id and 2 on a bad command line',
    async () => {
      const path = join(dir, 'keys.json');
      const unknown = await cli(['apikey', 'revoke', '0123456789ab', '--file', path]);
      expect(unknown).toMatchObject({ code: 1, stdout: '' });
      expect(unknown.stderr).toContain('no api key 0123456789ab');
      const usage = await cli(['apikey', 'create', '--file', path]);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('--principal');
    },
    SPAWN_TEST_TIMEOUT_MS,
  );
});
