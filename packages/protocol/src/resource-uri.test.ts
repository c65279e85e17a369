import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import {
  canonicalResourceParams,
  canonicalResourceUri,
  hasDotSegment,
  hasEncodedSeparator,
  requireCanonicalUri,
} from './resource-uri.js';

const canonical = (uri: string): string | undefined => {
  const c = canonicalResourceUri(uri);
  return c.ok ? c.uri : undefined;
};
const reason = (uri: string): string | undefined => {
  const c = canonicalResourceUri(uri);
  return c.ok ? undefined : c.reason;
};

describe('canonicalResourceUri', () => {
  it('leaves canonical uris as they are', () => {
    for (const uri of [
      'files://public/readme.md',
      'docs://a/file.v2.txt',
      'docs://a/..hidden',
      'docs://a/.well-known/x',
      'notes:abc',
      'https://example.com/a%20b?q=1#f',
      'files://public/caf%C3%A9',
      'files://public//double',
      'files://public/',
      'files://',
    ]) {
      expect(canonical(uri)).toBe(uri);
    }
  });

  it('decodes unreserved characters and upper-cases the other escapes', () => {
    expect(canonical('files://public/%61%62c')).toBe('files://public/abc');
    expect(canonical('files://public/a%2fb')).toBe('files://public/a%2Fb');
    expect(canonical('files://public/%7e%2D%5f')).toBe('files://public/~-_');
    expect(canonical('files://public/caf%c3%a9')).toBe('files://public/caf%C3%A9');
  });

  it('resolves dot segments, plain or encoded, below the root', () => {
    expect(canonical('files://public/a/../b')).toBe('files://public/b');
    expect(canonical('files://public/a/./b')).toBe('files://public/a/b');
    expect(canonical('files://public/a/%2E%2E/b')).toBe('files://public/b');
    expect(canonical('files://public/a/.%2e/b')).toBe('files://public/b');
    expect(canonical('files://public/a/b/..')).toBe('files://public/a/');
    expect(canonical('files://public/a/.')).toBe('files://public/a/');
    expect(canonical('notes:a/../b')).toBe('notes:b');
    // The query is not a path: its dots are left to the template checks.
    expect(canonical('files://public/x?p=../y')).toBe('files://public/x?p=../y');
  });

  it('refuses dot segments that climb into the authority or above the root', () => {
    for (const uri of [
      'files://public/../secret/key',
      'files://public/%2E%2E/secret/key',
      'files://public/x/../../secret',
      'files://public/..',
      'files://../etc/passwd',
      'files://./x',
      'notes:../x',
      'notes:a/../../x',
    ]) {
      expect({ uri, reason: reason(uri) }).toEqual({ uri, reason: expect.any(String) as string });
    }
  });

  it('keeps encoded separators encoded, so they never split a segment', () => {
    for (const uri of [
      'files://public/..%2Fsecret%2Fkey',
      'files://public/%2E%2E%2Fsecret',
      'files://public/.%2E%2f',
      'files://public/x/..%2F..%2F',
      'files://public/..%5Csecret',
    ]) {
      const c = canonical(uri);
      expect(c).toMatch(/^files:\/\/public\//);
      expect(hasEncodedSeparator(c ?? '')).toBe(true);
    }
  });

  it('refuses what has no canonical form', () => {
    expect(reason('no-scheme/path')).toBe('no scheme');
    expect(reason('files://public/%zz')).toBe('malformed percent-encoding');
    expect(reason('files://public/%2')).toBe('malformed percent-encoding');
    expect(reason('files://public/%252E%252E/x')).toBe('double percent-encoding');
    expect(reason('files://public/%00')).toBe('encoded control character');
    expect(reason('files://public/a\u0000b')).toBe('control character or backslash');
    expect(reason('files://public\\..\\secret')).toBe('control character or backslash');
    expect(reason('files://public/%C3')).toBe('percent-encoded bytes are not UTF-8');
    expect(reason('files://public/%FF%FE')).toBe('percent-encoded bytes are not UTF-8');
  });

  it('is idempotent', () => {
    for (const uri of [
      'files://public/a/%2e/b/../c',
      'files://public/%61%2fb',
      'https://h/a/./b?x=%7e',
    ]) {
      const once = canonical(uri) ?? '';
      expect(canonical(once)).toBe(once);
    }
  });
});

describe('requireCanonicalUri', () => {
  it('throws -32602 naming the problem', () => {
    expect(() => requireCanonicalUri('files://public/../x')).toThrow(ProtocolError);
    try {
      requireCanonicalUri('files://public/../x');
    } catch (err) {
      expect((err as ProtocolError).code).toBe(-32602);
      expect((err as ProtocolError).message).toBe(
        'Invalid resource uri: dot segments climb above the root',
      );
    }
  });
});

describe('canonicalResourceParams', () => {
  it('rewrites the uri of resource methods and the subscriptions of a listen', () => {
    expect(canonicalResourceParams('resources/read', { uri: 'x://a/b/../c' })).toEqual({
      uri: 'x://a/c',
    });
    const same = { uri: 'x://a/c' };
    expect(canonicalResourceParams('resources/subscribe', same)).toBe(same);
    expect(
      canonicalResourceParams('subscriptions/listen', {
        notifications: { resourceSubscriptions: ['x://a/./b', 'x://c'], toolsListChanged: true },
      }),
    ).toEqual({
      notifications: { resourceSubscriptions: ['x://a/b', 'x://c'], toolsListChanged: true },
    });
    const other = { name: 'x/../y' };
    expect(canonicalResourceParams('tools/call', other)).toBe(other);
    expect(() => canonicalResourceParams('resources/unsubscribe', { uri: 'x://a/../..' })).toThrow(
      ProtocolError,
    );
    expect(() =>
      canonicalResourceParams('subscriptions/listen', {
        notifications: { resourceSubscriptions: ['x://a/../../b'] },
      }),
    ).toThrow(ProtocolError);
  });
});

describe('hasDotSegment', () => {
  it('finds . and .. segments split on either separator', () => {
    expect(hasDotSegment('public/../secret')).toBe(true);
    expect(hasDotSegment('..\\secret')).toBe(true);
    expect(hasDotSegment('a/./b')).toBe(true);
    expect(hasDotSegment('..')).toBe(true);
    expect(hasDotSegment('a/..b/c.d')).toBe(false);
    expect(hasDotSegment('plain')).toBe(false);
  });
});
