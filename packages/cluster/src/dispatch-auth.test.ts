import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DISPATCH_AUDIENCE_HEADER,
  DISPATCH_ISSUED_AT_HEADER,
  DISPATCH_NONCE_HEADER,
  DISPATCH_SIGNATURE_HEADER,
  DispatchVerifier,
  dispatchNonceTtlMs,
  dispatchSignature,
  signDispatch,
  verifyDispatch,
} from './dispatch-auth.js';
import type { DispatchCheck } from './dispatch-auth.js';
import { MemoryDispatchNonceStore } from './dispatch-nonces.js';
import type { DispatchNonceStore } from './dispatch-nonces.js';
import { ENVELOPE_HEADERS } from './envelope.js';

const SECRET = 'a'.repeat(43);
const OTHER = 'b'.repeat(43);
const BODY = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"}}';
const HEADERS = {
  [ENVELOPE_HEADERS.principal]: 'eyJpZCI6ImFsaWNlIn0',
  [ENVELOPE_HEADERS.era]: 'modern',
  [ENVELOPE_HEADERS.deadline]: '1900000000000',
  'Mcp-Method': 'tools/call',
};
const NOW = 1_800_000_000_000;
const VALIDITY_MS = 30_000;
const SKEW_MS = 5_000;
const FRESHNESS = { validityMs: VALIDITY_MS, clockSkewMs: SKEW_MS };

/** The headers as a worker's Node http server sees them: lower-case names, plus its own. */
function received(
  headers: Record<string, string | readonly string[]>,
  auth: Record<string, string>,
): Record<string, string | readonly string[]> {
  const lower = Object.fromEntries(
    Object.entries({ ...headers, ...auth }).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return {
    host: '127.0.0.1:9',
    'content-type': 'application/json',
    'content-length': '70',
    ...lower,
  };
}

const verify = (
  headers: Record<string, string | readonly string[]>,
  body = BODY,
  secrets: readonly string[] = [SECRET],
  now = NOW,
): DispatchCheck => verifyDispatch(secrets, headers, body, { ...FRESHNESS, now });

const refusal = (check: DispatchCheck) => (check.ok ? 'ok' : check.reason);

/**
 * `headers` (signed at NOW) run once: the same again is a replay as long as the signature
 * could verify anywhere within the skew, then refused as expired.
 */
async function expectRunsOnce(
  v: DispatchVerifier,
  headers: Record<string, string | readonly string[]>,
  clock: { now: number },
): Promise<void> {
  clock.now = NOW;
  expect(refusal(await v.verify(headers, BODY))).toBe('ok');
  expect(await v.verify(headers, BODY)).toEqual({
    ok: false,
    reason: 'replayed',
    message: 'Dispatch nonce already used',
  });
  clock.now = NOW + VALIDITY_MS + SKEW_MS;
  expect(refusal(await v.verify(headers, BODY))).toBe('replayed');
  clock.now += 1;
  expect(refusal(await v.verify(headers, BODY))).toBe('expired');
}

describe('dispatch signatures', () => {
  const auth = signDispatch(SECRET, HEADERS, BODY, { now: NOW });

  it('carry a fresh random nonce, the issue time and a signature over both', () => {
    expect(Object.keys(auth).sort()).toEqual(
      [DISPATCH_ISSUED_AT_HEADER, DISPATCH_NONCE_HEADER, DISPATCH_SIGNATURE_HEADER].sort(),
    );
    expect(auth[DISPATCH_SIGNATURE_HEADER]).toMatch(/^v1=[A-Za-z0-9_-]{43}$/);
    expect(auth[DISPATCH_NONCE_HEADER]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(auth[DISPATCH_ISSUED_AT_HEADER]).toBe(String(NOW));
    // Every signing is a new attempt: a new nonce.
    const again = signDispatch(SECRET, HEADERS, BODY, { now: NOW });
    expect(again[DISPATCH_NONCE_HEADER]).not.toBe(auth[DISPATCH_NONCE_HEADER]);
  });

  it('sign one canonical form: signed headers lower-cased, sorted, trimmed, then the body', () => {
    const headers = {
      'x-mcp-cluster-era': ' modern ',
      'Mcp-Method': 'tools/call',
      'content-type': 'application/json',
      [DISPATCH_SIGNATURE_HEADER]: 'v1=ignored',
    };
    const canonical = 'v1\nmcp-method:tools/call\nx-mcp-cluster-era:modern\n\n{"a":1}';
    const expected = createHmac('sha256', SECRET).update(canonical).digest('base64url');
    expect(dispatchSignature(SECRET, headers, '{"a":1}')).toBe(`v1=${expected}`);
  });

  it('verify what was signed, whatever transport headers were added on the way', () => {
    expect(verify(received(HEADERS, auth))).toEqual({
      ok: true,
      nonce: auth[DISPATCH_NONCE_HEADER],
      issuedAt: NOW,
    });
  });

  it('refuse a changed, added or dropped dispatch header', () => {
    const changed = { ...HEADERS, [ENVELOPE_HEADERS.principal]: 'eyJpZCI6ImFkbWluIn0' };
    const added = { ...HEADERS, [ENVELOPE_HEADERS.sessionId]: 's-1' };
    const addedMcp = { ...HEADERS, 'mcp-name': 'other' };
    const { [ENVELOPE_HEADERS.deadline]: _, ...dropped } = HEADERS;
    for (const headers of [changed, added, addedMcp, dropped]) {
      expect(refusal(verify(received(headers, auth)))).toBe('signature');
    }
  });

  it('refuse a changed body', () => {
    expect(refusal(verify(received(HEADERS, auth), BODY.replace('"t"', '"u"')))).toBe('signature');
    expect(refusal(verify(received(HEADERS, auth), `${BODY} `))).toBe('signature');
  });

  it('refuse a nonce or issue time removed, changed or emptied after signing', () => {
    const { [DISPATCH_NONCE_HEADER]: _n, ...noNonce } = auth;
    const { [DISPATCH_ISSUED_AT_HEADER]: _i, ...noIssuedAt } = auth;
    for (const tampered of [
      noNonce,
      noIssuedAt,
      { ...auth, [DISPATCH_NONCE_HEADER]: 'B'.repeat(22) },
      { ...auth, [DISPATCH_NONCE_HEADER]: '' },
      { ...auth, [DISPATCH_ISSUED_AT_HEADER]: String(NOW + 1) },
    ]) {
      expect(refusal(verify(received(HEADERS, tampered)))).toBe('signature');
    }
  });

  it('refuse a valid signature without a well-formed nonce or issue time', () => {
    // What a gateway that predates nonces sends, or one that signed a bad nonce.
    const bare = { [DISPATCH_SIGNATURE_HEADER]: dispatchSignature(SECRET, HEADERS, BODY) };
    expect(refusal(verify(received(HEADERS, bare)))).toBe('nonce');
    for (const nonce of ['abc', 'x'.repeat(87), 'not base64url, not at all!!', '']) {
      const signed = signDispatch(SECRET, HEADERS, BODY, { now: NOW, nonce });
      expect(refusal(verify(received(HEADERS, signed)))).toBe('nonce');
    }
    for (const issuedAt of ['', '-1', '1e12', 'soon', '1'.repeat(17)]) {
      const headers = { ...HEADERS, [DISPATCH_NONCE_HEADER]: 'n'.repeat(22) };
      const signed = {
        [DISPATCH_NONCE_HEADER]: 'n'.repeat(22),
        [DISPATCH_ISSUED_AT_HEADER]: issuedAt,
        [DISPATCH_SIGNATURE_HEADER]: dispatchSignature(
          SECRET,
          { ...headers, [DISPATCH_ISSUED_AT_HEADER]: issuedAt },
          BODY,
        ),
      };
      expect(refusal(verify(received(HEADERS, signed)))).toBe('nonce');
    }
  });

  it('accept an issue time within the validity and the skew tolerance, refuse outside', () => {
    const at = (issuedAt: number, now: number) =>
      refusal(
        verify(
          received(HEADERS, signDispatch(SECRET, HEADERS, BODY, { now: issuedAt })),
          BODY,
          [SECRET],
          now,
        ),
      );
    expect(at(NOW, NOW + VALIDITY_MS + SKEW_MS)).toBe('ok');
    expect(at(NOW, NOW + VALIDITY_MS + SKEW_MS + 1)).toBe('expired');
    expect(at(NOW, NOW + 10 * 60_000)).toBe('expired');
    expect(at(NOW + SKEW_MS, NOW)).toBe('ok'); // the gateway's clock is a little ahead
    expect(at(NOW + SKEW_MS + 1, NOW)).toBe('expired');
    expect(at(0, NOW)).toBe('expired');
    const future = verify(
      received(HEADERS, signDispatch(SECRET, HEADERS, BODY, { now: NOW + 60_000 })),
    );
    expect(future).toEqual({
      ok: false,
      reason: 'expired',
      message: 'Dispatch signature issued in the future',
    });
  });

  it('refuse another secret, a missing, malformed or truncated signature', () => {
    expect(refusal(verify(received(HEADERS, auth), BODY, [OTHER]))).toBe('signature');
    expect(refusal(verify(received(HEADERS, auth), BODY, []))).toBe('signature');
    const { [DISPATCH_SIGNATURE_HEADER]: signature = '', ...unsigned } = auth;
    expect(refusal(verify(received(HEADERS, unsigned)))).toBe('signature');
    for (const bad of [
      '',
      'v1=',
      'v2=' + signature.slice(3),
      signature.slice(0, -4),
      'x'.repeat(46),
    ]) {
      const headers = received(HEADERS, { ...auth, [DISPATCH_SIGNATURE_HEADER]: bad });
      expect(refusal(verify(headers))).toBe('signature');
    }
  });

  it('accept every secret of a rotation; the first one signs', () => {
    const byNew = signDispatch(OTHER, HEADERS, BODY, { now: NOW });
    expect(refusal(verify(received(HEADERS, auth), BODY, [OTHER, SECRET]))).toBe('ok');
    expect(refusal(verify(received(HEADERS, byNew), BODY, [OTHER, SECRET]))).toBe('ok');
    expect(refusal(verify(received(HEADERS, byNew), BODY, [SECRET]))).toBe('signature');
  });

  it('sign a repeated header the way it arrives joined', () => {
    const list = { ...HEADERS, 'mcp-param-a': ['1', '2'] };
    const joined = received(
      { ...HEADERS, 'mcp-param-a': '1, 2' },
      signDispatch(SECRET, list, BODY, { now: NOW }),
    );
    expect(refusal(verify(joined))).toBe('ok');
  });
});

describe('dispatch verifier (signature, freshness, used-once)', () => {
  function verifier(
    nonces: DispatchNonceStore = new MemoryDispatchNonceStore({ now: () => clock.now }),
  ) {
    return new DispatchVerifier({ secrets: [SECRET], nonces, ...FRESHNESS, now: () => clock.now });
  }
  const clock = { now: NOW };

  it('runs a nonce once: the same signed dispatch again is a replay', async () => {
    clock.now = NOW;
    const headers = received(HEADERS, signDispatch(SECRET, HEADERS, BODY, { now: NOW }));
    await expectRunsOnce(verifier(), headers, clock);
  });

  it('two verifiers sharing a store: a dispatch run by one is a replay to the other', async () => {
    clock.now = NOW;
    const shared = new MemoryDispatchNonceStore({ now: () => clock.now });
    const [a, b] = [verifier(shared), verifier(shared)];
    const headers = received(HEADERS, signDispatch(SECRET, HEADERS, BODY, { now: NOW }));
    expect(refusal(await a.verify(headers, BODY))).toBe('ok');
    expect(refusal(await b.verify(headers, BODY))).toBe('replayed');
    // A retry signed afresh (new nonce) runs anywhere.
    const retry = received(HEADERS, signDispatch(SECRET, HEADERS, BODY, { now: NOW }));
    expect(refusal(await b.verify(retry, BODY))).toBe('ok');
  });

  it('claims nothing for a refused signature (a forger cannot fill the store)', async () => {
    clock.now = NOW;
    const claimed: string[] = [];
    const store: DispatchNonceStore = {
      claim: (nonce) => {
        claimed.push(nonce);
        return Promise.resolve(true);
      },
    };
    const forged = received(HEADERS, signDispatch(OTHER, HEADERS, BODY, { now: NOW }));
    expect(refusal(await verifier(store).verify(forged, BODY))).toBe('signature');
    const stale = received(HEADERS, signDispatch(SECRET, HEADERS, BODY, { now: 0 }));
    expect(refusal(await verifier(store).verify(stale, BODY))).toBe('expired');
    expect(claimed).toEqual([]);
  });

  it('claims with a ttl outliving the signature on every clock within the skew', async () => {
    clock.now = NOW;
    const ttls: number[] = [];
    const store: DispatchNonceStore = {
      claim: (_nonce, ttlMs) => {
        ttls.push(ttlMs);
        return Promise.resolve(true);
      },
    };
    const headers = received(HEADERS, signDispatch(SECRET, HEADERS, BODY, { now: NOW }));
    expect(refusal(await verifier(store).verify(headers, BODY))).toBe('ok');
    expect(ttls).toEqual([VALIDITY_MS + 2 * SKEW_MS]);
    expect(dispatchNonceTtlMs(FRESHNESS)).toBe(VALIDITY_MS + 2 * SKEW_MS);
  });

  it('fails closed when the store fails or does not answer before the signature expires', async () => {
    clock.now = NOW;
    const failing: DispatchNonceStore = {
      claim: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const headers = () => received(HEADERS, signDispatch(SECRET, HEADERS, BODY, { now: NOW }));
    expect(await verifier(failing).verify(headers(), BODY)).toEqual({
      ok: false,
      reason: 'replay-check-unavailable',
      message: 'Dispatch replay check unavailable',
    });
    // A store that never answers: bounded by what is left of the validity (none here).
    const hanging: DispatchNonceStore = { claim: () => new Promise<boolean>(() => undefined) };
    clock.now = NOW + VALIDITY_MS + SKEW_MS;
    expect(refusal(await verifier(hanging).verify(headers(), BODY))).toBe(
      'replay-check-unavailable',
    );
  });
});

describe('dispatch verifier: dispatches addressed to one worker process', () => {
  const clock = { now: NOW };
  const SELF = 'boot-id-of-this-process';
  /** A shared store that must not be asked: the audience's own memory answers. */
  const untouchable: DispatchNonceStore = {
    claim: () => Promise.reject(new Error('the shared store was asked')),
  };
  const verifier = (audience?: { id: string; nonces: MemoryDispatchNonceStore }) =>
    new DispatchVerifier({
      secrets: [SECRET],
      nonces: untouchable,
      ...FRESHNESS,
      now: () => clock.now,
      ...(audience === undefined ? {} : { audience }),
    });
  const to = (audience: string) =>
    received(HEADERS, signDispatch(SECRET, HEADERS, BODY, { now: NOW, audience }));

  it('signs the audience with the rest: removed or changed, the signature breaks', () => {
    const auth = signDispatch(SECRET, HEADERS, BODY, { now: NOW, audience: SELF });
    expect(auth[DISPATCH_AUDIENCE_HEADER]).toBe(SELF);
    const headers = received(HEADERS, auth);
    expect(refusal(verify(headers))).toBe('ok');
    const { [DISPATCH_AUDIENCE_HEADER]: _dropped, ...stripped } = headers;
    expect(refusal(verify(stripped))).toBe('signature');
    expect(refusal(verify({ ...headers, [DISPATCH_AUDIENCE_HEADER]: 'another' }))).toBe(
      'signature',
    );
  });

  it('runs its own dispatches once, checked in its memory only', async () => {
    clock.now = NOW;
    const own = new MemoryDispatchNonceStore({ now: () => clock.now });
    await expectRunsOnce(verifier({ id: SELF, nonces: own }), to(SELF), clock);
    expect(own.size).toBe(1);
  });

  it('refuses a dispatch addressed to another process (another worker, or its predecessor)', async () => {
    clock.now = NOW;
    const own = new MemoryDispatchNonceStore({ now: () => clock.now });
    expect(await verifier({ id: SELF, nonces: own }).verify(to('previous-boot'), BODY)).toEqual({
      ok: false,
      reason: 'audience',
      message: 'Dispatch addressed to another worker process',
    });
    // A worker that is no audience at all runs no addressed dispatch either.
    expect(refusal(await verifier().verify(to(SELF), BODY))).toBe('audience');
    expect(own.size).toBe(0);
  });

  it('checks an unaddressed dispatch in the shared store, as before', async () => {
    clock.now = NOW;
    const own = new MemoryDispatchNonceStore({ now: () => clock.now });
    const unaddressed = received(HEADERS, signDispatch(SECRET, HEADERS, BODY, { now: NOW }));
    expect(await verifier({ id: SELF, nonces: own }).verify(unaddressed, BODY)).toEqual({
      ok: false,
      reason: 'replay-check-unavailable',
      message: 'Dispatch replay check unavailable',
    });
    expect(own.size).toBe(0);
  });
});

describe('memory dispatch nonce store', () => {
  it('claims once per ttl, then forgets (bounded by the live nonces)', async () => {
    const clock = { now: NOW };
    const store = new MemoryDispatchNonceStore({ now: () => clock.now });
    expect(await store.claim('n1', 1_000)).toBe(true);
    expect(await store.claim('n1', 1_000)).toBe(false);
    expect(await store.claim('n2', 1_000)).toBe(true);
    clock.now += 999;
    expect(await store.claim('n1', 1_000)).toBe(false);
    clock.now += 1;
    expect(await store.claim('n1', 1_000)).toBe(true);
    // Expired nonces are dropped as claims come: only the live ones stay held.
    clock.now += 10_000;
    for (let i = 0; i < 1_000; i++) store.claimNow(`burst-${i}`, 1);
    expect(store.size).toBe(1_000);
    clock.now += 1;
    for (let i = 0; i < 1_000; i++) store.claimNow(`late-${i}`, 60_000);
    expect(store.size).toBe(1_000);
    expect(store.claimNow('late-0', 60_000)).toBe(false);
  });

  it('a nonce claimed again after it expired behind a longer-lived one is held anew', () => {
    const clock = { now: NOW };
    const store = new MemoryDispatchNonceStore({ now: () => clock.now });
    expect(store.claimNow('long', 10_000)).toBe(true);
    expect(store.claimNow('short', 10)).toBe(true);
    clock.now += 10;
    // 'short' expired but sits behind 'long': it is claimable, and held for its new ttl.
    expect(store.claimNow('short', 10_000)).toBe(true);
    expect(store.claimNow('short', 10_000)).toBe(false);
    clock.now += 10_000;
    expect(store.claimNow('other', 10)).toBe(true);
    expect(store.size).toBe(1);
  });

  it('rejects a ttl that is not a positive integer', async () => {
    const store = new MemoryDispatchNonceStore();
    for (const ttl of [0, -1, 1.5, Number.NaN]) {
      await expect(store.claim('n', ttl)).rejects.toThrow(RangeError);
    }
  });
});
