import { describe, expect, it } from 'vitest';
import {
  ProtocolError,
  RpcError,
  httpStatusForCode,
  isRetryableCode,
  toWireError,
} from './errors.js';

/** The whole table, pinned: a change here is a wire change and must be deliberate. */
const TABLE: readonly [kind: keyof typeof RpcError, code: number, http: number, retry: boolean][] =
  [
    ['ParseError', -32700, 400, false],
    ['InvalidRequest', -32600, 400, false],
    ['MethodNotFound', -32601, 404, false],
    ['InvalidParams', -32602, 400, false],
    ['InternalError', -32603, 500, true],
    ['SessionNotFound', -32001, 404, false],
    ['ResourceNotFound', -32002, 404, false],
    ['RequestCancelled', -32010, 499, false],
    ['RequestTimeout', -32011, 504, true],
    ['RateLimited', -32012, 429, true],
    ['Unauthorized', -32013, 401, false],
    ['Forbidden', -32014, 403, false],
    ['PayloadTooLarge', -32015, 413, false],
    ['Unavailable', -32016, 503, true],
    ['HeaderMismatch', -32020, 400, false],
    ['MissingCapability', -32021, 400, false],
    ['UnsupportedProtocolVersion', -32022, 400, false],
    ['UrlElicitationRequired', -32042, 400, false],
  ];

describe('RpcError table', () => {
  it('has exactly the pinned rows', () => {
    expect(Object.keys(RpcError).sort()).toEqual(TABLE.map((r) => r[0]).sort());
  });

  it('has unique codes', () => {
    const codes = Object.values(RpcError).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it.each(TABLE)('%s: code %i <-> HTTP %i, retryable %s', (kind, code, http, retry) => {
    const row = RpcError[kind];
    expect(row.code).toBe(code);
    expect(row.httpStatus).toBe(http);
    expect(row.retryable).toBe(retry);
    expect(row.message.length).toBeGreaterThan(0);
    expect(httpStatusForCode(code)).toBe(http);
    expect(isRetryableCode(code)).toBe(retry);
    const err = ProtocolError.of(kind);
    expect(err.code).toBe(code);
    expect(err.httpStatus).toBe(http);
    expect(err.message).toBe(row.message);
  });

  it('maps codes outside the table to HTTP 500, not retryable', () => {
    expect(httpStatusForCode(-32099)).toBe(500);
    expect(httpStatusForCode(1)).toBe(500);
    expect(isRetryableCode(-32099)).toBe(false);
  });
});

describe('ProtocolError', () => {
  it('keeps code, message, data, cause and a real name', () => {
    const cause = new Error('root');
    const err = new ProtocolError(-32602, 'bad', { field: 'x' }, { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ProtocolError');
    expect(err.code).toBe(-32602);
    expect(err.data).toEqual({ field: 'x' });
    expect(err.cause).toBe(cause);
  });

  it('of() accepts a custom message and data', () => {
    const err = ProtocolError.of('UnsupportedProtocolVersion', 'nope', { requested: 'x' });
    expect(err.message).toBe('nope');
    expect(err.data).toEqual({ requested: 'x' });
  });
});

describe('toWireError', () => {
  it('passes a ProtocolError through with its data', () => {
    const err = new ProtocolError(-32022, 'Unsupported protocol version', {
      supported: ['2026-07-28'],
      requested: 'v999',
    });
    expect(toWireError(err)).toEqual({
      code: -32022,
      message: 'Unsupported protocol version',
      data: { supported: ['2026-07-28'], requested: 'v999' },
    });
  });

  it('omits data when the ProtocolError has none', () => {
    const wire = toWireError(new ProtocolError(-32601, 'Method not found'));
    expect(wire).toEqual({ code: -32601, message: 'Method not found' });
    expect('data' in wire).toBe(false);
  });

  it.each([
    ['an Error', new Error('secret: db password at /srv/x.ts:12')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a string', 'secret string'],
    ['an object', { code: -32602, message: 'looks like a protocol error' }],
    ['undefined', undefined],
    ['null', null],
  ])('maps %s to -32603 "Internal error" without leaking text', (_label, thrown) => {
    const wire = toWireError(thrown);
    expect(wire).toEqual({ code: -32603, message: 'Internal error' });
    expect(JSON.stringify(wire)).not.toContain('secret');
  });

  it('never leaks an error cause or stack', () => {
    const err = new ProtocolError(-32603, 'Internal error', undefined, {
      cause: new Error('secret'),
    });
    expect(JSON.stringify(toWireError(err))).toBe('{"code":-32603,"message":"Internal error"}');
  });
});
