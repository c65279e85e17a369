/**
 * Two sampling services (two workers) counting in one Redis: a principal's token budget is
 * the cluster's, not each worker's.
 */
import { RedisUsageStore, clusterKeys } from '@mcp-cluster/cluster';
import { SamplingConfigSchema } from '@mcp-cluster/config';
import { purgePrefix, testKeyPrefix, testRedisUrl } from '@mcp-cluster/test-support';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createSamplingService } from './service.js';
import { openAiReply, standIn } from './test-helpers.js';

const prefix = testKeyPrefix();
const redis = new Redis(testRedisUrl());

afterAll(async () => {
  await purgePrefix(redis, prefix);
  redis.disconnect();
});

describe('sampling limits in Redis', () => {
  it('a budget spent on one worker is spent on the other', async () => {
    await using provider = await standIn(() => openAiReply('ok'));
    const config = SamplingConfigSchema.parse({
      providers: [{ name: 'oai', type: 'openai', baseUrl: provider.url, apiKeyEnv: 'K' }],
      models: [{ name: 'gpt-test', provider: 'oai' }],
      limits: { windowMs: 60_000, tokensPerPrincipal: 60 },
    });
    const store = new RedisUsageStore(redis, clusterKeys(prefix));
    await using one = createSamplingService(config, { env: { K: 'sk-1' }, store });
    await using two = createSamplingService(config, { env: { K: 'sk-1' }, store });
    const request = {
      principal: { id: 'alice', kind: 'user' as const, roles: [] },
      signal: new AbortController().signal,
    };
    const params = {
      messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }],
      maxTokens: 30,
    };
    // Each call reserves 1 + 30 and settles to the reported 18: 36 used after two calls, and
    // 36 + 31 > 60 refuses on both workers (each alone would have used only 18).
    await one.createMessage(params, request);
    await two.createMessage(params, request);
    await expect(one.createMessage(params, request)).rejects.toMatchObject({ code: -32012 });
    await expect(two.createMessage(params, request)).rejects.toMatchObject({ code: -32012 });
    expect(provider.received).toHaveLength(2);
  });
});
