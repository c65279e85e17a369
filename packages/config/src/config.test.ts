import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_DISPATCH_CLOCK_SKEW_MS,
  DEFAULT_DISPATCH_SIGNATURE_VALIDITY_MS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_MAX_BATCH_LENGTH,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_SESSIONS_PER_PRINCIPAL,
  DEFAULT_PORT,
  DEFAULT_REQUEST_TIMEOUT_MS,
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

  it('caps batches at maxBatchLength (default 100), settable by MCP_MAX_BATCH_LENGTH', () => {
    expect(resolveConfig().maxBatchLength).toBe(DEFAULT_MAX_BATCH_LENGTH);
    expect(DEFAULT_MAX_BATCH_LENGTH).toBe(100);
    expect(resolveConfig(configFromEnv({ MCP_MAX_BATCH_LENGTH: '20' })).maxBatchLength).toBe(20);
    expect(() => resolveConfig({ maxBatchLength: 0 })).toThrow(ConfigError);
  });

  it('has connection and session limits with documented defaults, settable by env', () => {
    const c = resolveConfig();
    expect(c.maxSessionsPerPrincipal).toBe(DEFAULT_MAX_SESSIONS_PER_PRINCIPAL);
    expect(c.maxSessions).toBe(DEFAULT_MAX_SESSIONS);
    expect(c.headersTimeoutMs).toBe(DEFAULT_HEADERS_TIMEOUT_MS);
    expect(c.requestTimeoutMs).toBe(DEFAULT_REQUEST_TIMEOUT_MS);
    expect(c.maxConnectionsPerAddress).toBe(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS);
    expect([
      DEFAULT_MAX_SESSIONS_PER_PRINCIPAL,
      DEFAULT_MAX_SESSIONS,
      DEFAULT_HEADERS_TIMEOUT_MS,
      DEFAULT_REQUEST_TIMEOUT_MS,
      DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
    ]).toEqual([100, 10_000, 10_000, 30_000, 256]);
    const env = resolveConfig(
      configFromEnv({
        MCP_MAX_SESSIONS_PER_PRINCIPAL: '5',
        MCP_MAX_SESSIONS: '50',
        MCP_HEADERS_TIMEOUT_MS: '2000',
        MCP_REQUEST_TIMEOUT_MS: '4000',
        MCP_MAX_CONNECTIONS_PER_ADDRESS: '64',
      }),
    );
    expect(env).toMatchObject({
      maxSessionsPerPrincipal: 5,
      maxSessions: 50,
      headersTimeoutMs: 2000,
      requestTimeoutMs: 4000,
      maxConnectionsPerAddress: 64,
    });
    expect(() => resolveConfig({ maxSessionsPerPrincipal: 0 })).toThrow(ConfigError);
    expect(() => resolveConfig({ maxConnectionsPerAddress: 0 })).toThrow(ConfigError);
    expect(() => resolveConfig({ requestTimeoutMs: 50 })).toThrow(ConfigError);
  });

  it('refuses a headers timeout longer than the whole-request timeout', () => {
    expect(() => resolveConfig({ headersTimeoutMs: 20_000, requestTimeoutMs: 10_000 })).toThrow(
      /headersTimeoutMs: must not exceed requestTimeoutMs \(10000\)/,
    );
    expect(
      resolveConfig({ headersTimeoutMs: 5_000, requestTimeoutMs: 5_000 }).headersTimeoutMs,
    ).toBe(5_000);
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

  it('reads the dispatch signature validity and clock skew (defaults 30 s and 5 s)', () => {
    const input = configFromEnv({
      MCP_DISPATCH_SIGNATURE_VALIDITY_MS: '10000',
      MCP_DISPATCH_CLOCK_SKEW_MS: '0',
    });
    expect(input).toEqual({ dispatchSignatureValidityMs: 10_000, dispatchClockSkewMs: 0 });
    expect(resolveConfig(input)).toMatchObject(input);
    expect(resolveConfig({})).toMatchObject({
      dispatchSignatureValidityMs: DEFAULT_DISPATCH_SIGNATURE_VALIDITY_MS,
      dispatchClockSkewMs: DEFAULT_DISPATCH_CLOCK_SKEW_MS,
    });
    expect([DEFAULT_DISPATCH_SIGNATURE_VALIDITY_MS, DEFAULT_DISPATCH_CLOCK_SKEW_MS]).toEqual([
      30_000, 5_000,
    ]);
    expect(() => resolveConfig({ dispatchSignatureValidityMs: 999 })).toThrow(
      /dispatchSignatureValidityMs/,
    );
    expect(() => resolveConfig({ dispatchClockSkewMs: 60_001 })).toThrow(/dispatchClockSkewMs/);
    expect(() => configFromEnv({ MCP_DISPATCH_CLOCK_SKEW_MS: '5s' })).toThrow(
      /MCP_DISPATCH_CLOCK_SKEW_MS/,
    );
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
