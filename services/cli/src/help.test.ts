/** `--help` lists what the config loader reads; the banner names every URL. */
import { readFileSync } from 'node:fs';
import { DEFAULT_PORT, loadConfig } from '@mcp-cluster/config';
import { describe, expect, it } from 'vitest';
import { endpointsOf, formatBanner } from './banner.js';
import { COMMAND_DOCS, ENV_DOCS, commandHelp, envVarsOf, generalHelp, version } from './help.js';
import { APIKEY_OPTIONS, COMMANDS, NODE_OPTIONS, infoRequest } from './main-args.js';

/** Every environment variable `loadConfig` looks at, recorded through a proxy. */
function variablesTheLoaderReads(): Set<string> {
  const read = new Set<string>();
  const env = new Proxy<Record<string, string | undefined>>(
    {},
    {
      get(_target, key) {
        if (typeof key === 'string') read.add(key);
        return undefined;
      },
    },
  );
  loadConfig({ env, cwd: '/' });
  return read;
}

describe('command help', () => {
  it('lists every variable the config loader reads, in the help of each command using it', () => {
    const read = variablesTheLoaderReads();
    expect(read.size).toBeGreaterThan(30);
    for (const name of read) {
      expect(Object.keys(ENV_DOCS), `${name} has no help entry`).toContain(name);
      const users = ENV_DOCS[name as keyof typeof ENV_DOCS].commands;
      expect(users.length, `${name} is used by no command`).toBeGreaterThan(0);
      for (const command of users) {
        expect(commandHelp(command), `${command} --help lacks ${name}`).toMatch(
          new RegExp(`^  ${name} `, 'm'),
        );
      }
    }
    // And nothing the loader ignores.
    for (const name of Object.keys(ENV_DOCS)) expect(read).toContain(name);
  });

  it('shows the defaults from the config schema', () => {
    expect(commandHelp('serve')).toMatch(
      new RegExp(`^  MCP_PORT .*default: ${DEFAULT_PORT}$`, 'm'),
    );
    expect(commandHelp('serve')).toMatch(/^ {2}MCP_PATH .*default: \/mcp$/m);
    expect(commandHelp('gateway')).toMatch(/^ {2}MCP_STRATEGY[^]*default: round-robin$/m);
  });

  it('gives each command its own variables', () => {
    expect(envVarsOf('stdio')).not.toContain('MCP_PORT');
    expect(envVarsOf('serve')).not.toContain('REDIS_URL');
    expect(envVarsOf('gateway')).toEqual(expect.arrayContaining(['REDIS_URL', 'NATS_URL']));
    expect(envVarsOf('gateway')).not.toContain('MCP_PACKS');
    expect(envVarsOf('apikey')).toEqual([
      'MCP_CONFIG',
      'REDIS_URL',
      'MCP_CLUSTER_PREFIX',
      'MCP_API_KEYS_FILE',
    ]);
  });

  it('documents every command and every option it accepts', () => {
    for (const command of COMMANDS) {
      expect(COMMAND_DOCS[command], command).toBeDefined();
      expect(generalHelp()).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    for (const option of Object.keys(APIKEY_OPTIONS)) {
      expect(commandHelp('apikey')).toContain(`--${option}`);
    }
    for (const option of Object.keys(NODE_OPTIONS)) {
      expect(commandHelp('serve')).toContain(`--${option}`);
    }
    expect(commandHelp('stdio')).not.toContain('--port');
    expect(commandHelp('gateway')).not.toContain('--pack');
  });

  it('keeps lines within 100 columns', () => {
    for (const text of [generalHelp(), ...COMMANDS.map((c) => commandHelp(c))]) {
      for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
    }
  });

  it('reads the version from package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(version()).toBe(pkg.version);
  });
});

describe('infoRequest', () => {
  it('finds --help, -h, --version and the command they follow', () => {
    expect(infoRequest([])).toEqual({ kind: 'help', command: undefined });
    expect(infoRequest(['--help'])).toEqual({ kind: 'help', command: undefined });
    expect(infoRequest(['serve', '-h'])).toEqual({ kind: 'help', command: 'serve' });
    expect(infoRequest(['--port', '1', 'worker', '--help'])).toEqual({
      kind: 'help',
      command: 'worker',
    });
    expect(infoRequest(['apikey', 'create', '--help'])).toEqual({
      kind: 'help',
      command: 'apikey',
    });
    expect(infoRequest(['--version'])).toEqual({ kind: 'version' });
    expect(infoRequest(['-V'])).toEqual({ kind: 'version' });
    expect(infoRequest(['serve', '--port', '0'])).toBeUndefined();
  });
});

describe('banner', () => {
  it('names the transports of serve and gateway, and health, readiness and metrics', () => {
    expect(endpointsOf('serve', 'http://127.0.0.1:3000/mcp')).toEqual({
      mcp: 'http://127.0.0.1:3000/mcp',
      ws: 'ws://127.0.0.1:3000/ws',
      sse: 'http://127.0.0.1:3000/sse',
      health: 'http://127.0.0.1:3000/healthz',
      ready: 'http://127.0.0.1:3000/readyz',
      metrics: 'http://127.0.0.1:3000/metrics',
    });
    expect(endpointsOf('gateway', 'https://[::1]:8443/mcp')).toEqual({
      mcp: 'https://[::1]:8443/mcp',
      ws: 'wss://[::1]:8443/ws',
      sse: 'https://[::1]:8443/sse',
      health: 'https://[::1]:8443/healthz',
      ready: 'https://[::1]:8443/readyz',
      metrics: 'https://[::1]:8443/metrics',
    });
    expect(endpointsOf('worker', 'http://10.0.0.5:4000')).toEqual({
      dispatch: 'http://10.0.0.5:4000/dispatch',
      health: 'http://10.0.0.5:4000/healthz',
      ready: 'http://10.0.0.5:4000/readyz',
      metrics: 'http://10.0.0.5:4000/metrics',
    });
  });

  it('names only the routes the app has, and the OAuth routes when security serves them', () => {
    const has = (...paths: string[]) => ({
      hasRoute: ({ method, url }: { method: string; url: string }) =>
        paths.includes(`${method} ${url}`),
    });
    expect(
      endpointsOf(
        'serve',
        'http://127.0.0.1:3000/mcp',
        has('GET /ws', 'GET /.well-known/oauth-protected-resource/mcp', 'POST /oauth/token'),
      ),
    ).toEqual({
      mcp: 'http://127.0.0.1:3000/mcp',
      ws: 'ws://127.0.0.1:3000/ws',
      oauthMetadata: 'http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp',
      token: 'http://127.0.0.1:3000/oauth/token',
    });
  });

  it('reads as a short block: URLs, packs, component counts', () => {
    const text = formatBanner({
      role: 'serve',
      version: '1.2.3',
      endpoints: endpointsOf('serve', 'http://127.0.0.1:3000/mcp'),
      packs: ['/p/hello.ts'],
      counts: { tools: 1, resources: 2, resourceTemplates: 0, prompts: 1 },
    });
    expect(text).toBe(
      [
        'mcp-cluster 1.2.3 serve ready',
        '  Streamable HTTP        http://127.0.0.1:3000/mcp',
        '  WebSocket              ws://127.0.0.1:3000/ws',
        '  HTTP+SSE (2024-11-05)  http://127.0.0.1:3000/sse',
        '  health                 http://127.0.0.1:3000/healthz',
        '  readiness              http://127.0.0.1:3000/readyz',
        '  Prometheus metrics     http://127.0.0.1:3000/metrics',
        '  packs                  /p/hello.ts',
        '  loaded                 1 tool, 2 resources, 0 resource templates, 1 prompt',
        '  Ctrl-C stops it.',
        '',
      ].join('\n'),
    );
    expect(
      formatBanner({
        role: 'gateway',
        version: '1',
        id: 'g1',
        endpoints: endpointsOf('gateway', 'http://h:1/mcp'),
      }),
    ).toMatch(/^mcp-cluster 1 gateway g1 ready\n[^]*packs +loaded by the workers\n/);
  });
});
