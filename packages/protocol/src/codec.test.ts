import { describe, expect, it } from 'vitest';
import {
  InvalidMessageError,
  decodeBody,
  decodeMessage,
  encode,
  isInvalidEntry,
  parseJsonText,
} from './codec.js';
import { ProtocolError } from './errors.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

describe('parseJsonText', () => {
  const limits = { maxDepth: 8 };

  it('parses a valid message', () => {
    expect(parseJsonText('{"jsonrpc":"2.0","id":1,"method":"ping"}', limits)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      method: 'ping',
    });
  });

  it.each(['{', '{"a":}', 'not json', '', '{"a":1}}', "{'a':1}", '[1,]'])(
    'malformed %j -> -32700 "Parse error" with no parser text',
    (text) => {
      const err = thrown(() => parseJsonText(text, limits));
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe(-32700);
      expect((err as ProtocolError).message).toBe('Parse error');
      expect((err as ProtocolError).httpStatus).toBe(400);
    },
  );

  it('accepts nesting exactly at the limit', () => {
    expect(parseJsonText(nested(8), limits)).toBeDefined();
    expect(parseJsonText(`{"a":${nested(7)}}`, limits)).toBeDefined();
  });

  it('rejects nesting one past the limit with -32600 naming the limit', () => {
    const err = thrown(() => parseJsonText(`{"a":${nested(8)}}`, limits)) as ProtocolError;
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.code).toBe(-32600);
    expect(err.message).toContain('depth limit of 8');
  });

  it('does not count brackets inside strings, honouring escapes', () => {
    const text = JSON.stringify({ s: '[[[[[[[[[[{{{{{{{{{{', t: 'a\\"[[[[[[[[[[[[', u: '\\' });
    expect(parseJsonText(text, { maxDepth: 2 })).toEqual(JSON.parse(text));
  });

  it('limits string length (keys and values, escapes as written) with -32600', () => {
    const max = { maxDepth: 8, maxStringLength: 10 };
    expect(parseJsonText(JSON.stringify({ k: 'x'.repeat(10) }), max)).toEqual({
      k: 'x'.repeat(10),
    });
    for (const text of [
      JSON.stringify({ k: 'x'.repeat(11) }),
      JSON.stringify({ ['k'.repeat(11)]: 1 }),
      JSON.stringify({ k: `ab"cd"efgh` }),
    ]) {
      const err = thrown(() => parseJsonText(text, max)) as ProtocolError;
      expect(err.code).toBe(-32600);
      expect(err.message).toContain('length limit of 10');
    }
    // Many short strings are fine however long the text.
    const many = JSON.stringify(Array.from({ length: 50 }, () => 'short'));
    expect(parseJsonText(many, max)).toHaveLength(50);
  });

  it('accepts many shallow siblings (more brackets than the limit, little depth)', () => {
    const text = JSON.stringify({ a: Array.from({ length: 100 }, (_, i) => ({ i, v: [i] })) });
    expect(parseJsonText(text, limits)).toEqual(JSON.parse(text));
  });

  it('rejects a 1e6-deep payload quickly and without recursion', () => {
    const text = nested(1_000_000);
    const start = performance.now();
    const err = thrown(() => parseJsonText(text, { maxDepth: 64 })) as ProtocolError;
    expect(err.code).toBe(-32600);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('checks depth before syntax: deep malformed text is -32600', () => {
    expect((thrown(() => parseJsonText('['.repeat(100), limits)) as ProtocolError).code).toBe(
      -32600,
    );
  });

  it('ignores a leading BOM', () => {
    expect(parseJsonText('\ufeff{"a":1}', limits)).toEqual({ a: 1 });
  });
});

describe('decodeMessage', () => {
  it('returns a request, notification, success and failure unchanged', () => {
    for (const m of [
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'x' } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', id: 'x', error: { code: -1, message: 'no', data: [1] } },
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } },
    ]) {
      expect(decodeMessage(m)).toBe(m);
    }
  });

  type Case = [label: string, value: unknown, message: string, requestId: string | number | null];
  const cases: Case[] = [
    ['null', null, 'message must be a JSON object', null],
    ['a string', 'x', 'message must be a JSON object', null],
    ['an array', [], 'message must be a JSON object', null],
    ['missing jsonrpc', { id: 1, method: 'ping' }, 'jsonrpc must be "2.0"', 1],
    ['jsonrpc 1.0', { jsonrpc: '1.0', id: 'a', method: 'ping' }, 'jsonrpc must be "2.0"', 'a'],
    [
      'id null',
      { jsonrpc: '2.0', id: null, method: 'ping' },
      'id must be a string or a finite number',
      null,
    ],
    [
      'id boolean',
      { jsonrpc: '2.0', id: true, method: 'ping' },
      'id must be a string or a finite number',
      null,
    ],
    [
      'id object',
      { jsonrpc: '2.0', id: {}, method: 'ping' },
      'id must be a string or a finite number',
      null,
    ],
    [
      'id non-finite',
      { jsonrpc: '2.0', id: Infinity, method: 'ping' },
      'id must be a string or a finite number',
      null,
    ],
    ['method number', { jsonrpc: '2.0', id: 3, method: 5 }, 'method must be a string', 3],
    [
      'params array',
      { jsonrpc: '2.0', id: 4, method: 'x', params: [1] },
      'params must be an object',
      4,
    ],
    [
      'params string',
      { jsonrpc: '2.0', id: 5, method: 'x', params: 's' },
      'params must be an object',
      5,
    ],
    [
      'params null',
      { jsonrpc: '2.0', method: 'x', params: null },
      'params must be an object',
      null,
    ],
    [
      'neither method, result nor error',
      { jsonrpc: '2.0', id: 6 },
      'message must have a method, a result or an error',
      6,
    ],
    [
      'both result and error',
      { jsonrpc: '2.0', id: 7, result: {}, error: { code: 1, message: 'm' } },
      'response must not have both result and error',
      null,
    ],
    [
      'result without id',
      { jsonrpc: '2.0', result: {} },
      'id must be a string or a finite number',
      null,
    ],
    [
      'result not an object',
      { jsonrpc: '2.0', id: 8, result: 5 },
      'result must be an object',
      null,
    ],
    ['error not an object', { jsonrpc: '2.0', id: 9, error: 'x' }, 'error must be an object', null],
    [
      'error code not integer',
      { jsonrpc: '2.0', id: 9, error: { code: 1.5, message: 'm' } },
      'error.code must be an integer',
      null,
    ],
    [
      'error code missing',
      { jsonrpc: '2.0', id: 9, error: { message: 'm' } },
      'error.code must be an integer',
      null,
    ],
    [
      'error message missing',
      { jsonrpc: '2.0', id: 9, error: { code: 1 } },
      'error.message must be a string',
      null,
    ],
    [
      'error with bad id',
      { jsonrpc: '2.0', id: true, error: { code: 1, message: 'm' } },
      'id must be a string, a finite number or null',
      null,
    ],
  ];

  it.each(cases)('%s -> -32600 %j (id %j)', (_label, value, message, requestId) => {
    const err = thrown(() => decodeMessage(value));
    expect(err).toBeInstanceOf(InvalidMessageError);
    expect(err).toBeInstanceOf(ProtocolError);
    const e = err as InvalidMessageError;
    expect(e.code).toBe(-32600);
    expect(e.name).toBe('InvalidMessageError');
    expect(e.message).toBe(message);
    expect(e.requestId).toBe(requestId);
    expect(e.data).toBeUndefined();
    expect(e.httpStatus).toBe(400);
  });
});

describe('decodeBody', () => {
  const req = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

  it('returns a single message as non-batch', () => {
    const body = decodeBody(req, { allowBatch: false });
    expect(body).toEqual({ batch: false, message: req });
  });

  it('throws for an invalid single message', () => {
    expect(() => decodeBody({ jsonrpc: '2.0', id: 1 }, { allowBatch: true })).toThrow(
      InvalidMessageError,
    );
  });

  it('rejects a batch where the revision has none', () => {
    const err = thrown(() => decodeBody([req], { allowBatch: false })) as InvalidMessageError;
    expect(err.code).toBe(-32600);
    expect(err.message).toBe('batches are not supported in this revision');
    expect(err.requestId).toBeNull();
  });

  it('rejects an empty batch', () => {
    const err = thrown(() => decodeBody([], { allowBatch: true })) as InvalidMessageError;
    expect(err.code).toBe(-32600);
    expect(err.message).toBe('batch must not be empty');
  });

  it('decodes each batch entry on its own', () => {
    const note = { jsonrpc: '2.0', method: 'notifications/initialized' };
    const body = decodeBody([req, { jsonrpc: '2.0', id: 2, method: 7 }, 5, note], {
      allowBatch: true,
    });
    if (!body.batch) throw new Error('expected a batch');
    expect(body.entries).toHaveLength(4);
    expect(body.entries[0]).toBe(req);
    const bad = body.entries[1]!;
    expect(isInvalidEntry(bad)).toBe(true);
    expect((bad as InvalidMessageError).requestId).toBe(2);
    expect(isInvalidEntry(body.entries[2]!)).toBe(true);
    expect((body.entries[2] as InvalidMessageError).requestId).toBeNull();
    expect(body.entries[3]).toBe(note);
  });

  it('refuses initialize inside a batch, echoing its id', () => {
    const body = decodeBody([{ jsonrpc: '2.0', id: 9, method: 'initialize', params: {} }, req], {
      allowBatch: true,
    });
    if (!body.batch) throw new Error('expected a batch');
    const first = body.entries[0]!;
    expect(isInvalidEntry(first)).toBe(true);
    expect((first as InvalidMessageError).message).toBe('initialize must not be part of a batch');
    expect((first as InvalidMessageError).requestId).toBe(9);
    expect(body.entries[1]).toBe(req);
  });

  it('serves a batch of exactly maxBatchLength entries', () => {
    const body = decodeBody([req, req, req], { allowBatch: true, maxBatchLength: 3 });
    expect(body.batch && body.entries).toHaveLength(3);
  });

  it('refuses a batch over maxBatchLength whole, naming the limit, before reading entries', () => {
    // Entries that would fail on their own: the length is checked before any of them.
    const entries = [req, 5, { jsonrpc: '2.0', id: 3, method: 'initialize' }, req];
    const err = thrown(() =>
      decodeBody(entries, { allowBatch: true, maxBatchLength: 3 }),
    ) as InvalidMessageError;
    expect(err).toBeInstanceOf(InvalidMessageError);
    expect(err.code).toBe(-32600);
    expect(err.requestId).toBeNull();
    expect(err.message).toBe('batch of 4 messages exceeds the limit of 3 messages per batch');
    // Where batches are not allowed at all, that is what is said.
    const noBatch = thrown(() => decodeBody(entries, { allowBatch: false, maxBatchLength: 3 }));
    expect((noBatch as Error).message).toBe('batches are not supported in this revision');
  });
});

describe('encode', () => {
  it('is JSON.stringify', () => {
    const m = { jsonrpc: '2.0', id: 1, result: { a: [1, 'b'] } } as const;
    expect(encode(m)).toBe(JSON.stringify(m));
    expect(encode([m, m])).toBe(JSON.stringify([m, m]));
  });
});
