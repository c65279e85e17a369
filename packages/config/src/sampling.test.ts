import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from './config.js';

const base = {
  providers: [{ name: 'oai', type: 'openai' as const, apiKeyEnv: 'OPENAI_API_KEY' }],
  models: [{ name: 'gpt-4o-mini', provider: 'oai' }],
};

function issues(sampling: unknown): readonly string[] {
  try {
    resolveConfig({ sampling } as never);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

describe('config: sampling', () => {
  it('fills in the defaults', () => {
    const c = resolveConfig({ sampling: base });
    expect(c.sampling).toMatchObject({
      mode: 'client-first',
      limits: { windowMs: 3_600_000 },
      breaker: {},
      providers: [{ name: 'oai', timeoutMs: 60_000 }],
      models: [{ aliases: [], inputPricePerMTok: 0, outputPricePerMTok: 0 }],
    });
    expect(resolveConfig({}).sampling).toBeUndefined();
  });

  it('refuses inline keys, two key sources, unknown providers and models, duplicates', () => {
    expect(issues({ ...base, providers: [{ ...base.providers[0], apiKey: 'sk-x' }] })).toEqual([
      expect.stringContaining('sampling.providers.0: Unrecognized key: "apiKey"'),
    ]);
    expect(issues({ ...base, providers: [{ ...base.providers[0], apiKeyFile: '/k' }] })).toEqual([
      'sampling.providers.0: give exactly one of apiKeyEnv and apiKeyFile',
    ]);
    expect(
      issues({ ...base, models: [{ name: 'm', provider: 'nope' }], defaultModel: 'x' }),
    ).toEqual([
      'sampling.models.0.provider: no provider named "nope"',
      'sampling.defaultModel: no model named "x"',
    ]);
    expect(issues({ ...base, providers: [base.providers[0], base.providers[0]] })).toEqual([
      'sampling.providers.1.name: listed twice',
    ]);
    expect(issues({ ...base, mode: 'always' })).toEqual([expect.stringContaining('sampling.mode')]);
  });
});
