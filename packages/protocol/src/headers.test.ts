import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import {
  decodeHeaderValue,
  encodeHeaderValue,
  paramHeadersOf,
  validateRoutingHeaders,
} from './headers.js';
import type { ParamHeader } from './headers.js';
import type { JsonObject, JsonRpcRequest } from './jsonrpc.js';

/** Header lookup as Node presents it: names are case-insensitive (lower-cased). */
function headers(raw: Record<string, string>): (lowerName: string) => string | undefined {
  const map = new Map(Object.entries(raw).map(([k, v]) => [k.toLowerCase(), v]));
  return (name) => map.get(name);
}

function req(method: string, params?: JsonObject): JsonRpcRequest {
  return params === undefined
    ? { jsonrpc: '2.0', id: 1, method }
    : { jsonrpc: '2.0', id: 1, method, params };
}

function reject(fn: () => void): ProtocolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error('expected a -32020 rejection');
}

function expectReject(fn: () => void): void {
  const err = reject(fn);
  expect(err.code).toBe(-32020);
  expect(err.httpStatus).toBe(400);
}

const FIRST_TOOL = 'test_simple_text';
const call = req('tools/call', { name: FIRST_TOOL, arguments: {} });

/** Conformance fixtures 7.5 (http-header-validation). */
describe('validateRoutingHeaders: 7.5 standard headers', () => {
  it('mismatched method: sep-2243-server-reject-invalid-headers / reject-error-code', () => {
    expectReject(() =>
      validateRoutingHeaders(req('tools/list'), headers({ 'Mcp-Method': 'prompts/list' })),
    );
  });

  it('missing method: sep-2243-server-reject-invalid-headers / reject-error-code', () => {
    expectReject(() => validateRoutingHeaders(req('tools/list'), headers({})));
  });

  it('mismatched name: sep-2243-server-reject-invalid-headers / reject-error-code', () => {
    expectReject(() =>
      validateRoutingHeaders(
        call,
        headers({ 'Mcp-Method': 'tools/call', 'Mcp-Name': 'wrong_tool_name' }),
      ),
    );
  });

  it('whitespace: sep-2243-server-accepts-whitespace-header-value', () => {
    expect(() =>
      validateRoutingHeaders(
        call,
        headers({ 'Mcp-Method': ' tools/call\t', 'Mcp-Name': `  ${FIRST_TOOL}  ` }),
      ),
    ).not.toThrow();
  });

  it('missing name: sep-2243-server-reject-invalid-headers / reject-error-code', () => {
    expectReject(() => validateRoutingHeaders(call, headers({ 'Mcp-Method': 'tools/call' })));
  });

  it('lowercase header name: sep-2243-header-name-case-insensitive', () => {
    expect(() =>
      validateRoutingHeaders(req('tools/list'), headers({ 'mcp-method': 'tools/list' })),
    ).not.toThrow();
  });

  it('uppercase header name: sep-2243-header-name-case-insensitive', () => {
    expect(() =>
      validateRoutingHeaders(req('tools/list'), headers({ 'MCP-METHOD': 'tools/list' })),
    ).not.toThrow();
  });

  it('value case: values are case-sensitive -> reject', () => {
    expectReject(() =>
      validateRoutingHeaders(req('tools/list'), headers({ 'Mcp-Method': 'TOOLS/LIST' })),
    );
  });

  it.each([
    ['prompts/get', { name: 'greeting' }, 'greeting'],
    ['resources/read', { uri: 'test://static-text' }, 'test://static-text'],
    ['tasks/get', { taskId: 't-1' }, 't-1'],
    ['tasks/update', { taskId: 't-1', inputResponses: {} }, 't-1'],
    ['tasks/cancel', { taskId: 't-1' }, 't-1'],
  ])('%s requires a matching Mcp-Name', (method, params, name) => {
    const m = req(method, params);
    expect(() =>
      validateRoutingHeaders(m, headers({ 'Mcp-Method': method, 'Mcp-Name': name })),
    ).not.toThrow();
    expectReject(() => validateRoutingHeaders(m, headers({ 'Mcp-Method': method })));
    expectReject(() =>
      validateRoutingHeaders(m, headers({ 'Mcp-Method': method, 'Mcp-Name': `${name}x` })),
    );
  });

  it('does not require Mcp-Name for other methods (e.g. skills/get, server/discover)', () => {
    for (const method of ['skills/get', 'server/discover', 'resources/directory/read']) {
      expect(() =>
        validateRoutingHeaders(req(method, { name: 'x' }), headers({ 'Mcp-Method': method })),
      ).not.toThrow();
    }
  });

  it('rejects an Mcp-Name when the body lacks the value', () => {
    expectReject(() =>
      validateRoutingHeaders(
        req('tools/call', {}),
        headers({ 'Mcp-Method': 'tools/call', 'Mcp-Name': 'x' }),
      ),
    );
  });

  it('accepts a base64-encoded Mcp-Name (non-ASCII resource uri)', () => {
    const uri = 'test://résumé';
    expect(() =>
      validateRoutingHeaders(
        req('resources/read', { uri }),
        headers({ 'Mcp-Method': 'resources/read', 'Mcp-Name': encodeHeaderValue(uri) }),
      ),
    ).not.toThrow();
  });
});

/** The fixture of section 4.5. */
const customSchema = {
  type: 'object',
  properties: {
    region: { type: 'string', 'x-mcp-header': 'Region' },
    priority: { type: 'integer', 'x-mcp-header': 'Priority' },
    verbose: { type: 'boolean', 'x-mcp-header': 'Verbose' },
    ratio: { type: 'number', 'x-mcp-header': 'Ratio' },
    bad: { type: 'string', 'x-mcp-header': 'Bad Name' },
    plain: { type: 'string' },
  },
};

describe('paramHeadersOf', () => {
  it('reads x-mcp-header on string, integer and boolean properties only', () => {
    expect(paramHeadersOf(customSchema)).toEqual<ParamHeader[]>([
      { name: 'Region', headerKey: 'mcp-param-region', property: 'region', type: 'string' },
      { name: 'Priority', headerKey: 'mcp-param-priority', property: 'priority', type: 'integer' },
      { name: 'Verbose', headerKey: 'mcp-param-verbose', property: 'verbose', type: 'boolean' },
    ]);
  });

  it('is empty for schemas without properties', () => {
    expect(paramHeadersOf({ type: 'object' })).toEqual([]);
    expect(paramHeadersOf(undefined)).toEqual([]);
    expect(paramHeadersOf({ properties: { a: 1 } })).toEqual([]);
  });
});

/** Conformance fixtures 7.6 (http-custom-header-server-validation). */
describe('validateRoutingHeaders: 7.6 Mcp-Param-*', () => {
  const params = paramHeadersOf(customSchema);
  const tool = 'test_custom_headers';

  function check(args: JsonObject, extra: Record<string, string>): void {
    validateRoutingHeaders(
      req('tools/call', { name: tool, arguments: args }),
      headers({ 'Mcp-Method': 'tools/call', 'Mcp-Name': tool, ...extra }),
      params,
    );
  }

  it('valid base64: sep-2243-server-decode-base64', () => {
    expect(() =>
      check({ region: 'Hello' }, { 'Mcp-Param-Region': '=?base64?SGVsbG8=?=' }),
    ).not.toThrow();
  });

  it('bad padding: sep-2243-server-reject-invalid-param-chars + reject-param-mismatch', () => {
    expectReject(() => check({ region: 'Hello' }, { 'Mcp-Param-Region': '=?base64?SGVsbG8?=' }));
  });

  it('bad chars: sep-2243-server-reject-invalid-param-chars + reject-param-mismatch', () => {
    expectReject(() =>
      check({ region: 'Hello' }, { 'Mcp-Param-Region': '=?base64?SGVs!!!bG8=?=' }),
    );
  });

  it('no prefix (literal): sep-2243-server-validate-param-match', () => {
    expect(() => check({ region: 'SGVsbG8=' }, { 'Mcp-Param-Region': 'SGVsbG8=' })).not.toThrow();
  });

  it('no suffix (literal): sep-2243-server-validate-param-match', () => {
    expect(() =>
      check({ region: '=?base64?SGVsbG8=' }, { 'Mcp-Param-Region': '=?base64?SGVsbG8=' }),
    ).not.toThrow();
  });

  it('header omitted: sep-2243-server-validate-param-match + reject-param-mismatch', () => {
    expectReject(() => check({ region: 'test-value' }, {}));
  });

  it('header present without a body value is a mismatch', () => {
    expectReject(() => check({}, { 'Mcp-Param-Region': 'x' }));
  });

  it('neither header nor body value is fine', () => {
    expect(() => check({}, {})).not.toThrow();
  });

  it('compares integers and booleans in their text form (suite defaults 0/false)', () => {
    expect(() =>
      check(
        { region: 'test-default', priority: 0, verbose: false },
        {
          'Mcp-Param-Region': 'test-default',
          'Mcp-Param-Priority': '0',
          'Mcp-Param-Verbose': 'false',
        },
      ),
    ).not.toThrow();
    expectReject(() => check({ priority: 5 }, { 'Mcp-Param-Priority': '6' }));
    expectReject(() => check({ verbose: true }, { 'Mcp-Param-Verbose': 'TRUE' }));
  });

  it('a literal value differing from the body is a mismatch', () => {
    expectReject(() => check({ region: 'us-east' }, { 'Mcp-Param-Region': 'eu-west' }));
  });

  it('base64 that is not UTF-8 is a mismatch', () => {
    expectReject(() => check({ region: '\ufffd' }, { 'Mcp-Param-Region': '=?base64?/w==?=' }));
  });

  it('an object body value never matches', () => {
    expectReject(() => check({ region: { a: 1 } }, { 'Mcp-Param-Region': '[object Object]' }));
  });

  it('is checked only for tools/call', () => {
    expect(() =>
      validateRoutingHeaders(
        req('prompts/get', { name: 'p', arguments: { region: 'x' } }),
        headers({ 'Mcp-Method': 'prompts/get', 'Mcp-Name': 'p' }),
        params,
      ),
    ).not.toThrow();
  });
});

describe('encodeHeaderValue / decodeHeaderValue', () => {
  it.each(['us-east-1', 'Hello world', 'a=b', 'x?y', ''])('keeps header-safe %j as is', (v) => {
    expect(encodeHeaderValue(v)).toBe(v);
    expect(decodeHeaderValue(encodeHeaderValue(v))).toBe(v);
  });

  it.each([
    'héllo',
    '日本語',
    ' leading',
    'trailing ',
    'line\nbreak',
    'tab\tinside-ok?',
    '=?base64?SGVsbG8=?=',
    '😀',
  ])('round-trips %j', (v) => {
    const encoded = encodeHeaderValue(v);
    expect(decodeHeaderValue(encoded)).toBe(v);
    for (let i = 0; i < encoded.length; i++) {
      const c = encoded.charCodeAt(i);
      expect(c === 0x09 || (c >= 0x20 && c <= 0x7e)).toBe(true);
    }
  });

  it('base64-wraps non-ASCII and edge whitespace', () => {
    expect(encodeHeaderValue('Hello ')).toBe('=?base64?SGVsbG8g?=');
    expect(encodeHeaderValue('é')).toBe('=?base64?w6k=?=');
  });

  it('decodes strictly; anything else is literal', () => {
    expect(decodeHeaderValue('=?base64?SGVsbG8=?=')).toBe('Hello');
    expect(decodeHeaderValue('=?base64?SGVsbG8?=')).toBe('=?base64?SGVsbG8?=');
    expect(decodeHeaderValue('=?base64??=')).toBe('');
    expect(decodeHeaderValue('=?base64?')).toBe('=?base64?');
  });
});
