import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_HOST,
  DEFAULT_PORT,
  MIN_DISPATCH_SECRET_LENGTH,
  configFromEnv,
  loadConfig,
  resolveConfig,
} from './index.js';

describe('resolveConfig', () => {
  it('fills every default and freezes the result', () => {
    const c = resolveConfig();
    expect(c.host).toBe(DEFAULT_HOST);
    expect(c.port).toBe(DEFAULT_PORT);
    expect(c.path).toBe('/mcp');
    expect(c.bodyLimitBytes).toBe(DEFAULT_BODY_LIMIT_BYTES);
    expect(c.maxJsonDepth).toBe(64);
    expect(c.sessionIdleMs).toBe(30 * 60 * 1000);
    expect(c.allowedHosts).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.allowedHosts)).toBe(true);
  });

  it('normalizes hostnames and ignores undefined fields', () => {
    const c = resolveConfig({ allowedHosts: [' Example.COM '], port: undefined });
    expect(c.allowedHosts).toEqual(['example.com']);
    expect(c.port).toBe(DEFAULT_PORT);
  });

  it('rejects bad values with one readable issue each', () => {
    try {
      resolveConfig({ port: 70000, path: 'mcp', logLevel: 'loud' as never });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const issues = (e as ConfigError).issues;
      expect(issues).toHaveLength(3);
      expect(issues.some((i) => i.startsWith('port:'))).toBe(true);
      expect(issues.some((i) => i.startsWith('path:'))).toBe(true);
    }
  });

  it('rejects unknown keys (typos must not be silently ignored)', () => {
    expect(() => resolveConfig({ prot: 1 } as never)).toThrow(ConfigError);
  });
});

describe('configFromEnv', () => {
  it('parses numbers, lists and state keys', () => {
    const input = configFromEnv(
      {
        MCP_PORT: '0',
        MCP_PACKS: './a.ts, pkg-b',
        MCP_STATE_KEYS: 'k1:0123456789abcdef,k2:fedcba9876543210',
        MCP_ALLOWED_HOSTS: 'localhost,example.com',
      },
      '/base',
    );
    expect(input).toEqual({
      port: 0,
      packs: ['/base/a.ts', 'pkg-b'],
      stateKeys: [
        { id: 'k1', secret: '0123456789abcdef' },
        { id: 'k2', secret: 'fedcba9876543210' },
      ],
      allowedHosts: ['localhost', 'example.com'],
    });
  });

  it('reads dispatch secrets (rotation list) and refuses short ones', () => {
    const current = 'c'.repeat(MIN_DISPATCH_SECRET_LENGTH);
    const previous = 'p'.repeat(MIN_DISPATCH_SECRET_LENGTH + 8);
    const input = configFromEnv({ MCP_DISPATCH_SECRETS: `${current}, ${previous}` });
    expect(input).toEqual({ dispatchSecrets: [current, previous] });
    expect(resolveConfig(input).dispatchSecrets).toEqual([current, previous]);
    expect(resolveConfig({}).dispatchSecrets).toEqual([]);
    const short = configFromEnv({ MCP_DISPATCH_SECRETS: 'too-short' });
    expect(() => resolveConfig(short)).toThrow(/dispatchSecrets: at least 32 characters/);
  });

  it('reads trusted proxies and refuses what is not an address or range', () => {
    const input = configFromEnv({ MCP_TRUST_PROXY: '10.0.0.0/8, fd00::/8,192.0.2.1' });
    expect(resolveConfig(input).trustProxy).toEqual(['10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
    expect(resolveConfig({}).trustProxy).toEqual([]);
    for (const bad of ['everyone', '10.0.0.0/33', '*']) {
      expect(() => resolveConfig({ trustProxy: [bad] })).toThrow(/trustProxy/);
    }
  });

  it('reports malformed numbers and keys', () => {
    expect(() => configFromEnv({ MCP_PORT: 'abc' })).toThrow(/MCP_PORT/);
    expect(() => configFromEnv({ MCP_STATE_KEYS: 'nocolon' })).toThrow(/MCP_STATE_KEYS/);
  });
});

describe('loadConfig', () => {
  it('layers file < env < overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ port: 1111, host: '0.0.0.0', packs: ['./p.ts'] }));
    const c = loadConfig({
      env: { MCP_CONFIG: file, MCP_PORT: '2222' },
      overrides: { host: '::1' },
    });
    expect(c.port).toBe(2222);
    expect(c.host).toBe('::1');
    expect(c.packs).toEqual([join(dir, 'p.ts')]);
  });

  it('fails clearly on an unreadable or non-JSON file', () => {
    expect(() => loadConfig({ env: {}, file: '/nonexistent/x.json' })).toThrow(/cannot be read/);
    const dir = mkdtempSync(join(tmpdir(), 'mcp-config-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{nope');
    expect(() => loadConfig({ env: {}, file })).toThrow(/not valid JSON/);
  });
});
