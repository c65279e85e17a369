/**
 * The embedded node's engine wires the `sampling` configuration: a tool's ctx.sample from a
 * client without sampling is answered by the configured provider (a local stand-in).
 */
import { createServer } from 'node:http';
import { resolveConfig } from '@mcp-cluster/config';
import type { ProcessLogger } from '@mcp-cluster/config';
import { modernRequestContext } from '@mcp-cluster/server';
import { MODERN_VERSION, listenLoopback, textOf } from '@mcp-cluster/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeEngine } from './engine.js';

const KEY_VAR = 'MCP_CLI_ENGINE_TEST_SAMPLING_KEY';
const silent: ProcessLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('createNodeEngine: sampling', () => {
  it('answers ctx.sample with the configured provider for a client that cannot sample', async () => {
    const seen: { auth: string | undefined; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ auth: req.headers.authorization, body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            model: 'stand-in',
            choices: [
              { index: 0, message: { role: 'assistant', content: 'hi!' }, finish_reason: 'stop' },
            ],
          }),
        );
      });
    });
    const url = await listenLoopback(server);
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    process.env[KEY_VAR] = 'sk-cli-test';
    cleanup.push(() => {
      delete process.env[KEY_VAR];
    });
    const engine = await createNodeEngine(
      resolveConfig({
        packs: ['builtin:conformance'],
        sampling: {
          providers: [{ name: 'local', type: 'openai', baseUrl: url, apiKeyEnv: KEY_VAR }],
          models: [{ name: 'stand-in', provider: 'local' }],
        },
      }),
      silent,
    );
    cleanup.push(() => engine.close());
    const caps = {};
    const res = await engine.handleRequest(
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'test_sampling',
          arguments: { prompt: 'Say hi' },
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
            'io.modelcontextprotocol/clientCapabilities': caps,
          },
        },
      },
      modernRequestContext(
        { protocolVersion: MODERN_VERSION, clientCapabilities: caps },
        1,
        new AbortController().signal,
        { notify: () => undefined, request: () => Promise.reject(new Error('stateless')) },
      ),
    );
    expect('result' in res && textOf(res.result)).toBe('LLM response: hi!');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.auth).toBe('Bearer sk-cli-test');
    expect(JSON.parse(seen[0]?.body ?? '{}')).toMatchObject({
      model: 'stand-in',
      messages: [{ role: 'user', content: 'Say hi' }],
      max_tokens: 100,
    });
  });

  it('refuses to start when a provider key is missing, naming the variable', async () => {
    await expect(
      createNodeEngine(
        resolveConfig({
          sampling: {
            providers: [{ name: 'local', type: 'openai', apiKeyEnv: `${KEY_VAR}_ABSENT` }],
            models: [{ name: 'm', provider: 'local' }],
          },
        }),
        silent,
      ),
    ).rejects.toThrow(`sampling provider local: environment variable ${KEY_VAR}_ABSENT is not set`);
  });
});
