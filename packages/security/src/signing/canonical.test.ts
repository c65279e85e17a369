import { describe, expect, it } from 'vitest';

import {
  canonicalJson,
  canonicalSigningInput,
  DEFAULT_CANONICAL_MAX_DEPTH,
  stripSignature,
} from './canonical.js';
import { SIGNATURE_META_KEY } from './envelope.js';
import { SigningError } from './errors.js';

/** Nests `{"a": …}` so the result has `levels` levels of objects. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

describe('canonicalJson (golden)', () => {
  it('sorts keys, drops whitespace and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x', { d: 2, c: 1 }], c: {} })).toBe(
      '{"a":[true,null,"x",{"c":1,"d":2}],"b":1,"c":{}}',
    );
    expect(canonicalJson(JSON.parse('{ "z" : [ 3 , 2 , 1 ] ,\n "y" : { } }'))).toBe(
      '{"y":{},"z":[3,2,1]}',
    );
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson('s')).toBe('"s"');
  });

  it('orders keys by UTF-16 code units, not by code points or locale', () => {
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB01 in UTF-16 but after
    // it by code point; upper case sorts before lower case; the empty key comes first.
    const value = { '\uFB01': 1, '\u{1F600}': 2, a: 3, B: 4, '': 5, aa: 6 };
    expect(canonicalJson(value)).toBe('{"":5,"B":4,"a":3,"aa":6,"\u{1F600}":2,"\uFB01":1}');
  });

  it('writes numbers as ECMAScript does', () => {
    expect(canonicalJson([0, -0, 1, -1.5, 0.1, 1e20, 1e21, 1.5e-7, 2 ** 53, 123.456e5])).toBe(
      '[0,0,1,-1.5,0.1,100000000000000000000,1e+21,1.5e-7,9007199254740992,12345600]',
    );
  });

  it('escapes strings as JSON.stringify does', () => {
    expect(canonicalJson({ s: 'a"b\\c\n\t\u0001\u2028é/' })).toBe(
      '{"s":"a\\"b\\\\c\\n\\t\\u0001\u2028é/"}',
    );
    // Lone surrogates get escapes, so the output is well-formed UTF-8.
    expect(canonicalJson('\uD800')).toBe('"\\ud800"');
    expect(canonicalJson({ 'k"\n': 1 })).toBe('{"k\\"\\n":1}');
  });

  it('leaves out properties set to undefined, as the wire would', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it('keeps a "__proto__" key from JSON.parse as a plain key', () => {
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":2}'))).toBe(
      '{"__proto__":{"x":1},"a":2}',
    );
  });

  it('refuses non-finite numbers and values JSON cannot carry', () => {
    class Thing {
      x = 1;
    }
    const bad: unknown[] = [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      { n: Number.NEGATIVE_INFINITY },
      10n,
      () => 1,
      Symbol('s'),
      undefined,
      [undefined],
      // eslint-disable-next-line no-sparse-arrays
      [1, , 2],
      new Date(0),
      new Map(),
      Buffer.from('x'),
      new Thing(),
    ];
    for (const value of bad) {
      expect(() => canonicalJson(value), String(typeof value)).toThrow(SigningError);
    }
    expect(() => canonicalJson(Number.NaN)).toThrow(/not finite/);
  });

  it('accepts objects without a prototype', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.b = 2;
    bare.a = 1;
    expect(canonicalJson(bare)).toBe('{"a":1,"b":2}');
  });

  it('bounds the depth (cycles included)', () => {
    expect(canonicalJson(nested(DEFAULT_CANONICAL_MAX_DEPTH))).toContain('{}');
    expect(() => canonicalJson(nested(DEFAULT_CANONICAL_MAX_DEPTH + 1))).toThrow(
      /nested deeper than 64/,
    );
    expect(canonicalJson([[[]]], { maxDepth: 3 })).toBe('[[[]]]');
    expect(() => canonicalJson([[[[]]]], { maxDepth: 3 })).toThrow(SigningError);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => canonicalJson(cycle)).toThrow(/nested deeper/);
  });

  it('bounds the size in UTF-8 bytes', () => {
    // {"a":"é"} is 9 characters and 10 bytes.
    expect(canonicalJson({ a: 'é' }, { maxBytes: 10 })).toBe('{"a":"é"}');
    expect(() => canonicalJson({ a: 'é' }, { maxBytes: 9 })).toThrow(/larger than 9 bytes/);
    expect(() => canonicalJson({ a: 'x'.repeat(100) }, { maxBytes: 50 })).toThrow(SigningError);
  });

  it('refuses invalid limits', () => {
    expect(() => canonicalJson({}, { maxDepth: 0 })).toThrow(/maxDepth/);
    expect(() => canonicalJson({}, { maxBytes: 1.5 })).toThrow(/maxBytes/);
  });
});

describe('stripSignature', () => {
  const sig = { keyId: 'k', alg: 'HMAC-SHA256', ts: 1, nonce: 'n', sig: 's' };

  it('removes the signature entry, and _meta when nothing else is left', () => {
    expect(stripSignature({ a: 1, _meta: { [SIGNATURE_META_KEY]: sig } })).toEqual({ a: 1 });
    expect(stripSignature({ _meta: { [SIGNATURE_META_KEY]: sig, progressToken: 3 } })).toEqual({
      _meta: { progressToken: 3 },
    });
    expect(stripSignature({ a: 1, _meta: {} })).toEqual({ a: 1 });
  });

  it('returns params without a signature as they are, and never mutates its input', () => {
    const plain = { a: 1, _meta: { progressToken: 3 } };
    expect(stripSignature(plain)).toBe(plain);
    expect(stripSignature(undefined)).toBeUndefined();
    const signed = { a: 1, _meta: { [SIGNATURE_META_KEY]: sig } };
    stripSignature(signed);
    expect(signed._meta[SIGNATURE_META_KEY]).toBe(sig);
    // A non-object _meta is left for the canonical form to cover.
    const odd = { _meta: 'x' };
    expect(stripSignature(odd)).toBe(odd);
  });
});

describe('canonicalSigningInput (golden)', () => {
  const fields = {
    alg: 'HMAC-SHA256' as const,
    keyId: 'client-a-2025',
    method: 'tools/call',
    ts: 1_750_000_000_000,
    nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
    params: {
      name: 'weather',
      arguments: { days: 3, city: 'Zürich' },
      _meta: { progressToken: 7, [SIGNATURE_META_KEY]: { anything: true } },
    },
  };
  const GOLDEN = [
    'MCP-SIG-V1',
    'HMAC-SHA256',
    'client-a-2025',
    'tools/call',
    '1750000000000',
    'AAAAAAAAAAAAAAAAAAAAAA',
    '{"_meta":{"progressToken":7},"arguments":{"city":"Zürich","days":3},"name":"weather"}',
  ].join('\n');

  it('is the version, alg, keyId, method, ts, nonce and params JSON, one per line', () => {
    expect(canonicalSigningInput(fields)).toBe(GOLDEN);
  });

  it('does not depend on the signature entry, and absent params equal {}', () => {
    const { [SIGNATURE_META_KEY]: _sig, ...meta } = fields.params._meta;
    expect(canonicalSigningInput({ ...fields, params: { ...fields.params, _meta: meta } })).toBe(
      GOLDEN,
    );
    const none = canonicalSigningInput({ ...fields, params: undefined });
    expect(none.endsWith('\nAAAAAAAAAAAAAAAAAAAAAA\n{}')).toBe(true);
    expect(
      canonicalSigningInput({ ...fields, params: { _meta: { [SIGNATURE_META_KEY]: 1 } } }),
    ).toBe(none);
  });

  it('refuses fields that could blur the line structure', () => {
    const bad = [
      { keyId: 'a\nb' },
      { keyId: '' },
      { keyId: 'with space' },
      { method: 'tools/call\nx' },
      { method: '' },
      { method: 'x'.repeat(1025) },
      { nonce: 'short' },
      { nonce: 'A'.repeat(16) + '\n' },
      { ts: -1 },
      { ts: 1.5 },
      { alg: 'HMAC-SHA1' },
      { params: [] },
    ];
    for (const patch of bad) {
      expect(
        () => canonicalSigningInput({ ...fields, ...patch } as typeof fields),
        JSON.stringify(patch),
      ).toThrow(SigningError);
    }
  });
});
