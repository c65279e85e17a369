import { describe, expect, it } from 'vitest';
import { DISPATCH_SIGNATURE_HEADER, signDispatch, verifyDispatch } from './dispatch-auth.js';
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

/** The headers as a worker's Node http server sees them: lower-case names, plus its own. */
function received(headers: Record<string, string>, signature: string): Record<string, string> {
  const lower = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return {
    host: '127.0.0.1:9',
    'content-type': 'application/json',
    'content-length': '70',
    ...lower,
    [DISPATCH_SIGNATURE_HEADER]: signature,
  };
}

describe('dispatch signatures', () => {
  const signature = signDispatch(SECRET, HEADERS, BODY);

  it('verify what was signed, whatever transport headers were added on the way', () => {
    expect(signature).toMatch(/^v1=[A-Za-z0-9_-]{43}$/);
    expect(verifyDispatch([SECRET], received(HEADERS, signature), BODY)).toBe(true);
  });

  it('refuse a changed, added or dropped dispatch header', () => {
    const changed = { ...HEADERS, [ENVELOPE_HEADERS.principal]: 'eyJpZCI6ImFkbWluIn0' };
    const added = { ...HEADERS, [ENVELOPE_HEADERS.sessionId]: 's-1' };
    const addedMcp = { ...HEADERS, 'mcp-name': 'other' };
    const { [ENVELOPE_HEADERS.deadline]: _, ...dropped } = HEADERS;
    for (const headers of [changed, added, addedMcp, dropped]) {
      expect(verifyDispatch([SECRET], received(headers, signature), BODY)).toBe(false);
    }
  });

  it('refuse a changed body', () => {
    const body = BODY.replace('"t"', '"u"');
    expect(verifyDispatch([SECRET], received(HEADERS, signature), body)).toBe(false);
    expect(verifyDispatch([SECRET], received(HEADERS, signature), `${BODY} `)).toBe(false);
  });

  it('refuse another secret, a missing, malformed or truncated signature', () => {
    expect(verifyDispatch([OTHER], received(HEADERS, signature), BODY)).toBe(false);
    expect(verifyDispatch([], received(HEADERS, signature), BODY)).toBe(false);
    const { [DISPATCH_SIGNATURE_HEADER]: _, ...unsigned } = received(HEADERS, signature);
    expect(verifyDispatch([SECRET], unsigned, BODY)).toBe(false);
    for (const bad of [
      '',
      'v1=',
      'v2=' + signature.slice(3),
      signature.slice(0, -4),
      'x'.repeat(46),
    ]) {
      expect(verifyDispatch([SECRET], received(HEADERS, bad), BODY)).toBe(false);
    }
  });

  it('accept every secret of a rotation; the first one signs', () => {
    const byNew = signDispatch(OTHER, HEADERS, BODY);
    expect(verifyDispatch([OTHER, SECRET], received(HEADERS, signature), BODY)).toBe(true);
    expect(verifyDispatch([OTHER, SECRET], received(HEADERS, byNew), BODY)).toBe(true);
    expect(verifyDispatch([SECRET], received(HEADERS, byNew), BODY)).toBe(false);
  });

  it('sign a repeated header the way it arrives joined', () => {
    const list = { ...HEADERS, 'mcp-param-a': ['1', '2'] };
    const joined = received(
      { ...HEADERS, 'mcp-param-a': '1, 2' },
      signDispatch(SECRET, list, BODY),
    );
    expect(verifyDispatch([SECRET], joined, BODY)).toBe(true);
  });
});
