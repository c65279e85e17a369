import { describe, expect, it } from 'vitest';
import {
  ENVELOPE_HEADERS,
  ENVELOPE_HEADER_PREFIX,
  ENVELOPE_LIMITS,
  EnvelopeError,
  decodeEnvelope,
  encodeEnvelope,
  remainingMs,
  traceparentProblem,
} from './envelope.js';
import type { DispatchEnvelope, EnvelopeField } from './envelope.js';

const NOW = 1_800_000_000_000;
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const legacy: DispatchEnvelope = {
  principal: { id: 'u-1', kind: 'user', roles: ['admin', 'dev'], claims: { tenant: 't1' } },
  sessionId: 'sess-abc.123',
  protocolVersion: '2025-06-18',
  era: 'legacy',
  clientCapabilities: { sampling: {}, roots: { listChanged: true }, elicitation: { form: {} } },
  traceparent: TRACEPARENT,
  tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
  deadline: NOW + 30_000,
  gatewayId: 'gw-1',
};

const modern: DispatchEnvelope = {
  principal: { id: 'anonymous', kind: 'anonymous', roles: [] },
  protocolVersion: '2026-07-28',
  era: 'modern',
  clientCapabilities: {},
  deadline: NOW + 1,
  gatewayId: 'gw-2',
};

function getter(headers: Record<string, string>): (name: string) => string | undefined {
  return (name) => headers[name];
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Expects decode to fail on `field`, with the headers of `env` changed by `patch`. */
function expectInvalid(
  field: EnvelopeField,
  patch: Partial<Record<EnvelopeField, string | undefined>>,
  env: DispatchEnvelope = legacy,
): EnvelopeError {
  const headers = encodeEnvelope(env, NOW);
  for (const [key, value] of Object.entries(patch)) {
    const name = ENVELOPE_HEADERS[key as EnvelopeField];
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  let caught: unknown;
  try {
    decodeEnvelope(getter(headers), NOW);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(EnvelopeError);
  const err = caught as EnvelopeError;
  expect(err.code).toBe('INVALID_ENVELOPE');
  expect(err.field).toBe(field);
  return err;
}

describe('envelope header table', () => {
  it('names every field once, lower case, under one prefix', () => {
    const names = Object.values(ENVELOPE_HEADERS);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      expect(name.startsWith(ENVELOPE_HEADER_PREFIX)).toBe(true);
      expect(name).toBe(name.toLowerCase());
    }
  });
});

describe('encodeEnvelope / decodeEnvelope round trip', () => {
  it('round-trips a full legacy envelope', () => {
    const headers = encodeEnvelope(legacy, NOW);
    expect(Object.keys(headers).every((k) => k.startsWith(ENVELOPE_HEADER_PREFIX))).toBe(true);
    expect(headers[ENVELOPE_HEADERS.deadline]).toBe(String(NOW + 30_000));
    expect(headers[ENVELOPE_HEADERS.principal]).toBe(b64(legacy.principal));
    expect(decodeEnvelope(getter(headers), NOW)).toEqual(legacy);
  });

  it('round-trips a minimal modern envelope and omits absent optional headers', () => {
    const headers = encodeEnvelope(modern, NOW);
    expect(headers[ENVELOPE_HEADERS.sessionId]).toBeUndefined();
    expect(headers[ENVELOPE_HEADERS.traceparent]).toBeUndefined();
    expect(headers[ENVELOPE_HEADERS.tracestate]).toBeUndefined();
    const decoded = decodeEnvelope(getter(headers), NOW);
    expect(decoded).toEqual(modern);
    expect(decoded.sessionId).toBeUndefined();
  });

  it('round-trips non-ASCII JSON content', () => {
    const env = { ...modern, principal: { id: 'ü-名前', kind: 'user', roles: ['ré'] } } as const;
    expect(decodeEnvelope(getter(encodeEnvelope(env, NOW)), NOW).principal).toEqual(env.principal);
  });

  it('returns frozen JSON values, shared for repeated header values', () => {
    const headers = encodeEnvelope(legacy, NOW);
    const a = decodeEnvelope(getter(headers), NOW);
    const b = decodeEnvelope(getter(headers), NOW);
    expect(Object.isFrozen(a.principal)).toBe(true);
    expect(Object.isFrozen(a.principal.roles)).toBe(true);
    expect(Object.isFrozen(a.clientCapabilities.roots)).toBe(true);
    expect(b.clientCapabilities).toBe(a.clientCapabilities);
  });

  it('encodes the same object once and sees a changed object as new', () => {
    const caps = { sampling: {} };
    const first = encodeEnvelope({ ...modern, clientCapabilities: caps }, NOW);
    const other = encodeEnvelope({ ...modern, clientCapabilities: { roots: {} } }, NOW);
    expect(first[ENVELOPE_HEADERS.clientCapabilities]).toBe(b64(caps));
    expect(other[ENVELOPE_HEADERS.clientCapabilities]).toBe(b64({ roots: {} }));
  });
});

describe('decodeEnvelope rejects', () => {
  it.each<EnvelopeField>([
    'principal',
    'protocolVersion',
    'era',
    'clientCapabilities',
    'deadline',
    'gatewayId',
  ])('a missing %s', (field) => {
    expect(expectInvalid(field, { [field]: undefined }).reason).toBe('missing');
  });

  it('an unknown era and a version of the other era', () => {
    expectInvalid('era', { era: 'future' });
    expectInvalid('protocolVersion', { protocolVersion: '2026-07-28' });
    expectInvalid('protocolVersion', { protocolVersion: '2025-06-18' }, modern);
    expectInvalid('protocolVersion', { protocolVersion: 'x'.repeat(40) });
  });

  it('a session id on a modern request, or a malformed one', () => {
    expectInvalid('sessionId', { sessionId: 's1' }, modern);
    expectInvalid('sessionId', { sessionId: '' });
    expectInvalid('sessionId', { sessionId: 'has space' });
    expectInvalid('sessionId', { sessionId: 'é' });
    expectInvalid('sessionId', { sessionId: 'x'.repeat(ENVELOPE_LIMITS.sessionId + 1) });
  });

  it('a malformed or oversize gateway id', () => {
    expectInvalid('gatewayId', { gatewayId: '' });
    expectInvalid('gatewayId', { gatewayId: 'gw\n1' });
    expectInvalid('gatewayId', { gatewayId: 'g'.repeat(ENVELOPE_LIMITS.gatewayId + 1) });
  });

  it('a malformed deadline', () => {
    for (const bad of ['', 'soon', '-5', '1.5', '1e13', ' 123', '0x10', '9'.repeat(17)]) {
      expectInvalid('deadline', { deadline: bad });
    }
    expectInvalid('deadline', { deadline: '0' });
  });

  it('a deadline already passed (including exactly now)', () => {
    expect(expectInvalid('deadline', { deadline: String(NOW - 1) }).reason).toBe('already passed');
    expectInvalid('deadline', { deadline: String(NOW) });
    expect(decodeEnvelope(getter(encodeEnvelope(modern, NOW)), NOW).deadline).toBe(NOW + 1);
  });

  it('a principal that is not base64url JSON of the right shape', () => {
    expect(expectInvalid('principal', { principal: 'not base64!' }).reason).toBe('not base64url');
    expect(expectInvalid('principal', { principal: 'e30=' }).reason).toBe('not base64url');
    expect(
      expectInvalid('principal', { principal: Buffer.from('{nope').toString('base64url') }).reason,
    ).toBe('not JSON');
    const wrong = [
      null,
      [],
      'anonymous',
      { id: 'u', kind: 'root', roles: [] },
      { id: '', kind: 'user', roles: [] },
      { id: 'u', kind: 'user' },
      { id: 'u', kind: 'user', roles: [1] },
      { id: 'u', kind: 'user', roles: [], extra: true },
      { id: 'u', kind: 'user', roles: [], claims: [] },
      { id: 'u', kind: 'user', roles: Array.from({ length: 65 }, (_, i) => `r${i}`) },
    ];
    for (const value of wrong) {
      expect(expectInvalid('principal', { principal: b64(value) }).reason).toBe('wrong shape');
    }
  });

  it('oversize JSON fields before decoding them', () => {
    const big = 'A'.repeat(ENVELOPE_LIMITS.principal + 1);
    expect(expectInvalid('principal', { principal: big }).reason).toBe('too large');
    const caps = 'A'.repeat(ENVELOPE_LIMITS.clientCapabilities + 1);
    expect(expectInvalid('clientCapabilities', { clientCapabilities: caps }).reason).toBe(
      'too large',
    );
  });

  it('capabilities that are not a JSON object', () => {
    for (const value of [null, [], 5, 'x']) {
      expectInvalid('clientCapabilities', { clientCapabilities: b64(value) });
    }
    expectInvalid('clientCapabilities', { clientCapabilities: '!!' });
  });

  it('an invalid traceparent, or a tracestate without one', () => {
    expectInvalid('traceparent', { traceparent: 'garbage' });
    expectInvalid('traceparent', { traceparent: TRACEPARENT.toUpperCase() });
    expectInvalid('tracestate', { traceparent: undefined });
  });

  it('a malformed or oversize tracestate', () => {
    expectInvalid('tracestate', { tracestate: 'no-equals-sign' });
    expectInvalid('tracestate', { tracestate: '=value' });
    expectInvalid('tracestate', { tracestate: 'a=1\tb' });
    expectInvalid('tracestate', { tracestate: `k=${'v'.repeat(ENVELOPE_LIMITS.tracestate)}` });
    const many = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',');
    expectInvalid('tracestate', { tracestate: many });
  });

  it('never puts header values into the error message beyond the field name', () => {
    const err = expectInvalid('gatewayId', { gatewayId: 'secret value' });
    expect(err.message).not.toContain('secret');
    expect(err.message).toContain('gatewayId');
  });
});

describe('traceparentProblem', () => {
  it('accepts valid W3C traceparents', () => {
    expect(traceparentProblem(TRACEPARENT)).toBeUndefined();
    expect(traceparentProblem('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')).toBe(
      undefined,
    );
    // A future version may append fields after the flags.
    expect(
      traceparentProblem('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra'),
    ).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['upper-case hex', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01'],
    ['short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['short parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01'],
    ['missing flags', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7'],
    ['bad separator', '00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['non-hex', '00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01'],
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['v00 trailing data', `${TRACEPARENT}-extra`],
    ['v00 trailing char', `${TRACEPARENT}x`],
    ['future version glued data', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x'],
    ['all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['all-zero parent id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
  ])('rejects %s', (_name, value) => {
    expect(traceparentProblem(value)).toEqual(expect.any(String));
  });
});

describe('encodeEnvelope rejects what decode would', () => {
  it.each<[EnvelopeField, Partial<DispatchEnvelope>]>([
    ['era', { era: 'nope' as 'legacy' }],
    ['protocolVersion', { protocolVersion: '2026-07-28' }],
    ['gatewayId', { gatewayId: '' }],
    ['deadline', { deadline: NOW }],
    ['deadline', { deadline: 1.5 }],
    ['traceparent', { traceparent: 'bad' }],
    ['tracestate', { traceparent: undefined }],
    ['sessionId', { sessionId: 'a b' }],
    ['principal', { principal: { id: 'x'.repeat(5000), kind: 'user', roles: [] } }],
    ['clientCapabilities', { clientCapabilities: { experimental: { x: 'y'.repeat(9000) } } }],
  ])('%s', (field, patch) => {
    expect(() => encodeEnvelope({ ...legacy, ...patch }, NOW)).toThrow(
      expect.objectContaining({ code: 'INVALID_ENVELOPE', field }) as Error,
    );
  });

  it('a session id on a modern envelope', () => {
    expect(() => encodeEnvelope({ ...modern, sessionId: 's' }, NOW)).toThrow(EnvelopeError);
  });
});

describe('remainingMs', () => {
  it('counts down to the deadline and stops at zero', () => {
    expect(remainingMs(legacy, NOW)).toBe(30_000);
    expect(remainingMs(legacy, NOW + 29_999)).toBe(1);
    expect(remainingMs(legacy, NOW + 30_000)).toBe(0);
    expect(remainingMs(legacy, NOW + 60_000)).toBe(0);
  });

  it('defaults to the current time', () => {
    const left = remainingMs({ deadline: Date.now() + 10_000 });
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(10_000);
  });
});
