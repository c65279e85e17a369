import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { base64DecodeStrict, base64Encode, utf8Decode, utf8Encode } from './text.js';

const SAMPLES = [
  '',
  'a',
  'Hello',
  'héllo wörld',
  '日本語',
  '😀 emoji',
  'mixed \u00ff\u0100\u07ff\u0800\uffff',
];

describe('utf8', () => {
  it.each(SAMPLES)('encodes %j like TextEncoder and decodes it back', (s) => {
    const bytes = utf8Encode(s);
    expect(Array.from(bytes)).toEqual(Array.from(new TextEncoder().encode(s)));
    expect(utf8Decode(bytes)).toBe(s);
  });

  it('encodes lone surrogates as U+FFFD like TextEncoder', () => {
    for (const s of ['\ud800', 'a\udc00b', '\ud800\ud800']) {
      expect(Array.from(utf8Encode(s))).toEqual(Array.from(new TextEncoder().encode(s)));
    }
  });

  it.each([
    ['lone continuation', [0x80]],
    ['truncated 2-byte', [0xc3]],
    ['truncated 3-byte', [0xe6, 0x97]],
    ['overlong 2-byte', [0xc0, 0xaf]],
    ['overlong 3-byte', [0xe0, 0x80, 0xaf]],
    ['surrogate', [0xed, 0xa0, 0x80]],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['invalid lead', [0xff]],
  ])('rejects %s', (_label, bytes) => {
    expect(utf8Decode(Uint8Array.from(bytes))).toBeUndefined();
  });
});

describe('base64', () => {
  it('encodes like Buffer for every length mod 3', () => {
    for (let len = 0; len < 40; len++) {
      const bytes = Uint8Array.from({ length: len }, (_, i) => (i * 97 + len * 13) & 0xff);
      const expected = Buffer.from(bytes).toString('base64');
      expect(base64Encode(bytes)).toBe(expected);
      expect(Array.from(base64DecodeStrict(expected) ?? [])).toEqual(Array.from(bytes));
    }
  });

  it('decodes "SGVsbG8=" to Hello', () => {
    const bytes = base64DecodeStrict('SGVsbG8=');
    expect(bytes && utf8Decode(bytes)).toBe('Hello');
  });

  it.each([
    ['length not a multiple of 4', 'SGVsbG8'],
    ['characters outside the alphabet', 'SGVs!!!bG8='],
    ['url-safe alphabet', 'SGV-bG8_'],
    ['three padding chars', 'SG==='],
    ['padding in the middle', 'SG=sbG8='],
    ['only padding', '===='],
    ['non-canonical trailing bits', 'SGVsbG9='],
    ['non-canonical with two pads', 'SGVsbB=='],
    ['whitespace', 'SGVs bG8='],
    ['non-ASCII', 'SGVsbG\u00e9='],
  ])('rejects %s', (_label, s) => {
    expect(base64DecodeStrict(s)).toBeUndefined();
  });

  it('accepts the empty payload', () => {
    expect(base64DecodeStrict('')?.length).toBe(0);
  });
});
