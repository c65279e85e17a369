/**
 * A worker built from a config with a `sampling` section: a tool's ctx.sample from a client
 * without sampling is answered by the configured provider (a local stand-in), and the usage
 * is counted in the cluster's Redis.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import {
  countKeys,
  listenLoopback,
  modernRequest,
  testServices,
  textOf,
} from '@mcp-cluster/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessWorkers, envelopeHeaders, postDispatch } from './in-process.test-support.js';

const KEY_VAR = 'MCP_WORKER_TEST_SAMPLING_KEY';
const KEY = 'sk-worker-test-SECRET-0123456789';

afterEach(() => {
  delete process.env[KEY_VAR];
});

describe('worker: sampling', () => {
  it('answers ctx.sample with the configured provider and counts usage in Redis', async () => {
    const seen: (string | undefined)[] = [];
    let status = 200;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push(req.headers.authorization);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            model: 'stand-in',
            choices: [
              { index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' },
            ],
            usage: { prompt_tokens: 3, completion_tokens: 2 },
          }),
        );
      });
    });
    const url = await listenLoopback(server);
    await using _server = {
      [Symbol.asyncDispose]: () => new Promise<void>((r) => server.close(() => r())),
    };
    process.env[KEY_VAR] = KEY;
    await using cluster = new InProcessWorkers();
    const worker = await cluster.worker({
      nodeId: 'w-sampling',
      sampling: {
        providers: [{ name: 'local', type: 'openai', baseUrl: url, apiKeyEnv: KEY_VAR }],
        models: [{ name: 'stand-in', provider: 'local' }],
        limits: { tokensPerPrincipal: 10_000 },
        // One failure after one success (50%) opens it.
        breaker: { minRequests: 1, errorRate: 0.4 },
      },
    });
    const call = async () => {
      const res = await postDispatch(
        worker.url,
        envelopeHeaders(),
        JSON.stringify(
          modernRequest(
            'tools/call',
            { name: 'test_sampling', arguments: { prompt: 'hi' } },
            {
              capabilities: {},
            },
          ).body,
        ),
        { signal: AbortSignal.timeout(20_000) },
      );
      return (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
    };
    expect(textOf((await call()).result)).toBe('LLM response: hello');
    expect(seen).toEqual([`Bearer ${KEY}`]);
    const redis = new Redis(testServices().redisUrl);
    try {
      expect(await countKeys(redis, `${cluster.prefix}:sampling:usage:*`)).toBe(1);
    } finally {
      redis.disconnect();
    }
    // The provider fails, then its breaker is open (no call): the conformance tool reports
    // the error text it got; the worker's log names the provider, never the key.
    status = 500;
    expect(textOf((await call()).result)).toContain('sampling provider local is unavailable');
    expect(textOf((await call()).result)).toContain('sampling provider local is unavailable');
    expect(seen).toHaveLength(2);
    expect(JSON.stringify(cluster.logs)).toContain('sampling provider');
    expect(JSON.stringify(cluster.logs)).not.toContain(KEY);
  });
});
