import { describe, expect, it } from 'vitest';

import { MemoryNonceStore } from '../stores/memory.js';
import { SigningConfigSchema } from './config.js';
import { signRequest } from './sign.js';
import { createRequestVerifier, DEFAULT_SIGNATURE_TOLERANCE_MS } from './verify.js';

const SECRET = 'c'.repeat(32);

/** Issue paths and messages of a failed parse (none when it succeeds). */
function issues(input: unknown): string[] {
  const result = SigningConfigSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('SigningConfigSchema', () => {
  it('fills defaults and feeds createRequestVerifier', async () => {
    expect(SigningConfigSchema.parse({})).toEqual({
      clients: [],
      toleranceMs: DEFAULT_SIGNATURE_TOLERANCE_MS,
    });
    const config = SigningConfigSchema.parse({
      clients: [{ principal: 'svc', keys: [{ id: 'k1', secret: SECRET, alg: 'HMAC-SHA512' }] }],
      toleranceMs: 60_000,
    });
    const verifier = createRequestVerifier({ ...config, nonces: new MemoryNonceStore() });
    expect(verifier.toleranceMs).toBe(60_000);
    const params = signRequest(
      { method: 'ping' },
      { id: 'k1', secret: SECRET, alg: 'HMAC-SHA512' },
    );
    expect(await verifier.verify({ principal: { id: 'svc' }, method: 'ping', params })).toEqual({
      ok: true,
      signed: true,
      keyId: 'k1',
    });
  });

  it('refuses short secrets, unknown algorithms, bad ids and unknown fields', () => {
    const client = (key: Record<string, unknown>) => ({
      clients: [{ principal: 'svc', keys: [key] }],
    });
    expect(issues(client({ id: 'k', secret: 'x'.repeat(31) }))).toEqual([
      'clients.0.keys.0.secret: signing secrets must be at least 32 characters',
    ]);
    expect(issues(client({ id: 'k', secret: SECRET, alg: 'HS256' }))).toHaveLength(1);
    expect(issues(client({ id: 'k k', secret: SECRET }))[0]).toMatch(/^clients\.0\.keys\.0\.id/);
    expect(issues(client({ id: 'k', secret: SECRET, extra: 1 }))).toHaveLength(1);
    expect(issues({ clients: [{ principal: 'svc', keys: [] }] })).toHaveLength(1);
    expect(
      issues({ clients: [{ principal: '', keys: [{ id: 'k', secret: SECRET }] }] }),
    ).toHaveLength(1);
    expect(issues({ tolerance: 5 })).toHaveLength(1);
  });

  it('bounds toleranceMs', () => {
    expect(issues({ toleranceMs: 999 })).toHaveLength(1);
    expect(issues({ toleranceMs: 3_600_001 })).toHaveLength(1);
    expect(issues({ toleranceMs: 1.5e3 + 0.5 })).toHaveLength(1);
    expect(issues({ toleranceMs: 1_000 })).toEqual([]);
    expect(issues({ toleranceMs: 3_600_000 })).toEqual([]);
  });

  it('refuses duplicate principals and key ids, pointing at the second one', () => {
    const key = { id: 'shared', secret: SECRET };
    expect(
      issues({
        clients: [
          { principal: 'a', keys: [key] },
          { principal: 'b', keys: [{ id: 'other', secret: SECRET }, key] },
          { principal: 'a', keys: [{ id: 'third', secret: SECRET }] },
        ],
      }),
    ).toEqual([
      'clients.1.keys.1.id: key id used twice (ids are unique across clients)',
      'clients.2.principal: principal listed twice',
    ]);
  });
});
