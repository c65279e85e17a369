import { SamplingConfigSchema } from '@mcp-cluster/config';
import { describe, expect, it } from 'vitest';
import { readProviderKey } from './secrets.js';

const provider = (extra: object) =>
  SamplingConfigSchema.parse({
    providers: [{ name: 'p', type: 'openai', ...extra }],
    models: [{ name: 'm', provider: 'p' }],
  }).providers[0]!;

describe('readProviderKey', () => {
  it('reads the named environment variable or file, trimmed', () => {
    expect(readProviderKey(provider({ apiKeyEnv: 'K' }), { env: { K: ' sk-1 \n' } })).toBe('sk-1');
    expect(
      readProviderKey(provider({ apiKeyFile: '/run/secrets/k' }), {
        readFile: (f) => (f === '/run/secrets/k' ? 'sk-2\n' : ''),
      }),
    ).toBe('sk-2');
  });

  it('names what is missing, never a value', () => {
    expect(() => readProviderKey(provider({ apiKeyEnv: 'K' }), { env: {} })).toThrow(
      'sampling provider p: environment variable K is not set',
    );
    expect(() =>
      readProviderKey(provider({ apiKeyFile: '/nope' }), {
        readFile: () => {
          throw new Error('ENOENT');
        },
      }),
    ).toThrow('sampling provider p: key file /nope cannot be read');
    expect(() =>
      readProviderKey(provider({ apiKeyFile: '/empty' }), { readFile: () => ' \n' }),
    ).toThrow('key file /empty is empty');
  });
});
