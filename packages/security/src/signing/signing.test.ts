import { describe, expect, it } from 'vitest';

import { MemoryNonceStore } from '../stores/memory.js';
import type { NonceStore } from '../stores/types.js';
import { SIGNATURE_META_KEY } from './envelope.js';
import { SigningError } from './errors.js';
import type { SigningKey } from './keys.js';
import { signRequest } from './sign.js';
import {
  createRequestVerifier,
  DEFAULT_SIGNATURE_TOLERANCE_MS,
  type RequestVerifierOptions,
  type VerifyResult,
} from './verify.js';

const T0 = 1_750_000_000_000;
const TOL = DEFAULT_SIGNATURE_TOLERANCE_MS;
const SECRET = '0123456789abcdef0123456789abcdef';

const KEY_A: SigningKey = { id: 'client-a-2025', secret: SECRET };
const KEY_A512: SigningKey = { id: 'client-a-512', secret: 'S'.repeat(40), alg: 'HMAC-SHA512' };
const KEY_B: SigningKey = { id: 'client-b', secret: 'B'.repeat(32) };

const REQUEST = {
  method: 'tools/call',
  params: { name: 'weather', arguments: { days: 3, city: 'Zürich' }, _meta: { progressToken: 7 } },
};
const NONCE = 'AAAAAAAAAAAAAAAAAAAAAA';

type Params = Record<string, unknown>;
const sigOf = (params: Params): Record<string, unknown> =>
  (params._meta as Params)[SIGNATURE_META_KEY] as Record<string, unknown>;
/** params with the signature entry's fields replaced (the signature itself is kept). */
const withSig = (params: Params, patch: Params): Params => ({
  ...params,
  _meta: { ...(params._meta as Params), [SIGNATURE_META_KEY]: { ...sigOf(params), ...patch } },
});

/** NonceStore that records claims. */
class SpyNonces implements NonceStore {
  readonly claims: { nonce: string; ttlMs: number }[] = [];
  constructor(private readonly inner: NonceStore) {}
  claim(nonce: string, ttlMs: number): Promise<boolean> {
    this.claims.push({ nonce, ttlMs });
    return this.inner.claim(nonce, ttlMs);
  }
}

function setup(overrides: Partial<RequestVerifierOptions> = {}) {
  const clock = { t: T0 };
  const now = (): number => clock.t;
  const nonces = new SpyNonces(new MemoryNonceStore({ now }));
  const verifier = createRequestVerifier({
    clients: [
      { principal: 'alice', keys: [KEY_A, KEY_A512] },
      { principal: 'bob', keys: [KEY_B] },
    ],
    nonces,
    now,
    ...overrides,
  });
  const check = (params: Params | undefined, principal = 'alice', method = REQUEST.method) =>
    verifier.verify({ principal: { id: principal }, method, params });
  return { clock, nonces, verifier, check };
}

/** The error `fn` throws; fails the test when it returns. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

const refused = (reason: string): VerifyResult => ({ ok: false, reason });

describe('signRequest', () => {
  it('adds the signature entry, keeps other _meta entries and does not mutate the request', () => {
    const before = structuredClone(REQUEST);
    const params = signRequest(REQUEST, KEY_A, { now: T0, nonce: NONCE });
    expect(REQUEST).toEqual(before);
    expect(params).toEqual({
      ...REQUEST.params,
      _meta: {
        progressToken: 7,
        [SIGNATURE_META_KEY]: {
          keyId: 'client-a-2025',
          alg: 'HMAC-SHA256',
          ts: T0,
          nonce: NONCE,
          // Computed independently (Python hmac over the golden canonical form).
          sig: 'AvOefCMj-xycs2NWbnuFnMPc1acxxVI3OYHQtN4uEtI',
        },
      },
    });
  });

  it('matches the independent HMAC-SHA512 golden value', () => {
    const key = { id: 'client-a-2025', secret: SECRET, alg: 'HMAC-SHA512' as const };
    expect(sigOf(signRequest(REQUEST, key, { now: T0, nonce: NONCE })).sig).toBe(
      '77JyjU439u1VAciYEl5Roua8YBh3IjpEh7yWrCuUenpGwhhPeDez2LSvvz4YmAdvcfyxARDxPwaxUFSioIVfFw',
    );
  });

  it('generates a fresh 22-character nonce and uses the current time by default', () => {
    const a = sigOf(signRequest(REQUEST, KEY_A));
    const b = sigOf(signRequest(REQUEST, KEY_A));
    expect(a.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a.nonce).not.toBe(b.nonce);
    expect(Math.abs((a.ts as number) - Date.now())).toBeLessThan(60_000);
  });

  it('re-signing replaces the old signature, which is not part of what is signed', () => {
    const once = signRequest(REQUEST, KEY_A, { now: T0, nonce: NONCE });
    const twice = signRequest({ method: REQUEST.method, params: once }, KEY_A, {
      now: T0,
      nonce: NONCE,
    });
    expect(twice).toEqual(once);
  });

  it('refuses weak keys and unsignable requests', () => {
    const bad: [Parameters<typeof signRequest>[0], SigningKey][] = [
      [REQUEST, { id: 'k', secret: 'x'.repeat(31) }],
      [REQUEST, { id: 'k', secret: Buffer.alloc(31) }],
      [REQUEST, { id: 'has space', secret: SECRET }],
      [REQUEST, { id: 'k', secret: SECRET, alg: 'HMAC-MD5' as 'HMAC-SHA256' }],
      [{ method: 'x', params: { n: Number.NaN } }, KEY_A],
      [{ method: 'x', params: { _meta: 'nope' } }, KEY_A],
      [{ method: 'a\nb' }, KEY_A],
    ];
    for (const [request, key] of bad) {
      expect(() => signRequest(request, key), JSON.stringify(request.params)).toThrow(SigningError);
    }
    expect(() => signRequest(REQUEST, KEY_A, { nonce: 'short' })).toThrow(/nonce/);
    const err = thrown(() => signRequest(REQUEST, { id: 'k', secret: 'secret-value-too-short' }));
    expect(err).toBeInstanceOf(SigningError);
    expect(err.message).not.toContain('secret-value');
  });
});

describe('createRequestVerifier', () => {
  it('accepts HMAC-SHA256 and HMAC-SHA512 signatures of a listed principal', async () => {
    const { check, nonces } = setup();
    expect(await check(signRequest(REQUEST, KEY_A, { now: T0 }))).toEqual({
      ok: true,
      signed: true,
      keyId: 'client-a-2025',
    });
    expect(await check(signRequest(REQUEST, KEY_A512, { now: T0 }))).toEqual({
      ok: true,
      signed: true,
      keyId: 'client-a-512',
    });
    expect(
      await check(signRequest({ method: 'ping' }, KEY_A, { now: T0 }), 'alice', 'ping'),
    ).toEqual({ ok: true, signed: true, keyId: 'client-a-2025' });
    // Nonces are claimed per key id, for twice the tolerance.
    expect(nonces.claims).toHaveLength(3);
    expect(nonces.claims[0]?.nonce).toMatch(/^client-a-2025:[A-Za-z0-9_-]{22}$/);
    expect(nonces.claims.every((c) => c.ttlMs === 2 * TOL)).toBe(true);
  });

  it('refuses tampered params, method, ts, nonce and keyId', async () => {
    const { check } = setup();
    const good = signRequest(REQUEST, KEY_A, { now: T0, nonce: NONCE });
    const tampered: [string, Params, string?][] = [
      ['params', { ...good, arguments: { days: 4, city: 'Zürich' } }],
      ['added param', { ...good, extra: true }],
      ['ts', withSig(good, { ts: T0 + 1 })],
      ['nonce', withSig(good, { nonce: 'BAAAAAAAAAAAAAAAAAAAAA' })],
      // Another key of the same principal: known, same alg, but not the key that signed.
      ['keyId', withSig(good, { keyId: 'client-a-2026' })],
      ['method', good, 'tools/list'],
    ];
    const rotated = setup({
      clients: [{ principal: 'alice', keys: [KEY_A, { id: 'client-a-2026', secret: SECRET }] }],
    });
    for (const [what, params, method] of tampered) {
      const verify = what === 'keyId' ? rotated.check : check;
      expect(await verify(params, 'alice', method), what).toEqual(refused('invalid signature'));
    }
    // None of them burned the nonce: the genuine request still passes, once.
    expect((await check(good)).ok).toBe(true);
    expect(await check(good)).toEqual(refused('replayed nonce'));
  });

  it('covers every other _meta entry', async () => {
    const { check } = setup();
    const good = signRequest(REQUEST, KEY_A, { now: T0, nonce: NONCE });
    const meta = good._meta as Params;
    expect(await check({ ...good, _meta: { ...meta, progressToken: 8 } })).toEqual(
      refused('invalid signature'),
    );
    expect(await check({ ...good, _meta: { ...meta, 'x.example/extra': 1 } })).toEqual(
      refused('invalid signature'),
    );
    const { progressToken: _dropped, ...withoutToken } = meta;
    expect(await check({ ...good, _meta: withoutToken })).toEqual(refused('invalid signature'));
    expect((await check(good)).ok).toBe(true);
  });

  it('refuses a key whose pinned algorithm differs from the one named', async () => {
    const { check } = setup();
    // Signed as SHA-512 with a key id the gateway pins to SHA-256.
    const params = signRequest(REQUEST, { ...KEY_A, alg: 'HMAC-SHA512' }, { now: T0 });
    expect(await check(params)).toEqual(refused('signature algorithm does not match the key'));
  });

  it("refuses unknown key ids, including another principal's key", async () => {
    const { check, nonces } = setup();
    const unknown = signRequest(REQUEST, { id: 'nobody', secret: SECRET }, { now: T0 });
    expect(await check(unknown)).toEqual(refused('unknown signing key'));
    const bobs = signRequest(REQUEST, KEY_B, { now: T0 });
    expect(await check(bobs, 'alice')).toEqual(refused('unknown signing key'));
    expect(await check(bobs, 'bob')).toMatchObject({ ok: true, signed: true });
    expect(nonces.claims).toHaveLength(1);
  });

  it('accepts timestamps strictly within the tolerance, past and future', async () => {
    const { check } = setup();
    const at = (ts: number) => signRequest(REQUEST, KEY_A, { now: ts });
    expect(await check(at(T0 - TOL))).toEqual(refused('signature expired'));
    expect(await check(at(T0 - 10 * TOL))).toEqual(refused('signature expired'));
    expect(await check(at(T0 + TOL))).toEqual(refused('signature timestamp in the future'));
    expect((await check(at(T0 - TOL + 1))).ok).toBe(true);
    expect((await check(at(T0 + TOL - 1))).ok).toBe(true);
  });

  it('honours a custom tolerance and a per-call time', async () => {
    const { verifier } = setup({ toleranceMs: 1_000 });
    const params = signRequest(REQUEST, KEY_A, { now: T0 });
    const input = { principal: { id: 'alice' }, method: REQUEST.method, params };
    expect(await verifier.verify({ ...input, now: T0 + 1_000 })).toEqual(
      refused('signature expired'),
    );
    expect((await verifier.verify({ ...input, now: T0 + 999 })).ok).toBe(true);
  });

  it('refuses a replayed nonce for the whole window, per key id', async () => {
    const { check, clock } = setup();
    const params = signRequest(REQUEST, KEY_A, { now: T0 + TOL - 1, nonce: NONCE });
    // First use as early as possible: the signature is dated almost a window ahead.
    expect((await check(params)).ok).toBe(true);
    expect(await check(params)).toEqual(refused('replayed nonce'));
    // A different request with the same nonce and key is a replay too.
    const other = signRequest({ method: 'ping' }, KEY_A, { now: T0, nonce: NONCE });
    expect(await check(other, 'alice', 'ping')).toEqual(refused('replayed nonce'));
    // Last moment the timestamp is acceptable: the nonce is still remembered.
    clock.t = T0 + 2 * TOL - 2;
    expect(await check(params)).toEqual(refused('replayed nonce'));
    clock.t = T0 + 2 * TOL - 1;
    expect(await check(params)).toEqual(refused('signature expired'));
    // The same nonce under another key id is that key's own nonce.
    clock.t = T0;
    expect((await check(signRequest(REQUEST, KEY_A512, { now: T0, nonce: NONCE }))).ok).toBe(true);
  });

  it('requires a signature from a listed principal on every request', async () => {
    const { check } = setup();
    expect(await check(REQUEST.params)).toEqual(refused('signature required'));
    expect(await check(undefined)).toEqual(refused('signature required'));
    expect(await check({ _meta: 'not an object' })).toEqual(refused('signature required'));
    expect(await check([] as unknown as Params)).toEqual(refused('malformed params'));
  });

  it('lets unlisted principals through unsigned and ignores their signature entry', async () => {
    const { check, nonces, verifier } = setup();
    expect(await check(REQUEST.params, 'carol')).toEqual({ ok: true, signed: false });
    expect(await check(undefined, 'carol')).toEqual({ ok: true, signed: false });
    const garbage = { _meta: { [SIGNATURE_META_KEY]: 'garbage' } };
    expect(await check(garbage, 'carol')).toEqual({ ok: true, signed: false });
    expect(await check(signRequest(REQUEST, KEY_A, { now: T0 }), 'carol')).toEqual({
      ok: true,
      signed: false,
    });
    expect(nonces.claims).toHaveLength(0);
    expect(verifier.requiresSignature('alice')).toBe(true);
    expect(verifier.requiresSignature('carol')).toBe(false);
  });

  it('accepts every key of a rotation, and only the configured ones', async () => {
    const NEW: SigningKey = { id: 'client-a-2026', secret: 'N'.repeat(48) };
    const during = setup({ clients: [{ principal: 'alice', keys: [KEY_A, NEW] }] });
    expect((await during.check(signRequest(REQUEST, KEY_A, { now: T0 }))).ok).toBe(true);
    expect((await during.check(signRequest(REQUEST, NEW, { now: T0 }))).ok).toBe(true);
    const after = setup({ clients: [{ principal: 'alice', keys: [NEW] }] });
    expect(await after.check(signRequest(REQUEST, KEY_A, { now: T0 }))).toEqual(
      refused('unknown signing key'),
    );
    expect((await after.check(signRequest(REQUEST, NEW, { now: T0 }))).ok).toBe(true);
  });

  it('refuses malformed signature entries, naming the field only', async () => {
    const { check } = setup();
    const good = signRequest(REQUEST, KEY_A, { now: T0, nonce: NONCE });
    const sig = sigOf(good).sig as string;
    // The last of 43 characters carries 2 unused bits: setting one spells the same bytes.
    const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const nonCanonical = sig.slice(0, -1) + B64URL[B64URL.indexOf(sig.slice(-1)) ^ 1];
    expect(Buffer.from(nonCanonical, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
    const cases: [Params, string][] = [
      [withSig(good, { extra: 1 }), 'signature'],
      [{ _meta: { [SIGNATURE_META_KEY]: null } }, 'signature'],
      [withSig(good, { keyId: '' }), 'keyId'],
      [withSig(good, { alg: 'HMAC-SHA1' }), 'alg'],
      [withSig(good, { ts: String(T0) }), 'ts'],
      [withSig(good, { ts: 1.5 }), 'ts'],
      [withSig(good, { nonce: 'short' }), 'nonce'],
      [withSig(good, { nonce: 'has:colon-xxxxxxxxx' }), 'nonce'],
      [withSig(good, { sig: sig.slice(1) }), 'sig'],
      [withSig(good, { sig: `${sig}=` }), 'sig'],
      [withSig(good, { sig: sig.replace(/.$/, '+') }), 'sig'],
      [withSig(good, { sig: nonCanonical }), 'sig'],
      // A SHA-512-sized signature named as SHA-256.
      [withSig(good, { sig: 'A'.repeat(86) }), 'sig'],
    ];
    for (const [params, field] of cases) {
      expect(await check(params), field).toEqual(refused(`malformed signature: ${field}`));
    }
    expect((await check(good)).ok).toBe(true);
  });

  it('never reveals the expected signature in a reason', async () => {
    const { check } = setup();
    const good = signRequest(REQUEST, KEY_A, { now: T0, nonce: NONCE });
    const forged = { ...good, name: 'other' };
    const expected = sigOf(
      signRequest({ method: REQUEST.method, params: forged }, KEY_A, { now: T0, nonce: NONCE }),
    ).sig as string;
    const result = await check(forged);
    expect(result).toEqual(refused('invalid signature'));
    expect(JSON.stringify(result)).not.toContain(expected);
    expect(JSON.stringify(result)).not.toContain(expected.slice(0, 8));
  });

  it('refuses params beyond the canonical limits with a reason naming the limit', async () => {
    const { check } = setup({ limits: { maxDepth: 3 } });
    const deep = signRequest({ method: 'x', params: { a: { b: 1 } } }, KEY_A, { now: T0 });
    expect((await check(deep, 'alice', 'x')).ok).toBe(true);
    const deeper = { ...deep, a: { b: { c: {} } } };
    expect(await check(deeper, 'alice', 'x')).toEqual(
      refused('canonical form: nested deeper than 3 levels'),
    );
  });

  it('accepts Buffer secrets and is not affected by later changes to the Buffer', async () => {
    const secret = Buffer.alloc(32, 7);
    const key: SigningKey = { id: 'buf-key', secret };
    const params = signRequest(REQUEST, { ...key, secret: Buffer.from(secret) }, { now: T0 });
    const { check } = setup({ clients: [{ principal: 'alice', keys: [key] }] });
    secret.fill(0);
    expect((await check(params)).ok).toBe(true);
  });

  it('propagates nonce store failures instead of answering', async () => {
    const failing: NonceStore = { claim: () => Promise.reject(new Error('redis down')) };
    const { check } = setup({ nonces: failing });
    await expect(check(signRequest(REQUEST, KEY_A, { now: T0 }))).rejects.toThrow('redis down');
  });

  it('refuses bad configuration without echoing secrets', () => {
    const nonces = new MemoryNonceStore();
    const make = (clients: RequestVerifierOptions['clients'], toleranceMs?: number) => () =>
      createRequestVerifier({ clients, nonces, toleranceMs });
    expect(make([{ principal: 'a', keys: [{ id: 'k', secret: 'tiny-secret-value' }] }])).toThrow(
      /clients\[0\]\.keys\[0\]: secret is shorter than 32/,
    );
    expect(make([{ principal: 'a', keys: [] }])).toThrow(/no keys/);
    expect(make([{ principal: '', keys: [KEY_A] }])).toThrow(/principal is empty/);
    expect(
      make([
        { principal: 'a', keys: [KEY_A] },
        { principal: 'a', keys: [KEY_B] },
      ]),
    ).toThrow(/principal listed twice/);
    expect(
      make([
        { principal: 'a', keys: [KEY_A] },
        { principal: 'b', keys: [{ ...KEY_B, id: KEY_A.id }] },
      ]),
    ).toThrow(/key id used twice/);
    expect(make([], 0)).toThrow(/toleranceMs/);
    expect(make([], 1.5)).toThrow(/toleranceMs/);
    expect(() => createRequestVerifier({ clients: [], nonces, limits: { maxDepth: 0 } })).toThrow(
      SigningError,
    );
    const err = thrown(
      make([{ principal: 'a', keys: [{ id: 'k', secret: 'tiny-secret-value' }] }]),
    );
    expect(err).toBeInstanceOf(SigningError);
    expect((err as SigningError).kind).toBe('config');
    expect(err.message).not.toContain('tiny-secret');
    // No clients: nobody must sign.
    expect(make([])().requiresSignature('a')).toBe(false);
  });
});
